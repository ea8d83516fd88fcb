"""The one place that knows about array libraries: a device maps to NumPy or CuPy.

Everything else asks this module for the array module (``xp``) of an array or a
device instead of importing NumPy or CuPy itself, so the same op code runs on
both.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import Any

import numpy

_cupy: ModuleType | None = None
_cupy_error: str | None = None


def _load_cupy() -> ModuleType:
    """Import CuPy on first use and say clearly what is missing when it can't.

    The error names minigrad and CuPy rather than repeating torch's "Torch not compiled with CUDA
    enabled": the fix is installing CuPy or reaching a GPU, never rebuilding anything."""
    global _cupy, _cupy_error
    if _cupy is not None:
        return _cupy
    if _cupy_error is None:
        try:
            cp = importlib.import_module("cupy")
            if cp.cuda.runtime.getDeviceCount() < 1:
                _cupy_error = "CuPy is installed but no CUDA GPU is visible"
            else:
                _cupy = cp
                return cp
        except ImportError:
            _cupy_error = "CuPy is not installed (pip install -e \".[cuda]\" in the minigrad checkout)"
        except Exception as exc:  # CUDA driver missing or broken
            _cupy_error = f"CuPy could not reach a CUDA GPU: {exc}"
    raise RuntimeError(f"minigrad has no CUDA device: {_cupy_error}")


def cuda_available() -> bool:
    try:
        _load_cupy()
    except RuntimeError:
        return False
    return True


def cuda_device_count() -> int:
    return _load_cupy().cuda.runtime.getDeviceCount() if cuda_available() else 0


class device:
    """torch.device: ``device('cpu')``, ``device('cuda')``, ``device('cuda:1')``, ``device('cuda', 0)``.

    Differs from torch: the only types are 'cpu' and 'cuda', a GPU reached through CuPy (no 'mps', 'meta' or
    'xpu'). ``device('cuda')`` compares equal to ``device('cuda:0')``, where torch tells them apart.
    """

    __slots__ = ("type", "index")

    def __init__(self, type: str | device, index: int | None = None) -> None:
        if isinstance(type, device):
            type, index = type.type, type.index
        elif ":" in type:
            if index is not None:
                raise ValueError(f"device string must not include an index because index was passed explicitly: {type}")
            type, idx = type.split(":", 1)
            index = int(idx)
        if type not in ("cpu", "cuda"):
            raise RuntimeError(
                f"Expected one of cpu, cuda device type at start of device string: {type}"
            )
        self.type = type
        self.index = index

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            other = device(other)
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and (self.index or 0) == (other.index or 0)

    def __hash__(self) -> int:
        return hash((self.type, self.index or 0))


CPU = device("cpu")


def as_device(d: str | device | int | None) -> device:
    if d is None:
        return CPU
    if isinstance(d, int):
        return device("cuda", d)
    return d if isinstance(d, device) else device(d)


def xp_of_device(d: device) -> ModuleType:
    """The array module that holds arrays for device ``d``."""
    return numpy if d.type == "cpu" else _load_cupy()


def xp_of(array: Any) -> ModuleType:
    """The array module of an array: NumPy for host arrays, CuPy for GPU arrays; for a tensor, NumPy's names
    made of recorded ops."""
    if type(array) is numpy.ndarray:
        return numpy
    namespace = getattr(array, "_namespace", None)  # a tensor, in a recorded backward (minigrad/ops/recorded.py)
    if namespace is not None:
        return namespace()
    if _cupy is None:
        return numpy
    return _cupy if isinstance(array, _cupy.ndarray) else numpy


def device_of(array: Any) -> device:
    if type(array) is numpy.ndarray or _cupy is None or not isinstance(array, _cupy.ndarray):
        return CPU
    return device("cuda", array.device.id)


def move(array: Any, d: device) -> Any:
    """Copy ``array`` to device ``d`` (no copy when it is already there)."""
    if d.type == "cpu":
        return array.get() if _cupy is not None and isinstance(array, _cupy.ndarray) else array
    cp = _load_cupy()
    with cp.cuda.Device(d.index or 0):
        return cp.asarray(array)


def to_host(array: Any) -> numpy.ndarray:
    return move(array, CPU)


# Random numbers: one NumPy generator for the host and, once used, one CuPy
# generator per GPU, all seeded together by manual_seed. minigrad.random wraps them
# in torch's Generator API (minigrad.default_generator is the host one).


def fresh_seed() -> int:
    """A nondeterministic 64-bit seed, as torch's ``seed()`` draws."""
    return int.from_bytes(os.urandom(8), "little")


def seed_value(seed: Any) -> int:
    """``seed`` as the unsigned 64-bit number torch keeps: negative seeds wrap, as in torch."""
    seed = int(seed)
    if not -2**63 <= seed < 2**64:
        raise ValueError("Overflow when unpacking long long")
    return seed % 2**64


_seed: int = fresh_seed()  # the seed of the GPU generators made from now on
_host_seed: int = _seed  # the host generator's initial seed
_host_rng = numpy.random.default_rng(_host_seed)
_gpu_rngs: dict[int, Any] = {}
_gpu_seeds: dict[int, int] = {}  # initial seeds of the GPU generators seeded one by one


def manual_seed(seed: int) -> None:
    global _seed
    _seed = seed_value(seed)
    seed_host(_seed)
    _gpu_rngs.clear()
    _gpu_seeds.clear()


def seed_host(seed: int) -> None:
    """Restart the host's generator from ``seed`` (the GPUs' go on)."""
    global _host_seed, _host_rng
    _host_seed = seed
    _host_rng = numpy.random.default_rng(seed)


def seed_gpu(index: int, seed: int) -> None:
    """Restart GPU ``index``'s generator from ``seed`` (the host's and the other GPUs' go on)."""
    cp = _load_cupy()
    with cp.cuda.Device(index):
        _gpu_rngs[index] = cp.random.default_rng(seed)
    _gpu_seeds[index] = seed


def initial_seed(d: device) -> int:
    """The seed device ``d``'s default generator last started from."""
    if d.type == "cpu":
        return _host_seed
    return _gpu_seeds.get(d.index or 0, _seed)


def rng(d: device, generator: Any = None) -> Any:
    """The random generator of device ``d``: minigrad's own, or that of ``generator`` (a ``minigrad.Generator``
    of ``d``'s type)."""
    if generator is not None:
        draw_from = getattr(generator, "_rng_for", None)
        if draw_from is None:
            raise TypeError(f"generator must be a minigrad.Generator, not {type(generator).__name__}")
        return draw_from(d)
    if d.type == "cpu":
        return _host_rng
    cp = _load_cupy()
    idx = d.index or 0
    if idx not in _gpu_rngs:
        with cp.cuda.Device(idx):
            _gpu_rngs[idx] = cp.random.default_rng(_seed)
    return _gpu_rngs[idx]
