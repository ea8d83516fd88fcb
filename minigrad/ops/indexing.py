"""Indexing: basic slices and integer/bool array indices, with a gradient that scatters back."""

from __future__ import annotations

from typing import Any

from .._backend import xp_of
from ..autograd.graph import TensorBase
from ._base import Op


def unwrap_index(index: Any) -> Any:
    """Replace tensors inside an index by their arrays."""
    if isinstance(index, TensorBase):
        return index._data
    if isinstance(index, tuple):
        return tuple(i._data if isinstance(i, TensorBase) else i for i in index)
    if isinstance(index, list):
        return index
    return index


def _is_basic(index: Any) -> bool:
    """Slices, ints, None and Ellipsis only: the result is a view and no index repeats."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, (int, slice)) or p is None or p is Ellipsis for p in parts)


class GetItem(Op):
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
            return a._wrap(a._data[index])
        return GetItem.apply(a, index)
    except IndexError as exc:
        raise IndexError(str(exc).replace("axis", "dimension")) from None


def gather(a: TensorBase, dim: int, index: TensorBase) -> TensorBase:
    """``out[i][j] = a[i][index[i][j]]`` for dim=1, as torch.gather."""
    return GetItem.apply(a, _gather_index(a._data, dim, index._data))


def _gather_index(a: Any, dim: int, idx: Any) -> tuple:
    xp = xp_of(a)
    dim %= a.ndim
    grids = xp.indices(idx.shape, sparse=True)
    return tuple(idx if d == dim else grids[d] for d in range(a.ndim))
