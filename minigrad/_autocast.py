"""The autocast state, read by the ops that autocast changes (matmul, mm, linear: minigrad/ops/linalg.py).

Kept apart from ``minigrad.amp`` (the user-facing context manager) so that the ops import a small module
with no dependencies: ``minigrad.amp`` imports this, never the reverse.

The state is one ``ContextVar`` holding ``None`` outside every autocast region, so an op outside autocast
pays one ``.get()`` and one ``is None`` test. Inside a region it holds an ``AutocastState``: the dtype per
device type (``None`` where autocast is off for that device) and the cache of weights already cast.
A ``ContextVar`` is per thread (and per asyncio task), as torch's autocast state is thread-local: a new
thread starts outside autocast.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

import numpy

from . import _backend, _dtype


class AutocastState:
    """What autocast does now: the lower-precision dtype for CPU and CUDA tensors (``None``: no autocast for
    that device), and the cast cache (``None`` when caching is off).

    The cache maps ``id(weight)`` to ``(weight, weight_in_float16)``: a float32 leaf that requires grad (a
    parameter) used by several matmuls in one forward is cast once, as torch's ``cache_enabled`` does. It is
    shared by nested regions and emptied when the outermost region exits (the parameters change at the
    optimizer step, so a cast must not outlive the forward pass it was made for).
    """

    __slots__ = ("cpu", "cuda", "cache", "depth")

    def __init__(self, cpu: _dtype.dtype | None, cuda: _dtype.dtype | None, cache: dict | None,
                 depth: int) -> None:
        self.cpu, self.cuda, self.cache, self.depth = cpu, cuda, cache, depth

    def dtype_for(self, device_type: str) -> _dtype.dtype | None:
        return self.cuda if device_type == "cuda" else self.cpu


state: ContextVar[AutocastState | None] = ContextVar("minigrad_autocast", default=None)


def target_dtype(state_now: AutocastState, data: Any) -> _dtype.dtype | None:
    """The dtype autocast gives an input array of a lower-precision op (matmul, mm, linear), or ``None`` to
    leave it as it is. torch's "eligible" rule: only floating arrays other than float64 (float64 was asked for
    on purpose), on a device where autocast is on."""
    kind = data.dtype
    if kind.kind != "f" or kind.itemsize == 8:
        return None
    target = state_now.cpu if type(data) is numpy.ndarray else state_now.dtype_for(_backend.device_of(data).type)
    if target is None or target.np == kind:
        return None
    return target


def runs_in_float32(state_now: AutocastState, data: Any) -> bool:
    """Whether an input of an op on autocast's float32 list (the losses) is cast to float32: a lower-precision
    floating array on a device where autocast is on."""
    if data.dtype.kind != "f" or data.dtype.itemsize >= 4:
        return False
    device_type = "cpu" if type(data) is numpy.ndarray else _backend.device_of(data).type
    return state_now.dtype_for(device_type) is not None
