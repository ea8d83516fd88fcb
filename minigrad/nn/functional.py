"""Layers as functions: ``import minigrad.nn.functional as F``.

Activations, ``linear``, ``dropout`` and ``one_hot`` live here; the loss functions live in
``_loss_functions.py`` and are re-exported at the bottom, so ``F.cross_entropy`` works as in torch.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy

from .. import _backend, _dtype
from .._backend import xp_of
from .._grad_mode import is_grad_enabled, no_grad
from ..ops import elementwise as _elementwise
from ..ops._base import Op, mask_cast_bytes
from ..ops.conv import adaptive_avg_pool2d, avg_pool2d, conv2d, fold, max_pool2d, unfold
from ..ops.linalg import linear
from ..ops.norms import vector_norm
from ..ops.padding import pad
from ..ops.piecewise import Hardsigmoid, Hardswish
from ..ops.softmax import log_softmax as _log_softmax
from ..ops.softmax import softmax as _softmax
from ..tensor import Tensor
from ._loss_functions import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cosine_embedding_loss,
    cross_entropy,
    gaussian_nll_loss,
    hinge_embedding_loss,
    huber_loss,
    kl_div,
    l1_loss,
    margin_ranking_loss,
    mse_loss,
    multilabel_soft_margin_loss,
    nll_loss,
    poisson_nll_loss,
    smooth_l1_loss,
    triplet_margin_loss,
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


def _inplace(input: Tensor, out: Tensor, inplace: bool) -> Tensor:
    return input.copy_(out) if inplace else out  # recorded as a write of the result into input


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """``x * Φ(x)`` (Φ the normal CDF, through erf), or with ``approximate="tanh"`` torch's tanh formula."""
    if approximate == "none":
        return input * 0.5 * (1 + _elementwise.erf(input * math.sqrt(0.5)))
    if approximate == "tanh":
        inner = math.sqrt(2 / math.pi) * (input + 0.044715 * (input * input * input))
        return 0.5 * input * (1 + _elementwise.tanh(inner))
    raise RuntimeError("approximate argument must be either none or tanh.")


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * sigmoid(x)`` (also called swish)."""
    x = input.clone() if inplace else input  # the product saves x, which the write would change
    return _inplace(input, x * _elementwise.sigmoid(x), inplace)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)``; the gradient at 0 is ``alpha``, as torch's.

    The exponential sees ``min(x, 0)``: the branch that is not taken then never overflows (whose
    zero gradient times an infinite derivative would be NaN).
    """
    x = input.clone() if inplace else input  # the clamp saves x, which the write would change
    negative = _elementwise.expm1(x.clamp(max=0)) * alpha
    return _inplace(input, _elementwise.where(x <= 0, negative, x), inplace)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta * x)) / beta``, and ``x`` itself where ``beta * x > threshold`` (as torch)."""
    scaled = input * beta
    soft = _elementwise.log1p(_elementwise.exp(scaled.clamp(max=threshold))) / beta
    return _elementwise.where(scaled > threshold, input, soft)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` clamped to ``[min_val, max_val]``; as torch's, the gradient is 0 at the two bounds themselves."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    inside = (input > min_val) & (input < max_val)
    out = _elementwise.where(inside, input, input.detach().clamp(min_val, max_val))
    return _inplace(input, out, inplace)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    return hardtanh(input, 0.0, 6.0, inplace)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """``x`` where ``x > 0``, else ``weight * x``, with one weight per channel (dim 1) or one for all."""
    if weight.dim() > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.dim()}")
    channels = input.shape[1] if input.dim() >= 2 else 1
    n = weight.numel()
    if n != 1 and n != channels:
        raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter numbers = {n} "
                           f"and channel size = {channels}.")
    if n == 1:
        w = weight.reshape(())
    else:
        w = weight.reshape((1, n) + (1,) * (input.dim() - 2))
    return _elementwise.where(input > 0, input, w * input)


def relu_(input: Tensor) -> Tensor:
    """``relu`` written into ``input``."""
    return input.relu_()


def _floating_only(input: Tensor, kernel: str) -> None:
    """torch's error for an activation without an integer or bool kernel."""
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_dtype.SCALAR_TYPE_NAMES[input.dtype.name]}'")


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * tanh(softplus(x))``."""
    _floating_only(input, "mish_cpu")
    x = input.clone() if inplace else input  # the product saves x, which the write would change
    return _inplace(input, x * _elementwise.tanh(softplus(x)), inplace)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _elu(input: Tensor, alpha: float, scale: float, input_scale: float, inplace: bool) -> Tensor:
    """torch's elu kernel: ``scale * x`` where ``x > 0``, else ``alpha * scale * (exp(x * input_scale) - 1)``."""
    _floating_only(input, "elu_cpu")
    x = input.clone() if inplace else input
    clamped = x.clamp(max=0)
    negative = _elementwise.expm1(clamped * input_scale if input_scale != 1 else clamped) * (alpha * scale)
    return _inplace(input, _elementwise.where(x <= 0, negative, x * scale if scale != 1 else x), inplace)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """``scale * elu(x, alpha)`` with torch's constants (alpha ≈ 1.6733, scale ≈ 1.0507), self-normalizing."""
    return _elu(input, _SELU_ALPHA, _SELU_SCALE, 1.0, inplace)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` where ``x > 0``, else ``alpha * (exp(x / alpha) - 1)``.

    As torch's, the value uses ``1 / alpha`` and the gradient ``1 / alpha`` with ``alpha`` rounded to float32
    (torch's derivative of celu reads ``alpha`` as a float): the two differ by about 1e-8 unless ``alpha`` is a
    float32 number.
    """
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    slope = 1.0 / float(numpy.float32(alpha))
    if slope == 1.0 / alpha:
        return _elu(input, alpha, 1.0, 1.0 / alpha, inplace)
    x = input.clone() if inplace else input
    rounded = _elu(x, alpha, 1.0, slope, False)  # the gradient's formula
    exact = _elu(x.detach(), alpha, 1.0, 1.0 / alpha, False)
    return _inplace(input, rounded + (exact - rounded.detach()), inplace)


def softsign(input: Tensor) -> Tensor:
    """``x / (1 + |x|)``."""
    return input / (input.abs() + 1)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * relu6(x + 3) / 6``: 0 below -3, ``x`` above 3; the gradients are torch's at the kinks too."""
    _floating_only(input, "hardswish_cpu")
    x = input.clone() if inplace else input
    return _inplace(input, Hardswish.apply(x), inplace)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """``relu6(x + 3) / 6``: 0 below -3, 1 above 3; the gradient is 0 at -3 and 3 themselves, as torch's."""
    _floating_only(input, "hardsigmoid_cpu")
    x = input.clone() if inplace else input
    return _inplace(input, Hardsigmoid.apply(x), inplace)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """``softmax(-input)`` along ``dim``."""
    if dim is None:
        dim = _softmax_dim("softmin", input.dim(), _stacklevel)
    return _softmax(-input, dim, dtype)


# -- normalization ----------------------------------------------------------------------------


def layer_norm(input: Tensor, normalized_shape: Any, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalize over the last ``len(normalized_shape)`` dims (mean 0, biased variance 1), then scale and shift."""
    shape = [int(normalized_shape)] if isinstance(normalized_shape, int) else [int(s) for s in normalized_shape]
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and list(t.shape) != shape:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got {name} of shape "
                               f"{list(t.shape)} and normalized_shape = {shape}")
    k = len(shape)
    if input.dim() < k or list(input.shape[input.dim() - k:]) != shape:
        expected = ", ".join(map(str, shape))
        raise RuntimeError(f"Given normalized_shape={shape}, expected input with shape [*, {expected}], but got "
                           f"input of size{list(input.shape)}")
    dims = tuple(range(-k, 0))
    mean = input.mean(dims, keepdim=True)
    var = input.var(dims, unbiased=False, keepdim=True)
    out = (input - mean) * (var + eps).rsqrt()
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None, weight: Tensor | None = None,
               bias: Tensor | None = None, training: bool = False, momentum: float = 0.1,
               eps: float = 1e-5) -> Tensor:
    """Normalize each channel (dim 1) by the batch's statistics (training) or the running ones (evaluation).

    In training the running statistics, when given, move towards the batch's, in place and outside the graph:
    ``running = (1 - momentum) * running + momentum * batch``, with the *unbiased* variance, as torch.
    """
    channels = input.shape[1] if input.dim() > 1 else 1
    if training:
        if input.numel() // channels <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {input.shape!r}")
    elif running_mean is None:
        raise RuntimeError("running_mean must be defined in evaluation mode")
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        if t is not None and t.numel() != channels:
            raise RuntimeError(f"{name} should contain {channels} elements not {t.numel()}")
    dims = (0, *range(2, input.dim()))
    shape = (1, channels) + (1,) * (input.dim() - 2)
    if training:
        mean = input.mean(dims, keepdim=True)
        var = input.var(dims, unbiased=False, keepdim=True)
        if running_mean is not None or running_var is not None:
            n = input.numel() // channels
            with no_grad():
                if running_mean is not None:
                    running_mean.copy_(momentum * mean.reshape(running_mean.shape) + (1 - momentum) * running_mean)
                if running_var is not None:
                    unbiased = var.reshape(running_var.shape) * (n / (n - 1))
                    running_var.copy_(momentum * unbiased + (1 - momentum) * running_var)
    else:
        mean = running_mean.reshape(shape)
        var = running_var.reshape(shape)
    out = (input - mean) * (var + eps).rsqrt()
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def _verify_batch_size(size: list) -> None:
    values = size[0]
    for n in size[2:]:
        values *= n
    if values == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {size}")


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalize each group of ``C / num_groups`` channels (dim 1) of each sample over the group's channels and
    the remaining dims (mean 0, biased variance 1), then scale and shift each channel."""
    if input.dim() < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.dim()}")
    shape = list(input.shape)
    n, c = shape[:2]
    _verify_batch_size([n * c // num_groups, num_groups] + shape[2:])
    if c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got input of "
                           f"shape {shape} and num_groups={num_groups}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t.dim() != 1 or t.numel() != c):
            shown = [0] if weight is None else list(weight.shape)  # torch's message shows the weight's shape
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of channels in input, "
                               f"but got {name} of shape {shown} and input of shape {shape}")
    _floating_only(input, "GroupNormKernelImpl")
    groups = input.reshape(n, num_groups, -1)
    mean = groups.mean(-1, keepdim=True)
    var = groups.var(-1, unbiased=False, keepdim=True)
    out = ((groups - mean) * (var + eps).rsqrt()).reshape(shape)
    per_channel = (1, c) + (1,) * (len(shape) - 2)
    if weight is not None:
        out = out * weight.reshape(per_channel)
    if bias is not None:
        out = out + bias.reshape(per_channel)
    return out


def instance_norm(input: Tensor, running_mean: Tensor | None = None, running_var: Tensor | None = None,
                  weight: Tensor | None = None, bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalize each channel (dim 1) of each sample over its remaining dims (mean 0, biased variance 1), then
    scale and shift each channel.

    With ``use_input_stats`` and running statistics given, these move towards the batch average of the per-sample
    statistics, in place: ``running = (1 - momentum) * running + momentum * mean over samples`` (the variance
    unbiased). Without ``use_input_stats`` the running statistics normalize instead.
    """
    shape = list(input.shape)
    if use_input_stats:
        values = 1
        for n in shape[2:]:
            values *= n
        if values == 1:
            raise ValueError(f"Expected more than 1 spatial element when training, got input size {input.shape!r}")
    elif running_mean is None or running_var is None:
        raise RuntimeError("Expected running_mean and running_var to be defined when use_input_stats is false")
    b, c = shape[0], shape[1]
    for name, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                    ("running_var", running_var)):
        if t is not None and t.numel() != c:  # torch repeats these per sample before checking them
            raise RuntimeError(f"{name} should contain {b * c} elements not {b * t.numel()}")
    per_channel = (1, c) + (1,) * (len(shape) - 2)
    if use_input_stats:
        dims = tuple(range(2, len(shape)))
        mean = input.mean(dims, keepdim=True)
        var = input.var(dims, unbiased=False, keepdim=True)
        if running_mean is not None or running_var is not None:
            n = input.numel() // max(b * c, 1)
            with no_grad():
                if running_mean is not None:
                    batch_mean = mean.reshape(b, c).mean(0)
                    running_mean.copy_(momentum * batch_mean + (1 - momentum) * running_mean)
                if running_var is not None:
                    batch_var = (var.reshape(b, c) * (n / (n - 1))).mean(0)
                    running_var.copy_(momentum * batch_var + (1 - momentum) * running_var)
    else:
        mean = running_mean.reshape(per_channel)
        var = running_var.reshape(per_channel)
    out = (input - mean) * (var + eps).rsqrt()
    if weight is not None:
        out = out * weight.reshape(per_channel)
    if bias is not None:
        out = out + bias.reshape(per_channel)
    return out


def rms_norm(input: Tensor, normalized_shape: Any, weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    """Divide by the root mean square over the last ``len(normalized_shape)`` dims (plus ``eps``, by default the
    dtype's machine epsilon), then scale; float16 is computed in float32, as torch does."""
    if isinstance(normalized_shape, int):
        raise TypeError("rms_norm(): argument 'normalized_shape' (position 2) must be tuple of ints, not int")
    shape = [int(s) for s in normalized_shape]
    if weight is not None and list(weight.shape) != shape:
        raise RuntimeError(f"Expected weight to be of same shape as normalized_shape, but got weight of shape "
                           f"{list(weight.shape)} and normalized_shape = {shape}")
    k = len(shape)
    if input.dim() < k or list(input.shape[input.dim() - k:]) != shape:
        raise RuntimeError(f"Given normalized_shape={shape}, expected input with shape [*{', '.join(map(str, shape))}]"
                           f", but got input of size{list(input.shape)}")
    _floating_only(input, "rms_norm")
    x = input.float() if input._data.dtype.itemsize < 4 else input
    if eps is None:
        eps = float(numpy.finfo(x._data.dtype).eps)
    out = x * ((x * x).mean(tuple(range(-k, 0)), keepdim=True) + eps).rsqrt()
    out = out.to(input.dtype)
    return out * weight if weight is not None else out


# -- embedding and distance -------------------------------------------------------------------


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """The rows ``weight[input]``; the row ``padding_idx`` gets no gradient, rows longer than ``max_norm``
    are scaled down (in place, as torch) before they are read.

    Differs from torch: ``sparse=True`` and ``scale_grad_by_freq=True`` raise NotImplementedError, as
    minigrad has no sparse gradients.
    """
    if padding_idx is not None:
        if padding_idx > 0:
            assert padding_idx < weight.shape[0], "Padding_idx must be within num_embeddings"
        elif padding_idx < 0:
            assert padding_idx >= -weight.shape[0], "Padding_idx must be within num_embeddings"
            padding_idx = weight.shape[0] + padding_idx
    if sparse or scale_grad_by_freq:
        raise NotImplementedError("minigrad's embedding has no sparse gradients and no scale_grad_by_freq")
    a = input._data
    if a.dtype.kind not in "iu" or a.dtype.itemsize not in (4, 8) or a.dtype.kind == "u":
        from ._loss_functions import _type_name

        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got minigrad.{_type_name(input)}Tensor instead (while checking arguments "
                           "for embedding)")
    if a.size and (int(a.min()) < 0 or int(a.max()) >= weight.shape[0]):
        raise IndexError("index out of range in self")
    if max_norm is not None:
        _embedding_renorm_(weight, input, max_norm, norm_type)
    out = weight[input]
    if padding_idx is not None and bool((a == padding_idx).any()):
        out = _elementwise.where((input != padding_idx).unsqueeze(-1), out, weight.detach()[input])
    return out


def _embedding_renorm_(weight: Tensor, input: Tensor, max_norm: float, norm_type: float) -> None:
    """Scale each row that ``input`` reads and whose ``norm_type``-norm exceeds ``max_norm`` down to about it."""
    xp = xp_of(input._data)
    rows = xp.unique(input._data.reshape(-1))
    with no_grad():
        picked = weight._data[rows]
        if norm_type == math.inf:
            norms = xp.abs(picked).max(axis=1)
        else:
            norms = (xp.abs(picked) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
        over = norms > max_norm
        if bool(over.any()):
            scale = (max_norm / (norms[over] + 1e-7)).astype(picked.dtype)
            index = Tensor._wrap(rows[over])
            weight[index] = Tensor._wrap(picked[over] * scale[:, None])


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """``sum(x1 * x2) / (|x1| |x2|)`` along ``dim``, each norm at least ``eps``; the inputs broadcast."""
    def unit(x: Tensor) -> Tensor:
        squared = (x * x).sum(dim, keepdim=True)
        return x / _elementwise.sqrt(squared.clamp(min=eps * eps))

    return (unit(x1) * unit(x2)).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """The p-norm of ``x1 - x2 + eps`` along the last dim (the inputs broadcast)."""
    return vector_norm(x1 - x2 + eps, p, max(x1.dim(), x2.dim()) - 1, keepdim)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out: Tensor | None = None) -> Tensor:
    """``input`` divided by its p-norm along ``dim`` (at least ``eps``); with ``out``, written there."""
    denom = vector_norm(input, p, dim, keepdim=True).clamp(min=eps).expand_as(input)
    if out is None:
        return input / denom
    if is_grad_enabled() and (input.requires_grad or out.requires_grad):
        raise RuntimeError("div(): functions with out=... arguments don't support automatic differentiation, but one "
                           "of the arguments requires grad.")
    return out.copy_(input / denom)


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
    """Dropout with a new random mask at each call; the identity (the same tensor) when not training.

    Differs from torch: the masks come from minigrad's NumPy generator (CuPy's on a GPU), so a seed gives
    other masks than torch's.
    """
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not 0.0 <= p <= 1.0:  # NaN: torch's Python check lets it through, its native one does not
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0 or input.numel() == 0:
        return input
    out = NativeDropout.apply(input, p)
    return input.copy_(out) if inplace else out  # recorded as a write of the result into input


_ALPHA_DROPOUT_VALUE = 1.7580993408473766  # -scale * alpha of SELU: the value a dropped unit of SELU's output takes


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Dropout that keeps SELU's zero mean and unit variance: each element is dropped with probability ``p``
    and set to ``-1.7581`` (SELU's lower bound), then all are scaled by ``a`` and shifted by ``b``, so that
    ``out = a * (mask * input + (1 - mask) * -1.7581) + b`` with ``a = ((1 - p) (1 + p * 1.7581²))^-0.5``
    and ``b = a * 1.7581 * p``. The identity when not training.

    Differs from torch: the masks come from minigrad's NumPy generator (CuPy's on a GPU), so a seed gives
    other masks than torch's.
    """
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0 or input.numel() == 0:
        return input
    if p == 1:
        out = input * Tensor._wrap(xp_of(input._data).zeros((), input._data.dtype))
    else:
        a = 1.0 / math.sqrt((_ALPHA_DROPOUT_VALUE * _ALPHA_DROPOUT_VALUE * p + 1) * (1 - p))
        keep = _backend.rng(_backend.device_of(input._data)).random(input.shape) >= p  # probability 1 - p
        noise = keep.astype(input._data.dtype)
        shift = (noise - 1) * (_ALPHA_DROPOUT_VALUE * a) + _ALPHA_DROPOUT_VALUE * a * p
        noise *= a
        out = input * Tensor._wrap(noise) + Tensor._wrap(shift)
    return input.copy_(out) if inplace else out


# -- one-dimensional layers through their two-dimensional ops ---------------------------------


def _single(value: Any, name: str) -> Any:
    """A 1-d convolution argument: an int, a 1-element list, or (padding) 'same'/'valid'."""
    if isinstance(value, (list, tuple)):
        if len(value) != 1:
            raise RuntimeError(f"expected {name} to be a single integer value or a list of 1 values to match the "
                               f"convolution dimensions, but got {name}={list(value)}")
        return value[0]
    return value


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """``out[n, o, x] = bias[o] + sum over c, i of weight[o, c, i] * input[n, c, x*stride + i*dilation]``: the
    2-d convolution of the input and weight with a unit height."""
    x, w = input._data, weight._data
    if x.ndim not in (2, 3):
        raise RuntimeError(f"Expected 2D (unbatched) or 3D (batched) input to conv1d, but got input of size: "
                           f"{list(x.shape)}")
    if w.ndim < 3:
        raise RuntimeError("weight should have at least three dimensions")
    if w.ndim != 3:
        raise RuntimeError(f"Expected {w.ndim}-dimensional input for {w.ndim}-dimensional weight {list(w.shape)}, "
                           f"but got {x.ndim}-dimensional input of size {list(x.shape)} instead")
    stride, dilation = _single(stride, "stride"), _single(dilation, "dilation")
    padding = padding if isinstance(padding, str) else _single(padding, "padding")
    out_c, per_group, k = w.shape
    batched = x if x.ndim == 3 else x[None]
    if groups > 0 and out_c % groups == 0 and batched.shape[1] != per_group * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {list(w.shape)}, expected "
                           f"input{list(batched.shape)} to have {per_group * groups} channels, but got "
                           f"{batched.shape[1]} channels instead")
    if groups > 0 and out_c % groups == 0 and (bias is None or list(bias.shape) == [out_c]) \
            and not isinstance(padding, str) and stride > 0 and padding >= 0 and dilation > 0:
        span, size = dilation * (k - 1) + 1, x.shape[-1] + 2 * padding
        if span > size:
            raise RuntimeError(f"Calculated padded input size per channel: ({size}). Kernel size: ({span}). Kernel "
                               "size can't be greater than actual input size")
    pad2 = padding if isinstance(padding, str) else (0, padding)
    out = conv2d(input.unsqueeze(-2), weight.unsqueeze(-2), bias, (1, stride), pad2, (1, dilation), groups)
    return out.squeeze(-2)


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:
    """The mean over each of ``output_size`` bins tiling the last dim: bin i covers elements
    ``floor(i * L / out)`` to ``ceil((i + 1) * L / out)``."""
    if input._data.ndim not in (2, 3):
        raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input._data.ndim}-dimensional tensor for argument "
                           "#1 'self' (while checking arguments for adaptive_avg_pool1d)")
    if isinstance(output_size, (list, tuple)):
        if len(output_size) != 1:
            raise RuntimeError(f"adaptive_avg_pool1d() argument 'output_size' should contain one int (got "
                               f"{len(output_size)})")
        output_size = output_size[0]
    out = adaptive_avg_pool2d(input.unsqueeze(-2), (1, output_size))
    return out.squeeze(-2)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``out[..., o] = sum over i, j of input1[..., i] * weight[o, i, j] * input2[..., j] + bias[o]``."""
    a, b, w = input1._data, input2._data, weight._data
    if a.ndim != b.ndim:
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {a.ndim} and {b.ndim}")
    for i in range(a.ndim - 1):
        if a.shape[i] != b.shape[i]:
            raise RuntimeError(f"bilinear(): input batch dimensions do not match at dim {i}: got {a.shape[i]} and "
                               f"{b.shape[i]}")
    if a.shape[-1] != w.shape[1]:
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got {a.shape[-1]} but expected "
                           f"{w.shape[1]}")
    if b.shape[-1] != w.shape[2]:
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got {b.shape[-1]} but expected "
                           f"{w.shape[2]}")
    if bias is not None and bias.shape[0] != w.shape[0]:
        raise RuntimeError(f"bilinear(): bias size does not match weight size: got {bias.shape[0]} but expected "
                           f"{w.shape[0]}")
    out_f, in1, in2 = w.shape
    batch = a.shape[:-1]
    x1, x2 = input1.reshape(-1, in1), input2.reshape(-1, in2)
    # x1 @ W, for every output at once: (N, in1) @ (in1, out * in2), then the dot product with x2 per output
    left = (x1 @ weight.permute(1, 0, 2).reshape(in1, out_f * in2)).reshape(-1, out_f, in2)
    out = (left * x2.unsqueeze(1)).sum(-1)
    if bias is not None:
        out = out + bias
    return out.reshape(*batch, out_f)


# -- resampling -------------------------------------------------------------------------------


_INTERPOLATE_MODES = "nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact"
_LINEAR_MODES = {"linear": 3, "bilinear": 4, "trilinear": 5}


def _source_scale(in_size: int, out_size: int, scale: float | None, ct: Any) -> Any:
    """Output step in input units: ``1 / scale_factor`` when one was given (and used), else ``in / out``."""
    return ct(1.0 / scale) if scale is not None and scale > 0 else ct(in_size) / ct(out_size)


def _nearest_source(in_size: int, out_size: int, scale: float | None, exact: bool, shortcuts: bool) -> Any:
    """Input index read by each output index: ``floor(dst * step)`` ('nearest'), ``floor((dst + 0.5) * step)``
    ('nearest-exact'), clamped to the last input; the step in float32, as torch's kernels. With ``shortcuts``
    (torch's 2-d 'nearest' kernel) an unchanged size reads ``dst`` and a doubled one ``dst // 2``, whatever the
    scale factor."""
    dst = numpy.arange(out_size)
    if shortcuts and out_size == in_size:
        return dst
    if shortcuts and out_size == 2 * in_size:
        return dst >> 1
    step = _source_scale(in_size, out_size, scale, numpy.float32)
    if exact:
        src = ((dst + 0.5) * numpy.float64(step)).astype(numpy.float32)
    else:
        src = dst.astype(numpy.float32) * step
    return numpy.minimum(numpy.floor(src).astype(numpy.int64), in_size - 1)


def _linear_source(in_size: int, out_size: int, scale: float | None, align_corners: bool, ct: Any) -> tuple:
    """The two input indices each output index mixes and their weights ``(i0, i1, w0, w1)``.

    ``src = dst * (in - 1) / (out - 1)`` with ``align_corners``, else ``src = (dst + 0.5) * step - 0.5`` clamped
    at 0; ``i0 = floor(src)``, ``i1 = i0 + 1`` (``i0`` at the last input), ``w1 = src - i0``, ``w0 = 1 - w1``.
    """
    dst = numpy.arange(out_size)
    if out_size == in_size:
        return dst, dst, numpy.ones(out_size, ct), numpy.zeros(out_size, ct)
    if align_corners:
        step = ct(in_size - 1) / ct(out_size - 1) if out_size > 1 else ct(0)
        src = step * dst.astype(ct)
    else:
        step = _source_scale(in_size, out_size, scale, ct)
        src = numpy.maximum((numpy.float64(step) * (dst + 0.5) - 0.5).astype(ct), 0)
    i0 = numpy.minimum(numpy.floor(src.astype(numpy.float32)).astype(numpy.int64), in_size - 1)
    w1 = numpy.clip(src - i0.astype(ct), 0, 1).astype(ct)
    i1 = i0 + (i0 < in_size - 1)
    return i0, i1, (ct(1) - w1).astype(ct), w1


def _along(input: Tensor, axis: int, index: Any) -> Tensor:
    """``input`` with dim ``axis`` read at ``index`` (a differentiable gather)."""
    xp = xp_of(input._data)
    return input[(slice(None),) * axis + (Tensor._wrap(xp.asarray(index)),)]


def _resample(input: Tensor, out_shape: list, scales: list, mode: str, align_corners: bool) -> Tensor:
    """Resample the spatial dims one at a time: each dim's nearest or linear rule is separable."""
    xp = xp_of(input._data)
    ct = numpy.float64 if input.dtype == _dtype.float64 else numpy.float32
    out = input
    for d, (out_size, scale) in enumerate(zip(out_shape, scales)):
        axis = 2 + d
        in_size = input.shape[axis]
        if mode in ("nearest", "nearest-exact"):
            out = _along(out, axis, _nearest_source(in_size, out_size, scale, mode == "nearest-exact",
                                                      mode == "nearest" and len(out_shape) == 2))
            continue
        i0, i1, w0, w1 = _linear_source(in_size, out_size, scale, align_corners, ct)
        if out_size == in_size:
            continue
        shape = (-1,) + (1,) * (input.dim() - axis - 1)
        w0 = Tensor._wrap(xp.asarray(w0.reshape(shape), dtype=out._data.dtype))
        w1 = Tensor._wrap(xp.asarray(w1.reshape(shape), dtype=out._data.dtype))
        out = _along(out, axis, i0) * w0 + _along(out, axis, i1) * w1
    return out


def interpolate(input: Tensor, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resample the spatial dims of an ``(N, C, *)`` input to ``size`` or to ``floor(in * scale_factor)``.

    'nearest' reads input ``floor(dst * in / out)``; 'nearest-exact' ``floor((dst + 0.5) * in / out)``;
    'linear' / 'bilinear' / 'trilinear' (3-, 4-, 5-d inputs) mix the two inputs nearest to
    ``(dst + 0.5) * in / out - 0.5`` (or ``dst * (in - 1) / (out - 1)`` with ``align_corners=True``) linearly,
    per spatial dim; 'area' averages (adaptive average pooling). With ``scale_factor`` given (and
    ``recompute_scale_factor`` not True), ``1 / scale_factor`` stands in for ``in / out``.

    Differs from torch: 'bicubic', 'lanczos', ``antialias=True`` and 5-d 'area' raise NotImplementedError. The
    gradient of 1-d and 3-d 'nearest' is the adjoint of the forward; torch's backward kernel reads an unchanged
    size as the identity and a doubled one as ``dst // 2`` even where its forward, given a ``scale_factor``
    such as 1.1 or 2.1, read other inputs, so torch's gradient there disagrees with its own forward.
    """
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: linear | bilinear "
                             "| bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    dim = input.dim() - 2
    spatial = list(input.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        scales = [None] * max(dim, 0)
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError(f"Input and output must have the same number of spatial dimensions, but got input "
                                 f"with spatial dimensions of {spatial} and output size of {size}. Please provide "
                                 "input tensor in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) "
                                 "format.")
            if not all(isinstance(s, int) or (hasattr(s, "__index__") and not isinstance(s, float)) for s in size):
                raise TypeError("expected size to be one of int or Tuple[int] or Tuple[int, int] or "
                                f"Tuple[int, int, int], but got size with types {[type(s) for s in size]}")
            out_shape = [int(s) for s in size]
        else:
            if isinstance(size, float):
                raise TypeError(f"interpolate(): size must be an int or a sequence of ints, not {size!r}")
            out_shape = [int(size)] * max(dim, 0)
    elif scale_factor is not None:
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dim:
                raise ValueError(f"Input and scale_factor must have the same number of spatial dimensions, but got "
                                 f"input with spatial dimensions of {spatial} and scale_factor of shape "
                                 f"{scale_factor}. Please provide input tensor in (N, C, d1, d2, ...,dK) format and "
                                 "scale_factor in (s1, s2, ...,sK) format.")
            scales = [float(s) for s in scale_factor]
        else:
            scales = [float(scale_factor)] * max(dim, 0)
        out_shape = [int(n * s) for n, s in zip(spatial, scales)]
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if recompute_scale_factor or mode == "area":
        scales = [None] * len(scales)
    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and input.dim() == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and requires a "
                         "4-D tensor as input")
    if mode == "lanczos" and input.dim() == 4:
        if align_corners:
            raise ValueError("Lanczos mode does not support align_corners=True")
        if not antialias:
            raise ValueError("Lanczos mode requires antialias=True")
    known = mode in ("nearest", "nearest-exact", "area") or _LINEAR_MODES.get(mode) == input.dim() \
        or (mode in ("bicubic", "lanczos") and input.dim() == 4)
    if not known or input.dim() not in (3, 4, 5):
        if mode in _LINEAR_MODES and input.dim() in (3, 4, 5):
            raise NotImplementedError(f"Got {input.dim()}D input, but {mode} mode needs {_LINEAR_MODES[mode]}D input")
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.dim()}D) for "
                                  f"the modes: {_INTERPOLATE_MODES} (got {mode})")
    if antialias or mode in ("bicubic", "lanczos") or (mode == "area" and dim == 3):
        what = "antialias=True" if antialias else f"mode={mode!r}" + (" on 5-D input" if mode == "area" else "")
        raise NotImplementedError(f"interpolate(): {what} is not implemented in minigrad; supported are 'nearest', "
                                  "'nearest-exact', 'linear', 'bilinear', 'trilinear' and 'area' (3-D and 4-D input)")
    if mode == "area":
        return adaptive_avg_pool1d(input, out_shape) if dim == 1 else adaptive_avg_pool2d(input, out_shape)
    if any(s <= 0 for s in out_shape):
        names = "DHW"[3 - dim:]
        shown_in = ", ".join(f"{n}: {s}" for n, s in zip(names, spatial))
        shown_out = ", ".join(f"{n}: {s}" for n, s in zip(names, out_shape))
        joint = " and " if dim == 1 else " "
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input ({shown_in}){joint}"
                           f"output ({shown_out})")
    _floating_only(input, "compute_indices_weights_linear" if mode in _LINEAR_MODES
                   else "compute_indices_weights_nearest")
    return _resample(input, out_shape, scales, mode, bool(align_corners))


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

__all__ = ["adaptive_avg_pool1d", "adaptive_avg_pool2d", "alpha_dropout", "avg_pool2d", "batch_norm", "bilinear",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "celu", "conv1d", "conv2d",
           "cosine_embedding_loss", "cosine_similarity", "cross_entropy", "dropout", "elu", "embedding", "fold",
           "gaussian_nll_loss", "gelu", "group_norm", "hardsigmoid", "hardswish", "hardtanh", "hinge_embedding_loss",
           "huber_loss", "instance_norm", "interpolate", "kl_div", "l1_loss", "layer_norm", "leaky_relu", "linear",
           "log_softmax",
           "margin_ranking_loss", "max_pool2d", "mish", "mse_loss", "multilabel_soft_margin_loss", "nll_loss",
           "normalize", "one_hot", "pad", "pairwise_distance", "poisson_nll_loss", "prelu", "relu", "relu6", "relu_",
           "rms_norm", "selu", "sigmoid", "silu", "smooth_l1_loss", "softmax", "softmin", "softplus", "softsign",
           "tanh", "triplet_margin_loss", "unfold"]


def __getattr__(name: str) -> object:
    """Only reached for a name the module lacks: the error names the torch name and points at docs/api.md."""
    from .._missing import missing_attribute

    raise missing_attribute(__name__, name)
