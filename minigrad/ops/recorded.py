"""NumPy's names for tensors, made of recorded ops: what ``xp_of(tensor)`` gives.

Every op's backward is written once, in NumPy's words (``g * out``, ``xp.where(mask, g, 0)``,
``xp.expand_dims(g, 1)``). The first-order backward runs it on arrays, where ``xp`` is NumPy or
CuPy and nothing is recorded. A recorded backward (``create_graph=True``) runs the same code on
tensors: operators are ``Tensor``'s, and ``xp_of(tensor)`` is a ``Recorded`` namespace bound to
that tensor, whose functions are minigrad's ops. The gradients that come out have a history, so
they can be differentiated again.

Only the names the backward formulas use are here, with NumPy's semantics (``split`` takes split
points, ``take`` one index along an axis, dtypes are NumPy's). Where NumPy would write into an
``out=`` array, these return a new tensor instead: the formulas use the result either way.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy

from .. import _dtype
from .._backend import device_of, xp_of, xp_of_device
from ..autograd.graph import TensorBase
from . import elementwise, shape
from ._base import Op
from .indexing import GetItem


class ZeroDerivative(Op):
    """``a``, recorded as depending on ``other`` with a zero derivative (see ``zero_derivative_wrt``)."""

    grad_kinds = ("pass",)
    returns_view = True

    @staticmethod
    def forward(ctx, a, other):
        ctx.other = (other.shape, other.dtype)
        return a.view()  # the same values: a view, sharing a's version counter

    @staticmethod
    def backward(ctx, g):
        shape, dtype = ctx.other
        return g, xp_of(g).zeros(shape, dtype=dtype)


class Recorded:
    """NumPy's functions used by backward formulas, on tensors, each a recorded op."""

    nan = numpy.nan
    inf = numpy.inf

    def __init__(self, like: TensorBase) -> None:
        self._like = like  # gives new constants their device and tensor type
        self._xp = xp_of_device(device_of(like._data))

    def _tensor(self, value: Any) -> TensorBase:
        """``value`` as a tensor: tensors as they are, arrays and numbers as constants on this device."""
        if isinstance(value, TensorBase):
            return value
        return self._like._wrap(self._xp.asarray(value))

    def _operand(self, value: Any) -> Any:
        """A second operand: numbers stay numbers (they keep the tensor's dtype), arrays become constants."""
        return value if isinstance(value, (int, float, bool)) else self._tensor(value)

    # -- elementwise -----------------------------------------------------------------------
    def exp(self, a: Any) -> TensorBase:
        return elementwise.exp(self._tensor(a))

    def log(self, a: Any) -> TensorBase:
        return elementwise.log(self._tensor(a))

    def log1p(self, a: Any) -> TensorBase:
        return elementwise.Log1p.apply(self._tensor(a))

    def sqrt(self, a: Any) -> TensorBase:
        return elementwise.sqrt(self._tensor(a))

    def sin(self, a: Any) -> TensorBase:
        return elementwise.sin(self._tensor(a))

    def cos(self, a: Any) -> TensorBase:
        return elementwise.cos(self._tensor(a))

    def tanh(self, a: Any) -> TensorBase:
        return elementwise.tanh(self._tensor(a))

    def abs(self, a: Any) -> TensorBase:
        return elementwise.abs(self._tensor(a))

    def maximum(self, a: Any, b: Any, out: Any = None) -> TensorBase:
        return elementwise.maximum(self._tensor(a), b)

    def minimum(self, a: Any, b: Any, out: Any = None) -> TensorBase:
        return elementwise.minimum(self._tensor(a), b)

    def where(self, cond: Any, a: Any, b: Any) -> TensorBase:
        cond = self._tensor(cond)
        if not isinstance(a, TensorBase) and not isinstance(b, TensorBase):  # constants only
            return self._like._wrap(self._xp.where(cond._data, a, b))
        return elementwise.Where.apply(cond, a, b)

    def floor_divide(self, a: Any, b: Any) -> TensorBase:
        """No derivative (torch's floor division has none): a constant."""
        return self._like._wrap(self._xp.floor_divide(getattr(a, "_data", a), getattr(b, "_data", b)))

    def astype(self, a: TensorBase, dtype: Any, copy: bool = True) -> TensorBase:
        return a if a._data.dtype == dtype else elementwise.To.apply(a, _dtype.from_numpy_dtype(numpy.dtype(dtype)))

    def copy(self, a: TensorBase, order: str = "K") -> TensorBase:
        return elementwise.Clone.apply(a)

    def zero_derivative_wrt(self, a: TensorBase, other: TensorBase) -> TensorBase:
        """``a`` itself, recorded as a function of ``other`` with a zero derivative (Node._apply_backward_recorded)."""
        return ZeroDerivative.apply(a, other)

    # -- new constants ---------------------------------------------------------------------
    def zeros(self, shape: Any, dtype: Any = float) -> TensorBase:
        return self._like._wrap(self._xp.zeros(shape, dtype=dtype))

    def zeros_like(self, a: Any) -> TensorBase:
        return self._like._wrap(self._xp.zeros_like(getattr(a, "_data", a)))

    # -- shapes ----------------------------------------------------------------------------
    def broadcast_to(self, a: TensorBase, to: tuple) -> TensorBase:
        return shape.Expand.apply(a, tuple(to))

    def expand_dims(self, a: TensorBase, axis: int) -> TensorBase:
        s = list(a._data.shape)
        s.insert(axis if axis >= 0 else len(s) + axis + 1, 1)
        return shape.Reshape.apply(a, tuple(s))

    def transpose(self, a: TensorBase, axes: Any) -> TensorBase:
        return shape.Permute.apply(a, tuple(axes))

    def swapaxes(self, a: TensorBase, i: int, j: int) -> TensorBase:
        axes = list(range(a._data.ndim))
        axes[i], axes[j] = axes[j], axes[i]
        return shape.Permute.apply(a, tuple(axes))

    def take(self, a: TensorBase, i: int, axis: int) -> TensorBase:
        return GetItem.apply(a, (slice(None),) * (axis % a._data.ndim) + (i, Ellipsis))

    def stack(self, arrays: Any, axis: int = 0) -> TensorBase:
        return shape.stack(list(arrays), axis)

    def split(self, a: TensorBase, points: list, axis: int) -> list:
        bounds = [0, *points, a._data.shape[axis]]
        lead = (slice(None),) * (axis % a._data.ndim)
        return [GetItem.apply(a, (*lead, slice(lo, hi), Ellipsis)) for lo, hi in itertools.pairwise(bounds)]

    def multiply(self, a: Any, b: Any, out: Any = None) -> TensorBase:
        return self._tensor(a) * self._operand(b)

    def divide(self, a: Any, b: Any, out: Any = None) -> TensorBase:
        return self._tensor(a) / self._operand(b)

    def subtract(self, a: Any, b: Any, out: Any = None) -> TensorBase:
        return self._tensor(a) - self._operand(b)

    def empty_like(self, a: Any) -> TensorBase:
        return self.zeros_like(a)
