"""The loss functions of ``minigrad.nn.functional`` (``F.mse_loss``, ``F.cross_entropy`` ...).

Most losses are compositions of differentiable ops, so their gradients come from those ops.
The two binary cross entropies are ops of their own, to compute them stably and with torch's
exact gradient formulas.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy

from .. import _autocast, _factories
from .._backend import xp_of
from .._grad_mode import is_grad_enabled, no_grad
from ..autograd.graph import named
from ..ops._base import Op, run
from ..ops.elementwise import Sigmoid, Sub, minimum, where
from ..ops.norms import vector_norm
from ..ops.softmax import Softmax, log_softmax
from ..tensor import Tensor

# -- reduction --------------------------------------------------------------------------------


def _reduction(size_average: bool | None, reduce: bool | None, reduction: str) -> str:
    """The reduction to use; the old ``size_average``/``reduce`` flags still work, with torch's warning."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "none" if not reduce else "mean" if size_average else "sum"
        warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{reduction}' "
                      "instead.", stacklevel=3)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _weighted_reduce(loss: Tensor, weight: Tensor | None, input: Tensor, reduction: str) -> Tensor:
    """The optional ``weight=`` of mse_loss / l1_loss: the mean becomes ``sum(w * loss) / sum(w)``."""
    if weight is None:
        return _reduce(loss, reduction)
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    return loss.sum() / weight.sum() if reduction == "mean" else _reduce(loss, reduction)


def _type_name(t: Tensor) -> str:
    """torch's scalar type names, as in its error messages ("Float", "Long" ...)."""
    names = {"float16": "Half", "float32": "Float", "float64": "Double", "int8": "Char", "uint8": "Byte",
             "int16": "Short", "int32": "Int", "int64": "Long", "bool": "Bool"}
    return names[t.dtype.name]


def _warn_if_size_differs(input: Tensor, target: Tensor) -> None:
    if target.shape != input.shape:
        warnings.warn(f"Using a target size ({target.shape!r}) that is different to the input size "
                      f"({input.shape!r}). This will likely lead to incorrect results due to broadcasting. "
                      "Please ensure they have the same size.", stacklevel=3)


# -- regression -------------------------------------------------------------------------------


def _in_float32_under_autocast(*tensors: Any) -> tuple:
    """The losses run in float32 under autocast, as torch's autocast lists them: a float16 loss of a
    large batch loses digits, and scaled by a GradScaler (65536) it overflows float16's 65504. Outside
    autocast (the common case) the caller's ``ContextVar.get()`` skips the call."""
    state = _autocast.state.get()
    return tuple(t.float() if isinstance(t, Tensor) and _autocast.runs_in_float32(state, t._data) else t
                 for t in tensors)


def mse_loss(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """``(input - target) ** 2``, averaged (or summed) over all elements."""
    if _autocast.state.get() is not None:  # torch runs the losses in float32 under autocast
        input, target = _in_float32_under_autocast(input, target)
    _warn_if_size_differs(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    if weight is None and isinstance(target, Tensor) and input.shape == target.shape and \
            input.dtype == target.dtype and input._data.dtype.kind == "f":
        return MseLoss.apply(input, target, reduction)  # one node, torch's MseLossBackward0
    return _weighted_reduce((input - target) ** 2, weight, input, reduction)


class MseLoss(Op):
    """``(input - target)²``, averaged, summed or not reduced, in one node (torch's ``MseLoss``)."""

    saved_as_outputs = {0: (Sub, (0, 1), {})}  # diff = input - target

    @staticmethod
    def forward(ctx, input, target, reduction):
        diff = input - target
        ctx.save_for_backward(diff)
        ctx.reduction = reduction
        loss = diff * diff
        if reduction == "mean":
            return loss.mean()
        return loss.sum() if reduction == "sum" else loss

    @staticmethod
    def backward(ctx, g):
        (diff,) = ctx.saved_tensors
        grad = 2 * diff * g
        if ctx.reduction == "mean":
            grad /= math.prod(diff.shape)
        return grad, (-grad if ctx.needs_input_grad[1] else None)


def l1_loss(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """``|input - target|``, averaged (or summed) over all elements."""
    if _autocast.state.get() is not None:  # torch runs the losses in float32 under autocast
        input, target = _in_float32_under_autocast(input, target)
    _warn_if_size_differs(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    return _weighted_reduce((input - target).abs(), weight, input, reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """``0.5 * d²`` where ``|d| < delta`` (``d = input - target``), else ``delta * (|d| - 0.5 * delta)``."""
    if _autocast.state.get() is not None:  # torch runs the losses in float32 under autocast
        input, target = _in_float32_under_autocast(input, target)
    _warn_if_size_differs(input, target)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    diff = input - target
    size = diff.abs()
    loss = where(size < delta, 0.5 * diff * diff, delta * (size - 0.5 * delta))
    if weight is not None:  # unlike mse_loss's, the mean still divides by the number of elements
        loss = loss * weight
    return _reduce(loss, reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """``0.5 * d² / beta`` where ``|d| < beta`` (``d = input - target``), else ``|d| - 0.5 * beta``;
    ``beta=0`` is the L1 loss."""
    if _autocast.state.get() is not None:  # torch runs the losses in float32 under autocast
        input, target = _in_float32_under_autocast(input, target)
    _warn_if_size_differs(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    diff = input - target
    size = diff.abs()
    if beta == 0:
        return _reduce(size, reduction)
    return _reduce(where(size < beta, 0.5 * diff * diff / beta, size - 0.5 * beta), reduction)


def kl_div(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """Kullback-Leibler divergence of ``target`` from ``input``, ``input`` given as log-probabilities:
    ``target * (log(target) - input)`` (0 where ``target`` is 0), or with ``log_target=True``
    ``exp(target) * (target - input)``. ``reduction="batchmean"`` divides the sum by the batch size."""
    if _autocast.state.get() is not None:  # torch runs the losses in float32 under autocast
        input, target = _in_float32_under_autocast(input, target)
    if size_average is not None or reduce is not None:
        reduction = _reduction(size_average, reduce, "mean")
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      stacklevel=2)
    if reduction not in ("none", "mean", "sum", "batchmean"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if log_target:
        loss = target.exp() * (target - input)
    else:
        # xlogy(target, target): 0 where target is 0 (log sees 1 there, so no 0 * -inf and no NaN gradient)
        loss = target * where(target == 0, 1.0, target).log() - target * input
    if reduction == "batchmean":
        return loss.sum() / input.shape[0] if input.dim() else loss.sum()
    return _reduce(loss, reduction)


# -- classification with class indices -------------------------------------------------------


def _check_class_targets(input: Tensor, target: Tensor, weight: Tensor | None) -> None:
    """torch's checks of class-index targets, with its messages."""
    if input.dim() < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.dim()})")
    if input.dim() == 1:
        if target.dim() == 1 and target.shape[0] != 1:
            raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: {target.shape[0]}")
    elif target.dim() == 0 or input.shape[0] != target.shape[0]:
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target batch_size "
                         f"({target.shape[0] if target.dim() else 0}).")
    if target.dtype.name not in ("int64", "uint8"):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {_type_name(target)}")
    if input.dim() <= 2:
        if target.dim() > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    else:
        expected = [input.shape[0], *input.shape[2:]]
        if list(target.shape) != expected:
            raise RuntimeError(f"Expected target size {expected}, got {list(target.shape)}")
    n_classes = input.shape[0 if input.dim() == 1 else 1]
    if weight is not None and weight.numel() != n_classes:
        raise RuntimeError(f"weight tensor should be defined either for all {n_classes} classes or no classes but "
                           f"got weight tensor of shape: {list(weight.shape)}")


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: bool | None = None,
             ignore_index: int = -100, reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """Negative log likelihood: ``-input[n, target[n]]``, given log-probabilities ``input`` (N, C, ...).

    With ``weight`` (one per class) each term is multiplied by the weight of its target class and
    the mean divides by the sum of those weights. Targets equal to ``ignore_index`` count for nothing.
    """
    if _autocast.state.get() is not None:  # torch runs the losses in float32 under autocast
        input, weight = _in_float32_under_autocast(input, weight)
    reduction = _reduction(size_average, reduce, reduction)
    _check_class_targets(input, target, weight)
    _refuse_weight_gradient(weight, "nll_loss_forward")
    n_classes = input.shape[0 if input.dim() == 1 else 1]
    t = target._data.reshape(()) if input.dim() == 1 else target._data  # a (1,) target of a (C,) input
    xp = xp_of(t)
    ignored = t == ignore_index
    bad = ~ignored & ((t < 0) | (t >= n_classes))
    if bad.any():
        raise IndexError(f"Target {int(t[bad].ravel()[0])} is out of bounds.")
    if ignored.any():
        index = xp.where(ignored, 0, t).astype(xp.int64)  # class 0 stands in for ignored targets
    else:
        index, ignored = t.astype(xp.int64, copy=False), None
    loss = NllLoss.apply(input, index, ignored, weight, reduction)
    # torch runs inputs of 3 or more dims through its 2-d kernel (with views around it for 3 or 5+ dims).
    return named(loss, "NllLoss2DBackward0") if input.dim() > 2 else loss


def _refuse_weight_gradient(weight: Tensor | None, function: str, argument: str = "weight") -> None:
    if weight is not None and weight.requires_grad and is_grad_enabled():
        raise RuntimeError(f"The function '{function}' is not differentiable with respect to argument '{argument}'. "
                           "This input cannot have requires_grad True.")


class NllLoss(Op):
    """``-w[t] * input[..., t, ...]`` per target, reduced, as one op (torch's ``NllLoss``).

    ``target`` holds valid class indices (int64) and ``ignored`` marks the targets to skip (None
    when there are none); ``weight`` holds one weight per class or is None. Backward keeps only
    where each target sits in the flattened input and, when weighted or ignoring, each target's weight
    and the ignored targets' mask.
    """

    @staticmethod
    def forward(ctx, x, target, ignored, weight, reduction):
        xp = xp_of(x)
        n_classes = x.shape[0 if x.ndim == 1 else 1]
        spatial = math.prod(x.shape[2:])
        if spatial == 1:
            picks = xp.arange(0, x.size, n_classes or 1) + target.reshape(-1)
        else:  # (N, C, d1, ...): the element of target[n, j] sits at n * C * D + target * D + j
            n = x.shape[0]
            picks = target.reshape(n, spatial) * spatial
            picks += (xp.arange(n) * (n_classes * spatial)).reshape(n, 1)
            picks += xp.arange(spatial)
            picks = picks.reshape(-1)
        picked = x.reshape(-1)[picks]
        if weight is None and ignored is None:
            w, total = None, picks.size
            loss = -picked
        else:
            w = xp.ones(picks.shape, x.dtype) if weight is None else \
                weight[target.reshape(-1)].astype(x.dtype, copy=False)
            if ignored is not None:
                w[ignored.reshape(-1)] = 0
            with numpy.errstate(invalid="ignore"):  # -inf * 0 is NaN, as in torch (a class weight of 0)
                loss = -picked * w
            if ignored is not None:
                loss[ignored.reshape(-1)] = 0  # torch skips them: 0 even where the input is -inf or NaN
            total = w.sum()
        ctx.save_for_backward(picks, w, ignored)
        ctx.reduction = reduction
        ctx.total = total
        if reduction == "none":
            return loss.reshape(target.shape)
        if reduction == "sum":
            return loss.sum()
        if w is None:
            return loss.sum() / total if total else xp.full((), xp.nan, x.dtype)
        with numpy.errstate(invalid="ignore", divide="ignore"):  # no target weighs anything: NaN, as torch
            return loss.sum() / total

    @staticmethod
    def backward(ctx, g):
        picks, w, ignored = ctx.saved_tensors
        shape, dtype = ctx.input_meta[0]
        xp = xp_of(g)
        grad = xp.zeros(math.prod(shape), dtype)
        if ctx.reduction == "none":
            scale = -g.reshape(-1)
            if w is not None:
                scale *= w
        else:
            if ctx.reduction == "mean":
                if w is None:
                    g = g / ctx.total if ctx.total else g  # no targets: nothing to scale
                else:
                    with numpy.errstate(invalid="ignore", divide="ignore"):  # total 0: NaN, as torch
                        g = g / ctx.total
            if w is None:
                scale = -g
            else:
                with numpy.errstate(invalid="ignore"):  # inf * 0 where the total weight is 0: NaN, as torch
                    scale = -g * w
        if ignored is not None:
            scale[ignored.reshape(-1)] = 0  # torch skips them: 0 even where the gradient is NaN
        grad[picks] = scale  # each target has its own element: an assignment, not a sum
        return grad.reshape(shape), None, None, None, None

    @staticmethod
    def backward_scratch(ctx, grad_nbytes, numel):
        if ctx.reduction == "none":
            return grad_nbytes  # the scaled gradient, before it goes into place
        picks, w, ignored = ctx.saved
        return 0 if w is None else w.nbytes


class CrossEntropy(Op):
    """Cross entropy of (N, C) logits with class indices, as one op.

    This is the case nearly every classifier trains with, so it gets one node instead of
    log_softmax, gather, neg and mean: it keeps only the softmax probabilities for backward,
    whose gradient is ``(softmax - one_hot(target)) / N``.
    """

    saved_as_outputs = {0: (Softmax, (0,), {"axis": 1})}  # the probabilities

    @staticmethod
    def forward(ctx, x, target, reduction):
        xp = xp_of(x)
        shifted = x - x.max(axis=1, keepdims=True)
        exp = xp.exp(shifted)
        total = exp.sum(axis=1, keepdims=True)
        # Where each row's target sits in the flattened (N * C) array: one index array to pick
        # with here and in backward (cheaper than indexing with rows and columns).
        picks = xp.arange(0, x.size, x.shape[1]) + target
        loss = xp.log(total[:, 0]) - shifted.reshape(-1)[picks]
        exp /= total  # now the softmax probabilities, in the buffer exp already used
        ctx.save_for_backward(exp, picks)
        ctx.reduction = reduction
        if reduction == "mean":
            return loss.sum() / loss.shape[0]  # NumPy's mean() costs several microseconds more on a batch
        return loss.sum() if reduction == "sum" else loss

    @staticmethod
    def backward(ctx, g):
        probs, picks = ctx.saved_tensors
        # (probs - one_hot) * scale as probs * scale, minus scale at the targets (torch's order of operations)
        scale = g / probs.shape[0] if ctx.reduction == "mean" else g
        grad = probs * (scale[:, None] if ctx.reduction == "none" else scale)  # a new array: C order
        grad.reshape(-1)[picks] -= scale  # through a view of grad
        return grad  # the only array it makes: no scratch


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: bool | None = None,
                  ignore_index: int = -100, reduce: bool | None = None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """``nll_loss(log_softmax(input, class dim), target)``, computed stably from raw scores (logits).

    ``target`` holds class indices (int64), or class probabilities shaped like ``input``.
    """
    if _autocast.state.get() is not None:  # torch runs the losses in float32 under autocast
        input, target, weight = _in_float32_under_autocast(input, target, weight)
    reduction = _reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    x, t = input._data, target._data  # the arrays: their shapes and dtypes are cheaper to read
    class_dim = 0 if x.ndim == 1 else 1
    probabilities = t.shape == x.shape
    if probabilities and not target.is_floating_point():
        raise RuntimeError(f"Expected floating point type for target with class probabilities, got "
                           f"{_type_name(target)}")
    if (not probabilities and x.ndim == 2 and weight is None and label_smoothing == 0.0
            and t.dtype == numpy.int64 and t.ndim == 1 and t.shape[0] == x.shape[0]):
        # Targets to ignore or out of range take the general path, which handles and reports them.
        # One max checks both bounds: read as unsigned integers, negative targets are huge.
        if t.size and ignore_index < 0 and t.view(numpy.uint64).max() < x.shape[1]:
            return CrossEntropy.apply(input, target, reduction)
    logp = log_softmax(input, class_dim)
    if probabilities:
        return _cross_entropy_probabilities(logp, target, weight, reduction, label_smoothing, class_dim)
    loss = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing == 0.0:
        return loss
    # Smoothing mixes the one-hot target with the uniform distribution over the classes.
    uniform_part = _smoothing_term(logp, target, weight, ignore_index, reduction, class_dim)
    return (1 - label_smoothing) * loss + uniform_part * (label_smoothing / logp.shape[class_dim])


def _class_weights(weight: Tensor, logp: Tensor, class_dim: int) -> Tensor:
    """``weight`` (C,) shaped to broadcast along the class dim of ``logp``."""
    shape = [1] * logp.dim()
    shape[class_dim] = weight.numel()
    return weight.reshape(shape)


def _smoothing_term(logp: Tensor, target: Tensor, weight: Tensor | None, ignore_index: int, reduction: str,
                    class_dim: int) -> Tensor:
    """``-sum_c w_c * logp_c`` per target, reduced as torch reduces it (label smoothing's uniform part)."""
    scaled = logp if weight is None else logp * _class_weights(weight, logp, class_dim)
    ignored = Tensor._wrap(target._data == ignore_index)
    smooth = -scaled.sum(class_dim)
    smooth = where(~ignored, smooth, 0.0)  # torch's masked_fill: 0 even where the sum is NaN
    if reduction == "none":
        return smooth
    if reduction == "sum":
        return smooth.sum()
    kept = target._data[~ignored._data]
    return smooth.sum() / float(kept.size if weight is None else weight._data[kept].sum())


def _cross_entropy_probabilities(logp: Tensor, target: Tensor, weight: Tensor | None, reduction: str,
                                 label_smoothing: float, class_dim: int) -> Tensor:
    n_classes = logp.shape[class_dim]
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + label_smoothing / n_classes
    terms = logp * target
    if weight is not None:
        terms = terms * _class_weights(weight, logp, class_dim)
    loss = -terms.sum(class_dim)
    if reduction == "mean":
        return loss.sum() / float(logp.numel() // n_classes)
    return _reduce(loss, reduction)


# -- binary classification --------------------------------------------------------------------


_BCE_EPSILON = float(numpy.float32(1e-12))


class BinaryCrossEntropy(Op):
    """``-w (y log x + (1 - y) log(1 - x))`` per element, each log clamped at -100 as in torch (no inf),
    then reduced: one node, as torch's ``BinaryCrossEntropy``. ``weight`` broadcasts to ``x`` or is None."""

    @staticmethod
    def forward(ctx, x, y, weight, reduction):
        xp = xp_of(x)
        ctx.save_for_backward(x, y, weight)
        ctx.reduction = reduction
        with numpy.errstate(divide="ignore"):  # log(0) = -inf is expected here: it is clamped next
            log_x, log_1mx = xp.log(x), xp.log1p(-x)
        loss = (y - 1) * xp.maximum(log_1mx, -100) - y * xp.maximum(log_x, -100)
        if weight is not None:
            loss *= weight
        if reduction == "mean":
            return loss.mean() if loss.size else xp.full((), xp.nan, x.dtype)  # torch's NaN, without a warning
        return loss.sum() if reduction == "sum" else loss

    @staticmethod
    def backward(ctx, g):
        x, y, weight = ctx.saved_tensors
        xp = xp_of(x)
        size = math.prod(x.shape)
        if ctx.reduction == "mean" and size:
            g = g / size
        gx = gy = None
        # Each gradient is made in one new array, scaled in place (out=): one temporary of x's size besides.
        # (In a recorded backward, out= is ignored and each step makes a new tensor.)
        if ctx.needs_input_grad[0]:
            # torch's formula: (x - y) / (x (1 - x)), the denominator kept above torch's EPSILON,
            # which is 1e-12 rounded to float32 (so the gradient at x = 0 or 1 is the same as torch's).
            gx = x - y
            denominator = 1 - x
            denominator = xp.multiply(denominator, x, out=denominator)
            denominator = xp.maximum(denominator, _BCE_EPSILON, out=denominator)
            gx = xp.divide(gx, denominator, out=gx)
            gx = xp.multiply(gx, g, out=gx)
            if weight is not None:
                gx = xp.multiply(gx, weight, out=gx)
        if ctx.needs_input_grad[1]:
            with numpy.errstate(divide="ignore"):
                gy = xp.log1p(-x)
                gy = xp.subtract(gy, xp.log(x), out=gy)
            gy = xp.multiply(gy, g, out=gy)
            if weight is not None:
                gy = xp.multiply(gy, weight, out=gy)
        return gx, gy, None, None

    @staticmethod
    def backward_scratch(ctx, grad_nbytes, numel):
        shape, dtype = ctx.input_meta[0] if ctx.needs_input_grad[0] else ctx.input_meta[1]
        return math.prod(shape) * dtype.itemsize  # the denominator, or log(x)


def _check_weight_expands(weight: Any, shape: tuple) -> None:
    """torch's errors for a ``weight`` that does not expand to the input's ``shape``."""
    for i in range(1, len(weight) + 1):
        if weight[-i] != 1 and (i > len(shape) or weight[-i] != shape[-i]):
            if i > len(shape) or shape[-i] == 1:  # it broadcasts, but to a larger shape than the input's
                wide = numpy.broadcast_shapes(weight, shape)
                raise RuntimeError(f"output with shape {list(shape)} doesn't match the broadcast shape {list(wide)}")
            raise RuntimeError(f"Attempting to broadcast a dimension of length {weight[-i]} at -{i}! Mismatching "
                               f"argument at index 1 had {weight!r}; but expected shape should be "
                               f"broadcastable to {list(shape)}")


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average: bool | None = None, reduce: bool | None = None,
                         reduction: str = "mean") -> Tensor:
    """Binary cross entropy of probabilities ``input`` in [0, 1] (e.g. after a sigmoid)."""
    if _autocast.state.get() is not None:  # torch runs the losses in float32 under autocast
        input, target, weight = _in_float32_under_autocast(input, target, weight)
    reduction = _reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Using a target size ({target.shape!r}) that is different to the input size "
                         f"({input.shape!r}) is deprecated. Please ensure they have the same size.")
    if target.dtype != input.dtype:
        raise RuntimeError(f"Found dtype {_type_name(target)} but expected {_type_name(input)}")
    x, y = input._data, target._data
    bad_x = ~((x >= 0) & (x <= 1))  # NaN fails too, as in torch's check
    bad = bad_x | ~((y >= 0) & (y <= 1))
    if bad.any():
        # torch checks element by element, input before target: the first bad element decides the message
        first = int(bad.argmax())
        name = "input" if bool(bad_x.reshape(-1)[first]) else "target"
        raise RuntimeError(f"all elements of {name} should be between 0 and 1")
    if weight is not None:
        _refuse_weight_gradient(weight, "binary_cross_entropy")
        _check_weight_expands(weight.shape, x.shape)
    return BinaryCrossEntropy.apply(input, target, weight, reduction)


class BinaryCrossEntropyWithLogits(Op):
    """Binary cross entropy of ``sigmoid(x)``, from the logits ``x`` without computing the sigmoid.

    ``-(y log σ(x) + (1 - y) log(1 - σ(x)))`` equals ``(1 - y) x - log σ(x)``, and
    ``log σ(x) = min(x, 0) - log1p(exp(-|x|))`` never overflows. ``pos_weight`` multiplies the
    positive term: ``(1 - y) x - (1 + (pos_weight - 1) y) log σ(x)``.
    """

    @staticmethod
    def forward(ctx, x, y, pos_weight=None):
        xp = xp_of(x)
        ctx.save_for_backward(x, y, pos_weight)
        log_sigmoid = xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))
        if pos_weight is not None:
            log_sigmoid = log_sigmoid * ((pos_weight - 1) * y + 1)
        return (1 - y) * x - log_sigmoid

    @staticmethod
    def backward(ctx, g):
        x, y, pos_weight = ctx.saved_tensors
        xp = xp_of(x)
        sig = _sigmoid(x)
        gx = gy = None
        if ctx.needs_input_grad[0]:
            if pos_weight is None:
                gx = g * (sig - y)
            else:
                py = pos_weight * y
                gx = g * ((py + 1 - y) * sig - py)
        if ctx.needs_input_grad[1]:
            if pos_weight is None:
                gy = -g * x
            else:
                log_sigmoid = xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))
                gy = g * (log_sigmoid - x - pos_weight * log_sigmoid)  # log σ(-x) - pos_weight log σ(x)
        return gx, gy, None


def _sigmoid(x: Any) -> Any:
    xp = xp_of(x)
    e = xp.exp(-xp.abs(x))  # exp of a non-positive number: no overflow
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average: bool | None = None, reduce: bool | None = None,
                                     reduction: str = "mean", pos_weight: Tensor | None = None) -> Tensor:
    """Binary cross entropy from raw scores (logits): a sigmoid and BCE in one stable op."""
    if _autocast.state.get() is not None:  # torch runs the losses in float32 under autocast
        input, target, weight, pos_weight = _in_float32_under_autocast(input, target, weight, pos_weight)
    reduction = _reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.shape!r}) must be the same as input size ({input.shape!r})")
    _refuse_weight_gradient(pos_weight, "binary_cross_entropy_with_logits", "pos_weight")
    loss = BinaryCrossEntropyWithLogits.apply(input, target, pos_weight)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


# -- ranking and embedding losses -------------------------------------------------------------


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                        size_average: bool | None = None, reduce: bool | None = None,
                        reduction: str = "mean") -> Tensor:
    """``max(0, -target * (input1 - input2) + margin)``: ``target`` is 1 where ``input1`` should rank
    higher, -1 where ``input2`` should. The three inputs need the same number of dims, and broadcast."""
    reduction = _reduction(size_average, reduce, reduction)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
                           f"input1: {input1.shape}, input2: {input2.shape}, target: {target.shape} ")
    return _reduce((-target * (input1 - input2) + margin).clamp(min=0), reduction)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average: bool | None = None,
                         reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """``input`` where ``target`` is 1, ``max(0, margin - input)`` where it is -1 (``input`` usually a
    distance); a target that is neither adds both terms, as in torch."""
    reduction = _reduction(size_average, reduce, reduction)
    hinge = where(target != 1, (margin - input).clamp(min=0), 0.0)
    return _reduce(hinge + where(target != -1, input, 0.0), reduction)


_COSINE_EPSILON = float(numpy.float32(1e-12))  # torch's, a float32 constant


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                          size_average: bool | None = None, reduce: bool | None = None,
                          reduction: str = "mean") -> Tensor:
    """With ``cos = sum(x1 * x2) / sqrt((sum(x1²) + ε) (sum(x2²) + ε))`` along the last dim (ε = 1e-12 in float32):
    ``1 - cos`` where ``target`` is 1, ``max(0, cos - margin)`` where it is -1, 0 elsewhere.
    Inputs (N, D) take a target (N,), inputs (D,) a 0-dim target."""
    reduction = _reduction(size_average, reduce, reduction)
    dim = target.dim()
    if dim not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if input1.dim() != dim + 1 or input2.dim() != dim + 1:
        raise RuntimeError(f"{dim}D target tensor expects {dim + 1}D input tensors, but found inputs with sizes "
                           f"{list(input1.shape)} and {list(input2.shape)}.")
    products = (input1 * input2).sum(dim)
    squares1 = (input1 * input1).sum(dim) + _COSINE_EPSILON
    squares2 = (input2 * input2).sum(dim) + _COSINE_EPSILON
    cos = products / (squares1 * squares2).sqrt()
    loss = where(target == 1, 1 - cos, 0.0) + where(target == -1, (cos - margin).clamp(min=0), 0.0)
    return _reduce(loss, reduction)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0, p: float = 2,
                        eps: float = 1e-6, swap: bool = False, size_average: bool | None = None,
                        reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """``max(0, margin + d(anchor, positive) - d(anchor, negative))`` with ``d(a, b) = ||a - b + eps||_p``
    along the last dim; with ``swap``, the negative distance is the smaller of ``d(anchor, negative)`` and
    ``d(positive, negative)``."""
    reduction = _reduction(size_average, reduce, reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    dims = (anchor.dim(), positive.dim(), negative.dim())
    if len(set(dims)) != 1:
        raise RuntimeError("The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {dims[0]}D, positive {dims[1]}D, and negative {dims[2]}D "
                           "inputs")

    def distance(x1: Tensor, x2: Tensor) -> Tensor:
        return vector_norm(x1 - x2 + eps, p, max(x1.dim(), x2.dim()) - 1)

    d_positive, d_negative = distance(anchor, positive), distance(anchor, negative)
    if swap:
        d_negative = minimum(d_negative, distance(positive, negative))
    return _reduce((margin + d_positive - d_negative).clamp(min=0), reduction)


# -- multi-label and likelihood losses --------------------------------------------------------


class LogSigmoid(Op):
    """``log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|))``, which never overflows; its gradient is
    ``sigmoid(-x)``."""

    @staticmethod
    def forward(ctx, x):
        xp = xp_of(x)
        ctx.save_for_backward(x)
        return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * run(Sigmoid, -x)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                size_average: bool | None = None, reduce: bool | None = None,
                                reduction: str = "mean") -> Tensor:
    """``-(target * log(sigmoid(input)) + (1 - target) * log(sigmoid(-input)))`` per class (times
    ``weight``), averaged over the classes (the last dim): one loss per sample."""
    if size_average is not None or reduce is not None:
        reduction = _reduction(size_average, reduce, reduction)
    loss = -(target * LogSigmoid.apply(input) + (1 - target) * LogSigmoid.apply(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.dim() - 1
    loss = loss.sum(class_dim) / input.shape[class_dim]
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not valid")
    return _reduce(loss, reduction)


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average: bool | None = None, eps: float = 1e-8, reduce: bool | None = None,
                     reduction: str = "mean") -> Tensor:
    """Negative log likelihood of ``target`` under a Poisson distribution of rate ``exp(input)``:
    ``exp(input) - target * input``; with ``log_input=False`` the rate is ``input`` itself:
    ``input - target * log(input + eps)``. ``full`` adds Stirling's approximation of ``log(target!)``,
    ``target * log(target) - target + 0.5 * log(2π target)``, where ``target > 1``."""
    reduction = _reduction(size_average, reduce, reduction)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        with numpy.errstate(divide="ignore", invalid="ignore"):  # 0 * log(0) is NaN, masked as in torch
            stirling = target * target.log() - target + 0.5 * (2 * math.pi * target).log()
        loss = loss + where(target <= 1, 0.0, stirling)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input: Tensor, target: Tensor, var: Tensor | float, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    """Negative log likelihood of ``target`` under a Gaussian of mean ``input`` and variance ``var``:
    ``0.5 * (log(var) + (input - target)² / var)``, plus ``0.5 * log(2π)`` with ``full``.

    ``var`` is shaped like ``input``, or with one dim less or of size 1 (one variance shared along it),
    or a float. It is clamped to at least ``eps`` without the clamp being differentiated (as torch):
    a clamped variance still gets the gradient the loss has at ``eps``.
    """
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * _factories.ones_like(input)
    elif not isinstance(var, Tensor):
        raise TypeError(f"any(): argument 'input' (position 1) must be Tensor, not {type(var < 0).__name__}")
    elif bool((var._data < 0).any()):
        raise ValueError("var has negative entry/entries")
    if var.shape != input.shape:
        if input.shape[:-1] == var.shape:
            var = var.unsqueeze(-1)
        elif not (input.dim() == var.dim() and
                  sum(v for i, v in zip(input.shape, var.shape) if i != v) == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not valid")
    var = var.clone()
    with no_grad():
        var.clamp_(min=eps)
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


__all__ = ["binary_cross_entropy", "binary_cross_entropy_with_logits", "cosine_embedding_loss", "cross_entropy",
           "gaussian_nll_loss", "hinge_embedding_loss", "l1_loss", "margin_ranking_loss", "mse_loss",
           "multilabel_soft_margin_loss", "nll_loss", "poisson_nll_loss", "triplet_margin_loss"]
