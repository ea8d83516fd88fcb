"""Sorting: ``sort``, ``argsort``, ``topk`` and ``unique``.

The values of ``sort`` and ``topk`` are the input indexed by the sorted positions (an advanced index, whose
backward puts the gradient back where each value came from), so every order of derivative works.
"""

from __future__ import annotations

from typing import Any

from .._backend import xp_of
from ..autograd.graph import TensorBase, named
from .indexing import GetItem, along_axis
from .reduction import ValuesIndices
from .shape import _dim


def _order(data: Any, axis: int, descending: bool) -> Any:
    """Stable sorting positions along ``axis``: ties keep their order, NaN counts as the largest (torch's)."""
    xp = xp_of(data)
    if not descending:
        return xp.argsort(data, axis=axis, kind="stable")
    # sort the reversed array ascending (ties: later elements first) and read it backwards
    n = data.shape[axis]
    return (n - 1) - xp.flip(xp.argsort(xp.flip(data, axis), axis=axis, kind="stable"), axis)


def _sorted(a: TensorBase, dim: int, descending: bool, k: int | None, name: str) -> ValuesIndices:
    if a._data.ndim == 0:
        _dim(dim, 1)
        idx = a._wrap(xp_of(a._data).zeros((), dtype="int64"))
        return ValuesIndices(named(a.clone(), name), idx)
    axis = _dim(dim, a._data.ndim)
    order = _order(a._data, axis, descending)
    if k is not None:
        order = order[(slice(None),) * axis + (slice(0, k),)]
    order = order.astype("int64", copy=False)
    values = GetItem.apply(a, along_axis(order, axis))
    return ValuesIndices(named(values, name), a._wrap(order))


def sort(input: TensorBase, dim: int = -1, descending: bool = False, stable: bool = False) -> ValuesIndices:
    """The values sorted along ``dim`` and the positions they came from, as torch.sort.

    Differs from torch: the sort is always stable (``stable=False`` changes nothing), and the result is a
    ``ValuesIndices`` named tuple, printed as such where torch prints ``torch.return_types.sort``.
    """
    if isinstance(dim, bool):  # torch.sort(x, True): the second positional argument of the stable overload
        dim, descending = -1, descending
    return _sorted(input, dim, descending, None, "SortBackward0")


def argsort(input: TensorBase, dim: int = -1, descending: bool = False, stable: bool = False) -> TensorBase:
    """The positions that sort ``input`` along ``dim`` (int64), as torch.argsort.

    Differs from torch: the sort is always stable, so ``stable=False`` changes nothing and ties keep their order.
    """
    if input._data.ndim == 0:
        _dim(dim, 1)
        return input._wrap(xp_of(input._data).zeros((), dtype="int64"))
    axis = _dim(dim, input._data.ndim)
    return input._wrap(_order(input._data, axis, descending).astype("int64", copy=False))


def topk(input: TensorBase, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> ValuesIndices:
    """The ``k`` largest (or smallest) values along ``dim`` and their positions, as torch.topk.

    Differs from torch: ``sorted=False`` is accepted and ignored (the values always come sorted), and the result
    is a ``ValuesIndices`` named tuple, printed as such where torch prints ``torch.return_types.topk``.
    """
    size = input._data.shape[_dim(dim, input._data.ndim)] if input._data.ndim else (_dim(dim, 1), 1)[1]
    if not 0 <= k <= size:
        raise RuntimeError("selected index k out of range")
    return _sorted(input, dim, largest, k, "TopkBackward0")


def unique(input: TensorBase, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False,
           dim: int | None = None) -> Any:
    """The distinct values (or slices along ``dim``), with inverse indices and counts if asked, as torch.unique.

    Differs from torch: ``sorted=False`` is accepted and ignored: the values always come back sorted.
    """
    data = input._data
    xp = xp_of(data)
    if dim is None:
        values, inverse, counts = xp.unique(data.reshape(-1), return_inverse=True, return_counts=True)
        inverse = inverse.reshape(data.shape)
    else:
        axis = _dim(dim, max(data.ndim, 1))
        values, inverse, counts = xp.unique(data, return_inverse=True, return_counts=True, axis=axis)
        inverse = inverse.reshape(-1)
    out = [input._wrap(values)]
    if return_inverse:
        out.append(input._wrap(inverse.astype("int64", copy=False)))
    if return_counts:
        out.append(input._wrap(counts.astype("int64", copy=False)))
    return out[0] if len(out) == 1 else tuple(out)
