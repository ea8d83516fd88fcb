"""Adam, as the course writes it."""

from __future__ import annotations

from typing import Any

import minigrad as torch

from ._base import CourseOptimizer


class Adam(CourseOptimizer):
    r"""Adam: momentum (first moment) divided by the root of RMSprop's average (second moment), both bias-corrected.

    Course: ``m_t = β1 × m_{t-1} + (1 - β1) × ∇Loss(w_t)``, ``r_t = β2 × r_{t-1} + (1 - β2) × ∇Loss(w_t)²``,
    ``m̂_t = m_t / (1 - β1^t)``, ``r̂_t = r_t / (1 - β2^t)``, ``w_{t+1} = w_t - η × m̂_t / sqrt(r̂_t + ε)``.

    torch (``Adam(params, lr, betas=(β1, β2), eps)``): the same moments, but
    ``w -= η × m̂_t / (sqrt(r̂_t) + ε)``, ε *outside* the root: a real difference (1e-8 inside acts
    like 1e-4 outside: a gradient of 1e-4 moves the course's weight by ≈η/sqrt(2) at the first
    step, torch's by ≈η). The course's own NAdam puts ε outside. (Under r̂ the course says
    "bias-corrected first moment": a typo for the second.)

    Switch: ``eps_inside_sqrt=True`` (the course); ``False`` is torch's Adam (no amsgrad, no weight decay).
    """

    def __init__(self, params: Any, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 eps_inside_sqrt: bool = True) -> None:
        super().__init__(params)
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps  # η, β1, β2, ε
        self.eps_inside_sqrt = eps_inside_sqrt
        self.m = [torch.zeros_like(w) for w in self.params]  # m_0 = 0
        self.r = [torch.zeros_like(w) for w in self.params]  # r_0 = 0
        self.t = 0

    def step(self) -> None:
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        with torch.no_grad():
            for i, w in enumerate(self.params):
                g = w.grad
                self.m[i] = b1 * self.m[i] + (1 - b1) * g
                self.r[i] = b2 * self.r[i] + (1 - b2) * g * g
                m_hat, r_hat = self.m[i] / (1 - b1 ** self.t), self.r[i] / (1 - b2 ** self.t)
                if self.eps_inside_sqrt:
                    w -= self.lr * m_hat / torch.sqrt(r_hat + self.eps)  # the course
                else:
                    w -= self.lr * m_hat / (torch.sqrt(r_hat) + self.eps)  # torch
