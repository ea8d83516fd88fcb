"""RAdam: Adam whose adaptive step is switched on, and scaled, by the variance rectification term."""

from __future__ import annotations

from typing import Any

from .._backend import xp_of
from .optimizer import (
    STEP,
    ZEROS,
    Optimizer,
    StateSpec,
    adam_family_grad,
    advance,
    check_lr,
    check_moments,
    group_lr,
    lerp_,
)

__all__ = ["RAdam"]


class RAdam(Optimizer):
    r"""Rectified Adam (``torch.optim.RAdam``).

    **torch** (``g`` the gradient, ``-g`` with ``maximize``; ``t`` the step, from 1): weight decay
    is L2 (``g += λ·p``) or, with ``decoupled_weight_decay=True``, ``p *= 1 - lr·λ`` first; then
    Adam's ``m`` and ``v``, ``m̂ = m/(1-β1^t)``, and the length of the approximated simple moving
    average ``ρ∞ = 2/(1-β2) - 1``, ``ρ_t = ρ∞ - 2t·β2^t/(1-β2^t)``. While ``ρ_t ≤ 5`` (the first
    five or so steps with the default β2, every step when β2 < 0.6) the variance estimate is too
    uncertain and the step is plain momentum SGD: ``p -= lr·m̂``. Afterwards
    ``r_t = sqrt((ρ_t-4)(ρ_t-2)ρ∞ / ((ρ∞-4)(ρ∞-2)ρ_t))`` and
    ``p -= lr·m̂ · sqrt(1-β2^t)/(sqrt(v) + ε) · r_t``; ``r_t`` grows towards 1, so RAdam warms up
    its adaptive learning rate by itself.

    **Course**: RAdam is not in the course; see ``Adam`` for how the course's Adam differs.

    **Memory**: 4× (``exp_avg``, ``exp_avg_sq``, plus a 0-dim ``step``).

    Differs from torch: ``capturable`` is accepted and ignored (no CUDA graphs), and ``differentiable=True`` is
    accepted but the step is never recorded by autograd.
    """

    temporaries = 4

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False) -> None:
        check_lr(lr)
        check_moments(eps, betas, weight_decay)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "maximize": maximize,
                    "foreach": foreach, "capturable": capturable, "decoupled_weight_decay": decoupled_weight_decay,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def state_specs(self, group: dict) -> dict[str, StateSpec]:
        return {"step": STEP, "exp_avg": ZEROS, "exp_avg_sq": ZEROS}

    def _param_step(self, group: dict, param: Any, grad: Any, state: dict, first: bool) -> None:
        beta1, beta2 = group["betas"]
        lr = group_lr(group)
        t = advance(state["step"])
        g = adam_family_grad(group, param, grad)
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        lerp_(exp_avg, g, 1 - beta1)  # m = β1·m + (1-β1)·g
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * g * g  # v = β2·v + (1-β2)·g²
        bias_correction1 = 1 - beta1 ** t
        bias_correction2 = 1 - beta2 ** t
        corrected = exp_avg / bias_correction1  # m̂
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * (beta2 ** t) / bias_correction2
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            adaptive = bias_correction2 ** 0.5 / (xp_of(param).sqrt(exp_avg_sq) + group["eps"])
            param -= corrected * lr * adaptive * rect  # p -= lr·m̂ · sqrt(1-β2^t)/(sqrt(v) + ε) · r_t
        else:
            param -= corrected * lr  # p -= lr·m̂: no adaptive step yet

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("decoupled_weight_decay", False)
