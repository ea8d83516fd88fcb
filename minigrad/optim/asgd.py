"""ASGD: SGD with a decaying step size and a running average of the iterates."""

from __future__ import annotations

from typing import Any

import numpy

from .optimizer import STEP, ZEROS, Optimizer, StateSpec, advance, check_lr, decayed, group_lr, scalar_dtype

__all__ = ["ASGD"]

MU = StateSpec("scalar", 1.0)


class ASGD(Optimizer):
    r"""Averaged stochastic gradient descent (``torch.optim.ASGD``).

    **torch** (``g`` the gradient, ``-g`` with ``maximize``, plus ``λ·p`` with weight decay; ``t``
    the step, from 1; ``η`` (``eta``) and ``μ`` (``mu``) 0-dim state, starting at ``lr`` and 1):
    ``p *= 1 - lambd·η``; ``p -= η·g``; ``ax += μ·(p - ax)`` (``ax = p`` while ``μ = 1``); then
    ``η = lr / (1 + lambd·lr·t)^alpha`` and ``μ = 1/max(1, t - t0)``. ``ax`` is the Polyak
    average of the iterates since step ``t0``: until then (the default ``t0`` is 1e6) it is a
    copy of ``p``. The optimizer never moves ``p`` to ``ax``; read ``state[p]["ax"]`` to
    evaluate with the averaged weights. ``lr`` is the starting η, and a new lr is used from the
    η computed after the next step.

    **Course**: ASGD is not in the course.

    ``eta`` and ``mu`` are 0-dim host tensors in the ``step`` dtype (float32 unless the default
    dtype is float64) and are rounded to it when they are written, as torch does.

    **Memory**: 3× (``ax``, plus 0-dim ``step``, ``eta`` and ``mu``).

    Differs from torch: ``capturable`` is accepted and ignored (no CUDA graphs), ``differentiable=True`` is
    accepted but the step is never recorded by autograd, and ``eta`` and ``mu`` stay on the host.
    """

    temporaries = 3

    def __init__(self, params: Any, lr: float = 1e-2, lambd: float = 1e-4, alpha: float = 0.75, t0: float = 1e6,
                 weight_decay: float = 0, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        check_lr(lr)
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0, "weight_decay": weight_decay,
                    "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
        super().__init__(params, defaults)

    def state_specs(self, group: dict) -> dict[str, StateSpec]:
        # eta starts at the group's lr when the parameter gets its state.
        return {"step": STEP, "eta": StateSpec("scalar", group_lr(group)), "mu": MU, "ax": ZEROS}

    def _param_step(self, group: dict, param: Any, grad: Any, state: dict, first: bool) -> None:
        lr, lambd = group_lr(group), group["lambd"]
        t = advance(state["step"])
        g = decayed(grad, param, group["maximize"], group["weight_decay"])
        eta, mu, ax = state["eta"], state["mu"], state["ax"]
        eta_value = eta.item()
        param *= 1 - lambd * eta_value  # decay towards 0
        param -= eta_value * g
        if mu.item() != 1:
            ax += (param - ax) * mu.item()  # running average of the iterates
        else:
            ax[...] = param
        # New values pass through a tensor of the step dtype, then into the state's own dtype.
        eta[...] = numpy.asarray(lr / ((1 + lambd * lr * t) ** group["alpha"]), dtype=scalar_dtype())
        mu[...] = numpy.asarray(1 / max(1, t - group["t0"]), dtype=scalar_dtype())
