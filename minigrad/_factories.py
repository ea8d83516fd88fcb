"""Functions that create tensors: ``tensor``, ``zeros``, ``randn`` ... with torch's signatures."""

from __future__ import annotations

import builtins
import math
from collections.abc import Sequence
from typing import Any

import numpy

from . import _backend, _dtype
from ._convert import as_array
from .autograd.graph import named
from .ops._base import Op, broadcast_message, promote
from .tensor import Tensor, _legacy_data


def _shape(size: tuple) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    return tuple(builtins.int(s) for s in size)


def _make(array: Any, requires_grad: bool) -> Tensor:
    t = Tensor._wrap(array)
    if requires_grad:
        if array.dtype.kind not in "fc":  # torch's factories word it differently from requires_grad_()
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        t.requires_grad_(True)
    return t


def _float_dtype(dtype: Any) -> numpy.dtype:
    return _dtype.get_default_dtype().np if dtype is None else _dtype.to_numpy_dtype(dtype)


def _xp(device: Any) -> Any:
    return _backend.xp_of_device(_backend.as_device(device))


def tensor(data: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (nested lists, scalars, arrays or tensors)."""
    return _make(as_array(data, dtype, device), requires_grad)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    if isinstance(data, Tensor) and dtype is None and device is None:
        return data
    same_dtype = dtype is None or _dtype.to_numpy_dtype(dtype) == getattr(data, "dtype", None)
    if isinstance(data, numpy.ndarray) and device is None and same_dtype:
        return from_numpy(data)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(ndarray: numpy.ndarray) -> Tensor:
    """A tensor sharing memory with ``ndarray``: changes to one show in the other."""
    if not isinstance(ndarray, numpy.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    _dtype.from_numpy_dtype(ndarray.dtype)
    return Tensor._wrap(ndarray)


def zeros(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _make(_xp(device).zeros(_shape(size), dtype=_float_dtype(dtype)), requires_grad)


def ones(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _make(_xp(device).ones(_shape(size), dtype=_float_dtype(dtype)), requires_grad)


def empty(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _make(_xp(device).empty(_shape(size), dtype=_float_dtype(dtype)), requires_grad)


def full(size: Sequence[int], fill_value: Any, *, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    if dtype is None:
        dtype = (_dtype.bool if isinstance(fill_value, builtins.bool) else
                 _dtype.int64 if isinstance(fill_value, builtins.int) else _dtype.get_default_dtype())
    return _make(_xp(device).full(_shape((size,)), fill_value, dtype=_dtype.to_numpy_dtype(dtype)), requires_grad)


def _like(t: Tensor, dtype: Any, device: Any) -> tuple:
    return (t._data.dtype if dtype is None else _dtype.to_numpy_dtype(dtype),
            t.device if device is None else _backend.as_device(device))


def zeros_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    dt, dev = _like(input, dtype, device)
    return _make(_backend.xp_of_device(dev).zeros(input._data.shape, dtype=dt), requires_grad)


def ones_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    dt, dev = _like(input, dtype, device)
    return _make(_backend.xp_of_device(dev).ones(input._data.shape, dtype=dt), requires_grad)


def empty_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    dt, dev = _like(input, dtype, device)
    return _make(_backend.xp_of_device(dev).empty(input._data.shape, dtype=dt), requires_grad)


def full_like(input: Tensor, fill_value: Any, *, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    dt, dev = _like(input, dtype, device)
    return _make(_backend.xp_of_device(dev).full(input._data.shape, fill_value, dtype=dt), requires_grad)


def _draw(device: Any, method: str, shape: tuple, dtype: numpy.dtype, generator: Any = None) -> Any:
    """Random floats drawn directly in float32 or float64 (no float64 temporary for a float32 tensor), from
    ``generator`` (a ``minigrad.Generator``) or minigrad's generator of ``device``."""
    draw = getattr(_backend.rng(device, generator), method)
    if dtype in (numpy.float32, numpy.float64):
        return draw(shape, dtype=dtype)
    return draw(shape).astype(dtype)


def rand(*size: Any, generator: Any = None, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """A tensor of ``size`` filled with uniform random numbers in [0, 1), as torch.rand.

    Differs from torch: the numbers come from minigrad's NumPy generator (CuPy's on a GPU), so a seed gives
    other values than torch's.
    """
    dev = _backend.as_device(device)
    dt = _float_dtype(dtype)
    return _make(_draw(dev, "random", _shape(size), dt, generator), requires_grad)


def randn(*size: Any, generator: Any = None, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    """A tensor of ``size`` filled with standard normal random numbers, as torch.randn.

    Differs from torch: the numbers come from minigrad's NumPy generator (CuPy's on a GPU), so a seed gives
    other values than torch's.
    """
    dev = _backend.as_device(device)
    dt = _float_dtype(dtype)
    return _make(_draw(dev, "standard_normal", _shape(size), dt, generator), requires_grad)


def randn_like(input: Tensor, *, generator: Any = None, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    """Standard normal random numbers shaped like ``input`` (its dtype and device unless given), as torch.randn_like.

    Differs from torch: the numbers come from minigrad's NumPy generator (CuPy's on a GPU), so a seed gives
    other values than torch's.
    """
    dt, dev = _like(input, dtype, device)
    return _make(_draw(dev, "standard_normal", input._data.shape, dt, generator), requires_grad)


def rand_like(input: Tensor, *, generator: Any = None, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    """Uniform random numbers in [0, 1) shaped like ``input`` (its dtype and device unless given), as torch.rand_like.

    Differs from torch: the numbers come from minigrad's NumPy generator (CuPy's on a GPU), so a seed gives
    other values than torch's.
    """
    dt, dev = _like(input, dtype, device)
    return _make(_draw(dev, "random", input._data.shape, dt, generator), requires_grad)


def randint(low: int = 0, high: Any = None, size: Any = None, *, generator: Any = None, dtype: Any = None,
            device: Any = None) -> Tensor:
    """Random integers in [low, high) in a tensor of ``size`` (int64 unless given), as torch.randint.

    Differs from torch: the numbers come from minigrad's NumPy generator (CuPy's on a GPU), so a seed gives
    other values than torch's.
    """
    if size is None:  # randint(high, size)
        low, high, size = 0, low, high
    elif high is None:  # randint(high, size=...)
        low, high = 0, low
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    dev = _backend.as_device(device)
    dt = numpy.int64 if dtype is None else _dtype.to_numpy_dtype(dtype)
    return _make(_backend.rng(dev, generator).integers(low, high, size=_shape((size,))).astype(dt), False)


def randperm(n: int, *, generator: Any = None, dtype: Any = None, device: Any = None) -> Tensor:
    """A random permutation of ``0 .. n-1`` (int64 unless given), as torch.randperm.

    Differs from torch: the order comes from minigrad's NumPy generator (CuPy's on a GPU), so a seed gives
    another permutation than torch's.
    """
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    dev = _backend.as_device(device)
    dt = numpy.int64 if dtype is None else _dtype.to_numpy_dtype(dtype)
    return _make(_backend.rng(dev, generator).permutation(n).astype(dt), False)


def arange(start: Any = None, end: Any = None, step: Any = None, *, dtype: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    if end is None:
        if start is None or step is not None:  # torch's arange(end) takes no step
            got = ", ".join(f"{k}={type(v).__name__}" if k else type(v).__name__
                            for k, v in (("", start), ("step", step)) if v is not None)
            raise TypeError(f"arange() received an invalid combination of arguments - got ({got}), but expected one "
                            "of:\n * (Number end, *, Tensor out = None, minigrad.dtype dtype = None, ...)\n"
                            " * (Number start, Number end, *, ...)\n * (Number start, Number end, Number step = 1, "
                            "*, ...)")
        start, end = 0, _number(start, "end", 1)
    start, end = _number(0 if start is None else start, "start", 1), _number(end, "end", 2)
    step = 1 if step is None else _number(step, "step", 3)
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if dtype is None:
        is_int = all(isinstance(v, builtins.int) for v in (start, end, step))
        dt = numpy.dtype(numpy.int64) if is_int else _dtype.get_default_dtype().np
    else:
        dt = _dtype.to_numpy_dtype(dtype)
        if dt.kind == "b":
            raise NotImplementedError('"arange_cpu" not implemented for \'Bool\'')
    if not (math.isfinite(start) and math.isfinite(end)):
        raise RuntimeError(f"unsupported range: {start:g} -> {end:g}")
    if (step > 0 and end < start) or (step < 0 and end > start):
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if dt.kind in "iu":  # torch truncates the bounds and the step to the integer dtype
        start, end, step = builtins.int(start), builtins.int(end), builtins.int(step)
        if step == 0:  # arange(0, 2.5, 0.5, dtype=int64): a step of 0 after truncation
            raise ValueError("step must be nonzero")
    return _make(_xp(device).arange(start, end, step).astype(dt), requires_grad)


def _number(v: Any, name: str, position: int) -> Any:
    """A bound or step of arange as a Python number: a NumPy scalar or 0-dim tensor is read, as in torch."""
    if isinstance(v, Tensor):
        if v._data.ndim != 0:
            raise TypeError(f"arange(): argument '{name}' (position {position}) must be Number, not Tensor")
        return v.item()
    return v.item() if isinstance(v, numpy.generic) else v


def linspace(start: float, end: float, steps: int, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    return _make(_xp(device).linspace(start, end, steps).astype(_float_dtype(dtype)), requires_grad)


def logspace(start: float, end: float, steps: int, base: float = 10.0, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` values from ``base ** start`` to ``base ** end``, their exponents evenly spaced.

    Computed as torch's: ``start`` and ``end`` cast to ``dtype`` and their difference taken in it, the exponents
    in float64 (the first half counted up from ``start``, the second down from ``end``), each power in float64,
    then cast to ``dtype``.
    """
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dt = _float_dtype(dtype)
    xp = _xp(device)
    if steps == 1:
        values = numpy.array([float(base) ** float(start)])
    else:
        lo, hi = (numpy.array(v).astype(dt) for v in (start, end))
        step = float(hi - lo) / (steps - 1) if steps > 1 else 0.0
        i = numpy.arange(steps)
        exponents = numpy.where(i < steps // 2, float(lo) + step * i, float(hi) - step * (steps - i - 1))
        values = float(base) ** exponents
    return _make(xp.asarray(values.astype(dt)), requires_grad)


def eye(n: int, m: int | None = None, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _make(_xp(device).eye(n, m, dtype=_float_dtype(dtype)), requires_grad)


class Normal(Op):
    """A draw around tensor means or with tensor deviations: torch gives both a gradient of 0."""

    @staticmethod
    def forward(ctx, mean, std, generator=None):
        like = mean if hasattr(mean, "dtype") else std
        shape = numpy.broadcast_shapes(numpy.shape(mean), numpy.shape(std))
        noise = _draw(_backend.device_of(like), "standard_normal", shape, like.dtype, generator)
        return (mean + std * noise).astype(like.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        xp = _backend.xp_of(g)
        return tuple(xp.zeros_like(g) if need else None for need in ctx.needs_input_grad)


def normal(mean: Any = 0.0, std: Any = 1.0, size: Any = None, *, generator: Any = None, dtype: Any = None,
           device: Any = None, requires_grad: bool = False) -> Tensor:
    """torch.normal: ``normal(mean, std, size)`` for two numbers, else a draw per element of the
    broadcast tensor ``mean`` and/or ``std``.

    Differs from torch: the numbers come from minigrad's NumPy generator (CuPy's on a GPU), so a seed gives
    other values than torch's.
    """
    if not isinstance(mean, Tensor) and not isinstance(std, Tensor):
        if size is None:
            raise TypeError("normal() missing required argument 'size' when mean and std are numbers")
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
        dev = _backend.as_device(device)
        dt = _float_dtype(dtype)
        noise = _draw(dev, "standard_normal", _shape((size,)), dt, generator)
        return _make((noise * std + mean).astype(dt, copy=False), requires_grad)
    for t in (mean, std):  # before promotion, which would make an integer mean float
        if isinstance(t, Tensor) and t._data.dtype.kind != "f":
            name = _dtype.SCALAR_TYPE_NAMES[_dtype.from_numpy_dtype(t._data.dtype).name]
            raise NotImplementedError(f"\"normal_kernel_cpu\" not implemented for '{name}'")
    mean, std = promote(mean, std)
    if isinstance(std, Tensor):
        if bool((std._data < 0).any()):
            raise RuntimeError("normal expects all elements of std >= 0.0")
    elif std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
    if isinstance(mean, Tensor) and isinstance(std, Tensor):
        message = broadcast_message(mean._data.shape, std._data.shape)
        if message is not None:
            raise RuntimeError(message)
    out = Normal.apply(mean, std, generator=generator)
    if out.grad_fn is not None:
        number = 3 if isinstance(mean, Tensor) and isinstance(std, Tensor) else 1 if isinstance(mean, Tensor) else 2
        out = named(out, f"NormalBackward{number}")
    return out


class _LegacyType(type):
    """torch's typed tensor classes: ``isinstance(t, FloatTensor)`` asks for a float32 tensor on the CPU."""

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, Tensor) and obj._data.dtype == cls.dtype.np and obj.device.type == "cpu"


class _LegacyTensor(metaclass=_LegacyType):
    """torch's legacy typed constructors (CPU only, as torch's): sizes give an uninitialised tensor,
    data a copy in the type, a tensor of the type an alias of it."""

    dtype: _dtype.dtype

    def __new__(cls, *args: Any, device: Any = None, **kwargs: Any) -> Tensor:  # type: ignore[misc]
        if device is not None and _backend.as_device(device).type != "cpu":
            raise RuntimeError(f"legacy constructor expects device type: cpu but device type: "
                               f"{_backend.as_device(device).type} was passed")
        if len(args) == 1 and not kwargs and isinstance(args[0], Tensor):
            if args[0]._data.dtype != cls.dtype.np or args[0].device.type != "cpu":
                raise TypeError(f"expected {cls.dtype} on cpu (got {args[0].dtype} on {args[0].device})")
            return Tensor(args[0])
        return Tensor._wrap(_legacy_data(args, kwargs, device, cls.dtype.np))


class FloatTensor(_LegacyTensor):
    dtype = _dtype.float32


class DoubleTensor(_LegacyTensor):
    dtype = _dtype.float64


class LongTensor(_LegacyTensor):
    dtype = _dtype.int64
