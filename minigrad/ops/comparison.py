"""Tests that give no gradient: ``isclose`` (elementwise closeness, a bool tensor) and ``nonzero`` (the indices
of the non-zero elements, int64)."""

from __future__ import annotations

import numpy

from .. import _dtype
from .._backend import xp_of
from ..autograd.graph import TensorBase
from ._base import broadcast_message


def isclose(input: TensorBase, other: TensorBase, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> TensorBase:
    """Where ``|input - other| <= atol + rtol * |other|`` (or the two are equal, infinities included), by torch's
    rule: the tolerance is computed in the inputs' dtype (the default float dtype for integers and bools)."""
    if not isinstance(other, TensorBase):
        raise TypeError(f"isclose(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")
    a, b = input._data, other._data
    if a.dtype != b.dtype:
        names = _dtype.SCALAR_TYPE_NAMES
        raise RuntimeError(f"{names[input.dtype.name]} did not match {names[other.dtype.name]}")
    if rtol < 0:
        raise RuntimeError(f"rtol must be greater than or equal to zero, but got {rtol:g}")
    if atol < 0:
        raise RuntimeError(f"atol must be greater than or equal to zero, but got {atol:g}")
    message = broadcast_message(a.shape, b.shape)
    if message is not None:
        raise RuntimeError(message)
    xp = xp_of(a)
    close = a == b
    if equal_nan and a.dtype.kind == "f":
        close = close | (xp.isnan(a) & xp.isnan(b))
    if rtol == 0 and atol == 0:
        return input._wrap(close)
    if a.dtype.kind != "f":  # the error as torch computes it: in the default float dtype
        wide = _dtype.get_default_dtype().np
        a, b = a.astype(wide), b.astype(wide)
    with numpy.errstate(invalid="ignore", over="ignore"):
        allowed = atol + xp.abs(rtol * b)
        actual = xp.abs(a - b)
        close = close | (xp.isfinite(actual) & (actual <= allowed))
    return input._wrap(close)


def nonzero(input: TensorBase, *, as_tuple: bool = False) -> TensorBase | tuple:
    """The indices of the non-zero elements, one row per element ``(n, input.dim())``, in row-major order; with
    ``as_tuple=True`` one index vector per dim (a 0-dim tensor counts as a vector of one element)."""
    if not isinstance(input, TensorBase):
        raise TypeError(f"nonzero(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    data = input._data
    xp = xp_of(data)
    if as_tuple:
        found = xp.nonzero(data.reshape(1) if data.ndim == 0 else data)
        return tuple(input._wrap(i.astype(numpy.int64)) for i in found)
    return input._wrap(xp.argwhere(data).astype(numpy.int64))


__all__ = ["isclose", "nonzero"]
