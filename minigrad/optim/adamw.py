"""AdamW: Adam with decoupled weight decay."""

from __future__ import annotations

from typing import Any

from .adam import Adam

__all__ = ["AdamW"]


class AdamW(Adam):
    r"""Adam with decoupled weight decay (``torch.optim.AdamW``).

    **torch**: ``p *= 1 - lr·λ``, then Adam's step with the untouched gradient (see ``Adam``).
    The decay uses the current lr, so a scheduler scales it too; parameters without a
    gradient are not decayed. The default ``weight_decay`` is 1e-2 (Adam's is 0). It is
    ``Adam(..., decoupled_weight_decay=True)``: its groups say so, and that argument can't be
    given to AdamW.

    **Course**: AdamW is not in the course; see ``Adam`` for how the course's Adam differs.

    **Memory**: 4× (``exp_avg``, ``exp_avg_sq``, plus a 0-dim ``step``); 5× with amsgrad.

    Differs from torch: ``capturable`` is accepted and ignored (no CUDA graphs) and ``differentiable=True`` does
    not record the step; ``fused=True`` runs the multi-tensor (foreach) step, with the same results.
    """

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def _fix_loaded_group(self, group: dict) -> None:
        group["decoupled_weight_decay"] = True

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
