"""``measure()``: how many bytes of arrays a block of code really allocates.

On the CPU NumPy reports every array buffer it allocates or frees to
``tracemalloc`` (in its own domain), so the peak and current figures come from
there. ``tracemalloc`` keeps a single peak for all domains, so Python objects
made inside the block (tensors, graph nodes: a few hundred bytes each) are in
the peak too; ``array_current`` is the NumPy domain alone.

On a GPU, CuPy arrays come from CuPy's memory pool; a pool hook sees every
block handed out and given back, which gives the peak. CuPy is optional and is
imported only when a CUDA device is asked for.
"""

from __future__ import annotations

import itertools
import tracemalloc
from dataclasses import dataclass, field
from typing import Any

import numpy

from .. import _backend

# The tracemalloc domain NumPy uses for array buffers (NPY_TRACE_DOMAIN in NumPy's C code).
NUMPY_DOMAIN: int = getattr(numpy.lib, "tracemalloc_domain", 389047)


@dataclass
class Measurement:
    """Bytes allocated inside a ``measure()`` block, relative to its start.

    ``peak``: the most that was held at any moment; ``current``: what is still held
    (updated live while the block runs, final after it). Negative ``current`` means
    the block freed more than it allocated.
    """

    device: str = "cpu"
    peak: int = 0
    current: int = 0
    array_current: int | None = None  # CPU only: NumPy's domain alone, Python objects left out
    _state: dict = field(default_factory=dict, repr=False)

    def __str__(self) -> str:
        from .units import format_bytes

        return f"Measurement({self.device}: peak {format_bytes(self.peak)}, current {format_bytes(self.current)})"


# Nested CPU measurements: tracemalloc has one peak, so an inner block that resets it
# first hands the peak reached so far to every block still open around it.
_open_cpu: list[Measurement] = []


class measure:
    """Context manager: ``with minigrad.memory.measure() as m: ...`` then ``m.peak``, ``m.current``.

    ``device`` is ``"cpu"`` (tracemalloc) or a CUDA device (CuPy's memory pool).
    Arrays that exist before the block are not counted, only what it allocates.
    """

    def __init__(self, device: str | _backend.device = "cpu") -> None:
        self.device = _backend.as_device(device)
        self.result = Measurement(device=str(self.device))

    def __enter__(self) -> Measurement:
        if self.device.type == "cpu":
            self._enter_cpu()
        else:
            self._enter_cuda()
        return self.result

    def __exit__(self, *exc: Any) -> None:
        if self.device.type == "cpu":
            self._exit_cpu()
        else:
            self._exit_cuda()

    # -- CPU: tracemalloc ------------------------------------------------------------------
    def _enter_cpu(self) -> None:
        st = self.result._state
        st["started"] = not tracemalloc.is_tracing()
        if st["started"]:
            tracemalloc.start(1)  # one frame per trace: cheapest, and we never read tracebacks
        _, peak = tracemalloc.get_traced_memory()
        for outer in _open_cpu:
            outer._state["peak_seen"] = max(outer._state["peak_seen"], peak)
        # The snapshot makes Python objects for a moment: take it before the peak is reset.
        st["array_base"] = _numpy_traced_bytes()
        tracemalloc.reset_peak()
        st["base"] = st["peak_seen"] = tracemalloc.get_traced_memory()[0]
        _open_cpu.append(self.result)

    def _exit_cpu(self) -> None:
        st = self.result._state
        current, peak = tracemalloc.get_traced_memory()
        st["peak_seen"] = max(st["peak_seen"], peak)
        self.result.peak = st["peak_seen"] - st["base"]
        self.result.current = current - st["base"]
        self.result.array_current = _numpy_traced_bytes() - st["array_base"]
        _open_cpu.remove(self.result)
        for outer in _open_cpu:
            outer._state["peak_seen"] = max(outer._state["peak_seen"], st["peak_seen"])
        if st["started"]:
            tracemalloc.stop()

    # -- CUDA: CuPy's memory pool ----------------------------------------------------------
    def _enter_cuda(self) -> None:
        cp = _backend._load_cupy()
        hook = _PoolHook(cp, self.result, self.device.index or 0)
        self.result._state["hook"] = hook
        cp.cuda.Device(self.device.index or 0).synchronize()
        hook.__enter__()

    def _exit_cuda(self) -> None:
        cp = _backend._load_cupy()
        cp.cuda.Device(self.device.index or 0).synchronize()
        self.result._state["hook"].__exit__(None, None, None)


def _numpy_traced_bytes() -> int:
    """Bytes NumPy holds in buffers allocated since tracing started (a snapshot: slower than the counters)."""
    snapshot = tracemalloc.take_snapshot().filter_traces([tracemalloc.DomainFilter(True, NUMPY_DOMAIN)])
    return sum(t.size for t in snapshot.traces)


_hook_ids = itertools.count()


def _PoolHook(cp: Any, result: Measurement, device_id: int) -> Any:
    """A CuPy memory hook that keeps ``result.current`` and ``result.peak`` up to date.

    Built on first use, so CuPy is only imported when a GPU is measured. Sizes are the
    pool's rounded block sizes (what ``MemoryPool.used_bytes()`` counts).
    """

    class PoolHook(cp.cuda.MemoryHook):
        def __init__(self) -> None:
            self.name = f"minigrad.memory.measure-{next(_hook_ids)}"  # hooks are registered by name

        def malloc_postprocess(self, **kw: Any) -> None:
            if kw["device_id"] == device_id:
                result.current += kw["mem_size"]
                result.peak = max(result.peak, result.current)

        def free_postprocess(self, **kw: Any) -> None:
            if kw["device_id"] == device_id:
                result.current -= kw["mem_size"]

    return PoolHook()
