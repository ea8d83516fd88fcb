"""Stochastic gradient descent, with momentum, dampening, Nesterov momentum and L2 weight decay."""

from __future__ import annotations

from typing import Any

from .optimizer import ZEROS, Optimizer, StateSpec, check_lr, decayed, group_lr

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent (``torch.optim.SGD``), optionally with momentum.

    **Course**: ``w_{t+1} = w_t - α·∇L(w_t)``; with momentum ``m_t = μ·m_{t-1} + (1-τ)·∇L(w_t)``,
    ``m_0 = 0``, ``w_{t+1} = w_t - α·m_t``; Nesterov ``m_t = μ·m_{t-1} + ∇L(w_t - μ·m_{t-1})``.

    **torch** (``g`` the gradient, ``-g`` with ``maximize``, plus ``λ·p`` with weight decay):
    the buffer starts as ``b_1 = g_1`` and then ``b_t = μ·b_{t-1} + (1-τ)·g_t``; the step is
    ``p -= lr·b_t``, or ``p -= lr·(g_t + μ·b_t)`` with ``nesterov=True``.

    **Differences**:

    * momentum without dampening: the same recursion (``m_0 = 0`` gives ``m_1 = g_1``);
    * dampening, a *real difference* at the first step: torch starts the buffer at ``g_1``,
      not ``(1-τ)·g_1``, so its first step is ``1/(1-τ)`` times larger; from step 2 on the
      recursions agree;
    * Nesterov, a *change of variables* plus a *typo*: torch never evaluates the gradient at
      a shifted point; its stored weights are the course's look-ahead point
      ``u_t = w_t - α·μ·m_{t-1}`` (the course omits α there: a typo), for which the course's
      rule becomes exactly torch's ``p -= lr·(g_t + μ·b_t)``. torch refuses Nesterov with
      dampening (ValueError), which the course allows;
    * ``lr`` is optional (default 1e-3) in torch 2.13; the course lists it as required.

    **Memory** (parameters + gradients + state, in units of the parameters): 2× without
    momentum (no state at all), 3× with momentum (``momentum_buffer``).

    Differs from torch: ``differentiable=True`` is accepted but the step is never recorded by autograd, and
    ``fused=True`` runs the multi-tensor (foreach) step, with the same results, instead of a fused kernel.
    """

    temporaries = 3

    def __init__(self, params: Any, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, differentiable: bool = False, fused: bool | None = None) -> None:
        check_lr(lr)
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
                    "nesterov": nesterov, "maximize": maximize, "foreach": foreach,
                    "differentiable": differentiable, "fused": fused}
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    def state_specs(self, group: dict) -> dict[str, StateSpec]:
        return {"momentum_buffer": ZEROS} if group["momentum"] != 0 else {}

    def _param_step(self, group: dict, param: Any, grad: Any, state: dict, first: bool) -> None:
        lr, momentum, dampening = group_lr(group), group["momentum"], group["dampening"]
        d = decayed(grad, param, group["maximize"], group["weight_decay"])
        if momentum != 0:
            buf = state["momentum_buffer"]
            if first:
                buf[...] = d  # the first buffer is the gradient itself: no dampening yet
            else:
                buf *= momentum
                buf += (1 - dampening) * d if dampening != 0 else d
            d = d + momentum * buf if group["nesterov"] else buf
        param -= lr * d
