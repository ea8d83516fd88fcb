"""The built-in differentiable ops, as the functions ``minigrad.add``, ``minigrad.sum`` ...

Each module keeps an op's forward and backward side by side (an ``Op`` subclass), with the
function that calls it. The ops see tensors only through ``TensorBase``
(minigrad/autograd/graph.py) and the methods their arguments have, so they never import
minigrad/tensor.py; that module imports them and makes them ``Tensor``'s methods and
operators.
"""

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

