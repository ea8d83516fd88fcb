"""minigrad.nn against torch.nn: layers, Module bookkeeping, state dicts, printing, Dropout, hooks, init."""

from __future__ import annotations

import copy
import math
from collections import OrderedDict

import numpy as np
import pytest
import torch
from conftest import assert_close, to_np, to_torch

import minigrad
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad import _backend


def torch_copy(model: nn.Module, torch_model: torch.nn.Module) -> torch.nn.Module:
    """Give ``torch_model`` the parameter values of ``model`` (same names), in ``model``'s dtype."""
    torch_model.load_state_dict({k: torch.from_numpy(np.array(v.numpy())) for k, v in model.state_dict().items()})
    return torch_model


def mlp(dtype: minigrad.dtype = minigrad.float64) -> nn.Sequential:
    return nn.Sequential(nn.Linear(5, 8, dtype=dtype), nn.Tanh(), nn.Linear(8, 4, dtype=dtype), nn.ReLU(),
                         nn.Linear(4, 2, dtype=dtype))


def torch_mlp() -> torch.nn.Sequential:
    return torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 4), torch.nn.ReLU(),
                               torch.nn.Linear(4, 2)).double()


# -- Linear -----------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(6, 5), (2, 3, 5), (5,)])
def test_linear_forward_backward_match_torch(rng, shape):
    layer = nn.Linear(5, 3, dtype=minigrad.float64)
    ref = torch_copy(layer, torch.nn.Linear(5, 3).double())
    x = minigrad.tensor(rng.standard_normal(shape), requires_grad=True)
    tx = to_torch(x)
    out, tout = layer(x), ref(tx)
    assert_close(out, tout)
    g = rng.standard_normal(tout.shape)
    out.backward(minigrad.tensor(g))
    tout.backward(torch.from_numpy(g))
    assert_close(x.grad, tx.grad)
    assert_close(layer.weight.grad, ref.weight.grad)
    assert_close(layer.bias.grad, ref.bias.grad)


def test_linear_default_init_is_uniform_within_one_over_sqrt_in():
    minigrad.manual_seed(0)
    layer = nn.Linear(400, 50)
    bound = 1 / math.sqrt(400)
    for p in (layer.weight, layer.bias):
        values = p.detach().numpy()
        assert np.abs(values).max() <= bound
        assert np.abs(values).max() > 0.9 * bound  # spread over the whole range, not a constant
    w = layer.weight.detach().numpy()
    assert abs(w.mean()) < 0.05 * bound and abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound  # uniform's std
    assert layer.weight.shape == (50, 400) and layer.weight.dtype == minigrad.float32
    assert layer.weight.is_leaf and layer.weight.requires_grad and isinstance(layer.weight, nn.Parameter)


def test_linear_without_bias():
    layer = nn.Linear(4, 2, bias=False)
    assert layer.bias is None
    assert [n for n, _ in layer.named_parameters()] == ["weight"]
    assert list(layer.state_dict()) == ["weight"]
    assert repr(layer) == repr(torch.nn.Linear(4, 2, bias=False))
    assert sum(p.numel() for p in layer.parameters()) == 8


def test_linear_shape_mismatch_error_names_both_shapes():
    with pytest.raises(RuntimeError) as ours:
        nn.Linear(2, 3)(minigrad.randn(4, 5))
    with pytest.raises(RuntimeError) as theirs:
        torch.nn.Linear(2, 3)(torch.randn(4, 5))
    assert str(ours.value) == str(theirs.value) == "mat1 and mat2 shapes cannot be multiplied (4x5 and 2x3)"


@pytest.mark.parametrize("loss_name", ["mse", "cross_entropy"])
def test_whole_mlp_loss_and_every_gradient_match_torch(rng, loss_name):
    model = mlp()
    ref = torch_copy(model, torch_mlp())
    x = rng.standard_normal((10, 5))
    if loss_name == "mse":
        target = rng.standard_normal((10, 2))
        loss_fn, ref_loss_fn = nn.MSELoss(), torch.nn.MSELoss()
    else:
        target = rng.integers(0, 2, 10)
        loss_fn, ref_loss_fn = nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    loss = loss_fn(model(minigrad.tensor(x)), minigrad.tensor(target))
    ref_loss = ref_loss_fn(ref(torch.from_numpy(x)), torch.from_numpy(target))
    loss.backward()
    ref_loss.backward()
    assert_close(loss, ref_loss)
    ref_params = dict(ref.named_parameters())
    for name, p in model.named_parameters():
        assert_close(p.grad, ref_params[name].grad)


# -- Module bookkeeping -----------------------------------------------------------------------


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(minigrad.ones(1))
        self.body = nn.Sequential(nn.Linear(3, 4), nn.ReLU())
        self.register_buffer("steps", minigrad.zeros(1, dtype=minigrad.int64))
        self.register_buffer("scratch", minigrad.zeros(2), persistent=False)
        self.head = nn.Linear(4, 1)
        self.not_registered = [nn.Linear(1, 1)]  # a plain list hides its modules, as in torch

    def forward(self, x):
        return self.head(self.body(x)) * self.scale


def test_registration_order_and_names():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == ["scale", "body.0.weight", "body.0.bias", "head.weight",
                                                      "head.bias"]
    assert [n for n, _ in net.named_children()] == ["body", "head"]
    assert [n for n, _ in net.named_modules()] == ["", "body", "body.0", "body.1", "head"]
    assert [n for n, _ in net.named_buffers()] == ["steps", "scratch"]
    assert list(net.state_dict()) == ["scale", "steps", "body.0.weight", "body.0.bias", "head.weight", "head.bias"]
    assert [n for n, _ in net.named_parameters(recurse=False)] == ["scale"]
    assert [n for n, _ in net.head.named_parameters(prefix="head")] == ["head.weight", "head.bias"]
    assert net.body[0] is net._modules["body"]._modules["0"]


def test_shared_parameters_and_modules_are_listed_once():
    layer = nn.Linear(2, 2)
    model = nn.Sequential(layer, nn.Tanh(), layer)
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias"]
    assert len(list(model.modules())) == 3
    tied = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    tied[1].weight = tied[0].weight
    assert [n for n, _ in tied.named_parameters()] == ["0.weight", "0.bias", "1.bias"]


def test_setattr_getattr_delattr():
    net = Net()
    with pytest.raises(TypeError, match="cannot assign 'minigrad.Tensor' as parameter 'scale'"):
        net.scale = minigrad.ones(1)
    net.scale = None  # allowed, as in torch: the name stays registered without a value
    assert "scale" not in dict(net.named_parameters()) and net.scale is None
    net.head = nn.Identity()
    assert isinstance(net._modules["head"], nn.Identity)
    with pytest.raises(AttributeError, match="'Net' object has no attribute 'missing'"):
        net.missing
    del net.head
    assert "head" not in net._modules
    net.plain = 3  # not a tensor or module: an ordinary attribute
    assert net.plain == 3 and "plain" not in net._parameters
    with pytest.raises(KeyError, match="attribute 'plain' already exists"):
        net.register_buffer("plain", minigrad.zeros(1))
    with pytest.raises(AttributeError, match="before Module.__init__"):
        class Broken(nn.Module):
            def __init__(self):
                self.w = nn.Parameter(minigrad.ones(1))

        Broken()
    with pytest.raises(TypeError, match="cannot assign 'minigrad.Tensor' object to parameter 'w'"):
        net.register_parameter("w", nn.Parameter(minigrad.ones(1)) * 2)  # an op's result is a plain tensor
    with pytest.raises(TypeError, match=r"is not a Module subclass"):
        net.add_module("x", 3)


def test_forward_must_be_defined():
    with pytest.raises(NotImplementedError, match=r'Module \[Module\] is missing the required "forward" function'):
        nn.Module()(1)


def test_train_eval_propagate_to_every_submodule():
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(), nn.ReLU()))
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model[1].train()
    assert model[1][0].training and not model.training
    model.train()
    assert all(m.training for m in model.modules())
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        model.train("no")


def test_zero_grad():
    model = mlp()
    model(minigrad.randn(3, 5, dtype=minigrad.float64)).sum().backward()
    grads = [p.grad for p in model.parameters()]
    model.zero_grad(set_to_none=False)
    assert all(p.grad is g and not g.numpy().any() for p, g in zip(model.parameters(), grads))
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_to_float64_changes_parameters_in_place():
    model = Net()
    params = list(model.parameters())
    arrays = [p.numpy(force=True).copy() for p in params]
    model(minigrad.randn(2, 3)).sum().backward()
    assert model.to(minigrad.float64) is model
    assert all(a is b for a, b in zip(model.parameters(), params))
    for p, a in zip(model.parameters(), arrays):
        assert p.dtype == minigrad.float64 and p.grad.dtype == minigrad.float64
        np.testing.assert_array_equal(p.detach().numpy(), a)
    assert model.steps.dtype == minigrad.int64  # integer buffers keep their dtype
    assert model.scratch.dtype == minigrad.float64
    # An "optimizer" built before .to() updates the same objects the model uses.
    with minigrad.no_grad():
        for p in params:
            p -= 0.1 * p.grad
    assert_close(model.head.weight, torch.from_numpy(arrays[3] - 0.1 * params[3].grad.numpy()))
    out = model(minigrad.randn(2, 3, dtype=minigrad.float64))
    assert out.dtype == minigrad.float64
    assert model.float().head.weight.dtype == minigrad.float32
    assert model.half().head.weight.dtype == minigrad.float16
    assert model.double().head.weight.dtype == minigrad.float64
    assert model.to(minigrad.zeros(1, dtype=minigrad.float32)).head.weight.dtype == minigrad.float32
    with pytest.raises(TypeError, match="nn.Module.to only accepts floating point"):
        model.to(minigrad.int64)


def test_to_cuda_and_back_in_place(cuda):
    model = mlp()
    params = list(model.parameters())
    model(minigrad.randn(2, 5, dtype=minigrad.float64)).sum().backward()
    assert model.to("cuda") is model
    assert all(a is b for a, b in zip(model.parameters(), params))
    assert all(p.device.type == "cuda" and p.grad.device.type == "cuda" for p in params)
    x = minigrad.randn(3, 5, dtype=minigrad.float64, device="cuda")
    y = model(x)
    assert y.device.type == "cuda"
    model.cpu()
    assert all(p.device.type == "cpu" and p.grad.device.type == "cpu" for p in params)
    model.cuda()
    assert model[0].weight.device == minigrad.device("cuda", 0)
    model.to("cpu", minigrad.float32)
    assert model[0].weight.device.type == "cpu" and model[0].weight.dtype == minigrad.float32


def test_requires_grad_apply_and_deepcopy():
    model = mlp()
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())
    model.requires_grad_()
    seen = []
    model.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "Tanh", "Linear", "ReLU", "Linear", "Sequential"]  # children first, as torch
    model.apply(lambda m: nn.init.zeros_(m.bias) if isinstance(m, nn.Linear) else None)
    assert not model[0].bias.detach().numpy().any()
    clone = copy.deepcopy(model)
    assert isinstance(clone[0].weight, nn.Parameter) and clone[0].weight is not model[0].weight
    with minigrad.no_grad():
        clone[0].weight.fill_(1.0)
    assert not (model[0].weight.detach().numpy() == 1).all()
    assert repr(clone) == repr(model)


def test_parameter():
    data = minigrad.ones(2, 3)
    p = nn.Parameter(data)
    assert p.requires_grad and p.is_leaf and isinstance(p, minigrad.Tensor)
    with minigrad.no_grad():
        p.mul_(2)  # shares memory with the tensor it wraps, as torch's
    assert data.numpy().tolist() == [[2, 2, 2], [2, 2, 2]]
    assert repr(nn.Parameter(minigrad.ones(2))) == "Parameter containing:\ntensor([1., 1.], requires_grad=True)"
    assert repr(nn.Parameter(minigrad.ones(2), requires_grad=False)) == "Parameter containing:\ntensor([1., 1.])"
    assert nn.Parameter().shape == (0,)
    with pytest.raises(RuntimeError, match="only Tensors of floating point"):
        nn.Parameter(minigrad.tensor([1, 2]))
    assert type(p * 2) is minigrad.Tensor  # results of ops are plain tensors


# -- state dict -------------------------------------------------------------------------------


def test_state_dict_shares_storage_and_round_trips(rng):
    model = Net()
    sd = model.state_dict()
    assert isinstance(sd, OrderedDict)
    assert all(not v.requires_grad for v in sd.values())
    with minigrad.no_grad():
        model.head.bias.add_(1.0)
    assert_close(sd["head.bias"], to_torch(model.head.bias.detach()))  # detached views, like torch
    other = Net()
    result = other.load_state_dict(model.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    x = minigrad.tensor(rng.standard_normal((4, 3)), dtype=minigrad.float32)
    np.testing.assert_array_equal(other(x).detach().numpy(), model(x).detach().numpy())
    assert other.head.weight is not model.head.weight  # values copied, objects kept


def test_load_state_dict_casts_tensors_and_refuses_arrays_like_torch():
    model = nn.Linear(2, 2)
    weight = model.weight
    model.load_state_dict({"weight": minigrad.eye(2, dtype=minigrad.float64), "bias": minigrad.tensor([1, 2])})
    assert model.weight is weight and model.weight.dtype == minigrad.float32
    assert model.weight.detach().numpy().tolist() == [[1, 0], [0, 1]]
    assert model.bias.detach().numpy().tolist() == [1, 2]
    for lib in (minigrad, torch):
        with pytest.raises(RuntimeError, match="expected .*Tensor or Tensor-like object from checkpoint"):
            lib.nn.Linear(2, 2).load_state_dict({"weight": np.eye(2), "bias": [1.0, 2.0]})


def _torch_message(torch_model, state):
    with pytest.raises(RuntimeError) as info:
        torch_model.load_state_dict(state)
    return str(info.value).replace("torch.Size", "minigrad.Size")


@pytest.mark.parametrize("change", ["missing", "unexpected", "shape", "all"])
def test_load_state_dict_errors_match_torch_and_change_nothing(change):
    model = nn.Sequential(nn.Linear(9, 4), nn.ReLU(), nn.Linear(4, 2))
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    state = {k: minigrad.zeros(*v.shape) for k, v in model.state_dict().items()}
    torch_state = {k: torch.zeros(*v.shape) for k, v in model.state_dict().items()}
    if change in ("missing", "all"):
        del state["2.bias"], torch_state["2.bias"]
    if change in ("unexpected", "all"):
        state["2.extra"] = state["extra"] = minigrad.zeros(1)
        torch_state["2.extra"] = torch_state["extra"] = torch.zeros(1)
    if change in ("shape", "all"):
        state["0.weight"] = minigrad.zeros(4, 8)
        torch_state["0.weight"] = torch.zeros(4, 8)
    expected = _torch_message(torch.nn.Sequential(torch.nn.Linear(9, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2)),
                              torch_state)
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict(state)
    assert str(info.value) == expected
    if change == "shape":
        assert "size mismatch for 0.weight: copying a param with shape minigrad.Size([4, 8]) from checkpoint, " \
               "the shape in current model is minigrad.Size([4, 9])." in str(info.value)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])  # validated first: nothing was copied


def test_load_state_dict_non_strict_reports_keys():
    model = nn.Sequential(nn.Linear(2, 2))
    result = model.load_state_dict({"0.weight": minigrad.ones(2, 2), "junk": minigrad.ones(1)}, strict=False)
    assert result.missing_keys == ["0.bias"] and result.unexpected_keys == ["junk"]
    assert model[0].weight.detach().numpy().tolist() == [[1, 1], [1, 1]]
    with pytest.raises(RuntimeError, match="size mismatch"):  # shapes are checked even when not strict
        model.load_state_dict({"0.weight": minigrad.ones(3, 2)}, strict=False)
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        model.load_state_dict([1, 2])


# -- printing ---------------------------------------------------------------------------------


def test_repr_matches_torch():
    ours = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Dropout(0.2),
                         nn.Sequential(nn.Linear(8, 4, bias=False), nn.ReLU(inplace=True)),
                         nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2), nn.Sigmoid()]),
                         nn.Softmax(dim=1), nn.LogSoftmax(), nn.Flatten(), nn.Identity(), nn.LeakyReLU(0.2),
                         nn.MSELoss(), nn.CrossEntropyLoss())
    theirs = torch.nn.Sequential(
        torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Dropout(0.2),
        torch.nn.Sequential(torch.nn.Linear(8, 4, bias=False), torch.nn.ReLU(inplace=True)),
        torch.nn.ModuleList([torch.nn.Linear(2, 2), torch.nn.Linear(2, 2), torch.nn.Sigmoid()]),
        torch.nn.Softmax(dim=1), torch.nn.LogSoftmax(), torch.nn.Flatten(), torch.nn.Identity(),
        torch.nn.LeakyReLU(0.2), torch.nn.MSELoss(), torch.nn.CrossEntropyLoss())
    assert repr(ours) == str(theirs)
    assert repr(ours[3:5]) == str(theirs[3:5])
    assert str(nn.Sequential(nn.Linear(5, 8), nn.Tanh())) == \
        "Sequential(\n  (0): Linear(in_features=5, out_features=8, bias=True)\n  (1): Tanh()\n)"
    assert repr(nn.ModuleList()) == "ModuleList()" and repr(nn.Module()) == "Module()"


# -- containers -------------------------------------------------------------------------------


def test_sequential_indexing_and_editing():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    model = nn.Sequential(a, b, c)
    assert len(model) == 3 and list(model) == [a, b, c]
    assert model[0] is a and model[-1] is c and model[-3] is a
    assert list(model[1:]) == [b, c] and list(model[1:]._modules) == ["1", "2"]
    assert list(model[::-1]) == [c, b, a]
    with pytest.raises(IndexError, match="index 3 is out of range"):
        model[3]
    x = minigrad.randn(4, 2)
    np.testing.assert_allclose(to_np(model(x)), to_np(c(b(a(x)))))
    model.append(nn.Sigmoid())
    assert len(model) == 4 and isinstance(model[3], nn.Sigmoid)
    del model[1]
    assert list(model._modules) == ["0", "1", "2"] and model[1] is c
    model[0] = nn.Linear(2, 3)
    assert model[0] is not a
    named = nn.Sequential(OrderedDict([("fc", a), ("act", b)]))
    assert named.fc is a and [n for n, _ in named.named_parameters()] == ["fc.weight", "fc.bias"]
    model.insert(0, nn.Identity())
    assert isinstance(model[0], nn.Identity) and len(model) == 4


def test_module_list():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(layers) == 3 and layers[-1] is layers[2]
    layers.append(nn.ReLU())
    layers.extend([nn.Tanh()])
    layers += [nn.Sigmoid()]
    assert len(layers) == 6
    assert isinstance(layers[1:3], nn.ModuleList) and list(layers[1:3]._modules) == ["0", "1"]

    class Holder(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = layers

    assert len(list(Holder().parameters())) == 6
    del layers[0]
    assert list(layers._modules) == [str(i) for i in range(5)]
    with pytest.raises(TypeError, match="should be called with an iterable"):
        layers.extend(3)
    with pytest.raises(NotImplementedError):
        layers(minigrad.ones(2))


# -- activations and small layers -------------------------------------------------------------


@pytest.mark.parametrize("ours,theirs", [
    (nn.ReLU(), torch.nn.ReLU()), (nn.Tanh(), torch.nn.Tanh()), (nn.Sigmoid(), torch.nn.Sigmoid()),
    (nn.LeakyReLU(0.1), torch.nn.LeakyReLU(0.1)), (nn.Softmax(dim=1), torch.nn.Softmax(dim=1)),
    (nn.LogSoftmax(dim=0), torch.nn.LogSoftmax(dim=0)), (nn.Flatten(), torch.nn.Flatten()),
    (nn.Flatten(0, 1), torch.nn.Flatten(0, 1)), (nn.Identity(3, x=1), torch.nn.Identity(3, x=1)),
])
def test_small_modules_match_torch(rng, ours, theirs):
    data = rng.standard_normal((3, 4, 2))
    data[0, 0, 0] = 0.0  # the kink of ReLU / LeakyReLU
    x = minigrad.tensor(data, requires_grad=True)
    tx = to_torch(x)
    out, tout = ours(x), theirs(tx)
    assert_close(out, tout)
    g = rng.standard_normal(tout.shape)
    out.backward(minigrad.tensor(g))
    tout.backward(torch.from_numpy(g))
    assert_close(x.grad, tx.grad)
    assert repr(ours) == repr(theirs)


def test_relu_and_leaky_relu_kinks_match_torch():
    x = minigrad.tensor([-1.0, 0.0, 2.0], dtype=minigrad.float64, requires_grad=True)
    tx = to_torch(x)
    for ours, theirs in [(F.relu, torch.nn.functional.relu),
                         (lambda t: F.leaky_relu(t, 0.3), lambda t: torch.nn.functional.leaky_relu(t, 0.3))]:
        x.grad, tx.grad = None, None
        ours(x).sum().backward()
        theirs(tx).sum().backward()
        assert_close(x.grad, tx.grad)


def test_relu_inplace():
    t = minigrad.tensor([-1.0, 2.0])
    assert F.relu(t, inplace=True) is t and t.numpy().tolist() == [0.0, 2.0]
    a = minigrad.tensor([-1.0, 0.5, 2.0], requires_grad=True)
    x = a * 3.0
    y = nn.ReLU(inplace=True)(x)
    assert y is x and x.grad_fn.name() == "ReluBackward0"
    (y * y).sum().backward()
    ta = to_torch(a.detach(), requires_grad=True)
    (torch.relu(ta * 3.0) ** 2).sum().backward()
    assert_close(a.grad, ta.grad, atol=1e-6, rtol=1e-6)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        F.relu(a, inplace=True)
    # tanh saves its output for backward: overwriting it in place is refused at backward, as torch does
    for lib in (minigrad, torch):
        b = lib.tensor([-1.0, 0.5, 2.0], requires_grad=True)
        z = lib.nn.ReLU(inplace=True)(b.tanh())
        with pytest.raises(RuntimeError, match="which is output 0 of Tanh, is at version 1; expected version 0"):
            (z * z).sum().backward()


def test_softmax_without_dim_warns_like_torch():
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax has been deprecated"):
        out = nn.Softmax()(minigrad.ones(2, 3))
    assert_close(out, torch.full((2, 3), 1 / 3))


def test_one_hot():
    labels = minigrad.tensor([0, 2, 1])
    assert_close(F.one_hot(labels), torch.nn.functional.one_hot(torch.tensor([0, 2, 1])))
    assert F.one_hot(labels, 4).shape == (3, 4)
    with pytest.raises(RuntimeError, match="smaller than num_classes"):
        F.one_hot(labels, 2)


# -- Dropout ----------------------------------------------------------------------------------


def test_dropout_scales_kept_values_and_zeroes_about_p():
    minigrad.manual_seed(0)
    x = minigrad.rand(100_000, dtype=minigrad.float64) + 0.5  # no zeros in the input
    for p in (0.2, 0.5, 0.75):
        out = nn.Dropout(p)(x).numpy()
        kept = out != 0
        np.testing.assert_allclose(out[kept], x.numpy()[kept] / (1 - p), rtol=1e-15)
        assert abs((~kept).mean() - p) < 0.01  # 4 standard deviations at n = 1e5


def test_dropout_new_mask_each_call_and_reproducible_with_seed():
    x = minigrad.ones(1000)
    d = nn.Dropout()
    minigrad.manual_seed(3)
    first, second = d(x).numpy(), d(x).numpy()
    assert (first != second).any()
    minigrad.manual_seed(3)
    np.testing.assert_array_equal(d(x).numpy(), first)


def test_dropout_eval_is_identity_and_p_edge_cases():
    x = minigrad.randn(5)
    d = nn.Dropout(0.5)
    d.eval()
    assert d(x) is x
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    assert not nn.Dropout(1.0)(x).numpy().any()  # zeros, not NaN
    assert not np.isnan(nn.Dropout(1.0)(x).numpy()).any()
    assert nn.Dropout(0.3).extra_repr() == "p=0.3, inplace=False"
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError, match=f"dropout probability has to be between 0 and 1, but got {p}"):
            nn.Dropout(p)
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
            F.dropout(x, p)


def test_dropout_functional_default_is_training():
    minigrad.manual_seed(1)
    out = F.dropout(minigrad.ones(1000))
    assert set(np.unique(out.numpy())) == {0.0, 2.0}


def test_dropout_backward_uses_the_same_mask_and_saves_only_it():
    x = minigrad.randn(50, 20, dtype=minigrad.float64, requires_grad=True)
    out = F.dropout(x, 0.4)
    saved = out.grad_fn.saved_tensors
    assert len(saved) == 1 and saved[0].dtype == np.bool_ and saved[0].shape == (50, 20)
    keep = saved[0].copy()
    g = np.random.default_rng(0).standard_normal((50, 20))
    out.backward(minigrad.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), g * keep / 0.6, rtol=1e-15)
    np.testing.assert_array_equal(out.detach().numpy() != 0, keep)
    assert minigrad.autograd.gradcheck(lambda t: F.dropout(t, 0.0), (x,))  # p = 0: the identity


def test_dropout_inplace_writes_into_the_input():
    minigrad.manual_seed(0)
    t = minigrad.randn(1000)
    view = t.numpy()
    original = view.copy()
    out = nn.Dropout(p=0.25, inplace=True)(t)
    assert out is t
    kept = original * (view != 0) != 0
    np.testing.assert_allclose(view[kept], original[kept] / 0.75, rtol=1e-6)
    assert 0.2 < (view == 0).mean() < 0.3


def test_dropout_inplace_on_a_graph_node_gives_correct_gradients():
    minigrad.manual_seed(5)
    a = minigrad.randn(200, dtype=minigrad.float64, requires_grad=True)
    x = a * 3.0
    before = x.grad_fn
    out = F.dropout(x, 0.5, inplace=True)
    assert out is x and out.grad_fn is not before
    keep = (out.detach().numpy() != 0).astype(np.float64)
    (out * out).sum().backward()
    expected = 2 * (3 * a.detach().numpy() * keep * 2) * keep * 2 * 3
    np.testing.assert_allclose(a.grad.numpy(), expected, rtol=1e-12)
    leaf = minigrad.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        F.dropout(leaf, 0.5, inplace=True)
    with minigrad.no_grad():
        assert F.dropout(leaf, 0.5, inplace=True) is leaf
    # tanh keeps its output for backward: overwriting it in place is refused at backward, as in torch
    for lib in (minigrad, torch):
        b = lib.randn(5, requires_grad=True)
        y = lib.nn.functional.dropout(b.tanh(), 0.5, inplace=True)
        with pytest.raises(RuntimeError, match="which is output 0 of Tanh, is at version 1; expected version 0"):
            y.sum().backward()


def test_dropout_on_device(cuda):
    minigrad.manual_seed(0)
    x = minigrad.ones(1000, device="cuda", requires_grad=True)
    out = F.dropout(x * 1.0, 0.5)
    assert out.device.type == "cuda"
    out.sum().backward()
    assert set(np.unique(_backend.to_host(x.grad._data))) == {0.0, 2.0}


# -- hooks ------------------------------------------------------------------------------------


def test_forward_hooks_fire_modify_and_remove():
    layer = nn.Linear(2, 2)
    calls = []
    pre = layer.register_forward_pre_hook(lambda m, args: calls.append(("pre", m, args[0].shape)))
    post = layer.register_forward_hook(lambda m, args, out: calls.append(("post", m, out.shape)))
    x = minigrad.randn(3, 2)
    layer(x)
    assert calls == [("pre", layer, (3, 2)), ("post", layer, (3, 2))]
    pre.remove()
    post.remove()
    layer(x)
    assert len(calls) == 2
    with layer.register_forward_pre_hook(lambda m, args: args[0] * 0):  # replaces the input
        np.testing.assert_allclose(to_np(layer(x)), np.broadcast_to(to_np(layer.bias), (3, 2)))
    handle = layer.register_forward_hook(lambda m, args, out: out + 1)  # replaces the output
    np.testing.assert_allclose(to_np(layer(x)), to_np(F.linear(x, layer.weight, layer.bias)) + 1, rtol=1e-6)
    handle.remove()
    order = []
    layer.register_forward_hook(lambda *a: order.append("second"))
    layer.register_forward_hook(lambda *a: order.append("first"), prepend=True)
    layer(x)
    assert order == ["first", "second"]


def test_hooks_on_every_module_see_each_activation():
    model = mlp()
    shapes = {}
    for name, module in model.named_modules():
        module.register_forward_hook(lambda m, args, out, name=name: shapes.__setitem__(name, tuple(out.shape)))
    model(minigrad.randn(7, 5, dtype=minigrad.float64))
    assert shapes == {"": (7, 2), "0": (7, 8), "1": (7, 8), "2": (7, 4), "3": (7, 4), "4": (7, 2)}


# -- init and gradient clipping ---------------------------------------------------------------


def test_init_functions():
    minigrad.manual_seed(0)
    w = minigrad.empty(300, 200, requires_grad=True)
    bound = math.sqrt(6 / 500)
    assert nn.init.xavier_uniform_(w) is w
    assert np.abs(w.detach().numpy()).max() <= bound and np.abs(w.detach().numpy()).max() > 0.95 * bound
    nn.init.kaiming_uniform_(w, nonlinearity="relu")
    bound = math.sqrt(2) * math.sqrt(3 / 200)
    assert np.abs(w.detach().numpy()).max() <= bound and np.abs(w.detach().numpy()).max() > 0.95 * bound
    nn.init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu")
    assert np.abs(w.detach().numpy()).max() <= math.sqrt(6 / 300)
    nn.init.normal_(w, 2.0, 0.5)
    assert abs(w.detach().numpy().mean() - 2) < 0.01 and abs(w.detach().numpy().std() - 0.5) < 0.01
    nn.init.uniform_(w, -3, -2)
    assert -3 <= w.detach().numpy().min() and w.detach().numpy().max() <= -2
    nn.init.constant_(w, 0.25)
    assert (w.detach().numpy() == 0.25).all()
    assert (nn.init.ones_(w).detach().numpy() == 1).all() and not nn.init.zeros_(w).detach().numpy().any()
    assert w.is_leaf and w.grad_fn is None
    for nonlinearity, param in [("linear", None), ("sigmoid", None), ("tanh", None), ("relu", None),
                                ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None)]:
        assert nn.init.calculate_gain(nonlinearity, param) == torch.nn.init.calculate_gain(nonlinearity, param)
    assert nn.init._calculate_fan_in_and_fan_out(minigrad.empty(4, 3, 5)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(4, 3, 5))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        nn.init.xavier_uniform_(minigrad.empty(3))
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        nn.init.calculate_gain("swish")


@pytest.mark.parametrize("norm_type,max_norm", [(2.0, 1.0), (1.0, 0.5), (math.inf, 0.1), (2.0, 1e6)])
def test_clip_grad_norm_matches_torch(rng, norm_type, max_norm):
    model = mlp()
    ref = torch_copy(model, torch_mlp())
    x = rng.standard_normal((6, 5))
    (model(minigrad.tensor(x)) ** 2).sum().backward()
    (ref(torch.from_numpy(x)) ** 2).sum().backward()
    total = nn.utils.clip_grad_norm_(model.parameters(), max_norm, norm_type)
    ref_total = torch.nn.utils.clip_grad_norm_(ref.parameters(), max_norm, norm_type)
    assert_close(total, ref_total)
    for p, q in zip(model.parameters(), ref.parameters()):
        assert_close(p.grad, q.grad)
    assert nn.utils.clip_grad_norm_([minigrad.ones(2, requires_grad=True)], 1.0).item() == 0.0


def test_clip_grad_value():
    p = nn.Parameter(minigrad.zeros(3))
    p.grad = minigrad.tensor([-2.0, 0.5, 3.0])
    nn.utils.clip_grad_value_(p, 1.0)
    assert p.grad.numpy().tolist() == [-1.0, 0.5, 1.0]


def test_functional_helpers_on_device_equal_host(cuda):
    results = {}
    for device in ("cpu", cuda):
        minigrad.manual_seed(0)
        model = mlp().to(device)
        x = minigrad.tensor(np.linspace(-2, 2, 15).reshape(3, 5), device=device)
        (F.leaky_relu(model(x), 0.1) ** 2).sum().backward()
        total = nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        hot = F.one_hot(minigrad.tensor([2, 0], device=device), 3)
        assert total.device.type == device and hot.device.type == device
        results[device] = [_backend.to_host(total._data), _backend.to_host(hot._data)] + \
            [_backend.to_host(p.grad._data) for p in model.parameters()]
    for a, b in zip(results["cpu"], results[cuda]):
        np.testing.assert_allclose(b, a, rtol=1e-12)


def test_replacing_a_layer_or_parameter_keeps_its_place_like_torch():
    # s[0] = new must run new first, not move it to the end; re-assigning an attribute keeps the
    # order of parameters() and state_dict().
    def program(lib):
        lib.manual_seed(0)
        s = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.ReLU(), lib.nn.Linear(3, 1))
        new = lib.nn.Linear(2, 3)
        with lib.no_grad():
            new.weight.copy_(lib.tensor([[1.0, -1.0], [0.5, 0.5], [-2.0, 1.0]]))
            new.bias.copy_(lib.tensor([0.1, 0.2, 0.3]))
            s[2].weight.copy_(lib.tensor([[1.0, 2.0, 3.0]]))
            s[2].bias.copy_(lib.tensor([0.5]))
        s[0] = new
        assert s[0] is new
        enc, dec = lib.nn.Linear(2, 2), lib.nn.Linear(2, 2)
        tied = lib.nn.Module()
        tied.a, tied.b, tied.c = enc, dec, lib.nn.Linear(2, 2)
        tied.a = lib.nn.Linear(2, 2)
        tied.b.weight = tied.c.weight
        out = s(lib.tensor([[1.0, 2.0], [-1.0, 0.5]]))
        return ([name for name, _ in s.named_children()], list(s.state_dict()),
                [name for name, _ in tied.named_children()], list(tied.state_dict()),
                [name for name, _ in tied.b.named_parameters()], out.detach().numpy())

    mine, theirs = program(minigrad), program(torch)
    for a, b in zip(mine[:-1], theirs[:-1]):
        assert a == b
    np.testing.assert_allclose(mine[-1], theirs[-1], rtol=1e-6)
