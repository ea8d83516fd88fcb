"""AdaDelta, as the course writes it."""

from __future__ import annotations

from typing import Any

import minigrad as torch

from ._base import CourseOptimizer


class AdaDelta(CourseOptimizer):
    r"""AdaDelta: a step with the units of w, from the ratio of two moving RMS values; no learning rate.

    Course:

    1. ``EMA_t = ρ × EMA_{t-1} + (1 - ρ) × ∇Loss(w_t)²``
    2. ``RMS_t = sqrt(EMA_t + ε)``, ε "usually 1e-8"
    3. ``EMASU_t = ρ × EMASU_{t-1} + (1 - ρ) × Δw_t²``
    4. ``RMSU_t = sqrt(EMASU_t + ε)``
    5. ``w_{t+1} = w_t + Δw_t``, ``Δw_t = RMSU_{t-1} / RMS_t × ∇Loss(w_t)``

    (step 3 uses Δw_t, which step 5 defines: compute Δw_t with RMSU_{t-1} first.)

    Slip: ``w_t + Δw_t`` with ``Δw_t`` along the gradient *climbs* the loss. Switch:
    ``plus_sign=True`` (the course); ``False`` is ``w_t - Δw_t``.

    torch (``Adadelta(params, lr=1.0, rho, eps)``): ``w -= lr × Δw_t``, the rest the same (ε inside
    both roots). With the sign fixed and torch's default lr = 1 the numbers are torch's. Its
    default ε is 1e-6, not 1e-8: the first step is ≈ sqrt(ε/(1-ρ)), 3.2e-3 in torch and 3.2e-4
    with the course's ε (a real difference in the defaults).
    """

    def __init__(self, params: Any, rho: float = 0.9, eps: float = 1e-8, plus_sign: bool = True) -> None:
        super().__init__(params)
        self.rho, self.eps = rho, eps  # ρ, ε
        self.plus_sign = plus_sign
        self.EMA = [torch.zeros_like(w) for w in self.params]
        self.EMASU = [torch.zeros_like(w) for w in self.params]

    def step(self) -> None:
        rho, eps = self.rho, self.eps
        with torch.no_grad():
            for i, w in enumerate(self.params):
                g = w.grad
                self.EMA[i] = rho * self.EMA[i] + (1 - rho) * g * g  # 1.
                RMS, RMSU_prev = torch.sqrt(self.EMA[i] + eps), torch.sqrt(self.EMASU[i] + eps)  # 2., 4. at t-1
                delta_w = RMSU_prev / RMS * g  # 5.
                self.EMASU[i] = rho * self.EMASU[i] + (1 - rho) * delta_w * delta_w  # 3.
                if self.plus_sign:
                    w += delta_w  # the course: climbs the loss
                else:
                    w -= delta_w  # torch (lr = 1)
