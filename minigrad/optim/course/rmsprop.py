"""RMSprop, as the course writes it."""

from __future__ import annotations

from typing import Any

import minigrad as torch

from ._base import CourseOptimizer


class RMSprop(CourseOptimizer):
    r"""RMSprop: AdaGrad with an exponential moving average of the squared gradients instead of their sum.

    Course: ``Sum_t = γ × Sum_{t-1} + (1 - γ) × ∇Loss(w_t)²``,
    ``w_{t+1} = w_t - η / sqrt(Sum_t + ε) × ∇Loss(w_t)``, γ "usually 0.9".

    torch (``RMSprop(params, lr, alpha=γ, eps)``): ``w -= η × ∇Loss / (sqrt(Sum_t) + ε)``, ε
    *outside* the root: a real difference for gradients near sqrt(ε) or below. Neither has a
    bias correction: the first step is about ``η/sqrt(1-γ)``. The course's constructor line
    (``initial_accumulator_value=0, eps=1e-10``) is copied from Adagrad: torch's RMSprop has no
    such argument (TypeError) and its eps is 1e-8, its alpha 0.99.

    Switch: ``eps_inside_sqrt=True`` (the course); ``False`` is torch's RMSprop (no momentum, not centered).
    """

    def __init__(self, params: Any, lr: float = 0.01, gamma: float = 0.9, eps: float = 1e-8,
                 eps_inside_sqrt: bool = True) -> None:
        super().__init__(params)
        self.lr, self.gamma, self.eps = lr, gamma, eps  # η, γ, ε
        self.eps_inside_sqrt = eps_inside_sqrt
        self.Sum = [torch.zeros_like(w) for w in self.params]

    def step(self) -> None:
        with torch.no_grad():
            for i, w in enumerate(self.params):
                g = w.grad
                self.Sum[i] = self.gamma * self.Sum[i] + (1 - self.gamma) * g * g
                if self.eps_inside_sqrt:
                    w -= self.lr / torch.sqrt(self.Sum[i] + self.eps) * g  # the course
                else:
                    w -= self.lr * g / (torch.sqrt(self.Sum[i]) + self.eps)  # torch
