"""The built-in differentiable ops, as the functions ``minigrad.add``, ``minigrad.sum`` ...

Each module keeps an op's forward and backward side by side (an ``Op`` subclass), with the
function that calls it. The ops see tensors only through ``TensorBase``
(minigrad/autograd/graph.py) and the methods their arguments have, so they never import
minigrad/tensor.py; that module imports them and makes them ``Tensor``'s methods and
operators.
"""

from .cumulative import cumprod, cumsum, logsumexp, prod
from .einsum import einsum
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
from .norms import norm
from .rearrange import (
    chunk,
    flip,
    index_select,
    masked_fill,
    masked_select,
    narrow,
    repeat,
    repeat_interleave,
    roll,
    scatter,
    scatter_add,
    split,
    take_along_dim,
    tile,
    unbind,
    unflatten,
)
from .reduction import amax, amin, argmax, argmin, max, mean, min, std, sum, var
from .shape import cat, expand, flatten, permute, reshape, squeeze, stack, t, transpose, unsqueeze, view
from .softmax import log_softmax, softmax
from .sorting import argsort, sort, topk, unique

__all__ = ["abs", "add", "cos", "sin",
           "amax", "amin", "argmax", "argmin", "cat", "clamp", "clone", "div", "exp", "expand", "flatten", "gather",
           "linear", "log", "log_softmax", "matmul", "max", "maximum", "mean", "min", "minimum", "mul", "neg",
           "permute", "pow", "relu", "reshape", "sigmoid", "softmax", "sqrt", "squeeze", "stack", "std", "sub",
           "sum", "t", "tanh", "transpose", "unsqueeze", "var", "view", "where",
           "argsort", "chunk", "cumprod", "cumsum", "einsum", "flip", "index_select", "logsumexp", "masked_fill",
           "masked_select", "narrow", "norm", "prod", "repeat", "repeat_interleave", "roll", "scatter", "scatter_add",
           "sort", "split", "take_along_dim", "tile", "topk", "unbind", "unflatten", "unique"]

