"""The built-in differentiable ops, and the Tensor methods and operators that call them."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from . import elementwise as _e
from . import indexing as _i
from . import linalg as _l
from . import reduction as _r
from . import shape as _s
from . import softmax as _sm
from .elementwise import (
    abs,
    add,
    clamp,
    clone,
    cos,
    div,
    exp,
    log,
    maximum,
    minimum,
    mul,
    neg,
    pow,
    relu,
    sigmoid,
    sin,
    sqrt,
    sub,
    tanh,
    where,
)
from .indexing import gather
from .linalg import linear, matmul
from .reduction import argmax, argmin, max, mean, min, std, sum, var
from .shape import cat, expand, flatten, permute, reshape, squeeze, stack, t, transpose, unsqueeze, view
from .softmax import log_softmax, softmax

__all__ = ["abs", "add", "cos", "sin",
           "argmax", "argmin", "cat", "clamp", "clone", "div", "exp", "expand", "flatten", "gather",
           "linear", "log", "log_softmax", "matmul", "max", "maximum", "mean", "min", "minimum", "mul", "neg",
           "permute", "pow", "relu", "reshape", "sigmoid", "softmax", "sqrt", "squeeze", "stack", "std", "sub",
           "sum", "t", "tanh", "transpose", "unsqueeze", "var", "view", "where"]


def _swap(fn: Any) -> Any:
    return lambda self, other: fn(other, self)


# Operators.
Tensor.__add__ = _e.add
Tensor.__radd__ = _swap(_e.add)
Tensor.__sub__ = _e.sub
Tensor.__rsub__ = _swap(_e.sub)
Tensor.__mul__ = _e.mul
Tensor.__rmul__ = _swap(_e.mul)
Tensor.__truediv__ = _e.div
Tensor.__rtruediv__ = _swap(_e.div)
Tensor.__pow__ = _e.pow
Tensor.__rpow__ = _swap(_e.pow)
Tensor.__matmul__ = _l.matmul
Tensor.__rmatmul__ = _swap(_l.matmul)
Tensor.__neg__ = _e.neg
Tensor.__abs__ = _e.abs
Tensor.__getitem__ = _i.getitem

# Methods with the same name as the function.
for _name in ("add", "sub", "sin", "cos",
              "mul", "div", "pow", "neg", "exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu",
              "clamp", "maximum", "minimum", "matmul", "sum", "mean", "max", "min", "argmax", "argmin", "var",
              "std", "reshape", "view", "flatten", "permute", "transpose", "t", "unsqueeze", "squeeze", "expand",
              "softmax", "log_softmax", "gather"):
    setattr(Tensor, _name, globals()[_name])
Tensor.clip = Tensor.clamp
Tensor.negative = Tensor.neg
Tensor.T = property(_s.T)
Tensor.mT = property(lambda self: _s.transpose(self, -2, -1))
Tensor.square = lambda self: _e.mul(self, self)
Tensor.view_as = lambda self, other: _s.reshape(self, other._data.shape)
Tensor.reshape_as = Tensor.view_as
Tensor.expand_as = lambda self, other: _s.expand(self, other._data.shape)
Tensor.type_as = lambda self, other: self.to(other.dtype)
Tensor.where = lambda self, condition, other: _e.where(condition, self, other)
Tensor.softmax = lambda self, dim, dtype=None: _sm.softmax(self, dim, dtype)
Tensor.log_softmax = lambda self, dim, dtype=None: _sm.log_softmax(self, dim, dtype)
Tensor.mm = _l.matmul
Tensor.dot = _l.matmul

