"""``minigrad.cuda``: is a GPU usable through CuPy?"""

from __future__ import annotations

import types
import warnings
from typing import Any

from . import _backend, _dtype
from .amp import GradScaler as _GradScaler
from .amp import autocast as _autocast


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


class _CudaAutocast(_autocast):
    """``torch.cuda.amp.autocast(...)``: deprecated in torch for ``torch.amp.autocast("cuda", ...)``."""

    def __init__(self, enabled: bool = True, dtype: _dtype.dtype = _dtype.float16, cache_enabled: bool = True) -> None:
        warnings.warn("`torch.cuda.amp.autocast(args...)` is deprecated. Please use `torch.amp.autocast('cuda', "
                      "args...)` instead.", FutureWarning, stacklevel=2)
        super().__init__("cuda", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


class _CudaGradScaler(_GradScaler):
    """``torch.cuda.amp.GradScaler(...)``: deprecated in torch for ``torch.amp.GradScaler("cuda", ...)``."""

    def __init__(self, init_scale: float = 2.0**16, growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True) -> None:
        warnings.warn("`torch.cuda.amp.GradScaler(args...)` is deprecated. Please use `torch.amp.GradScaler('cuda', "
                      "args...)` instead.", FutureWarning, stacklevel=2)
        super().__init__("cuda", init_scale, growth_factor, backoff_factor, growth_interval, enabled)


def _namespace(**names: Any) -> types.SimpleNamespace:
    return types.SimpleNamespace(**names)


# ``minigrad.cuda.amp.autocast`` / ``.GradScaler``: torch 2.13 still has them, with a FutureWarning.
amp = _namespace(autocast=_CudaAutocast, GradScaler=_CudaGradScaler)
