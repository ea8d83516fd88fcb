"""Hardswish and hardsigmoid: piecewise activations whose gradients follow torch's kernels exactly, kinks included.

``Hardswish``'s backward is an op of its own (``HardswishBackward``), whose derivative is torch's double backward,
so every order of derivative is torch's. ``Hardsigmoid``'s gradient multiplies by 1/6 rounded to float32, as
torch's kernel does; it is piecewise constant, so its own derivative is 0.
"""

from __future__ import annotations

import numpy

from .._backend import xp_of
from ._base import Op, run


class Hardswish(Op):
    """``x * relu6(x + 3) / 6``. Its backward is an op of its own, ``HardswishBackward``."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a * xp_of(a).clip(a + 3, 0, 6) / 6

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return run(HardswishBackward, g, a)


class HardswishBackward(Op):
    """``g`` times hardswish's slope at ``a``, as torch's: 0 up to -3, ``a / 3 + 1/2`` strictly between -3 and 3,
    1 from 3 on. Its own derivative in ``a`` is torch's too: ``g / 3`` strictly between -3 and 3, else 0."""

    @staticmethod
    def forward(ctx, g, a):
        ctx.save_for_backward(g, a)
        xp = xp_of(a)
        return xp.where(a <= -3, 0.0, xp.where(a < 3, g * (a / 3 + 0.5), g))

    @staticmethod
    def backward(ctx, gg):
        g, a = ctx.saved_tensors
        xp = xp_of(gg)
        inside = (a > -3) & (a < 3)
        return run(HardswishBackward, gg, a), xp.where(inside, gg * g / 3, 0.0)


_ONE_SIXTH = float(numpy.float32(1) / numpy.float32(6))  # torch's hardsigmoid gradient: 1.0f / 6.0f, a float32


class Hardsigmoid(Op):
    """``relu6(x + 3) / 6``; the gradient is torch's: ``1/6`` rounded to float32 strictly between -3 and 3, else 0."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return xp_of(a).clip(a + 3, 0, 6) / 6

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return xp_of(g).where((a > -3) & (a < 3), g * _ONE_SIXTH, 0.0)


__all__ = ["Hardsigmoid", "Hardswish", "HardswishBackward"]
