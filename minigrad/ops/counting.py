"""Counting and differencing: ``bincount``, ``histc``, ``argwhere``, ``count_nonzero`` (no gradient), and
``diff`` and ``cross``, which are composed of differentiable ops (so they have first and second derivatives).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy

from .. import _dtype
from .._backend import device_of, xp_of
from ..autograd.graph import TensorBase
from ._base import promote
from .elementwise import mul, sub
from .rearrange import narrow
from .shape import _dim, cat


def _kernel_name(name: str, t: TensorBase) -> str:
    return f'"{name}_{"cpu" if device_of(t._data).type == "cpu" else "cuda"}"'


def bincount(input: TensorBase, weights: TensorBase | None = None, minlength: int = 0) -> TensorBase:
    """How often each value ``0, 1, ... max(input)`` occurs in the 1-D non-negative integer ``input`` (int64), or
    the sum of ``weights`` at each value: float32 for float32 weights, float64 for any other dtype, as torch's.

    Differs from torch: the result never requires grad (torch's says so, then raises at backward)."""
    data = input._data
    if data.dtype.kind not in "iu":
        raise NotImplementedError(f"{_kernel_name('bincount', input)} not implemented for "
                                  f"'{_dtype.SCALAR_TYPE_NAMES[input.dtype.name]}'")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    xp = xp_of(data)
    if data.ndim != 1 or (data.size and bool(data.min() < 0)):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is None:
        return input._wrap(xp.bincount(data, minlength=minlength).astype(numpy.int64))
    w = weights._data
    if w.ndim != 1 or w.shape[0] != data.shape[0]:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    out_dtype = numpy.float32 if w.dtype == numpy.float32 else numpy.float64
    out = xp.bincount(data, weights=w.astype(numpy.float64), minlength=minlength)
    return input._wrap(out.astype(out_dtype))


def _torch_number(v: float) -> str:
    return f"{v:g}"


def histc(input: TensorBase, bins: int = 100, min: Any = 0, max: Any = 0) -> TensorBase:
    """A histogram of ``input``'s values in ``bins`` equal bins over ``[min, max]``, as torch's: a value equal to
    ``max`` goes in the last bin, values outside are left out, and ``min == max`` takes the data's range (widened
    by 1 on each side if it is a single value). The bin of a value is computed in ``input``'s dtype, as torch's."""
    data = input._data
    if data.dtype.kind != "f":
        raise NotImplementedError(f"{_kernel_name('histogram', input)} not implemented for "
                                  f"'{_dtype.SCALAR_TYPE_NAMES[input.dtype.name]}'")
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    xp = xp_of(data)
    ft = data.dtype.type
    lo, hi = ft(min), ft(max)
    if lo == hi and data.size:
        lo, hi = data.min(), data.max()
        lo, hi = ft(lo.item()), ft(hi.item())
    if lo == hi:
        lo, hi = ft(lo - 1), ft(hi + 1)
    if not (numpy.isfinite(lo) and numpy.isfinite(hi)):
        raise RuntimeError(f"torch.histc: range of [{_torch_number(float(lo))}, {_torch_number(float(hi))}] is not "
                           "finite")
    if not lo < hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    flat = data.reshape(-1)
    kept = flat[(flat >= lo) & (flat <= hi)]
    with numpy.errstate(over="ignore", invalid="ignore"):
        pos = ((kept - lo) / (hi - lo) * ft(bins)).astype(numpy.int64)
    pos = xp.minimum(pos, bins - 1)
    counts = xp.bincount(pos, minlength=bins)
    return input._wrap(counts.astype(data.dtype))


def argwhere(input: TensorBase) -> TensorBase:
    """The indices of the non-zero elements of ``input``, one row each (int64, shape ``(n, input.dim())``)."""
    data = input._data
    found = xp_of(data).argwhere(data).astype(numpy.int64)
    return input._wrap(found.reshape(found.shape[0], data.ndim))


def count_nonzero(input: TensorBase, dim: Any = None) -> TensorBase:
    """How many elements are non-zero, in all of ``input`` or along ``dim`` (an int or a tuple of ints); int64."""
    data = input._data
    ndim = max(data.ndim, 1)
    if dim is None:
        axes = None
    else:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        axes = []
        for d in dims:
            a = _dim(d, ndim)
            if a in axes:
                raise RuntimeError(f"dim {a} appears multiple times in the list of dims")
            axes.append(a)
        axes = tuple(axes) if axes and data.ndim else None
    out = xp_of(data).count_nonzero(data, axis=axes)
    return input._wrap(xp_of(data).asarray(out, dtype=numpy.int64))


def _check_edge(input: TensorBase, t: TensorBase, dim: int, name: str) -> None:
    if not isinstance(t, TensorBase):
        raise TypeError(f"diff(): argument '{name}' must be Tensor, not {type(t).__name__}")
    if t._data.ndim != input._data.ndim:
        raise RuntimeError("diff expects prepend or append to be the same dimension as input")
    for d, (a, b) in enumerate(zip(input._data.shape, t._data.shape)):
        if d != dim and a != b:
            raise RuntimeError("diff expects the shape of tensor to prepend or append to match that of input except "
                               f"along the differencing dimension; input.size({d}) = {a}, but got tensor.size({d}) "
                               f"= {b}")


def diff(input: TensorBase, n: int = 1, dim: int = -1, prepend: TensorBase | None = None,
         append: TensorBase | None = None) -> TensorBase:
    """The ``n``-th forward difference along ``dim`` (``out[i] = input[i + 1] - input[i]``, applied ``n`` times),
    after joining ``prepend`` and ``append`` to ``input`` along ``dim``; for bool tensors ``!=``, as torch."""
    if input._data.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    dim = _dim(dim, input._data.ndim)
    parts = []
    for name, t in (("prepend", prepend), ("input", input), ("append", append)):
        if t is None:
            continue
        if t is not input:
            _check_edge(input, t, dim, name)
        parts.append(t)
    x = parts[0]
    if len(parts) > 1:
        for p in parts[1:]:
            if p._data.dtype != x._data.dtype:
                x, _ = promote(x, p)
        target = x.dtype
        x = cat([p if p.dtype == target else p.to(target) for p in parts], dim)
    for _ in range(n):
        length = x._data.shape[dim]
        if length == 0:
            break
        later, earlier = narrow(x, dim, 1, length - 1), narrow(x, dim, 0, length - 1)
        x = later != earlier if x._data.dtype == numpy.bool_ else sub(later, earlier)
    return x


def _cross(input: TensorBase, other: TensorBase, dim: int, shown_dim: int) -> TensorBase:
    if input._data.ndim != other._data.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    if input._data.dtype != other._data.dtype:
        names = _dtype.SCALAR_TYPE_NAMES
        raise RuntimeError(f"expected scalar type {names[input.dtype.name]} but found {names[other.dtype.name]}")
    d = _dim(dim, max(input._data.ndim, 1))
    a_len, b_len = input._data.shape[d], other._data.shape[d]
    if a_len != 3 or b_len != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {shown_dim} must have length 3. Got {a_len} and {b_len}")
    a = [narrow(input, d, k, 1) for k in range(3)]
    b = [narrow(other, d, k, 1) for k in range(3)]
    return cat([sub(mul(a[1], b[2]), mul(a[2], b[1])), sub(mul(a[2], b[0]), mul(a[0], b[2])),
                sub(mul(a[0], b[1]), mul(a[1], b[0]))], d)


def cross(input: TensorBase, other: TensorBase, dim: int | None = None) -> TensorBase:
    """The cross product of 3-vectors along ``dim`` (the two tensors broadcast over the other dims). Without
    ``dim``, the first dim of size 3 (with torch's deprecation warning)."""
    if dim is None:
        if input._data.ndim != other._data.ndim:
            raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the dim "
                      "explicitly or simply use torch.linalg.cross.\nThe default value of dim will change to agree "
                      "with that of linalg.cross in a future release.", UserWarning, stacklevel=2)
        shape = numpy.broadcast_shapes(input._data.shape, other._data.shape)
        dim = next((i for i, s in enumerate(shape) if s == 3), -1)
    return _cross(input, other, dim, dim)


def linalg_cross(input: TensorBase, other: TensorBase, *, dim: int = -1) -> TensorBase:
    """torch.linalg.cross: the cross product of 3-vectors along ``dim`` (default the last)."""
    return _cross(input, other, dim, dim)


__all__ = ["argwhere", "bincount", "count_nonzero", "cross", "diff", "histc", "linalg_cross"]
