"""``save`` and ``load``: state dicts in one NumPy ``.npz`` file, read back without pickle.

torch's checkpoints are pickles, and unpickling can run any code the file asks for. minigrad
writes a plain ``.npz`` instead:

* every tensor is an array entry (``t0``, ``t1``, ...), copied to the host first;
* tensors that share memory (a tensor and a view of it, tied weights) are one entry holding the
  span of memory they cover, and each tensor is an (offset, shape, stride) view into it
  (format version 2; a file without shared memory is version 1, as older minigrads wrote);
* the structure around them (dicts, lists, tuples, numbers, strings, None) is one JSON
  string entry, ``__minigrad__``.

``save`` to a path is atomic: the file is written under a temporary name beside the target,
synced, then renamed over it, so a failed or killed save leaves the previous checkpoint whole.

``load`` reads the archive itself instead of trusting ``numpy.load``: only the members
``save`` writes, stored uncompressed and not overlapping, each one's size equal to what its
.npy header declares, within ``max_bytes`` in all; all of that is checked before any array is
allocated, and no member can hold anything but plain numbers.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import re
import secrets
import stat
import struct
import zipfile
import zlib
from collections import OrderedDict
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


# -- save ------------------------------------------------------------------------------------


def save(obj: Any, f: str | os.PathLike | IO[bytes]) -> None:
    """Write ``obj`` (a state dict, or nested dicts/lists/tuples of tensors, numbers and strings) to ``f``.

    Saving to a path replaces the file atomically: if the save fails or the process is killed
    midway, the file holds the previous checkpoint. A file object is written to as it is.
    """
    arrays = _Encoder().encode(obj)  # everything that can fail on the object fails before the disk is touched
    if isinstance(f, (str, os.PathLike)):
        _write_atomically(os.fsdecode(os.fspath(f)), arrays)
    else:
        numpy.savez(f, **arrays)


def _write_atomically(path: str, arrays: dict[str, Any]) -> None:
    parent = os.path.dirname(path)
    if parent and not os.path.exists(parent):
        raise RuntimeError(f"Parent directory {parent} does not exist.")  # torch's error
    # open(path, "wb") writes through a symlink, so the rename replaces the file it points to.
    target = os.path.realpath(path)
    fd, temporary = _create_beside(target)
    try:
        with os.fdopen(fd, "wb") as fh:
            numpy.savez(fh, **arrays)
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


def load(f: str | os.PathLike | IO[bytes], map_location: Any = None, weights_only: bool = True, *,
         max_bytes: int | None = DEFAULT_MAX_BYTES) -> Any:
    """Read what ``save`` wrote. Tensors go back to the device they were saved from, or to ``map_location``.

    ``map_location`` may be a device (``"cpu"``, ``"cuda:0"``, ``minigrad.device(...)``) or a dict
    such as ``{"cuda:0": "cpu"}``. ``weights_only`` is accepted for torch compatibility: minigrad
    never unpickles, so it always loads data only.

    ``max_bytes`` caps what the checkpoint's arrays may take once loaded (default 4 GiB; ``None``
    for no cap): a larger checkpoint is refused before anything is allocated. Tensors that shared
    memory when saved share it again (writing into one shows in the other), as in torch.
    """
    if callable(map_location) and not isinstance(map_location, (_backend.device, dict)):
        raise TypeError("minigrad.load: map_location must be a device, a device string or a dict")
    if max_bytes is not None and (not isinstance(max_bytes, int) or isinstance(max_bytes, bool)):
        raise TypeError(f"minigrad.load: max_bytes must be an int or None, not {type(max_bytes).__name__}")
    if max_bytes is not None and max_bytes < 0:
        raise ValueError(f"minigrad.load: max_bytes must be >= 0, got {max_bytes}")
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            return _load(fh, str(f), map_location, max_bytes)
    return _load(f, getattr(f, "name", "<file object>"), map_location, max_bytes)


# What a hostile or damaged archive makes zipfile, struct or numpy raise.
_BROKEN = (ValueError, KeyError, TypeError, IndexError, OverflowError, EOFError, NotImplementedError,
           RecursionError, struct.error, zipfile.BadZipFile, zipfile.LargeZipFile, UnicodeDecodeError)


def _load(fh: IO[bytes], name: str, map_location: Any, max_bytes: int | None) -> Any:
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
            raise not_minigrad("it holds pickled data, which minigrad never loads")
        raise not_minigrad("empty file" if not magic else "not a zip archive")
    try:
        with zipfile.ZipFile(fh) as archive:  # only its directory is used: members are read below, checked first
            infos = archive.infolist()
    except (*_BROKEN, OSError) as exc:
        raise not_minigrad(f"{type(exc).__name__}: {exc}") from None
    if _HEADER + ".npy" not in (info.filename for info in infos):
        raise not_minigrad(f"no {_HEADER} entry")
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
