"""Reductions over all elements or along ``dim`` (with ``keepdim``), as torch defines them."""

from __future__ import annotations

import builtins
import math
import warnings
from typing import Any, NamedTuple

import numpy

from .. import _dtype
from .._backend import xp_of
from ..autograd.graph import TensorBase, named
from ._base import Op, accumulation_dtype, run
from .elementwise import maximum, minimum, select
from .indexing import IndexPut, along_axis


def _axes(dim: Any, ndim: int) -> tuple | None:
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    n = builtins.max(ndim, 1)
    for d in dims:
        if not -n <= d < n:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})")
    axes = tuple(d % n for d in dims)
    if len(set(axes)) != len(axes):
        repeated = next(ax for ax in axes if axes.count(ax) > 1)
        raise RuntimeError(f"dim {repeated} appears multiple times in the list of dims")
    return axes if ndim and axes else None  # torch reduces over every dim when given none (dim=[])


class _Unset:
    def __repr__(self) -> str:
        return "<unset>"


UNSET: Any = _Unset()  # a keyword not passed, told apart from one passed as None


def dim_alias(name: str, dim: Any, axis: Any, dim_default: Any = None) -> Any:
    """``dim``, or NumPy's name ``axis`` for it; torch takes either but not both, with this TypeError."""
    if axis is UNSET:
        return dim
    if dim is not dim_default and dim is not UNSET:
        raise TypeError(f"{name}() got an unexpected keyword argument 'axis'")
    return axis


def keepdim_alias(name: str, keepdim: bool, keepdims: Any) -> bool:
    """``keepdim``, or NumPy's ``keepdims``; torch refuses the two together."""
    if keepdims is UNSET:
        return keepdim
    if keepdim:
        raise TypeError(f"{name}() got an unexpected keyword argument 'keepdims'")
    return keepdims


def _check_nonempty(name: str, a: Any, axis: int) -> None:
    if a.ndim and a.shape[axis] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {axis} to have non-zero size.")


def _expand_back(g: Any, shape: tuple, axes: tuple | None, keepdim: bool) -> Any:
    """Give a reduced gradient back the dimensions the reduction removed, ready to broadcast."""
    if axes is not None and not keepdim:
        for ax in sorted(axes):
            g = xp_of(g).expand_dims(g, ax)
    return g


class Sum(Op):
    grad_kinds = ("view",)

    @staticmethod
    def forward(ctx, a, axes=None, keepdim=False):
        ctx.args = (a.shape, axes, keepdim)
        wide = accumulation_dtype(a)
        if wide is not None:  # float16 adds up in float32, as torch's
            return a.sum(axis=axes, keepdims=keepdim, dtype=wide).astype(a.dtype)
        return a.sum(axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        shape, axes, keepdim = ctx.args
        return xp_of(g).broadcast_to(_expand_back(g, shape, axes, keepdim), shape)


class Mean(Op):
    @staticmethod
    def forward(ctx, a, axes=None, keepdim=False):
        ctx.args = (a.shape, axes, keepdim)
        if a.size == 0:  # NaN as NumPy's mean, without its warning (torch gives none)
            out = xp_of(a).full(a.sum(axis=axes, keepdims=keepdim).shape, float("nan"), dtype=a.dtype)
        else:
            out = a.mean(axis=axes, keepdims=keepdim)
        ctx.count = a.size // builtins.max(out.size, 1) if a.size else 0
        return out

    @staticmethod
    def backward(ctx, g):
        shape, axes, keepdim = ctx.args
        return xp_of(g).broadcast_to(_expand_back(g / ctx.count, shape, axes, keepdim), shape)

    @staticmethod
    def backward_scratch(ctx, grad_nbytes, numel):
        return grad_nbytes  # g / count, of which the result is a broadcast view


class MaxMin(Op):
    """max or min over all elements: the gradient is shared evenly between tied extremes (torch's rule)."""

    @staticmethod
    def forward(ctx, a, largest=True):
        out = a.max() if largest else a.min()
        xp = xp_of(a)
        # A NaN is the result wherever there is one: then the NaNs share the gradient (torch's rule).
        ctx.save_for_backward(xp.isnan(a) if xp.isnan(out) else a == out)
        return out

    @staticmethod
    def backward(ctx, g):
        (hit,) = ctx.saved_tensors
        return select(hit, xp_of(g).broadcast_to(g / hit.sum(), hit.shape))  # torch's masked_fill on CPU


class MaxMinDim(Op):
    """max or min along one dim: the gradient goes to the first extreme (the returned index)."""

    @staticmethod
    def forward(ctx, a, axis, keepdim, largest=True):
        xp = xp_of(a)
        idx = xp.expand_dims((a.argmax if largest else a.argmin)(axis=axis), axis)
        values = xp.take_along_axis(a, idx, axis=axis)
        ctx.save_for_backward(idx)
        ctx.args = (a.shape, axis, keepdim)
        if not keepdim:
            values, idx = values.squeeze(axis), idx.squeeze(axis)
        ctx.mark_non_differentiable(idx)
        return values, idx

    @staticmethod
    def backward(ctx, g, _g_idx):
        (idx,) = ctx.saved_tensors
        shape, axis, keepdim = ctx.args
        if not keepdim:
            g = xp_of(g).expand_dims(g, axis)
        return run(IndexPut, g, shape, along_axis(idx, axis), False)  # one extreme per slice: no sums


class AMaxMin(Op):
    """amax or amin over ``axes`` (all when None): the gradient is shared evenly between each slice's tied
    extremes. A slice whose extreme is NaN has no element equal to it, so its gradient is NaN, as torch's."""

    @staticmethod
    def forward(ctx, a, axes, keepdim, largest=True):
        out = (a.max if largest else a.min)(axis=axes, keepdims=True)
        ctx.save_for_backward(a == out)
        ctx.args = (axes, keepdim)
        return out if keepdim else out.reshape([n for i, n in enumerate(out.shape) if axes and i not in axes])

    @staticmethod
    def backward(ctx, g):
        (hit,) = ctx.saved_tensors
        axes, keepdim = ctx.args
        g = _expand_back(g, hit.shape, axes, keepdim)
        count = hit.sum(axis=axes, keepdims=True)
        with numpy.errstate(divide="ignore", invalid="ignore"):  # 0 * inf = NaN where no element equals a NaN
            return hit * xp_of(g).broadcast_to(g / count, hit.shape)


class VarStd(Op):
    """Variance, or its square root, with torch's values and backward formulas.

    The backward is torch's closed form, not the chain through mean, square and sqrt: at zero
    spread the sqrt's derivative is infinite and the chain gives 0 * inf = NaN where torch gives 0.
    """

    @staticmethod
    def forward(ctx, a, axes, keepdim, correction, take_sqrt, n, n_backward):
        xp = xp_of(a)
        if a.size == 0:
            out = xp.full(a.sum(axis=axes, keepdims=keepdim).shape, xp.nan, dtype=a.dtype)
        else:
            wide = accumulation_dtype(a)  # float16 is centred and summed in float32, as torch's
            centred = _centred(a if wide is None else a.astype(wide), axes)
            with numpy.errstate(divide="ignore", invalid="ignore"):  # n <= correction: inf or NaN, as torch
                out = (centred * centred).sum(axis=axes, keepdims=keepdim) / builtins.max(0, n - correction)
                if take_sqrt:
                    out = xp.sqrt(out)
            if wide is not None:
                out = out.astype(a.dtype)
        ctx.save_for_backward(a, out if take_sqrt else None)
        ctx.args = (axes, keepdim, correction, n_backward)
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        axes, keepdim, correction, n = ctx.args
        xp = xp_of(g)
        if 0 in a.shape:
            return xp.zeros_like(a)
        with numpy.errstate(divide="ignore", invalid="ignore"):
            if out is not None:  # torch's std_backward: d sqrt(v) = dv / (2 sqrt(v)), taken as 0 where v is 0
                g = select(out != 0, g / (out * 2))
            g = _expand_back(g, a.shape, axes, keepdim)
            centred = a - a.mean(axis=axes, keepdims=True)
            if n is None:  # torch's whole-tensor form, for no degree of freedom: NaN at the mean, else inf
                return g * xp.where(centred == 0, xp.nan, xp.inf)  # cast back to a's dtype after
            # Along dims torch divides by n - correction as it is: 0 gives inf, a negative count a negative scale.
            scale = 2.0 / (n - correction) if n != correction else math.inf
            return scale * g * centred

    @staticmethod
    def backward_scratch(ctx, grad_nbytes, numel):
        shape, dtype = ctx.input_meta[0]
        numel = math.prod(shape)
        # a - mean and the scaled gradient; a mean along dims also fills NumPy's buffer
        buffered = builtins.min(numel, numpy.getbufsize()) * dtype.itemsize if ctx.args[0] is not None else 0
        return numel * dtype.itemsize + 2 * grad_nbytes + buffered


def _centred(a: Any, axes: tuple | None) -> Any:
    """``a`` minus its mean over ``axes``.

    torch reduces to one element in two passes (mean, then squared deviations), but to several
    elements with Welford's algorithm, which gives exact zeros for a constant slice where a mean
    of equal values can be off by a rounding. Subtracting each slice's first element first gives
    those zeros too.
    """
    if axes is not None and a.size != math.prod(a.shape[ax] for ax in axes):
        a = a - a[tuple(slice(0, 1) if ax in axes else slice(None) for ax in range(a.ndim))]
    return a - a.mean(axis=axes, keepdims=True)


class ValuesIndices(NamedTuple):
    values: TensorBase
    indices: TensorBase


def sum(input: TensorBase, dim: Any = None, keepdim: bool = False, *, dtype: Any = None, axis: Any = UNSET,
        keepdims: Any = UNSET) -> TensorBase:
    dim, keepdim = dim_alias("sum", dim, axis), keepdim_alias("sum", keepdim, keepdims)
    if dtype is not None:
        input = input.to(dtype)
    elif input._data.dtype.kind in "biu" and input._data.dtype.itemsize < 8 or input._data.dtype.kind == "b":
        input = input.to(_dtype.int64)  # torch sums integers and bools in int64
    out = Sum.apply(input, _axes(dim, input._data.ndim), keepdim)
    return named(out, "SumBackward0" if dim is None else "SumBackward1")


def mean(input: TensorBase, dim: Any = None, keepdim: bool = False, *, dtype: Any = None, axis: Any = UNSET,
         keepdims: Any = UNSET) -> TensorBase:
    dim, keepdim = dim_alias("mean", dim, axis), keepdim_alias("mean", keepdim, keepdims)
    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind not in "fc":
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either a floating point or "
                           f"complex dtype. Got: {_dtype.SCALAR_TYPE_NAMES[input.dtype.name]}")
    out = Mean.apply(input, _axes(dim, input._data.ndim), keepdim)
    return named(out, "MeanBackward0" if dim is None else "MeanBackward1")


def _max_min(a: TensorBase, dim: Any, keepdim: bool, largest: bool) -> Any:
    if dim is None:
        if a._data.size == 0:
            raise RuntimeError(f"{'max' if largest else 'min'}(): Expected reduction dim to be specified for "
                               "input.numel() == 0. Specify the reduction dim with the 'dim' argument.")
        return named(MaxMin.apply(a, largest), "MaxBackward1" if largest else "MinBackward1")
    if isinstance(dim, TensorBase):  # torch.max(a, b) is the elementwise maximum
        return (maximum if largest else minimum)(a, dim)
    (axis,) = _axes(dim, a._data.ndim) or (0,)
    _check_nonempty("max" if largest else "min", a._data, axis)
    if a._data.ndim == 0:  # torch accepts dim 0 or -1 here: the value itself, index 0 (keepdim or not)
        return ValuesIndices(*MaxMinDim.apply(a.reshape(1), 0, False, largest))
    values, indices = MaxMinDim.apply(a, axis, keepdim, largest)
    return ValuesIndices(named(values, "MaxBackward0" if largest else "MinBackward0"), indices)


def max(input: TensorBase, dim: Any = None, keepdim: bool = False, *, axis: Any = UNSET, keepdims: Any = UNSET) -> Any:
    """The largest element; with ``dim``, the largest values along it and their positions, as torch.max.

    Differs from torch: with ``dim`` the result is a ``ValuesIndices`` named tuple, printed as such where torch
    prints ``torch.return_types.max``.
    """
    dim, keepdim = dim_alias("max", dim, axis), keepdim_alias("max", keepdim, keepdims)
    return _max_min(input, dim, keepdim, True)


def min(input: TensorBase, dim: Any = None, keepdim: bool = False, *, axis: Any = UNSET, keepdims: Any = UNSET) -> Any:
    """The smallest element; with ``dim``, the smallest values along it and their positions, as torch.min.

    Differs from torch: with ``dim`` the result is a ``ValuesIndices`` named tuple, printed as such where torch
    prints ``torch.return_types.min``.
    """
    dim, keepdim = dim_alias("min", dim, axis), keepdim_alias("min", keepdim, keepdims)
    return _max_min(input, dim, keepdim, False)


def _amax_amin(name: str, a: TensorBase, dim: Any, keepdim: bool, largest: bool) -> TensorBase:
    axes = _axes(dim, a._data.ndim)
    if axes is None:
        if a._data.size == 0:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. Specify "
                               f"the reduction dim with the 'dim' argument.")
    else:
        for axis in axes:
            _check_nonempty(name, a._data, axis)
    return named(AMaxMin.apply(a, axes, keepdim, largest), "AmaxBackward0" if largest else "AminBackward0")


def amax(input: TensorBase, dim: Any = (), keepdim: bool = False) -> TensorBase:
    """The largest values over ``dim`` (every dim by default); the gradient is shared between ties."""
    return _amax_amin("amax", input, dim, keepdim, True)


def amin(input: TensorBase, dim: Any = (), keepdim: bool = False) -> TensorBase:
    """The smallest values over ``dim`` (every dim by default); the gradient is shared between ties."""
    return _amax_amin("amin", input, dim, keepdim, False)


def _check_numel(name: str, a: TensorBase) -> None:
    if a._data.size == 0:
        raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")


def argmax(input: TensorBase, dim: int | None = None, keepdim: bool = False, *, axis: Any = UNSET,
           keepdims: Any = UNSET) -> TensorBase:
    dim, keepdim = dim_alias("argmax", dim, axis), keepdim_alias("argmax", keepdim, keepdims)
    if dim is None:
        _check_numel("argmax", input)
        return input._wrap(input._data.argmax())
    (axis,) = _axes(dim, input._data.ndim) or (0,)
    _check_nonempty("argmax", input._data, axis)
    return input._wrap(input._data.argmax(axis=axis, keepdims=keepdim))


def argmin(input: TensorBase, dim: int | None = None, keepdim: bool = False, *, axis: Any = UNSET,
           keepdims: Any = UNSET) -> TensorBase:
    dim, keepdim = dim_alias("argmin", dim, axis), keepdim_alias("argmin", keepdim, keepdims)
    if dim is None:
        _check_numel("argmin", input)
        return input._wrap(input._data.argmin())
    (axis,) = _axes(dim, input._data.ndim) or (0,)
    _check_nonempty("argmin", input._data, axis)
    return input._wrap(input._data.argmin(axis=axis, keepdims=keepdim))


def var(input: TensorBase, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
        correction: Any = None, axis: Any = UNSET, keepdims: Any = UNSET) -> TensorBase:
    dim, keepdim = dim_alias("var", dim, axis), keepdim_alias("var", keepdim, keepdims)
    return _var_std("var", input, dim, unbiased, keepdim, correction)


def std(input: TensorBase, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
        correction: Any = None, axis: Any = UNSET, keepdims: Any = UNSET) -> TensorBase:
    dim, keepdim = dim_alias("std", dim, axis), keepdim_alias("std", keepdim, keepdims)
    return _var_std("std", input, dim, unbiased, keepdim, correction)


def _var_std(name: str, a: TensorBase, dim: Any, unbiased: Any, keepdim: bool, correction: Any) -> TensorBase:
    # torch's positional order is (dim, unbiased, keepdim): x.var(0, False) is the biased variance
    # along dim 0, and x.var(False) (a bool alone) the biased variance of all elements.
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    if a._data.dtype.kind not in "fc":
        raise RuntimeError("std and var only support floating point and complex dtypes")
    shape = a._data.shape
    axes = _axes(dim, len(shape))
    outputs = 1 if axes is None else math.prod(size for ax, size in enumerate(shape) if ax not in axes)
    n = a._data.size // outputs if outputs else 0  # elements per output
    if n - correction <= 0:
        warnings.warn(f"{name}(): degrees of freedom is <= 0. Correction should be strictly less than the "
                      "reduction factor (input numel divided by output numel).", stacklevel=3)
    # torch's backward takes a whole-tensor form without a dim (or for a 0-dim tensor), which differs
    # only where n <= correction, and a per-dim form with one, even dim=[], where it counts one
    # element per output (so its gradient is 2 / (1 - correction) times the deviation).
    if dim is None or not shape:
        n_backward = n if n - correction > 0 else None
    else:
        n_backward = math.prod(shape[ax] for ax in axes) if axes is not None else 1
    return VarStd.apply(a, axes, keepdim, correction, name == "std", n, n_backward)
