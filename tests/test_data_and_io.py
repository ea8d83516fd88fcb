"""minigrad.utils.data (datasets, DataLoader) and minigrad.save / minigrad.load."""

from __future__ import annotations

import io
import json
import math
import os
import pickle
import re
import zipfile
from collections import OrderedDict

import numpy as np
import pytest
import torch
from strict_cupy import StrictCuPy

import minigrad
import minigrad.nn as nn
from minigrad import _backend
from minigrad.utils.data import DataLoader, Dataset, Subset, TensorDataset, random_split


def _dataset(n: int = 10) -> TensorDataset:
    x = minigrad.arange(n * 3, dtype=minigrad.float32).reshape(n, 3)
    y = minigrad.arange(n)
    return TensorDataset(x, y)


# -- datasets ---------------------------------------------------------------------------------


def test_tensor_dataset():
    ds = _dataset(10)
    assert len(ds) == 10
    x, y = ds[4]
    assert x.numpy().tolist() == [12.0, 13.0, 14.0] and y.item() == 4
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        TensorDataset(minigrad.zeros(3, 2), minigrad.zeros(4))
    with pytest.raises(NotImplementedError):
        Dataset()[0]


def test_subset_and_random_split_partition_the_dataset():
    ds = _dataset(10)
    sub = Subset(ds, [7, 2])
    assert len(sub) == 2 and sub[0][1].item() == 7
    minigrad.manual_seed(0)
    parts = random_split(ds, [0.7, 0.3])
    assert [len(p) for p in parts] == [7, 3]
    labels = sorted(int(p[i][1].item()) for p in parts for i in range(len(p)))
    assert labels == list(range(10))
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(ds, [3, 3])


# -- DataLoader -------------------------------------------------------------------------------


@pytest.mark.parametrize("n,batch_size,drop_last", [(10, 3, False), (10, 3, True), (10, 5, False), (10, 20, False),
                                                    (10, 20, True)])
def test_batch_shapes_and_len_match_torch(n, batch_size, drop_last):
    loader = DataLoader(_dataset(n), batch_size=batch_size, drop_last=drop_last)
    ref = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.zeros(n, 3), torch.zeros(n)),
                                      batch_size=batch_size, drop_last=drop_last)
    batches = list(loader)
    assert len(loader) == len(ref) == len(batches)
    assert [tuple(x.shape) for x, _ in batches] == [tuple(x.shape) for x, _ in ref]
    labels = [int(v) for _, y in batches for v in y.numpy()]
    assert labels == list(range(len(labels)))  # in order without shuffle


def test_batches_hold_the_right_rows():
    ds = _dataset(7)
    for x, y in DataLoader(ds, batch_size=4, shuffle=True):
        assert isinstance(x, minigrad.Tensor) and x.dtype == minigrad.float32 and y.dtype == minigrad.int64
        np.testing.assert_array_equal(x.numpy(), ds.tensors[0].numpy()[y.numpy()])


def test_shuffle_covers_every_index_once_and_is_reproducible():
    loader = DataLoader(_dataset(50), batch_size=8, shuffle=True)
    minigrad.manual_seed(7)
    first = np.concatenate([y.numpy() for _, y in loader])
    second = np.concatenate([y.numpy() for _, y in loader])
    assert sorted(first.tolist()) == list(range(50)) and sorted(second.tolist()) == list(range(50))
    assert first.tolist() != list(range(50)) and first.tolist() != second.tolist()  # a new order each pass
    minigrad.manual_seed(7)
    assert np.concatenate([y.numpy() for _, y in loader]).tolist() == first.tolist()


def test_drop_last_with_shuffle_drops_a_partial_batch():
    loader = DataLoader(_dataset(10), batch_size=4, shuffle=True, drop_last=True)
    batches = list(loader)
    assert len(batches) == len(loader) == 2 and all(len(y) == 4 for _, y in batches)
    assert len(set(np.concatenate([y.numpy() for _, y in batches]).tolist())) == 8


class Squares(Dataset):
    """A map-style dataset of mixed samples, collated element-wise."""

    def __len__(self) -> int:
        return 5

    def __getitem__(self, i: int):
        return {"x": minigrad.full((2,), float(i)), "label": i, "weight": i / 2, "name": f"s{i}"}


def test_generic_dataset_collation_matches_torch():
    batch = next(iter(DataLoader(Squares(), batch_size=3)))
    ref = torch.utils.data.default_collate([{"x": torch.full((2,), float(i)), "label": i, "weight": i / 2,
                                             "name": f"s{i}"} for i in range(3)])
    assert batch["x"].numpy().tolist() == ref["x"].tolist()
    assert batch["label"].dtype == minigrad.int64 and batch["label"].numpy().tolist() == ref["label"].tolist()
    assert batch["weight"].dtype == minigrad.float64 and ref["weight"].dtype == torch.float64
    assert batch["name"] == ref["name"] == ["s0", "s1", "s2"]
    tuples = list(DataLoader([(minigrad.ones(2), 1)] * 3, batch_size=2))
    assert [tuple(b[0].shape) for b in tuples] == [(2, 2), (1, 2)]
    assert list(DataLoader(_dataset(3), batch_size=2, collate_fn=len)) == [2, 1]
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        DataLoader(_dataset(3), batch_size=0)


def test_loader_on_device(cuda):
    x = minigrad.randn(6, 2, device="cuda")
    y = minigrad.arange(6, device="cuda")
    batches = list(DataLoader(TensorDataset(x, y), batch_size=4, shuffle=True))
    assert all(b.device.type == "cuda" for batch in batches for b in batch)
    assert sorted(np.concatenate([_backend.to_host(yb._data) for _, yb in batches]).tolist()) == list(range(6))


def test_training_loop_sees_every_sample_once_per_epoch():
    minigrad.manual_seed(0)
    model = nn.Linear(3, 1)
    seen = []
    for x, y in DataLoader(_dataset(11), batch_size=4, shuffle=True):
        loss = nn.functional.mse_loss(model(x).squeeze(1), y.float())
        loss.backward()
        seen += y.numpy().tolist()
    assert sorted(seen) == list(range(11)) and model.weight.grad is not None


# -- save / load ------------------------------------------------------------------------------


def _model() -> nn.Sequential:
    return nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))


def test_state_dict_round_trip_through_a_path(tmp_path):
    model = _model()
    path = tmp_path / "model.pt"
    minigrad.save(model.state_dict(), path)
    assert os.listdir(tmp_path) == ["model.pt"]  # written under the given name, no ".npz" appended
    loaded = minigrad.load(str(path))
    assert isinstance(loaded, OrderedDict) and list(loaded) == list(model.state_dict())
    for k, v in model.state_dict().items():
        assert loaded[k].dtype == v.dtype and not loaded[k].requires_grad
        np.testing.assert_array_equal(loaded[k].numpy(), v.numpy())
    fresh = _model()
    fresh.load_state_dict(loaded)
    x = minigrad.randn(5, 4)
    np.testing.assert_array_equal(fresh(x).detach().numpy(), model(x).detach().numpy())
    with minigrad.no_grad():
        model[0].weight.add_(1)
    assert not np.array_equal(loaded["0.weight"].numpy(), model[0].weight.detach().numpy())  # a snapshot


def test_nested_structure_round_trip_through_a_file_object():
    w = minigrad.randn(3, requires_grad=True)
    step = minigrad.tensor(4.0)
    obj = {
        "state": {0: {"step": step, "momentum_buffer": w.detach() * 2}, 1: {"step": step}},
        "param_groups": [{"lr": 0.01, "betas": (0.9, 0.999), "eps": 1e-8, "nesterov": False, "foreach": None,
                          "params": [0, 1], "name": "group A", "inf": math.inf}],
        "weights": w,
        "param": nn.Parameter(minigrad.ones(2)),
        "epoch": 3,
        "dtype": minigrad.float16,
        "counts": minigrad.tensor([1, 2], dtype=minigrad.int32),
        "mask": minigrad.tensor([True, False]),
        "half": minigrad.ones(2, dtype=minigrad.float16),
        "array": np.arange(3),
        (1, "tuple key"): "value",
    }
    buf = io.BytesIO()
    minigrad.save(obj, buf)
    buf.seek(0)
    out = minigrad.load(buf)
    assert set(out) == set(obj)
    assert out["param_groups"] == obj["param_groups"]
    assert isinstance(out["param_groups"][0]["betas"], tuple)
    assert out["state"][0]["step"] is out["state"][1]["step"]  # one tensor stored twice stays one object
    assert out["state"][0]["step"].item() == 4.0
    np.testing.assert_array_equal(out["state"][0]["momentum_buffer"].numpy(), w.detach().numpy() * 2)
    assert out["weights"].requires_grad and out["weights"].is_leaf
    assert isinstance(out["param"], nn.Parameter) and out["param"].requires_grad
    assert out["epoch"] == 3 and out["dtype"] is minigrad.float16 and out[(1, "tuple key")] == "value"
    assert out["counts"].dtype == minigrad.int32 and out["mask"].dtype == minigrad.bool
    assert out["half"].dtype == minigrad.float16
    np.testing.assert_array_equal(out["array"], np.arange(3))


def _loaded(load, data: bytes, **kwargs):
    return load(io.BytesIO(data), **kwargs)


def _weights_only_refusal(load, data: bytes) -> str:
    """The global that ``load(weights_only=True)`` names when it refuses the file (a builtin without its
    module: torch says ``object``, minigrad ``__builtin__.object``, as protocol 2 pickles name it)."""
    with pytest.raises(pickle.UnpicklingError) as info:
        _loaded(load, data, weights_only=True)
    assert str(info.value).startswith("Weights only load failed.")
    found = re.search(r"Unsupported global: GLOBAL (\S+) was not an allowed global by default\.", str(info.value))
    assert found, str(info.value)
    return re.sub(r"\A(__builtin__|builtins)\.", "", found.group(1))


def test_save_stores_what_torch_save_stores_and_weights_only_refuses_the_rest():
    def saved(save, obj) -> bytes:
        buf = io.BytesIO()
        save(obj, buf)
        return buf.getvalue()

    # What pickle cannot store at all fails both saves alike.
    for save, t in ((minigrad.save, minigrad.ones(2)), (torch.save, torch.ones(2))):
        with pytest.raises(TypeError, match="^cannot pickle 'generator' object$"):
            save({"w": t, "bad": (x for x in ())}, io.BytesIO())
    # Any other object saves, as with torch.save; weights_only loading (the default of both) refuses it,
    # naming the global, and weights_only=False reads it back.
    ours, theirs = saved(minigrad.save, {"x": object()}), saved(torch.save, {"x": object()})
    for data in (ours, theirs):
        assert _weights_only_refusal(torch.load, data) == _weights_only_refusal(minigrad.load, data) == "object"
        for load in (torch.load, minigrad.load):
            back = _loaded(load, data, weights_only=False)
            assert list(back) == ["x"] and type(back["x"]) is object
    # A whole module: torch.save stores a torch module, minigrad.save a minigrad one; both libraries refuse
    # either file with weights_only, and minigrad reads its own back with weights_only=False.
    model = _model()
    ours, theirs = saved(minigrad.save, model), saved(torch.save, torch.nn.Linear(4, 3))
    assert _weights_only_refusal(torch.load, ours) == _weights_only_refusal(minigrad.load, ours) == \
        "minigrad.nn.container.Sequential"
    assert _weights_only_refusal(torch.load, theirs) == _weights_only_refusal(minigrad.load, theirs) == \
        "torch.nn.modules.linear.Linear"
    assert isinstance(_loaded(torch.load, theirs, weights_only=False), torch.nn.Linear)
    back = _loaded(minigrad.load, ours, weights_only=False)
    assert isinstance(back, nn.Sequential) and back is not model
    x = minigrad.randn(2, 4)
    np.testing.assert_array_equal(back(x).detach().numpy(), model(x).detach().numpy())


def test_device_round_trip_and_map_location(cuda, tmp_path):
    model = _model().to("cuda")
    path = tmp_path / "gpu.pt"
    minigrad.save(model.state_dict(), path)
    # Stored as torch stores a CUDA tensor: host bytes, the location "cuda:0"; torch maps them to its CPU.
    on_torch_cpu = torch.load(path, map_location="cpu", weights_only=True)
    assert list(on_torch_cpu) == list(model.state_dict())
    for k, v in model.state_dict().items():
        assert on_torch_cpu[k].device.type == "cpu"
        np.testing.assert_array_equal(on_torch_cpu[k].numpy(), _backend.to_host(v._data))
    with pytest.raises(RuntimeError, match="Attempting to deserialize object on a CUDA device"):
        torch.load(path, weights_only=True)  # this torch has no CUDA: the file says cuda:0
    with zipfile.ZipFile(path) as archive:
        pickled = archive.read("gpu/data.pkl")
    assert b"cuda:0" in pickled and b"cpu" not in pickled  # the storages' location
    back = minigrad.load(path)
    assert all(v.device.type == "cuda" for v in back.values())
    on_cpu = minigrad.load(path, map_location="cpu")
    assert all(v.device.type == "cpu" for v in on_cpu.values())
    mapped = minigrad.load(path, map_location={"cuda:0": "cpu"})
    assert all(v.device.type == "cpu" for v in mapped.values())
    cpu_model = _model()
    cpu_model.load_state_dict(back)  # values cross devices into the existing parameters
    np.testing.assert_array_equal(cpu_model[0].weight.detach().numpy(), on_cpu["0.weight"].numpy())
    minigrad.save({"w": minigrad.ones(2)}, tmp_path / "cpu.pt")
    assert minigrad.load(tmp_path / "cpu.pt", map_location=minigrad.device("cuda"))["w"].device.type == "cuda"


def test_cuda_checkpoint_without_cuda_asks_for_map_location(tmp_path, monkeypatch):
    monkeypatch.setattr(_backend, "_cupy", StrictCuPy())
    monkeypatch.setattr(_backend, "_gpu_rngs", {})
    minigrad.save({"w": minigrad.ones(2, device="cuda")}, tmp_path / "gpu.pt")
    monkeypatch.setattr(_backend, "_cupy", None)
    monkeypatch.setattr(_backend, "_cupy_error", "no GPU in this test")
    with pytest.raises(RuntimeError, match="map_location='cpu'"):
        minigrad.load(tmp_path / "gpu.pt")
    assert minigrad.load(tmp_path / "gpu.pt", map_location="cpu")["w"].device.type == "cpu"


class Payload:
    """Unpickling this object would run code: it must never happen."""

    ran = False

    def __reduce__(self):
        return (Payload._run, ())

    @staticmethod
    def _run():
        Payload.ran = True
        return "pwned"


def test_a_pickled_object_array_is_never_loaded(tmp_path):
    path = tmp_path / "evil.pt"
    # An older minigrad's .npz: a valid header pointing at an entry that holds a pickled object array.
    with open(path, "wb") as fh:
        np.savez(fh, __minigrad__=np.array(json.dumps({"format": "minigrad.save", "version": 1, "object": {
            "type": "dict", "items": [["w", {"type": "tensor", "name": "t0", "device": "cpu", "requires_grad": False,
                                            "parameter": False}]]}})), t0=np.array([Payload()], dtype=object))
    with pytest.raises(RuntimeError, match="not a valid minigrad checkpoint.*holds Python objects"):
        minigrad.load(path)
    # The whole file as a pickle.
    pickled = io.BytesIO(pickle.dumps({"w": Payload()}))
    with pytest.raises(RuntimeError, match="pickled data, which minigrad never loads"):
        minigrad.load(pickled)
    # A torch checkpoint (a zip holding a pickle) loads, but a global it names is resolved only when torch's
    # weights_only allows it: the payload's is refused, in minigrad as in torch, and nothing runs.
    torch_file = io.BytesIO()
    torch.save({"w": torch.ones(2), "evil": Payload()}, torch_file)
    # (Protocol 2 pickles the staticmethod as getattr(Payload, "_run"): getattr is the first global refused.)
    assert _weights_only_refusal(torch.load, torch_file.getvalue()) == "getattr"
    assert _weights_only_refusal(minigrad.load, torch_file.getvalue()) == "getattr"
    assert not Payload.ran
    # The same pickle in an archive minigrad.save wrote (its data.pkl swapped for the hostile one).
    good, hostile = io.BytesIO(), io.BytesIO()
    minigrad.save({"w": minigrad.ones(2)}, good)
    torch_file.seek(0)
    with zipfile.ZipFile(torch_file) as src:
        evil_pickle = src.read("archive/data.pkl")
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(hostile, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, evil_pickle if info.filename.endswith("/data.pkl") else src.read(info))
    assert _weights_only_refusal(minigrad.load, hostile.getvalue()) == "getattr"
    assert not Payload.ran
    # Once is enough to see that it would have run: weights_only=False is Python's pickle, as in torch.
    torch_file.seek(0)
    minigrad.load(torch_file, weights_only=False)
    assert Payload.ran
    Payload.ran = False


@pytest.mark.parametrize("content", [b"", b"garbage, not an archive", b"PK\x03\x04 truncated zip"])
def test_garbage_raises_a_clear_error(tmp_path, content):
    path = tmp_path / "bad.pt"
    path.write_bytes(content)
    with pytest.raises(RuntimeError, match="not a file written by minigrad.save"):
        minigrad.load(path)


def test_other_npz_files_are_refused(tmp_path):
    plain = tmp_path / "plain.npz"
    np.savez(plain, a=np.ones(2))
    with pytest.raises(RuntimeError, match="no __minigrad__ entry"):
        minigrad.load(plain)
    forged = tmp_path / "forged.npz"
    np.savez(forged, __minigrad__=np.array('{"format": "something else"}'))
    with pytest.raises(RuntimeError, match="not a valid minigrad checkpoint"):
        minigrad.load(forged)
    with pytest.raises(FileNotFoundError):
        minigrad.load(tmp_path / "missing.pt")
