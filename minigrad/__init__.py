"""minigrad: a small, exact reverse-mode autograd framework with torch's API, on NumPy or CuPy.

``import minigrad as torch`` runs the torch subset that minigrad implements.
"""

import builtins as _builtins
import functools as _functools
import typing as _typing

from ._backend import device
from ._dtype import (bool, double, dtype, float, float16, float32, float64, get_default_dtype, half, int, int8,
                     int16, int32, int64, long, set_default_dtype, short, uint8)
from ._factories import (arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like, linspace, ones,
                         ones_like, rand, rand_like, randint, randn, randn_like, randperm, tensor, zeros, zeros_like)
from ._format import set_printoptions
from ._missing import missing_attribute as _missing_attribute
from ._grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .autograd.anomaly_mode import is_anomaly_check_nan_enabled, is_anomaly_enabled
from .ops import (abs, add, amax, amin, argmax, argmin, argsort, cat, chunk, clamp, clone, cos, cumprod, cumsum, div,
                  einsum, exp, flatten, flip, gather, index_select, log, log_softmax, logsumexp, masked_fill,
                  masked_select, matmul,
                  max, maximum, mean, min, minimum, mul, narrow, neg, norm, permute, pow, prod, relu, repeat_interleave,
                  reshape, roll, scatter, scatter_add, sigmoid, sin, softmax, sort, split, sqrt, squeeze, stack, std,
                  sub, sum, t, take_along_dim, tanh, tile, topk, transpose, unbind, unflatten, unique, unsqueeze, var,
                  where)
from .ops.linalg import bmm, dot, mm
from .ops.comparison import isclose, nonzero
from .ops.distance import cdist, dist
from .ops.elementwise import lerp
from .ops.matrix import diag, outer, trace, tril, triu
from .ops.stacking import hstack, meshgrid, vstack
from .ops.elementwise import (ceil, erf, expm1, floor, floor_divide, isfinite, isinf, isnan, log1p,
                              nan_to_num, reciprocal, remainder, round, rsqrt, sign, trunc)
from ._factories import DoubleTensor, FloatTensor, LongTensor, logspace, normal
from .ops.sampling import bernoulli, multinomial
from .ops.counting import argwhere, bincount, count_nonzero, cross, diff, histc
from .tensor import Size, Tensor
from . import random
from .random import (Generator, default_generator, get_rng_state, initial_seed, manual_seed, seed,
                     set_rng_state)
from ._settings import (are_deterministic_algorithms_enabled, get_deterministic_debug_mode, get_num_threads,
                        is_deterministic_algorithms_warn_only_enabled, set_deterministic_debug_mode,
                        set_num_threads, use_deterministic_algorithms)

clip = clamp
concat = concatenate = cat

from . import accelerator, autograd, backends, cuda, distributed, linalg, nn, optim, utils  # noqa: E402
from . import viz  # noqa: E402,F401
from . import amp  # noqa: E402
from .amp import autocast, get_autocast_dtype, is_autocast_available, is_autocast_enabled  # noqa: E402,F401
from . import memory  # noqa: E402,F401
from .serialization import load, save  # noqa: E402

__version__ = "0.1.0"


def __getattr__(name: str) -> _typing.Any:
    if name == "bfloat16":  # torch's CPU autocast default; say why it is missing instead of a bare AttributeError
        raise AttributeError("module 'minigrad' has no attribute 'bfloat16': NumPy and CuPy have no bfloat16 "
                             "dtype. Use minigrad.float16 (e.g. minigrad.autocast(\"cpu\", dtype=minigrad.float16))")
    raise _missing_attribute(__name__, name)  # names the torch function and points at docs/api.md


def is_tensor(obj: object) -> _builtins.bool:
    return isinstance(obj, Tensor)


def square(input: Tensor) -> Tensor:
    """``input * input``, recorded as torch records it (``PowBackward0``)."""
    return input.square()


def numel(input: Tensor) -> _builtins.int:
    return input.numel()


def allclose(input: Tensor, other: Tensor, rtol: _builtins.float = 1e-05, atol: _builtins.float = 1e-08,
             equal_nan: _builtins.bool = False) -> _builtins.bool:
    return input.allclose(other, rtol, atol, equal_nan)


def equal(input: Tensor, other: Tensor) -> _builtins.bool:
    return input.equal(other)


def all(input: Tensor, dim: _builtins.int | None = None, keepdim: _builtins.bool = False) -> Tensor:
    return input.all(dim, keepdim)


def any(input: Tensor, dim: _builtins.int | None = None, keepdim: _builtins.bool = False) -> Tensor:
    return input.any(dim, keepdim)




def compile(model: _typing.Any = None, **kwargs: _typing.Any) -> _typing.Any:
    """torch.compile's signature with nothing to compile: the model or function comes back unchanged.

    Called with options only (``@compile(mode="max-autotune")``) it gives a decorator, as torch's does.

    Differs from torch: nothing is compiled or traced; the model or function is returned as it is, and every
    option (``mode``, ``backend``, ``fullgraph``, ``dynamic`` and the rest) is ignored.
    """
    if model is None:
        return lambda fn: fn
    return model
