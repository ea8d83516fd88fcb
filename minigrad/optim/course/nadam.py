"""NAdam, as the course writes it."""

from __future__ import annotations

from typing import Any

import minigrad as torch

from ._base import CourseOptimizer


class NAdam(CourseOptimizer):
    r"""NAdam: Adam whose bias-corrected momentum also looks one step ahead.

    Course: Adam's ``m_t``, ``r_t`` and ``r̂_t``, then
    ``m̂_t = β1 × m_t / (1 - β1^t) + (1 - β1) / (1 - β1^t)``, ``w_{t+1} = w_t - η × m̂_t / (sqrt(r̂_t) + ε)``.

    Slip: the second term of ``m̂_t`` lacks the gradient: it should be
    ``(1 - β1) × ∇Loss(w_t) / (1 - β1^t)``. As written it pushes every weight by
    ``η × (1-β1)/(1-β1^t) / (sqrt(r̂_t) + ε)`` whatever its gradient, even at a minimum
    (where ``sqrt(r̂) + ε`` can be as small as ε). Switch: ``drop_grad_term=True`` (the course);
    ``False`` puts ``∇Loss(w_t)`` back.

    torch (``NAdam(params, lr, betas, eps, momentum_decay=ψ)``) differs even after the fix, a
    real difference: it uses Dozat's momentum schedule ``μ_t = β1 × (1 - ½ × 0.96^(t·ψ))``, which
    starts near β1/2 (0.45 for β1 = 0.9) and reaches β1 only after tens of thousands of steps,
    and corrects with the products of the μ's: ``w -= η × [(1-μ_t)/(1-Πμ_{≤t}) × g +
    μ_{t+1}/(1-Πμ_{≤t+1}) × m_t] / (sqrt(r̂_t) + ε)``. No value of ψ gives the course's rule.
    """

    def __init__(self, params: Any, lr: float = 0.002, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 drop_grad_term: bool = True) -> None:
        super().__init__(params)
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps  # η, β1, β2, ε
        self.drop_grad_term = drop_grad_term
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
                r_hat = self.r[i] / (1 - b2 ** self.t)
                term = 1 if self.drop_grad_term else g  # the course's slip: no ∇Loss in the second term
                m_hat = b1 * self.m[i] / (1 - b1 ** self.t) + (1 - b1) * term / (1 - b1 ** self.t)
                w -= self.lr * m_hat / (torch.sqrt(r_hat) + self.eps)
