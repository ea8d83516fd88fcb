"""torch.accelerator: the one accelerator minigrad can use is a CUDA GPU through CuPy.

Differs from torch: the only accelerator is 'cuda' through CuPy, so ``current_accelerator()`` is
``device('cuda')`` or None and never MPS or XPU.
"""

from __future__ import annotations

from . import _backend, cuda


def is_available() -> bool:
    return cuda.is_available()


def current_accelerator(check_available: bool = False) -> _backend.device | None:
    # torch gives None on a machine without one, whatever check_available says
    return _backend.device("cuda") if cuda.is_available() else None


def device_count() -> int:
    return cuda.device_count()
