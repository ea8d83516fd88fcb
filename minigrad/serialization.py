"""``save`` and ``load``: state dicts in one NumPy ``.npz`` file, read back without pickle.

torch's checkpoints are pickles, and unpickling can run any code the file asks for. minigrad
writes a plain ``.npz`` instead:

* every tensor is an array entry (``t0``, ``t1``, ...), copied to the host first;
* the structure around them (dicts, lists, tuples, numbers, strings, None) is one JSON
  string entry, ``__minigrad__``.

``load`` opens it with ``allow_pickle=False``, so a file can only ever hold data.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections import OrderedDict
from typing import IO, Any

import numpy

from . import _backend, _dtype
from .tensor import Tensor

_HEADER = "__minigrad__"
_FORMAT = "minigrad.save"
_VERSION = 1


def save(obj: Any, f: str | os.PathLike | IO[bytes]) -> None:
    """Write ``obj`` (a state dict, or nested dicts/lists/tuples of tensors, numbers and strings) to ``f``."""
    arrays: dict[str, numpy.ndarray] = {}
    names: dict[int, str] = {}  # a tensor stored twice is written once and loaded back as one object
    header = {"format": _FORMAT, "version": _VERSION, "object": _encode(obj, arrays, names)}
    arrays[_HEADER] = numpy.array(json.dumps(header))
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as fh:  # numpy.savez(path) would append ".npz" to the name
            numpy.savez(fh, **arrays)
    else:
        numpy.savez(f, **arrays)


def _encode(obj: Any, arrays: dict, names: dict) -> Any:
    """``obj`` as JSON values; anything JSON has no type for becomes ``{"type": ..., ...}``."""
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, numpy.generic):
        return obj.item()
    if isinstance(obj, Tensor):
        from .nn.parameter import Parameter

        if id(obj) not in names:
            names[id(obj)] = f"t{len(names)}"
            arrays[names[id(obj)]] = _backend.to_host(obj._data)
        return {"type": "tensor", "name": names[id(obj)], "device": str(obj.device),
                "requires_grad": obj.requires_grad, "parameter": isinstance(obj, Parameter)}
    if isinstance(obj, numpy.ndarray):
        if obj.dtype.kind not in "fiubc":
            raise TypeError(f"minigrad.save cannot store NumPy arrays of dtype {obj.dtype}")
        name = f"a{len(arrays)}"
        arrays[name] = obj
        return {"type": "ndarray", "name": name}
    if isinstance(obj, _dtype.dtype):
        return {"type": "dtype", "name": obj.name}
    if isinstance(obj, dict):
        return {"type": "OrderedDict" if isinstance(obj, OrderedDict) else "dict",
                "items": [[_encode(k, arrays, names), _encode(v, arrays, names)] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return {"type": "tuple" if isinstance(obj, tuple) else "list",
                "items": [_encode(v, arrays, names) for v in obj]}
    hint = " (save model.state_dict() instead of the module)" if hasattr(obj, "state_dict") else ""
    raise TypeError(f"minigrad.save stores tensors, numbers, strings, None, lists, tuples and dicts, not "
                    f"{type(obj).__name__}{hint}")


def load(f: str | os.PathLike | IO[bytes], map_location: Any = None, weights_only: bool = True) -> Any:
    """Read what ``save`` wrote. Tensors go back to the device they were saved from, or to ``map_location``.

    ``map_location`` may be a device (``"cpu"``, ``"cuda:0"``, ``minigrad.device(...)``) or a dict
    such as ``{"cuda:0": "cpu"}``. ``weights_only`` is accepted for torch compatibility: minigrad
    never unpickles, so it always loads data only.
    """
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            return _load(fh, str(f), map_location)
    return _load(f, getattr(f, "name", "<file object>"), map_location)


def _load(fh: IO[bytes], name: str, map_location: Any) -> Any:
    try:
        npz = numpy.load(fh, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        reason = "it holds pickled data, which minigrad never loads" if "pickle" in str(exc) else str(exc)
        raise RuntimeError(f"{name}: not a file written by minigrad.save ({reason})") from None
    if not isinstance(npz, numpy.lib.npyio.NpzFile):
        raise RuntimeError(f"{name}: not a file written by minigrad.save (a single .npy array)")
    with npz:
        if _HEADER not in npz.files:
            raise RuntimeError(f"{name}: not a file written by minigrad.save (no {_HEADER} entry)")
        try:
            header = json.loads(str(npz[_HEADER][()]))
            if not isinstance(header, dict) or header.get("format") != _FORMAT:
                raise ValueError("unknown header")
            if header.get("version") != _VERSION:
                raise ValueError(f"format version {header.get('version')}, this minigrad reads {_VERSION}")
            return _Decoder(npz, map_location).decode(header["object"])
        except (ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
            # numpy raises ValueError for an entry that would need pickle (an object array)
            raise RuntimeError(f"{name}: not a valid minigrad checkpoint ({exc})") from None


class _Decoder:
    def __init__(self, npz: Any, map_location: Any) -> None:
        self.npz = npz
        self.map_location = map_location
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
            pairs = ((self.key(k), self.decode(v)) for k, v in obj["items"])
            return OrderedDict(pairs) if kind == "OrderedDict" else dict(pairs)
        if kind in ("list", "tuple"):
            items = [self.decode(v) for v in obj["items"]]
            return tuple(items) if kind == "tuple" else items
        raise ValueError(f"unknown entry {str(obj)[:80]}")

    def key(self, k: Any) -> Any:
        k = self.decode(k)
        return tuple(k) if isinstance(k, list) else k  # dict keys must be hashable

    def array(self, name: str) -> numpy.ndarray:
        if not isinstance(name, str) or name == _HEADER or name not in self.npz.files:
            raise ValueError(f"missing array entry {name!r}")
        array = self.npz[name]
        _dtype.from_numpy_dtype(array.dtype)  # only the dtypes a tensor can have
        return array

    def tensor(self, meta: dict) -> Tensor:
        name = meta["name"]
        if name not in self.tensors:
            array = _backend.move(self.array(name), self.device(meta["device"]))
            if meta.get("parameter"):
                from .nn.parameter import Parameter

                t = Parameter(Tensor._wrap(array), requires_grad=bool(meta.get("requires_grad")))
            else:
                t = Tensor._wrap(array)
                if meta.get("requires_grad"):
                    t.requires_grad_(True)
            self.tensors[name] = t
        return self.tensors[name]

    def device(self, saved: str) -> _backend.device:
        where = self.map_location
        if isinstance(where, dict):
            where = where.get(saved, saved)
        if callable(where) and not isinstance(where, _backend.device):
            raise TypeError("minigrad.load: map_location must be a device, a device string or a dict")
        target = _backend.as_device(saved if where is None else where)
        if target.type == "cuda" and not _backend.cuda_available():
            raise RuntimeError("Attempting to deserialize object on a CUDA device but minigrad.cuda.is_available() "
                               "is False. If you are running on a CPU-only machine, please use minigrad.load with "
                               "map_location='cpu' to map your storages to the CPU.")
        return target
