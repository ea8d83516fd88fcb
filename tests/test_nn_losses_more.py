"""The ranking, embedding, multi-label and likelihood losses, ``Bilinear``, ``Conv1d``, ``AdaptiveAvgPool1d`` and
``AlphaDropout`` against torch in float64: values, gradients of every differentiable input, second derivatives
(create_graph), modules built from torch's parameters, signatures and errors."""

from __future__ import annotations

import inspect
import warnings
import zlib

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from conftest import assert_close, to_torch

import minigrad
import minigrad.nn as nn
import minigrad.nn.functional as F

REDUCTIONS = ["mean", "sum", "none"]


def mg(a: np.ndarray, requires_grad: bool = True) -> minigrad.Tensor:
    return minigrad.tensor(a, requires_grad=requires_grad)


def check(fn, tfn, arrays: list, grad_of: tuple | None = None, second: bool = True, extra=(), textra=()) -> None:
    """``fn(*tensors)`` and ``tfn(*torch_tensors)`` agree in value, in the gradients of the inputs listed in
    ``grad_of`` (and of the parameters ``extra``/``textra``) and, with ``second``, in the gradient of a weighted
    sum of those gradients (second derivatives, through create_graph)."""
    grad_of = tuple(range(len(arrays))) if grad_of is None else grad_of
    xs = [mg(a, i in grad_of) for i, a in enumerate(arrays)]
    txs = [to_torch(x) for x in xs]
    out, tout = fn(*xs), tfn(*txs)
    assert_close(out, tout)
    wrt = [xs[i] for i in grad_of] + list(extra)
    twrt = [txs[i] for i in grad_of] + list(textra)
    v = np.random.default_rng(7).standard_normal(tuple(tout.shape))
    gs = minigrad.autograd.grad(out, wrt, mg(v, False), create_graph=second, allow_unused=True,
                                materialize_grads=True)
    tgs = torch.autograd.grad(tout, twrt, torch.from_numpy(v), create_graph=second, allow_unused=True,
                              materialize_grads=True)
    for g, tg in zip(gs, tgs):
        assert_close(g, tg)
    if not second:
        return
    ws = [np.random.default_rng(11 + i).standard_normal(tuple(tg.shape)) for i, tg in enumerate(tgs)]
    s = sum((g * mg(w, False)).sum() for g, w in zip(gs, ws) if g.requires_grad)
    ts = sum((tg * torch.from_numpy(w)).sum() for tg, w in zip(tgs, ws) if tg.requires_grad)
    if not isinstance(ts, torch.Tensor):
        return  # the gradients do not depend on the inputs
    ths = torch.autograd.grad(ts, twrt, allow_unused=True, materialize_grads=True)
    if isinstance(s, minigrad.Tensor) and s.requires_grad:
        hs = minigrad.autograd.grad(s, wrt, allow_unused=True, materialize_grads=True)
    else:
        hs = [minigrad.zeros(*t.shape, dtype=t.dtype) for t in wrt]
    for h, th in zip(hs, ths):
        assert_close(h, torch.zeros_like(th) if th._is_zerotensor() else th)


def _signs(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    return np.where(rng.random(shape) < 0.5, -1.0, 1.0)


# -- the losses: (arrays, keyword arguments, inputs to differentiate) per case -------------------------------


def _cases(name: str) -> dict:
    rng = np.random.default_rng(zlib.crc32(name.encode()))  # the same inputs in every run
    n = rng.standard_normal
    if name == "margin_ranking_loss":
        tied = n(6)
        return {
            "plain": ([n(6), n(6), _signs(rng, (6,))], {}, (0, 1, 2)),
            "margin": ([n(6), n(6), _signs(rng, (6,))], {"margin": 0.5}, (0, 1, 2)),
            "ties_at_the_kink": ([tied, tied.copy(), _signs(rng, (6,))], {}, (0, 1, 2)),
            "broadcast": ([n((4, 1)), n((1, 3)), _signs(rng, (4, 3))], {"margin": 0.2}, (0, 1, 2)),
            "zero_dim": ([n(()), n(()), np.array(-1.0)], {"margin": 0.1}, (0, 1, 2)),
        }
    if name == "hinge_embedding_loss":
        x = np.abs(n((5, 4))) * 1.5
        x[0, :2] = [1.0, 0.0]  # at the margin, and 0
        t = _signs(rng, (5, 4))
        t[1, 1] = 0.0  # neither 1 nor -1: both terms count
        return {
            "plain": ([x, t], {}, (0, 1)),
            "margin": ([x, t], {"margin": 0.5}, (0, 1)),
            "broadcast_target": ([n((5, 4)), _signs(rng, (4,))], {"margin": 2.0}, (0,)),
        }
    if name == "cosine_embedding_loss":
        a, b = n((5, 4)), n((5, 4))
        a[2] = 0.0  # a zero vector: only the 1e-12 keeps the cosine finite
        return {
            "plain": ([n((5, 4)), n((5, 4)), _signs(rng, (5,))], {}, (0, 1)),
            "zero_vector": ([a, b, np.ones(5)], {}, (0, 1)),
            "margin": ([n((5, 4)), n((5, 4)), _signs(rng, (5,))], {"margin": 0.3}, (0, 1)),
            "negative_margin": ([n((5, 4)), n((5, 4)), np.array([1.0, -1, 0, -1, 1])], {"margin": -0.4}, (0, 1)),
            "unbatched": ([n(4), n(4), np.array(-1.0)], {"margin": -0.5}, (0, 1)),
        }
    if name == "triplet_margin_loss":
        return {
            "plain": ([n((5, 4)), n((5, 4)), n((5, 4))], {}, (0, 1, 2)),
            "margin_p1": ([n((5, 4)), n((5, 4)), n((5, 4))], {"margin": 0.3, "p": 1}, (0, 1, 2)),
            "p3_eps": ([n((5, 4)), n((5, 4)), n((5, 4))], {"p": 3, "eps": 1e-3, "margin": 2.0}, (0, 1, 2)),
            "swap": ([n((6, 3)), n((6, 3)), n((6, 3)) * 0.3], {"swap": True, "margin": 1.5}, (0, 1, 2)),
            "unbatched": ([n(4), n(4), n(4)], {"margin": 3.0}, (0, 1, 2)),
        }
    if name == "multilabel_soft_margin_loss":
        x = n((5, 4)) * 3
        x[0, 0] = 0.0
        x[1, 1] = 40.0  # far out: the stable log-sigmoid
        return {
            "plain": ([x, (rng.random((5, 4)) < 0.5).astype(float)], {}, (0, 1)),
            "soft_targets": ([n((5, 4)), rng.random((5, 4))], {}, (0, 1)),
            "weight": ([n((5, 4)), rng.random((5, 4)), rng.random(4)], {}, (0, 1, 2)),
            "unbatched": ([n(4), rng.random(4)], {}, (0, 1)),
            "three_dims": ([n((2, 3, 4)), rng.random((2, 3, 4))], {}, (0, 1)),
        }
    if name == "poisson_nll_loss":
        t = np.array([[0.0, 0.5, 1.0, 3.0], [7.0, 2.0, 0.0, 1.5], [1.2, 4.0, 0.3, 9.0]])
        positive = rng.uniform(0.1, 4.0, (3, 4))
        positive[0, 0] = 0.0  # log(0 + eps)
        return {
            "log_input": ([n((3, 4)), t], {}, (0, 1)),
            "rates": ([positive, t], {"log_input": False}, (0, 1)),
            "rates_eps": ([positive, t], {"log_input": False, "eps": 0.1}, (0, 1)),
            "full": ([n((3, 4)), t], {"full": True}, (0,)),
            "full_target_grad": ([n((3, 4)), t + 0.05], {"full": True}, (0, 1)),
            "full_rates": ([positive + 0.1, t + 0.05], {"full": True, "log_input": False}, (0, 1)),
            "broadcast": ([n((3, 1)), t], {}, (0, 1)),
        }
    if name == "gaussian_nll_loss":
        var = rng.uniform(0.2, 2.0, (4, 3))
        var[0, 0], var[1, 2] = 0.0, 1e-8  # below eps: clamped, yet the gradient passes
        return {
            "heteroscedastic": ([n((4, 3)), n((4, 3)), var], {}, (0, 1, 2)),
            "full_eps": ([n((4, 3)), n((4, 3)), var], {"full": True, "eps": 0.3}, (0, 1, 2)),
            "one_dim_short": ([n((4, 3)), n((4, 3)), rng.uniform(0.2, 2.0, 4)], {}, (0, 1, 2)),
            "size_one_dim": ([n((4, 3, 2)), n((4, 3, 2)), rng.uniform(0.2, 2.0, (4, 1, 2))], {}, (0, 1, 2)),
            "broadcast_target": ([n((4, 3)), n(3), var], {}, (0, 1, 2)),
        }
    raise KeyError(name)


LOSSES = ["margin_ranking_loss", "hinge_embedding_loss", "cosine_embedding_loss", "triplet_margin_loss",
          "multilabel_soft_margin_loss", "poisson_nll_loss", "gaussian_nll_loss"]
CASES = [(name, case) for name in LOSSES for case in _cases(name)]


def _call(module, name: str, xs: list, kwargs: dict, reduction: str):
    fn = getattr(module, name)
    if name == "multilabel_soft_margin_loss" and len(xs) == 3:
        return fn(xs[0], xs[1], weight=xs[2], reduction=reduction, **kwargs)
    return fn(*xs, reduction=reduction, **kwargs)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("name", "case"), CASES)
def test_loss_values_gradients_and_second_derivatives(name: str, case: str, reduction: str) -> None:
    arrays, kwargs, grad_of, *second = _cases(name)[case]
    check(lambda *xs: _call(F, name, list(xs), kwargs, reduction),
          lambda *xs: _call(TF, name, list(xs), kwargs, reduction), arrays, grad_of, *second)


@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("var", [0.7, 0.0, 1e-9])
def test_gaussian_nll_loss_with_a_float_variance(var: float, full: bool) -> None:
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    check(lambda x, y: F.gaussian_nll_loss(x, y, var, full=full),
          lambda x, y: TF.gaussian_nll_loss(x, y, var, full=full), [a, b])


@pytest.mark.parametrize(("name", "case"), [c for c in CASES if c[1] in (
    "margin", "broadcast_target", "plain", "p3_eps", "soft_targets", "weight", "log_input", "full_rates",
    "one_dim_short", "size_one_dim") and c not in (("gaussian_nll_loss", "broadcast_target"),
                                                   ("hinge_embedding_loss", "plain"))])
# random inputs, away from the kinks and from the clamp of the variance
def test_gradcheck(name: str, case: str) -> None:
    arrays, kwargs, grad_of = _cases(name)[case][:3]
    xs = [mg(a, i in grad_of) for i, a in enumerate(arrays)]  # random inputs: away from any kink

    def fn(*ts):
        return _call(F, name, list(ts), kwargs, "sum")

    assert minigrad.autograd.gradcheck(fn, tuple(xs))
    if name not in ("margin_ranking_loss", "hinge_embedding_loss"):
        assert minigrad.autograd.gradgradcheck(fn, tuple(xs))


# -- the loss modules -------------------------------------------------------------------------------------


MODULES = [
    ("MarginRankingLoss", {"margin": 0.3}, "margin_ranking_loss", "plain"),
    ("HingeEmbeddingLoss", {"margin": 0.5}, "hinge_embedding_loss", "plain"),
    ("CosineEmbeddingLoss", {"margin": 0.2}, "cosine_embedding_loss", "plain"),
    ("TripletMarginLoss", {"margin": 0.5, "p": 1.0, "eps": 1e-4, "swap": True}, "triplet_margin_loss", "plain"),
    ("MultiLabelSoftMarginLoss", {}, "multilabel_soft_margin_loss", "plain"),
    ("PoissonNLLLoss", {"log_input": False, "full": True, "eps": 1e-3}, "poisson_nll_loss", "full_rates"),
    ("GaussianNLLLoss", {"full": True, "eps": 0.1}, "gaussian_nll_loss", "heteroscedastic"),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("module", "kwargs", "name", "case"), MODULES)
def test_loss_modules(module: str, kwargs: dict, name: str, case: str, reduction: str) -> None:
    arrays = _cases(name)[case][0]
    ours, theirs = getattr(nn, module)(reduction=reduction, **kwargs), getattr(torch.nn, module)(
        reduction=reduction, **kwargs)
    assert repr(ours) == repr(theirs)
    check(ours, theirs, arrays, _cases(name)[case][2])
    for key in kwargs:
        assert getattr(ours, key) == getattr(theirs, key)
    assert ours.reduction == theirs.reduction


def test_multilabel_soft_margin_loss_module_weight() -> None:
    rng = np.random.default_rng(5)
    w = rng.random(4)
    ours, theirs = nn.MultiLabelSoftMarginLoss(weight=mg(w, False)), torch.nn.MultiLabelSoftMarginLoss(
        weight=torch.from_numpy(w))
    check(ours, theirs, [rng.standard_normal((3, 4)), rng.random((3, 4))])
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]


@pytest.mark.parametrize("module", ["MarginRankingLoss", "HingeEmbeddingLoss", "CosineEmbeddingLoss",
                                    "TripletMarginLoss", "MultiLabelSoftMarginLoss", "PoissonNLLLoss"])
def test_legacy_reduction_flags(module: str) -> None:
    with warnings.catch_warnings(record=True) as ours:
        warnings.simplefilter("always")
        a = getattr(nn, module)(size_average=False)
    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        b = getattr(torch.nn, module)(size_average=False)
    assert a.reduction == b.reduction == "sum"
    assert [str(w.message) for w in ours] == [str(w.message) for w in theirs]


@pytest.mark.parametrize("reduce", [False, True])
def test_legacy_flags_of_the_functions(reduce: bool) -> None:
    rng = np.random.default_rng(8)
    x, y, t = rng.standard_normal(5), rng.standard_normal(5), _signs(rng, (5,))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(lambda a, b, c: F.margin_ranking_loss(a, b, c, reduce=reduce),
              lambda a, b, c: TF.margin_ranking_loss(a, b, c, reduce=reduce), [x, y, t])
        check(lambda a, b: F.poisson_nll_loss(a, b, size_average=False, reduce=reduce),
              lambda a, b: TF.poisson_nll_loss(a, b, size_average=False, reduce=reduce), [x, np.abs(y)])
        check(lambda a, b: F.multilabel_soft_margin_loss(a, b, reduce=reduce),
              lambda a, b: TF.multilabel_soft_margin_loss(a, b, reduce=reduce), [x, np.abs(y)])


# -- errors ---------------------------------------------------------------------------------------------


def _z(*shape: int) -> tuple:
    return minigrad.zeros(*shape, dtype=minigrad.float64), torch.zeros(*shape, dtype=torch.float64)


def _same_error(ours, theirs) -> None:
    with pytest.raises(Exception) as expected:
        theirs()
    with pytest.raises(expected.type) as got:
        ours()
    assert str(got.value).replace("minigrad.", "torch.") == str(expected.value)


ERRORS = {
    "margin_ranking_dims": lambda m, z: m.margin_ranking_loss(z(3)[m is TF], z(3, 1)[m is TF], z(3)[m is TF]),
    "margin_ranking_reduction": lambda m, z: m.margin_ranking_loss(z(3)[m is TF], z(3)[m is TF], z(3)[m is TF],
                                                                   reduction="avg"),
    "margin_ranking_broadcast": lambda m, z: m.margin_ranking_loss(z(3)[m is TF], z(4)[m is TF], z(3)[m is TF]),
    "hinge_reduction": lambda m, z: m.hinge_embedding_loss(z(3)[m is TF], z(3)[m is TF], reduction="x"),
    "cosine_2d_target": lambda m, z: m.cosine_embedding_loss(z(3, 2)[m is TF], z(3, 2)[m is TF], z(3, 1)[m is TF]),
    "cosine_1d_target": lambda m, z: m.cosine_embedding_loss(z(3)[m is TF], z(3)[m is TF], z(3)[m is TF]),
    "cosine_0d_target": lambda m, z: m.cosine_embedding_loss(z(3, 2)[m is TF], z(3, 2)[m is TF], z()[m is TF]),
    "triplet_margin": lambda m, z: m.triplet_margin_loss(z(3, 2)[m is TF], z(3, 2)[m is TF], z(3, 2)[m is TF],
                                                         margin=0.0),
    "triplet_dims": lambda m, z: m.triplet_margin_loss(z(3, 2)[m is TF], z(2)[m is TF], z(3, 2)[m is TF]),
    "triplet_reduction": lambda m, z: m.triplet_margin_loss(z(3, 2)[m is TF], z(3, 2)[m is TF], z(3, 2)[m is TF],
                                                            reduction="max"),
    "multilabel_reduction": lambda m, z: m.multilabel_soft_margin_loss(z(3, 2)[m is TF], z(3, 2)[m is TF],
                                                                       reduction="max"),
    "poisson_reduction": lambda m, z: m.poisson_nll_loss(z(3)[m is TF], z(3)[m is TF], reduction="max"),
    "gaussian_negative_var": lambda m, z: m.gaussian_nll_loss(z(3)[m is TF], z(3)[m is TF], -1.0),
    "gaussian_negative_var_tensor": lambda m, z: m.gaussian_nll_loss(z(3)[m is TF], z(3)[m is TF],
                                                                     z(3)[m is TF] - 1),
    "gaussian_var_size": lambda m, z: m.gaussian_nll_loss(z(4, 3)[m is TF], z(4, 3)[m is TF], z(2, 3)[m is TF]),
    "gaussian_var_two_dims": lambda m, z: m.gaussian_nll_loss(z(4, 3)[m is TF], z(4, 3)[m is TF], z(1, 1)[m is TF]),
    "gaussian_reduction": lambda m, z: m.gaussian_nll_loss(z(3)[m is TF], z(3)[m is TF], z(3)[m is TF] + 1,
                                                           reduction="x"),
    "bilinear_dims": lambda m, z: m.bilinear(z(2, 3)[m is TF], z(2, 4, 1)[m is TF], z(5, 3, 4)[m is TF]),
    "bilinear_batch": lambda m, z: m.bilinear(z(2, 3)[m is TF], z(3, 4)[m is TF], z(5, 3, 4)[m is TF]),
    "bilinear_in1": lambda m, z: m.bilinear(z(2, 2)[m is TF], z(2, 4)[m is TF], z(5, 3, 4)[m is TF]),
    "bilinear_in2": lambda m, z: m.bilinear(z(2, 3)[m is TF], z(2, 5)[m is TF], z(5, 3, 4)[m is TF]),
    "bilinear_bias": lambda m, z: m.bilinear(z(2, 3)[m is TF], z(2, 4)[m is TF], z(5, 3, 4)[m is TF],
                                             z(4)[m is TF]),
    "conv1d_input_dims": lambda m, z: m.conv1d(z(2, 3, 4, 5)[m is TF], z(2, 3, 1)[m is TF]),
    "conv1d_weight_4d": lambda m, z: m.conv1d(z(2, 3, 5)[m is TF], z(2, 3, 1, 1)[m is TF]),
    "conv1d_weight_2d": lambda m, z: m.conv1d(z(2, 3, 5)[m is TF], z(2, 3)[m is TF]),
    "conv1d_channels": lambda m, z: m.conv1d(z(2, 3, 5)[m is TF], z(2, 4, 1)[m is TF]),
    "conv1d_kernel": lambda m, z: m.conv1d(z(2, 3, 5)[m is TF], z(2, 3, 7)[m is TF]),
    "conv1d_stride": lambda m, z: m.conv1d(z(2, 3, 5)[m is TF], z(2, 3, 2)[m is TF], stride=0),
    "conv1d_stride_pair": lambda m, z: m.conv1d(z(2, 3, 5)[m is TF], z(2, 3, 2)[m is TF], stride=(1, 2)),
    "pool1d_dims": lambda m, z: m.adaptive_avg_pool1d(z(2, 3, 5, 5)[m is TF], 2),
    "pool1d_one_dim": lambda m, z: m.adaptive_avg_pool1d(z(5)[m is TF], 2),
    "pool1d_size": lambda m, z: m.adaptive_avg_pool1d(z(2, 5)[m is TF], (2, 3)),
    "alpha_dropout_p": lambda m, z: m.alpha_dropout(z(3)[m is TF], 1.5),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_errors_match_torch(case: str) -> None:
    _same_error(lambda: ERRORS[case](F, _z), lambda: ERRORS[case](TF, _z))


@pytest.mark.parametrize(("make", "args"), [("TripletMarginLoss", {"margin": -1.0}), ("AlphaDropout", {"p": 2.0}),
                                            ("Bilinear", {"in1_features": 0, "in2_features": 2, "out_features": 3})])
def test_module_errors_match_torch(make: str, args: dict) -> None:
    _same_error(lambda: getattr(nn, make)(**args), lambda: getattr(torch.nn, make)(**args))


# -- signatures -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["margin_ranking_loss", "hinge_embedding_loss", "cosine_embedding_loss",
                                  "triplet_margin_loss", "multilabel_soft_margin_loss", "poisson_nll_loss",
                                  "gaussian_nll_loss", "alpha_dropout"])
def test_function_signatures(name: str) -> None:
    ours, theirs = inspect.signature(getattr(F, name)), inspect.signature(getattr(TF, name))
    assert [(p.name, p.default, p.kind) for p in ours.parameters.values()] == \
        [(p.name, p.default, p.kind) for p in theirs.parameters.values()]
    assert name in F.__all__


@pytest.mark.parametrize("name", ["MarginRankingLoss", "HingeEmbeddingLoss", "CosineEmbeddingLoss",
                                  "TripletMarginLoss", "MultiLabelSoftMarginLoss", "PoissonNLLLoss",
                                  "GaussianNLLLoss", "Bilinear", "Conv1d", "AdaptiveAvgPool1d", "AlphaDropout"])
def test_module_signatures(name: str) -> None:
    for method in ("__init__", "forward"):
        ours = inspect.signature(getattr(getattr(nn, name), method))
        theirs = inspect.signature(getattr(getattr(torch.nn, name), method))
        assert [(p.name, p.default, p.kind) for p in ours.parameters.values()] == \
            [(p.name, p.default, p.kind) for p in theirs.parameters.values()]
    assert name in nn.__all__


def test_builtin_function_names() -> None:
    for name in ("bilinear", "conv1d", "adaptive_avg_pool1d"):
        assert name in F.__all__
    ours = inspect.signature(F.bilinear)
    assert list(ours.parameters) == ["input1", "input2", "weight", "bias"]
    assert list(inspect.signature(F.conv1d).parameters) == ["input", "weight", "bias", "stride", "padding",
                                                            "dilation", "groups"]
    assert list(inspect.signature(F.adaptive_avg_pool1d).parameters) == ["input", "output_size"]


# -- Bilinear -------------------------------------------------------------------------------------------


def _copy_parameters(ours: minigrad.nn.Module, theirs: torch.nn.Module) -> None:
    """minigrad's module takes torch's initial parameters, and both compute in float64."""
    theirs.double()
    ours.load_state_dict({k: minigrad.tensor(v.detach().numpy().copy()) for k, v in theirs.state_dict().items()})


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batch", [(), (5,), (2, 3)])
def test_bilinear_module(batch: tuple, bias: bool) -> None:
    torch.manual_seed(0)
    theirs, ours = torch.nn.Bilinear(3, 4, 2, bias=bias), nn.Bilinear(3, 4, 2, bias=bias, dtype=minigrad.float64)
    _copy_parameters(ours, theirs)
    assert repr(ours) == repr(theirs)
    assert [(k, tuple(v.shape)) for k, v in ours.named_parameters()] == \
        [(k, tuple(v.shape)) for k, v in theirs.named_parameters()]
    rng = np.random.default_rng(1)
    check(ours, theirs, [rng.standard_normal((*batch, 3)), rng.standard_normal((*batch, 4))],
          extra=list(ours.parameters()), textra=list(theirs.parameters()))


def test_bilinear_initial_bounds() -> None:
    m = nn.Bilinear(9, 2, 50)
    assert float(m.weight.abs().max()) <= 1 / 3 and float(m.bias.abs().max()) <= 1 / 3
    assert float(m.weight.abs().max()) > 0.25  # drawn over the whole range


# -- Conv1d ---------------------------------------------------------------------------------------------


CONV1D = [
    ({}, (2, 3, 9)),
    ({"stride": 2, "padding": 1}, (2, 3, 9)),
    ({"dilation": 2, "padding": 3}, (2, 3, 9)),
    ({"groups": 3, "stride": (2,)}, (2, 3, 10)),
    ({"padding": "same", "dilation": 2}, (2, 3, 8)),
    ({"padding": "valid"}, (1, 3, 6)),
    ({}, (3, 7)),  # unbatched
]


@pytest.mark.parametrize(("kwargs", "shape"), CONV1D)
def test_conv1d_function(kwargs: dict, shape: tuple) -> None:
    rng = np.random.default_rng(2)
    groups = kwargs.get("groups", 1)
    arrays = [rng.standard_normal(shape), rng.standard_normal((6, 3 // groups, 3)), rng.standard_normal(6)]
    check(lambda x, w, b: F.conv1d(x, w, b, **kwargs), lambda x, w, b: TF.conv1d(x, w, b, **kwargs), arrays)


@pytest.mark.parametrize("padding_mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("kwargs", [{"padding": 2}, {"padding": "same", "bias": False}, {"stride": 2, "padding": 1,
                                                                                          "groups": 2}])
def test_conv1d_module(kwargs: dict, padding_mode: str) -> None:
    torch.manual_seed(1)
    theirs, ours = (torch.nn.Conv1d(4, 6, 3, padding_mode=padding_mode, **kwargs),
                    nn.Conv1d(4, 6, 3, padding_mode=padding_mode, dtype=minigrad.float64, **kwargs))
    _copy_parameters(ours, theirs)
    assert repr(ours) == repr(theirs)
    for attr in ("kernel_size", "stride", "padding", "dilation", "output_padding", "groups",
                 "_reversed_padding_repeated_twice"):
        mine, torchs = getattr(ours, attr), getattr(theirs, attr)
        if isinstance(torchs, (list, tuple)):
            mine, torchs = tuple(mine), tuple(torchs)
        assert mine == torchs, attr
    x = np.random.default_rng(3).standard_normal((2, 4, 7))
    check(ours, theirs, [x], extra=list(ours.parameters()), textra=list(theirs.parameters()))
    assert not isinstance(ours, nn.Conv2d)


def test_conv1d_initial_bounds() -> None:
    m = nn.Conv1d(4, 30, 4, groups=2)  # fan_in = 2 * 4
    bound = 1 / np.sqrt(8)
    assert float(m.weight.abs().max()) <= bound and float(m.bias.abs().max()) <= bound
    assert tuple(m.weight.shape) == (30, 2, 4)


# -- AdaptiveAvgPool1d ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("shape", "size"), [((2, 3, 7), 3), ((2, 3, 5), 5), ((3, 8), 3), ((2, 2, 4), 7),
                                             ((1, 2, 6), (4,)), ((2, 3, 5), 1)])
def test_adaptive_avg_pool1d(shape: tuple, size) -> None:
    x = np.random.default_rng(4).standard_normal(shape)
    check(lambda t: F.adaptive_avg_pool1d(t, size), lambda t: TF.adaptive_avg_pool1d(t, size), [x])
    ours, theirs = nn.AdaptiveAvgPool1d(size), torch.nn.AdaptiveAvgPool1d(size)
    assert repr(ours) == repr(theirs)
    check(ours, theirs, [x])


# -- AlphaDropout ---------------------------------------------------------------------------------------


def _torch_alpha_dropout_line(p: float) -> tuple:
    """(a, c, d): torch keeps an element x as ``a * x + c`` and drops it to ``d``, read off torch's output."""
    torch.manual_seed(0)
    x = torch.linspace(1.0, 2.0, 4000, dtype=torch.float64)
    out = TF.alpha_dropout(x, p, training=True)
    values, counts = torch.unique(out, return_counts=True)
    d = float(values[counts.argmax()])
    kept = out != d
    xs, ys = x[kept].numpy(), out[kept].numpy()
    a, c = np.polyfit(xs, ys, 1)
    return a, c, d


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_alpha_dropout_matches_torch_formula(p: float) -> None:
    a, c, d = _torch_alpha_dropout_line(p)
    minigrad.manual_seed(0)
    x = mg(np.random.default_rng(5).standard_normal((50, 40)))
    out = F.alpha_dropout(x, p, training=True)
    xs, ys = x.detach().numpy(), out.detach().numpy()
    dropped = np.isclose(ys, d, rtol=0, atol=1e-12) & ~np.isclose(xs * a + c, d, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ys[~dropped], xs[~dropped] * a + c, rtol=1e-10, atol=1e-10)
    assert abs(dropped.mean() - p) < 0.05
    out.backward(minigrad.ones_like(out))
    np.testing.assert_allclose(x.grad.numpy(), np.where(dropped, 0.0, a), rtol=1e-10, atol=1e-12)


def test_alpha_dropout_keeps_selu_statistics() -> None:
    minigrad.manual_seed(1)
    x = minigrad.randn(200000, dtype=minigrad.float64)
    out = nn.AlphaDropout(0.3).train()(x)
    assert abs(float(out.mean())) < 0.01 and abs(float(out.std()) - 1) < 0.01


def test_alpha_dropout_identity_and_edges() -> None:
    x = mg(np.random.default_rng(6).standard_normal(5))
    assert F.alpha_dropout(x, 0.5) is x  # training=False by default, as torch
    assert F.alpha_dropout(x, 0.0, training=True) is x
    m = nn.AlphaDropout(0.4)
    assert m.eval()(x) is x
    assert repr(m) == repr(torch.nn.AlphaDropout(0.4))
    assert_close(F.alpha_dropout(x, 1.0, training=True), TF.alpha_dropout(to_torch(x), 1.0, training=True))
    y = minigrad.ones(4, dtype=minigrad.float64)
    out = F.alpha_dropout(y, 0.5, training=True, inplace=True)
    assert out is y and float((y - 1).abs().sum()) > 0
