"""Python data as an array, with torch's dtype rules: what ``minigrad.tensor(data)`` holds.

It lives below minigrad/tensor.py so that the ops can turn a list or a NumPy operand
into an array too (``x + numpy_array``), with the same rules as ``minigrad.tensor``.
"""

from __future__ import annotations

import builtins
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
        typed = []  # dtypes of the arrays, NumPy scalars and tensors inside the lists
        nested = _unwrap_nested(data, typed)
        try:
            arr = numpy.array(nested)
        except ValueError:
            _raise_if_ragged(nested)
            raise
        kind = arr.dtype.kind
        if kind == "O" or kind == "u" and arr.itemsize == 8:  # Python ints beyond int64: uint64 or objects
            arr = _big_ints(nested, dtype)
        if dtype is not None:
            pass  # cast once, below: going through the default dtype first would round float64 values
        elif typed:
            arr = arr.astype(_inferred_dtype(nested, typed), copy=False)
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


def _unwrap_nested(data: Any, typed: list) -> Any:
    """Lists may hold scalar tensors (``tensor([t1, t2])``): take their values, and note in ``typed`` the
    dtypes of tensors, arrays and NumPy scalars."""
    if isinstance(data, (list, tuple)):
        return [x if type(x) in _PYTHON_SCALARS else _unwrap_nested(x, typed) for x in data]
    if isinstance(data, TensorBase):
        data = _backend.to_host(data._data)
    if isinstance(data, numpy.ndarray | numpy.generic):
        typed.append(data.dtype)
    return data


_PYTHON_SCALARS = frozenset((builtins.float, builtins.int, builtins.bool))


def _inferred_dtype(nested: Any, typed: list) -> numpy.dtype:
    """torch's dtype for lists holding arrays, NumPy scalars or tensors: each element counts with its own
    dtype (a Python float as the default dtype, an int as int64), and a float dtype wins over integers."""
    dtypes = set(typed)
    _python_scalar_dtypes(nested, dtypes)
    floats = [d for d in dtypes if d.kind == "f"]
    if floats:
        return builtins.max(floats, key=lambda d: d.itemsize)
    ints = [d for d in dtypes if d.kind in "iu"]
    return numpy.result_type(*ints) if ints else numpy.dtype(numpy.bool_)


def _python_scalar_dtypes(x: Any, out: set) -> None:
    if isinstance(x, list):
        for v in x:
            _python_scalar_dtypes(v, out)
    elif isinstance(x, builtins.bool):
        out.add(numpy.dtype(numpy.bool_))
    elif isinstance(x, builtins.int):
        out.add(numpy.dtype(numpy.int64))
    elif isinstance(x, builtins.float):
        out.add(_dtype.get_default_dtype().np)


def _big_ints(nested: Any, dtype: Any) -> Any:
    """Lists with Python ints beyond int64: floats if the tensor will be, else torch's overflow error."""
    floats = set()
    _python_scalar_dtypes(nested, floats)
    if any(d.kind == "f" for d in floats) or dtype is not None and _dtype.to_numpy_dtype(dtype).kind == "f":
        return numpy.array(nested, dtype=numpy.float64)
    raise ValueError("Overflow when unpacking long long")


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
