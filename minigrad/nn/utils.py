"""``nn.utils``: gradient clipping, and parameters to and from one flat vector."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from .._backend import xp_of
from ..tensor import Tensor


def _vector_norm(a: Any, norm_type: float) -> Any:
    """The ``norm_type``-norm of all elements of ``a`` (a 0-dim array of ``a``'s dtype)."""
    xp = xp_of(a)
    if norm_type == math.inf:
        return xp.abs(a).max()
    if norm_type == -math.inf:
        return xp.abs(a).min()
    if norm_type == 0:
        return (a != 0).sum().astype(a.dtype)
    if norm_type == 2:
        return xp.sqrt((a * a).sum())
    return (xp.abs(a) ** norm_type).sum() ** (1.0 / norm_type)


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Scale all gradients together so that their joint norm is at most ``max_norm``.

    The joint norm is the norm of the vector of every gradient element (computed as the norm of
    the per-parameter norms). It is returned, measured before clipping. As in torch, the
    gradients are multiplied by ``min(1, max_norm / (total_norm + 1e-6))``.
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    grads = [p.grad._data for p in parameters if p.grad is not None]
    norm_type = float(norm_type)
    if not grads:
        from .._factories import tensor

        return tensor(0.0)
    xp = xp_of(grads[0])
    total = _vector_norm(xp.stack([_vector_norm(g, norm_type) for g in grads]), norm_type)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so "
                           "it cannot be clipped. To disable this error and scale the gradients by the non-finite "
                           "norm anyway, set `error_if_nonfinite=False`")
    coef = xp.minimum(float(max_norm) / (total + 1e-6), 1.0)
    for g in grads:
        g *= coef.astype(g.dtype)
    return Tensor._wrap(xp.asarray(total))


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float, foreach: bool | None = None) -> None:
    """Clamp every gradient element into ``[-clip_value, clip_value]``, in place."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    clip_value = float(clip_value)
    for p in parameters:
        if p.grad is not None:
            g = p.grad._data
            xp_of(g).clip(g, -clip_value, clip_value, out=g)


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and joined into one new vector (differentiable, as torch's)."""
    from ..ops.shape import cat

    params = list(parameters)
    _check_same_device(params)
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Make each parameter a view of its slice of ``vec``, as torch does.

    The parameters keep their identity (optimizers and modules still hold them) but from now on
    share ``vec``'s memory: writing into ``vec`` changes them.
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected minigrad.Tensor, but got: {type(vec).__name__}")
    params = list(parameters)
    _check_same_device(params)
    pointer = 0
    for p in params:
        n = p.numel()
        p.data = vec._data[pointer:pointer + n].reshape(p._data.shape)
        pointer += n


def _check_same_device(params: list) -> None:
    devices = {str(p.device) for p in params}
    if len(devices) > 1:
        raise TypeError("Found two parameters on different devices, this is currently not supported.")
