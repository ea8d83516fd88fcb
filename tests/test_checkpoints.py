"""minigrad.save / minigrad.load as safe checkpoints: atomic saves, bounded loads, shared views kept,
and every kind of hostile or damaged file refused with a clear error, without running code or
allocating what the file does not hold."""

from __future__ import annotations

import io
import json
import math
import os
import pickle
import struct
import subprocess
import sys
import tracemalloc
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch

import minigrad
import minigrad.nn as nn
from minigrad import _backend, serialization

ROOT = Path(__file__).resolve().parent.parent
MiB = 1 << 20
PEAK_LIMIT = 16 * MiB  # what refusing a file may allocate, whatever the file claims


def _saved(obj) -> bytes:
    buf = io.BytesIO()
    minigrad.save(obj, buf)
    return buf.getvalue()


def _torch_saved(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def _storage_records(data: bytes) -> dict[str, bytes]:
    """The storages a torch-format archive holds: {"data/0": its bytes, ...}, the archive's folder name left out."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name.split("/", 1)[1]: archive.read(name) for name in archive.namelist()
                if name.split("/", 1)[1].startswith("data/")}


def _refused(source, match: str) -> RuntimeError:
    """Load ``source`` (bytes or a path), expect a RuntimeError matching ``match``, and check the
    refusal allocated little."""
    f = io.BytesIO(source) if isinstance(source, bytes) else source
    tracemalloc.start()
    try:
        with pytest.raises(RuntimeError, match=match) as info:
            minigrad.load(f)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < PEAK_LIMIT, f"refusing the file allocated {peak / MiB:.1f} MiB"
    return info.value


# -- a zip writer that can lie --------------------------------------------------------------------


@dataclass
class Member:
    name: str
    data: bytes  # as stored in the archive (already deflated when method is 8)
    method: int = zipfile.ZIP_STORED
    size: int | None = None  # the uncompressed size the directory declares; len(data) by default
    stored_size: int | None = None  # the compressed size it declares; len(data) by default
    crc: int | None = None
    offset: int | None = None  # where the directory says its local header is; where _zip writes it by default

    def local_header(self) -> bytes:
        return struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, self.method, 0, 0x21, *self.sizes(),
                           len(self.name.encode()), 0) + self.name.encode()

    def sizes(self) -> tuple[int, int, int]:
        size = len(self.data) if self.size is None else self.size
        stored = len(self.data) if self.stored_size is None else self.stored_size
        return (zlib.crc32(self.data) if self.crc is None else self.crc), stored, size


def _zip(members: list[Member]) -> bytes:
    """A zip archive written by hand, so that its directory can say what a test needs it to say."""
    out, directory = bytearray(), bytearray()
    for m in members:
        at = len(out)
        out += m.local_header() + m.data
        name = m.name.encode()
        directory += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, m.method, 0, 0x21, *m.sizes(), len(name),
                                 0, 0, 0, 0, 0, at if m.offset is None else m.offset) + name
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(directory), len(out), 0)
    return bytes(out + directory + end)


def _npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, array, allow_pickle=True)
    return buf.getvalue()


def _npy_header(descr, shape: tuple, fortran_order: bool = False) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": fortran_order, "shape": shape})
    return buf.getvalue()


def _tensor_meta(name: str = "t0", **extra) -> dict:
    return {"type": "tensor", "name": name, "device": "cpu", "requires_grad": False, "parameter": False, **extra}


def _header(obj, version: int = 1) -> bytes:
    return _npy(np.array(json.dumps({"format": "minigrad.save", "version": version, "object": obj})))


def _one_tensor_file(t0: bytes, name: str = "t0.npy") -> bytes:
    """A checkpoint {"w": <tensor t0>} whose array member holds ``t0`` (a .npy file's bytes)."""
    header = _header({"type": "dict", "items": [["w", _tensor_meta()]]})
    return _zip([Member(name, t0), Member("__minigrad__.npy", header)])


def test_the_hand_written_zip_is_a_valid_checkpoint():
    out = minigrad.load(io.BytesIO(_one_tensor_file(_npy(np.arange(5, dtype=np.float32)))))
    np.testing.assert_array_equal(out["w"].numpy(), np.arange(5, dtype=np.float32))


# -- atomic save ------------------------------------------------------------------------------


def _child(code: str, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


_SAVE_UNDER_A_FILE_SIZE_LIMIT = """
import resource, signal, sys
import minigrad
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # so that the write past the limit fails with EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, resource.RLIM_INFINITY))
try:
    minigrad.save({"w": minigrad.full((1 << 18,), 2.0)}, sys.argv[1])  # 1 MiB
except OSError as exc:
    print("OSError", exc.errno, exc.strerror)
    sys.exit(3)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_a_save_that_fails_halfway_keeps_the_previous_checkpoint(tmp_path):
    path = tmp_path / "model.pt"
    minigrad.save({"w": minigrad.ones(4)}, path)
    before = path.read_bytes()
    result = _child(_SAVE_UNDER_A_FILE_SIZE_LIMIT, str(path))
    assert result.returncode == 3 and "OSError 27" in result.stdout, result.stdout + result.stderr  # EFBIG
    assert path.read_bytes() == before
    np.testing.assert_array_equal(minigrad.load(path)["w"].numpy(), np.ones(4, np.float32))
    assert os.listdir(tmp_path) == ["model.pt"]  # the partial temporary file is gone


_SAVE_KILLED_MIDWAY = """
import io, os, signal, sys
import minigrad
from minigrad import serialization
write_archive = serialization._write_archive  # what save writes the zip archive with
def write_half_then_die(fh, records):
    whole = io.BytesIO()
    write_archive(whole, records)
    fh.write(whole.getvalue()[:len(whole.getvalue()) // 2])  # the first half of the real archive reaches the disk
    fh.flush()
    os.fsync(fh.fileno())
    os.kill(os.getpid(), signal.SIGKILL)
serialization._write_archive = write_half_then_die
minigrad.save({"w": minigrad.full((1000,), 2.0)}, sys.argv[1])
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_a_save_killed_midway_keeps_the_previous_checkpoint(tmp_path):
    path = tmp_path / "model.pt"
    minigrad.save({"w": minigrad.ones(4)}, path)
    result = _child(_SAVE_KILLED_MIDWAY, str(path))
    assert result.returncode == -9, result.stderr
    np.testing.assert_array_equal(minigrad.load(path)["w"].numpy(), np.ones(4, np.float32))
    np.testing.assert_array_equal(torch.load(path, weights_only=True)["w"].numpy(), np.ones(4, np.float32))
    # A killed process cannot clean up: what it leaves is a hidden temporary file beside the checkpoint.
    leftovers = sorted(set(os.listdir(tmp_path)) - {"model.pt"})
    assert len(leftovers) == 1 and leftovers[0].startswith(".model.pt.") and leftovers[0].endswith(".tmp")
    half = (tmp_path / leftovers[0]).read_bytes()  # the save was killed while writing, not before
    assert half.startswith(b"PK\x03\x04") and len(half) > 2000  # 1000 float32 values: more than 4000 bytes in all


def test_a_save_that_raises_leaves_the_file_and_the_directory_as_they_were(tmp_path, monkeypatch):
    path = tmp_path / "model.pt"
    minigrad.save({"w": minigrad.ones(4)}, path)
    before = path.read_bytes()
    # What pickle cannot store (a generator) fails the save as it fails torch.save, with the same error...
    with pytest.raises(TypeError, match="^cannot pickle 'generator' object$"):
        minigrad.save({"w": minigrad.zeros(4), "bad": (x for x in ())}, path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["model.pt"]
    # ...but torch.save has by then written over its checkpoint, which torch.load refuses.
    torch.save({"w": torch.ones(4)}, tmp_path / "torch.pt")
    with pytest.raises(TypeError, match="^cannot pickle 'generator' object$"):
        torch.save({"w": torch.zeros(4), "bad": (x for x in ())}, tmp_path / "torch.pt")
    with pytest.raises(RuntimeError):
        torch.load(tmp_path / "torch.pt")
    (tmp_path / "torch.pt").unlink()
    # A write that fails midway (a full disk), after part of the archive has reached the temporary file.
    write_archive = serialization._write_archive
    calls = []

    def fail(fh, records):
        calls.append(fh)
        whole = io.BytesIO()
        write_archive(whole, records)
        fh.write(whole.getvalue()[:100])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(serialization, "_write_archive", fail)
    with pytest.raises(OSError, match="No space left"):
        minigrad.save({"w": minigrad.zeros(4)}, path)
    monkeypatch.undo()
    assert len(calls) == 1  # the save did write with the patched writer
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["model.pt"]
    np.testing.assert_array_equal(torch.load(path, weights_only=True)["w"].numpy(), np.ones(4, np.float32))


def test_save_replaces_the_file_and_keeps_its_permissions(tmp_path):
    path = tmp_path / "model.pt"
    minigrad.save({"w": minigrad.ones(2)}, path)
    umask = os.umask(0)
    os.umask(umask)
    assert (path.stat().st_mode & 0o777) == 0o666 & ~umask  # as open(path, "wb") would create it
    path.chmod(0o640)
    minigrad.save({"w": minigrad.zeros(3)}, path)
    assert (path.stat().st_mode & 0o777) == 0o640
    np.testing.assert_array_equal(minigrad.load(path)["w"].numpy(), np.zeros(3, np.float32))
    assert os.listdir(tmp_path) == ["model.pt"]


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
def test_save_through_a_symlink_replaces_the_file_it_points_to(tmp_path):
    real = tmp_path / "real.pt"
    minigrad.save({"w": minigrad.ones(2)}, real)
    link = tmp_path / "latest.pt"
    link.symlink_to(real)
    minigrad.save({"w": minigrad.zeros(2)}, link)
    assert link.is_symlink()
    np.testing.assert_array_equal(minigrad.load(real)["w"].numpy(), np.zeros(2, np.float32))


def test_save_into_a_missing_directory_raises_torchs_error(tmp_path):
    path = tmp_path / "no" / "such" / "dir" / "model.pt"
    with pytest.raises(RuntimeError) as theirs:
        torch.save({"w": torch.ones(2)}, str(path))
    with pytest.raises(RuntimeError) as ours:
        minigrad.save({"w": minigrad.ones(2)}, str(path))
    assert str(ours.value) == str(theirs.value) == f"Parent directory {path.parent} does not exist."
    assert not (tmp_path / "no").exists()


# -- bounded loads ----------------------------------------------------------------------------


def _inflating_file(n_floats: int = 128 * MiB) -> bytes:
    """A valid archive of about 0.5 MiB whose one array member inflates to ``4 * n_floats`` bytes
    (512 MiB) of zeros, deflated in 1 MiB blocks that repeat."""
    npy_header = _npy_header("<f4", (n_floats,))
    zero = bytes(MiB)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = deflate.compress(npy_header) + deflate.flush(zlib.Z_FULL_FLUSH)
    block = deflate.compress(zero) + deflate.flush(zlib.Z_FULL_FLUSH)  # a full flush makes every block the same
    blocks = 4 * n_floats // MiB
    crc = zlib.crc32(npy_header)
    for _ in range(blocks):
        crc = zlib.crc32(zero, crc)
    data = first + block * blocks + deflate.flush()
    header = _header({"type": "dict", "items": [["w", _tensor_meta()]]})
    return _zip([Member("t0.npy", data, method=zipfile.ZIP_DEFLATED, size=len(npy_header) + 4 * n_floats, crc=crc),
                 Member("__minigrad__.npy", header)])


def test_a_small_file_that_inflates_to_512_mib_is_refused_without_allocating():
    bomb = _inflating_file()
    assert len(bomb) < 600 * 1024
    with zipfile.ZipFile(io.BytesIO(bomb)) as zf:
        assert zf.getinfo("t0.npy").file_size > 512 * MiB  # what numpy.load would allocate and fill
    _refused(bomb, "t0.npy is compressed, and minigrad.save writes stored members only")


def test_sizes_that_the_file_does_not_hold_are_refused_before_allocating():
    header = _header({"type": "dict", "items": [["w", _tensor_meta()]]})
    # The directory declares a stored member of 512 MiB; the file holds 40 bytes of it.
    short = _npy_header("<f4", (128 * MiB,)) + bytes(40)
    claimed = len(short) - 40 + 512 * MiB
    lying_directory = _zip([Member("t0.npy", short, size=claimed, stored_size=claimed),
                            Member("__minigrad__.npy", header)])
    _refused(lying_directory, f"t0.npy claims {claimed} bytes, past the end of the file")
    # The .npy header declares 512 MiB; the member holds 40 bytes.
    _refused(_one_tensor_file(short), r"t0.npy holds 40 bytes of data, but its header declares shape \(134217728,\)")
    # The overlapping-files zip bomb: t1's local header and data sit inside t0's data, so that the
    # same bytes would be counted (and allocated) twice.
    inner = Member("t1.npy", _npy(np.zeros(1000, np.float32)))
    quoted = inner.local_header() + inner.data
    quoted += bytes(-len(quoted) % 4)
    outer_header = _npy_header("<f4", (len(quoted) // 4,))
    outer = Member("t0.npy", outer_header + quoted)
    inner.offset = len(outer.local_header()) + len(outer_header)
    header = _header({"type": "dict", "items": [["a", _tensor_meta("t0")], ["b", _tensor_meta("t1")]]})
    _refused(_zip([outer, Member("__minigrad__.npy", header), inner]), "member t1.npy overlaps another")
    # An end-of-directory record that claims a 4 GiB directory in a file of a few hundred bytes.
    good = bytearray(_saved({"w": minigrad.ones(2)}))
    good[-10:-6] = struct.pack("<L", 0xFFFFFFF0)
    _refused(bytes(good), "not a file written by minigrad.save")


def test_max_bytes_refuses_a_larger_checkpoint_before_allocating(tmp_path):
    path = tmp_path / "big.pt"
    minigrad.save({"w": minigrad.zeros(MiB // 4), "b": minigrad.zeros(MiB // 4)}, path)  # 2 MiB of arrays
    tracemalloc.start()
    try:
        with pytest.raises(RuntimeError, match=r"arrays take 209\d{4} bytes, more than max_bytes=1048576; pass a "
                                               r"larger max_bytes \(or None\)"):
            minigrad.load(path, max_bytes=MiB)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < MiB // 2
    assert minigrad.load(path, max_bytes=None)["w"].shape == (MiB // 4,)
    assert minigrad.load(path, max_bytes=3 * MiB)["b"].shape == (MiB // 4,)


def test_max_bytes_default_and_bad_values():
    import inspect

    assert serialization.DEFAULT_MAX_BYTES == 4 * 1024**3
    assert inspect.signature(minigrad.load).parameters["max_bytes"].default == serialization.DEFAULT_MAX_BYTES
    data = _saved({"w": minigrad.ones(2)})
    with pytest.raises(TypeError, match="max_bytes must be an int or None"):
        minigrad.load(io.BytesIO(data), max_bytes=1.5)
    with pytest.raises(ValueError, match="max_bytes must be >= 0"):
        minigrad.load(io.BytesIO(data), max_bytes=-1)


# -- duplicates -------------------------------------------------------------------------------


def test_duplicate_members_are_refused():
    header = _header({"type": "dict", "items": [["w", _tensor_meta()]]})
    twice = _zip([Member("t0.npy", _npy(np.ones(2, np.float32))), Member("t0.npy", _npy(np.zeros(2, np.float32))),
                  Member("__minigrad__.npy", header)])
    _refused(twice, "duplicate member 't0.npy'")
    two_headers = _zip([Member("t0.npy", _npy(np.ones(2, np.float32))), Member("__minigrad__.npy", header),
                        Member("__minigrad__.npy", _header({"type": "dict", "items": []}))])
    _refused(two_headers, "duplicate member '__minigrad__.npy'")


def test_duplicate_keys_are_refused():
    t0 = _npy(np.ones(2, np.float32))
    # The same key twice in one dict of the saved structure.
    items = [["w", _tensor_meta()], ["w", 3]]
    _refused(_zip([Member("t0.npy", t0), Member("__minigrad__.npy", _header({"type": "dict", "items": items}))]),
             "duplicate key 'w'")
    # The same key twice in a JSON object of the header.
    text = ('{"format": "minigrad.save", "version": 1, "object": {"type": "dict", "items": []}, '
            '"object": {"type": "dict", "items": [["w", 1]]}}')
    _refused(_zip([Member("__minigrad__.npy", _npy(np.array(text)))]), "duplicate key 'object' in the header")


# -- views keep their sharing -----------------------------------------------------------------


def test_a_tensor_and_its_views_share_memory_after_load_as_in_torch(tmp_path):
    w = minigrad.arange(12, dtype=minigrad.float32).reshape(3, 4)
    views = {"row": w[0], "col": w[:, 1], "t": w.t(), "flat": w.view(12), "same": w.detach(), "none": w[:0]}
    minigrad.save({"w": w, **views}, tmp_path / "m.pt")
    out = minigrad.load(tmp_path / "m.pt")
    ref_w = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    torch.save({"w": ref_w, "row": ref_w[0], "col": ref_w[:, 1], "t": ref_w.t(), "flat": ref_w.view(12),
                "same": ref_w.detach(), "none": ref_w[:0]}, tmp_path / "t.pt")
    ref = torch.load(tmp_path / "t.pt")
    for k in ["w", *views]:
        np.testing.assert_array_equal(out[k].numpy(), ref[k].numpy())
    with minigrad.no_grad():
        out["w"].mul_(10)
        out["row"].add_(1)
    with torch.no_grad():
        ref["w"].mul_(10)
        ref["row"].add_(1)
    for k in ["w", *views]:  # each write is seen through every view, in both libraries
        np.testing.assert_array_equal(out[k].numpy(), ref[k].numpy())
    # On disk, as torch.save writes it: the 12 values stored once, every view an (offset, stride) into them.
    ours = _storage_records((tmp_path / "m.pt").read_bytes())
    theirs = _storage_records((tmp_path / "t.pt").read_bytes())
    assert [v for v in ours.values() if v] == list(theirs.values()) == [np.arange(12, dtype="<f4").tobytes()]
    # (An empty tensor stores nothing: torch keeps it in w's storage, minigrad gives it an empty one of its own.)
    mine = torch.load(tmp_path / "m.pt", weights_only=True)
    fresh = torch.load(tmp_path / "t.pt", weights_only=True)
    for k in ["w", *views]:
        assert (mine[k].shape, mine[k].stride(), mine[k].storage_offset()) == \
            (fresh[k].shape, fresh[k].stride(), fresh[k].storage_offset()), k
        torch.testing.assert_close(mine[k], fresh[k], rtol=0, atol=0)
        if k != "none":
            assert mine[k].untyped_storage().data_ptr() == mine["w"].untyped_storage().data_ptr(), k
            assert mine[k].untyped_storage().nbytes() == fresh[k].untyped_storage().nbytes() == 48
    mine["flat"][5] = -1  # torch sees the sharing too
    assert mine["w"][1, 1] == mine["t"][1, 1] == mine["col"][1] == -1


def test_sharing_survives_a_second_round_trip_and_state_dicts():
    model = nn.Linear(3, 2)
    obj = {"model": model.state_dict(), "weight": model.weight, "first_row": model.weight[0]}
    out = minigrad.load(io.BytesIO(_saved(minigrad.load(io.BytesIO(_saved(obj))))))
    assert isinstance(out["weight"], nn.Parameter) and out["weight"].requires_grad
    with minigrad.no_grad():
        out["model"]["weight"].zero_()
    assert not out["weight"].detach().numpy().any() and not out["first_row"].detach().numpy().any()
    np.testing.assert_array_equal(out["model"]["bias"].numpy(), model.bias.detach().numpy())


def test_views_of_a_tensor_that_is_not_saved_share_its_storage():
    base = minigrad.arange(10, dtype=minigrad.float64)
    data = _saved({"a": base[1:3], "b": base[7:9], "other": minigrad.ones(2)})
    ref_base = torch.arange(10, dtype=torch.float64)
    ref = _torch_saved({"a": ref_base[1:3], "b": ref_base[7:9], "other": torch.ones(2)})
    # As torch: the whole storage of the base (not only the span the views cover), then the other tensor's.
    assert _storage_records(data) == _storage_records(ref) == {
        "data/0": np.arange(10, dtype="<f8").tobytes(), "data/1": np.ones(2, "<f4").tobytes()}
    theirs = torch.load(io.BytesIO(data), weights_only=True)
    assert theirs["a"].untyped_storage().data_ptr() == theirs["b"].untyped_storage().data_ptr()
    assert theirs["other"].untyped_storage().data_ptr() != theirs["a"].untyped_storage().data_ptr()
    assert (theirs["a"].storage_offset(), theirs["b"].storage_offset()) == (1, 7)
    out = minigrad.load(io.BytesIO(data))
    np.testing.assert_array_equal(out["a"].numpy(), [1, 2])
    np.testing.assert_array_equal(out["b"].numpy(), [7, 8])
    assert np.shares_memory(out["a"].numpy(), out["b"].numpy()) is False  # they do not overlap
    assert out["a"]._data.base is out["b"]._data.base  # but they view one storage
    np.testing.assert_array_equal(out["a"]._data.base, np.arange(10))
    assert out["other"]._data.base is not out["a"]._data.base


def test_a_lone_view_saves_its_whole_storage_as_in_torch():
    big = minigrad.arange(100_000, dtype=minigrad.float32).reshape(1000, 100)
    data = _saved({"row": big[3]})
    ref = _torch_saved({"row": torch.arange(100_000, dtype=torch.float32).reshape(1000, 100)[3]})
    assert _storage_records(data) == _storage_records(ref) == {"data/0": np.arange(100_000, dtype="<f4").tobytes()}
    assert 400_000 < len(data) < 402_000 and 400_000 < len(ref) < 402_000
    theirs = torch.load(io.BytesIO(data), weights_only=True)
    assert theirs["row"].storage_offset() == 300 and theirs["row"].untyped_storage().nbytes() == 400_000
    np.testing.assert_array_equal(theirs["row"].numpy(), np.arange(300, 400))
    out = minigrad.load(io.BytesIO(data))
    assert out["row"].shape == (100,) and out["row"]._data.base.size == 100_000
    np.testing.assert_array_equal(out["row"].numpy(), np.arange(300, 400))
    # To store only the row, save a copy of it, as in torch.
    assert len(_saved({"row": big[3].clone()})) < 2000
    assert len(_torch_saved({"row": torch.zeros(1000, 100)[3].clone()})) < 2000


def test_expanded_views_stay_read_only_and_sharing_that_strides_cannot_say_is_copied():
    b = minigrad.arange(4, dtype=minigrad.float32)
    out = minigrad.load(io.BytesIO(_saved({"b": b, "e": b.expand(3, 4)})))
    assert out["e"]._data.strides == (0, 4) and not out["e"]._data.flags.writeable
    with minigrad.no_grad():
        out["b"].add_(1)
    np.testing.assert_array_equal(out["e"].numpy(), np.broadcast_to(np.arange(1, 5), (3, 4)))
    # One buffer seen as float32 and as int32: no single (offset, shape, stride) describes both, so copies.
    raw = np.arange(4, dtype=np.float32)
    f, i = minigrad.from_numpy(raw), minigrad.from_numpy(raw.view(np.int32))
    out = minigrad.load(io.BytesIO(_saved({"f": f, "i": i})))
    np.testing.assert_array_equal(out["f"].numpy(), raw)
    np.testing.assert_array_equal(out["i"].numpy(), raw.view(np.int32))
    assert not np.shares_memory(out["f"].numpy(), out["i"].numpy())


def test_views_share_memory_on_the_device_too(device):
    w = minigrad.arange(12, dtype=minigrad.float32, device=device).reshape(3, 4)
    data = _saved({"w": w, "row": w[1], "t": w.t()})
    out = minigrad.load(io.BytesIO(data))
    assert out["w"].device.type == "cuda"
    with minigrad.no_grad():
        out["row"].add_(100)
    expected = np.arange(12, dtype=np.float32).reshape(3, 4)
    expected[1] += 100
    np.testing.assert_array_equal(_backend.to_host(out["w"]._data), expected)
    np.testing.assert_array_equal(_backend.to_host(out["t"]._data), expected.T)
    on_cpu = minigrad.load(io.BytesIO(data), map_location="cpu")
    with minigrad.no_grad():
        on_cpu["w"].zero_()
    assert not on_cpu["row"].numpy().any()


# -- files written before this format change --------------------------------------------------


def _write_like_version_1(path: Path) -> None:
    """What minigrad.save wrote before views were kept (format version 1), written out by hand."""
    tensor = _tensor_meta
    header = {"format": "minigrad.save", "version": 1, "object": {"type": "OrderedDict", "items": [
        ["0.weight", tensor("t0")],
        ["0.bias", tensor("t1")],
        ["step", tensor("t2", requires_grad=True)],
        ["step again", tensor("t2", requires_grad=True)],
        ["param", tensor("t3", requires_grad=True, parameter=True)],
        ["mask", tensor("t4")],
        ["lr", 0.01], ["inf", math.inf], ["none", None], ["name", "group A"],
        ["betas", {"type": "tuple", "items": [0.9, 0.999]}],
        ["params", {"type": "list", "items": [0, 1]}],
        ["dtype", {"type": "dtype", "name": "float16"}],
        ["array", {"type": "ndarray", "name": "a5"}],
        [{"type": "tuple", "items": [1, "tuple key"]}, "value"],
    ]}}
    with open(path, "wb") as fh:
        np.savez(fh, t0=np.arange(6, dtype=np.float32).reshape(2, 3), t1=np.array([0.5, -0.5], np.float32),
                 t2=np.array(4.0, np.float32), t3=np.ones(2, np.float64), t4=np.array([True, False]),
                 a5=np.arange(3), __minigrad__=np.array(json.dumps(header)))


def test_a_version_1_file_still_loads(tmp_path):
    path = tmp_path / "old.pt"
    _write_like_version_1(path)
    out = minigrad.load(path)
    assert list(out)[:3] == ["0.weight", "0.bias", "step"]
    np.testing.assert_array_equal(out["0.weight"].numpy(), np.arange(6, dtype=np.float32).reshape(2, 3))
    assert out["step"] is out["step again"] and out["step"].requires_grad and out["step"].item() == 4.0
    assert isinstance(out["param"], nn.Parameter) and out["param"].dtype == minigrad.float64
    assert out["mask"].dtype == minigrad.bool and out["inf"] == math.inf and out["none"] is None
    assert out["betas"] == (0.9, 0.999) and out["params"] == [0, 1] and out["dtype"] is minigrad.float16
    np.testing.assert_array_equal(out["array"], np.arange(3))
    assert out[(1, "tuple key")] == "value"


def test_version_3_is_refused():
    _refused(_zip([Member("__minigrad__.npy", _header({"type": "dict", "items": []}, version=3))]),
             "format version 3, this minigrad reads 1, 2")


# -- hostile and damaged files: one family each -----------------------------------------------


def _good() -> bytes:
    return _saved({"w": minigrad.arange(64, dtype=minigrad.float32), "b": minigrad.ones(3), "step": 7})


@pytest.mark.parametrize("cut", [1, 3, 4, 30, 100, 300, 400, -200, -100, -30, -22, -1])
def test_truncated_files_are_refused(cut):
    _refused(_good()[:cut], "not a (file written by minigrad.save|valid minigrad checkpoint)")


@pytest.mark.parametrize("seed", range(6))
def test_random_bytes_are_refused(seed):
    noise = np.random.default_rng(seed).bytes(10 + 997 * seed)
    _refused(noise, "not a file written by minigrad.save")
    _refused(b"PK\x03\x04" + noise, "not a file written by minigrad.save")
    data = bytearray(_good())  # a valid archive with bytes flipped inside the arrays: the CRC says so
    data[200:210] = noise[:10]
    _refused(bytes(data), "not a (file written by minigrad.save|valid minigrad checkpoint)")


@pytest.mark.parametrize(("members", "match"), [
    ([Member("__minigrad__.npy", _header({"type": "dict", "items": [["w", _tensor_meta()]]}))],
     "missing array entry 't0'"),
    ([Member("t0.npy", _npy(np.ones(2, np.float32)))], r"not a file written by minigrad.save \(no __minigrad__"),
    ([Member("t0.npy", _npy(np.ones(2, np.float32))), Member("t1.npy", _npy(np.ones(2, np.float32))),
      Member("__minigrad__.npy", _header({"type": "dict", "items": [["w", _tensor_meta()]]}))],
     "member t1.npy is not referred to by the header"),
    ([Member("t0.npy", b"not an array"),
      Member("__minigrad__.npy", _header({"type": "dict", "items": [["w", _tensor_meta()]]}))],
     "member t0.npy is not a .npy array"),
    ([Member("weights.npy", _npy(np.ones(2, np.float32))),
      Member("__minigrad__.npy", _header({"type": "dict", "items": []}))], "unexpected member 'weights.npy'"),
    ([Member("__minigrad__.npy", _npy(np.ones(3)))], "member __minigrad__.npy has dtype float64"),
    ([Member("__minigrad__.npy", _npy(np.array("{not json")))], "not a valid minigrad checkpoint"),
    ([Member("__minigrad__.npy", _npy(np.array('{"format": "something else"}')))], "unknown header"),
    ([Member("__minigrad__.npy", _header({"type": "dict", "items": [["w", _tensor_meta("__minigrad__")]]}))],
     "missing array entry '__minigrad__'"),
    ([Member("__minigrad__.npy", _header({"type": "module", "code": "os.system('x')"}))], "unknown entry"),
    ([Member("__minigrad__.npy", _npy(np.array("[" * 100_000 + "]" * 100_000)))], "not a valid minigrad checkpoint"),
])
def test_wrong_or_missing_members_are_refused(members, match):
    _refused(_zip(members), match)


@pytest.mark.parametrize("count", [5, 500])
def test_headers_that_lie_about_the_data_are_refused(count):
    data = _npy_header("<f4", (10,)) + np.arange(count, dtype=np.float32).tobytes()
    _refused(_one_tensor_file(data), rf"t0.npy holds {4 * count} bytes of data, but its header declares shape "
                                     r"\(10,\) of float32 \(40 bytes\)")


class RunsCode:
    """Unpickling this runs os.system, as a hostile checkpoint would."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_object_arrays_with_code_payloads_are_refused_without_running_them(tmp_path):
    marker = tmp_path / "ran"
    payload = np.array([RunsCode(marker)], dtype=object)
    _refused(_one_tensor_file(_npy(payload)), r"t0.npy holds Python objects \(dtype object\), which would need pickle")
    nested = np.array([(RunsCode(marker),)], dtype=[("x", object)])
    _refused(_one_tensor_file(_npy(nested)), "t0.npy holds Python objects")
    as_header = _zip([Member("__minigrad__.npy", _npy(payload))])
    _refused(as_header, "__minigrad__.npy holds Python objects")
    _refused(pickle.dumps({"w": RunsCode(marker)}), "it holds pickled data, which minigrad never loads")
    assert not marker.exists()


@pytest.mark.parametrize(("array", "match"), [
    (np.zeros(2, dtype="V8"), "t0.npy has dtype |V8"),
    (np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")]), "t0.npy has a structured dtype"),
    (np.zeros(2, dtype="datetime64[s]"), r"t0.npy has dtype datetime64\[s\]"),
    (np.zeros(2, dtype="timedelta64[s]"), r"t0.npy has dtype timedelta64\[s\]"),
    (np.zeros(2, dtype="S4"), "t0.npy has dtype |S4"),
    (np.zeros(2, dtype="<U4"), "t0.npy has dtype <U4"),
    (np.zeros(2, dtype=np.complex64), "can't convert np.ndarray of type complex64"),
    (np.zeros(2, dtype=np.uint32), "can't convert np.ndarray of type uint32"),
])
def test_odd_dtypes_are_refused(array, match):
    _refused(_one_tensor_file(_npy(array)), match)


def test_subarray_dtypes_are_refused():
    data = _npy_header("(2,)<f4", (2,)) + bytes(16)  # numpy.save never writes one, but a header can say it
    _refused(_one_tensor_file(data), r"t0.npy has a structured dtype \('<f4', \(2,\)\)")


def test_big_endian_arrays_load_in_native_order():
    out = minigrad.load(io.BytesIO(_one_tensor_file(_npy(np.arange(4, dtype=">f4")))))
    assert out["w"].dtype == minigrad.float32 and out["w"].numpy().dtype.isnative
    np.testing.assert_array_equal(out["w"].numpy(), np.arange(4))


@pytest.mark.parametrize("shape", [(2**60,), (2**30, 2**30), (2**62, 2**62, 2**62), (0, 2**63)])
def test_huge_declared_shapes_are_refused_without_allocating(shape):
    data = _npy_header("<f4", shape) + bytes(16)
    _refused(_one_tensor_file(data), "t0.npy holds 16 bytes of data, but its header declares shape")


def test_npy_headers_minigrad_never_writes_are_refused():
    _refused(_one_tensor_file(_npy_header("<f4", (-4,)) + bytes(16)), "impossible shape")
    three = b"\x93NUMPY\x03\x00" + _npy_header("<f4", (4,))[8:] + bytes(16)
    _refused(_one_tensor_file(three), "t0.npy has .npy format version 3.0")
    long_header = b"\x93NUMPY\x02\x00" + struct.pack("<L", 2**31) + b"{"
    _refused(_one_tensor_file(long_header), "t0.npy has a .npy header that is truncated or too long")
    _refused(_one_tensor_file(b"\x93NUMPY\x01\x00\x10\x00{'descr': 1}    \n"), "t0.npy has an unreadable .npy header")


@pytest.mark.parametrize("name", ["../t0.npy", "/etc/passwd", "t0.npy/../../x", "..\\x.npy", "t0.npy\x00.x",
                                  "dir/t0.npy", "t0.npy/"])
def test_path_like_member_names_are_refused(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _refused(_one_tensor_file(_npy(np.ones(2, np.float32)), name=name), "unexpected member")
    assert os.listdir(tmp_path) == []


def test_encrypted_or_compressed_members_are_refused():
    header = _header({"type": "dict", "items": []})
    deflated = zlib.compressobj(6, zlib.DEFLATED, -15)
    data = deflated.compress(header) + deflated.flush()
    _refused(_zip([Member("__minigrad__.npy", data, method=zipfile.ZIP_DEFLATED, size=len(header),
                          crc=zlib.crc32(header))]), "__minigrad__.npy is compressed")
    encrypted = bytearray(_zip([Member("__minigrad__.npy", header)]))
    directory = encrypted.rindex(b"PK\x01\x02")
    encrypted[directory + 8] |= 1  # the central directory's "encrypted" flag
    _refused(bytes(encrypted), "__minigrad__.npy is encrypted")


@pytest.mark.parametrize(("view", "match"), [
    ({"offset": 10, "shape": [4], "stride": [1]}, r"reaches elements 10..13, outside its 12 elements"),
    ({"offset": 0, "shape": [4], "stride": [-1]}, r"reaches elements -3..0"),
    ({"offset": 0, "shape": [3, 5], "stride": [4, 1]}, r"reaches elements 0..12"),
    ({"offset": 0, "shape": [2**40], "stride": [1]}, "outside its 12 elements"),
    ({"offset": 13, "shape": [0], "stride": [1]}, "starts past its end"),
    ({"offset": -1, "shape": [2], "stride": [1]}, "bad view"),
    ({"offset": 0, "shape": [-2], "stride": [1]}, "bad view"),
    ({"offset": 0, "shape": [2], "stride": [1, 1]}, "bad view"),
    ({"offset": True, "shape": [2], "stride": [1]}, "bad view"),
    ({"offset": 0, "shape": [2.0], "stride": [1]}, "bad view"),
    ({"offset": 0, "shape": "12", "stride": [1]}, "bad view"),
])
def test_views_that_reach_outside_their_storage_are_refused(view, match):
    meta = _tensor_meta("v0", storage="t0", **view)
    header = _header({"type": "dict", "items": [["w", meta]]}, version=2)
    _refused(_zip([Member("t0.npy", _npy(np.arange(12, dtype=np.float32))), Member("__minigrad__.npy", header)]),
             match)


def test_views_into_a_storage_that_is_not_flat_are_refused():
    two_d = _zip([Member("t0.npy", _npy(np.ones((3, 4), np.float32))),
                  Member("__minigrad__.npy", _header({"type": "dict", "items": [["w", _tensor_meta(
                      "v0", storage="t0", offset=0, shape=[2], stride=[1])]]}, version=2))])
    _refused(two_d, "storage 't0' is not 1-dimensional")


def test_load_never_writes_or_reads_other_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    header = _header({"type": "dict", "items": [["w", _tensor_meta("../../etc/passwd")]]})
    _refused(_zip([Member("__minigrad__.npy", header)]), "missing array entry '../../etc/passwd'")
    assert os.listdir(tmp_path) == []


def test_a_header_nested_thousands_deep_is_refused_clearly(tmp_path):
    # A bare RecursionError told the user nothing; the loader names the file and the problem.
    arrays = serialization._Encoder().encode({"a": [1, 2]})
    depth = 3000
    text = ('{"format": "minigrad.save", "version": 1, "object": ' + '{"type": "list", "items": [' * depth + "1"
            + "]}" * depth + "}")
    arrays["__minigrad__"] = np.array(text)
    path = tmp_path / "deep.npz"
    np.savez(path, **arrays)
    with pytest.raises(RuntimeError, match=r"deep\.npz: not a valid minigrad checkpoint \(maximum recursion depth"):
        minigrad.load(path)
