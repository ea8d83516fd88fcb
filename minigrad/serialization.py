"""``save`` and ``load``: checkpoints in torch's own format, read back without running code.

``save`` writes what ``torch.save`` writes: a zip archive holding ``<name>/data.pkl`` (a protocol 2
pickle of the object's structure), one ``<name>/data/<key>`` member per storage (the raw bytes,
little-endian, each aligned to 64 bytes in the file), and the ``byteorder``, ``version``,
``.format_version``, ``.storage_alignment`` and ``.data/serialization_id`` records. A state dict
(dicts, OrderedDicts, lists, tuples, tensors and parameters, dtypes, devices, numbers, strings,
bytes, None) is pickled with only the globals ``torch.load(f, weights_only=True)`` accepts
(``torch._utils._rebuild_tensor_v2``, ``torch.FloatStorage``..., ``collections.OrderedDict``), so
torch reads it into torch tensors; tensors that share memory are views of one stored storage, as
in torch. Anything else (a whole module, a custom object) is pickled as Python pickles it, and
only ``load(..., weights_only=False)`` reads it back, as with torch.

``load`` reads files written by ``save`` or by ``torch.save`` (the zip format) with a restricted
unpickler: only the globals torch's ``weights_only`` allows are resolved, each to a minigrad
construct, and nothing is called but those; anything else raises ``pickle.UnpicklingError`` with
torch's wording, telling to pass ``weights_only=False`` when the file is trusted. Storage members
are checked against the archive before anything is allocated (sizes within the file, stored and
not overlapping, within ``max_bytes``, CRC-32 checked), and views are checked to lie inside their
storage. The ``.npz`` files older minigrads wrote (format versions 1 and 2, described below) still
load.

``save`` to a path is atomic: the file is written under a temporary name beside the target,
synced, then renamed over it, so a failed or killed save leaves the previous checkpoint whole.

The older ``.npz`` format: every tensor an array entry (``t0``, ``t1``, ...) or an (offset,
shape, stride) view into one (version 2), and the structure around them one JSON string entry,
``__minigrad__``; only the members that format has, stored uncompressed and not overlapping, are
read.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import pickle
import re
import secrets
import stat
import struct
import sys
import zipfile
import zlib
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

import numpy
from numpy.lib import format as npy_format

from . import _backend, _dtype
from .tensor import Tensor

_HEADER = "__minigrad__"
_FORMAT = "minigrad.save"
_VERSION = 1
_VIEWS_VERSION = 2  # views: older minigrads then say the file is too new, not "missing array entry"
_READABLE_VERSIONS = (_VERSION, _VIEWS_VERSION)

DEFAULT_MAX_BYTES = 4 * 1024**3
"""``load``'s default cap on the bytes a checkpoint's arrays take once loaded (4 GiB)."""

_ARRAY_NAME = re.compile(r"[ta][0-9]{1,9}\Z")
_MEMBER_NAME = re.compile(r"(?:__minigrad__|[ta][0-9]{1,9})\.npy\Z")
_NPY_MAGIC = b"\x93NUMPY"
_MAX_NPY_HEADER = 10_000  # numpy's own limit on a .npy header
_LOCAL_HEADER_SIZE = 30  # a zip local file header, before its name and extra field
_CHUNK = 1 << 20
_MAX_NDIM = 64  # numpy's

# torch's storage classes, by the minigrad dtype they hold; and the torch dtypes minigrad lacks.
_STORAGE_NAMES = {"float16": "HalfStorage", "float32": "FloatStorage", "float64": "DoubleStorage",
                  "int8": "CharStorage", "uint8": "ByteStorage", "int16": "ShortStorage", "int32": "IntStorage",
                  "int64": "LongStorage", "bool": "BoolStorage"}
_TORCH_ONLY_STORAGES = {"BFloat16Storage": "bfloat16", "ComplexFloatStorage": "complex64",
                        "ComplexDoubleStorage": "complex128", "QInt8Storage": "qint8", "QUInt8Storage": "quint8",
                        "QInt32Storage": "qint32", "QUInt4x2Storage": "quint4x2", "QUInt2x4Storage": "quint2x4"}
_TORCH_ONLY_DTYPES = ("bfloat16", "complex32", "complex64", "complex128", "cfloat", "cdouble", "chalf", "bfloat16",
                      "uint16", "uint32", "uint64", "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz",
                      "float8_e5m2fnuz", "float8_e8m0fnu", "float4_e2m1fn_x2", "qint8", "quint8", "qint32",
                      "quint4x2", "quint2x4", "bits8", "bits16", "bits1x8", "bits2x4", "bits4x2")
_ALIGNMENT = 64  # torch.save aligns every record's bytes to 64 in the file
_PAD_EXTRA_ID = 0x4246  # "FB": the extra field torch's writer pads records with
_TORCH_VERSION_RECORD = b"3\n"
# -- save ------------------------------------------------------------------------------------


def save(obj: Any, f: str | os.PathLike | IO[bytes], pickle_module: Any = pickle, pickle_protocol: int = 2) -> None:
    """Write ``obj`` to ``f`` in torch's checkpoint format (``torch.load`` reads it back).

    A state dict (of a model or an optimizer: nested dicts, lists and tuples of tensors, numbers,
    strings and None) needs nothing but ``weights_only`` loading, in minigrad and in torch. Any
    other object (a whole module) is pickled, and loads only with ``weights_only=False``.

    Saving to a path replaces the file atomically: if the save fails or the process is killed
    midway, the file holds the previous checkpoint. A file object is written to as it is.

    Differs from torch: only state dicts are written in terms torch knows; any other object (a whole module) is
    pickled as minigrad objects, which only ``minigrad.load(..., weights_only=False)`` reads back, not torch.
    """
    if isinstance(f, (str, os.PathLike)):
        path = os.fsdecode(os.fspath(f))
        records = _records(obj, _archive_name(path), pickle_module, pickle_protocol)  # fails before the disk
        _write_atomically(path, lambda fh: _write_archive(fh, records))
    else:
        _write_archive(f, _records(obj, "archive", pickle_module, pickle_protocol))


def _archive_name(path: str) -> str:
    """torch names the archive's folder after the file (``model.pt`` holds ``model/data.pkl``)."""
    stem = os.path.splitext(os.path.basename(path))[0]
    return stem if re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}", stem) else "archive"


def _write_atomically(path: str, write: Callable[[IO[bytes]], None]) -> None:
    parent = os.path.dirname(path)
    if parent and not os.path.exists(parent):
        raise RuntimeError(f"Parent directory {parent} does not exist.")  # torch's error
    # open(path, "wb") writes through a symlink, so the rename replaces the file it points to.
    target = os.path.realpath(path)
    fd, temporary = _create_beside(target)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _fsync_directory(os.path.dirname(target))


def _create_beside(target: str) -> tuple[int, str]:
    """A new file next to ``target`` (same file system, so the rename is atomic), open for writing."""
    directory, base = os.path.split(target)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)  # overwriting in place would have kept the old mode
    except OSError:
        mode = None
    for _ in range(100):
        temporary = os.path.join(directory, f".{base[:200]}.{secrets.token_hex(4)}.tmp")
        try:
            # os.open applies the umask to 0o666 as open() does; tempfile.mkstemp would make it 0o600.
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        except FileExistsError:
            continue
        if mode is not None:
            with contextlib.suppress(OSError):
                os.chmod(temporary, mode)
        return fd, temporary
    raise FileExistsError(f"minigrad.save: could not create a temporary file next to {target}")


def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable; not every platform lets a directory be opened (Windows)."""
    try:
        fd = os.open(directory or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _records(obj: Any, name: str, pickle_module: Any, protocol: int) -> list[tuple[str, Any]]:
    """The archive's members, in torch's order: data.pkl, the format records, the storages, version."""
    storages = _Storages()
    try:
        data = _StateDictPickler(storages).dumps(obj)
    except _NotWeightsOnly:  # a module or another object: Python's pickle, tensors still stored as storages
        storages = _Storages()
        buf = io.BytesIO()
        _FullPickler(buf, storages, pickle_module, protocol).dump(obj)
        data = buf.getvalue()
    records: list[tuple[str, Any]] = [(f"{name}/data.pkl", data), (f"{name}/.format_version", b"1"),
                                      (f"{name}/.storage_alignment", str(_ALIGNMENT).encode()),
                                      (f"{name}/byteorder", sys.byteorder.encode())]
    records += [(f"{name}/data/{key}", payload) for key, payload in storages.payloads()]
    records += [(f"{name}/version", _TORCH_VERSION_RECORD),
                (f"{name}/.data/serialization_id", str(secrets.randbits(128)).zfill(40).encode())]
    return records


def _write_archive(fh: IO[bytes], records: list[tuple[str, Any]]) -> None:
    """A zip of stored members whose bytes each start at a multiple of 64, as torch's writer pads them."""
    seekable = getattr(fh, "seekable", lambda: False)()
    out = fh if seekable else io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, payload in records:
            view = memoryview(payload).cast("B")
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            info.file_size = view.nbytes
            zip64 = view.nbytes * 1.05 > zipfile.ZIP64_LIMIT  # when zipfile adds its 20-byte zip64 field
            header = _LOCAL_HEADER_SIZE + len(name.encode()) + 4 + (20 if zip64 else 0)
            pad = -(out.tell() + header) % _ALIGNMENT
            info.extra = struct.pack("<HH", _PAD_EXTRA_ID, pad) + b"Z" * pad
            with archive.open(info, "w", force_zip64=zip64) as member:
                for at in range(0, view.nbytes, _CHUNK * 64):
                    member.write(view[at:at + _CHUNK * 64])
    if not seekable:
        fh.write(out.getvalue())


class _Storages:
    """The storages a save writes: one per block of memory that saved tensors look into."""

    def __init__(self) -> None:
        self.by_root: dict[tuple[int, str], tuple[str, Any, Any]] = {}  # (id(root), dtype) -> (key, flat, root)
        self.arrays: list[tuple[str, Any]] = []

    def place(self, tensor: Tensor) -> tuple[str, str, str, int, int, tuple[int, ...]]:
        """(key, dtype name, location, numel, offset, stride in elements) of ``tensor`` in a storage."""
        array = tensor._data
        d = _dtype.from_numpy_dtype(array.dtype)
        location = _location(tensor.device)
        root = _root(array) if array.size else None
        placed = _place_in(array, root) if root is not None else None
        if placed is None:  # its own storage: a copy of its elements, contiguous
            flat = array.reshape(-1) if array.flags.c_contiguous else array.copy().reshape(-1)
            key = str(len(self.arrays))
            self.arrays.append((key, flat))
            return key, d.name, location, flat.size, 0, _contiguous_stride(array.shape)
        offset, stride = placed
        slot = (id(root), d.name)
        if slot not in self.by_root:
            flat = (root.reshape(-1) if root.flags.c_contiguous else root.T.reshape(-1)).view(numpy.uint8)
            flat = flat.view(array.dtype)  # the owner's bytes, as this tensor's elements
            key = str(len(self.arrays))
            self.arrays.append((key, flat))
            self.by_root[slot] = (key, flat, root)  # root kept alive: its id stays its own
        key, flat, _ = self.by_root[slot]
        return key, d.name, location, flat.size, offset, stride

    def payloads(self) -> list[tuple[str, Any]]:
        out = []
        for key, flat in self.arrays:
            host = _backend.to_host(flat)
            if not host.dtype.isnative:
                host = host.astype(host.dtype.newbyteorder("="))
            out.append((key, numpy.ascontiguousarray(host).view(numpy.uint8)))
        return out


def _place_in(array: Any, root: Any) -> tuple[int, tuple[int, ...]] | None:
    """(offset, stride) of ``array`` in elements of its owner's memory (seen as ``array``'s dtype), or None
    when torch cannot say it (negative or misaligned strides, an owner that is not one block)."""
    itemsize = array.dtype.itemsize
    if itemsize == 0 or root.nbytes % itemsize or not (root.flags.c_contiguous or root.flags.f_contiguous):
        return None
    if any(s < 0 or s % itemsize for s in array.strides):
        return None
    start, at = _address(root), _address(array)
    end = at + sum((n - 1) * s for n, s in zip(array.shape, array.strides)) + itemsize
    if at < start or (at - start) % itemsize or end > start + root.nbytes:
        return None
    return (at - start) // itemsize, tuple(s // itemsize for s in array.strides)


def _contiguous_stride(shape: tuple[int, ...]) -> tuple[int, ...]:
    stride, step = [], 1
    for n in reversed(shape):
        stride.append(step)
        step *= max(n, 1)
    return tuple(reversed(stride))


def _location(device: Any) -> str:
    return "cpu" if device.type == "cpu" else f"{device.type}:{device.index or 0}"


class _NotWeightsOnly(Exception):
    """The object holds something a weights-only pickle cannot say: pickle it as Python does."""


class _StateDictPickler:
    """Protocol 2 pickles of state dicts, written opcode by opcode with torch's globals, so that
    ``torch.load(weights_only=True)`` reads them, without torch installed to name them."""

    def __init__(self, storages: _Storages) -> None:
        self.storages = storages
        self.out = bytearray()
        self.memo: dict[Any, int] = {}
        self.keep: list[Any] = []  # what the memo refers to by id stays alive while pickling

    def dumps(self, obj: Any) -> bytes:
        self.out += b"\x80\x02"
        self.save(obj)
        self.out += pickle.STOP
        return bytes(self.out)

    def put(self, key: Any) -> None:
        index = self.memo[key] = len(self.memo)
        self.out += pickle.BINPUT + bytes([index]) if index < 256 else pickle.LONG_BINPUT + struct.pack("<I", index)

    def get(self, key: Any) -> bool:
        if key not in self.memo:
            return False
        index = self.memo[key]
        self.out += pickle.BINGET + bytes([index]) if index < 256 else pickle.LONG_BINGET + struct.pack("<I", index)
        return True

    def global_(self, module: str, name: str) -> None:
        if not self.get(("global", module, name)):
            self.out += pickle.GLOBAL + f"{module}\n{name}\n".encode()
            self.put(("global", module, name))

    def save(self, obj: Any) -> None:
        out = self.out
        if obj is None:
            out += pickle.NONE
        elif obj is True or obj is False:
            out += pickle.NEWTRUE if obj else pickle.NEWFALSE
        elif isinstance(obj, numpy.generic) and obj.dtype.kind in "biuf":
            self.save(obj.item())
        elif type(obj) is int:
            self.int_(obj)
        elif type(obj) is float:
            out += pickle.BINFLOAT + struct.pack(">d", obj)
        elif type(obj) is str:
            data = obj.encode("utf-8", "surrogatepass")
            out += pickle.BINUNICODE + struct.pack("<I", len(data)) + data
        elif type(obj) is bytes:  # protocol 2 has no bytes opcode: _codecs.encode(latin-1 text), as pickle writes
            self.global_("_codecs", "encode")
            self.save(obj.decode("latin1"))
            self.save("latin1")
            out += pickle.TUPLE2 + pickle.REDUCE
        elif self.get(id(obj)):
            return
        elif type(obj) is tuple:
            self.tuple_(obj)
        elif type(obj) is list:
            self.keep.append(obj)
            out += pickle.EMPTY_LIST
            self.put(id(obj))
            for start in range(0, len(obj), 1000):
                out += pickle.MARK
                for item in obj[start:start + 1000]:
                    self.save(item)
                out += pickle.APPENDS
        elif type(obj) in (dict, OrderedDict):
            self.keep.append(obj)
            if type(obj) is OrderedDict:
                self.global_("collections", "OrderedDict")
                out += pickle.EMPTY_TUPLE + pickle.REDUCE
            else:
                out += pickle.EMPTY_DICT
            self.put(id(obj))
            items = list(obj.items())
            for start in range(0, len(items), 1000):
                out += pickle.MARK
                for key, value in items[start:start + 1000]:
                    self.save(key)
                    self.save(value)
                out += pickle.SETITEMS
            if type(obj) is OrderedDict and vars(obj):  # torch's state dicts carry ``_metadata`` this way
                self.save(dict(vars(obj)))
                out += pickle.BUILD
        elif isinstance(obj, Tensor) and type(obj).__name__ in ("Tensor", "Parameter"):
            self.tensor(obj)
        elif isinstance(obj, _dtype.dtype):
            self.global_("torch", obj.name)
        elif isinstance(obj, _backend.device):
            self.global_("torch", "device")
            self.tuple_((obj.type,) if obj.index is None else (obj.type, obj.index), memo=False)
            out += pickle.REDUCE
        elif type(obj) is numpy.ndarray and obj.dtype.kind in "biuf":
            self.ndarray(obj)
        else:
            raise _NotWeightsOnly(type(obj).__name__)

    def int_(self, n: int) -> None:
        if 0 <= n < 256:
            self.out += pickle.BININT1 + bytes([n])
        elif 0 <= n < 65536:
            self.out += pickle.BININT2 + struct.pack("<H", n)
        elif -(2**31) <= n < 2**31:
            self.out += pickle.BININT + struct.pack("<i", n)
        else:
            data = n.to_bytes((n.bit_length() + 8) // 8, "little", signed=True)
            self.out += pickle.LONG1 + bytes([len(data)]) + data

    def tuple_(self, obj: tuple, memo: bool = True) -> None:
        if not obj:
            self.out += pickle.EMPTY_TUPLE
            return
        if len(obj) > 3:
            self.out += pickle.MARK
        for item in obj:
            self.save(item)
        self.out += {1: pickle.TUPLE1, 2: pickle.TUPLE2, 3: pickle.TUPLE3}.get(len(obj), pickle.TUPLE)
        if memo:
            self.keep.append(obj)
            self.put(id(obj))

    def tensor(self, t: Tensor) -> None:
        from .nn.parameter import Parameter

        self.keep.append(t)
        is_parameter = isinstance(t, Parameter)
        if is_parameter:
            self.global_("torch._utils", "_rebuild_parameter")
        key, dtype_name, location, numel, offset, stride = self.storages.place(t)
        self.global_("torch._utils", "_rebuild_tensor_v2")
        self.out += pickle.MARK + pickle.MARK
        self.save("storage")
        self.global_("torch", _STORAGE_NAMES[dtype_name])
        for item in (key, location, numel):
            self.save(item)
        self.out += pickle.TUPLE + pickle.BINPERSID
        self.save(offset)
        self.tuple_(tuple(t._data.shape), memo=False)
        self.tuple_(stride, memo=False)
        self.save(bool(t.requires_grad) and not is_parameter)
        self.global_("collections", "OrderedDict")
        self.out += pickle.EMPTY_TUPLE + pickle.REDUCE + pickle.TUPLE + pickle.REDUCE
        if is_parameter:
            self.save(bool(t.requires_grad))
            self.global_("collections", "OrderedDict")
            self.out += pickle.EMPTY_TUPLE + pickle.REDUCE + pickle.TUPLE3 + pickle.REDUCE
        self.put(id(t))

    def ndarray(self, a: numpy.ndarray) -> None:
        """A NumPy array as NumPy pickles itself (torch's weights_only refuses it; minigrad.load reads it)."""
        self.keep.append(a)
        module = type(a).__reduce__(a)[0].__module__  # numpy._core.multiarray (NumPy 2) or numpy.core.multiarray
        self.global_(module, "_reconstruct")
        self.global_("numpy", "ndarray")
        self.tuple_((0,), memo=False)
        self.save(b"b")
        self.out += pickle.TUPLE3 + pickle.REDUCE
        self.put(id(a))
        host = numpy.ascontiguousarray(a if a.dtype.isnative else a.astype(a.dtype.newbyteorder("=")))
        self.out += pickle.MARK
        self.int_(1)
        self.tuple_(tuple(host.shape), memo=False)
        self.global_("numpy", "dtype")
        self.save(host.dtype.str[1:])
        self.out += pickle.NEWFALSE + pickle.NEWTRUE + pickle.TUPLE3 + pickle.REDUCE
        self.out += pickle.MARK
        self.int_(3)
        self.save("<" if host.dtype.itemsize > 1 else "|")
        self.out += pickle.NONE * 3
        self.int_(-1)
        self.int_(-1)
        self.int_(0)
        self.out += pickle.TUPLE + pickle.BUILD + pickle.NEWFALSE
        self.save(host.tobytes())
        self.out += pickle.TUPLE + pickle.BUILD


def _rebuild_minigrad_tensor(storage: Any, offset: int, shape: tuple, stride: tuple, requires_grad: bool,
                             parameter: bool) -> Tensor:
    """What ``_FullPickler`` pickles a tensor as; called only by ``load(..., weights_only=False)``."""
    t = _view_tensor(storage, offset, shape, stride, False)
    if parameter:
        from .nn.parameter import Parameter

        return Parameter(t, requires_grad)
    return t.requires_grad_(True) if requires_grad else t


class _StorageRef:
    """Stands for one storage in a full pickle: pickled as torch's persistent id."""

    def __init__(self, pid: tuple) -> None:
        self.pid = pid


class _FullPickler(pickle.Pickler):
    """Python's pickle for what a state dict cannot hold, tensors still written as storages."""

    def __init__(self, fh: IO[bytes], storages: _Storages, pickle_module: Any, protocol: int) -> None:
        super().__init__(fh, protocol)
        self.storages = storages
        self.refs: dict[tuple, _StorageRef] = {}

    def persistent_id(self, obj: Any) -> Any:
        return obj.pid if type(obj) is _StorageRef else None

    def reducer_override(self, obj: Any) -> Any:
        from .nn.parameter import Parameter

        if not isinstance(obj, Tensor) or type(obj) not in (Tensor, Parameter):
            return NotImplemented
        key, dtype_name, location, numel, offset, stride = self.storages.place(obj)
        pid = ("storage", dtype_name, key, location, numel)
        ref = self.refs.setdefault(pid, _StorageRef(pid))
        is_parameter = type(obj) is Parameter
        return _rebuild_minigrad_tensor, (ref, offset, tuple(obj._data.shape), stride, bool(obj.requires_grad),
                                          is_parameter)


# -- the format older minigrads wrote (kept for tests and tools that build such files) -------


def _save_npz(obj: Any, f: str | os.PathLike | IO[bytes]) -> None:
    """Write ``obj`` in the ``.npz`` format older minigrads wrote (``load`` still reads it)."""
    arrays = _Encoder().encode(obj)
    if isinstance(f, (str, os.PathLike)):
        _write_atomically(os.fsdecode(os.fspath(f)), lambda fh: numpy.savez(fh, **arrays))
    else:
        numpy.savez(f, **arrays)


class _Encoder:
    def __init__(self) -> None:
        self.tensors: dict[int, tuple[Tensor, dict]] = {}  # a tensor stored twice is one entry, loaded as one object
        self.ndarrays: dict[str, numpy.ndarray] = {}

    def encode(self, obj: Any) -> dict[str, Any]:
        """The arrays to write, ``__minigrad__`` last."""
        structure = self.value(obj)
        arrays, has_views = self.place_tensors()
        arrays.update(self.ndarrays)
        header = {"format": _FORMAT, "version": _VIEWS_VERSION if has_views else _VERSION, "object": structure}
        arrays[_HEADER] = numpy.array(json.dumps(header))
        return arrays

    def value(self, obj: Any) -> Any:
        """``obj`` as JSON values; anything JSON has no type for becomes ``{"type": ..., ...}``."""
        if obj is None or isinstance(obj, (bool, int, float, str)):
            return obj
        if isinstance(obj, numpy.generic):
            return obj.item()
        if isinstance(obj, Tensor):
            from .nn.parameter import Parameter

            if id(obj) not in self.tensors:
                meta = {"type": "tensor", "name": None, "device": str(obj.device),
                        "requires_grad": obj.requires_grad, "parameter": isinstance(obj, Parameter)}
                self.tensors[id(obj)] = (obj, meta)
            return self.tensors[id(obj)][1]  # filled in by place_tensors, once every tensor is known
        if isinstance(obj, numpy.ndarray):
            if obj.dtype.kind not in "fiubc":
                raise TypeError(f"minigrad.save cannot store NumPy arrays of dtype {obj.dtype}")
            name = f"a{len(self.ndarrays)}"
            self.ndarrays[name] = obj
            return {"type": "ndarray", "name": name}
        if isinstance(obj, _dtype.dtype):
            return {"type": "dtype", "name": obj.name}
        if isinstance(obj, dict):
            return {"type": "OrderedDict" if isinstance(obj, OrderedDict) else "dict",
                    "items": [[self.value(k), self.value(v)] for k, v in obj.items()]}
        if isinstance(obj, (list, tuple)):
            return {"type": "tuple" if isinstance(obj, tuple) else "list", "items": [self.value(v) for v in obj]}
        hint = " (save model.state_dict() instead of the module)" if hasattr(obj, "state_dict") else ""
        raise TypeError(f"minigrad.save stores tensors, numbers, strings, None, lists, tuples and dicts, not "
                        f"{type(obj).__name__}{hint}")

    def place_tensors(self) -> tuple[dict[str, Any], bool]:
        """Name each tensor's entry; tensors sharing memory become views of one stored span."""
        by_root: dict[int, list[tuple[Any, dict]]] = {}
        for tensor, meta in self.tensors.values():
            array = tensor._data
            owner = _root(array) if array.size else meta  # an empty tensor shares nothing
            by_root.setdefault(id(owner), []).append((array, meta))
        arrays: dict[str, Any] = {}
        view_count = 0
        for group in by_root.values():
            shared = _shared_span(group) if len(group) > 1 else None
            if shared is None:  # alone, or sharing in a way (offset, shape, stride) cannot say: copies
                for array, meta in group:
                    meta["name"] = f"t{len(arrays)}"
                    arrays[meta["name"]] = _backend.to_host(array)
                continue
            span, views = shared
            storage = f"t{len(arrays)}"
            arrays[storage] = _backend.to_host(span)
            for (array, meta), (offset, stride) in zip(group, views):
                meta.update(name=f"v{view_count}", storage=storage, offset=offset, shape=list(array.shape),
                            stride=stride)
                view_count += 1
                if not getattr(array.flags, "writeable", True):  # a broadcast (expand) stays read-only
                    meta["readonly"] = True
        return arrays, view_count > 0


def _root(array: Any) -> Any:
    """The array that owns the memory ``array`` looks into (itself when it owns it)."""
    kind = numpy.ndarray if isinstance(array, numpy.ndarray) else type(array)
    while isinstance(array.base, kind):
        array = array.base
    return array


def _address(array: Any) -> int:
    if isinstance(array, numpy.ndarray):
        return array.__array_interface__["data"][0]
    return array.data.ptr  # CuPy


def _shared_span(group: list[tuple[Any, dict]]) -> tuple[Any, list[tuple[int, list[int]]]] | None:
    """The smallest span of the common owner that holds every array, as a 1-d array, and each array's
    (offset, stride) in its elements; None when the arrays cannot all be described that way."""
    root = _root(group[0][0])
    dtype = group[0][0].dtype
    itemsize = dtype.itemsize
    if not (root.flags.c_contiguous or root.flags.f_contiguous) or itemsize == 0:
        return None
    if any(array.dtype != dtype or any(s % itemsize for s in array.strides)
           for array, _ in group):
        return None
    start = _address(root)
    addresses = [_address(array) for array, _ in group]
    lows = [a + sum((n - 1) * s for n, s in zip(array.shape, array.strides) if s < 0)
            for a, (array, _) in zip(addresses, group)]
    highs = [a + sum((n - 1) * s for n, s in zip(array.shape, array.strides) if s > 0) + itemsize
             for a, (array, _) in zip(addresses, group)]
    low, high = min(lows), max(highs)
    if low < start or high > start + root.nbytes or any((a - low) % itemsize for a in addresses):
        return None
    memory = (root.reshape(-1) if root.flags.c_contiguous else root.T.reshape(-1)).view(numpy.uint8)
    span = memory[low - start:high - start].view(dtype)
    return span, [((a - low) // itemsize, [s // itemsize for s in array.strides])
                  for a, (array, _) in zip(addresses, group)]


# -- load ------------------------------------------------------------------------------------


def load(f: str | os.PathLike | IO[bytes], map_location: Any = None, pickle_module: Any = None, *,
         weights_only: bool | None = None, mmap: bool | None = None, max_bytes: int | None = DEFAULT_MAX_BYTES,
         **pickle_load_args: Any) -> Any:
    """Read a checkpoint written by ``save`` or ``torch.save`` (or by older minigrads).

    Tensors go back to the device they were saved from, or to ``map_location``: a device
    (``"cpu"``, ``"cuda:0"``, ``minigrad.device(...)``), a dict such as ``{"cuda:0": "cpu"}``, or
    a callable ``(storage, location) -> storage`` as torch's (the storage a flat tensor on the
    host; returning None keeps the default).

    ``weights_only`` (default True, as torch's since 2.6) resolves only the globals torch allows
    for state dicts; anything else raises ``pickle.UnpicklingError``. Pass ``weights_only=False``
    for files you trust that hold whole modules or other objects: that runs Python's pickle.

    ``max_bytes`` caps what the checkpoint's storages may take once loaded (default 4 GiB;
    ``None`` for no cap): a larger checkpoint is refused before anything is allocated. Tensors
    that shared memory when saved share it again (writing into one shows in the other), as in torch.

    Differs from torch: only torch's zip format is read (not its legacy pre-1.6 format), dtypes minigrad lacks
    (bfloat16, complex, quantized) are refused, ``mmap`` is ignored and ``max_bytes`` is minigrad's own cap.
    The ``weights_only`` allowlist is fixed: there is no ``add_safe_globals`` to extend it.
    """
    del mmap, pickle_load_args  # torch's; minigrad reads storages into memory
    if weights_only is None:
        weights_only = True
    if max_bytes is not None and (not isinstance(max_bytes, int) or isinstance(max_bytes, bool)):
        raise TypeError(f"minigrad.load: max_bytes must be an int or None, not {type(max_bytes).__name__}")
    if max_bytes is not None and max_bytes < 0:
        raise ValueError(f"minigrad.load: max_bytes must be >= 0, got {max_bytes}")
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            return _load(fh, str(f), map_location, max_bytes, bool(weights_only), pickle_module)
    return _load(f, getattr(f, "name", "<file object>"), map_location, max_bytes, bool(weights_only), pickle_module)


# What a hostile or damaged archive makes zipfile, struct, pickle or numpy raise.
_BROKEN = (ValueError, KeyError, TypeError, IndexError, OverflowError, EOFError, NotImplementedError,
           RecursionError, AttributeError, struct.error, zipfile.BadZipFile, zipfile.LargeZipFile, UnicodeDecodeError)


def _load(fh: IO[bytes], name: str, map_location: Any, max_bytes: int | None, weights_only: bool,
          pickle_module: Any) -> Any:
    def not_minigrad(reason: str) -> RuntimeError:
        return RuntimeError(f"{name}: not a file written by minigrad.save ({reason})")

    start = fh.tell()
    size = fh.seek(0, os.SEEK_END)
    fh.seek(start)
    magic = fh.read(len(_NPY_MAGIC))
    fh.seek(start)
    if not magic.startswith(b"PK"):
        if magic.startswith(_NPY_MAGIC):
            raise not_minigrad("a single .npy array")
        if magic[:1] == b"\x80":  # the PROTO opcode every pickle since protocol 2 starts with
            raise not_minigrad("it holds pickled data, which minigrad never loads outside the zip format torch.save "
                               "writes (torch's legacy format is not read)")
        raise not_minigrad("empty file" if not magic else "not a zip archive")
    try:
        with zipfile.ZipFile(fh) as archive:  # only its directory is used: members are read below, checked first
            infos = archive.infolist()
    except (*_BROKEN, OSError) as exc:
        raise not_minigrad(f"{type(exc).__name__}: {exc}") from None
    names = [info.filename for info in infos]
    if _HEADER + ".npy" in names:
        return _load_npz(fh, name, infos, size, map_location, max_bytes)
    prefix = names[0].split("/", 1)[0] if names else ""
    if f"{prefix}/data.pkl" not in names:
        raise not_minigrad(f"no {_HEADER} entry, and no <name>/data.pkl as torch.save writes")
    try:
        return _TorchArchive(fh, name, infos, prefix, size, map_location, max_bytes).load(weights_only, pickle_module)
    except pickle.UnpicklingError as exc:
        if isinstance(exc, _WeightsOnlyError) or not weights_only:
            raise
        raise RuntimeError(f"{name}: not a file written by minigrad.save or torch.save ({exc})") from None
    except _BROKEN as exc:
        if not weights_only and not isinstance(exc, (zipfile.BadZipFile, _ArchiveError)):
            raise  # the user's own classes failing to unpickle: their error, as torch lets it through
        raise RuntimeError(f"{name}: not a file written by minigrad.save or torch.save "
                           f"({type(exc).__name__}: {exc})") from None


class _ArchiveError(ValueError):
    pass


class _WeightsOnlyError(pickle.UnpicklingError):
    pass


_UNSAFE = ("Re-running `minigrad.load` with `weights_only` set to `False` will likely succeed, but it can result "
           "in arbitrary code execution. Do it only if you got the file from a trusted source.")


def _weights_only_error(message: str) -> _WeightsOnlyError:
    """torch's message for what weights_only refuses, naming minigrad.load."""
    if "was not an allowed global by default" in message:
        return _WeightsOnlyError(
            "Weights only load failed. This file can still be loaded, to do so you have two options, do those "
            f"steps only if you trust the source of the checkpoint. \n\t(1) {_UNSAFE}\n\t(2) Alternatively, to "
            "load with `weights_only=True` save only state dicts (model.state_dict(), optimizer.state_dict()).\n\t"
            f"WeightsUnpickler error: {message}")
    return _WeightsOnlyError(f"Weights only load failed. {_UNSAFE}\n\n{message}")


class _TorchArchive:
    """A torch.save zip archive, its members checked against the file before anything is read."""

    def __init__(self, fh: IO[bytes], name: str, infos: list[zipfile.ZipInfo], prefix: str, size: int,
                 map_location: Any, max_bytes: int | None) -> None:
        self.fh, self.name, self.map_location = fh, name, map_location
        self.zip = zipfile.ZipFile(fh)
        self.records: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            if info.filename in self.records or not info.filename.startswith(prefix + "/"):
                raise _ArchiveError(f"member {info.filename!r} is duplicated or outside {prefix}/")
            if info.flag_bits & 0x1:
                raise _ArchiveError(f"member {info.filename} is encrypted")
            if info.compress_type != zipfile.ZIP_STORED or info.compress_size != info.file_size:
                raise _ArchiveError(f"member {info.filename} is compressed, and torch.save writes stored members only")
            self.records[info.filename[len(prefix) + 1:]] = info
        starts = {info.filename: _member_start(fh, info, size) for info in infos}
        end = 0
        for info in sorted(infos, key=lambda i: i.header_offset):
            if info.header_offset < end:
                raise _ArchiveError(f"member {info.filename} overlaps another")
            end = starts[info.filename] + info.file_size
        total = sum(info.file_size for key, info in self.records.items() if key.startswith("data/"))
        if max_bytes is not None and total > max_bytes:
            raise RuntimeError(f"{name}: the checkpoint's arrays take {total} bytes, more than max_bytes={max_bytes}; "
                               f"pass a larger max_bytes (or None) to load it")
        order = self.read("byteorder").decode() if "byteorder" in self.records else "little"
        if order not in ("little", "big"):
            raise _ArchiveError(f"byteorder record says {order!r}")
        self.swap = order != sys.byteorder
        self.host: dict[str, numpy.ndarray] = {}  # storage key -> its bytes
        self.placed: dict[tuple[str, str], Any] = {}  # (key, location) -> the storage's array where it goes

    def read(self, record: str, out: memoryview | None = None) -> bytes:
        info = self.records[record]
        with self.zip.open(info) as member:  # checks the local header and the CRC-32
            if out is None:
                return member.read()
            done = 0
            while done < info.file_size:
                got = member.readinto(out[done:done + _CHUNK])
                if not got:
                    raise _ArchiveError(f"member {info.filename} is truncated")
                done += got
            if member.read(1):
                raise _ArchiveError(f"member {info.filename} is longer than it says")
            return b""

    def load(self, weights_only: bool, pickle_module: Any) -> Any:
        try:
            return self._load(weights_only, pickle_module)
        finally:
            self.zip.close()

    def _load(self, weights_only: bool, pickle_module: Any) -> Any:
        data = self.read("data.pkl")
        if weights_only:
            return _WeightsUnpickler(io.BytesIO(data), self).load()
        unpickler_class = getattr(pickle_module, "Unpickler", pickle.Unpickler)

        class Full(_FullUnpicklerMixin, unpickler_class):  # type: ignore[misc, valid-type]
            pass

        return Full(io.BytesIO(data), self).load()

    def storage(self, pid: Any) -> _LoadedStorage:
        """The storage a persistent id names: ('storage', storage type, key, location, numel)."""
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unsupported persistent id {str(pid)[:80]}")
        _, kind, key, location, numel = pid
        if isinstance(kind, str) and kind in _STORAGE_NAMES:  # what _FullPickler writes
            kind = _StorageType(_STORAGE_NAMES[kind])
        if not isinstance(kind, _StorageType):
            raise pickle.UnpicklingError(f"unsupported storage type {str(kind)[:80]}")
        d = kind.dtype()
        if not (isinstance(key, str) and isinstance(location, str) and _is_int(numel) and numel >= 0):
            raise pickle.UnpicklingError(f"bad storage id {str(pid)[:120]}")
        record = f"data/{key}"
        if record not in self.records:
            raise _ArchiveError(f"missing storage record {record!r}")
        if self.records[record].file_size != numel * d.itemsize:
            raise _ArchiveError(f"storage {key!r} holds {self.records[record].file_size} bytes, not the "
                                f"{numel} elements of {d.name} its id says")
        if key not in self.host:
            raw = numpy.empty(numel, d.np)
            self.read(record, memoryview(raw.view(numpy.uint8)))
            self.host[key] = raw
        if (key, location) not in self.placed:
            host = self.host[key]
            if host.dtype != d.np:
                raise _ArchiveError(f"storage {key!r} is viewed as two dtypes")
            if self.swap:
                host = host.byteswap()
            self.placed[key, location] = self.place(host, location)
        array = self.placed[key, location]
        if array.dtype != d.np:
            raise _ArchiveError(f"storage {key!r} is viewed as two dtypes")
        return _LoadedStorage(array)

    def place(self, host: numpy.ndarray, location: str) -> Any:
        where = self.map_location
        if isinstance(where, dict):
            where = where.get(location, location)
        elif callable(where) and not isinstance(where, _backend.device):
            result = where(Tensor._wrap(host), location)
            if result is None:
                where = location
            elif isinstance(result, Tensor):
                return result._data.reshape(-1)
            else:
                raise TypeError(f"map_location returned {type(result).__name__}, not a storage (a tensor) or None")
        target = _backend.as_device(location if where is None else where)
        if target.type == "cuda" and not _backend.cuda_available():
            raise RuntimeError("Attempting to deserialize object on a CUDA device but minigrad.cuda.is_available() "
                               "is False. If you are running on a CPU-only machine, please use minigrad.load with "
                               "map_location='cpu' to map your storages to the CPU.")
        return _backend.move(host, target)


class _LoadedStorage:
    """One storage read from an archive: the flat array that tensors view."""

    __slots__ = ("array",)

    def __init__(self, array: Any) -> None:
        self.array = array


class _StorageType:
    """torch.FloatStorage and its kin, as the persistent ids name them."""

    def __init__(self, name: str) -> None:
        self.name = name

    def dtype(self) -> _dtype.dtype:
        for dtype_name, storage in _STORAGE_NAMES.items():
            if storage == self.name:
                return getattr(_dtype, dtype_name)
        raise _WeightsOnlyError(f"minigrad has no dtype for torch.{self.name} "
                                f"(torch.{_TORCH_ONLY_STORAGES.get(self.name, self.name)})")


def _view_tensor(storage: Any, offset: Any, shape: Any, stride: Any, requires_grad: Any) -> Tensor:
    """A tensor viewing ``storage`` at (offset, shape, stride), checked to lie inside it."""
    if not isinstance(storage, _LoadedStorage):
        raise pickle.UnpicklingError(f"a tensor's storage must be a storage, not {type(storage).__name__}")
    shape, stride = tuple(shape), tuple(stride)
    array = storage.array
    n = array.shape[0]
    if not (_is_int(offset) and offset >= 0 and len(shape) == len(stride) <= _MAX_NDIM
            and all(_is_int(x) for x in shape + stride) and all(x >= 0 for x in shape + stride)):
        raise _ArchiveError(f"bad view: offset {offset!r}, shape {shape!r}, stride {stride!r}")
    if 0 in shape:
        if offset > n:
            raise _ArchiveError(f"a view starts at {offset}, past its storage's {n} elements")
        stride = _contiguous_stride(shape)  # nothing is read: any strides will do
    elif offset + sum((k - 1) * s for k, s in zip(shape, stride)) >= n:
        raise _ArchiveError(f"a view of shape {shape}, stride {stride} at offset {offset} reaches outside its "
                            f"storage's {n} elements")
    itemsize = array.dtype.itemsize
    strides = tuple(s * itemsize for s in stride)
    if isinstance(array, numpy.ndarray):
        view = type(array)(shape, array.dtype, buffer=array, offset=offset * itemsize, strides=strides)
        if any(s == 0 and k > 1 for k, s in zip(shape, stride)):
            view.flags.writeable = False  # an expanded tensor: its elements overlap, as NumPy's broadcasts
    else:
        xp = _backend.xp_of(array)  # CuPy
        view = xp.ndarray(shape, array.dtype, memptr=array.data + offset * itemsize, strides=strides)
    t = Tensor._wrap(view)
    if requires_grad:
        t.requires_grad_(True)
    return t


# The globals a weights-only load resolves, each to a minigrad construct; functions are called with checked
# arguments, classes stand for themselves, and nothing else is reachable.
def _rebuild_tensor_v2(storage: Any, storage_offset: Any, size: Any, stride: Any, requires_grad: Any = False,
                       backward_hooks: Any = None, metadata: Any = None) -> Tensor:
    return _view_tensor(storage, storage_offset, size, stride, bool(requires_grad))


def _rebuild_tensor(storage: Any, storage_offset: Any, size: Any, stride: Any) -> Tensor:
    return _view_tensor(storage, storage_offset, size, stride, False)


def _rebuild_parameter(data: Any, requires_grad: Any, backward_hooks: Any = None, state: Any = None) -> Tensor:
    from .nn.parameter import Parameter

    if not isinstance(data, Tensor):
        raise pickle.UnpicklingError(f"a parameter's data must be a tensor, not {type(data).__name__}")
    return Parameter(data, bool(requires_grad))


class _TypeMarker:
    def __init__(self, name: str) -> None:
        self.name = name


_TENSOR_TYPE, _PARAMETER_TYPE = _TypeMarker("torch.Tensor"), _TypeMarker("torch.nn.parameter.Parameter")


def _rebuild_from_type_v2(func: Any, new_type: Any, args: Any, state: Any) -> Any:
    if func not in _REBUILDERS or new_type not in (_TENSOR_TYPE, _PARAMETER_TYPE) or not isinstance(args, tuple):
        raise pickle.UnpicklingError("_rebuild_from_type_v2 with an unsupported function or type")
    if state:
        raise _WeightsOnlyError("minigrad cannot load tensors that carry Python attributes")
    t = func(*args)
    return _rebuild_parameter(t, True) if new_type is _PARAMETER_TYPE and not type(t).__name__ == "Parameter" else t


_REBUILDERS = (_rebuild_tensor_v2, _rebuild_tensor, _rebuild_parameter)


def _size(dims: Any = ()) -> tuple:
    from .tensor import Size

    return Size(dims)


def _device(kind: Any, index: Any = None) -> _backend.device:
    if not isinstance(kind, str) or not (index is None or _is_int(index)):
        raise pickle.UnpicklingError("torch.device takes a string and an optional index")
    return _backend.device(kind, index)


def _encode(text: Any, encoding: Any = "utf-8") -> bytes:
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1", "utf-8", "utf8"):
        raise pickle.UnpicklingError("_codecs.encode of something other than text in latin1 or utf-8")
    return text.encode(encoding)


def _bytearray(*args: Any) -> bytearray:
    if args and not isinstance(args[0], (str, bytes)):
        raise pickle.UnpicklingError("bytearray is rebuilt from its bytes only")  # bytearray(n) would allocate n
    return bytearray(*args)


def _ordered_dict(*args: Any) -> OrderedDict:
    if args:
        raise pickle.UnpicklingError("collections.OrderedDict is rebuilt empty")
    return OrderedDict()


class _NDArrayStub:
    """numpy's ``_reconstruct(ndarray, (0,), b'b')``: the array comes with BUILD's state."""


class _DTypeStub:
    def __init__(self, code: Any, align: Any = False, copy: Any = True) -> None:
        if not isinstance(code, str):
            raise pickle.UnpicklingError("numpy.dtype takes a type code")
        self.code = code
        self.dtype: numpy.dtype | None = None


def _reconstruct(cls: Any, shape: Any, kind: Any) -> _NDArrayStub:
    if cls is not _NDARRAY:
        raise pickle.UnpicklingError("numpy's _reconstruct rebuilds only numpy.ndarray")
    return _NDArrayStub()


_NDARRAY = _TypeMarker("numpy.ndarray")

_CALLABLES = {
    "torch._utils._rebuild_tensor_v2": _rebuild_tensor_v2,
    "torch._utils._rebuild_tensor": _rebuild_tensor,
    "torch._utils._rebuild_parameter": _rebuild_parameter,
    "torch._utils._rebuild_parameter_with_state": _rebuild_parameter,
    "torch._tensor._rebuild_from_type_v2": _rebuild_from_type_v2,
    "collections.OrderedDict": _ordered_dict,
    "collections.Counter": Counter,
    "torch.Size": _size,
    "torch.device": _device,
    "_codecs.encode": _encode,
    "builtins.bytearray": _bytearray,
    "builtins.set": set,
    "builtins.complex": complex,
    "numpy.dtype": _DTypeStub,
    "numpy.core.multiarray._reconstruct": _reconstruct,
    "numpy._core.multiarray._reconstruct": _reconstruct,
}


def _weights_only_global(module: str, name: str) -> Any:
    """What a global of a weights-only pickle stands for in minigrad."""
    path = f"{module}.{name}"
    if path in _CALLABLES:
        return _CALLABLES[path]
    if path == "torch.Tensor":
        return _TENSOR_TYPE
    if path == "torch.nn.parameter.Parameter":
        return _PARAMETER_TYPE
    if path == "numpy.ndarray":
        return _NDARRAY
    if module == "torch" and name in (*_STORAGE_NAMES.values(), *_TORCH_ONLY_STORAGES):
        return _StorageType(name)
    if module == "torch" and isinstance(getattr(_dtype, name, None), _dtype.dtype):
        return getattr(_dtype, name)  # float32, and the aliases half, double, long...
    if module == "torch" and name in _TORCH_ONLY_DTYPES:
        raise _WeightsOnlyError(f"minigrad has no dtype torch.{name}")
    raise _weights_only_error(f"Unsupported global: GLOBAL {path} was not an allowed global by default.")


class _WeightsUnpickler(pickle._Unpickler):  # type: ignore[name-defined]
    """Python's own unpickler (the pure-Python one, so that each opcode can be checked) with torch's
    weights_only rules: globals from the list above only, calls to those only, BUILD on
    OrderedDicts (attributes such as ``_metadata``) and NumPy's arrays only."""

    dispatch = dict(pickle._Unpickler.dispatch)  # type: ignore[attr-defined]

    def __init__(self, fh: IO[bytes], archive: _TorchArchive) -> None:
        super().__init__(fh)
        self.archive = archive

    def find_class(self, module: str, name: str) -> Any:
        return _weights_only_global(module, name)

    def persistent_load(self, pid: Any) -> Any:
        return self.archive.storage(pid)

    def load_reduce(self) -> None:
        args = self.stack.pop()
        func = self.stack[-1]
        if not any(func is allowed for allowed in _CALLABLES.values()) or not isinstance(args, tuple):
            raise _weights_only_error(f"Trying to call reduce for unrecognized function {str(func)[:80]}")
        self.stack[-1] = func(*args)

    def load_build(self) -> None:
        state = self.stack.pop()
        inst = self.stack[-1]
        if type(inst) is OrderedDict and isinstance(state, dict):
            vars(inst).update({str(k): v for k, v in state.items()})
        elif type(inst) is _DTypeStub and isinstance(state, tuple) and len(state) >= 2:
            order = state[1] if state[1] in ("<", ">", "|", "=") else "="
            dtype = numpy.dtype(inst.code).newbyteorder(order) if order != "|" else numpy.dtype(inst.code)
            if dtype.kind not in "biuf" or dtype.hasobject:
                raise _weights_only_error(f"NumPy arrays of dtype {dtype} are not loaded")
            inst.dtype = dtype
        elif type(inst) is _NDArrayStub and isinstance(state, tuple) and len(state) == 5:
            _, shape, dtype, fortran, data = state
            if type(dtype) is not _DTypeStub or dtype.dtype is None or not isinstance(data, (bytes, bytearray)):
                raise _weights_only_error("a NumPy array's state is not numbers")
            if not (isinstance(shape, tuple) and all(_is_int(n) and n >= 0 for n in shape)):
                raise _weights_only_error("a NumPy array's shape is not a tuple of sizes")
            count = math.prod(shape)
            if count * dtype.dtype.itemsize != len(data):
                raise _weights_only_error("a NumPy array's data does not match its shape")
            array = numpy.frombuffer(bytes(data), dtype.dtype, count).reshape(shape, order="F" if fortran else "C")
            array = array.astype(dtype.dtype.newbyteorder("="))  # native order, and writeable
            self.stack[-1] = array
            for key, value in self.memo.items():
                if value is inst:
                    self.memo[key] = array
        else:
            raise _weights_only_error(f"Can only build Tensor, Parameter, OrderedDict or NumPy arrays, but got "
                                      f"{type(inst).__name__}")

    def refuse(self) -> None:
        raise _weights_only_error("Unsupported operand: only the opcodes of state dicts are loaded "
                                  "(no NEWOBJ, INST, OBJ or extension codes)")

    dispatch[pickle.REDUCE[0]] = load_reduce
    dispatch[pickle.BUILD[0]] = load_build
    for _code in (pickle.NEWOBJ, pickle.NEWOBJ_EX, pickle.INST, pickle.OBJ, pickle.EXT1, pickle.EXT2, pickle.EXT4):
        dispatch[_code[0]] = refuse
    del _code


class _FullUnpicklerMixin:
    """``weights_only=False``: Python's pickle, torch's globals read as minigrad's, storages from the archive."""

    def __init__(self, fh: IO[bytes], archive: _TorchArchive) -> None:
        super().__init__(fh)  # type: ignore[call-arg]
        self.archive = archive

    def find_class(self, module: str, name: str) -> Any:
        path = f"{module}.{name}"
        if path == "collections.OrderedDict":
            return OrderedDict
        if module == "torch" or module.startswith("torch.") or (path in _CALLABLES and not module.startswith("numpy")):
            try:
                return _weights_only_global(module, name)
            except _WeightsOnlyError:
                raise pickle.UnpicklingError(
                    f"minigrad cannot load {path}: the file pickles torch's own objects (a whole torch module?); "
                    "save its state_dict() with torch and load that") from None
        return super().find_class(module, name)  # type: ignore[misc]

    def persistent_load(self, pid: Any) -> Any:
        return self.archive.storage(pid)


def _load_npz(fh: IO[bytes], name: str, infos: list[zipfile.ZipInfo], size: int, map_location: Any,
              max_bytes: int | None) -> Any:
    """An ``.npz`` checkpoint of an older minigrad."""
    if callable(map_location) and not isinstance(map_location, (_backend.device, dict)):
        raise TypeError("minigrad.load: map_location must be a device, a device string or a dict for files "
                        "older minigrads wrote")
    try:
        members = _inspect(fh, infos, size)
        total = sum(m.nbytes for m in members.values())
        if max_bytes is not None and total > max_bytes:
            raise RuntimeError(f"{name}: the checkpoint's arrays take {total} bytes, more than "
                               f"max_bytes={max_bytes}; pass a larger max_bytes (or None) to load it")
        header = json.loads(members.pop(_HEADER).read_text(fh), object_pairs_hook=_no_duplicate_keys)
        if not isinstance(header, dict) or header.get("format") != _FORMAT:
            raise ValueError("unknown header")
        if not _is_int(header.get("version")) or header["version"] not in _READABLE_VERSIONS:
            raise ValueError(f"format version {header.get('version')}, this minigrad reads "
                             f"{', '.join(map(str, _READABLE_VERSIONS))}")
        decoder = _Decoder(fh, members, map_location)
        obj = decoder.decode(header["object"])
        unused = sorted(set(members) - decoder.used)
        if unused:
            raise ValueError(f"member {unused[0]}.npy is not referred to by the header")
        return obj
    except _BROKEN as exc:
        raise RuntimeError(f"{name}: not a valid minigrad checkpoint ({exc})") from None


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict:
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r} in the header")
        out[key] = value
    return out


@dataclass
class _Member:
    info: zipfile.ZipInfo
    start: int  # where the member's bytes start in the file
    prefix: bytes  # its .npy header, which the CRC-32 covers too
    shape: tuple[int, ...]
    dtype: numpy.dtype
    fortran_order: bool
    nbytes: int

    def read(self, fh: IO[bytes]) -> numpy.ndarray:
        """The array, read straight into one allocation whose size was checked against the file."""
        array = numpy.empty(math.prod(self.shape), self.dtype)
        self._read_into(fh, memoryview(array.view(numpy.uint8)))
        array = array.reshape(self.shape[::-1]).T if self.fortran_order else array.reshape(self.shape)
        return array if self.dtype.isnative else array.astype(self.dtype.newbyteorder("="))

    def read_text(self, fh: IO[bytes]) -> str:
        data = bytearray(self.nbytes)
        self._read_into(fh, memoryview(data))
        return str(numpy.frombuffer(data, self.dtype, count=1)[0])

    def _read_into(self, fh: IO[bytes], out: memoryview) -> None:
        fh.seek(self.start + len(self.prefix))
        readinto = getattr(fh, "readinto", None)
        crc = zlib.crc32(self.prefix)
        done = 0
        while done < self.nbytes:
            want = min(_CHUNK, self.nbytes - done)
            if readinto is not None:
                got = readinto(out[done:done + want]) or 0
            else:
                chunk = fh.read(want)
                got = len(chunk)
                out[done:done + got] = chunk
            if not got:
                raise ValueError(f"member {self.info.filename} is truncated")
            crc = zlib.crc32(out[done:done + got], crc)
            done += got
        if crc != self.info.CRC:
            raise ValueError(f"member {self.info.filename} is damaged (its CRC-32 does not match)")


def _inspect(fh: IO[bytes], infos: list[zipfile.ZipInfo], file_size: int) -> dict[str, _Member]:
    """Every member, checked against the zip directory, the file's size and its own .npy header."""
    seen: set[str] = set()
    for info in infos:
        if info.filename in seen:
            raise ValueError(f"duplicate member {info.filename!r}")
        seen.add(info.filename)
        if info.orig_filename != info.filename or not _MEMBER_NAME.match(info.filename):
            raise ValueError(f"unexpected member {info.orig_filename!r}")
        if info.flag_bits & 0x1:
            raise ValueError(f"member {info.filename} is encrypted")
        if info.compress_type != zipfile.ZIP_STORED or info.compress_size != info.file_size:
            # minigrad.save never compresses; a compressed member could inflate far beyond the file
            raise ValueError(f"member {info.filename} is compressed, and minigrad.save writes stored members only")
    starts = {info.filename: _member_start(fh, info, file_size) for info in infos}
    # Stored members that do not overlap cannot declare more bytes than the file has.
    end = 0
    for info in sorted(infos, key=lambda i: i.header_offset):
        if info.header_offset < end:
            raise ValueError(f"member {info.filename} overlaps another")
        end = starts[info.filename] + info.file_size
    return {info.filename[:-len(".npy")]: _inspect_npy(fh, info, starts[info.filename]) for info in infos}


def _member_start(fh: IO[bytes], info: zipfile.ZipInfo, file_size: int) -> int:
    """Where the member's bytes start, after its local header, once that header matches the directory."""
    fh.seek(info.header_offset)
    local = fh.read(_LOCAL_HEADER_SIZE)
    if len(local) != _LOCAL_HEADER_SIZE or not local.startswith(b"PK\x03\x04"):
        raise ValueError(f"member {info.filename} has no local header where the directory says")
    name_length, extra_length = struct.unpack("<HH", local[26:30])
    if fh.read(name_length) != info.filename.encode():
        raise ValueError(f"member {info.filename} is named differently in its local header")
    start = info.header_offset + _LOCAL_HEADER_SIZE + name_length + extra_length
    if start + info.file_size > file_size:
        raise ValueError(f"member {info.filename} claims {info.file_size} bytes, past the end of the file")
    return start


def _inspect_npy(fh: IO[bytes], info: zipfile.ZipInfo, start: int) -> _Member:
    member = info.filename
    fh.seek(start)
    prefix = fh.read(min(info.file_size, len(_NPY_MAGIC) + 2))
    if len(prefix) < len(_NPY_MAGIC) + 2 or not prefix.startswith(_NPY_MAGIC):
        raise ValueError(f"member {member} is not a .npy array")
    major, minor = prefix[-2], prefix[-1]
    if (major, minor) not in ((1, 0), (2, 0)):
        raise ValueError(f"member {member} has .npy format version {major}.{minor}, which minigrad.save never writes")
    length_field = fh.read(2 if major == 1 else 4)
    header_length = int.from_bytes(length_field, "little")
    data_offset = len(prefix) + len(length_field) + header_length
    if len(length_field) != (2 if major == 1 else 4) or header_length > _MAX_NPY_HEADER or data_offset > info.file_size:
        raise ValueError(f"member {member} has a .npy header that is truncated or too long")
    header = fh.read(header_length)
    read_header = npy_format.read_array_header_1_0 if major == 1 else npy_format.read_array_header_2_0
    try:
        shape, fortran_order, dtype = read_header(io.BytesIO(length_field + header), max_header_size=_MAX_NPY_HEADER)
    except ValueError as exc:
        raise ValueError(f"member {member} has an unreadable .npy header ({exc})") from None
    if len(shape) > _MAX_NDIM or any(n < 0 for n in shape):
        raise ValueError(f"member {member} declares an impossible shape {shape}")
    is_header = member == _HEADER + ".npy"
    if dtype.hasobject:
        raise ValueError(f"member {member} holds Python objects (dtype {dtype}), which would need pickle")
    if dtype.fields is not None or dtype.subdtype is not None:
        raise ValueError(f"member {member} has a structured dtype {dtype}, which minigrad.save never writes")
    if (is_header and (dtype.kind != "U" or shape != ())) or (not is_header and dtype.kind not in "biufc"):
        raise ValueError(f"member {member} has dtype {dtype} and shape {shape}, which minigrad.save never writes")
    nbytes = math.prod(shape) * dtype.itemsize
    if info.file_size != data_offset + nbytes:
        raise ValueError(f"member {member} holds {info.file_size - data_offset} bytes of data, but its header "
                         f"declares shape {shape} of {dtype} ({nbytes} bytes)")
    return _Member(info, start, prefix + length_field + header, shape, dtype, fortran_order, nbytes)


class _Decoder:
    def __init__(self, fh: IO[bytes], members: dict[str, _Member], map_location: Any) -> None:
        self.fh = fh
        self.members = members
        self.map_location = map_location
        self.used: set[str] = set()
        self.arrays: dict[str, numpy.ndarray] = {}
        self.storages: dict[tuple[str, _backend.device], Any] = {}
        self.tensors: dict[str, Tensor] = {}

    def decode(self, obj: Any) -> Any:
        if not isinstance(obj, (dict, list)):
            return obj  # None, bool, int, float, str
        kind = obj.get("type") if isinstance(obj, dict) else None
        if kind == "tensor":
            return self.tensor(obj)
        if kind == "ndarray":
            return self.array(obj["name"])
        if kind == "dtype":
            d = getattr(_dtype, obj["name"], None)
            if not isinstance(d, _dtype.dtype):
                raise ValueError(f"unknown dtype {obj['name']!r}")
            return d
        if kind in ("dict", "OrderedDict"):
            out = OrderedDict() if kind == "OrderedDict" else {}
            for k, v in obj["items"]:
                key = self.key(k)
                if key in out:  # a dict saved by minigrad.save cannot hold a key twice
                    raise ValueError(f"duplicate key {key!r}")
                out[key] = self.decode(v)
            return out
        if kind in ("list", "tuple"):
            items = [self.decode(v) for v in obj["items"]]
            return tuple(items) if kind == "tuple" else items
        raise ValueError(f"unknown entry {str(obj)[:80]}")

    def key(self, k: Any) -> Any:
        k = self.decode(k)
        return tuple(k) if isinstance(k, list) else k  # dict keys must be hashable

    def array(self, name: Any) -> numpy.ndarray:
        """A member's array on the host, read once however many entries refer to it."""
        if not isinstance(name, str) or not _ARRAY_NAME.match(name) or name not in self.members:
            raise ValueError(f"missing array entry {name!r}")
        if name not in self.arrays:
            self.arrays[name] = self.members[name].read(self.fh)
            self.used.add(name)
        return self.arrays[name]

    def tensor(self, meta: dict) -> Tensor:
        name = meta["name"]
        if not isinstance(name, str):
            raise ValueError(f"bad tensor name {name!r}")
        if name not in self.tensors:
            device = self.device(meta["device"])
            array = self.view(meta, device) if "storage" in meta else _backend.move(self.tensor_array(name), device)
            if meta.get("parameter"):
                from .nn.parameter import Parameter

                t = Parameter(Tensor._wrap(array), requires_grad=bool(meta.get("requires_grad")))
            else:
                t = Tensor._wrap(array)
                if meta.get("requires_grad"):
                    t.requires_grad_(True)
            self.tensors[name] = t
        return self.tensors[name]

    def tensor_array(self, name: str) -> numpy.ndarray:
        array = self.array(name)
        _dtype.from_numpy_dtype(array.dtype)  # only the dtypes a tensor can have
        return array

    def view(self, meta: dict, device: _backend.device) -> Any:
        storage_name = meta["storage"]
        if (storage_name, device) not in self.storages:
            storage = self.tensor_array(storage_name)
            if storage.ndim != 1:
                raise ValueError(f"storage {storage_name!r} is not 1-dimensional")
            self.storages[storage_name, device] = _backend.move(storage, device)
        storage = self.storages[storage_name, device]
        offset, shape, stride = meta["offset"], meta["shape"], meta["stride"]
        if not (_is_int(offset) and isinstance(shape, list) and isinstance(stride, list)
                and len(shape) == len(stride) <= _MAX_NDIM and all(map(_is_int, shape + stride))
                and offset >= 0 and all(n >= 0 for n in shape)):
            raise ValueError(f"bad view of {storage_name!r}: offset {offset!r}, shape {shape!r}, stride {stride!r}")
        if 0 not in shape:
            low = offset + sum((n - 1) * s for n, s in zip(shape, stride) if s < 0)
            high = offset + sum((n - 1) * s for n, s in zip(shape, stride) if s > 0)
            if low < 0 or high >= storage.shape[0]:
                raise ValueError(f"view of {storage_name!r} reaches elements {low}..{high}, outside its "
                                 f"{storage.shape[0]} elements")
        elif offset > storage.shape[0]:
            raise ValueError(f"view of {storage_name!r} starts past its end")
        itemsize = storage.dtype.itemsize
        strides = tuple(s * itemsize for s in stride)
        if isinstance(storage, numpy.ndarray):
            view = type(storage)(tuple(shape), storage.dtype, buffer=storage, offset=offset * itemsize,
                                 strides=strides)
            if meta.get("readonly"):
                view.flags.writeable = False
            return view
        xp = _backend.xp_of(storage)  # CuPy
        return xp.ndarray(tuple(shape), storage.dtype, memptr=storage.data + offset * itemsize, strides=strides)

    def device(self, saved: str) -> _backend.device:
        where = self.map_location
        if isinstance(where, dict):
            where = where.get(saved, saved)
        target = _backend.as_device(saved if where is None else where)
        if target.type == "cuda" and not _backend.cuda_available():
            raise RuntimeError("Attempting to deserialize object on a CUDA device but minigrad.cuda.is_available() "
                               "is False. If you are running on a CPU-only machine, please use minigrad.load with "
                               "map_location='cpu' to map your storages to the CPU.")
        return target


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)
