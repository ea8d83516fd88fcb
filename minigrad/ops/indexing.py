"""Indexing: basic slices and integer/bool array indices, with a gradient that scatters back."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy

from .._backend import xp_of
from ..autograd.graph import TensorBase, named
from ._base import Op, run


def unwrap_index(index: Any) -> Any:
    """Replace tensors inside an index by their arrays.

    A 0-dim integer tensor indexes like a Python int (torch's rule): the result is a view that
    writes go through (``x[i][0] = 1`` for ``i`` in ``arange(3)``), not a copy.
    """
    if type(index) is list and _list_as_tuple(index):
        index = tuple(index)
    if isinstance(index, tuple):
        return tuple(_unwrap_one(i) for i in index)
    return _unwrap_one(index)


def refuse_byte_mask_fill(index: Any, value: Any) -> None:
    """torch writes a single value through a uint8 mask with masked_fill_, which takes bool masks only."""
    parts = index if type(index) is tuple else (index,)
    if (not isinstance(value, TensorBase) or value._data.ndim == 0) and any(
            isinstance(p, TensorBase) and p._data.dtype.kind == "u" for p in parts):
        raise RuntimeError("masked_fill_ only supports boolean masks, but got mask with dtype unsigned char")


def _list_as_tuple(index: list) -> bool:
    """torch's (and old NumPy's) rule: a short list holding a sequence, tensor, slice, None or Ellipsis indexes
    like a tuple (``x[[[0, 1], [1, 2]]]`` is ``x[[0, 1], [1, 2]]``), with a deprecation warning."""
    if len(index) >= 32:
        return False
    for v in index:
        if isinstance(v, (list, tuple, slice, TensorBase, numpy.ndarray)) or v is None or v is Ellipsis:
            warnings.warn("Using a non-tuple sequence for multidimensional indexing is deprecated and will be changed "
                          "in pytorch 2.9; use x[tuple(seq)] instead of x[seq]. In pytorch 2.9 this will be "
                          "interpreted as tensor index, x[torch.tensor(seq)], which will result either in an error or "
                          "a different result", UserWarning, stacklevel=4)
            return True
    return False


def _unwrap_one(i: Any) -> Any:
    if type(i) is slice:
        if i.step is not None and i.step < 0:  # torch has no negative strides
            raise ValueError("step must be greater than zero")
        return i
    if not isinstance(i, TensorBase):
        return i
    a = i._data
    kind = a.dtype.kind
    if kind == "u":  # uint8: a mask, as bool, in torch
        if a.ndim:
            warnings.warn("indexing with dtype minigrad.uint8 is now deprecated, please use a dtype minigrad.bool "
                          "instead.", UserWarning, stacklevel=4)
        return a.astype(bool)
    if a.ndim == 0 and kind == "i":
        return int(a)
    if kind == "f" or (kind == "i" and a.dtype.itemsize < 4):
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    return a


def _is_basic(index: Any) -> bool:
    """Slices, ints, None and Ellipsis only: the result is a view and no index repeats."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, (int, slice)) or p is None or p is Ellipsis for p in parts)


class GetItem(Op):
    returns_view = True  # for basic indexing (ints, slices): NumPy returns a view

    @staticmethod
    def forward(ctx, a, index):
        ctx.source = (a.shape, a.dtype)
        ctx.index = index
        return a[index]

    @staticmethod
    def backward(ctx, g):
        return run(IndexPut, g, ctx.source[0], ctx.index)


class IndexPut(Op):
    """Zeros of ``shape`` with ``g`` put at ``index``: indexing's backward, and an op of its own so that a
    recorded backward can be differentiated again (its own backward indexes). Values at a repeated index
    add up, unless ``accumulate`` is False (for indices known to be distinct, where a plain assignment is
    faster)."""

    @staticmethod
    def forward(ctx, g, shape, index, accumulate=True):
        ctx.index = index
        xp = xp_of(g)
        out = xp.zeros(shape, dtype=g.dtype)
        if not accumulate or _is_basic(index):
            out[index] = g
        else:
            xp.add.at(out, index, g)
        return out

    @staticmethod
    def backward(ctx, g):
        return run(GetItem, g, ctx.index)


def along_axis(idx: Any, axis: int) -> tuple:
    """The index that picks ``idx[..., j, ...]`` along ``axis`` of an array shaped like ``idx`` elsewhere
    (``take_along_axis``'s, as a tuple of integer arrays)."""
    idx = getattr(idx, "_data", idx)  # in a recorded backward, saved indices are (constant) tensors
    grids = xp_of(idx).indices(idx.shape, sparse=True)
    return tuple(idx if d == axis % idx.ndim else grids[d] for d in range(idx.ndim))


def getitem(a: TensorBase, index: Any) -> TensorBase:
    index = unwrap_index(index)
    if _is_basic(index):
        # A trailing Ellipsis makes NumPy return a 0-dim view instead of a scalar copy, so that
        # x[0, 0] shares x's memory as in torch (x[0, 0].fill_(1.) writes into x).
        parts = index if isinstance(index, tuple) else (index,)
        if Ellipsis not in parts:
            index = (*parts, Ellipsis)
    try:
        if a._base is not None:  # a view written since it got its history takes a new one first
            a._refresh_view()
        if not a.requires_grad:
            t = a._wrap(a._data[index])
            if _is_basic(index):  # a view: writes through it are writes into a
                t._share_memory_of(a)
            return t
        return named(GetItem.apply(a, index), _index_name(index))
    except IndexError as exc:
        raise IndexError(str(exc).replace("axis", "dimension")) from None


def _index_name(index: Any) -> str:
    """torch's node for an index: integers select, slices slice, arrays index."""
    if not _is_basic(index):
        return "IndexBackward0"
    parts = index if isinstance(index, tuple) else (index,)
    return "SliceBackward0" if any(isinstance(p, slice) for p in parts) else "SelectBackward0"


class CopySlices(Op):
    """``base[index] = value`` written into ``base``'s memory, recorded (torch's ``CopySlices``).

    The old values of ``base`` at ``index`` are gone: their gradient is zero there; ``value`` gets
    the gradient at ``index``, summed back over the dims it was broadcast along.
    """

    @staticmethod
    def forward(ctx, base, value, index, flat=False):
        # flat: ``index`` holds positions in the flattened (contiguous) base, for writes through a view
        ctx.index, ctx.flat = index, flat
        ctx.value_shape = getattr(value, "shape", ())
        target = base.reshape(-1) if flat else base
        target[index] = fit_value(value, target[index].ndim)  # Tensor.__setitem__ then gives base this node
        return base

    @staticmethod
    def backward(ctx, g):
        g_base = g_value = None
        if ctx.needs_input_grad[0]:
            g_base = xp_of(g).copy(g, order="C")  # C order: the flat view below must be a view
            (g_base.reshape(-1) if ctx.flat else g_base)[ctx.index] = 0
        if ctx.needs_input_grad[1]:
            g_value = (g.reshape(-1) if ctx.flat else g)[ctx.index]
            extra = len(ctx.value_shape) - g_value.ndim
            if extra > 0:  # the leading 1-dims fit_value dropped
                g_value = g_value.reshape((1,) * extra + g_value.shape)
        return g_base, g_value


def fit_value(value: Any, ndim: int) -> Any:
    """Drop leading 1-dims of ``value`` beyond ``ndim``: torch writes a (1, 3) tensor into a row."""
    shape = getattr(value, "shape", ())
    extra = len(shape) - ndim
    if extra > 0 and all(s == 1 for s in shape[:extra]):
        return value.reshape(shape[extra:])
    return value


class ViewOf(Op):
    """A view of ``base`` given by the positions of its elements in the flattened base.

    After an in-place write through a view, the view's history starts again from its base's new
    history (torch's ``AsStridedBackward``).
    """

    returns_view = True

    @staticmethod
    def forward(ctx, base, positions, view):
        ctx.positions, ctx.base_shape = positions, base.shape
        return view

    @staticmethod
    def backward(ctx, g):
        # a view's elements are distinct memory locations (checked by flat_positions): no sums
        return run(IndexPut, g, (math.prod(ctx.base_shape),), ctx.positions, False).reshape(ctx.base_shape)


def flat_positions(view: Any, base: Any) -> Any:
    """Where each element of the array ``view`` sits in the flattened array ``base`` (an integer array)."""
    if not base.flags.c_contiguous:
        raise RuntimeError("minigrad can record an in-place write through a view only when the viewed tensor is "
                           "contiguous; write into a .clone() instead")
    if any(stride == 0 and n > 1 for stride, n in zip(view.strides, view.shape)):
        raise RuntimeError("unsupported operation: more than one element of the written-to tensor refers to a "
                           "single memory location. Please clone() the tensor before performing the operation.")
    xp = xp_of(base)
    itemsize = base.itemsize
    position = (_address(view) - _address(base)) // itemsize
    for axis, (n, stride) in enumerate(zip(view.shape, view.strides)):
        shape = [1] * view.ndim
        shape[axis] = n
        position = position + xp.arange(n).reshape(shape) * (stride // itemsize)
    return xp.broadcast_to(xp.asarray(position), view.shape)


def view_of(base: TensorBase, positions: Any, view: Any) -> TensorBase:
    """Record the array ``view`` (at ``positions`` in ``base``) as a view of ``base``'s current history."""
    return ViewOf.apply(base, positions, view)


def _address(a: Any) -> int:
    return a.__array_interface__["data"][0] if isinstance(a, numpy.ndarray) else a.data.ptr


def copy_slices(base: TensorBase, value: Any, index: Any, flat: bool = False) -> TensorBase:
    """Record ``base[index] = value`` (``index`` already unwrapped); the result holds ``base``'s array."""
    try:
        return CopySlices.apply(base, value, index, flat)
    except ValueError as exc:  # NumPy's broadcast error, in torch's words
        if not getattr(base._data.flags, "writeable", True):
            raise  # not a shape problem: an expanded tensor's memory is read-only
        shape = value._data.shape if isinstance(value, TensorBase) else ()
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(shape)} cannot be broadcast to indexing "
                           f"result of shape {list(base._data[index].shape)}") from exc


def gather(input: TensorBase, dim: int, index: TensorBase) -> TensorBase:
    """``out[i][j] = a[i][index[i][j]]`` for dim=1, as torch.gather."""
    data, idx = input._data, index._data
    if idx.dtype.kind != "i" or idx.dtype.itemsize < 4:
        raise RuntimeError("gather(): Expected dtype int32/int64 for index")
    ndim = data.ndim
    if idx.ndim != ndim and not (ndim <= 1 and idx.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    dim %= n
    shape = data.shape or (1,)
    for d in range(ndim):
        if d != dim and idx.shape[d] > shape[d]:
            raise RuntimeError(f"Size does not match at dimension {d} expected index {list(idx.shape)} to be no larger "
                               f"than self {list(data.shape)} apart from dimension {dim}")
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= shape[dim]):  # NumPy would wrap -1 around
        flat = idx.reshape(-1)
        bad = int(flat[((flat < 0) | (flat >= shape[dim])).argmax()])
        raise RuntimeError(f"index {bad} is out of bounds for dimension {dim} with size {shape[dim]}")
    if ndim == 0 or idx.ndim == 0:  # torch lets a 0-dim tensor or index stand for a vector
        return named(GetItem.apply(input.reshape(-1), idx), "GatherBackward0")
    return named(GetItem.apply(input, _gather_index(data, dim, idx)), "GatherBackward0")


def _gather_index(a: Any, dim: int, idx: Any) -> tuple:
    xp = xp_of(a)
    dim %= a.ndim
    grids = xp.indices(idx.shape, sparse=True)
    return tuple(idx if d == dim else grids[d] for d in range(a.ndim))
