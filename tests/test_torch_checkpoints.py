"""minigrad.save writes torch's checkpoint format and minigrad.load reads torch.save's, with torch as the
oracle: state dicts of models and optimizers both ways, shared storages, strided views, dtypes,
map_location, the weights_only refusal, whole modules with weights_only=False, and older minigrad files."""

from __future__ import annotations

import io
import os
import pickle
import subprocess
import sys
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch

import minigrad
import minigrad.nn as nn
from minigrad import serialization

ROOT = Path(__file__).resolve().parent.parent


def _mg_model() -> nn.Sequential:
    minigrad.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))


def _torch_model() -> torch.nn.Sequential:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))


def _trained_mg():
    model = _mg_model()
    opt = minigrad.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(2):
        opt.zero_grad()
        model(minigrad.ones(5, 4)).pow(2).sum().backward()
        opt.step()
    return model, opt


def _trained_torch():
    model = _torch_model()
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(2):
        opt.zero_grad()
        model(torch.ones(5, 4)).pow(2).sum().backward()
        opt.step()
    return model, opt


def _same(ours, theirs) -> None:
    """Nested structures equal: minigrad tensors against torch tensors, values, dtypes and shapes."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, minigrad.Tensor), type(ours)
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
        assert tuple(ours.shape) == tuple(theirs.shape)
        np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())
    elif isinstance(theirs, dict):
        assert isinstance(ours, dict) and list(ours) == list(theirs)
        for k in theirs:
            _same(ours[k], theirs[k])
    elif isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _same(a, b)
    else:
        assert ours == theirs


# -- minigrad.save -> torch.load -------------------------------------------------------------


def test_torch_loads_minigrad_model_and_optimizer_state_dicts_with_weights_only(tmp_path):
    model, opt = _trained_mg()
    path = tmp_path / "ckpt.pt"
    minigrad.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 2, "note": None}, path)
    back = torch.load(path, weights_only=True)
    _same(minigrad.load(path), back)
    for k, v in model.state_dict().items():
        assert back["model"][k].dtype == torch.float32
        np.testing.assert_array_equal(back["model"][k].numpy(), v.numpy())
    fresh = _torch_model()
    fresh.load_state_dict(back["model"])
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_allclose(fresh(torch.from_numpy(x)).detach().numpy(),
                               model(minigrad.from_numpy(x)).detach().numpy(), rtol=1e-6)
    torch_opt = torch.optim.Adam(fresh.parameters(), lr=0.01)
    torch_opt.load_state_dict(back["optimizer"])  # torch accepts minigrad's optimizer state as its own
    assert back["optimizer"]["param_groups"][0]["lr"] == 0.01 and back["epoch"] == 2 and back["note"] is None


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "bool", "float16", "uint8", "int8"])
def test_every_dtype_reaches_torch(dtype):
    values = minigrad.tensor([[0, 1, 2], [3, 4, 5]]).to(getattr(minigrad, dtype))
    buf = io.BytesIO()
    minigrad.save({"x": values, "scalar": values[1, 2]}, buf)
    buf.seek(0)
    back = torch.load(buf, weights_only=True)
    assert back["x"].dtype == getattr(torch, dtype) and back["x"].shape == (2, 3)
    np.testing.assert_array_equal(back["x"].numpy(), values.numpy())
    assert back["scalar"].shape == () and back["scalar"].item() == values[1, 2].item()


def test_views_share_one_storage_in_torch():
    w = minigrad.arange(12, dtype=minigrad.float32).reshape(3, 4)
    buf = io.BytesIO()
    minigrad.save({"w": w, "t": w.t(), "row": w[1], "col": w[:, 2], "empty": w[:0]}, buf)
    buf.seek(0)
    back = torch.load(buf, weights_only=True)
    ptr = back["w"].untyped_storage().data_ptr()
    assert all(back[k].untyped_storage().data_ptr() == ptr for k in ("t", "row", "col"))
    assert back["t"].stride() == (1, 4) and back["row"].storage_offset() == 4 and back["col"].stride() == (4,)
    back["w"].mul_(10)
    np.testing.assert_array_equal(back["col"].numpy(), [20, 60, 100])
    assert back["empty"].shape == (0, 4)


def test_parameters_requires_grad_and_plain_values_reach_torch():
    buf = io.BytesIO()
    obj = {"p": nn.Parameter(minigrad.ones(2)), "g": minigrad.ones(2, requires_grad=True), "f": minigrad.float16,
           "t": (1, 2.5, "s", True), "big": 2**70, "neg": -5, "b": b"\x00\xff", "od": OrderedDict(a=[1, {2: 3}])}
    minigrad.save(obj, buf)
    buf.seek(0)
    back = torch.load(buf, weights_only=True)
    assert isinstance(back["p"], torch.nn.Parameter) and back["p"].requires_grad
    assert type(back["g"]) is torch.Tensor and back["g"].requires_grad and back["g"].is_leaf
    assert back["f"] is torch.float16 and back["t"] == (1, 2.5, "s", True) and back["big"] == 2**70
    assert back["neg"] == -5 and back["b"] == b"\x00\xff" and back["od"] == OrderedDict(a=[1, {2: 3}])
    assert type(back["od"]) is OrderedDict


def test_the_archive_is_laid_out_as_torch_saves_it(tmp_path):
    minigrad.save({"w": minigrad.ones(3)}, tmp_path / "model.pt")
    torch.save({"w": torch.ones(3)}, tmp_path / "ref.pt")
    with zipfile.ZipFile(tmp_path / "model.pt") as ours, zipfile.ZipFile(tmp_path / "ref.pt") as ref:
        names = [n.split("/", 1)[1] for n in ours.namelist()]
        assert names == [n.split("/", 1)[1] for n in ref.namelist()]
        assert ours.namelist()[0] == "model/data.pkl"
        for info in ours.infolist():
            assert info.compress_type == zipfile.ZIP_STORED
            assert ours.read(info) == ref.read(info.filename.replace("model/", "ref/")) or info.filename.endswith(
                ("data.pkl", "serialization_id"))
        data = (tmp_path / "model.pt").read_bytes()
        for info in ours.infolist():  # every record's bytes start at a multiple of 64, as torch's writer pads them
            start = info.header_offset + 30 + len(info.filename) + int.from_bytes(
                data[info.header_offset + 28:info.header_offset + 30], "little")
            assert start % 64 == 0, info.filename
    buf = io.BytesIO()
    minigrad.save({}, buf)
    assert zipfile.ZipFile(buf).namelist()[0] == "archive/data.pkl"


# -- torch.save -> minigrad.load -------------------------------------------------------------


def test_minigrad_loads_torch_model_and_optimizer_state_dicts(tmp_path):
    model, opt = _trained_torch()
    path = tmp_path / "torch.pt"
    torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 2}, path)
    out = minigrad.load(path)
    _same(out, torch.load(path))
    assert isinstance(out["model"], OrderedDict) and out["model"]._metadata[""] == {"version": 1}
    ours = _mg_model()
    ours.load_state_dict(out["model"])
    x = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_allclose(ours(minigrad.from_numpy(x)).detach().numpy(),
                               model(torch.from_numpy(x)).detach().numpy(), rtol=1e-6)
    opt_mg = minigrad.optim.Adam(ours.parameters(), lr=0.01)
    opt_mg.load_state_dict(out["optimizer"])
    assert opt_mg.state_dict()["state"][0]["step"].item() == 2


def test_shared_storages_strides_and_offsets_from_torch():
    w = torch.arange(24, dtype=torch.float64).reshape(4, 6)
    obj = {"w": w, "t": w.t(), "cols": w[:, 1::2], "row": w[2], "flat": w.view(24), "exp": w[0, :3].expand(2, 3),
           "other": torch.tensor([1, 2], dtype=torch.int64), "p": torch.nn.Parameter(w[1].clone()),
           "same": w}
    buf = io.BytesIO()
    torch.save(obj, buf)
    buf.seek(0)
    out = minigrad.load(buf)
    _same(out, obj)
    assert out["same"] is out["w"] and isinstance(out["p"], nn.Parameter) and out["p"].requires_grad
    assert out["cols"]._data.strides == (48, 16)
    with minigrad.no_grad():
        out["w"].mul_(-1)
    w.mul_(-1)
    for k in ("t", "cols", "row", "flat", "exp"):
        np.testing.assert_array_equal(out[k].numpy(), obj[k].numpy())  # one storage, as in torch
    assert not out["exp"]._data.flags.writeable


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.int64, torch.int32,
                                   torch.int16, torch.int8, torch.uint8, torch.bool])
def test_torch_dtypes_load(dtype):
    buf = io.BytesIO()
    torch.save({"x": torch.tensor([[1, 0], [3, 4]]).to(dtype), "dtype": dtype}, buf)
    buf.seek(0)
    out = minigrad.load(buf)
    assert out["x"].dtype is getattr(minigrad, str(dtype).split(".")[1]) and out["dtype"] is out["x"].dtype
    np.testing.assert_array_equal(out["x"].numpy(), np.array([[1, 0], [3, 4]]).astype(out["x"].numpy().dtype))


def test_a_torch_dtype_minigrad_lacks_says_so():
    buf = io.BytesIO()
    torch.save({"x": torch.ones(2, dtype=torch.bfloat16)}, buf)
    buf.seek(0)
    with pytest.raises(pickle.UnpicklingError, match="minigrad has no dtype for torch.BFloat16Storage"):
        minigrad.load(buf)


# -- weights_only ----------------------------------------------------------------------------


class RunsCode:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_weights_only_refuses_other_globals_with_torchs_wording(tmp_path):
    torch.save(torch.nn.Linear(2, 2), tmp_path / "module.pt")
    with pytest.raises(pickle.UnpicklingError) as theirs:
        torch.load(tmp_path / "module.pt")
    with pytest.raises(pickle.UnpicklingError) as ours:
        minigrad.load(tmp_path / "module.pt")
    needle = "Unsupported global: GLOBAL torch.nn.modules.linear.Linear was not an allowed global by default."
    assert needle in str(theirs.value) and needle in str(ours.value)
    message = str(ours.value)
    assert message.startswith("Weights only load failed.") and "`weights_only` set to `False`" in message
    marker = tmp_path / "ran"
    torch.save({"w": torch.ones(1), "evil": RunsCode(marker)}, tmp_path / "evil.pt")
    with pytest.raises(pickle.UnpicklingError, match="GLOBAL posix.system was not an allowed global|GLOBAL os.system"):
        minigrad.load(tmp_path / "evil.pt")
    assert not marker.exists()


def test_a_whole_module_saves_and_loads_only_with_weights_only_false(tmp_path):
    model, _ = _trained_mg()
    path = tmp_path / "whole.pt"
    minigrad.save(model, path)
    with pytest.raises(pickle.UnpicklingError, match="(?s)Weights only load failed.*GLOBAL minigrad.nn"):
        minigrad.load(path)
    back = minigrad.load(path, weights_only=False)
    assert isinstance(back, nn.Sequential)
    x = minigrad.randn(2, 4)
    np.testing.assert_array_equal(back(x).detach().numpy(), model(x).detach().numpy())
    assert isinstance(back[0].weight, nn.Parameter) and back[0].weight.requires_grad


def test_weights_only_false_reads_torch_state_dicts_as_minigrad_tensors(tmp_path):
    torch.save({"w": torch.ones(2, 3).t()}, tmp_path / "t.pt")
    out = minigrad.load(tmp_path / "t.pt", weights_only=False)
    assert isinstance(out["w"], minigrad.Tensor) and out["w"].shape == (3, 2)
    torch.save(torch.nn.Linear(2, 2), tmp_path / "module.pt")
    with pytest.raises(pickle.UnpicklingError, match="minigrad cannot load torch.nn.modules.linear.Linear"):
        minigrad.load(tmp_path / "module.pt", weights_only=False)


# -- map_location, limits, damage, older files -----------------------------------------------


def test_map_location_forms(tmp_path):
    torch.save({"w": torch.arange(3.0)}, tmp_path / "t.pt")
    for where in ("cpu", minigrad.device("cpu"), {"cpu": "cpu"}, None):
        assert minigrad.load(tmp_path / "t.pt", map_location=where)["w"].device.type == "cpu"
    seen = []

    def keep(storage, location):
        seen.append((tuple(storage.shape), location))
        return storage

    out = minigrad.load(tmp_path / "t.pt", map_location=keep)
    assert seen == [((3,), "cpu")] and out["w"].tolist() == [0.0, 1.0, 2.0]
    assert minigrad.load(tmp_path / "t.pt", map_location=lambda s, loc: None)["w"].tolist() == [0.0, 1.0, 2.0]


def test_map_location_to_and_from_the_device(device, tmp_path):
    w = minigrad.arange(6, dtype=minigrad.float32, device=device).reshape(2, 3)
    minigrad.save({"w": w, "row": w[1]}, tmp_path / "gpu.pt")
    back = torch.load(tmp_path / "gpu.pt", map_location="cpu", weights_only=True)
    np.testing.assert_array_equal(back["row"].numpy(), [3, 4, 5])
    out = minigrad.load(tmp_path / "gpu.pt")
    assert out["w"].device.type == "cuda" and out["row"].device.type == "cuda"
    assert minigrad.load(tmp_path / "gpu.pt", map_location={"cuda:0": "cpu"})["w"].device.type == "cpu"


def test_max_bytes_applies_to_torch_files(tmp_path):
    torch.save({"w": torch.zeros(1 << 18)}, tmp_path / "big.pt")  # 1 MiB
    with pytest.raises(RuntimeError, match=r"arrays take 1048576 bytes, more than max_bytes=1000"):
        minigrad.load(tmp_path / "big.pt", max_bytes=1000)
    assert minigrad.load(tmp_path / "big.pt", max_bytes=None)["w"].shape == (1 << 18,)


def _torch_bytes(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def _rezip(data: bytes, edit) -> bytes:
    """The archive again, its data.pkl edited (and its CRC-32 right)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            payload = src.read(info)
            dst.writestr(info.filename, edit(payload) if info.filename.endswith("data.pkl") else payload)
    return out.getvalue()


def test_damaged_torch_files_are_refused_clearly():
    good = _torch_bytes({"w": torch.arange(64.0)})
    info = zipfile.ZipFile(io.BytesIO(good)).getinfo("archive/data/0")
    flipped = bytearray(good)
    start = info.header_offset + 30 + len(info.filename) + int.from_bytes(good[info.header_offset + 28:
                                                                                info.header_offset + 30], "little")
    flipped[start + 10] ^= 0xFF
    with pytest.raises(RuntimeError, match="not a file written by minigrad.save or torch.save.*CRC"):
        minigrad.load(io.BytesIO(bytes(flipped)))
    # A pickle whose tensor claims more elements than its storage holds.
    w = torch.arange(4.0)
    lying = _rezip(_torch_bytes({"w": w}), lambda pkl: pkl.replace(b"K\x04\x85", b"K\x09\x85", 1))  # (4,) -> (9,)
    with pytest.raises(RuntimeError, match="reaches outside its storage's 4 elements"):
        minigrad.load(io.BytesIO(lying))
    with pytest.raises(RuntimeError, match="not a file written by minigrad.save"):
        minigrad.load(io.BytesIO(good[:-30]))


def test_files_of_older_minigrads_still_load(tmp_path):
    w = minigrad.arange(6, dtype=minigrad.float32).reshape(2, 3)
    serialization._save_npz({"w": w, "t": w.t(), "step": 3}, tmp_path / "old.pt")
    with np.load(tmp_path / "old.pt") as npz:
        assert "__minigrad__" in npz.files
    out = minigrad.load(tmp_path / "old.pt")
    assert out["step"] == 3 and out["t"].tolist() == w.t().tolist()


def test_numpy_arrays_round_trip_through_minigrad_and_torch_refuses_them():
    buf = io.BytesIO()
    minigrad.save({"a": np.arange(6).reshape(2, 3), "f": np.float32(1.5)}, buf)
    out = minigrad.load(io.BytesIO(buf.getvalue()))
    np.testing.assert_array_equal(out["a"], np.arange(6).reshape(2, 3))
    assert out["f"] == 1.5
    np.testing.assert_array_equal(torch.load(io.BytesIO(buf.getvalue()), weights_only=False)["a"],
                                  np.arange(6).reshape(2, 3))


_SAVE_KILLED_MIDWAY = """
import os, signal, sys
import minigrad
from minigrad import serialization
def write_then_die(fh, records):
    fh.write(b"half an archive")
    fh.flush()
    os.kill(os.getpid(), signal.SIGKILL)
serialization._write_archive = write_then_die
minigrad.save({"w": minigrad.full((1000,), 2.0)}, sys.argv[1])
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_a_save_killed_midway_keeps_the_previous_checkpoint(tmp_path):
    path = tmp_path / "model.pt"
    minigrad.save({"w": minigrad.ones(4)}, path)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    result = subprocess.run([sys.executable, "-c", _SAVE_KILLED_MIDWAY, str(path)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == -9, result.stderr
    np.testing.assert_array_equal(minigrad.load(path)["w"].numpy(), np.ones(4, np.float32))
    np.testing.assert_array_equal(torch.load(path)["w"].numpy(), np.ones(4, np.float32))
