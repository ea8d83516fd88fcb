"""AdaGrad, as the course writes it."""

from __future__ import annotations

from typing import Any

import minigrad as torch

from ._base import CourseOptimizer


class AdaGrad(CourseOptimizer):
    r"""AdaGrad: divide the learning rate by the root of the sum of all past squared gradients.

    Course: ``Sum_t = Sum_{t-1} + ∇Loss(w_t)²``, ``w_{t+1} = w_t - η / sqrt(Sum_t + ε) × ∇Loss(w_t)``.

    torch (``Adagrad(params, lr, eps)``): ``w -= η × ∇Loss / (sqrt(Sum_t) + ε)``, ε *outside* the
    root: a real difference while ``Sum`` is small (a first gradient of 1e-5 moves the course's
    weight by ≈0.7·η, torch's by ≈η). torch also has ``lr_decay``, weight decay and a start
    value for Sum, which the course's formula lacks.

    Switch: ``eps_inside_sqrt=True`` (the course); ``False`` is torch's Adagrad with its defaults.
    """

    def __init__(self, params: Any, lr: float = 0.01, eps: float = 1e-10, eps_inside_sqrt: bool = True) -> None:
        super().__init__(params)
        self.lr, self.eps = lr, eps  # η, ε
        self.eps_inside_sqrt = eps_inside_sqrt
        self.Sum = [torch.zeros_like(w) for w in self.params]

    def step(self) -> None:
        with torch.no_grad():
            for i, w in enumerate(self.params):
                g = w.grad
                self.Sum[i] = self.Sum[i] + g * g
                if self.eps_inside_sqrt:
                    w -= self.lr / torch.sqrt(self.Sum[i] + self.eps) * g  # the course
                else:
                    w -= self.lr * g / (torch.sqrt(self.Sum[i]) + self.eps)  # torch
