"""Resilient backpropagation, the course's three steps."""

from __future__ import annotations

from typing import Any

import minigrad as torch

from ._base import CourseOptimizer


class Rprop(CourseOptimizer):
    r"""Rprop: move by an update value U against the gradient's sign; U grows while the sign holds.

    Course, three steps per weight:

    1. ``w_{t+1} = w_t - U_t × sign(∇Loss(w_t))``, with ``U_0 = 0``;
    2. ``U = U × η+`` where ``sign(∇Loss(w)) = SGN``, ``U = U × η-`` where it differs
       (the first step compares with ``SGN = 0``: "differs", so U shrinks);
    3. ``SGN = sign(∇Loss(w))``;

    with, "in practice", U kept within [1e-6, 50] (the course writes "1e-06 = 0.00000001": the
    decimal is 1e-8, a slip; 1e-6 is torch's).

    Slip: ``U_0 = 0`` never moves anything: the formula multiplies it. ``u0`` is U_0 and defaults
    to the course's 0; then only the clamp to ``u_min`` gets U off zero (``u_min=0`` shows the
    formula alone: nothing ever moves). torch starts U at ``lr`` (0.01): pass ``u0=0.01``.

    torch (``Rprop(params, lr, etas=(η-, η+))``; the course says "etas = η+ and η-", backwards)
    is iRprop-, a real difference even with ``u0 = lr``: it adapts U with the current sign
    agreement *before* moving, does not move an element whose sign just changed (and stores 0 as
    its previous gradient), keeps U where the gradient or the previous one is 0, and clamps U
    at every step.
    """

    def __init__(self, params: Any, u0: float = 0.0, eta_plus: float = 1.2, eta_minus: float = 0.5,
                 u_min: float = 1e-6, u_max: float = 50.0) -> None:
        super().__init__(params)
        self.eta_plus, self.eta_minus, self.u_min, self.u_max = eta_plus, eta_minus, u_min, u_max
        self.U = [torch.full_like(w, u0) for w in self.params]  # U_0
        self.SGN = [torch.zeros_like(w) for w in self.params]  # no previous sign yet

    def step(self) -> None:
        with torch.no_grad():
            for i, w in enumerate(self.params):
                s = torch.sign(w.grad)
                w -= self.U[i] * s  # 1. update the weights
                U = torch.where(s == self.SGN[i], self.U[i] * self.eta_plus, self.U[i] * self.eta_minus)
                self.U[i] = U.clamp(self.u_min, self.u_max)  # 2. update the values
                self.SGN[i] = s  # 3. store the signs
