"""Distances: ``cdist`` (between every row of one batch of points and every row of another) and ``dist`` (the
p-norm of a difference).

``cdist`` takes torch's two paths. ``Cdist`` computes each distance from the differences of the coordinates,
with torch's backward (a zero distance has a zero gradient; for ``p = inf`` every coordinate that reaches the
maximum gets the whole gradient). ``EuclideanDist`` is the path torch takes for ``p = 2`` with many points:
``|x|² + |y|² - 2 x·y`` through one matrix product, clamped at 0 before the square root, with torch's backward
(again 0 at a zero distance). Both backwards are written in NumPy's words and other ops, so that a recorded
backward (``create_graph=True``) can be differentiated again. ``dist`` is a vector norm of the difference.
"""

from __future__ import annotations

import math
from typing import Any

import numpy

from .. import _dtype
from .._backend import xp_of
from ..autograd.graph import TensorBase, named
from ._base import Op, broadcast_message, promote, run
from .elementwise import Sign
from .norms import vector_norm


def _pairs(x1: Any, x2: Any) -> Any:
    """``x1[..., i, :] - x2[..., j, :]`` at ``[..., i, j, :]``."""
    return x1[..., :, None, :] - x2[..., None, :, :]


class Cdist(Op):
    """The p-norm distances ``(..., P, R)`` between the rows of ``x1`` ``(..., P, M)`` and of ``x2`` ``(..., R, M)``."""

    @staticmethod
    def forward(ctx, x1, x2, p):
        xp = xp_of(x1)
        absd = xp.abs(_pairs(x1, x2))
        if p == 0:
            out = (absd != 0).sum(axis=-1).astype(x1.dtype)
        elif p == 1:
            out = absd.sum(axis=-1)
        elif p == 2:
            out = xp.sqrt((absd * absd).sum(axis=-1))
        elif math.isinf(p):
            out = absd.max(axis=-1) if absd.shape[-1] else xp.zeros(absd.shape[:-1], dtype=x1.dtype)
        else:
            out = (absd ** p).sum(axis=-1) ** (1.0 / p)
        ctx.p = p
        ctx.save_for_backward(x1, x2, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x1, x2, out = ctx.saved_tensors
        p = ctx.p
        xp = xp_of(g)
        diff = _pairs(x1, x2)
        g, out = g[..., None], out[..., None]
        if p == 0:
            return xp.zeros_like(x1), xp.zeros_like(x2)
        if p == 1:
            per = g * run(Sign, diff)
        elif math.isinf(p):  # every coordinate at the maximum gets the whole gradient
            per = g * run(Sign, diff) * (xp.abs(diff) == out)
        else:
            zero = out == 0
            safe = xp.where(zero, 1.0, out)  # a zero distance: a zero gradient (and finite derivatives of it)
            with numpy.errstate(divide="ignore", invalid="ignore"):
                if p == 2:
                    per = g * diff / safe
                elif p < 2:
                    per = run(Sign, diff) * xp.abs(diff) ** (p - 1) * g / safe ** (p - 1)
                    if p < 1:
                        zero = zero | (diff == 0)
                else:
                    per = diff * xp.abs(diff) ** (p - 2) * g / safe ** (p - 1)
                per = xp.where(zero, 0.0, per)
        return per.sum(axis=-2), -per.sum(axis=-3)


class EuclideanDist(Op):
    """The 2-norm distances of ``Cdist``, through one matrix product (torch's ``_euclidean_dist``)."""

    @staticmethod
    def forward(ctx, x1, x2):
        xp = xp_of(x1)
        n1 = (x1 * x1).sum(axis=-1, keepdims=True)
        n2 = (x2 * x2).sum(axis=-1, keepdims=True)
        a = xp.concatenate([x1 * -2, n1, xp.ones_like(n1)], axis=-1)
        b = xp.concatenate([x2, xp.ones_like(n2), n2], axis=-1)
        out = xp.sqrt(xp.maximum(a @ xp.swapaxes(b, -1, -2), 0))
        ctx.save_for_backward(x1, x2, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x1, x2, out = ctx.saved_tensors
        xp = xp_of(g)
        zero = out == 0
        ratio = xp.where(zero, 0.0, g / xp.where(zero, 1.0, out))
        g1 = x1 * ratio.sum(axis=-1, keepdims=True) - ratio @ x2
        g2 = x2 * xp.expand_dims(ratio.sum(axis=-2), -1) - xp.swapaxes(ratio, -1, -2) @ x1
        return g1, g2


_COMPUTE_MODES = {"use_mm_for_euclid_dist_if_necessary": 0, "use_mm_for_euclid_dist": 1,
                  "donot_use_mm_for_euclid_dist": 2}


def cdist(x1: TensorBase, x2: TensorBase, p: float = 2.0,
          compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> TensorBase:
    """The p-norm distance between each row of ``x1`` ``(B, P, M)`` and each row of ``x2`` ``(B, R, M)``:
    ``(B, P, R)``; the batch dims ``B`` broadcast.

    For ``p = 2``, ``compute_mode`` picks the path as torch does: through a matrix product (faster, less exact
    for close points) when either side has more than 25 rows ("use_mm_for_euclid_dist_if_necessary"), always
    ("use_mm_for_euclid_dist"), or never ("donot_use_mm_for_euclid_dist").
    """
    if compute_mode not in _COMPUTE_MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    mode = _COMPUTE_MODES[compute_mode]
    for name, x in (("X1", x1), ("X2", x2)):
        if x._data.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: {x._data.ndim}D")
    if x1._data.shape[-1] != x2._data.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1._data.shape[-1]} "
                           f"X2: {x2._data.shape[-1]}")
    names = _dtype.SCALAR_TYPE_NAMES
    for name, x in (("X1", x1), ("X2", x2)):
        if x._data.dtype.kind != "f":
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: {names[x.dtype.name]}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    message = broadcast_message(x1._data.shape[:-2], x2._data.shape[:-2])
    if message is not None:
        raise RuntimeError(message)
    rows1, rows2 = x1._data.shape[-2], x2._data.shape[-2]
    euclid = p == 2 and (mode == 1 or (mode == 0 and (rows1 > 25 or rows2 > 25)))
    if euclid and x1._data.size and x2._data.size:
        if x1._data.dtype != x2._data.dtype:
            names = _dtype.C_TYPE_NAMES
            raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {names[x1.dtype.name]} != "
                               f"{names[x2.dtype.name]}")
        return EuclideanDist.apply(x1, x2)
    if x1._data.dtype != x2._data.dtype:
        raise RuntimeError(f"expected scalar type {names[x1.dtype.name]} but found {names[x2.dtype.name]}")
    return Cdist.apply(x1, x2, float(p))


def dist(input: TensorBase, other: TensorBase, p: float = 2) -> TensorBase:
    """The p-norm of ``input - other`` (which broadcast), over all elements."""
    if not isinstance(other, TensorBase):
        raise TypeError(f"dist(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")
    if isinstance(p, str) or not isinstance(p, (int, float)):
        raise TypeError(f"dist(): argument 'p' must be Number, not {type(p).__name__}")
    a, b = promote(input, other)
    if a._data.dtype.kind != "f":
        raise RuntimeError(f"norm(): input dtype should be either floating point or complex. Got "
                           f"{_dtype.SCALAR_TYPE_NAMES[a.dtype.name]} instead.")
    return named(vector_norm(a - b, p), "DistBackward0")


__all__ = ["Cdist", "EuclideanDist", "cdist", "dist"]
