"""Adam: moving averages of the gradient and of its square, with bias correction."""

from __future__ import annotations

from typing import Any

from .._backend import xp_of
from ..tensor import Tensor
from .optimizer import (
    STEP,
    ZEROS,
    Optimizer,
    StateSpec,
    adam_family_grad,
    advance,
    check_fused,
    check_lr,
    check_moments,
    group_lr,
    lerp_,
)

__all__ = ["Adam"]


class Adam(Optimizer):
    r"""Adaptive moment estimation (``torch.optim.Adam``).

    **Course**: ``m_t = β1·m_{t-1} + (1-β1)·∇L``, ``r_t = β2·r_{t-1} + (1-β2)·∇L²``,
    ``m̂ = m_t/(1-β1^t)``, ``r̂ = r_t/(1-β2^t)``, ``w_{t+1} = w_t - η·m̂/sqrt(r̂ + ε)``.

    **torch** (``g`` the gradient, ``-g`` with ``maximize``; ``t`` the step, from 1):
    weight decay is L2 (``g += λ·p``) or, with ``decoupled_weight_decay=True`` (AdamW),
    ``p *= 1 - lr·λ`` first; then the same ``m`` and ``v``, and
    ``p -= lr/(1-β1^t) · m / (sqrt(v)/sqrt(1-β2^t) + ε)``, that is ``lr·m̂/(sqrt(v̂) + ε)``.
    With ``amsgrad=True`` the running maximum of ``v`` replaces ``v`` in the denominator.

    **Differences**:

    * ε inside the root in the course, outside in torch: a *real difference*. ε = 1e-8 inside
      acts like 1e-4 outside, which slows the course's steps for gradients below about 1e-3
      (the course's own NAdam formula puts ε outside, like torch);
    * "bias-corrected first moment" under ``r̂``: a *typo* for the second moment;
    * amsgrad, weight decay and maximize are not in the course (missing features).

    **Memory**: 4× (``exp_avg``, ``exp_avg_sq``, plus a 0-dim ``step``); 5× with amsgrad
    (``max_exp_avg_sq``).

    Differs from torch: ``capturable`` is accepted and ignored (no CUDA graphs) and ``differentiable=True`` does
    not record the step; ``fused=True`` runs the multi-tensor (foreach) step, with the same results.
    """

    temporaries = 4

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None, decoupled_weight_decay: bool = False) -> None:
        if isinstance(lr, Tensor) and foreach and not capturable:
            raise ValueError("lr as a Tensor is not supported for capturable=False and foreach=True")
        check_lr(lr)
        check_moments(eps, betas, weight_decay)
        if not ((isinstance(betas[0], float) and isinstance(betas[1], float))
                or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))):
            raise ValueError("betas must be either both floats or both Tensors")
        for i, beta in enumerate(betas):
            if isinstance(beta, Tensor):
                if not capturable and foreach:
                    raise ValueError(f"betas[{i}] as a Tensor is not supported for capturable=False and foreach=True")
                if beta.numel() != 1:
                    raise ValueError(f"Tensor betas[{i}] must be 1-element")
        betas = tuple(float(b) for b in betas)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "amsgrad": amsgrad,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable, "fused": fused, "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)
        check_fused(fused, foreach, differentiable)

    def state_specs(self, group: dict) -> dict[str, StateSpec]:
        specs = {"step": STEP, "exp_avg": ZEROS, "exp_avg_sq": ZEROS}
        if group["amsgrad"]:
            specs["max_exp_avg_sq"] = ZEROS
        return specs

    def _param_step(self, group: dict, param: Any, grad: Any, state: dict, first: bool) -> None:
        xp = xp_of(param)
        beta1, beta2 = group["betas"]
        lr = group_lr(group)
        t = advance(state["step"])
        g = adam_family_grad(group, param, grad)
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        lerp_(exp_avg, g, 1 - beta1)  # m = β1·m + (1-β1)·g
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * g * g  # v = β2·v + (1-β2)·g²
        if group["amsgrad"]:
            v = state["max_exp_avg_sq"]
            xp.maximum(v, exp_avg_sq, out=v)  # the running maximum of the raw v, corrected like v
        else:
            v = exp_avg_sq
        step_size = lr / (1 - beta1 ** t)
        denom = xp.sqrt(v) / (1 - beta2 ** t) ** 0.5 + group["eps"]  # sqrt(v̂) + ε
        param -= step_size * (exp_avg / denom)  # p -= lr·m̂ / (sqrt(v̂) + ε)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("decoupled_weight_decay", False)
