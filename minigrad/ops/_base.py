"""Shared helpers for the built-in ops: the op base class, torch's type promotion and its broadcast error."""

from __future__ import annotations

import builtins
from typing import Any

import numpy

from .. import _dtype
from .._backend import device_of
from .._convert import as_array
from ..autograd.function import Function
from ..autograd.graph import Node, TensorBase


class Op(Function):
    """A built-in op: forward and backward work on raw arrays (NumPy or CuPy), not tensors.

    What ``backward`` may return follows the engine's ownership rule (minigrad/autograd/engine.py): the
    engine writes only into gradient arrays it owns. For each input, return either

    * the incoming gradient itself, or a view of it (``Add``, ``Reshape``): the engine never writes
      into it, and copies it before it becomes a leaf's ``.grad``; or
    * a new array, made in this call for that input alone: the engine owns it, may add other
      gradients into it in place, and may make it a leaf's ``.grad`` as it is.

    Never return a saved array, an input's data or an array kept elsewhere, other than as a view, and
    never the same new array for two inputs.

    Two facts about ``backward``'s memory sit next to it, for the replay that predicts the peak
    of backward (minigrad/memory/timeline.py):

    * ``grad_kinds``: per input, how ``backward`` makes that input's gradient from the output's
      gradient ``g``: ``"view"``, a view of ``g`` (no new memory); ``"pass"``, ``g`` itself (new
      memory only where the input was broadcast and the gradient is summed back); ``"new"``, a new
      array of the input's size. Inputs past the end of the tuple are ``"new"``, and so is every
      input of an op that keeps the default ``()``.
    * ``backward_scratch(ctx, grad_nbytes, numel)``: the bytes of temporary arrays ``backward``
      allocates besides the gradients it returns, for an output gradient of ``numel`` elements
      taking ``grad_nbytes`` bytes; ``ctx`` is the op's node. 0 unless an op says otherwise.

    Keep both in step with ``backward`` when changing it: tests/test_memory.py measures them.
    """

    raw = True
    grad_kinds: tuple = ()

    @staticmethod
    def backward_scratch(ctx: Node, grad_nbytes: int, numel: int) -> int:
        return 0


def accumulation_dtype(x: Any) -> Any:
    """The dtype a sum of ``x`` (an array or tensor) accumulates in: float32 for float16, as torch's (a float16
    sum of thousands of terms loses every digit past the third), else None (``x``'s own)."""
    return numpy.float32 if getattr(x, "_data", x).dtype == numpy.float16 else None


def widened(*values: Any) -> tuple:
    """``values`` (arrays or tensors) in their accumulation dtype: float16 becomes float32, so that a backward
    formula computes as torch's float16 kernels do; its result is cast back to the input's dtype after."""
    wide = accumulation_dtype(values[0])
    if wide is None:
        return values
    return tuple(v._namespace().astype(v, wide) if isinstance(v, TensorBase) else v.astype(wide) for v in values)


def run(op: type, *args: Any) -> Any:
    """``op`` on ``args``, for a backward formula that needs another op: recorded when an argument is a
    tensor (a recorded backward), else ``op``'s forward on the arrays, recording nothing."""
    for a in args:
        if isinstance(a, TensorBase):
            return op.apply(*args)
    return op.forward(_new_object(Node), *args)


_new_object = object.__new__

# NumPy reuses a temporary in place for `t * a` (t a temporary, a an array) once t holds at
# least this many bytes ("temporary elision"), which saves one temporary in most formulas.
ELISION_BYTES = 256 * 1024


def product_scratch(grad_nbytes: int) -> int:
    """Scratch of a formula such as ``g * (1 - out * out)``: two temporaries of g's size, or one
    when NumPy can write the last product into a temporary."""
    return grad_nbytes if grad_nbytes >= ELISION_BYTES else 2 * grad_nbytes


def mask_cast_bytes(grad_nbytes: int, numel: int) -> int:
    """Scratch of ``g * mask`` for a boolean mask: NumPy casts the mask to g's dtype one buffer
    (``numpy.getbufsize()`` elements) at a time."""
    itemsize = grad_nbytes // numel if numel else 0
    return min(numel, numpy.getbufsize()) * itemsize


def as_tensor_like(value: Any, like: TensorBase) -> Any:
    """Turn an array-like operand into a tensor on ``like``'s device, as ``minigrad.tensor`` would."""
    return like._wrap(as_array(value, device=device_of(like._data)))


def promote(a: Any, b: Any) -> tuple:
    """Apply torch's promotion rules where NumPy's differ.

    * an integer or bool tensor with a Python float becomes the default float dtype;
    * a float tensor with an integer tensor keeps the float dtype;
    * a 0-dim tensor of the same kind does not widen a tensor with dimensions.
    Python scalars stay Python scalars, so NumPy keeps the tensor's dtype (NEP 50).
    """
    if isinstance(a, numpy.generic):
        a = a.item()
    if isinstance(b, numpy.generic):
        b = b.item()
    ta, tb = isinstance(a, TensorBase), isinstance(b, TensorBase)
    if ta and tb:
        da, db = a._data.dtype, b._data.dtype
        if da == db:
            return a, b
        ka, kb = da.kind == "f", db.kind == "f"
        if ka != kb:
            return (a, b.to(_dtype.from_numpy_dtype(da))) if ka else (a.to(_dtype.from_numpy_dtype(db)), b)
        if a._data.ndim == 0 and b._data.ndim > 0:
            return a.to(_dtype.from_numpy_dtype(db)), b
        if b._data.ndim == 0 and a._data.ndim > 0:
            return a, b.to(_dtype.from_numpy_dtype(da))
        return a, b
    t, s = (a, b) if ta else (b, a)
    if isinstance(s, numpy.ndarray):
        # torch computes a tensor with an ndarray through NumPy: it refuses a tensor that requires
        # grad, and the result has NumPy's dtype (int64 tensor * float32 array is float64).
        if t.requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        common = _dtype.from_numpy_dtype(numpy.result_type(t._data.dtype, s.dtype))
        t, s = t.to(common), as_tensor_like(s.astype(common.np, copy=False), t)
        return (t, s) if ta else (s, t)
    if not isinstance(s, (builtins.int, builtins.float, builtins.bool)):
        s = as_tensor_like(s, t)
        return promote(a if ta else s, s if ta else b)
    if isinstance(s, builtins.float) and t._data.dtype.kind in "iub":
        t = t.to(_dtype.get_default_dtype())
    return (t, s) if ta else (s, t)


def broadcast_message(sa: tuple, sb: tuple) -> str | None:
    """torch's message for shapes that do not broadcast (None if they do)."""
    sa, sb = tuple(sa), tuple(sb)
    n = builtins.max(len(sa), len(sb))
    sa, sb = (1,) * (n - len(sa)) + sa, (1,) * (n - len(sb)) + sb
    for i in reversed(range(n)):  # torch names the last dim that does not match
        if sa[i] != sb[i] and sa[i] != 1 and sb[i] != 1:
            return (f"The size of tensor a ({sa[i]}) must match the size of tensor b ({sb[i]}) at non-singleton "
                    f"dimension {i}")
    return None
