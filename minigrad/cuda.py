"""``minigrad.cuda``: is a GPU usable through CuPy?"""

from __future__ import annotations

from . import _backend


def is_available() -> bool:
    """True when CuPy is installed and sees at least one CUDA GPU."""
    return _backend.cuda_available()


def device_count() -> int:
    return _backend.cuda_device_count()


def manual_seed(seed: int) -> None:
    _backend.manual_seed(seed)


def manual_seed_all(seed: int) -> None:
    _backend.manual_seed(seed)


def synchronize() -> None:
    """Wait for the GPU's queued work; without a GPU it raises, as torch's does, saying what is missing."""
    _backend._load_cupy().cuda.Device().synchronize()
