"""Optimizer state and scratch: predicted from the optimizer's own description, and read from its real state.

Every fact comes from the optimizer's public API, so that a new optimizer, or a user's
subclass, needs nothing here:

* ``optimizer.state_specs(group)``: the state entries a parameter of ``group`` gets, each a
  ``StateSpec`` that knows its size for a parameter (``spec.nbytes(p)``);
* ``type(optimizer).state_at_init``: whether the state exists from the constructor on, for every
  parameter (Adagrad), or from a parameter's first step on, for those with a gradient;
* ``optimizer.scratch_bytes()``: the temporary arrays one ``step()`` allocates and frees again.

The tests check the prediction against minigrad's real state after a step and against torch's.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..optim.optimizer import Optimizer, StateSpec
from ..tensor import Tensor
from .activations import is_array, owner


def _unique_params(optimizer: Any) -> Iterator[tuple[dict, Tensor]]:
    """(group, parameter) for each parameter once, in group order: a parameter listed twice has one state."""
    seen: set[int] = set()
    for group in optimizer.param_groups:
        for p in group["params"]:
            if id(p) not in seen:
                seen.add(id(p))
                yield group, p


def _specs(optimizer: Any) -> Iterator[tuple[Tensor, dict[str, StateSpec]]]:
    """(parameter, {name: StateSpec}) for every parameter that will have state."""
    at_init = getattr(type(optimizer), "state_at_init", False)
    state_specs = getattr(optimizer, "state_specs", None)
    specs_of: dict[int, dict] = {}
    for group, p in _unique_params(optimizer):
        if (p.requires_grad or at_init) and state_specs is not None:
            if id(group) not in specs_of:
                specs_of[id(group)] = state_specs(group)
            if specs_of[id(group)]:  # a parameter without state has no entry in optimizer.state either
                yield p, specs_of[id(group)]


def describes_its_state(optimizer: Any) -> bool:
    """False for an optimizer whose own ``step()`` keeps state that ``state_specs()`` does not describe.

    A subclass that writes ``step()`` itself and leaves ``state_specs()`` to the base class (which
    says "no state") may keep anything in ``optimizer.state``: its prediction of 0 is no prediction.
    """
    cls = type(optimizer)
    specs = getattr(cls, "state_specs", None)
    if specs is None:
        return False
    return getattr(cls, "step", None) is Optimizer.step or specs is not Optimizer.state_specs


def predict_state(optimizer: Any) -> list[tuple[Tensor, dict]]:
    """``[(param, {state name: bytes})]`` that ``optimizer`` will hold once every parameter has stepped.

    Parameters that do not require a gradient never get one, so they get no state, unless the
    optimizer makes its state in its constructor (``state_at_init``: Adagrad).
    """
    return [(p, {name: spec.nbytes(p) for name, spec in specs.items()}) for p, specs in _specs(optimizer)]


def predict_full_size(optimizer: Any) -> int:
    """Bytes of the predicted state tensors shaped like their parameter: the ones that multiply the model."""
    return sum(spec.nbytes(p) for p, specs in _specs(optimizer) for spec in specs.values() if spec.kind == "tensor")


def _arrays(value: Any) -> Iterator[Any]:
    """The arrays inside one state entry: a tensor, an array, or containers of them (a user's optimizer)."""
    if isinstance(value, Tensor):
        yield value._data
    elif is_array(value):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _arrays(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _arrays(item)


def _state_of(optimizer: Any, p: Tensor) -> dict | None:
    state = optimizer.state.get(p) if hasattr(optimizer.state, "get") else None
    return state if isinstance(state, dict) and state else None


def measure_state(optimizer: Any) -> list[tuple[Tensor, dict]]:
    """``[(param, {state name: bytes})]`` read from the optimizer's real state.

    Each tensor or array counts its own bytes (``nbytes``): a view into a flat array counts its
    share. Plain Python numbers are not arrays and count 0.
    """
    result = []
    for _, p in _unique_params(optimizer):
        state = _state_of(optimizer, p)
        if state:
            result.append((p, {name: sum(int(a.nbytes) for a in _arrays(value)) for name, value in state.items()}))
    return result


def measured_full_size(optimizer: Any) -> int:
    """Bytes of the real state arrays with their parameter's shape and dtype."""
    total = 0
    for _, p in _unique_params(optimizer):
        for value in (_state_of(optimizer, p) or {}).values():
            for a in _arrays(value):
                if tuple(a.shape) == tuple(p.shape) and a.dtype == p._data.dtype:
                    total += int(a.nbytes)
    return total


def allocated_state_bytes(optimizer: Any) -> int:
    """Bytes of the arrays that really hold the state: each owning array once.

    Equals the sum of ``measure_state`` when every entry is an array of its own. The
    multi-tensor step (``foreach=True``) keeps the state of the parameters it stepped together in
    flat arrays, each parameter starting at a multiple of 8 elements, and each entry is a view
    into them: the flat arrays then exceed the sum of the views by that padding.
    """
    seen: dict[int, int] = {}
    for state in optimizer.state.values():
        if not isinstance(state, dict):
            continue
        for value in state.values():
            for a in _arrays(value):
                base = owner(a)
                seen[id(base)] = int(base.nbytes)
    return sum(seen.values())


def total(entries: list[tuple[Tensor, dict]]) -> int:
    return sum(sum(d.values()) for _, d in entries)


def scratch_bytes(optimizer: Any) -> int | None:
    """Peak bytes of the temporary arrays one ``step()`` allocates and frees again; None if not known.

    ``Optimizer.scratch_bytes()`` describes ``Optimizer.step()``: an optimizer whose class writes
    its own ``step()`` may allocate anything, so that figure would be a guess.
    """
    if getattr(type(optimizer), "step", None) is not Optimizer.step or not hasattr(optimizer, "scratch_bytes"):
        return None
    return int(optimizer.scratch_bytes())
