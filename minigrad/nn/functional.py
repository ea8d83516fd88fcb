"""Layers as functions: ``import minigrad.nn.functional as F``.

Activations, ``linear``, ``dropout`` and ``one_hot`` live here; the loss functions live in
``_loss_functions.py`` and are re-exported at the bottom, so ``F.cross_entropy`` works as in torch.
"""

from __future__ import annotations

import warnings
from typing import Any

from .. import _backend
from .._backend import xp_of
from ..ops import elementwise as _elementwise
from ..ops._base import Op, mask_cast_bytes
from ..ops.linalg import linear
from ..ops.softmax import log_softmax as _log_softmax
from ..ops.softmax import softmax as _softmax
from ..tensor import Tensor
from ._loss_functions import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    l1_loss,
    mse_loss,
    nll_loss,
)

# -- activations ------------------------------------------------------------------------------


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    return input.relu_() if inplace else _elementwise.relu(input)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``x`` where ``x > 0``, else ``negative_slope * x`` (so the gradient at 0 is the slope, as in torch)."""
    out = _elementwise.where(input > 0, input, input * negative_slope)
    return input.copy_(out) if inplace else out  # recorded as a write of the result into input


def tanh(input: Tensor) -> Tensor:
    return _elementwise.tanh(input)


def sigmoid(input: Tensor) -> Tensor:
    return _elementwise.sigmoid(input)


def _softmax_dim(name: str, ndim: int, stacklevel: int) -> int:
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X "
                  "as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    if dim is None:
        dim = _softmax_dim("softmax", input.dim(), _stacklevel)
    return _softmax(input, dim, dtype)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    if dim is None:
        dim = _softmax_dim("log_softmax", input.dim(), _stacklevel)
    return _log_softmax(input, dim, dtype)


# -- dropout ----------------------------------------------------------------------------------


class NativeDropout(Op):
    """Zero each element with probability ``p`` and scale the kept ones by ``1 / (1 - p)``.

    Scaling during training ("inverted" dropout) keeps the expected value of every element,
    so nothing needs rescaling at inference. Backward keeps only the mask (one byte per element).
    """

    @staticmethod
    def forward(ctx, a, p):
        keep = _backend.rng(_backend.device_of(a)).random(a.shape) >= p  # True with probability 1 - p
        ctx.scale = 1.0 / (1.0 - p) if p < 1 else 0.0  # p = 1 gives zeros, not 0 * inf = NaN
        ctx.save_for_backward(keep)
        return _scaled_product(a, keep, ctx.scale)

    @staticmethod
    def backward(ctx, g):
        (keep,) = ctx.saved_tensors
        return _scaled_product(g, keep, ctx.scale)

    @staticmethod
    def backward_scratch(ctx, grad_nbytes, numel):
        return mask_cast_bytes(grad_nbytes, numel)  # g * mask, the mask being saved already


def _scaled_product(a: Any, mask: Any, scale: float) -> Any:
    """``a * mask * scale`` in ``a``'s dtype, as an array even when 0-dim (NumPy would give a scalar)."""
    out = xp_of(a).multiply(a, mask, out=xp_of(a).empty_like(a))
    out *= scale
    return out


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Dropout with a new random mask at each call; the identity (the same tensor) when not training."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not 0.0 <= p <= 1.0:  # NaN: torch's Python check lets it through, its native one does not
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0 or input.numel() == 0:
        return input
    out = NativeDropout.apply(input, p)
    return input.copy_(out) if inplace else out  # recorded as a write of the result into input


# -- encoding ---------------------------------------------------------------------------------


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Class indices (int64) to rows of zeros with a one at the index: shape ``(*tensor.shape, num_classes)``."""
    a = tensor._data
    if a.dtype.kind != "i" or a.dtype.itemsize != 8:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    xp = xp_of(a)
    if a.size and int(a.min()) < 0:
        raise RuntimeError("Class values must be non-negative.")
    if num_classes == -1:
        num_classes = int(a.max()) + 1 if a.size else 0
    elif a.size and int(a.max()) >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    return Tensor._wrap((a[..., None] == xp.arange(num_classes)).astype(a.dtype))

__all__ = ["binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "dropout", "l1_loss",
           "leaky_relu", "linear", "log_softmax", "mse_loss", "nll_loss", "one_hot", "relu", "sigmoid", "softmax",
           "tanh"]
