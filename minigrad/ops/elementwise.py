"""Elementwise ops. Each class keeps its forward and its backward side by side.

``backward`` returns one gradient per forward argument (None where none is
needed); gradients may keep the broadcast shape: the autograd base sums them
back to each input's shape.
"""

from __future__ import annotations

import math
from typing import Any

import numpy

from .. import _backend, _dtype
from .._backend import xp_of
from ..autograd.graph import TensorBase, named
from ._base import Op, as_tensor_like, broadcast_message, mask_cast_bytes, product_scratch, promote, run

_SAME_SIZE_INT = {numpy.dtype(f"f{n}"): numpy.dtype(f"i{n}") for n in (2, 4, 8)}


def select(mask: Any, g: Any) -> Any:
    """``g`` where ``mask`` (which broadcasts to g's shape), else 0, as a new array: torch's masked
    backwards select, so a NaN or inf gradient stops at the mask (``g * mask`` would make it NaN).

    The product runs on g's bits read as integers: times 1 they are g exactly, times 0 they are
    +0.0. That costs about what ``g * mask`` does, where NumPy's ``where`` branches per element and
    is many times slower on a random mask. The result is written through an integer view of a
    new float array, so that the engine sees an array it owns, not a view.
    """
    xp = xp_of(g)
    itype = None if isinstance(g, TensorBase) else _SAME_SIZE_INT.get(g.dtype)  # tensors: a recorded where
    if itype is None:
        return xp.where(mask, g, 0)
    out = xp.empty_like(g)
    xp.multiply(g.view(itype), mask, out=out.view(itype))
    return out


class Add(Op):
    grad_kinds = ("pass", "pass")

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, g):
        return g, g


class Sub(Op):
    grad_kinds = ("pass", "new")

    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, g):
        return g, (-g if ctx.needs_input_grad[1] else None)


class Mul(Op):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(b if ctx.needs_input_grad[0] else None, a if ctx.needs_input_grad[1] else None)
        return a * b

    @staticmethod
    def backward(ctx, g):
        b, a = ctx.saved_tensors
        return (g * b if b is not None else None), (g * a if a is not None else None)


class Div(Op):
    @staticmethod
    def forward(ctx, a, b):
        out = a / b
        # d(a/b)/db = -out/b: keep b and out, not a.
        ctx.save_for_backward(b, out if ctx.needs_input_grad[1] else None)
        return out

    @staticmethod
    def backward(ctx, g):
        b, out = ctx.saved_tensors
        ga = g / b if ctx.needs_input_grad[0] else None
        gb = -g * out / b if ctx.needs_input_grad[1] else None
        return ga, gb


class Pow(Op):
    @staticmethod
    def forward(ctx, a, b):
        out = _integer_power(a, b) if _negative_integers(b) and _is_integer(a) else a**b
        ctx.save_for_backward(a, b, out if ctx.needs_input_grad[1] else None)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved_tensors
        xp = xp_of(g)
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = g * b * a ** (b - 1)
            if not isinstance(b, (int, float)) or b == 0:
                # torch's convention: 0 where the exponent is 0 (not 0 * 0**-1 = nan at a == 0).
                ga = xp.where(b == 0, 0.0, ga)
        if ctx.needs_input_grad[1]:
            # torch's convention: 0 where the base is 0 and the exponent >= 0 (log(0) would give nan there),
            # applied to the derivative before the product, so a NaN gradient stays NaN as in torch.
            gb = g * xp.where((a == 0) & (b >= 0), 0.0, out * xp.log(a))
        return ga, gb

    @staticmethod
    def backward_scratch(ctx, grad_nbytes, numel):
        return product_scratch(grad_nbytes)


class Neg(Op):
    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, g):
        return -g


class Exp(Op):
    @staticmethod
    def forward(ctx, a):
        out = xp_of(a).exp(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * out


class Log(Op):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return xp_of(a).log(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g / a


class Sqrt(Op):
    @staticmethod
    def forward(ctx, a):
        out = xp_of(a).sqrt(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g / (2 * out)


class Sin(Op):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return xp_of(a).sin(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * xp_of(a).cos(a)


class Cos(Op):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return xp_of(a).cos(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return -g * xp_of(a).sin(a)


class Abs(Op):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return xp_of(a).abs(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * run(Sign, a)  # 0 at NaN, as torch's sgn (NumPy's sign gives NaN)


class Tanh(Op):
    @staticmethod
    def forward(ctx, a):
        out = xp_of(a).tanh(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * (1 - out * out)

    @staticmethod
    def backward_scratch(ctx, grad_nbytes, numel):
        return product_scratch(grad_nbytes)


class Sigmoid(Op):
    @staticmethod
    def forward(ctx, a):
        xp = xp_of(a)
        # exp of a non-positive number only: no overflow for large |a|.
        e = xp.exp(-xp.abs(a))
        out = xp.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype, copy=False)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * out * (1 - out)

    @staticmethod
    def backward_scratch(ctx, grad_nbytes, numel):
        return product_scratch(grad_nbytes)


class Relu(Op):
    @staticmethod
    def forward(ctx, a):
        out = xp_of(a).maximum(a, 0)
        ctx.save_for_backward(out)  # the output is kept anyway by the next op, the mask would be extra
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return select(out != 0, g)  # out is > 0, 0 or NaN: torch's threshold_backward passes NaN's gradient

    @staticmethod
    def backward_scratch(ctx, grad_nbytes, numel):
        return numel + mask_cast_bytes(grad_nbytes, numel)  # the mask, one byte per element, and its cast


class Clamp(Op):
    @staticmethod
    def forward(ctx, a, min=None, max=None):
        ctx.save_for_backward(a)
        ctx.bounds = (min, max)
        return xp_of(a).clip(a, min, max)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        lo, hi = ctx.bounds
        keep = True
        if lo is not None:
            keep = a >= lo
        if hi is not None:
            keep = keep & (a <= hi)
        return select(keep, g)


class Maximum(Op):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return xp_of(a).maximum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        xp = xp_of(g)
        # torch's rule: ties split the gradient evenly, else it goes to the larger input; a NaN compares
        # false both ways, so there both inputs get it.
        shared = xp.where(a == b, g * 0.5, g)
        return select(~(a < b), shared), select(~(a > b), shared)


class Minimum(Op):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return xp_of(a).minimum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        xp = xp_of(g)
        shared = xp.where(a == b, g * 0.5, g)  # as Maximum, mirrored
        return select(~(a > b), shared), select(~(a < b), shared)


class Where(Op):
    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.save_for_backward(cond)
        return xp_of(cond).where(cond, a, b)

    @staticmethod
    def backward(ctx, g):
        (cond,) = ctx.saved_tensors
        return None, select(cond, g), select(~cond, g)


class Log1p(Op):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return xp_of(a).log1p(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g / (1 + a)

    @staticmethod
    def backward_scratch(ctx, grad_nbytes, numel):
        return grad_nbytes  # 1 + a


class Expm1(Op):
    @staticmethod
    def forward(ctx, a):
        out = xp_of(a).expm1(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * (out + 1)

    @staticmethod
    def backward_scratch(ctx, grad_nbytes, numel):
        return grad_nbytes  # out + 1


class Rsqrt(Op):
    @staticmethod
    def forward(ctx, a):
        with numpy.errstate(divide="ignore", invalid="ignore"):  # inf at 0 and NaN below 0, as torch
            out = 1 / xp_of(a).sqrt(a)
        ctx.save_for_backward(out)
        return out.astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return -0.5 * g * out * out * out

    @staticmethod
    def backward_scratch(ctx, grad_nbytes, numel):
        return product_scratch(grad_nbytes)


class Reciprocal(Op):
    @staticmethod
    def forward(ctx, a):
        with numpy.errstate(divide="ignore"):
            out = (1 / a).astype(a.dtype, copy=False)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return -g * out * out

    @staticmethod
    def backward_scratch(ctx, grad_nbytes, numel):
        return product_scratch(grad_nbytes)


_erf_host = numpy.frompyfunc(math.erf, 1, 1)


def _erf(a: Any) -> Any:
    """erf elementwise: math.erf on the host (correctly rounded to about 1 ulp, as torch's), CuPy's own on a GPU."""
    if isinstance(a, numpy.ndarray) and type(a) is numpy.ndarray:
        return numpy.asarray(_erf_host(a), dtype=a.dtype)  # frompyfunc gives a Python float for 0-dim a
    import cupyx.scipy.special  # only reached with CuPy arrays

    return cupyx.scipy.special.erf(a)


class Erf(Op):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return _erf(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * (2 / math.sqrt(math.pi)) * xp_of(a).exp(-a * a)

    @staticmethod
    def backward_scratch(ctx, grad_nbytes, numel):
        return product_scratch(grad_nbytes)


class _Piecewise(Op):
    """A piecewise-constant function: its gradient is 0 everywhere, as torch defines it at the jumps too."""

    @staticmethod
    def backward(ctx, g):
        return xp_of(g).zeros_like(g)


class Floor(_Piecewise):
    @staticmethod
    def forward(ctx, a):
        return xp_of(a).floor(a)


class Ceil(_Piecewise):
    @staticmethod
    def forward(ctx, a):
        return xp_of(a).ceil(a)


class Trunc(_Piecewise):
    @staticmethod
    def forward(ctx, a):
        return xp_of(a).trunc(a)


class Round(_Piecewise):
    @staticmethod
    def forward(ctx, a, decimals=0):
        # NumPy's round is torch's: half to even on a * 10**d (on a / 10**-d for negative d).
        return xp_of(a).round(a, decimals)


class Sign(_Piecewise):
    @staticmethod
    def forward(ctx, a):
        # Two comparisons, as torch: sign(NaN) and sign(-0.0) are 0 (NumPy's sign gives NaN and -0.0).
        return (a > 0).astype(a.dtype) - (a < 0)


class FloorDivide(Op):
    @staticmethod
    def forward(ctx, a, b):
        with numpy.errstate(divide="ignore", invalid="ignore"):
            return xp_of(a).floor_divide(a, b)

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError("the derivative for 'floor_divide' is not implemented.")


class Remainder(Op):
    grad_kinds = ("pass", "new")

    @staticmethod
    def forward(ctx, a, b):
        xp = xp_of(a if hasattr(a, "dtype") else b)
        ctx.save_for_backward(*((a, b) if ctx.needs_input_grad[1] else (None, None)))
        with numpy.errstate(divide="ignore", invalid="ignore"):
            return xp.remainder(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        gb = None
        if ctx.needs_input_grad[1]:
            with numpy.errstate(divide="ignore", invalid="ignore"):
                gb = -g * xp_of(g).floor_divide(a, b)
        return (g if ctx.needs_input_grad[0] else None), gb

    @staticmethod
    def backward_scratch(ctx, grad_nbytes, numel):
        return product_scratch(grad_nbytes)


class RemainderOfNumber(Remainder):
    """number % tensor: torch has no derivative for it, and says so only when backward reaches it."""

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError("derivative for aten::remainder is not implemented")


class NanToNum(Op):
    @staticmethod
    def forward(ctx, a, nan=0.0, posinf=None, neginf=None):
        xp = xp_of(a)
        ctx.save_for_backward(xp.isfinite(a))  # the mask, a byte an element, rather than a
        return xp.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, g):
        (finite,) = ctx.saved_tensors
        return select(finite, g)


class To(Op):
    """A dtype and/or device change; the gradient goes back to the source dtype and device."""

    grad_kinds = ("pass",)

    @staticmethod
    def forward(ctx, a, dtype=None, device=None):
        ctx.source = (a.dtype, _backend.device_of(a))
        if device is not None:
            a = _backend.move(a, device)
        if dtype is not None:
            a = a.astype(dtype.np, copy=False)
        return a

    @staticmethod
    def backward(ctx, g):
        dtype, device = ctx.source
        return run(To, g, _dtype.from_numpy_dtype(dtype), device)


class Clone(Op):
    grad_kinds = ("pass",)

    @staticmethod
    def forward(ctx, a):
        return a.copy()

    @staticmethod
    def backward(ctx, g):
        return g


# -- the functions users call -----------------------------------------------------------------


def _is_integer(v: Any) -> bool:
    return getattr(v, "dtype", numpy.dtype(type(v))).kind in "iub"


def _negative_integers(b: Any) -> bool:
    return getattr(b, "dtype", None) is not None and b.dtype.kind == "i" and bool((b < 0).any())


def _integer_power(a: Any, b: Any) -> Any:
    """torch's integer power where exponents are negative (NumPy refuses them): 1 ** b is 1,
    (-1) ** b is -1 or 1 as b is odd or even, any other base gives 0 (1 / a truncated)."""
    xp = xp_of(b)
    negative = b < 0
    out = a ** xp.where(negative, 0, b)
    inverse = xp.where(a == 1, 1, xp.where(a == -1, 1 - 2 * (b & 1), 0))
    return xp.where(negative, inverse, out).astype(out.dtype, copy=False)


def _binary(op: type, a: Any, b: Any) -> TensorBase:
    """``op.apply(a, b)``, with torch's RuntimeError where NumPy refuses to broadcast the shapes."""
    try:
        return op.apply(a, b)
    except ValueError:
        message = broadcast_message(a._data.shape if isinstance(a, TensorBase) else (),
                                    b._data.shape if isinstance(b, TensorBase) else ())
        if message is None:
            raise
        raise RuntimeError(message) from None


def _floating(a: Any) -> Any:
    """Integer and bool tensors as the default float dtype (what torch's float-valued ops compute in)."""
    if isinstance(a, TensorBase) and a._data.dtype.kind in "iub":
        return a.to(_dtype.get_default_dtype())
    return a


def add(input: Any, other: Any, *, alpha: Any = 1) -> TensorBase:
    input, other = promote(input, other)
    return _binary(Add, input, other if alpha == 1 else other * alpha)


def sub(input: Any, other: Any, *, alpha: Any = 1) -> TensorBase:
    input, other = promote(input, other)
    return _binary(Sub, input, other if alpha == 1 else other * alpha)


def mul(input: Any, other: Any) -> TensorBase:
    return _binary(Mul, *promote(input, other))


def div(input: Any, other: Any) -> TensorBase:
    input, other = promote(input, other)
    # torch's "/" is true division: integer and bool tensors become the default float dtype first
    # (both of them: NumPy would turn float32 / int64 into float64).
    return _binary(Div, _floating(input), _floating(other))


def pow(input: Any, exponent: Any) -> TensorBase:
    if isinstance(exponent, numpy.generic):
        exponent = exponent.item()
    if isinstance(input, TensorBase) and input._data.dtype.kind in "iub" and not isinstance(exponent, TensorBase):
        if isinstance(exponent, int) and not isinstance(exponent, bool) and exponent < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        if input._data.dtype.kind == "b" and isinstance(exponent, bool):  # stays bool in torch (NumPy: int8)
            return input._wrap(input._data.copy() if exponent else xp_of(input._data).ones_like(input._data))
        if input._data.dtype.kind == "b" and isinstance(exponent, int):
            input = input.to(_dtype.int64)  # torch: a bool tensor to an integer power is int64 (NumPy: int8)
    elif isinstance(input, TensorBase) and input._data.dtype.kind == "b" and isinstance(exponent, TensorBase):
        if exponent._data.dtype.kind == "b":
            raise NotImplementedError("\"pow\" not implemented for 'Bool'")
        if exponent._data.dtype.kind in "iu":
            input = input.to(_dtype.from_numpy_dtype(exponent._data.dtype))
    out = _binary(Pow, *promote(input, exponent))
    return named(out, "PowBackward1") if isinstance(exponent, TensorBase) and out.grad_fn is not None and \
        out.grad_fn.fn is Pow else out


def neg(input: TensorBase) -> TensorBase:
    return Neg.apply(input)


def exp(input: TensorBase) -> TensorBase:
    return Exp.apply(_floating(input))


def log(input: TensorBase) -> TensorBase:
    return Log.apply(_floating(input))


def sqrt(input: TensorBase) -> TensorBase:
    return Sqrt.apply(_floating(input))


def sin(input: TensorBase) -> TensorBase:
    return Sin.apply(_floating(input))


def cos(input: TensorBase) -> TensorBase:
    return Cos.apply(_floating(input))


def abs(input: TensorBase) -> TensorBase:
    return Abs.apply(input)


def tanh(input: TensorBase) -> TensorBase:
    return Tanh.apply(_floating(input))


def sigmoid(input: TensorBase) -> TensorBase:
    return Sigmoid.apply(_floating(input))


def relu(a: TensorBase) -> TensorBase:
    return Relu.apply(a)


def clamp(input: TensorBase, min: Any = None, max: Any = None) -> TensorBase:
    if min is None and max is None:
        raise RuntimeError("minigrad.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, float) or isinstance(max, float):  # an integer tensor clamped to float bounds is float
        input = _floating(input)
    return named(Clamp.apply(input, min, max), "ClampBackward1")


def maximum(input: TensorBase, other: TensorBase) -> TensorBase:
    return _binary(Maximum, *promote(input, other))


def minimum(input: TensorBase, other: TensorBase) -> TensorBase:
    return _binary(Minimum, *promote(input, other))


def where(condition: TensorBase, input: Any, other: Any) -> TensorBase:
    if not isinstance(input, TensorBase) and not isinstance(other, TensorBase):
        # torch.where(mask, 1.0, 0.0): two Python scalars give a tensor of their common type
        # (the default float dtype for floats, int64 for ints), on the condition's device.
        both_int = all(isinstance(v, int) for v in (input, other))
        input = as_tensor_like(input if both_int else float(input), condition)
    input, other = promote(input, other)
    return Where.apply(condition, input, other)


def to(a: TensorBase, dtype: Any = None, device: Any = None) -> TensorBase:
    if dtype is not None and a._data.dtype == dtype.np:
        dtype = None
    if device is not None and _backend.device_of(a._data) == device:
        device = None
    if dtype is None and device is None:
        return a
    return named(To.apply(a, dtype, device), "ToCopyBackward0")


def clone(input: TensorBase) -> TensorBase:
    return Clone.apply(input)


def log1p(input: TensorBase) -> TensorBase:
    return named(Log1p.apply(_floating(input)), "Log1PBackward0")


def expm1(input: TensorBase) -> TensorBase:
    return Expm1.apply(_floating(input))


def rsqrt(input: TensorBase) -> TensorBase:
    return Rsqrt.apply(_floating(input))


def reciprocal(input: TensorBase) -> TensorBase:
    return Reciprocal.apply(_floating(input))


def erf(input: TensorBase) -> TensorBase:
    return Erf.apply(_floating(input))


def _rounding(op: type, name: str, a: TensorBase, *args: Any) -> TensorBase:
    kind = a._data.dtype.kind
    if kind == "b":
        raise NotImplementedError(f"\"{name}_vml_cpu\" not implemented for 'Bool'")
    if kind in "iu":  # already whole numbers: torch returns a copy of the same dtype
        return a._wrap(a._data.copy())
    return op.apply(a, *args)


def floor(input: TensorBase) -> TensorBase:
    return _rounding(Floor, "floor", input)


def ceil(input: TensorBase) -> TensorBase:
    return _rounding(Ceil, "ceil", input)


def trunc(input: TensorBase) -> TensorBase:
    return _rounding(Trunc, "trunc", input)


def round(input: TensorBase, *, decimals: int = 0) -> TensorBase:
    if decimals == 0:
        return _rounding(Round, "round", input)
    if input._data.dtype.kind != "f":
        name = _dtype.SCALAR_TYPE_NAMES[_dtype.from_numpy_dtype(input._data.dtype).name]
        raise NotImplementedError(f"\"round_cpu\" not implemented for '{name}'")
    return named(Round.apply(input, decimals), "RoundBackward1")


def sign(input: TensorBase) -> TensorBase:
    if input._data.dtype.kind == "b":
        return input._wrap(input._data.copy())
    return Sign.apply(input)


def _integer_division(op: type, name: str, a: Any, b: Any) -> TensorBase:
    a, b = promote(a, b)
    kinds = {v._data.dtype.kind if isinstance(v, TensorBase) else "f" if isinstance(v, float) else "i" for v in (a, b)}
    if all(isinstance(v, TensorBase) and v._data.dtype.kind == "b" for v in (a, b)):
        raise NotImplementedError(f"\"{name}_cpu\" not implemented for 'Bool'")
    if "f" not in kinds:
        divisor = b._data if isinstance(b, TensorBase) else b
        if bool((divisor == 0).any() if hasattr(divisor, "any") else divisor == 0):
            raise RuntimeError("ZeroDivisionError")  # torch's wording; NumPy would return 0 silently
    return _binary(op, a, b)


def _not_implemented(out: TensorBase) -> TensorBase:
    """torch's name for the node of an op without a derivative."""
    return named(out, "torch::autograd::NotImplemented") if out.grad_fn is not None else out


def floor_divide(input: Any, other: Any) -> TensorBase:
    return _not_implemented(_integer_division(FloorDivide, "div_floor", input, other))


def remainder(input: Any, other: Any) -> TensorBase:
    if not isinstance(input, TensorBase):
        return _not_implemented(_integer_division(RemainderOfNumber, "remainder", input, other))
    out = _integer_division(Remainder, "remainder", input, other)
    return named(out, "RemainderBackward1") if isinstance(other, TensorBase) and out.grad_fn is not None else out


def isnan(input: TensorBase) -> TensorBase:
    return input._wrap(xp_of(input._data).isnan(input._data))


def isinf(input: TensorBase) -> TensorBase:
    return input._wrap(xp_of(input._data).isinf(input._data))


def isfinite(input: TensorBase) -> TensorBase:
    return input._wrap(xp_of(input._data).isfinite(input._data))


def nan_to_num(input: TensorBase, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> TensorBase:
    if input._data.dtype.kind != "f":  # nothing to replace in integers and bools
        return input._wrap(input._data.copy())
    return NanToNum.apply(input, nan, posinf, neginf)


def lerp(input: TensorBase, end: TensorBase, weight: Any) -> TensorBase:
    """``input + weight * (end - input)``, by torch's formula: for ``|weight| >= 0.5`` it is computed as
    ``end - (end - input) * (1 - weight)``, which is exact at ``weight == 1``. ``weight`` is a number or a tensor;
    the three broadcast."""
    if not isinstance(end, TensorBase):
        kinds = ", ".join(type(v).__name__ if not isinstance(v, TensorBase) else "Tensor" for v in (input, end, weight))
        raise TypeError(f"lerp() received an invalid combination of arguments - got ({kinds}), but expected one "
                        "of:\n * (Tensor input, Tensor end, Tensor weight, *, Tensor out = None)\n"
                        " * (Tensor input, Tensor end, Number weight, *, Tensor out = None)\n")
    tensor_weight = isinstance(weight, TensorBase)
    names = _dtype.C_TYPE_NAMES
    if end._data.dtype != input._data.dtype:
        raise RuntimeError(f"expected dtype {names[input.dtype.name]} for `end` but got dtype {names[end.dtype.name]}")
    if tensor_weight and weight._data.ndim and weight._data.dtype != input._data.dtype:
        raise RuntimeError(f"expected dtype {names[input.dtype.name]} for `weight` but got dtype "
                           f"{names[weight.dtype.name]}")
    if input._data.dtype.kind != "f":
        kernel = "lerp_kernel_tensor" if tensor_weight else "lerp_kernel_scalar"
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_dtype.SCALAR_TYPE_NAMES[input.dtype.name]}'")
    shape = input._data.shape
    for other in (end, weight) if tensor_weight else (end,):  # torch's broadcast error, operand by operand
        message = broadcast_message(shape, other._data.shape)
        if message is not None:
            raise RuntimeError(message)
        shape = numpy.broadcast_shapes(shape, other._data.shape)
    diff = end - input
    if not tensor_weight:
        out = input + weight * diff if -0.5 < weight < 0.5 else end - diff * (1 - weight)
        return named(out, "LerpBackward0")
    if weight._data.dtype.kind != "f":  # a 0-dim integer or bool weight
        weight = weight.to(input.dtype)
    small = xp_of(weight._data).abs(weight._data) < 0.5
    out = where(weight._wrap(small), input + weight * diff, end - diff * (1 - weight))
    return named(out, "LerpBackward1")
