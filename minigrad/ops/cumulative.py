"""Products and running sums: ``cumsum``, ``cumprod``, ``prod``, and ``logsumexp`` (a composition).

``Cumsum``, ``Cumprod`` and ``Prod`` are ops of their own; each backward is written once in NumPy's words and
other ops (``run``), so that it runs on arrays for ``backward()`` and on tensors, recorded, for
``create_graph=True``. Zeros need care: ``Prod`` multiplies the products to the left and to the right of each
element instead of dividing the product by it, and ``Cumprod`` divides only where no input is zero.
"""

from __future__ import annotations

from typing import Any

from .. import _dtype
from .._backend import xp_of
from ..autograd.graph import TensorBase, named
from ._base import Op, run
from .elementwise import exp, log
from .rearrange import Flip, array_module, const_like
from .reduction import UNSET, _axes, dim_alias, keepdim_alias
from .reduction import sum as _sum
from .shape import Cat, _dim


def _reverse_cumsum(x: Any, axis: int) -> Any:
    """``x[..., k]`` replaced by the sum of ``x[..., k:]`` along ``axis``."""
    return run(Flip, run(Cumsum, run(Flip, x, (axis,)), axis), (axis,))


class Cumsum(Op):
    @staticmethod
    def forward(ctx, a, axis):
        ctx.axis = axis
        return xp_of(a).cumsum(a, axis=axis)

    @staticmethod
    def backward(ctx, g):
        return _reverse_cumsum(g, ctx.axis)


class Cumprod(Op):
    @staticmethod
    def forward(ctx, a, axis):
        out = xp_of(a).cumprod(a, axis=axis)
        ctx.axis = axis % a.ndim
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        axis = ctx.axis
        if not (getattr(a, "_data", a) == 0).any():
            return _reverse_cumsum(g * out, axis) / a
        # With zeros: d out[j] / d a[k] = prod(a[i] for i <= j, i != k) for j >= k. Along the last axis,
        # row k of an (n, n) matrix holds a with a 1 at k; its cumulative product is that, for every j.
        xp = xp_of(g)
        n = a.shape[axis]
        consts = array_module(a)
        am = xp.swapaxes(a, axis, -1)
        gm = xp.swapaxes(g, axis, -1)
        eye = const_like(a, consts.eye(n, dtype=bool))
        rows = xp.where(eye, 1.0, am[..., None, :])
        # [k, j]: 1 where j >= k
        upper = const_like(a, consts.triu(consts.ones((n, n), dtype=getattr(a, "_data", a).dtype)))
        grad = (run(Cumprod, rows, -1) * (gm[..., None, :] * upper)).sum(axis=-1)
        return xp.swapaxes(grad, axis, -1)


def _others_product(a: Any, axis: int) -> Any:
    """For each element, the product of the other elements along ``axis`` (no division: exact with zeros)."""
    n = a.shape[axis]
    lead = (slice(None),) * axis
    consts = array_module(a)
    one_shape = a.shape[:axis] + (1,) + a.shape[axis + 1:]
    ones = const_like(a, consts.ones(one_shape, dtype=getattr(a, "_data", a).dtype))
    before = _concat([ones, a[(*lead, slice(0, n - 1))]], axis)
    after = _concat([a[(*lead, slice(1, n))], ones], axis)
    left = run(Cumprod, before, axis)
    right = run(Flip, run(Cumprod, run(Flip, after, (axis,)), axis), (axis,))
    return left * right


def _concat(parts: list, axis: int) -> Any:
    if isinstance(parts[0], TensorBase):
        return Cat.apply(axis, *parts)
    return xp_of(parts[0]).concatenate(parts, axis=axis)


class Prod(Op):
    @staticmethod
    def forward(ctx, a, axis, keepdim):
        ctx.args = (axis, keepdim)
        ctx.save_for_backward(a)
        return a.prod(axis=axis, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        axis, keepdim = ctx.args
        xp = xp_of(g)
        if a.shape[axis] == 0:
            return xp.zeros_like(a)
        if not keepdim:
            g = xp.expand_dims(g, axis)
        return g * _others_product(a, axis)


def _int_to_long(a: TensorBase, dtype: Any) -> TensorBase:
    if dtype is not None:
        return a.to(dtype)
    if a._data.dtype.kind in "biu":
        return a.to(_dtype.int64)  # torch accumulates integers and bools in int64
    return a


def _cumulative(op: type, name: str, a: TensorBase, dim: Any, dtype: Any, axis: Any) -> TensorBase:
    """cumsum / cumprod: torch's argument checks and dtype rule, then ``op`` along one dim (a 0-dim tensor as 1-dim)."""
    dim = dim_alias(name, dim, axis, UNSET)
    if dim is UNSET:
        raise TypeError(f"{name}() received an invalid combination of arguments - got (), but expected one of:\n"
                        " * (int dim, *, torch.dtype dtype = None)")
    a = _int_to_long(a, dtype)
    ax = _dim(dim, max(a._data.ndim, 1))
    label = op.__name__ + "Backward0"
    if a._data.ndim == 0:
        return named(op.apply(a.reshape(1), 0).reshape(()), label)
    return named(op.apply(a, ax), label)


def cumsum(input: TensorBase, dim: Any = UNSET, *, dtype: Any = None, axis: Any = UNSET) -> TensorBase:
    return _cumulative(Cumsum, "cumsum", input, dim, dtype, axis)


def cumprod(input: TensorBase, dim: Any = UNSET, *, dtype: Any = None, axis: Any = UNSET) -> TensorBase:
    return _cumulative(Cumprod, "cumprod", input, dim, dtype, axis)


def prod(input: TensorBase, dim: Any = None, keepdim: bool = False, *, dtype: Any = None, axis: Any = UNSET,
         keepdims: Any = UNSET) -> TensorBase:
    dim, keepdim = dim_alias("prod", dim, axis), keepdim_alias("prod", keepdim, keepdims)
    input = _int_to_long(input, dtype)
    if dim is None:
        return named(Prod.apply(input.reshape(-1), 0, False), "ProdBackward0")
    ax = _dim(dim, max(input._data.ndim, 1))
    if input._data.ndim == 0:
        return named(Prod.apply(input.reshape(1), 0, False), "ProdBackward1")
    return named(Prod.apply(input, ax, keepdim), "ProdBackward1")


def logsumexp(a: TensorBase, dim: Any = UNSET, keepdim: bool = False, *, axis: Any = UNSET,
              keepdims: Any = UNSET) -> TensorBase:
    """log(sum(exp(a))) along ``dim``, computed after subtracting the maximum (a constant: no gradient flows
    through it, and none is needed, as the result does not depend on it)."""
    dim, keepdim = dim_alias("logsumexp", dim, axis, UNSET), keepdim_alias("logsumexp", keepdim, keepdims)
    if dim is UNSET:
        raise TypeError("logsumexp() missing 1 required positional arguments: \"dim\"")
    if a._data.dtype.kind not in "fc":
        a = a.to(_dtype.get_default_dtype())
    data = a._data
    axes = _axes(dim, data.ndim)
    xp = xp_of(data)
    if data.size == 0:
        m = xp.zeros(data.sum(axis=axes, keepdims=True).shape, dtype=data.dtype)
    else:
        m = data.max(axis=axes, keepdims=True)
        m = xp.where(xp.isinf(m), 0, m)
    shift = a._wrap(m)
    s = _sum(exp(a - shift), dim=axes if axes is not None else None, keepdim=True)
    out = log(s) + shift
    if not keepdim:
        out = out.reshape(data.sum(axis=axes).shape) if axes is not None or data.ndim else out.reshape(())
    return named(out, "LogsumexpBackward0")


__all__ = ["cumsum", "cumprod", "prod", "logsumexp"]
