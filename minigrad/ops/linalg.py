"""Matrix products. ``Addmm`` is what ``nn.Linear`` runs: one op for ``x @ W.T + b``."""

from __future__ import annotations

from typing import Any

from .. import _dtype
from ..autograd.graph import TensorBase
from ._base import Op, promote


class MatMul(Op):
    """Matrix product of operands with >= 2 dims (batch dims broadcast)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(b if ctx.needs_input_grad[0] else None, a if ctx.needs_input_grad[1] else None)
        return a @ b

    @staticmethod
    def backward(ctx, g):
        b, a = ctx.saved_tensors
        ga = g @ b.swapaxes(-1, -2) if b is not None else None
        gb = a.swapaxes(-1, -2) @ g if a is not None else None
        return ga, gb


class Addmm(Op):
    """``x @ weight.T + bias`` with weight shaped (out, in), as torch's linear."""

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.save_for_backward(weight if ctx.needs_input_grad[0] else None, x if ctx.needs_input_grad[1] else None)
        out = x @ weight.T  # a transposed view: BLAS reads it without a copy
        if bias is not None:
            out += bias
        return out

    @staticmethod
    def backward(ctx, g):
        weight, x = ctx.saved_tensors
        gx = g @ weight if weight is not None else None
        if g.ndim != 2:  # any batch dims folded into the rows
            g = g.reshape(-1, g.shape[-1])
            x = x.reshape(-1, x.shape[-1]) if x is not None else None
        gw = g.T @ x if x is not None else None
        gb = g.sum(axis=0) if ctx.needs_input_grad[2] else None
        return gx, gw, gb


def matmul(a: Any, b: Any) -> TensorBase:
    a, b = promote(a, b)
    sa, sb = a._data.shape, b._data.shape
    if not sa or not sb:
        raise RuntimeError("both arguments to matmul need to be at least 1D, but they are "
                           f"{len(sa)}D and {len(sb)}D")
    message = _matmul_error(sa, sb)
    if message is not None:
        raise RuntimeError(message)
    # A vector is a matrix with one extra dim, removed again from the result (torch's rule).
    if len(sa) == 1 and len(sb) == 1:
        return (a * b).sum()
    if len(sa) == 1:
        return MatMul.apply(a.unsqueeze(0), b).squeeze(-2)
    if len(sb) == 1:
        return MatMul.apply(a, b.unsqueeze(-1)).squeeze(-1)
    return MatMul.apply(a, b)


def _matmul_error(sa: tuple, sb: tuple) -> str | None:
    """torch's message when the shapes cannot be multiplied (it names the shapes after its own reshaping)."""
    if len(sa) == 1 and len(sb) == 1:
        if sa[0] == sb[0]:
            return None
        return (f"inconsistent tensor size, expected tensor [{sa[0]}] and src [{sb[0]}] to have the same number of "
                f"elements, but got {sa[0]} and {sb[0]} elements respectively")
    rows = 1
    for s in sa[:-1]:
        rows *= s
    if len(sb) == 1:  # matrix (batch) times vector: the batch dims of a are folded into its rows
        return None if sa[-1] == sb[0] else f"size mismatch, got input ({rows}), mat ({rows}x{sa[-1]}), vec ({sb[0]})"
    if len(sb) == 2:  # (batch of) matrix or vector times a matrix: folded too
        if sa[-1] == sb[0]:
            return None
        return f"mat1 and mat2 shapes cannot be multiplied ({rows}x{sa[-1]} and {sb[0]}x{sb[1]})"
    ba, bb = sa[:-2], sb[:-2]  # batched: the batch dims broadcast
    n = max(len(ba), len(bb))
    ba, bb = (1,) * (n - len(ba)) + ba, (1,) * (n - len(bb)) + bb
    batch = 1
    for i in reversed(range(n)):
        if ba[i] != bb[i] and ba[i] != 1 and bb[i] != 1:
            return (f"The size of tensor a ({ba[i]}) must match the size of tensor b ({bb[i]}) at non-singleton "
                    f"dimension {i}")
        batch *= max(ba[i], bb[i])
    if sa[-1] == sb[-2]:
        return None
    return (f"Expected size for first two dimensions of batch2 tensor to be: [{batch}, {sa[-1]}] but got: "
            f"[{batch}, {sb[-2]}].")


def linear(input: TensorBase, weight: TensorBase, bias: TensorBase | None = None) -> TensorBase:
    if input._data.shape[-1:] != weight._data.shape[-1:]:
        rows = 1
        for s in input._data.shape[:-1]:
            rows *= s
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{input._data.shape[-1]} and "
                           f"{weight._data.shape[1]}x{weight._data.shape[0]})")
    if input._data.dtype != weight._data.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{_dtype.C_TYPE_NAMES[input.dtype.name]} != {_dtype.C_TYPE_NAMES[weight.dtype.name]}")
    return Addmm.apply(input, weight, bias)
