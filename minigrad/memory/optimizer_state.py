"""Optimizer state: predicted from the optimizer's class and options, and read from its real state.

The prediction is one small rule per optimizer: which full-size tensors (same
shape and dtype as the parameter) it keeps per parameter, and how many 0-dim
scalars. The rules are torch's (see docs/memory.md); the tests check them
against torch's real state and against minigrad's real state after a step.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .. import _dtype
from ..tensor import Tensor
from .activations import is_array, owner


def scalar_bytes() -> int:
    """Bytes of one 0-dim ``step`` (or ``mu_product``): float32, or float64 under a float64 default (torch's rule)."""
    return 8 if _dtype.get_default_dtype() is _dtype.float64 else 4


# Each rule gets (param, group) and returns {state name: bytes} for that parameter.
StateRule = Callable[[Tensor, dict], dict]


def _full(p: Tensor, *names: str) -> dict:
    return {name: p.nbytes for name in names}


def _scalars(*names: str) -> dict:
    return {name: scalar_bytes() for name in names}


def _sgd(p: Tensor, group: dict) -> dict:
    return _full(p, "momentum_buffer") if group.get("momentum", 0) != 0 else {}


def _rprop(p: Tensor, group: dict) -> dict:
    if group.get("packed_signs", False):
        # Only the sign of the previous gradient matters (+, - or 0): two bit planes of one
        # bit per element (uint8, rounded up to whole bytes) replace the full-size ``prev``.
        plane = math.ceil(p.numel() / 8)
        return {**_scalars("step"), "prev_positive": plane, "prev_negative": plane, **_full(p, "step_size")}
    return {**_scalars("step"), **_full(p, "prev", "step_size")}


def _adagrad(p: Tensor, group: dict) -> dict:
    return {**_full(p, "sum"), **_scalars("step")}


def _rmsprop(p: Tensor, group: dict) -> dict:
    names = ["square_avg"]
    if group.get("momentum", 0) > 0:
        names.append("momentum_buffer")
    if group.get("centered", False):
        names.append("grad_avg")
    return {**_full(p, *names), **_scalars("step")}


def _adam(p: Tensor, group: dict) -> dict:
    names = ["exp_avg", "exp_avg_sq"] + (["max_exp_avg_sq"] if group.get("amsgrad", False) else [])
    return {**_full(p, *names), **_scalars("step")}


def _nadam(p: Tensor, group: dict) -> dict:
    return {**_full(p, "exp_avg", "exp_avg_sq"), **_scalars("step", "mu_product")}


def _adadelta(p: Tensor, group: dict) -> dict:
    return {**_full(p, "square_avg", "acc_delta"), **_scalars("step")}


# Looked up by class name along the class's MRO, so AdamW finds Adam's rule and a
# subclass of SGD keeps SGD's. Add an entry here for a new optimizer.
STATE_RULES: dict[str, StateRule] = {
    "SGD": _sgd,
    "Rprop": _rprop,
    "Adagrad": _adagrad,
    "RMSprop": _rmsprop,
    "Adam": _adam,
    "AdamW": _adam,
    "NAdam": _nadam,
    "Adadelta": _adadelta,
}

# Adagrad fills its state in __init__, for every parameter; the others fill it at the
# first step, for the parameters that have a gradient.
_EAGER = {"Adagrad"}


def _rule(optimizer: Any) -> tuple[StateRule, bool]:
    for cls in type(optimizer).__mro__:
        if cls.__name__ in STATE_RULES:
            return STATE_RULES[cls.__name__], cls.__name__ in _EAGER
    raise TypeError(f"minigrad.memory has no state rule for {type(optimizer).__name__}; "
                    f"add one to minigrad.memory.optimizer_state.STATE_RULES")


def predict_state(optimizer: Any) -> list[tuple[Tensor, dict]]:
    """``[(param, {state name: bytes})]`` that ``optimizer`` will hold once every parameter has stepped.

    Parameters that do not require a gradient never get one, so they get no state
    (except in Adagrad, which allocates its state up front for all of them).
    """
    rule, eager = _rule(optimizer)
    result = []
    for group in optimizer.param_groups:
        for p in group["params"]:
            entries = rule(p, group) if p.requires_grad or eager else {}
            if entries:  # a parameter without state has no entry in optimizer.state either
                result.append((p, entries))
    return result


def measure_state(optimizer: Any) -> list[tuple[Tensor, dict]]:
    """``[(param, {state name: bytes})]`` read from the optimizer's real state.

    Each tensor or array counts its own bytes (``nbytes``): a view into a flat
    buffer counts its share. Plain Python numbers are not arrays and count 0.
    """
    result = []
    for group in optimizer.param_groups:
        for p in group["params"]:
            state = optimizer.state.get(p) if hasattr(optimizer.state, "get") else None
            if state:
                result.append((p, {name: _nbytes(value) for name, value in state.items()}))
    return result


def allocated_state_bytes(optimizer: Any) -> int:
    """Bytes of the buffers that really hold the state: each owning array once.

    Equals the sum of ``measure_state`` when every view covers its own part of a
    flat buffer and nothing else is in it; more if a buffer has padding or spare room.
    """
    seen: dict[int, int] = {}
    for state in optimizer.state.values():
        for value in state.values():
            arr = value._data if isinstance(value, Tensor) else value
            if is_array(arr):
                base = owner(arr)
                seen[id(base)] = int(base.nbytes)
    return sum(seen.values())


def _nbytes(value: Any) -> int:
    if isinstance(value, Tensor):
        return value.nbytes
    if is_array(value):
        return int(value.nbytes)
    return 0


def total(entries: list[tuple[Tensor, dict]]) -> int:
    return sum(sum(d.values()) for _, d in entries)


# 0-dim counters: a few bytes per parameter tensor, whatever its size.
SCALAR_STATE = frozenset({"step", "mu_product"})


def full_size_total(entries: list[tuple[Tensor, dict]]) -> int:
    """Only the state tensors as large as their parameter: the ones that multiply the model's size."""
    return sum(b for p, d in entries for name, b in d.items() if name not in SCALAR_STATE and b == p.nbytes)


# -- the optimizer's scratch space -----------------------------------------------------------
#
# minigrad's optimizers update a whole parameter group at once, over flat arrays (one per
# dtype and device: a "bucket", in which every tensor starts at a multiple of ``ALIGN``
# elements). The intermediate results of an update go into scratch arrays that each optimizer
# declares (``_scratch = (floating arrays, boolean arrays)``). On the host they are allocated
# once and kept, at most ``CHUNK`` elements long (the update runs a chunk at a time); on a GPU
# they are as long as the bucket and taken from CuPy's pool at each step.


def _flat_layout() -> tuple[int, int | None]:
    """(ALIGN, CHUNK) of minigrad.optim's flat buffers."""
    from ..optim import _flat

    return _flat.ALIGN, getattr(_flat.Workspace, "CHUNK", None)


def workspace_bytes(optimizer: Any) -> tuple[int, int]:
    """Predicted (kept between steps, made during each step) bytes of the optimizer's scratch arrays."""
    floats, masks = getattr(type(optimizer), "_scratch", (0, 0))
    align, chunk = _flat_layout()
    longest: dict[tuple, tuple[int, int]] = {}  # (device, dtype) -> (elements, itemsize)
    for group in optimizer.param_groups:
        sizes: dict[tuple, int] = {}
        itemsizes: dict[tuple, int] = {}
        for p in group["params"]:
            if p.requires_grad:
                key = (str(p.device), p.dtype.name)
                sizes[key] = sizes.get(key, 0) + -(-p.numel() // align) * align
                itemsizes[key] = p.element_size()
        for key, n in sizes.items():
            longest[key] = (max(n, longest.get(key, (0, 0))[0]), itemsizes[key])
    kept = made = 0
    for (device, _), (n, itemsize) in longest.items():
        if device == "cpu" and chunk:
            kept += min(n, chunk) * (floats * itemsize + masks)
        else:
            made = max(made, n * (floats * itemsize + masks))
    return kept, made


def measured_workspace_bytes(optimizer: Any) -> int:
    """Bytes of the scratch arrays the optimizer keeps now (read from its workspaces)."""
    total = 0
    for work in getattr(optimizer, "_work", {}).values():
        kept = getattr(work, "_kept", None)
        if kept is not None:
            total += sum(int(owner(a).nbytes) for a in {id(owner(a)): a for a in (*kept.floats, *kept.masks)}.values())
    return total
