"""Adagrad: per-element learning rates from the running sum of squared gradients."""

from __future__ import annotations

from typing import Any

from .._backend import xp_of
from .optimizer import STEP, Optimizer, StateSpec, advance, check_fused, check_lr, decayed, group_lr

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adaptive gradient (``torch.optim.Adagrad``).

    **Course**: ``Sum_t = Sum_{t-1} + ∇L²``, ``w_{t+1} = w_t - η/sqrt(Sum_t + ε)·∇L``.

    **torch** (``g`` the gradient, ``-g`` with ``maximize``, plus ``λ·p`` with weight decay;
    ``t`` the step, from 1): ``clr = lr / (1 + (t-1)·lr_decay)``; ``sum += g²``;
    ``p -= clr·g / (sqrt(sum) + ε)``; ``sum`` starts at ``initial_accumulator_value``.

    **Differences**:

    * ε inside the root in the course, outside in torch: a *real difference*, visible while
      ``sum`` is small (a first gradient of 1e-5 moves by ≈0.7·η in the course, ≈η in torch);
    * ``lr_decay``, weight decay and the start value of the sum are not in the course's
      formula (missing features, not errors); the constructor line matches torch's defaults.

    State is created in ``__init__`` for every parameter, as torch does (``sum`` filled with
    the constructor's ``initial_accumulator_value``, for every group; a group's own value is
    ignored, and parameters added later with ``add_param_group`` get it at their first step).

    **Memory**: 3× (``sum``, plus a 0-dim ``step``), taken before training starts.

    Differs from torch: ``differentiable=True`` is accepted but the step is never recorded by autograd, and
    ``fused=True`` runs the multi-tensor (foreach) step, with the same results, instead of a fused kernel.
    """

    temporaries = 4

    state_at_init = True

    def __init__(self, params: Any, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False, fused: bool | None = None) -> None:
        check_lr(lr)
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)
        check_fused(fused, foreach, differentiable)
        for group in self.param_groups:
            self._start_state(group)

    def _start_state(self, group: dict) -> None:
        """Every parameter's state, made now (torch's Adagrad does not wait for the first step)."""
        params = list(dict.fromkeys(group["params"]))
        if self.uses_multi_tensor(group):
            self._start_runs(group, params)
        else:
            for p in params:
                self.state[p] = self._new_state(group, p)

    def state_specs(self, group: dict) -> dict[str, StateSpec]:
        # The constructor's value, for every group: torch ignores a group's own initial_accumulator_value.
        return {"step": STEP, "sum": StateSpec("tensor", self.defaults["initial_accumulator_value"])}

    def _param_step(self, group: dict, param: Any, grad: Any, state: dict, first: bool) -> None:
        t = advance(state["step"])
        clr = group_lr(group) / (1 + (t - 1) * group["lr_decay"])
        g = decayed(grad, param, group["maximize"], group["weight_decay"])
        state_sum = state["sum"]
        state_sum += g * g
        std = xp_of(param).sqrt(state_sum) + group["eps"]
        param -= clr * (g / std)
