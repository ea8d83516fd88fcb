"""Matrix products. ``Addmm`` is what ``nn.Linear`` runs: one op for ``x @ W.T + b``.

Autocast (``minigrad.autocast``, minigrad/amp/autocast_mode.py) changes these ops and no other: inside an
autocast region, ``matmul``, ``mm`` and ``linear`` cast their floating inputs to float16 and return float16,
as torch's autocast does (they are on its "lower precision" list: a product of float16 matrices is where
float16 saves time and memory on a GPU, and each output element sums its products in float32 inside the
matrix kernel, so little is lost). Outside autocast the cost is one ``ContextVar.get()`` per call.
"""

from __future__ import annotations

from typing import Any

from .. import _autocast, _dtype
from .._backend import xp_of
from ..autograd.graph import TensorBase, named
from ._base import Op, promote
from .elementwise import to


class MatMul(Op):
    """Matrix product of operands with >= 2 dims (batch dims broadcast)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(b if ctx.needs_input_grad[0] else None, a if ctx.needs_input_grad[1] else None)
        return a @ b

    @staticmethod
    def backward(ctx, g):
        b, a = ctx.saved_tensors
        ga = g @ xp_of(b).swapaxes(b, -1, -2) if b is not None else None
        gb = xp_of(a).swapaxes(a, -1, -2) @ g if a is not None else None
        return ga, gb


class Mv(MatMul):
    """Matrix times vector, ``(n, k) @ (k,)``: one node, as torch's ``MvBackward0`` (MatMul's forward)."""

    @staticmethod
    def backward(ctx, g):
        v, a = ctx.saved_tensors
        ga = g[:, None] * v if v is not None else None  # the outer product g vᵀ
        gv = g @ a if a is not None else None  # aᵀ g
        return ga, gv


class Dot(MatMul):
    """Vector times vector, ``(k,) @ (k,)``, a 0-dim result: torch's ``DotBackward0`` (MatMul's forward)."""

    @staticmethod
    def backward(ctx, g):
        b, a = ctx.saved_tensors
        return (g * b if b is not None else None), (g * a if a is not None else None)


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
        gb = None
        if ctx.needs_input_grad[2]:  # float16 rows summed in float32 (as torch), else float16 loses the small ones
            gb = g.sum(axis=0, dtype="float32").astype(g.dtype) if g.dtype.itemsize == 2 else g.sum(axis=0)
        return gx, gw, gb


def _autocast_inputs(state: _autocast.AutocastState, *tensors: Any) -> tuple:
    """The inputs of matmul, mm or linear as autocast runs them: floating tensors other than float64 on an
    autocast device become float16 through the differentiable ``to`` (a ``ToCopyBackward0`` node, so a float32
    parameter still gets a float32 gradient); the rest pass unchanged. A float32 parameter (a leaf that
    requires grad) is cast once per autocast region and the cast reused, when the cache is on."""
    out = []
    for t in tensors:
        target = _autocast.target_dtype(state, t._data) if isinstance(t, TensorBase) else None
        if target is None:
            out.append(t)
            continue
        cache = state.cache
        if cache is not None and t.requires_grad and t.grad_fn is None and t._base is None:
            hit = cache.get(id(t))
            if hit is None or hit[0] is not t:
                hit = cache[id(t)] = (t, to(t, target))
            out.append(hit[1])
        else:
            out.append(to(t, target))
    return tuple(out)


def matmul(input: Any, other: Any) -> TensorBase:
    autocast = _autocast.state.get()
    if autocast is not None:
        input, other = _autocast_inputs(autocast, input, other)
    return _matmul(input, other)


def _matmul(a: Any, b: Any) -> TensorBase:
    a, b = promote(a, b)
    sa, sb = a._data.shape, b._data.shape
    if not sa or not sb:
        raise RuntimeError("both arguments to matmul need to be at least 1D, but they are "
                           f"{len(sa)}D and {len(sb)}D")
    message = _matmul_error(sa, sb)
    if message is not None:
        raise RuntimeError(message)
    # A vector is a matrix with one extra dim, removed again from the result (torch's rule). The
    # nodes carry torch's names: DotBackward0, MvBackward0, SqueezeBackward4 after MmBackward0...
    if len(sa) == 1 and len(sb) == 1:
        return Dot.apply(a, b)
    if len(sb) == 1 and len(sa) == 2:
        return Mv.apply(a, b)
    if len(sa) == 1:
        product = named(MatMul.apply(a.unsqueeze(0), b), "MmBackward0" if len(sb) == 2 else "BmmBackward0")
        return named(product.squeeze(-2), "SqueezeBackward4")
    if len(sb) == 1:
        return named(MatMul.apply(a, b.unsqueeze(-1)), "BmmBackward0").squeeze(-1)
    return named(MatMul.apply(a, b), "MmBackward0" if len(sa) == len(sb) == 2 else "BmmBackward0")


def mm(input: TensorBase, mat2: TensorBase) -> TensorBase:
    """A product of two matrices only, as torch.mm (matmul broadcasts and takes vectors)."""
    if input._data.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2._data.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    autocast = _autocast.state.get()
    if autocast is not None:
        input, mat2 = _autocast_inputs(autocast, input, mat2)
    if input._data.dtype != mat2._data.dtype:
        names = _dtype.C_TYPE_NAMES
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {names[input.dtype.name]} != "
                           f"{names[mat2.dtype.name]}")
    return matmul(input, mat2)


def dot(input: TensorBase, tensor: TensorBase) -> TensorBase:
    """The inner product of two vectors, as torch.dot.

    Not cast to float16 by autocast: CPU autocast leaves ``dot`` alone, and CUDA autocast runs it in the
    wider dtype of its two inputs (its "promote" list), so a float16 and a float32 vector give float32.
    """
    if input._data.ndim != 1 or tensor._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input._data.ndim}D and {tensor._data.ndim}D tensors")
    autocast = _autocast.state.get()
    if (autocast is not None and autocast.cuda is not None and input._data.dtype != tensor._data.dtype
            and input.device.type == "cuda" and input._data.dtype.kind == tensor._data.dtype.kind == "f"):
        input, tensor = promote(input, tensor)
    if input._data.dtype != tensor._data.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found "
                           f"{_dtype.SCALAR_TYPE_NAMES[input.dtype.name]} and "
                           f"{_dtype.SCALAR_TYPE_NAMES[tensor.dtype.name]}")
    return _matmul(input, tensor)


def bmm(input: TensorBase, mat2: TensorBase) -> TensorBase:
    """Products of two batches of matrices, ``(b, n, m) @ (b, m, p)``: 3-D tensors with the same batch size
    only, as torch.bmm (matmul broadcasts batch dims). Autocast casts it to float16, as it does ``mm``."""
    if input._data.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2._data.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    autocast = _autocast.state.get()
    if autocast is not None:
        input, mat2 = _autocast_inputs(autocast, input, mat2)
    (b, _, m), (b2, m2, _) = input._data.shape, mat2._data.shape
    if (b2, m2) != (b, m):
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{b}, {m}] but got: "
                           f"[{b2}, {m2}].")
    if input._data.dtype != mat2._data.dtype:
        names = _dtype.SCALAR_TYPE_NAMES
        raise RuntimeError(f"expected scalar type {names[input.dtype.name]} but found {names[mat2.dtype.name]}")
    return named(MatMul.apply(input, mat2), "BmmBackward0")


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
    autocast = _autocast.state.get()
    if autocast is not None:
        input, weight, bias = _autocast_inputs(autocast, input, weight, bias)
    if not input._data.ndim or not weight._data.ndim:
        raise RuntimeError(f"both arguments to linear need to be at least 1D, but they are {input._data.ndim}D and "
                           f"{weight._data.ndim}D")
    if input._data.shape[-1:] != weight._data.shape[-1:]:
        rows = 1
        for s in input._data.shape[:-1]:
            rows *= s
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{input._data.shape[-1]} and "
                           f"{weight._data.shape[1]}x{weight._data.shape[0]})")
    if input._data.dtype != weight._data.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{_dtype.C_TYPE_NAMES[input.dtype.name]} != {_dtype.C_TYPE_NAMES[weight.dtype.name]}")
    return named(Addmm.apply(input, weight, bias), "AddmmBackward0" if bias is not None else "MmBackward0")
