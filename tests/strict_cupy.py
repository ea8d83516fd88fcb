"""A stand-in for CuPy that runs on the CPU and is as strict as CuPy about mixing devices.

Its arrays (``StrictArray``) play "GPU arrays": NumPy refuses to combine them with
plain host arrays, as CuPy does ("Unsupported type <class 'numpy.ndarray'>"), so a
stray ``np.zeros(...)`` or ``np.arange(...)`` mixed with device data in minigrad
fails in CI, where no GPU exists. The module object mimics the part of CuPy's
namespace that minigrad uses: array functions, ufuncs, ``random.default_rng``,
``cuda.Device``, ``cuda.runtime.getDeviceCount``, ``asarray`` and ``ndarray.get()``.
"""

from __future__ import annotations

import types
from typing import Any

import numpy


class HostDeviceMixError(TypeError):
    pass


class StrictArray(numpy.ndarray):
    """An array that pretends to live on GPU 0."""

    class _Device:
        id = 0

    device = _Device()

    def get(self) -> numpy.ndarray:
        """Copy to the host, as ``cupy.ndarray.get``."""
        return numpy.array(self.view(numpy.ndarray))

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, out: Any = None, **kwargs: Any) -> Any:
        args = _unwrap(inputs)
        if out is not None:
            kwargs["out"] = _unwrap(out)
        result = getattr(ufunc, method)(*args, **kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _wrap(result)

    def __array_function__(self, func: Any, types_: Any, args: Any, kwargs: Any) -> Any:
        return _wrap(func(*_unwrap(args), **_unwrap(kwargs)))

    def tolist(self) -> Any:
        raise HostDeviceMixError("tolist() on a device array: copy it to the host first")


def _unwrap(x: Any) -> Any:
    if type(x) is StrictArray:
        return x.view(numpy.ndarray)
    if isinstance(x, numpy.ndarray):
        raise HostDeviceMixError(f"Unsupported type {type(x)}: a host (NumPy) array was mixed with a device array")
    if isinstance(x, (list, tuple)):
        return type(x)(_unwrap(i) for i in x)
    if isinstance(x, dict):
        return {k: _unwrap(v) for k, v in x.items()}
    return x


def _wrap(x: Any) -> Any:
    if type(x) is numpy.ndarray:
        return x.view(StrictArray)
    if isinstance(x, numpy.generic):  # CuPy returns 0-dim arrays, never NumPy scalars
        return numpy.asarray(x).view(StrictArray)
    if isinstance(x, tuple):
        return tuple(_wrap(i) for i in x)
    if isinstance(x, list):
        return [_wrap(i) for i in x]
    return x


class _BitGenerator:
    """Like CuPy's, the whole state is one device array, ``_state``, that the draws read and advance (here
    the seed and the number of draws so far), so that writing into it moves the stream."""

    def __init__(self, seed: Any) -> None:
        self._state = numpy.array([seed, 0], dtype=numpy.uint64).view(StrictArray)

    def next_host_generator(self) -> numpy.random.Generator:
        seed, draws = (int(v) for v in self._state.view(numpy.ndarray))
        self._state[1] += numpy.uint64(1)
        return numpy.random.default_rng([seed, draws])


class _Generator:
    def __init__(self, seed: Any) -> None:
        self.bit_generator = _BitGenerator(seed)

    def __getattr__(self, name: str) -> Any:
        def draw(*a: Any, **k: Any) -> Any:
            return _wrap(getattr(self.bit_generator.next_host_generator(), name)(*_unwrap(a), **_unwrap(k)))
        return draw


class _DeviceContext:
    def __init__(self, index: int = 0) -> None:
        self.id = index

    def __enter__(self) -> _DeviceContext:
        return self

    def __exit__(self, *exc: Any) -> None:
        pass

    def synchronize(self) -> None:
        pass


class _MemoryPool:
    def used_bytes(self) -> int:
        return 0

    def total_bytes(self) -> int:
        return 0


class StrictCuPy(types.ModuleType):
    """The fake ``cupy`` module."""

    ndarray = StrictArray

    def __init__(self) -> None:
        super().__init__("strict_cupy")
        self.random = types.SimpleNamespace(default_rng=_Generator)
        self.cuda = types.SimpleNamespace(
            Device=_DeviceContext,
            runtime=types.SimpleNamespace(getDeviceCount=lambda: 1),
        )

    @staticmethod
    def asarray(x: Any, dtype: Any = None) -> StrictArray:
        """The host -> device copy: the one function that accepts host arrays."""
        if type(x) is StrictArray:
            return x if dtype is None else x.astype(dtype)
        return numpy.array(x, dtype=dtype).view(StrictArray)

    array = asarray

    @staticmethod
    def get_default_memory_pool() -> _MemoryPool:
        return _MemoryPool()

    def __getattr__(self, name: str) -> Any:
        obj = getattr(numpy, name)
        if isinstance(obj, numpy.ufunc) or not callable(obj) or isinstance(obj, type):
            return obj  # ufuncs dispatch through StrictArray.__array_ufunc__ and check their inputs there
        return lambda *a, **k: _wrap(obj(*_unwrap(a), **_unwrap(k)))
