"""Read IDX files, the format MNIST is distributed in.

An IDX file is a 4-byte magic number, one 4-byte size per dimension, then the
values, all big-endian::

    magic:  0x00 0x00 <dtype code> <number of dims>
    dims:   <size of dim 0> ... <size of dim n-1>     (unsigned 32-bit each)
    data:   the values in row-major order

MNIST's ``train-images-idx3-ubyte`` starts with ``0x00000803``: unsigned bytes,
3 dims (images x rows x columns). Files compressed with gzip (``.gz``) are read
too.
"""

from __future__ import annotations

import gzip
import os
import struct

import numpy

from .._factories import from_numpy
from ..tensor import Tensor

__all__ = ["load_idx"]

# dtype code -> big-endian NumPy dtype of the stored values
_DTYPES = {
    0x08: numpy.dtype(">u1"),  # unsigned byte
    0x09: numpy.dtype(">i1"),  # signed byte
    0x0B: numpy.dtype(">i2"),  # short
    0x0C: numpy.dtype(">i4"),  # int
    0x0D: numpy.dtype(">f4"),  # float
    0x0E: numpy.dtype(">f8"),  # double
}
_GZIP_MAGIC = b"\x1f\x8b"


def load_idx(path: str | os.PathLike) -> Tensor:
    """The array stored in the IDX file at ``path`` (gzip-compressed or not), as a tensor.

    Values keep their stored type (MNIST images come back as ``uint8``). A file that is
    not valid IDX raises ``ValueError`` naming the file and what is wrong with it.
    """
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == _GZIP_MAGIC:  # decided by content, not by the file's name
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise ValueError(f"{os.fspath(path)}: corrupt gzip data ({exc})") from exc
    return from_numpy(parse_idx(raw, os.fspath(path)))


def parse_idx(raw: bytes, name: str = "<bytes>") -> numpy.ndarray:
    """The array held in the IDX bytes ``raw``; ``name`` is used in error messages."""
    if len(raw) < 4:
        raise ValueError(f"{name}: too short to be an IDX file ({len(raw)} bytes, the header alone needs 4)")
    zero1, zero2, code, ndim = raw[0], raw[1], raw[2], raw[3]
    if zero1 != 0 or zero2 != 0:
        raise ValueError(f"{name}: bad magic number 0x{raw[:4].hex()}: an IDX file starts with two zero bytes "
                         "(is this an IDX file?)")
    if code not in _DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in _DTYPES)
        raise ValueError(f"{name}: unknown IDX dtype code 0x{code:02X} (known codes: {known})")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{name}: truncated header: {ndim} dims need {header} bytes, the file has {len(raw)}")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = _DTYPES[code]
    count = 1
    for s in shape:
        count *= s
    expected = header + count * dtype.itemsize
    if len(raw) < expected:
        raise ValueError(f"{name}: truncated data: shape {shape} of {dtype.name} needs {expected} bytes, "
                         f"the file has {len(raw)}")
    if len(raw) > expected:
        raise ValueError(f"{name}: {len(raw) - expected} unexpected bytes after the data of shape {shape}")
    values = numpy.frombuffer(raw, dtype=dtype, count=count, offset=header).reshape(shape)
    # native byte order, and a writable array of our own (frombuffer's is read-only)
    return values.astype(dtype.newbyteorder("="))
