"""Parts of matrices and products of vectors: ``tril``, ``triu``, ``diag``, ``trace`` and ``outer``.

``Tril`` and ``Triu`` keep one triangle of the last two dims and zero the other; each is its own backward
(the gradient of the kept triangle is that triangle of the gradient). ``Diagonal`` reads one diagonal of a
matrix and ``DiagEmbed`` writes a vector onto one: each is the other's backward. Every backward calls an op
(``run``), so a recorded backward (``create_graph=True``) can be differentiated again. ``trace`` and ``outer``
are compositions.
"""

from __future__ import annotations

from .._backend import xp_of
from ..autograd.graph import TensorBase, named
from ._base import Op, run
from .reduction import sum as _sum


class Tril(Op):
    """The lower triangle of the last two dims, on and below diagonal ``k``; zeros above."""

    @staticmethod
    def forward(ctx, a, k):
        ctx.k = k
        return xp_of(a).tril(a, k)

    @staticmethod
    def backward(ctx, g):
        return run(Tril, g, ctx.k)


class Triu(Op):
    """The upper triangle of the last two dims, on and above diagonal ``k``; zeros below."""

    @staticmethod
    def forward(ctx, a, k):
        ctx.k = k
        return xp_of(a).triu(a, k)

    @staticmethod
    def backward(ctx, g):
        return run(Triu, g, ctx.k)


class Diagonal(Op):
    """Diagonal ``k`` of a matrix, as a new vector (``k > 0`` above the main one, ``k < 0`` below)."""

    @staticmethod
    def forward(ctx, a, k):
        ctx.args = (k, a.shape)
        return xp_of(a).diagonal(a, k).copy()

    @staticmethod
    def backward(ctx, g):
        k, shape = ctx.args
        return run(DiagEmbed, g, k, shape)


class DiagEmbed(Op):
    """A matrix of ``shape``, zero but for diagonal ``k``, which holds the vector ``v``."""

    @staticmethod
    def forward(ctx, v, k, shape):
        ctx.k = k
        xp = xp_of(v)
        out = xp.zeros(shape, dtype=v.dtype)
        i = xp.arange(v.shape[0])
        out[i + max(-k, 0), i + max(k, 0)] = v
        return out

    @staticmethod
    def backward(ctx, g):
        return run(Diagonal, g, ctx.k)


def _triangle(op: type, name: str, input: TensorBase, diagonal: int) -> TensorBase:
    if input._data.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
    return op.apply(input, int(diagonal))


def tril(input: TensorBase, diagonal: int = 0) -> TensorBase:
    """The lower triangle of a matrix (or of each matrix of a batch: the last two dims), the rest zeros."""
    return _triangle(Tril, "tril", input, diagonal)


def triu(input: TensorBase, diagonal: int = 0) -> TensorBase:
    """The upper triangle of a matrix (or of each matrix of a batch: the last two dims), the rest zeros."""
    return _triangle(Triu, "triu", input, diagonal)


def diag(input: TensorBase, diagonal: int = 0) -> TensorBase:
    """A vector becomes a square matrix with it on diagonal ``diagonal``; a matrix gives that diagonal."""
    n = input._data.ndim
    k = int(diagonal)
    if n == 1:
        size = input._data.shape[0] + abs(k)
        return named(DiagEmbed.apply(input, k, (size, size)), "DiagEmbedBackward0")
    if n == 2:
        return named(Diagonal.apply(input, k), "DiagonalBackward0_copy")
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {n}D")


def trace(input: TensorBase) -> TensorBase:
    """The sum of the main diagonal of a matrix."""
    if input._data.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input._data.ndim}")
    if input._data.dtype.kind == "b":
        raise NotImplementedError("\"trace\" not implemented for 'Bool'")
    return named(_sum(Diagonal.apply(input, 0)), "TraceBackward0")


def outer(input: TensorBase, vec2: TensorBase) -> TensorBase:
    """The outer product of two vectors: ``out[i, j] = input[i] * vec2[j]``."""
    for name, v in (("self", input), ("vec2", vec2)):
        if v._data.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {v._data.ndim}-D")
    return input.reshape(-1, 1) * vec2


__all__ = ["DiagEmbed", "Diagonal", "Tril", "Triu", "diag", "outer", "trace", "tril", "triu"]
