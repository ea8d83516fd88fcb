"""Vector and matrix norms: ``Tensor.norm``, ``torch.norm`` and ``torch.linalg``'s ``vector_norm`` and ``norm``.

``VectorNorm`` is one op with torch's backward conventions (a zero norm has a zero gradient; the extremes of
an inf-norm share the gradient evenly), written once in NumPy's words so that a recorded backward runs it on
tensors. Matrix norms compose vector norms, sums and maxima.
"""

from __future__ import annotations

import math
from typing import Any

import numpy

from .. import _dtype
from .._backend import xp_of
from ..autograd.graph import TensorBase, named
from ._base import Op
from .elementwise import abs as _abs
from .rearrange import array_module, const_like
from .reduction import _axes
from .reduction import max as _max
from .reduction import min as _min
from .reduction import sum as _sum


def _data(x: Any) -> Any:
    return getattr(x, "_data", x)


class VectorNorm(Op):
    @staticmethod
    def forward(ctx, a, ord, axes, keepdim):
        xp = xp_of(a)
        ctx.args = (ord, axes, keepdim)
        absa = xp.abs(a)
        if ord == math.inf:
            out = absa.max(axis=axes, keepdims=keepdim)
        elif ord == -math.inf:
            out = absa.min(axis=axes, keepdims=keepdim)
        elif ord == 0:
            out = (a != 0).sum(axis=axes, keepdims=keepdim).astype(a.dtype)
        elif ord == 1:
            out = absa.sum(axis=axes, keepdims=keepdim)
        elif ord == 2:
            out = xp.sqrt((absa * absa).sum(axis=axes, keepdims=keepdim))
        else:
            with numpy.errstate(divide="ignore"):
                out = (absa ** ord).sum(axis=axes, keepdims=keepdim) ** (1.0 / ord)
        out = xp.asarray(out, dtype=a.dtype)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        ord, axes, keepdim = ctx.args
        xp = xp_of(g)
        if ord == 0:
            return xp.zeros_like(a)
        if axes is not None and not keepdim:
            for ax in sorted(axes):
                g, out = xp.expand_dims(g, ax), xp.expand_dims(out, ax)
        consts = array_module(a)
        sign = const_like(a, consts.sign(_data(a)))
        if ord == 1:
            return g * sign
        if math.isinf(ord):  # the extremes share the gradient
            hit = consts.abs(_data(a)) == _data(out)
            share = hit / hit.sum(axis=axes, keepdims=True)
            return g * sign * const_like(a, share.astype(_data(a).dtype))
        safe = xp.where(const_like(a, _data(out) == 0), 1.0, out)  # zero norm: zero gradient (a is 0 there)
        if ord == 2:
            return g * a / safe
        with numpy.errstate(divide="ignore", invalid="ignore"):
            return g * a * xp.abs(a) ** (ord - 2) / safe ** (ord - 1)


def _float_check(name: str, a: TensorBase) -> None:
    if a._data.dtype.kind not in "fc":
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got "
                           f"{_dtype.SCALAR_TYPE_NAMES[a.dtype.name]}")


def vector_norm(x: TensorBase, ord: Any = 2, dim: Any = None, keepdim: bool = False, *,
                dtype: Any = None) -> TensorBase:
    _float_check("linalg.vector_norm", x)
    if dtype is not None:
        x = x.to(dtype)
    if isinstance(ord, str):
        raise TypeError(f"linalg_vector_norm(): argument 'ord' must be Number, not {type(ord).__name__}")
    ord = float(ord)
    axes = _axes(dim, x._data.ndim)
    if x._data.ndim == 0:
        axes = None
    if x._data.size == 0 and ord < 0 or (x._data.size == 0 and math.isinf(ord) and axes is None):
        raise RuntimeError(f"linalg.vector_norm cannot compute the {ord:g} norm on an empty tensor because the "
                           "operation does not have an identity")
    return named(VectorNorm.apply(x, ord, axes, keepdim), "LinalgVectorNormBackward0")


def matrix_norm(A: TensorBase, ord: Any = "fro", dim: Any = (-2, -1), keepdim: bool = False, *,
                dtype: Any = None) -> TensorBase:
    _float_check("linalg.matrix_norm", A)
    if A._data.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    if dtype is not None:
        A = A.to(dtype)
    d0, d1 = (d % A._data.ndim for d in dim)
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        raise NotImplementedError(f"minigrad has no singular values: linalg.matrix_norm with ord={ord!r}")
    if ord not in (1, -1, math.inf, -math.inf):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    # ord ±1: extreme column sum (over rows d0, then across d1); ±inf: extreme row sum
    over, across = (d0, d1) if abs(ord) == 1 else (d1, d0)
    sums = _sum(_abs(A), over, keepdim=True)
    pick = _max if ord > 0 else _min
    out = pick(sums, across, keepdim=True).values
    if not keepdim:
        out = out.squeeze((d0, d1))
    return out


def linalg_norm(A: TensorBase, ord: Any = None, dim: Any = None, keepdim: bool = False, *,
                dtype: Any = None) -> TensorBase:
    if dim is not None and not isinstance(dim, int):
        dim = tuple(dim)
        if len(dim) == 1:
            dim = dim[0]
    if ord is None:
        if isinstance(dim, tuple) and len(dim) == 2:
            return matrix_norm(A, "fro", dim, keepdim, dtype=dtype)
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if dim is None:
        if A._data.ndim not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got "
                               f"{A._data.ndim}D.")
        dim = 0 if A._data.ndim == 1 else (-2, -1)
    if isinstance(dim, tuple):
        return matrix_norm(A, ord, dim, keepdim, dtype=dtype)
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.vector_norm: Expected ord to be a number, got {ord}")
    return vector_norm(A, ord, dim, keepdim, dtype=dtype)


def norm(input: TensorBase, p: Any = "fro", dim: Any = None, keepdim: bool = False, dtype: Any = None) -> TensorBase:
    """torch.norm: the vector norm of the elements over ``dim`` (all by default), 'fro' being the 2-norm.

    Differs from torch: ``p='nuc'`` (the nuclear norm) raises NotImplementedError, as minigrad has no singular
    value decomposition.
    """
    if isinstance(dim, int):
        dim = (dim,)
    if p == "fro":
        if dim is not None and len(dim) > 2:
            raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(map(str, dim))}")
        p = 2
    elif p == "nuc":
        raise NotImplementedError("minigrad has no singular values: norm with p='nuc'")
    elif p is None:
        p = 2
    return vector_norm(input, p, dim, keepdim, dtype=dtype)


__all__ = ["VectorNorm", "vector_norm", "matrix_norm", "linalg_norm", "norm"]
