"""``minigrad.cuda``: is a GPU usable through CuPy?

Differs from torch: CUDA means CuPy here, so ``is_available()`` asks whether CuPy is installed and sees a GPU.
``manual_seed`` and ``manual_seed_all`` reseed the host's generator too, as ``minigrad.manual_seed`` does.
"""

from __future__ import annotations

import types
import warnings
from collections.abc import Iterable
from typing import Any

from . import _backend, _dtype
from . import random as _random
from .amp import GradScaler as _GradScaler
from .amp import autocast as _autocast
from .tensor import Tensor


def is_available() -> bool:
    """True when CuPy is installed and sees at least one CUDA GPU."""
    return _backend.cuda_available()


def device_count() -> int:
    return _backend.cuda_device_count()


def manual_seed(seed: int) -> None:
    _backend.manual_seed(seed)


def manual_seed_all(seed: int) -> None:
    _backend.manual_seed(seed)


def seed() -> None:
    """Seed the first GPU's default generator from a nondeterministic seed; without a GPU, nothing (as torch)."""
    if is_available():
        _random.cuda_default_generator().seed()


def seed_all() -> None:
    """Seed every GPU's default generator from one nondeterministic seed; without a GPU, nothing (as torch)."""
    if is_available():
        value = _backend.fresh_seed()
        for index in range(device_count()):
            _random.cuda_default_generator(index).manual_seed(value)


def initial_seed() -> int:
    """The seed the first GPU's default generator last started from.

    Differs from torch: without a GPU it raises minigrad's RuntimeError (what is missing: CuPy or a
    GPU) where torch's CPU build raises an AssertionError.
    """
    return _random.cuda_default_generator().initial_seed()


def get_rng_state(device: int | str | _backend.device = "cuda") -> Tensor:
    """The state of a GPU's default generator, as a uint8 tensor on the host.

    Differs from torch: the state is that of CuPy's generator (its cuRAND states), not torch's
    16-byte Philox seed and offset; without a GPU it raises minigrad's RuntimeError where torch's
    CPU build raises an AssertionError.
    """
    return _random.cuda_default_generator(device).get_state()


def set_rng_state(new_state: Tensor, device: int | str | _backend.device = "cuda") -> None:
    """Put back a state of a GPU's default generator from ``get_rng_state``."""
    _random.cuda_default_generator(device).set_state(new_state)


def get_rng_state_all() -> list[Tensor]:
    """The states of every GPU's default generator (an empty list without a GPU, as torch's)."""
    return [get_rng_state(index) for index in range(device_count())]


def set_rng_state_all(new_states: Iterable[Tensor]) -> None:
    for index, state in enumerate(new_states):
        set_rng_state(state, index)


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
