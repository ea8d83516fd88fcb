"""Adadelta: step sizes from the ratio of two moving averages, of squared updates and squared gradients."""

from __future__ import annotations

from typing import Any

from .._backend import xp_of
from .optimizer import STEP, ZEROS, Optimizer, StateSpec, advance, check_lr, decayed, group_lr

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    r"""Adadelta (``torch.optim.Adadelta``).

    **Course**: ``EMA_t = ρ·EMA_{t-1} + (1-ρ)·∇L²``, ``RMS_t = sqrt(EMA_t + ε)``,
    ``EMASU_t = ρ·EMASU_{t-1} + (1-ρ)·Δw_t²``, ``RMSU_t = sqrt(EMASU_t + ε)``,
    ``Δw_t = RMSU_{t-1}/RMS_t·∇L``, ``w_{t+1} = w_t + Δw_t``.

    **torch** (``g`` the gradient, ``-g`` with ``maximize``, plus ``λ·p`` with weight decay):
    ``v = ρ·v + (1-ρ)·g²``; ``δ = sqrt(u + ε)/sqrt(v + ε)·g`` with ``u`` from the previous step;
    ``u = ρ·u + (1-ρ)·δ²``; ``p -= lr·δ``.

    **Differences**:

    * ``w_{t+1} = w_t + Δw_t`` is a *sign typo*: as written it climbs the loss;
    * the course has no learning rate; torch's ``lr`` (default 1.0) scales the applied step
      only, not the accumulated ``δ²``: identical at the default, a *real difference* otherwise;
    * default ε: 1e-6 in torch, "usually 1e-8" and ``eps=1e-08`` in the course's constructor
      line (a *real difference*: the first step ≈ sqrt(ε/(1-ρ)) is 10× smaller with 1e-8);
    * the course uses ``Δw_t`` in step 3 before defining it: presentation order only;
    * ε inside both roots: the same.

    **Memory**: 4× (``square_avg``, ``acc_delta``, plus a 0-dim ``step``).

    Differs from torch: ``capturable`` is accepted and ignored (no CUDA graphs), and ``differentiable=True`` is
    accepted but the step is never recorded by autograd.
    """

    temporaries = 5

    def __init__(self, params: Any, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6, weight_decay: float = 0,
                 foreach: bool | None = None, *, capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False) -> None:
        check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay, "maximize": maximize,
                    "capturable": capturable, "foreach": foreach, "differentiable": differentiable}
        super().__init__(params, defaults)

    def state_specs(self, group: dict) -> dict[str, StateSpec]:
        return {"step": STEP, "square_avg": ZEROS, "acc_delta": ZEROS}

    def _param_step(self, group: dict, param: Any, grad: Any, state: dict, first: bool) -> None:
        xp = xp_of(param)
        rho, eps = group["rho"], group["eps"]
        advance(state["step"])  # counted, never used in the update
        g = decayed(grad, param, group["maximize"], group["weight_decay"])
        square_avg, acc_delta = state["square_avg"], state["acc_delta"]
        square_avg *= rho
        square_avg += (1 - rho) * g * g  # E[g²] = ρ·E[g²] + (1-ρ)·g²
        std = xp.sqrt(square_avg + eps)
        delta = xp.sqrt(acc_delta + eps) / std * g  # u = sqrt(E[Δ²] + ε) / sqrt(E[g²] + ε) · g
        acc_delta *= rho
        acc_delta += (1 - rho) * delta * delta  # the unscaled u: lr does not enter the accumulator
        param -= group_lr(group) * delta
