"""The one place that knows about array libraries: a device maps to NumPy or CuPy.

Everything else asks this module for the array module (``xp``) of an array or a
device instead of importing NumPy or CuPy itself, so the same op code runs on
both.
"""

from __future__ import annotations

import importlib
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
    """torch.device: ``device('cpu')``, ``device('cuda')``, ``device('cuda:1')``, ``device('cuda', 0)``."""

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
# generator per GPU, all seeded together by manual_seed.
_seed: int | None = None
_host_rng = numpy.random.default_rng()
_gpu_rngs: dict[int, Any] = {}


def manual_seed(seed: int) -> None:
    global _seed, _host_rng
    _seed = int(seed)
    _host_rng = numpy.random.default_rng(_seed)
    _gpu_rngs.clear()


def rng(d: device) -> Any:
    """The random generator of device ``d``."""
    if d.type == "cpu":
        return _host_rng
    cp = _load_cupy()
    idx = d.index or 0
    if idx not in _gpu_rngs:
        with cp.cuda.Device(idx):
            _gpu_rngs[idx] = cp.random.default_rng(_seed)
    return _gpu_rngs[idx]
