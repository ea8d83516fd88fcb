"""Gradient descent, momentum (with dampening) and Nesterov accelerated gradient, as the course writes them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import minigrad as torch

from ._base import CourseOptimizer


class SGD(CourseOptimizer):
    r"""Gradient descent.

    Course: ``w_{t+1} = w_t - α × ∇Loss(w_t)``.

    torch: ``torch.optim.SGD(params, lr)`` is the same rule, to the last bit.
    """

    def __init__(self, params: Any, lr: float = 0.01) -> None:
        super().__init__(params)
        self.lr = lr  # α

    def step(self) -> None:
        with torch.no_grad():
            for w in self.params:
                w -= self.lr * w.grad


class Momentum(CourseOptimizer):
    r"""Momentum, with the course's dampening τ.

    Course: ``m_t = μ × m_{t-1} + (1 - τ) × ∇Loss(w_t)``, ``m_0 = 0``; ``w_{t+1} = w_t - α × m_t``.

    torch (``SGD(params, lr, momentum=μ, dampening=τ)``): the same recursion from step 2 on, but
    the buffer *starts* at ``b_1 = ∇Loss(w_1)``, undamped, where the course has ``m_1 = (1-τ)·∇Loss(w_1)``:
    torch's first step is ``1/(1-τ)`` times larger (a real difference, not a slip). With τ = 0
    the two are identical.

    Switch: ``dampen_first_step=True`` (the course); ``False`` starts as torch does, and then the
    numbers are torch's.
    """

    def __init__(self, params: Any, lr: float = 0.01, mu: float = 0.9, tau: float = 0.0,
                 dampen_first_step: bool = True) -> None:
        super().__init__(params)
        self.lr, self.mu, self.tau = lr, mu, tau  # α, μ, τ
        self.dampen_first_step = dampen_first_step
        self.m = [torch.zeros_like(w) for w in self.params]  # m_0 = 0
        self.t = 0

    def step(self) -> None:
        self.t += 1
        with torch.no_grad():
            for i, w in enumerate(self.params):
                if self.t == 1 and not self.dampen_first_step:
                    self.m[i] = w.grad.clone()  # torch: b_1 = ∇Loss(w_1), no τ yet
                else:
                    self.m[i] = self.mu * self.m[i] + (1 - self.tau) * w.grad
                w -= self.lr * self.m[i]


class Nesterov(CourseOptimizer):
    r"""Nesterov accelerated gradient: the gradient is taken at a look-ahead point.

    Course: ``m_t = μ × m_{t-1} + ∇Loss(w_t - μ × m_{t-1})``, ``m_0 = 0``; ``w_{t+1} = w_t - α × m_t``.

    Slip: ``m`` is in gradient units and the weights move by ``-α·m``, so momentum alone would
    take ``w_t`` to ``w_t - α·μ·m_{t-1}``: the look-ahead lacks α (the two agree only for α = 1).
    Switch ``lookahead_without_lr=True`` is the course's formula; ``False`` looks ahead to
    ``w_t - α·μ·m_{t-1}``.

    torch (``SGD(params, lr, momentum=μ, nesterov=True)``) never evaluates a gradient at a
    shifted point: its parameters *are* the look-ahead point ``p_t = w_t - α·μ·m_{t-1}``, for which
    the course's rule (with α) becomes ``m_t = μ·m_{t-1} + ∇Loss(p_t)``, ``p_{t+1} = p_t - α·(∇Loss(p_t) + μ·m_t)``:
    a change of variables, same algorithm. torch refuses Nesterov with dampening; the course allows it.

    ``step(closure)`` needs the loss: the closure is called at the look-ahead point and must
    zero the gradients, compute the loss, call ``backward()`` and return the loss.
    """

    def __init__(self, params: Any, lr: float = 0.01, mu: float = 0.9, lookahead_without_lr: bool = True) -> None:
        super().__init__(params)
        self.lr, self.mu = lr, mu  # α, μ
        self.lookahead_without_lr = lookahead_without_lr
        self.m = [torch.zeros_like(w) for w in self.params]  # m_0 = 0

    def step(self, closure: Callable[[], Any]) -> Any:
        shift = self.mu if self.lookahead_without_lr else self.lr * self.mu
        with torch.no_grad():
            w_t = [w.clone() for w in self.params]
            for w, m in zip(self.params, self.m):
                w -= shift * m  # go to the look-ahead point w_t - μ·m_{t-1}
        loss = closure()  # ∇Loss(w_t - μ·m_{t-1}) into w.grad
        with torch.no_grad():
            for i, w in enumerate(self.params):
                w.copy_(w_t[i])  # back to w_t
                self.m[i] = self.mu * self.m[i] + w.grad
                w -= self.lr * self.m[i]
        return loss
