"""Adam: moving averages of the gradient and of its square, with bias correction."""

from __future__ import annotations

from typing import Any

from .._backend import xp_of
from ..tensor import Tensor
from .optimizer import (
    STEP,
    ZEROS,
    Optimizer,
    Scratch,
    StateSpec,
    adam_family_grad,
    advance,
    check_fused,
    check_lr,
    group_lr,
    update_moments_,
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
    """

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None, decoupled_weight_decay: bool = False) -> None:
        if isinstance(lr, Tensor) and foreach and not capturable:
            raise ValueError("lr as a Tensor is not supported for capturable=False and foreach=True")
        check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
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

    def _state_specs(self, group: dict) -> dict[str, StateSpec]:
        specs = {"step": STEP, "exp_avg": ZEROS,
                 "exp_avg_sq": ZEROS}
        if group["amsgrad"]:
            specs["max_exp_avg_sq"] = ZEROS
        return specs

    def _coefficients(self, group: dict, scalars: dict, fresh: bool) -> tuple[float, float]:
        beta1, beta2 = group["betas"]
        t = advance(scalars["step"])
        bias_correction1 = 1 - beta1 ** t
        bias_correction2 = 1 - beta2 ** t
        return group_lr(group) / bias_correction1, bias_correction2 ** 0.5

    def _update(self, group: dict, param: Any, grad: Any, state: dict, coefficients: tuple[float, float],
                tmp: Scratch) -> None:
        xp = xp_of(param)
        a, b = tmp.floats
        step_size, bias_correction2_sqrt = coefficients
        g = adam_family_grad(group, param, grad, out=a)
        update_moments_(state, g, group["betas"], tmp=b)
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        if group["amsgrad"]:
            max_exp_avg_sq = state["max_exp_avg_sq"]
            xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
            denom = xp.sqrt(max_exp_avg_sq, out=b)  # the running maximum of the raw v, corrected like v
        else:
            denom = xp.sqrt(exp_avg_sq, out=b)
        denom /= bias_correction2_sqrt
        denom += group["eps"]
        update = xp.divide(exp_avg, denom, out=b)
        update *= -step_size
        param += update

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("decoupled_weight_decay", False)
