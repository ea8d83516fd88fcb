"""Generate docs/api.md: the torch names minigrad has, found by introspecting minigrad, and the torch
names common in published MLP programs that it lacks.

    python scripts/api_doc.py            # rewrite docs/api.md and minigrad/_torch_names.py
    python scripts/api_doc.py --check    # exit 1 when either is stale

Both need torch installed (the test environment has it): the page names torch's counterpart of each name
and the torch parameters minigrad's signature lacks, and minigrad/_torch_names.py holds torch.Tensor's
public names, so that minigrad can say "minigrad has no 'X' (torch.Tensor.X)" without importing torch.
tests/test_api_doc.py runs the check, so neither can drift from the code.
"""

from __future__ import annotations
import __future__

import argparse
import importlib
import inspect
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from minigrad._missing import is_missing  # noqa: E402

OUTPUT = ROOT / "docs" / "api.md"
DIFFERS = "Differs from torch:"
NAMES_FILE = ROOT / "minigrad" / "_torch_names.py"

# (torch namespace, minigrad module, attribute holding the namespace or None)
NAMESPACES = [
    ("torch", "minigrad", None),
    ("torch.Tensor", "minigrad", "Tensor"),
    ("torch.nn", "minigrad.nn", None),
    ("torch.nn.functional", "minigrad.nn.functional", None),
    ("torch.optim", "minigrad.optim", None),
    ("torch.optim.lr_scheduler", "minigrad.optim.lr_scheduler", None),
    ("torch.autograd", "minigrad.autograd", None),
    ("torch.utils.data", "minigrad.utils.data", None),
    ("torch.distributed", "minigrad.distributed", None),
    ("torch.amp", "minigrad.amp", None),
]

# Names that published torch MLP programs use (the PyTorch tutorials and examples for MLPs on tabular
# data, MNIST and regression, training loops with schedulers, mixed precision and DDP), by namespace.
# The page lists those minigrad lacks as "not supported"; the ones it has are found by introspection.
COMMON = {
    "torch": """tensor as_tensor from_numpy zeros ones full empty arange linspace logspace eye rand randn randint
        randperm rand_like randn_like zeros_like ones_like full_like empty_like manual_seed seed initial_seed
        get_rng_state set_rng_state cat stack hstack vstack split chunk unbind reshape flatten squeeze unsqueeze
        transpose permute t where clamp clip abs exp log log1p sqrt rsqrt sigmoid tanh relu softmax log_softmax
        sum mean std var max min argmax argmin topk sort argsort cumsum prod norm dist cdist matmul mm bmm einsum
        outer dot allclose isclose equal isnan isinf isfinite nan_to_num round floor ceil sign pow maximum
        minimum lerp no_grad enable_grad set_grad_enabled inference_mode is_grad_enabled device dtype float32
        float64 float16 bfloat16 int64 int32 long bool save load set_default_dtype get_default_dtype
        set_num_threads get_num_threads compile jit cuda backends autocast Generator Size Tensor nn optim
        utils distributed amp autograd multinomial bernoulli normal numel is_tensor
        use_deterministic_algorithms set_printoptions tril triu diag trace gather scatter index_select
        masked_select nonzero unique bincount histc meshgrid broadcast_tensors cross fft linalg special""",
    "torch.Tensor": """backward grad requires_grad requires_grad_ detach detach_ item tolist numpy to cpu cuda
        float double half long int bool type dtype device shape size dim ndim numel view view_as reshape
        reshape_as flatten squeeze unsqueeze expand expand_as repeat permute transpose t contiguous
        is_contiguous clone copy_ zero_ fill_ normal_ uniform_ add add_ sub sub_ mul mul_ div div_ pow sqrt
        exp log abs clamp clamp_ sum mean std var max min argmax argmin softmax log_softmax sigmoid tanh relu
        matmul mm bmm norm masked_fill masked_fill_ gather scatter_ index_select eq ne lt le gt ge all any
        isnan data grad_fn is_leaf retain_grad register_hook element_size nbytes storage_offset stride
        pin_memory share_memory_ topk sort cumsum round floor sign neg unbind split chunk new_zeros new_ones
        new_full new_tensor new_empty type_as apply_ map_""",
    "torch.nn": """Module Sequential ModuleList ModuleDict Parameter ParameterList ParameterDict Linear Bilinear
        Identity Flatten Unflatten ReLU LeakyReLU PReLU ELU SELU CELU GELU SiLU Mish Softplus Softsign Tanh
        Sigmoid Hardtanh Hardswish Hardsigmoid ReLU6 Softmax LogSoftmax Dropout AlphaDropout BatchNorm1d
        LayerNorm GroupNorm RMSNorm InstanceNorm1d Embedding EmbeddingBag MSELoss L1Loss SmoothL1Loss
        HuberLoss CrossEntropyLoss NLLLoss BCELoss BCEWithLogitsLoss KLDivLoss CosineEmbeddingLoss
        MarginRankingLoss HingeEmbeddingLoss TripletMarginLoss MultiLabelSoftMarginLoss PoissonNLLLoss
        GaussianNLLLoss CosineSimilarity PairwiseDistance init utils functional parallel
        DataParallel Conv1d Conv2d MaxPool2d AvgPool2d AdaptiveAvgPool1d LSTM GRU RNN MultiheadAttention
        Transformer TransformerEncoder TransformerEncoderLayer""",
    "torch.nn.functional": """relu relu_ leaky_relu elu selu celu gelu silu mish softplus softsign tanh sigmoid
        hardtanh hardswish relu6 softmax log_softmax softmin dropout alpha_dropout linear bilinear
        batch_norm layer_norm group_norm rms_norm normalize one_hot embedding mse_loss l1_loss smooth_l1_loss
        huber_loss cross_entropy nll_loss binary_cross_entropy binary_cross_entropy_with_logits kl_div
        cosine_similarity pairwise_distance cosine_embedding_loss margin_ranking_loss triplet_margin_loss
        poisson_nll_loss gaussian_nll_loss pad interpolate conv1d conv2d max_pool2d avg_pool2d
        scaled_dot_product_attention""",
    "torch.optim": """Optimizer SGD Adam AdamW Adagrad Adadelta Adamax NAdam RAdam RMSprop Rprop ASGD LBFGS
        SparseAdam lr_scheduler swa_utils""",
    "torch.optim.lr_scheduler": """LRScheduler StepLR MultiStepLR ExponentialLR CosineAnnealingLR
        CosineAnnealingWarmRestarts ReduceLROnPlateau LambdaLR MultiplicativeLR LinearLR ConstantLR
        PolynomialLR SequentialLR ChainedScheduler CyclicLR OneCycleLR""",
    "torch.autograd": """grad backward Function Variable gradcheck gradgradcheck functional graph
        set_detect_anomaly detect_anomaly no_grad enable_grad set_grad_enabled inference_mode profiler""",
    "torch.utils.data": """Dataset IterableDataset TensorDataset DataLoader Subset ConcatDataset ChainDataset
        random_split default_collate Sampler RandomSampler SequentialSampler BatchSampler
        SubsetRandomSampler WeightedRandomSampler DistributedSampler get_worker_info""",
    "torch.distributed": """init_process_group destroy_process_group is_initialized is_available get_rank
        get_world_size get_backend barrier all_reduce reduce broadcast all_gather all_gather_object gather
        scatter reduce_scatter send recv ReduceOp new_group""",
    "torch.amp": """autocast GradScaler custom_fwd custom_bwd""",
}


def _module(name: str):
    return importlib.import_module(name)


def _owner(module_name: str, attribute: str | None):
    owner = _module(module_name)
    return getattr(owner, attribute) if attribute is not None else owner


def _torch_owner(torch_name: str):
    """torch's namespace (a module, or torch.Tensor), or None when torch isn't installed."""
    try:
        import torch  # noqa: F401
    except ImportError:
        return None
    if torch_name == "torch.Tensor":
        return torch.Tensor
    return importlib.import_module(torch_name)


def _has_doc(obj) -> bool:
    if not (inspect.isroutine(obj) or inspect.isclass(obj) or isinstance(obj, property)):
        return False
    return not (inspect.isclass(obj) and obj.__doc__ is None)  # not a docstring inherited from a base


def _summary(obj) -> str:
    """The docstring's first paragraph on one line, when the object has its own docstring."""
    doc = inspect.getdoc(obj) if _has_doc(obj) else None
    if not doc or doc.startswith(DIFFERS):
        return ""
    return " ".join(doc.split("\n\n")[0].split())


def _difference(obj) -> str:
    """The docstring's paragraph that starts "Differs from torch:", on one line, without those words."""
    doc = inspect.getdoc(obj) if _has_doc(obj) else None
    for paragraph in (doc or "").split("\n\n"):
        if paragraph.startswith(DIFFERS):
            return " ".join(paragraph[len(DIFFERS):].split())
    return ""


def _parameters(obj) -> list[str] | None:
    """The named parameters of a function or a class's constructor; None when they can't be read or are open
    (``*args``, ``**kwargs``), since then nothing can be said about which are missing."""
    try:
        params = inspect.signature(obj).parameters.values()
    except (TypeError, ValueError):  # builtins without a signature
        return None
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
        return None
    return [p.name for p in params if p.name != "self"]


def _lacks(obj, torch_obj) -> list[str]:
    """torch's parameter names that minigrad's signature lacks."""
    if not (callable(obj) and callable(torch_obj)):
        return []
    ours, theirs = _parameters(obj), _parameters(torch_obj)
    if ours is None or theirs is None:
        return []
    return [name for name in theirs if name not in ours and not name.startswith("_")]


def _kind(obj) -> str:
    if inspect.ismodule(obj):
        return "Modules"
    if inspect.isclass(obj):
        return "Classes"
    if inspect.isroutine(obj) or callable(obj):
        return "Functions"
    return "Constants and dtypes"


def supported(torch_name: str, module_name: str, attribute: str | None) -> dict[str, list[dict]]:
    """{group: [entry]} of the public names minigrad has in that namespace; an entry holds the name, its
    docstring's first paragraph, torch's name for it (None when torch has none), the deliberate difference its
    docstring states, and the torch parameters its signature lacks."""
    owner = _owner(module_name, attribute)
    torch_owner = _torch_owner(torch_name)
    public = getattr(owner, "__all__", None) if inspect.ismodule(owner) else None  # what the module exports
    groups: dict[str, list[dict]] = {}
    for name in sorted(dir(owner)):
        if name.startswith("_"):
            continue
        try:
            obj = inspect.getattr_static(owner, name) if inspect.isclass(owner) else getattr(owner, name)
        except AttributeError:
            continue
        if isinstance(obj, __future__._Feature) or is_missing(obj):
            continue
        if inspect.ismodule(obj) and not obj.__name__.startswith("minigrad"):
            continue  # numpy, math... imported for minigrad's own use
        defined_in = getattr(obj, "__module__", None) or ""
        if public is not None:
            if name not in public:
                continue  # a helper imported for the module's own use
        elif not inspect.isclass(owner) and (inspect.isclass(obj) or inspect.isroutine(obj)):
            if not defined_in.startswith("minigrad"):
                continue  # typing.Any and the like
            if inspect.isclass(obj) and module_name != "minigrad" and not defined_in.startswith(module_name):
                continue  # a class imported for the module's own use (Tensor in nn.functional)
        if inspect.isclass(owner):  # Tensor: methods and properties
            if isinstance(obj, (staticmethod, classmethod)):
                obj = obj.__func__
            group = "Properties and attributes" if isinstance(obj, property) or not callable(obj) else "Methods"
        else:
            group = _kind(obj)
        torch_obj = getattr(torch_owner, name, None) if torch_owner is not None else None
        groups.setdefault(group, []).append({
            "name": name, "line": _summary(obj), "difference": _difference(obj),
            "torch": f"{torch_name}.{name}" if torch_obj is not None else None,
            "lacks": _lacks(getattr(owner, name), torch_obj) if torch_obj is not None else []})
    return groups


def not_supported(torch_name: str, module_name: str, attribute: str | None) -> list[str]:
    owner = _owner(module_name, attribute)
    return sorted({n for n in COMMON.get(torch_name, "").split() if not hasattr(owner, n)})


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render() -> str:
    lines = ["# Supported API", "",
             "What minigrad mirrors of torch's API, namespace by namespace: with `import minigrad as torch`, "
             "the names below work as torch's. Generated by `scripts/api_doc.py` from minigrad itself and torch "
             "(do not edit by hand; `tests/test_api_doc.py` fails when this page is stale).", "",
             "Each name's row gives torch's name for it (*minigrad only* where torch has none), the first "
             "paragraph of its docstring, any deliberate difference from torch (from the docstring's \"Differs from "
             "torch\" paragraph), and the parameters of torch's signature that minigrad's lacks (passing one "
             "raises `TypeError`, as an unknown keyword does in torch).", "",
             "Each namespace ends with the names common in published torch MLP programs that minigrad lacks: "
             "using one raises `AttributeError` pointing here (for `torch.Tensor`, any of torch's methods "
             "minigrad lacks does).", ""]
    for torch_name, module_name, attribute in NAMESPACES:
        where = f"{module_name}.{attribute}" if attribute else module_name
        lines += [f"## `{torch_name}` (`{where}`)", ""]
        for group, entries in sorted(supported(torch_name, module_name, attribute).items()):
            lines += [f"### {group}", "", "| name | torch | what it is, and how it differs |", "| --- | --- | --- |"]
            for e in entries:
                notes = [e["line"]] if e["line"] else []
                if e["difference"]:
                    notes.append(f"**Differs from torch:** {e['difference']}")
                if e["lacks"]:
                    notes.append("**Lacks torch's parameters:** " + ", ".join(f"`{p}`" for p in e["lacks"]))
                torch_cell = f"`{e['torch']}`" if e["torch"] else "*minigrad only*"
                lines.append(f"| `{e['name']}` | {torch_cell} | {_cell(' '.join(notes))} |")
            lines.append("")
        missing = not_supported(torch_name, module_name, attribute)
        lines += ["### Not supported", ""]
        lines += [", ".join(f"`{torch_name}.{n}`" for n in missing) if missing else "(none of the common names)"]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def torch_names_source() -> str:
    """minigrad/_torch_names.py: torch.Tensor's public names, wrapped to the line length."""
    import torch

    names = sorted(n for n in dir(torch.Tensor) if not n.startswith("_"))
    lines, line = [], "   "
    for name in names:
        if len(line) + len(name) + 1 > 112:
            lines.append(line)
            line = "   "
        line += " " + name
    lines.append(line)
    body = "\n".join(lines)
    version = torch.__version__.split("+")[0]
    return (f'"""torch.Tensor\'s public names in torch {version}, written by scripts/api_doc.py (do not edit by '
            'hand).\n\nminigrad marks the ones its ``Tensor`` lacks (minigrad/_missing.py), so that using one '
            'says what it is.\n"""\n\n'
            f'TORCH_TENSOR_NAMES = tuple("""\n{body}\n""".split())\n')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when docs/api.md is not what would be written")
    args = parser.parse_args()
    outputs = {NAMES_FILE: torch_names_source(), OUTPUT: render()}
    if args.check:
        stale = [path for path, text in outputs.items() if not path.exists() or path.read_text() != text]
        for path in stale:
            print(f"{path.relative_to(ROOT)} is stale: run python scripts/api_doc.py", file=sys.stderr)
        return 1 if stale else 0
    for path, text in outputs.items():
        path.write_text(text)
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
