"""Padding (``nn.functional.pad``): values added around the last dims of a tensor.

``ConstantPadNd`` adds ``value`` on each side of each padded dim, or removes elements where a pad is negative.
Its backward is the same op with every pad negated and the value 0: what was added is dropped and what was
removed comes back as zeros, so every order of derivative is that op again. The other modes read each output
element from an input element (``reflect``: mirrored at the edge, the edge itself not repeated; ``replicate``:
the edge repeated; ``circular``: wrapped around): one index per padded dim, through indexing, whose backward
adds up the gradients of the elements read more than once.
"""

from __future__ import annotations

from typing import Any

import numpy

from .._backend import xp_of
from ..autograd.graph import TensorBase
from ._base import Op, run
from .indexing import GetItem


class ConstantPadNd(Op):
    """``a`` with ``pads[d] = (before, after)`` elements of ``value`` added to dim ``d`` (removed where negative)."""

    @staticmethod
    def forward(ctx, a, pads, value):
        ctx.pads = pads
        xp = xp_of(a)
        shape = tuple(n + lo + hi for n, (lo, hi) in zip(a.shape, pads))
        out = xp.full(shape, value, dtype=a.dtype)
        source = tuple(slice(max(-lo, 0), n - max(-hi, 0)) for n, (lo, hi) in zip(a.shape, pads))
        target = tuple(slice(max(lo, 0), m - max(hi, 0)) for m, (lo, hi) in zip(shape, pads))
        if out.size:
            out[target] = a[source]
        return out

    @staticmethod
    def backward(ctx, g):
        return run(ConstantPadNd, g, tuple((-lo, -hi) for lo, hi in ctx.pads), 0)


_MODES = ("constant", "reflect", "replicate", "circular")
_SIDES = ("W", "H", "D")  # the names torch's errors give the padded dims, the last one first


def _source_index(n: int, lo: int, hi: int, mode: str) -> numpy.ndarray:
    """For each output position along a dim of size ``n`` padded by ``(lo, hi)``, the input position it reads."""
    if mode == "circular":  # torch crops the negative pads first, then wraps around what is left
        start, n = max(-lo, 0), n - max(-lo, 0) - max(-hi, 0)
        return start + (numpy.arange(n + max(lo, 0) + max(hi, 0)) - max(lo, 0)) % max(n, 1)
    j = numpy.arange(n + lo + hi) - lo
    if mode == "replicate":
        return numpy.clip(j, 0, n - 1)
    j = numpy.abs(j)  # reflect: mirrored at 0, then at n - 1
    return numpy.where(j > n - 1, 2 * (n - 1) - j, j)


def _check_non_constant(input: TensorBase, pads: list, mode: str) -> None:
    shape = list(input._data.shape)
    k = len(pads)
    if mode == "reflect":
        for i, (lo, hi) in enumerate(pads):
            dim = len(shape) - 1 - i
            if not (lo < shape[dim] and hi < shape[dim]):
                raise RuntimeError(f"Argument #{4 + 2 * i}: Padding size should be less than the corresponding input "
                                   f"dimension, but got: padding ({lo}, {hi}) at dimension {dim} of input {shape}")
    elif mode == "circular":
        for i, (lo, hi) in enumerate(pads):
            if lo > shape[-1 - i] or hi > shape[-1 - i]:
                raise RuntimeError("Padding value causes wrapping around more than once.")
        return
    sizes = [shape[-1 - i] for i in range(k)]
    outputs = [n + lo + hi for n, (lo, hi) in zip(sizes, pads)]
    if all(m < 1 for m in outputs):  # torch allows an empty output along some of the padded dims, not all
        names = _SIDES[:k][::-1]
        sizes, outputs = sizes[::-1], outputs[::-1]
        if k == 1:
            inside = f"W: {sizes[0]}"
        elif k == 2:
            inside = f"H: {sizes[0]}, W: {sizes[1]}" + (" " if mode == "replicate" else "")
        else:
            inside = f"D: {sizes[0]} H: {sizes[1]}, W: {sizes[2]}"
        computed = " ".join(f"{name}: {m}" for name, m in zip(names, outputs))
        raise RuntimeError(f"input ({inside}) is too small. Calculated output {computed}")


def pad(input: TensorBase, pad: Any, mode: str = "constant", value: float | None = None) -> TensorBase:
    """``input`` padded on its last ``len(pad) // 2`` dims: ``pad = (left, right)`` for the last dim, then
    ``(top, bottom)`` for the one before, and so on. ``mode="constant"`` fills with ``value`` (0 by default) and
    takes negative pads (which remove elements); ``"reflect"``, ``"replicate"`` and ``"circular"`` pad the last
    1, 2 or 3 dims of a tensor with 1 or 2 more dims (a batch and channels), as torch's."""
    if mode not in _MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    pad = list(pad)
    for i, p in enumerate(pad):
        if not isinstance(p, (int, numpy.integer)) or isinstance(p, bool):
            raise TypeError(f"pad(): argument 'pad' (position 2) must be tuple of ints, but found element of type "
                            f"{type(p).__name__} at pos {i}")
    ndim = input._data.ndim
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) > 2 * ndim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input dimension but got "
                           f"padding length {len(pad)} and input of dimension {ndim}")
    pairs = [(int(pad[2 * i]), int(pad[2 * i + 1])) for i in range(len(pad) // 2)]  # the last dim first
    if mode == "constant":
        shape = list(input._data.shape)
        for i, (lo, hi) in enumerate(pairs):  # negative pads remove elements: torch narrows first, and checks
            n = shape[ndim - 1 - i]
            if n + min(lo, 0) < 0 or n + min(lo, 0) + min(hi, 0) < 0:
                raise RuntimeError("narrow(): length must be non-negative.")
        pads = ((0, 0),) * (ndim - len(pairs)) + tuple(reversed(pairs))
        return ConstantPadNd.apply(input, pads, 0.0 if value is None else value)
    if value is not None and value != 0:
        raise RuntimeError(f"Padding mode \"{mode}\" doesn't take in value argument")
    k = len(pairs)
    if k not in (1, 2, 3) or ndim not in (k + 1, k + 2):
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {ndim}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    _check_non_constant(input, pairs, mode)
    out = input
    xp = xp_of(input._data)
    for i, (lo, hi) in enumerate(pairs):
        axis = ndim - 1 - i
        index = xp.asarray(_source_index(input._data.shape[axis], lo, hi, mode))
        out = GetItem.apply(out, (slice(None),) * axis + (index,))
    return out


__all__ = ["ConstantPadNd", "pad"]
