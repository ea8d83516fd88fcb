"""Flat buffers: a group's parameters, gradients and optimizer state, each kept in one array.

Why: a loop over the parameter tensors costs a few microseconds of Python and NumPy call
overhead per tensor and per operation, and a model made of many small tensors spends most of
its step there. When every parameter of a group lives in one contiguous array, a step is a
handful of NumPy operations over that array, whatever the number of tensors.

How:

* ``Bucket`` holds the parameters of one group that share a dtype and a device. Each
  parameter's array becomes a view into ``Bucket.data``: its values are copied in and
  ``p._data`` is re-pointed to the view, so the tensor object keeps its identity. The same
  is done for every full-size state tensor (``exp_avg``...) and for the 0-dim ``step``
  tensors (views into one small host array).
* Each parameter gets a ``GradSlot``, a view into ``Bucket.grad``. ``AccumulateGrad`` writes
  a leaf's first gradient into its slot and hands the slot out as ``.grad``
  (minigrad/autograd/function.py), so after ``backward()`` the gradients already sit in one
  flat array.
* Before a step, ``GroupBuffers.check`` verifies by identity that every array is still the
  view it was given. Anything else (a replaced ``p.data``, ``Module.to(float64)``, a gradient
  assigned by hand, state loaded or replaced, a parameter that got or lost its gradient) makes
  the optimizer copy the gradient into place or rebuild the buffers. The buffers are a way of
  storing things and never change a result.
* Each tensor starts at a multiple of ``ALIGN`` elements, so that bit-packed state (Rprop's
  ``packed_signs``) starts at a byte boundary for every tensor. The gaps hold zeros in the
  parameter, gradient and state buffers; the updates are elementwise, so the gaps never touch
  a real element and are never visible.
"""

from __future__ import annotations

import sys
from typing import Any, NamedTuple

import numpy

from .._backend import device_of, xp_of
from ..tensor import Tensor

ALIGN = 8


class StateSpec(NamedTuple):
    """One entry of a parameter's optimizer state.

    ``kind`` is ``"scalar"`` (a 0-dim tensor on the host, like ``step``), ``"tensor"`` (the
    parameter's shape and dtype, like ``exp_avg``) or ``"bits"`` (one bit per element of the
    parameter, packed into uint8: Rprop's ``packed_signs``). ``init`` is the starting value.
    """

    kind: str
    init: float


STEP = StateSpec("scalar", 0.0)  # the step counter every optimizer but SGD keeps
ZEROS = StateSpec("tensor", 0.0)  # a full-size state tensor that starts at zero


class ParamState(dict):
    """A parameter's optimizer state: a dict that counts the changes made to it.

    ``ParamState.changes`` counts changes to any of them. When it has not moved since the
    last step (and ``optimizer.state`` maps each parameter to the same dict), a step does
    not need to look at every entry again to find out whether one was replaced.
    """

    changes = 0

    def __setitem__(self, key: Any, value: Any) -> None:
        ParamState.changes += 1
        super().__setitem__(key, value)

    def __delitem__(self, key: Any) -> None:
        ParamState.changes += 1
        super().__delitem__(key)

    def __ior__(self, other: Any) -> ParamState:
        ParamState.changes += 1
        return super().__ior__(other)

    def clear(self) -> None:
        ParamState.changes += 1
        super().clear()

    def pop(self, *args: Any) -> Any:
        ParamState.changes += 1
        return super().pop(*args)

    def popitem(self) -> Any:
        ParamState.changes += 1
        return super().popitem()

    def setdefault(self, key: Any, default: Any = None) -> Any:
        ParamState.changes += 1
        return super().setdefault(key, default)

    def update(self, *args: Any, **kwargs: Any) -> None:
        ParamState.changes += 1
        super().update(*args, **kwargs)


class GradSlot:
    """A parameter's place in its optimizer's flat gradient buffer."""

    __slots__ = ("array",)

    def __init__(self, array: Any) -> None:
        self.array = array

    def is_free(self) -> bool:
        """True if no tensor besides the parameter's ``.grad`` can see the slot's values.

        A gradient tensor from an earlier backward that the user kept (``old = p.grad``) holds
        the array, and must keep its values: then the slot is not reused.
        """
        # References: this slot's attribute and getrefcount's own argument.
        return sys.getrefcount(self.array) <= 2

    def fits(self, array: Any) -> bool:
        """Whether ``array`` has the slot's kind (device), shape and dtype."""
        mine = self.array
        return type(array) is type(mine) and array.shape == mine.shape and array.dtype == mine.dtype

    def destination(self, param: Any, dtype: Any) -> Any:
        """The slot's array, for a backward that writes the next gradient of ``param`` straight into it.

        None if the slot no longer matches the parameter (moved to another device or dtype after the
        optimizer was made), the gradient has another dtype, or someone still holds the last gradient.
        """
        if self.is_free() and self.fits(param) and dtype == param.dtype:
            return self.array
        return None

    def take(self, grad: Any) -> Any:
        """Copy a new gradient into the slot and return the slot's array, or None if it can't be used."""
        if grad is self.array:  # written in place by the op (Node.grad_destination)
            return grad
        if not self.fits(grad) or not self.is_free():
            return None
        self.array[...] = grad
        return self.array


def _padded(n: int) -> int:
    return -(-n // ALIGN) * ALIGN


def bits_shape(numel: int) -> tuple:
    """Shape of a bit-packed state entry for a parameter of ``numel`` elements."""
    return (-(-numel // 8),)


def state_shape(spec: StateSpec, param: Any) -> tuple:
    """The shape a state entry must have for ``param`` (an array)."""
    if spec.kind == "scalar":
        return ()
    if spec.kind == "bits":
        return bits_shape(param.size)
    return param.shape


def check_state_entry(spec: StateSpec, key: str, value: Any, param: Any, where: str) -> None:
    """Raise RuntimeError if a state entry can't belong to ``param`` (wrong shape or device)."""
    array = value._data if isinstance(value, Tensor) else value
    size = getattr(array, "size", 1)
    if spec.kind == "scalar":
        if size != 1:
            raise RuntimeError(f"optimizer state '{key}' of {where} should hold one value, but has shape "
                               f"{list(array.shape)}")
        return
    expected = state_shape(spec, param)
    if tuple(getattr(array, "shape", ())) != tuple(expected):
        raise RuntimeError(f"optimizer state '{key}' of {where} has shape {list(getattr(array, 'shape', ()))}, "
                           f"expected {list(expected)}")
    if type(array) is not type(param):
        raise RuntimeError(f"optimizer state '{key}' of {where} is on {device_of(array)} but the parameter "
                           f"is on {device_of(param)}")


class Bucket:
    """The parameters of one group that share a dtype and a device, laid out end to end."""

    def __init__(self, params: list, specs: dict, state: Any) -> None:
        first = params[0]._data
        xp = xp_of(first)
        self.params = params
        self.offsets = []
        total = 0
        for p in params:
            self.offsets.append(total)
            total += _padded(p._data.size)
        self.size = total
        self.data = xp.zeros(total, dtype=first.dtype)
        self.grad = xp.zeros(total, dtype=first.dtype)
        self.views = []
        self.slots = []
        for p, off in zip(params, self.offsets):
            view = self.data[off:off + p._data.size].reshape(p._data.shape)
            view[...] = p._data
            p._data = view
            slot = GradSlot(self.grad[off:off + view.size].reshape(view.shape))
            grad = p.grad
            if grad is not None and type(grad._data) is type(view) and grad._data.shape == view.shape \
                    and grad._data.dtype == view.dtype:
                # The gradient tensor keeps its identity and its values; it now lives in the slot.
                slot.array[...] = grad._data
                grad._data = slot.array
            p._grad_slot = slot
            self.views.append(view)
            self.slots.append(slot)

        # Optimizer state: one flat array per key, and each parameter's piece of it.
        self.specs = specs
        self.tensor_keys = [key for key, spec in specs.items() if spec.kind == "tensor"]
        self.bit_keys = [key for key, spec in specs.items() if spec.kind == "bits"]
        self.flat: dict[str, Any] = {}
        self.pieces: dict[str, list] = {}
        for key, spec in specs.items():
            if spec.kind == "scalar":
                flat = _host_scalars(len(params), [state.get(p, {}).get(key) for p in params])
                pieces = [flat[i:i + 1].reshape(()) for i in range(len(params))]
            elif spec.kind == "bits":
                flat = xp.zeros(total // 8, dtype="uint8")
                pieces = [flat[off // 8:off // 8 + bits_shape(v.size)[0]] for off, v in zip(self.offsets, self.views)]
            else:
                flat = xp.zeros(total, dtype=first.dtype)
                pieces = [flat[off:off + v.size].reshape(v.shape) for off, v in zip(self.offsets, self.views)]
            self.flat[key] = flat
            self.pieces[key] = pieces
        # The scalar state of every parameter: one host array (one value per parameter) per name.
        self.scalars = {key: self.flat[key] for key, spec in specs.items() if spec.kind == "scalar"}
        self.work: Workspace | None = None  # the optimizer's scratch arrays for this dtype and device

        # Parameters that already have state bring it in; the others are "fresh" until their first step.
        self.tracked: list = []
        self.fresh = 0
        for i, p in enumerate(params):
            st = state.get(p)
            if not specs:  # an optimizer without state (plain SGD) leaves none, as torch
                self.tracked.append(None)
                continue
            if not st:
                self.tracked.append(None)
                self.fresh += 1
                continue
            for key, spec in specs.items():
                piece = self.pieces[key][i]
                old = st.get(key)
                if old is None:
                    piece[...] = spec.init
                    st[key] = Tensor._wrap(piece)
                    continue
                if spec.kind != "scalar":  # scalars were copied in by _host_scalars
                    piece[...] = old._data if isinstance(old, Tensor) else old
                if isinstance(old, Tensor):
                    old._data = piece
                else:
                    st[key] = Tensor._wrap(piece)
            self.tracked.append(st)

    def start_state(self, i: int, state: Any, specs: dict) -> None:
        """Create the state of parameter ``i`` at its first step, in its pieces of the flat state.

        ``specs`` are the group's current ones: Rprop's first step size is the lr of that moment.
        """
        st = ParamState()
        for key, spec in specs.items():
            piece = self.pieces[key][i]
            piece[...] = spec.init
            st[key] = Tensor._wrap(piece)
        state[self.params[i]] = st
        self.tracked[i] = st
        self.fresh -= 1

    def scalar_pieces(self, i: int) -> dict:
        """Parameter ``i``'s scalar state, as 0-dim views."""
        return {key: self.pieces[key][i] for key, spec in self.specs.items() if spec.kind == "scalar"}

    def scalars_agree(self) -> bool:
        """Whether every parameter has the same step (and NAdam the same mu_product)."""
        if len(self.params) > 1:
            for flat in self.scalars.values():
                if flat.min() != flat.max():
                    return False
        return True


def _host_scalars(n: int, values: list) -> Any:
    """A host array for one scalar state key, filled with the values parameters already have.

    ``step`` is float32 unless the default dtype is float64 (torch's rule); values brought in
    from a loaded state dict keep their own dtype.
    """
    from .._backend import to_host
    from .optimizer import scalar_dtype

    arrays = [to_host(v._data if isinstance(v, Tensor) else numpy.asarray(v)) for v in values if v is not None]
    dtype = numpy.result_type(*arrays) if arrays else scalar_dtype()
    flat = numpy.zeros(n, dtype=dtype)
    for i, v in enumerate(values):
        if v is not None:
            flat[i] = to_host(v._data if isinstance(v, Tensor) else numpy.asarray(v)).reshape(())
    return flat


class Scratch(NamedTuple):
    """Scratch arrays for an update rule's intermediate results (as many as ``Optimizer._scratch`` says)."""

    floats: list
    masks: list


class Workspace:
    """Scratch arrays of one dtype on one device, reused at every step.

    On the host, updates run in chunks of at most ``CHUNK`` elements, and the scratch arrays
    are allocated once (they grow to the largest chunk seen). Allocating large temporary
    arrays at every step would be slower: the memory allocator may hand the pages back to the
    system after each step, and each page then costs a fault when it is used again. CuPy
    keeps freed device memory in its pool, so on a GPU a whole range is one chunk and the
    arrays come from the pool.
    """

    CHUNK = 1 << 19

    def __init__(self, like: Any, floats: int, masks: int) -> None:
        self.xp = xp_of(like)
        self.dtype = like.dtype
        self.floats, self.masks = floats, masks
        self.chunk = self.CHUNK if self.xp is numpy else None
        self._kept: Scratch | None = None
        self._size = 0

    def _new(self, n: int) -> Scratch:
        return Scratch([self.xp.empty(n, dtype=self.dtype) for _ in range(self.floats)],
                       [self.xp.empty(n, dtype=bool) for _ in range(self.masks)])

    def scratch(self, n: int) -> Scratch:
        """Scratch arrays of length ``n``."""
        if self.chunk is None:
            return self._new(n)
        kept = self._kept
        if kept is None or self._size < n:
            kept, self._size = self._new(n), n
            self._kept = kept
        if self._size == n:
            return kept
        return Scratch([a[:n] for a in kept.floats], [m[:n] for m in kept.masks])


class Entry(NamedTuple):
    """A laid-out parameter, as the group lists it: where it lives in the buffers."""

    param: Any
    view: Any
    slot: GradSlot
    bucket: Bucket
    index: int


class GroupBuffers:
    """The flat buffers of one parameter group: one ``Bucket`` per (device, dtype).

    ``members`` are the parameters laid out: when the optimizer is created, those that require
    a gradient; at a step, those that have one (a frozen parameter keeps its own array).
    ``entries`` lists them in group order, duplicates included.
    """

    def __init__(self, group: dict, specs: dict, state: Any, members: list) -> None:
        self.group = group
        unique = list(dict.fromkeys(members))
        self.has_duplicates = len(unique) != len(members)
        by_kind: dict = {}
        for p in unique:
            by_kind.setdefault((type(p._data), device_of(p._data), p._data.dtype), []).append(p)
        self.buckets = [Bucket(params, specs, state) for params in by_kind.values()]
        where = {}
        for bucket in self.buckets:
            for i, p in enumerate(bucket.params):
                where[id(p)] = Entry(p, bucket.views[i], bucket.slots[i], bucket, i)
        self.entries = [where[id(p)] for p in members]
        # What check() compares at every step, unpacked once: each step then touches as few
        # Python objects as possible (after an update over large arrays they are out of cache).
        # The slot, not its array: a slot is free only while nothing else refers to its array.
        self.expected = [(e.param, e.view, e.slot) for e in self.entries]
        self.keys = tuple(specs)  # the layout depends on the state names, not on their starting values
        # For each parameter: where its state dict is tracked, and the array behind each entry.
        self.state_rows = [(p, bucket.tracked, i, tuple((key, bucket.pieces[key][i]) for key in specs))
                           for bucket in self.buckets for i, p in enumerate(bucket.params)] if specs else []
        # Whether every state dict counts its changes (a dict the user put there does not).
        self.observed = all(isinstance(st, ParamState) for bucket in self.buckets for st in bucket.tracked
                            if st is not None)

    def check(self, state: Any, state_known: bool = False, entries_known: bool = False) -> list | None:
        """Entries whose gradient must be copied into its slot, or None if the buffers are out of date.

        Out of date: the group's parameters with a gradient are not the ones laid out, a
        parameter's array was replaced, or its state was replaced or created elsewhere.
        ``state_known``: ``state`` maps every parameter to the same dict as at the last step,
        so the dicts need no lookup. ``entries_known``: moreover no ``ParamState`` changed
        since, so their entries need no check either.
        """
        loose = []
        params = self.group["params"]
        if len(params) == len(self.entries):  # every parameter had a gradient: compare side by side
            for p, (param, view, slot), entry in zip(params, self.expected, self.entries):
                grad = p.grad
                if grad is None or p is not param or p._data is not view:
                    return None
                if grad._data is not slot.array:
                    loose.append(entry)
        else:
            entries = iter(self.entries)
            for p in params:
                grad = p.grad
                if grad is None:
                    continue
                entry = next(entries, None)
                if entry is None:
                    return None
                param, view, slot, _, _ = entry
                if p is not param or p._data is not view:
                    return None
                if grad._data is not slot.array:
                    loose.append(entry)
            if next(entries, None) is not None:
                return None
        if entries_known and self.observed:
            if any(bucket.fresh for bucket in self.buckets):  # has someone else created their state?
                for p, tracked, i, _ in self.state_rows:
                    if tracked[i] is None and state.get(p):
                        return None
            return loose
        try:
            for p, tracked, i, pieces in self.state_rows:
                expected = tracked[i]
                st = expected if state_known and expected is not None else state.get(p)
                if st is not expected:
                    if expected is not None or st:
                        return None  # replaced, or created by someone else
                elif st is not None:
                    for key, piece in pieces:
                        if st[key]._data is not piece:
                            return None
        except (KeyError, AttributeError):  # an entry was removed, or replaced by a non-tensor
            return None
        return loose

    def release(self, keep: GroupBuffers | None) -> None:
        """Give the parameters that leave the buffers (and their state) their own arrays again."""
        kept = set() if keep is None else {id(e.param) for e in keep.entries}
        for bucket in self.buckets:
            for i, p in enumerate(bucket.params):
                if id(p) in kept:
                    continue
                if p._data is bucket.views[i]:
                    p._data = p._data.copy()
                if getattr(p, "_grad_slot", None) is bucket.slots[i]:
                    del p._grad_slot
                st = bucket.tracked[i]
                if st:
                    for key, pieces in bucket.pieces.items():
                        value = st.get(key)
                        if isinstance(value, Tensor) and value._data is pieces[i]:
                            value._data = value._data.copy()
