"""The same code on another device: a strict CuPy stand-in on every machine, real CuPy where a GPU exists.

``device`` is parametrised over ``strict`` (tests/strict_cupy.py: arrays that refuse to mix
with host arrays, so a stray NumPy call on device data fails here in CI) and ``cuda``
(real CuPy on a real GPU, marked ``cuda`` and skipped with a reason elsewhere). Both are
reached through minigrad's device name "cuda".
"""

from __future__ import annotations

import numpy as np
import pytest
from strict_cupy import StrictCuPy

import minigrad
from minigrad import _backend


def host(t: minigrad.Tensor) -> np.ndarray:
    return _backend.to_host(t.detach()._data)


def pair(rng: np.random.Generator, shape: tuple, device: str) -> tuple:
    a = rng.standard_normal(shape)
    return (minigrad.tensor(a, dtype=minigrad.float64, requires_grad=True),
            minigrad.tensor(a, dtype=minigrad.float64, device=device, requires_grad=True))


OPS = {
    "add_broadcast": (lambda a, b: a + b, [(3, 1, 4), (2, 4)]),
    "sub_mul_div": (lambda a, b: (a - b) * a / (b * b + 1), [(3, 4), (4,)]),
    "pow_exp_log": (lambda a: (a.abs() + 0.5).log().exp() ** 2.5, [(5,)]),
    "tanh_sigmoid_relu": (lambda a: a.tanh() + a.sigmoid() * a.relu(), [(4, 3)]),
    "sqrt_clamp": (lambda a: a.abs().sqrt().clamp(0.2, 1.1), [(6,)]),
    "max_min_dim": (lambda a: a.max(dim=1).values + a.min(dim=0, keepdim=True).values.sum(), [(3, 5)]),
    "max_all": (lambda a: a.max() * a.min(), [(3, 5)]),
    "maximum_where": (lambda a, b: minigrad.where(a > b, minigrad.maximum(a, b), minigrad.minimum(a, b)),
                      [(4, 3), (4, 3)]),
    "sum_mean_dims": (lambda a: a.sum(dim=(0, 2)) * a.mean(dim=-1).sum(), [(2, 3, 4)]),
    "matmul": (lambda a, b: a @ b, [(2, 3, 4), (4, 5)]),
    "matvec": (lambda a, b: a @ b, [(3, 4), (4,)]),
    "linear": (lambda x, w, b: minigrad.ops.linear(x, w, b), [(5, 3), (4, 3), (4,)]),
    "shape_ops": (lambda a: a.reshape(4, 6).T.permute(1, 0).unsqueeze(0).squeeze(0).flatten(), [(2, 3, 4)]),
    "cat_stack": (lambda a, b: minigrad.cat([a, b], 0).sum(0) + minigrad.stack([a, b], 1).sum((0, 1)),
                  [(2, 3), (2, 3)]),
    "softmax": (lambda a: a.softmax(1) * a.log_softmax(0), [(3, 4)]),
    "index_repeat": (lambda a: a[[0, 0, 2], 1:] * 2, [(3, 4)]),
    "index_tensor": (lambda a: a[minigrad.tensor([1, 1, 0], device=a.device)], [(3, 4)]),
    "bool_mask": (lambda a: a[a > 0].sum(), [(3, 4)]),
    "sin_cos": (lambda a: a.sin() * a.cos(), [(4,)]),
}


@pytest.mark.parametrize("name", list(OPS))
def test_op_and_gradients_equal_cpu(name, device):
    fn, shapes = OPS[name]
    rng = np.random.default_rng(0)
    cpu_in, dev_in = zip(*(pair(rng, s, device) for s in shapes))
    out_cpu, out_dev = fn(*cpu_in), fn(*dev_in)
    assert out_dev.device == minigrad.device("cuda")
    np.testing.assert_allclose(host(out_dev), host(out_cpu), rtol=1e-12, atol=1e-14)
    seed = rng.standard_normal(out_cpu.shape)
    out_cpu.backward(minigrad.tensor(seed, dtype=minigrad.float64))
    out_dev.backward(minigrad.tensor(seed, dtype=minigrad.float64, device=device))
    for c, d in zip(cpu_in, dev_in):
        assert d.grad.device == minigrad.device("cuda")
        np.testing.assert_allclose(host(d.grad), host(c.grad), rtol=1e-12, atol=1e-14)


def test_factories_take_device(device):
    for t in (minigrad.zeros(2, 3, device=device), minigrad.ones(2, device=device), minigrad.randn(3, device=device),
              minigrad.rand(3, device=device), minigrad.full((2,), 1.5, device=device),
              minigrad.arange(4, device=device), minigrad.linspace(0, 1, 5, device=device),
              minigrad.empty(2, device=device), minigrad.tensor([1.0, 2.0], device=device),
              minigrad.zeros_like(minigrad.ones(2), device=device), minigrad.eye(2, device=device)):
        assert t.device == minigrad.device("cuda:0")
        assert str(t.device) == "cuda:0"


def test_to_cuda_cpu_round_trip_and_gradient_flows_back(device):
    a = minigrad.tensor([1.0, -2.0, 3.0], requires_grad=True)
    b = a.cuda()
    assert b.device.type == "cuda" and b.grad_fn is not None
    (b * b).sum().backward()
    assert a.grad.device.type == "cpu"
    np.testing.assert_array_equal(a.grad.numpy(), [2.0, -4.0, 6.0])
    assert a.to(device).cpu().device == "cpu"
    assert a.to("cuda", minigrad.float64).dtype == minigrad.float64


def test_numpy_of_a_device_tensor_raises_like_torch(device):
    t = minigrad.ones(2, device=device)
    with pytest.raises(TypeError, match="can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu()"):
        t.numpy()
    np.testing.assert_array_equal(t.cpu().numpy(), [1.0, 1.0])
    assert t.tolist() == [1.0, 1.0]
    assert "device='cuda:0'" in repr(t)


def test_mixing_devices_raises_torch_error(device):
    a = minigrad.ones(3)
    b = minigrad.ones(3, device=device)
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device, but found at least two "
                                           "devices, cpu and cuda:0!"):
        a + b
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        b.add_(a)


def test_manual_seed_seeds_the_device_generator(device):
    minigrad.manual_seed(3)
    first = host(minigrad.randn(4, device=device))
    minigrad.manual_seed(3)
    np.testing.assert_array_equal(host(minigrad.randn(4, device=device)), first)


def test_to_cuda_without_a_gpu_says_what_is_missing(monkeypatch):
    monkeypatch.setattr(_backend, "_cupy", None)
    monkeypatch.setattr(_backend, "_cupy_error", "CuPy is not installed (pip install -e \".[cuda]\" in the checkout)")
    with pytest.raises(RuntimeError, match=r'CuPy is not installed \(pip install -e "\.\[cuda\]"'):
        minigrad.ones(2).cuda()
    assert minigrad.cuda.is_available() is False
    assert minigrad.cuda.device_count() == 0


def test_strict_stand_in_catches_host_arrays_mixed_with_device_data(monkeypatch):
    """The guard itself: without it, the tests above could not fail on a stray NumPy call."""
    monkeypatch.setattr(_backend, "_cupy", StrictCuPy())
    t = minigrad.ones(3, device="cuda")
    with pytest.raises(TypeError, match="host \\(NumPy\\) array was mixed with a device array"):
        t._data + np.ones(3)
    with pytest.raises(TypeError):
        np.concatenate([t._data, np.ones(3)])


# -- nn and optim on the device -------------------------------------------------------------------

OPTIMIZERS = {
    "sgd_nesterov": lambda p: minigrad.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
    "sgd_dampening": lambda p: minigrad.optim.SGD(p, lr=0.05, momentum=0.9, dampening=0.3),
    "rprop": lambda p: minigrad.optim.Rprop(p, lr=0.01),
    "rprop_packed": lambda p: minigrad.optim.Rprop(p, lr=0.01, packed_signs=True),
    "adagrad": lambda p: minigrad.optim.Adagrad(p, lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1),
    "rmsprop": lambda p: minigrad.optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True),
    "adam_amsgrad": lambda p: minigrad.optim.Adam(p, lr=0.01, amsgrad=True, weight_decay=1e-3),
    "adamw": lambda p: minigrad.optim.AdamW(p, lr=0.01),
    "nadam": lambda p: minigrad.optim.NAdam(p, lr=0.01, decoupled_weight_decay=True, weight_decay=1e-2),
    "adadelta": lambda p: minigrad.optim.Adadelta(p, lr=0.5, weight_decay=1e-3),
}


def _mlp(seed: int = 0) -> minigrad.nn.Module:
    minigrad.manual_seed(seed)
    nn = minigrad.nn
    return nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 4), nn.Tanh(), nn.Linear(4, 2)).double()


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_optimizer_on_the_device_equals_cpu_for_50_steps(name, device, float64_default):
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((16, 5)), rng.standard_normal((16, 2))
    cpu_model, dev_model = _mlp(), _mlp().to(device)
    cpu_opt, dev_opt = OPTIMIZERS[name](cpu_model.parameters()), OPTIMIZERS[name](dev_model.parameters())
    data = {"cpu": (minigrad.tensor(x), minigrad.tensor(y)),
            "dev": (minigrad.tensor(x, device=device), minigrad.tensor(y, device=device))}
    loss_fn = minigrad.nn.MSELoss()
    for _ in range(50):
        for model, opt, (xb, yb) in ((cpu_model, cpu_opt, data["cpu"]), (dev_model, dev_opt, data["dev"])):
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            opt.step()
        for p_cpu, p_dev in zip(cpu_model.parameters(), dev_model.parameters()):
            assert p_dev.device.type == "cuda"
            np.testing.assert_allclose(host(p_dev), host(p_cpu), rtol=1e-9, atol=1e-12)
    for state in dev_opt.state.values():
        for key, value in state.items():
            if isinstance(value, minigrad.Tensor) and value.dim() > 0:
                assert value.device.type == "cuda", key  # full-size state lives with its parameter


def test_module_to_moves_parameters_in_place_and_an_earlier_optimizer_keeps_working(device):
    model = _mlp()
    params = list(model.parameters())
    opt = minigrad.optim.Adam(model.parameters(), lr=0.01)
    assert model.to(device) is model
    assert all(a is b for a, b in zip(params, model.parameters()))  # the same Parameter objects
    assert all(p.device.type == "cuda" for p in model.parameters())
    x = minigrad.randn(4, 5, device=device, dtype=minigrad.float64)
    before = [host(p).copy() for p in params]
    model(x).sum().backward()
    opt.step()
    assert all(not np.array_equal(b, host(p)) for b, p in zip(before, params))
    assert all(v.device.type == "cuda" for s in opt.state.values() for k, v in s.items() if k != "step")
    model.cpu()
    assert all(p.device.type == "cpu" for p in model.parameters())


def test_optimizer_load_state_dict_moves_state_to_each_parameter_device(device):
    model = _mlp()
    opt = minigrad.optim.Adam(model.parameters(), lr=0.01)
    model(minigrad.randn(3, 5, dtype=minigrad.float64)).sum().backward()
    opt.step()
    saved = opt.state_dict()
    dev_model = _mlp().to(device)
    dev_opt = minigrad.optim.Adam(dev_model.parameters(), lr=0.01)
    dev_opt.load_state_dict(saved)
    for p in dev_model.parameters():
        assert dev_opt.state[p]["exp_avg"].device.type == "cuda"
        assert dev_opt.state[p]["exp_avg_sq"].device.type == "cuda"


def test_a_step_whose_state_is_on_another_device_raises_and_changes_nothing(device):
    model = _mlp()
    opt = minigrad.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(minigrad.randn(3, 5, dtype=minigrad.float64)).sum().backward()
    opt.step()  # momentum buffers now exist on the CPU
    model.to(device)  # parameters move; the optimizer's state does not follow by itself
    model.zero_grad()
    model(minigrad.randn(3, 5, dtype=minigrad.float64, device=device)).sum().backward()
    before = [host(p).copy() for p in model.parameters()]
    with pytest.raises(RuntimeError, match="'momentum_buffer' of parameter 0 of group 0 is on cpu but the "
                                           "parameter is on cuda:0"):
        opt.step()
    for b, p in zip(before, model.parameters()):
        np.testing.assert_array_equal(host(p), b)


def test_save_stores_host_copies_and_load_maps_them(device, tmp_path):
    import zipfile

    import torch

    model = _mlp().to(device)
    path = tmp_path / "model.pt"
    minigrad.save(model.state_dict(), path)
    with zipfile.ZipFile(path) as archive:  # what is on disk: each tensor's host bytes, one storage record each
        stored = sorted(archive.read(n) for n in archive.namelist() if n.startswith("model/data/"))
    assert stored == sorted(host(t).astype(host(t).dtype.newbyteorder("<")).tobytes()
                            for t in model.state_dict().values())
    on_torch = torch.load(path, map_location="cpu", weights_only=True)  # torch reads them, mapped to its CPU
    for key, t in model.state_dict().items():
        assert str(on_torch[key].dtype) == f"torch.{host(t).dtype}"
        np.testing.assert_array_equal(on_torch[key].numpy(), host(t))
    on_cpu = minigrad.load(path, map_location="cpu")
    assert all(t.device.type == "cpu" for t in on_cpu.values())
    on_dev = minigrad.load(path)  # as torch: back to the device it was saved from
    assert all(t.device.type == "cuda" for t in on_dev.values())
    for key, t in model.state_dict().items():
        np.testing.assert_array_equal(host(on_dev[key]), host(t))


def test_digits_training_on_the_device(device):
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "example_train_digits_dev", Path(__file__).resolve().parent.parent / "examples" / "train_digits.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    result = example.train(epochs=10, device=device, progress=False)
    assert result["test_accuracy"] >= 0.93
