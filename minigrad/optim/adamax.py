"""Adamax: Adam with the infinity norm in place of the root mean square of the gradients."""

from __future__ import annotations

from typing import Any

from .._backend import xp_of
from .optimizer import STEP, ZEROS, Optimizer, StateSpec, advance, check_lr, check_moments, decayed, group_lr, lerp_

__all__ = ["Adamax"]


class Adamax(Optimizer):
    r"""Adamax, Adam based on the infinity norm (``torch.optim.Adamax``).

    **torch** (``g`` the gradient, ``-g`` with ``maximize``, plus ``λ·p`` with weight decay;
    ``t`` the step, from 1): ``m = β1·m + (1-β1)·g``; ``u = max(β2·u, |g| + ε)``;
    ``p -= lr/(1-β1^t) · m / u``. ``u`` (``exp_inf``) needs no bias correction: it is a running
    maximum, not an average. ε is added to ``|g|`` inside the maximum, so ``u`` is never 0.

    **Course**: Adamax is not in the course.

    **Memory**: 4× (``exp_avg``, ``exp_inf``, plus a 0-dim ``step``).

    Differs from torch: ``capturable`` is accepted and ignored (no CUDA graphs), and ``differentiable=True`` is
    accepted but the step is never recorded by autograd.
    """

    temporaries = 4

    def __init__(self, params: Any, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        check_lr(lr)
        check_moments(eps, betas, weight_decay)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "capturable": capturable}
        super().__init__(params, defaults)

    def state_specs(self, group: dict) -> dict[str, StateSpec]:
        return {"step": STEP, "exp_avg": ZEROS, "exp_inf": ZEROS}

    def _param_step(self, group: dict, param: Any, grad: Any, state: dict, first: bool) -> None:
        xp = xp_of(param)
        beta1, beta2 = group["betas"]
        t = advance(state["step"])
        g = decayed(grad, param, group["maximize"], group["weight_decay"])
        exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
        lerp_(exp_avg, g, 1 - beta1)  # m = β1·m + (1-β1)·g
        exp_inf *= beta2
        xp.maximum(exp_inf, xp.abs(g) + group["eps"], out=exp_inf)  # u = max(β2·u, |g| + ε)
        clr = group_lr(group) / (1 - beta1 ** t)
        param += (-clr * exp_avg) / exp_inf  # p -= lr/(1-β1^t) · m / u
