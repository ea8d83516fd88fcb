"""Indexing: basic slices and integer/bool array indices, with a gradient that scatters back."""

from __future__ import annotations

import math
from typing import Any

import numpy

from .._backend import xp_of
from ..autograd.graph import TensorBase
from ._base import Op


def unwrap_index(index: Any) -> Any:
    """Replace tensors inside an index by their arrays.

    A 0-dim integer tensor indexes like a Python int (torch's rule): the result is a view that
    writes go through (``x[i][0] = 1`` for ``i`` in ``arange(3)``), not a copy.
    """
    if isinstance(index, tuple):
        return tuple(_unwrap_one(i) for i in index)
    return _unwrap_one(index)


def _unwrap_one(i: Any) -> Any:
    if not isinstance(i, TensorBase):
        return i
    a = i._data
    if a.ndim == 0 and a.dtype.kind in "iu":
        return int(a)
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
        shape, dtype = ctx.source
        xp = xp_of(g)
        out = xp.zeros(shape, dtype=dtype)
        if _is_basic(ctx.index):
            out[ctx.index] = g
        else:
            xp.add.at(out, ctx.index, g)  # repeated indices accumulate
        return out


def getitem(a: TensorBase, index: Any) -> TensorBase:
    index = unwrap_index(index)
    if _is_basic(index):
        # A trailing Ellipsis makes NumPy return a 0-dim view instead of a scalar copy, so that
        # x[0, 0] shares x's memory as in torch (x[0, 0].fill_(1.) writes into x).
        parts = index if isinstance(index, tuple) else (index,)
        if Ellipsis not in parts:
            index = (*parts, Ellipsis)
    try:
        if not a.requires_grad:
            t = a._wrap(a._data[index])
            if _is_basic(index):  # a view: writes through it are writes into a
                t._share_memory_of(a)
            return t
        return GetItem.apply(a, index)
    except IndexError as exc:
        raise IndexError(str(exc).replace("axis", "dimension")) from None


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
            g_base = g.copy()
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
        out = xp_of(g).zeros(math.prod(ctx.base_shape), dtype=g.dtype)
        out[ctx.positions] = g  # a view's elements are distinct memory locations (checked by flat_positions)
        return out.reshape(ctx.base_shape)


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
        shape = value._data.shape if isinstance(value, TensorBase) else ()
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(shape)} cannot be broadcast to indexing "
                           f"result of shape {list(base._data[index].shape)}") from exc


def gather(a: TensorBase, dim: int, index: TensorBase) -> TensorBase:
    """``out[i][j] = a[i][index[i][j]]`` for dim=1, as torch.gather."""
    return GetItem.apply(a, _gather_index(a._data, dim, index._data))


def _gather_index(a: Any, dim: int, idx: Any) -> tuple:
    xp = xp_of(a)
    dim %= a.ndim
    grids = xp.indices(idx.shape, sparse=True)
    return tuple(idx if d == dim else grids[d] for d in range(a.ndim))
