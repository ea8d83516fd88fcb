"""``autocast``: run the matrix products of a forward pass in float16, everything else as it was.

Why autocast exists. float16 takes half the memory of float32 and, on a GPU, its matrix products run on
tensor cores several times faster. But float16 is a small number format:

* 5 exponent bits: normal values from about 6.1e-5 up to 65504 (subnormals down to 6e-8, with less
  precision), where float32 reaches 1e-38 to 3e38;
* 11 significant bits (10 stored): about 3 decimal digits, where float32 has 24 bits (about 7 digits).
  ``1 + 0.0004`` rounds back to ``1`` in float16.

So a whole network in float16 goes wrong in two ways: sums of many terms lose their small terms (a loss
averaged over a batch, a softmax's denominator), and values outside the range become inf or 0. Autocast is
the compromise torch settled on: the model's parameters stay float32 (the "master weights"); inside an
``autocast`` region, the ops that gain most and lose least (matrix products: ``matmul``, ``mm``, ``linear``)
cast their inputs to float16 and return float16, and the ops that need range or accumulate many terms
(the losses, on CPU and CUDA; on CUDA also softmax, log_softmax, sum, exp, log, pow...) run in float32.
Every other op runs in the dtype of its inputs, as outside autocast.

Which minigrad ops autocast changes, measured against torch 2.13 (tests/test_amp.py runs the same programs
under both and compares the output dtypes):

* ``matmul`` / ``@`` / ``mm`` / ``linear`` (``nn.Linear``): float16 out, whatever the floating inputs
  (float64 inputs are left alone, as torch leaves them).
* ``dot``: unchanged on CPU; on CUDA the wider input dtype (torch's "promote" list).
* the losses (``mse_loss``, ``l1_loss``, ``cross_entropy``, ``nll_loss``, ``binary_cross_entropy``,
  ``binary_cross_entropy_with_logits``) cast float16 inputs to float32 and return float32, as torch's
  (minigrad/nn/_loss_functions.py reads the autocast state at their start).

The gradient of a float32 parameter is float32: the cast to float16 is an op of the graph
(``ToCopyBackward0``), whose backward casts the gradient back.

bfloat16 (8 exponent bits like float32, 8 significant bits) is torch's default autocast dtype on CPU. NumPy
and CuPy have no bfloat16, so minigrad has none: ``minigrad.autocast("cpu")`` without a dtype raises and
says to pass ``dtype=minigrad.float16``; ``minigrad.autocast("cuda")`` defaults to float16, as torch's does.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

from .. import _autocast, _backend, _dtype

_DEVICE_TYPES = ("cpu", "cuda")
_SUPPORTED = "minigrad.float16"  # what minigrad can autocast to (torch adds torch.bfloat16)


def _is_bfloat16(d: Any) -> bool:
    return getattr(d, "name", None) == "bfloat16" or str(d) in ("torch.bfloat16", "bfloat16")


def _no_bfloat16(where: str) -> RuntimeError:
    return RuntimeError(f"{where}: minigrad has no bfloat16, because NumPy and CuPy have no bfloat16 dtype. "
                        "Pass dtype=minigrad.float16, e.g. minigrad.autocast(\"cpu\", dtype=minigrad.float16).")


def get_autocast_dtype(device_type: str) -> _dtype.dtype:
    """The dtype autocast uses for ``device_type`` now: the innermost region's, else the default (float16 for
    CUDA; for CPU torch's default is bfloat16, which minigrad cannot have, so this raises outside a region).

    Differs from torch: ``get_autocast_dtype("cpu")`` outside a CPU region raises a RuntimeError where torch
    returns ``torch.bfloat16``.
    """
    state = _autocast.state.get()
    if state is not None and state.dtype_for(device_type) is not None:
        return state.dtype_for(device_type)
    if device_type == "cpu":
        raise _no_bfloat16("torch's default CPU autocast dtype is bfloat16")
    return _dtype.float16


def is_autocast_enabled(device_type: str = "cuda") -> bool:
    """Whether autocast is on for ``device_type`` here (no argument: CUDA, as torch's does)."""
    state = _autocast.state.get()
    return state is not None and state.dtype_for(device_type) is not None


def is_autocast_available(device_type: str) -> bool:
    """Whether autocast can run on ``device_type``: "cpu" always, "cuda" when the device type exists."""
    return device_type in _DEVICE_TYPES


class autocast:
    """Context manager and decorator: inside it, matmul / mm / linear on ``device_type`` tensors run in
    ``dtype`` (float16), as ``torch.autocast(device_type, dtype, enabled, cache_enabled)`` does.

    ``enabled=False`` switches autocast off for that device inside the region (nested regions restore the
    outer state on exit). ``cache_enabled`` (default True): a float32 parameter used by several products in
    one region is cast to float16 once, and the cast reused until the outermost region exits.

    The state is per thread, as torch's: a thread started inside a region does not run under it.

    Differs from torch: float16 is the only dtype (no bfloat16, so "cpu" needs ``dtype=minigrad.float16``), and
    the ops it changes are the matrix products and conv2d (to float16) and the losses (to float32), where
    torch's CUDA lists also run softmax, sum, exp, log and others in float32.
    """

    def __init__(self, device_type: str, dtype: _dtype.dtype | None = None, enabled: bool = True,
                 cache_enabled: bool | None = None) -> None:
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        if device_type not in _DEVICE_TYPES:
            raise RuntimeError(f"User specified an unsupported autocast device_type '{device_type}' "
                               "(minigrad's autocast runs on 'cpu' and 'cuda')")
        self.device = device_type
        self._cache_enabled = True if cache_enabled is None else cache_enabled
        if dtype is None and enabled:
            if device_type == "cpu":
                raise _no_bfloat16("minigrad.autocast(\"cpu\") defaults to bfloat16 as torch's does")
            dtype = _dtype.float16
        if enabled and _is_bfloat16(dtype):
            raise _no_bfloat16("autocast(dtype=bfloat16)")
        self.fast_dtype = dtype
        if enabled:
            if device_type == "cuda" and not _backend.cuda_available():
                warnings.warn("CUDA is not available or torch_xla is imported. Disabling autocast.", stacklevel=2)
                enabled = False
            elif dtype is not _dtype.float16:
                name = device_type.upper()
                warnings.warn(f"In {name} autocast, but the target dtype is not supported. Disabling autocast.\n"
                              f"{name} Autocast only supports dtypes of {_SUPPORTED} currently.", stacklevel=2)
                enabled = False
        self._enabled = enabled
        self._tokens: list = []  # one per __enter__ not yet exited: the same object may be re-entered

    def __enter__(self) -> autocast:
        outer = _autocast.state.get()
        cpu, cuda = (outer.cpu, outer.cuda) if outer is not None else (None, None)
        if self.device == "cpu":
            cpu = self.fast_dtype if self._enabled else None
        else:
            cuda = self.fast_dtype if self._enabled else None
        if not self._cache_enabled:
            cache = None
        elif outer is not None and outer.cache is not None:
            cache = outer.cache  # nested regions share the outer region's casts
        else:
            cache = {}
        new = None  # no device on and no outer region: keep the ops' fast path (a state of None)
        if outer is not None or cpu is not None or cuda is not None:
            new = _autocast.AutocastState(cpu, cuda, cache, outer.depth + 1 if outer is not None else 1)
        self._tokens.append(_autocast.state.set(new))
        return self

    def __exit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> bool:
        _autocast.state.reset(self._tokens.pop())  # back to the outer state; the outermost exit drops the cache
        return False

    def __call__(self, func: Callable) -> Callable:
        if not callable(func):
            raise TypeError(f"autocast()(func) requires a callable, but got {type(func).__name__}. "
                            "Did you mean to use autocast as a context manager? For example:\n"
                            "    with torch.autocast(device_type=...):\n"
                            "        output = model(input)")

        @functools.wraps(func)
        def decorate_autocast(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)

        return decorate_autocast
