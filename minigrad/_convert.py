"""Python data as an array, with torch's dtype rules: what ``minigrad.tensor(data)`` holds.

It lives below minigrad/tensor.py so that the ops can turn a list or a NumPy operand
into an array too (``x + numpy_array``), with the same rules as ``minigrad.tensor``.
"""

from __future__ import annotations

from typing import Any

import numpy

from . import _backend, _dtype
from .autograd.graph import TensorBase


def as_array(data: Any, dtype: Any = None, device: Any = None) -> Any:
    """A new array holding a copy of ``data`` (nested lists, scalars, arrays or tensors), on ``device``."""
    if isinstance(data, TensorBase):
        data = data._data
    dev = _backend.as_device(device) if device is not None else _backend.device_of(data)
    from_array = isinstance(data, numpy.ndarray | numpy.generic) or _backend.device_of(data).type != "cpu"
    if from_array:
        arr = numpy.array(_backend.to_host(data))  # an array keeps its dtype, as in torch
    else:
        nested = _unwrap_nested(data)
        try:
            arr = numpy.array(nested)
        except ValueError:
            _raise_if_ragged(nested)
            raise
        if dtype is not None:
            pass  # cast once, below: going through the default dtype first would round float64 values
        elif arr.size == 0 or arr.dtype.kind == "f":  # Python floats take the default dtype
            arr = arr.astype(_dtype.get_default_dtype().np)
        elif arr.dtype.kind in "iu":
            arr = arr.astype(numpy.int64)
    if dtype is not None:
        arr = arr.astype(_dtype.to_numpy_dtype(dtype), copy=False)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"Could not infer dtype of {type(data).__name__}")
    _dtype.from_numpy_dtype(arr.dtype)  # refuses dtypes minigrad has no name for
    return _backend.move(arr, dev) if dev.type != "cpu" else arr


def _unwrap_nested(data: Any) -> Any:
    """Lists may hold scalar tensors (``tensor([t1, t2])``): take their values."""
    if isinstance(data, TensorBase):
        return _backend.to_host(data._data)
    if isinstance(data, (list, tuple)):
        return [_unwrap_nested(x) for x in data]
    return data


def _raise_if_ragged(data: Any) -> None:
    """torch's error for nested lists of uneven lengths (NumPy's names no position)."""
    shape = []
    x = data
    while isinstance(x, (list, tuple)):
        shape.append(len(x))
        if not x:
            break
        x = x[0]
    leaf = x

    def check(x: Any, dim: int) -> None:
        if dim == len(shape):
            if isinstance(x, (list, tuple)):
                if isinstance(leaf, float):
                    raise TypeError(f"must be real number, not {type(x).__name__}")
                raise TypeError(f"'{type(x).__name__}' object cannot be interpreted as an integer")
            return
        if not isinstance(x, (list, tuple)):
            raise TypeError("not a sequence")
        if len(x) != shape[dim]:
            raise ValueError(f"expected sequence of length {shape[dim]} at dim {dim} (got {len(x)})")
        if shape[dim]:  # torch does not look inside the elements of an empty dim
            for v in x:
                check(v, dim + 1)

    check(data, 0)
