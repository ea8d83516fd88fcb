"""``summary()``: what a network costs in memory, per module, for a given batch.

It runs one real forward pass (gradients on) on a random input and looks at the
graph that pass records. Parameters, gradients and optimizer state are counted
from the tensors; activations are the arrays the graph really keeps for
backward (see ``activations.py``), attributed to the module whose forward made
them: forward hooks tell which module is running.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .. import _dtype, random
from .._grad_mode import enable_grad
from ..tensor import Tensor
from ..utils.checkpoint import held_for_recomputation
from . import optimizer_state as opt_state
from .activations import GraphLedger, node_arrays, owned_bytes, owner, tensors_in
from .report import MemoryReport, ModuleRow
from .timeline import backward_peak

# -- parameters -------------------------------------------------------------------------------


def _parameters(obj: Any) -> list[Tensor]:
    """The distinct parameters of a module, a tensor, or an iterable of tensors."""
    if isinstance(obj, Tensor):
        items = [obj]
    elif hasattr(obj, "parameters"):
        items = list(obj.parameters())
    else:
        items = list(obj)
    seen: set[int] = set()
    unique = []
    for p in items:
        if not isinstance(p, Tensor):
            raise TypeError(f"expected a module or tensors, got an element of type {type(p).__name__}")
        if id(p) not in seen:  # a weight tied between two layers is one tensor
            seen.add(id(p))
            unique.append(p)
    return unique


def param_count(module: Any) -> int:
    """Number of parameter values (weights and biases) of a module, a tensor or some tensors.

    >>> import minigrad
    >>> param_count(minigrad.nn.Linear(8, 4))        # 8*4 weights + 4 biases
    36
    """
    return sum(p.numel() for p in _parameters(module))


def param_bytes(module: Any) -> int:
    """Bytes of those parameters: sizeof(type) x (n x k + k) for a Linear(n, k).

    >>> import minigrad
    >>> param_bytes(minigrad.nn.Linear(8, 4, bias=False))   # the course's 8*4*4
    128
    """
    return sum(p.nbytes for p in _parameters(module))


# -- summary ----------------------------------------------------------------------------------


def summary(model: Any, input_size: Sequence[int] | Sequence[Sequence[int]], optimizer: Any = None,
            dtype: _dtype.dtype | None = None, batch_dim: int = 0,
            loss_fn: Callable[[Any], Tensor] | None = None) -> MemoryReport:
    """Memory of ``model`` for one batch of shape ``input_size`` (the batch included, e.g. ``(64, 784)``).

    ``optimizer``: adds its state (predicted, and measured if it has made its state already) and the
    temporary arrays of its ``step()``.
    ``dtype``: of the random input (default: the model's parameter dtype).
    ``batch_dim``: which dimension of ``input_size`` is the batch.
    ``loss_fn``: called on the model's output, so the loss's own saved arrays are counted too
    (for example ``lambda out: F.cross_entropy(out, target)``).

    The figures of the table (``str(report)``; ``report.to_dict()`` has them as numbers):

    * **Param #**, **Params**: every value of every parameter. A ``Linear(n, k)`` has n x k weights
      and k biases, n x k + k values, as in torch, unless it is made with ``bias=False``. The course
      (Course 7, *Space & memory considerations*) counts ``Sequential(Linear(8,4,bias=True),
      Linear(4,1))`` as 40 parameters, 160 B in float32: it leaves out the second layer's bias,
      which torch and minigrad make by default, so they count 41, 164 B;
      ``Linear(4, 1, bias=False)`` gives the course's model.
    * **Grads**: one gradient per trainable parameter, as large as the parameter.
    * **Optim state**: what the optimizer keeps per parameter (Adam: two arrays and a 4-byte step).
    * **Activations**: the arrays the graph keeps for backward, counted from the graph itself, each
      buffer once, at the first module that kept it; parameters are not activations.
    * **Inference total**: the parameters plus the most activation memory alive at once when each
      layer's input is freed once the next layer has run.
    * **Training total**: the course's sum, parameters + gradients + optimizer state + every
      activation, as if they all existed at once.
    * **Training step peak**: what one step (``zero_grad()``, forward, loss, ``backward()``,
      ``step()``) really holds at its worst moment: the larger of the backward phase (replayed node
      by node: saved arrays not yet freed, gradients in flight, parameter gradients made so far)
      and the ``step()`` phase (all gradients, plus the update's temporary arrays). It is not the
      training total: it is usually higher, because backward also holds the gradient of every
      activation and ``step()`` its temporaries, but it can be lower, because backward frees each
      layer's saved arrays before the first layers' gradients exist, while the sum counts them
      together. The course's 5-8-4-2 network, one sample and an MSE loss, no optimizer:
      a training total of 828 B and a step peak of 820 B.
    * **First step peak**: the same for the first step, before the optimizer has made its state.
    * **Training vs bare parameters**: (parameters + gradients + state) / parameters, the
      course's 2x (SGD), 3x (momentum), 4x (Adam); activations come on top.

    >>> import minigrad
    >>> from minigrad import nn
    >>> course = nn.Sequential(nn.Linear(8, 4, bias=True), nn.Linear(4, 1))
    >>> report = summary(course, (1, 8))
    >>> report.param_count, report.param_bytes           # 8*4 + 4 + 4*1 + 1: the course omits the last 1
    (41, 164)
    >>> net = nn.Sequential(nn.Linear(5, 8), nn.Linear(8, 4), nn.Linear(4, 2))
    >>> target = minigrad.zeros(1, 2)
    >>> report = summary(net, (1, 5), loss_fn=lambda out: nn.functional.mse_loss(out, target))
    >>> report.training_total, report.step_peak
    (828, 820)
    """
    return _summarize(model, input_size, optimizer, dtype, batch_dim, loss_fn)


def _summarize(model: Any, input_size: Any, optimizer: Any = None, dtype: _dtype.dtype | None = None,
               batch_dim: int = 0, loss_fn: Callable | None = None,
               trace: list[tuple[str, int]] | None = None) -> MemoryReport:
    """``summary()``; ``trace`` also receives the backward replay's running total (see ``timeline.backward_peak``)."""
    params = _parameters(model)
    if not params:
        raise ValueError(f"{type(model).__name__} has no parameters: there is no model size to report "
                         "and no multiplier to compute")
    sizes = _input_sizes(input_size, batch_dim)
    batch = sizes[0][batch_dim]
    dtype = dtype or _first_float_dtype(params)
    device = params[0].device

    from .. import _factories

    with random.fork_rng(devices=[]):  # the summary's random inputs should not change a seeded run
        inputs = [_factories.randn(*s, dtype=dtype, device=device) for s in sizes]
        record = _run(model, inputs, params, loss_fn, trace)

    rows = _rows(model, record, params, optimizer)
    report = MemoryReport(
        model_type=type(model).__name__,
        input_size=[list(s) for s in sizes] if len(sizes) > 1 else list(sizes[0]),
        batch_size=batch,
        dtype=dtype.name,
        rows=rows,
        param_count=sum(p.numel() for p in params),
        trainable_count=sum(p.numel() for p in params if p.requires_grad),
        param_bytes=sum(p.nbytes for p in params),
        grad_bytes=sum(p.nbytes for p in params if p.requires_grad),
        activation_bytes=sum(r.activation_bytes for r in rows) + record.loss_bytes,
        activation_bytes_by_dtype=record.activation_bytes_by_dtype,
        loss_activation_bytes=record.loss_bytes,
        input_bytes=sum(t.nbytes for t in inputs),
        inference_activation_peak=record.inference_peak,
        linear_shapes=_linear_shapes(model),
    )
    if optimizer is not None:
        _optimizer_figures(report, optimizer, params)
    _predict_peaks(report, record, optimizer)
    return report


def _linear_shapes(model: Any) -> list[tuple[int, int, bool]]:
    """(in_features, out_features, has a bias) of each Linear, for the table's note on biases."""
    from ..nn import Linear

    return [(m.in_features, m.out_features, m.bias is not None) for m in model.modules() if isinstance(m, Linear)]


def _optimizer_figures(report: MemoryReport, optimizer: Any, params: list[Tensor]) -> None:
    """The optimizer's state, predicted from its ``state_specs()`` and read from its real state, and its scratch."""
    report.optimizer = type(optimizer).__name__
    report.state_predicted = opt_state.describes_its_state(optimizer)
    report.state_bytes = opt_state.total(opt_state.predict_state(optimizer))
    report.state_full_size_bytes = opt_state.predict_full_size(optimizer)
    measured = opt_state.measure_state(optimizer)
    if measured:
        report.state_bytes_measured = opt_state.total(measured)
        report.state_bytes_allocated = opt_state.allocated_state_bytes(optimizer)
        if not report.state_predicted:
            report.state_full_size_bytes = opt_state.measured_full_size(optimizer, params)
    report.scratch_bytes = opt_state.scratch_bytes(optimizer)


def _predict_peaks(report: MemoryReport, record: _Record, optimizer: Any) -> None:
    """The peak of one training step (``zero_grad()``, forward, loss, backward, ``step()``), phase by phase.

    The parameters and, once made, the optimizer state exist all along. ``zero_grad()`` sets the
    gradients to None, so they are made again during backward (timeline.py counts each from the
    moment it appears); then ``step()`` holds them, the batch, the output and the loss, and its
    own temporary arrays, which it frees before it returns.
    """
    report.backward_peak = record.backward_peak
    report.held_bytes = record.held_bytes
    p, g, held = report.param_bytes, report.grad_bytes, record.held_bytes
    if optimizer is None:
        report.step_peak = p + max(record.backward_peak, g + held)
        return
    state = report.state_in_totals
    report.update_peak = p + state + g + held + (report.scratch_bytes or 0)
    report.step_peak = max(p + state + record.backward_peak, report.update_peak)
    # Before the first step the state does not exist yet (Adagrad's does: it is made in the constructor);
    # step() makes each parameter's state just before that parameter's update.
    state_now = report.state_bytes_measured or 0
    if state_now < state:
        report.first_step_peak = max(p + state_now + record.backward_peak, report.update_peak)


def _input_sizes(input_size: Any, batch_dim: int) -> list[tuple]:
    """One size per model input, each checked: whole dimensions, and a batch of at least 1."""
    if not isinstance(input_size, (tuple, list)) or len(input_size) == 0:
        raise ValueError(f"input_size must be a non-empty tuple of dimensions such as (64, 784), got {input_size!r}")
    sizes = [tuple(input_size)] if all(isinstance(d, builtins.int) for d in input_size) else list(input_size)
    checked = []
    for s in sizes:
        if not isinstance(s, (tuple, list)) or not s or not all(isinstance(d, builtins.int) for d in s):
            raise ValueError(f"input_size must hold whole dimensions such as (64, 784), got {input_size!r}")
        if any(d < 0 for d in s):
            raise ValueError(f"input_size has a negative dimension: {list(s)}")
        if not -len(s) <= batch_dim < len(s):
            raise ValueError(f"batch_dim={batch_dim} is not a dimension of input_size {list(s)}")
        if s[batch_dim] == 0:
            raise ValueError(f"batch size is 0 in input_size {list(s)} (dimension {batch_dim}): "
                             "activations are counted for a batch of at least one sample")
        checked.append(tuple(s))
    return checked


def _first_float_dtype(params: list[Tensor]) -> _dtype.dtype:
    for p in params:
        if p.is_floating_point():
            return p.dtype
    return _dtype.get_default_dtype()


# -- the forward pass, watched by hooks -------------------------------------------------------


@dataclass
class _Call:
    """What one module did in the forward pass."""

    output_shape: list | None = None
    activation_bytes: int = 0
    buffers: list | None = None  # (owner array, bytes) it claimed: what counts is what is still saved at the end


@dataclass
class _Record:
    calls: dict  # id(module) -> _Call
    loss_bytes: int
    inference_peak: int
    backward_peak: int  # activations, held arrays, gradients in flight and made at the worst moment of backward
    held_bytes: int  # what the caller holds through the step: the batch, the output, the loss
    activation_bytes_by_dtype: dict  # dtype name -> bytes of the activations kept in it


def _run(model: Any, inputs: list[Tensor], params: list[Tensor], loss_fn: Callable | None,
         trace: list[tuple[str, int]] | None = None) -> _Record:
    ledger = GraphLedger([p._data for p in params])
    calls: dict[int, _Call] = {}
    running: list[tuple[str, Any]] = []  # the modules whose forward has started and not ended
    held = {id(owner(t._data)): int(owner(t._data).nbytes) for t in inputs}  # the caller holds the batch
    peak = [0]  # the inference peak: the batch plus one leaf layer's input and output
    names = {id(m): name for name, m in model.named_modules()}

    def pre(module: Any, args: tuple) -> None:
        running.append((names.get(id(module), "?"), module))
        ledger.mark_seen(tensors_in(args))

    def post(module: Any, args: tuple, output: Any) -> None:
        running.pop()
        call = calls.setdefault(id(module), _Call())
        nodes = ledger.claim(tensors_in(output))
        call.buffers = (call.buffers or []) + ledger.claim_buffers(nodes)
        outs = list(tensors_in(output))
        call.output_shape = list(outs[0].shape) if len(outs) == 1 else [list(t.shape) for t in outs]
        if not any(True for _ in module.children()):
            live = dict(held)
            for t in [*tensors_in(args), *outs]:
                base = owner(t._data)
                live[id(base)] = int(base.nbytes)
            peak[0] = max(peak[0], sum(live.values()))

    handles = []
    for m in model.modules():
        handles.append(m.register_forward_pre_hook(pre))
        handles.append(m.register_forward_hook(post))
    output = loss = None
    try:
        with enable_grad():
            output = model(*inputs)
            if loss_fn is not None:
                loss = loss_fn(output)
    except Exception as exc:
        if running:
            where = f" in module '{running[-1][0]}' ({type(running[-1][1]).__name__})"
        else:
            where = " in loss_fn" if output is not None else ""
        shapes = ", ".join(str(list(t.shape)) for t in inputs)
        raise RuntimeError(f"summary: the forward pass on an input of size {shapes} failed{where}: {exc}") from exc
    finally:
        for h in handles:
            h.remove()
    # What each module's nodes still keep now that the forward is over: a checkpointed block (utils/checkpoint.py)
    # dropped its nodes' saved arrays when it returned, and recomputes them in backward.
    kept = {id(owner(a)) for node in ledger.nodes for a in (*node_arrays(node), *held_for_recomputation(node))}
    by_dtype: dict[str, int] = {}  # under autocast, float16 and float32 activations side by side
    for call in calls.values():
        kept_here = [b for b in call.buffers or () if id(b) in kept]
        call.activation_bytes = sum(int(b.nbytes) for b in kept_here)
        for b in kept_here:
            by_dtype[str(b.dtype)] = by_dtype.get(str(b.dtype), 0) + int(b.nbytes)
    loss_bytes = 0
    if loss is not None:
        for b in ledger.claim_buffers(ledger.claim([loss])):
            loss_bytes += int(b.nbytes)
            by_dtype[str(b.dtype)] = by_dtype.get(str(b.dtype), 0) + int(b.nbytes)
    root = loss if loss is not None else output
    held = [t._data for t in [*inputs, *tensors_in(output), *([loss] if loss is not None else [])]]
    begin, peak_bwd = backward_peak(root, params, held, trace)
    return _Record(calls, loss_bytes, peak[0], max(begin, peak_bwd), owned_bytes(held), by_dtype)


def _rows(model: Any, record: _Record, params: list[Tensor], optimizer: Any) -> list[ModuleRow]:
    state = {}
    if optimizer is not None:
        entries = opt_state.predict_state(optimizer)
        if not opt_state.describes_its_state(optimizer):
            entries = opt_state.measure_state(optimizer)
        state = {id(p): sum(d.values()) for p, d in entries}
    counted: set[int] = set()  # a parameter shared by two modules belongs to the first
    rows = []
    for name, module in model.named_modules():
        own = []
        for p in module.parameters(recurse=False):
            if id(p) not in counted:
                counted.add(id(p))
                own.append(p)
        call = record.calls.get(id(module))
        rows.append(ModuleRow(
            name=name,
            type=type(module).__name__,
            depth=name.count(".") + 1 if name else 0,
            output_shape=call.output_shape if call else None,
            params=sum(p.numel() for p in own),
            param_bytes=sum(p.nbytes for p in own),
            grad_bytes=sum(p.nbytes for p in own if p.requires_grad),
            state_bytes=sum(state.get(id(p), 0) for p in own) if optimizer is not None else None,
            activation_bytes=call.activation_bytes if call else 0,
            has_children=any(True for _ in module.children()),
        ))
    return rows
