"""Optimizer state and scratch: predicted from the optimizer's own description, and read from its real state.

Every fact comes from the optimizer's public API, so that a new optimizer, or a user's
subclass, needs nothing here:

* ``optimizer.state_specs(group)``: the state entries a parameter of ``group`` gets, each a
  ``StateSpec`` that knows its size for a parameter (``spec.nbytes(p)``);
* ``type(optimizer).state_at_init``: whether the state exists from the constructor on, for every
  parameter (Adagrad), or from a parameter's first step on, for those with a gradient;
* ``optimizer.scratch_bytes()``: the temporary arrays one ``step()`` allocates and frees again.

The tests check the prediction against minigrad's real state after a step and against torch's.

A user's optimizer that describes nothing (its own ``step()``, no ``state_specs()``; a
``torch.optim.Optimizer``-like subclass or a plain class) has its real state measured instead:
``optimizer.state`` (torch's dict of per-parameter dicts, or of bare tensors), or, for a class
without a ``state`` dict, every array the optimizer object holds that is not a parameter.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..optim.optimizer import Optimizer, StateSpec
from ..tensor import Tensor
from .activations import is_array, owner


def _unique_params(optimizer: Any) -> Iterator[tuple[dict, Tensor]]:
    """(group, parameter) for each parameter once, in group order: a parameter listed twice has one state."""
    seen: set[int] = set()
    for group in getattr(optimizer, "param_groups", ()):  # a plain class of a user's may have none
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


def _arrays(value: Any, skip_parameters: bool = False) -> Iterator[Any]:
    """The arrays inside one state entry: a tensor, an array, or containers of them (a user's optimizer).

    ``skip_parameters``: leave out tensors that require a gradient (a plain optimizer class keeps a
    list of its parameters next to its state).
    """
    if isinstance(value, Tensor):
        if not (skip_parameters and value.requires_grad):
            yield value._data
    elif is_array(value):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _arrays(item, skip_parameters)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _arrays(item, skip_parameters)


def _state_entries(optimizer: Any) -> Iterator[tuple[Tensor | None, dict, bool]]:
    """(parameter or None, {name: value}, skip parameters) for each piece of real state the optimizer holds.

    * ``optimizer.state`` a dict (torch's ``defaultdict``): one entry per key, a parameter's first
      (in group order), then any other key; a value that is not a dict (``state[p] = buffer``)
      is one entry named ``"state"``; the key is the parameter when it is a tensor;
    * no ``state`` dict: the optimizer's attributes holding arrays, as one entry for no parameter
      (tensors that require a gradient are parameters, not state: the third item says to skip them).
    """
    state = getattr(optimizer, "state", None)
    if isinstance(state, Mapping):
        done: set[int] = set()
        keys = [p for _, p in _unique_params(optimizer)] + list(state.keys())
        for key in keys:
            if id(key) in done or key not in state:
                continue
            done.add(id(key))
            value = state[key]
            if isinstance(value, dict) and not value:
                continue  # torch's defaultdict makes an empty one at a mere look-up
            entry = value if isinstance(value, dict) else {"state": value}
            yield (key if isinstance(key, Tensor) else None), entry, False
        return
    held = {}
    for name, value in vars(optimizer).items():
        if any(True for _ in _arrays(value, skip_parameters=True)):
            held[name] = value
    if held:
        yield None, held, True


def measure_state(optimizer: Any) -> list[tuple[Tensor | None, dict]]:
    """``[(param, {state name: bytes})]`` read from the optimizer's real state.

    Each tensor or array counts its own bytes (``nbytes``): a view into a flat array counts its
    share. Plain Python numbers are not arrays and count 0. ``param`` is None for state that is not
    filed under a parameter (a user's optimizer keeping its buffers in attributes of its own).
    """
    result = []
    for p, state, skip in _state_entries(optimizer):
        result.append((p, {name: sum(int(a.nbytes) for a in _arrays(value, skip)) for name, value in state.items()}))
    return result


def measured_full_size(optimizer: Any, params: list[Tensor] | None = None) -> int:
    """Bytes of the real state arrays with their parameter's shape and dtype.

    State filed under no parameter counts where it has the shape and dtype of one of ``params``.
    """
    shapes = {(tuple(q.shape), q._data.dtype) for q in params or ()}
    total = 0
    for p, state, skip in _state_entries(optimizer):
        for value in state.values():
            for a in _arrays(value, skip):
                if p is not None:
                    same = tuple(a.shape) == tuple(p.shape) and a.dtype == p._data.dtype
                else:
                    same = (tuple(a.shape), a.dtype) in shapes
                if same:
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
    for _, state, skip in _state_entries(optimizer):
        for value in state.values():
            for a in _arrays(value, skip):
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
