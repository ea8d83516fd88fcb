"""torch-style dtype objects over NumPy dtypes, and the default floating dtype."""

from __future__ import annotations

import builtins
from typing import Any

import numpy


class dtype:
    """A tensor element type, printed like torch's (``minigrad.float32``).

    Differs from torch: there are float16, float32, float64, int8, uint8, int16, int32, int64 and bool only (no
    bfloat16, complex, float8 or wider unsigned types), printed as ``minigrad.float32``. A dtype has
    ``is_floating_point`` and ``itemsize`` but not torch's ``is_complex``, ``is_signed`` or ``to_complex``.
    """

    __slots__ = ("name", "np", "is_floating_point", "itemsize")

    def __init__(self, name: str, np_dtype: Any) -> None:
        self.name = name
        self.np = numpy.dtype(np_dtype)
        self.is_floating_point = self.np.kind == "f"
        self.itemsize = self.np.itemsize

    def __repr__(self) -> str:
        return f"minigrad.{self.name}"

    def __reduce__(self) -> str:
        return self.name


float16 = half = dtype("float16", numpy.float16)
float32 = float = dtype("float32", numpy.float32)
float64 = double = dtype("float64", numpy.float64)
int8 = dtype("int8", numpy.int8)
uint8 = dtype("uint8", numpy.uint8)
int16 = short = dtype("int16", numpy.int16)
int32 = int = dtype("int32", numpy.int32)
int64 = long = dtype("int64", numpy.int64)
bool = dtype("bool", numpy.bool_)

_BY_NUMPY = {d.np: d for d in (float16, float32, float64, int8, uint8, int16, int32, int64, bool)}

# The names torch's error messages use: its ScalarType names ("Got: Long") and C type names ("float != double").
SCALAR_TYPE_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double", "int8": "Char", "uint8": "Byte",
                     "int16": "Short", "int32": "Int", "int64": "Long", "bool": "Bool"}
C_TYPE_NAMES = {"float16": "c10::Half", "float32": "float", "float64": "double", "int8": "signed char",
                "uint8": "unsigned char", "int16": "short int", "int32": "int", "int64": "long int", "bool": "bool"}
_default = float32


def from_numpy_dtype(np_dtype: Any) -> dtype:
    try:
        return _BY_NUMPY[numpy.dtype(np_dtype)]
    except KeyError:
        raise TypeError(f"can't convert np.ndarray of type {numpy.dtype(np_dtype)}. The only supported types are: "
                        "float64, float32, float16, int64, int32, int16, int8, uint8, and bool.") from None


def to_numpy_dtype(d: Any) -> numpy.dtype:
    """Accept a minigrad dtype, a NumPy dtype or a Python type."""
    if isinstance(d, dtype):
        return d.np
    if d is builtins.float:
        return _default.np
    if d is builtins.int:
        return numpy.dtype(numpy.int64)
    if d is builtins.bool:
        return numpy.dtype(numpy.bool_)
    return from_numpy_dtype(d).np


def get_default_dtype() -> dtype:
    return _default


def set_default_dtype(d: dtype) -> None:
    global _default
    if not isinstance(d, dtype) or d not in (float16, float32, float64):
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default = d
