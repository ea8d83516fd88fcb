"""Process-wide settings with torch's names: ``set_num_threads`` / ``get_num_threads`` and the
deterministic-algorithms switch.

minigrad's only multi-threaded work is its BLAS's matrix products, so the number of threads is the
BLAS's. threadpoolctl, where it is installed (the ``examples`` and ``test`` extras have it), sets it at
run time; without it ``set_num_threads`` only records the number.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

_threads: int | None = None  # the number given to set_num_threads


def cpu_count() -> int:
    """The cores this process may run on (its affinity mask, where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _threadpoolctl() -> ModuleType | None:
    """threadpoolctl, imported on first use (it inspects every loaded library, too slow for ``import minigrad``)."""
    try:
        return importlib.import_module("threadpoolctl")
    except ImportError:  # not a runtime dependency
        return None


def _blas_threads() -> int | None:
    """The BLAS's thread count as threadpoolctl reads it, or None without threadpoolctl or a BLAS it knows."""
    threadpoolctl = _threadpoolctl()
    if threadpoolctl is None:
        return None
    blas = [pool["num_threads"] for pool in threadpoolctl.threadpool_info() if pool["user_api"] == "blas"]
    return max(blas) if blas else None


def get_num_threads() -> int:
    """The number of threads of the BLAS, which does minigrad's matrix products.

    Differs from torch: the count is the BLAS's (read through threadpoolctl), not that of torch's
    intra-op pool; without threadpoolctl it is the number last given to ``set_num_threads``, else the
    number of cores this process may use.
    """
    threads = _blas_threads()
    if threads is not None:
        return threads
    return _threads if _threads is not None else cpu_count()


def set_num_threads(n: int) -> None:
    """Use ``n`` threads for matrix products (the BLAS's).

    Differs from torch: only the BLAS is set (elementwise work is single-threaded anyway), through
    threadpoolctl; without it the number is only recorded for ``get_num_threads``.
    """
    global _threads
    if not isinstance(n, int) or isinstance(n, bool):
        raise RuntimeError(f"set_num_threads expects an int, but got {type(n).__name__}")
    if n <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    threadpoolctl = _threadpoolctl()
    if threadpoolctl is not None:
        threadpoolctl.threadpool_limits(limits=n, user_api="blas")  # called, not entered: the limit stays
    _threads = n


# -- deterministic algorithms --------------------------------------------------------------------

_deterministic = False
_warn_only = False


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Record torch's switch for deterministic algorithms.

    minigrad's ops are deterministic already (NumPy's and CuPy's kernels, no atomics-based reductions
    chosen for speed), so the switch changes no result and never raises or warns; it is kept for
    ``are_deterministic_algorithms_enabled`` and the code that reads it.
    """
    global _deterministic, _warn_only
    if not isinstance(mode, bool):
        raise TypeError(f"_set_deterministic_algorithms(): argument 'mode' (position 1) must be bool, not "
                        f"{type(mode).__name__}")
    if not isinstance(warn_only, bool):
        raise TypeError(f"_set_deterministic_algorithms(): argument 'warn_only' must be bool, not "
                        f"{type(warn_only).__name__}")
    _deterministic, _warn_only = mode, warn_only


def are_deterministic_algorithms_enabled() -> bool:
    return _deterministic


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    return _warn_only


def set_deterministic_debug_mode(debug_mode: int | str) -> None:
    """``0`` / ``"default"``, ``1`` / ``"warn"`` or ``2`` / ``"error"``: ``use_deterministic_algorithms`` off, on with
    ``warn_only``, or on."""
    if not isinstance(debug_mode, (int, str)):
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode)}")
    if isinstance(debug_mode, str):
        modes = {"default": 0, "warn": 1, "error": 2}
        if debug_mode not in modes:
            raise RuntimeError(f"invalid value of debug_mode, expected one of `default`, `warn`, `error`, but got "
                               f"{debug_mode}")
        debug_mode = modes[debug_mode]
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got {debug_mode}")
    use_deterministic_algorithms(debug_mode != 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode() -> int:
    if not _deterministic:
        return 0
    return 1 if _warn_only else 2
