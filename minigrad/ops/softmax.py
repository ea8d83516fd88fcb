"""softmax and log_softmax along a dim, computed stably (the row maximum is subtracted first)."""

from __future__ import annotations

from typing import Any

from .._backend import xp_of
from ..autograd.graph import TensorBase
from ._base import Op, product_scratch, widened
from .reduction import UNSET, dim_alias


class Softmax(Op):
    @staticmethod
    def forward(ctx, a, axis):
        xp = xp_of(a)
        if a.size == 0:  # torch gives an empty result; NumPy has no max of an empty dim
            out = a.copy()
            ctx.save_for_backward(out)
            ctx.axis = axis
            return out
        (wide,) = widened(a)  # float16 computes in float32, as torch's kernels, rounded once at the end
        e = xp.exp(wide - wide.max(axis=axis, keepdims=True))
        out = (e / e.sum(axis=axis, keepdims=True)).astype(a.dtype, copy=False)
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, g):
        g, out = widened(g, *ctx.saved_tensors)
        return out * (g - (g * out).sum(axis=ctx.axis, keepdims=True))

    @staticmethod
    def backward_scratch(ctx, grad_nbytes, numel):
        return product_scratch(grad_nbytes)


class LogSoftmax(Op):
    @staticmethod
    def forward(ctx, a, axis):
        xp = xp_of(a)
        if a.size == 0:  # as Softmax
            out = a.copy()
            ctx.save_for_backward(out)
            ctx.axis = axis
            return out
        (wide,) = widened(a)  # as Softmax
        shifted = wide - wide.max(axis=axis, keepdims=True)
        out = (shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))).astype(a.dtype, copy=False)
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, g):
        g, out = widened(g, *ctx.saved_tensors)
        return g - xp_of(out).exp(out) * g.sum(axis=ctx.axis, keepdims=True)

    @staticmethod
    def backward_scratch(ctx, grad_nbytes, numel):
        return product_scratch(grad_nbytes)


def _axis(a: TensorBase, dim: int | None) -> int:
    n = a._data.ndim
    if dim is None:  # torch's legacy implicit dim
        dim = 0 if n in (0, 1, 3) else 1
    if not -max(n, 1) <= dim < max(n, 1):
        raise IndexError(f"Dimension out of range (expected to be in range of [{-max(n, 1)}, {max(n, 1) - 1}], "
                         f"but got {dim})")
    return dim % max(n, 1)


def softmax(input: TensorBase, dim: int | None = None, dtype: object = None, *, axis: Any = UNSET) -> TensorBase:
    dim = dim_alias("softmax", dim, axis)
    if dtype is not None:
        input = input.to(dtype)
    return Softmax.apply(input, _axis(input, dim))


def log_softmax(a: TensorBase, dim: int | None = None, dtype: object = None, *, axis: Any = UNSET) -> TensorBase:
    dim = dim_alias("log_softmax", dim, axis)
    if dtype is not None:
        a = a.to(dtype)
    return LogSoftmax.apply(a, _axis(a, dim))
