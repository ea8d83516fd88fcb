"""NAdam: Adam with Nesterov momentum, following Dozat's momentum schedule."""

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

__all__ = ["NAdam"]

MU_PRODUCT = StateSpec("scalar", 1.0)


class NAdam(Optimizer):
    r"""Nesterov-accelerated adaptive moment estimation (``torch.optim.NAdam``).

    **Course**: Adam's ``m_t`` and ``r̂_t``, ``m̂_t = β1·m_t/(1-β1^t) + (1-β1)/(1-β1^t)``,
    ``w_{t+1} = w_t - η·m̂_t/(sqrt(r̂_t) + ε)``.

    **torch** (``g`` the gradient, ``-g`` with ``maximize``; ``t`` the step, from 1; ``ψ`` the
    ``momentum_decay``): ``μ_t = β1·(1 - ½·0.96^(t·ψ))``; ``mu_product`` (state) ``= Π μ_{i≤t}``;
    Adam's ``m`` (with the constant β1) and ``v``; ``d = sqrt(v/(1-β2^t)) + ε``;
    ``p -= lr·(1-μ_t)/(1-Πμ_{≤t})·g/d + lr·μ_{t+1}/(1-Πμ_{≤t+1})·m/d``. Weight decay is L2,
    or decoupled (``p *= 1 - lr·λ``) with ``decoupled_weight_decay=True``.

    **Differences**:

    * the course's second term lacks the gradient: a *typo* for ``(1-β1)·∇L/(1-β1^t)``;
    * even corrected, that is NAdam with a constant μ = β1; torch uses the momentum schedule
      μ_t, which starts near β1/2 (0.45 with the defaults) and approaches β1 only after tens of
      thousands of steps: a *real difference*; no setting of torch gives the course's rule;
    * the Nesterov "look-ahead" comes from the ``μ_{t+1}·m`` term plus the current-gradient
      term, with no extra gradient evaluation (a *change of variables*, as for SGD's Nesterov);
    * ε outside the root and the constructor line's defaults agree with torch.

    ``mu_product`` is a 0-dim host tensor in the ``step`` dtype (float32 unless the default
    dtype is float64) and is rounded to it after each multiplication, as torch does.

    **Memory**: 4× (``exp_avg``, ``exp_avg_sq``, plus 0-dim ``step`` and ``mu_product``).

    Differs from torch: ``capturable`` is accepted and ignored (no CUDA graphs), and ``differentiable=True`` is
    accepted but the step is never recorded by autograd.
    """

    temporaries = 4

    def __init__(self, params: Any, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        check_lr(lr)
        check_moments(eps, betas, weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "momentum_decay": momentum_decay, "decoupled_weight_decay": decoupled_weight_decay,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def state_specs(self, group: dict) -> dict[str, StateSpec]:
        return {"step": STEP, "mu_product": MU_PRODUCT, "exp_avg": ZEROS, "exp_avg_sq": ZEROS}

    def _param_step(self, group: dict, param: Any, grad: Any, state: dict, first: bool) -> None:
        xp = xp_of(param)
        beta1, beta2 = group["betas"]
        lr, momentum_decay = group_lr(group), group["momentum_decay"]
        t = advance(state["step"])
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (t * momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((t + 1) * momentum_decay)))
        mu_product = state["mu_product"]
        mu_product *= mu  # rounded to the state's dtype, as torch's 0-dim tensor is
        mu_product_next = mu_product.item() * mu_next

        g = adam_family_grad(group, param, grad)
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        lerp_(exp_avg, g, 1 - beta1)
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * g * g
        denom = xp.sqrt(exp_avg_sq / (1 - beta2 ** t)) + group["eps"]
        param += (-lr * (1.0 - mu) / (1.0 - mu_product.item())) * (g / denom)
        param += ((-lr * mu_next) / (1.0 - mu_product_next)) * (exp_avg / denom)
