"""RMSprop: per-element learning rates from a moving average of squared gradients."""

from __future__ import annotations

from typing import Any

from .._backend import xp_of
from .optimizer import STEP, ZEROS, Optimizer, StateSpec, advance, check_lr, decayed, group_lr, lerp_

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""Root mean square propagation (``torch.optim.RMSprop``).

    **Course**: ``Sum_t = γ·Sum_{t-1} + (1-γ)·∇L²``, ``w_{t+1} = w_t - η/sqrt(Sum_t + ε)·∇L``.

    **torch** (``g`` the gradient, ``-g`` with ``maximize``, plus ``λ·p`` with weight decay):
    ``v = α·v + (1-α)·g²``; ``d = sqrt(v) + ε``, or with ``centered=True``
    ``ḡ = α·ḡ + (1-α)·g`` and ``d = sqrt(v - ḡ²) + ε``; then ``p -= lr·g/d``, or with
    momentum ``b = μ·b + g/d``, ``p -= lr·b``. ``v``, ``ḡ`` and ``b`` start at 0, with no
    bias correction (the first step is about ``lr/sqrt(1-α)``).

    **Differences**:

    * ε inside the root in the course, outside in torch: a *real difference*, as for Adagrad;
    * the course's constructor line ``RMSprop(params, lr=0.01, initial_accumulator_value=0,
      eps=1e-10, alpha=0.99)`` is copied from Adagrad: RMSprop has no
      ``initial_accumulator_value`` (TypeError, in torch and here) and its default eps is 1e-8;
    * "γ usually 0.9": torch's default alpha is 0.99 (advice, not a rule);
    * momentum, centering and weight decay are not in the course (missing features).

    In torch every argument is positional; here ``maximize`` is a positional argument too, in
    torch's place.

    **Memory**: 3× (``square_avg``, plus a 0-dim ``step``); 4× with momentum
    (``momentum_buffer``) or centered (``grad_avg``); 5× with both.

    Differs from torch: ``capturable`` is accepted and ignored (no CUDA graphs), and ``differentiable=True`` is
    accepted but the step is never recorded by autograd.
    """

    temporaries = 4

    def __init__(self, params: Any, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False, differentiable: bool = False) -> None:
        check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps, "centered": centered,
                    "weight_decay": weight_decay, "capturable": capturable, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable}
        super().__init__(params, defaults)

    def state_specs(self, group: dict) -> dict[str, StateSpec]:
        specs = {"step": STEP, "square_avg": ZEROS}
        if group["momentum"] > 0:
            specs["momentum_buffer"] = ZEROS
        if group["centered"]:
            specs["grad_avg"] = ZEROS
        return specs

    def _param_step(self, group: dict, param: Any, grad: Any, state: dict, first: bool) -> None:
        xp = xp_of(param)
        alpha, lr = group["alpha"], group_lr(group)
        advance(state["step"])  # counted, never used: RMSprop has no bias correction
        g = decayed(grad, param, group["maximize"], group["weight_decay"])
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1 - alpha) * g * g  # v = α·v + (1-α)·g²
        if group["centered"]:
            grad_avg = state["grad_avg"]
            lerp_(grad_avg, g, 1 - alpha)
            avg = xp.sqrt(square_avg - grad_avg * grad_avg) + group["eps"]
        else:
            avg = xp.sqrt(square_avg) + group["eps"]
        if group["momentum"] > 0:
            buf = state["momentum_buffer"]
            buf *= group["momentum"]
            buf += g / avg
            param -= lr * buf
        else:
            param -= lr * (g / avg)
