"""Shared helpers for the built-in ops: the op base class and torch's type promotion."""

from __future__ import annotations

import builtins
from typing import Any

import numpy

from .. import _dtype
from ..autograd.function import Function
from ..tensor import Tensor


class Op(Function):
    """A built-in op: forward and backward work on raw arrays (NumPy or CuPy), not tensors."""

    raw = True


def as_tensor_like(value: Any, like: Tensor) -> Tensor:
    """Turn an array-like operand into a tensor on ``like``'s device."""
    from .._factories import tensor

    return tensor(value, device=like.device)


def promote(a: Any, b: Any) -> tuple:
    """Apply torch's promotion rules where NumPy's differ.

    * an integer or bool tensor with a Python float becomes the default float dtype;
    * a float tensor with an integer tensor keeps the float dtype;
    * a 0-dim tensor of the same kind does not widen a tensor with dimensions.
    Python scalars stay Python scalars, so NumPy keeps the tensor's dtype (NEP 50).
    """
    if isinstance(a, numpy.generic):
        a = a.item()
    if isinstance(b, numpy.generic):
        b = b.item()
    ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
    if ta and tb:
        da, db = a._data.dtype, b._data.dtype
        if da == db:
            return a, b
        ka, kb = da.kind == "f", db.kind == "f"
        if ka != kb:
            return (a, b.to(_dtype.from_numpy_dtype(da))) if ka else (a.to(_dtype.from_numpy_dtype(db)), b)
        if a._data.ndim == 0 and b._data.ndim > 0:
            return a.to(_dtype.from_numpy_dtype(db)), b
        if b._data.ndim == 0 and a._data.ndim > 0:
            return a, b.to(_dtype.from_numpy_dtype(da))
        return a, b
    t, s = (a, b) if ta else (b, a)
    if not isinstance(s, (builtins.int, builtins.float, builtins.bool)):
        s = as_tensor_like(s, t)
        return promote(a if ta else s, s if ta else b)
    if isinstance(s, builtins.float) and t._data.dtype.kind in "iub":
        t = t.to(_dtype.get_default_dtype())
    return (t, s) if ta else (s, t)
