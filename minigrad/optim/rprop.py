"""Resilient backpropagation: per-element step sizes driven by the sign of the gradient only."""

from __future__ import annotations

from typing import Any

from .._backend import xp_of
from .optimizer import STEP, ZEROS, Optimizer, StateSpec, advance, check_lr, group_lr

__all__ = ["Rprop"]


class Rprop(Optimizer):
    r"""Resilient backpropagation (``torch.optim.Rprop``), the iRprop- variant.

    **Course**: 1) ``w_{t+1} = w_t - U_t·sign(∇L)``, 2) then ``U ← U·η+`` where the sign of
    the gradient equals the stored sign ``SGN``, ``U ← U·η-`` elsewhere, 3) ``SGN ← sign(∇L)``;
    ``U_0 = 0``; limits 1e-6 and 50.

    **torch** (``g`` the gradient, ``-g`` with ``maximize``; ``Δ`` the step sizes, starting
    at ``lr``; ``prev`` the previous gradient, starting at 0):
    ``s = sign(g·prev)``; ``Δ ← clamp(Δ·f, Δmin, Δmax)`` with ``f = η+`` where ``s > 0``,
    ``η-`` where ``s < 0`` and 1 where ``s = 0``; ``g ← 0`` where ``s < 0``;
    ``p -= Δ·sign(g)``; ``prev ← g``.

    **Differences**:

    * ``U_0 = 0``: a *typo*; multiplying 0 keeps it 0 and nothing would move. torch starts
      at ``lr``, which is read only when the state is created (a scheduler has no effect);
    * order: torch adapts ``Δ`` with the current gradient first, then moves (*real difference*);
    * after a sign change torch does not move that element and stores 0 as the previous
      gradient, so the next step keeps ``Δ`` (*real difference*: iRprop-);
    * zero gradients and the first step keep ``Δ`` in torch (``sign(g·prev) = 0``); the
      course's sign comparison grows or shrinks it (*real difference*);
    * "1e-06 = 0.00000001" and "etas corresponds to η+ and η-": *typos*; ``etas = (η-, η+)``.

    **Memory**: 4× (``prev`` and ``step_size``, plus a 0-dim ``step``). The course notes the
    signs could be bit sets: ``packed_signs=True`` (a minigrad option) keeps the previous
    gradient's sign as two bit planes, ``prev_positive`` and ``prev_negative`` (uint8,
    ``numpy.packbits`` of ``prev > 0`` and ``prev < 0`` over the flattened parameter) instead
    of ``prev``: about 3.06× for float32, 3.03× for float64, and the same trajectory (the
    sign agreement then comes from the two signs, so a product ``g·prev`` too small to be
    represented still counts, where torch would see 0).

    Differs from torch: ``capturable`` is accepted and ignored and ``differentiable=True`` does not record the
    step; ``packed_signs`` is minigrad's own option, whose state torch's Rprop cannot step with (no ``prev``).
    """

    temporaries = 7

    def __init__(self, params: Any, lr: float = 1e-2, etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50), *, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False, differentiable: bool = False,
                 packed_signs: bool = False) -> None:
        check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = {"lr": lr, "etas": etas, "step_sizes": step_sizes, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable, "capturable": capturable, "packed_signs": packed_signs}
        super().__init__(params, defaults)

    def state_specs(self, group: dict) -> dict[str, StateSpec]:
        if group["packed_signs"]:
            prev = {"prev_positive": StateSpec("bits", 0), "prev_negative": StateSpec("bits", 0)}
        else:
            prev = {"prev": ZEROS}
        # The first step size is the lr of the moment the state is made: a scheduler has no effect.
        return {"step": STEP, **prev, "step_size": StateSpec("tensor", group_lr(group))}

    def _param_step(self, group: dict, param: Any, grad: Any, state: dict, first: bool) -> None:
        xp = xp_of(param)
        etaminus, etaplus = group["etas"]
        step_size_min, step_size_max = group["step_sizes"]
        scalar = param.dtype.type  # factors in the parameter's dtype, as torch stores them
        advance(state["step"])  # counted, never used in the update
        g = -grad if group["maximize"] else grad.copy()

        if group["packed_signs"]:
            n = param.size
            prev = _unpack(state["prev_positive"], n).astype(param.dtype) - _unpack(state["prev_negative"], n)
            prev = prev.reshape(param.shape)
        else:
            prev = state["prev"]
        # +1: same sign as the previous gradient, -1: the sign changed, 0: a zero on either side.
        # A NaN gradient element gives a NaN agreement: torch's sign(NaN) is 0 there, so the element
        # keeps its step size, like a zero.
        agreement = xp.sign(g * prev)
        factor = xp.ones_like(agreement)
        factor[agreement > 0] = scalar(etaplus)
        factor[agreement < 0] = scalar(etaminus)
        step_size = state["step_size"]
        step_size *= factor
        xp.clip(step_size, step_size_min, step_size_max, out=step_size)

        g[agreement < 0] = 0  # no move where the sign changed, and 0 is remembered
        param -= xp.nan_to_num(xp.sign(g), copy=False) * step_size  # and a NaN element does not move
        if group["packed_signs"]:
            state["prev_positive"][...] = xp.packbits(g.reshape(-1) > 0)
            state["prev_negative"][...] = xp.packbits(g.reshape(-1) < 0)
        else:
            prev[...] = g


def _unpack(bits: Any, n: int) -> Any:
    """The first ``n`` bits of a packed bit plane, as 0/1 values (uint8)."""
    return xp_of(bits).unpackbits(bits)[:n]
