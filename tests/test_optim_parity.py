"""Every optimizer, with every option, follows torch 2.13's trajectory step by step.

The model is a small MLP, 5-8-4-2 with tanh then ReLU, written with plain tensors so that
both libraries run the same expression. Its initial weights keep every ReLU unit alive on
the batch (a dead unit with L2 weight decay makes the Adam family oscillate around 0 and
double any rounding difference at each step). ``maximize=True`` runs maximize ``-loss``, so
that both runs descend instead of diverging. After copying the initial weights, the
parameters must equal torch's after each of 50 steps: to 1e-9 relative in float64 (torch's
CPU kernels fuse multiply-adds, NumPy rounds each operation, so the last bits may differ),
1e-3 in float32.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

import minigrad

STEPS = 50

# (optimizer, keyword arguments): the defaults, then every non-default option.
CASES = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.3}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.1, "momentum": 0.5, "weight_decay": 0.05}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "maximize": True}),
    ("Rprop", {}),
    ("Rprop", {"lr": 0.02, "etas": (0.3, 1.5)}),
    ("Rprop", {"step_sizes": (1e-3, 0.02)}),
    ("Rprop", {"maximize": True}),
    ("Rprop", {"packed_signs": True}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05}),
    ("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.3}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.05}),
    ("Adagrad", {"lr": 0.1, "eps": 1e-3, "maximize": True}),
    ("RMSprop", {}),
    ("RMSprop", {"momentum": 0.9}),
    ("RMSprop", {"centered": True}),
    ("RMSprop", {"centered": True, "momentum": 0.9}),
    ("RMSprop", {"weight_decay": 0.05}),
    ("RMSprop", {"alpha": 0.9, "maximize": True}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.05}),
    ("Adam", {"lr": 0.01, "maximize": True}),
    ("Adam", {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6, "decoupled_weight_decay": True, "weight_decay": 0.1}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    ("NAdam", {}),
    ("NAdam", {"momentum_decay": 0.05}),
    ("NAdam", {"weight_decay": 0.05}),
    ("NAdam", {"weight_decay": 0.05, "decoupled_weight_decay": True}),
    ("NAdam", {"maximize": True}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5}),
    ("Adadelta", {"rho": 0.8}),
    ("Adadelta", {"weight_decay": 0.05, "maximize": True}),
    ("Adamax", {}),
    ("Adamax", {"lr": 0.01, "weight_decay": 0.05, "maximize": True}),
    ("RAdam", {"lr": 0.01}),
    ("RAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RAdam", {"lr": 0.01, "betas": (0.9, 0.8), "weight_decay": 0.05, "maximize": True}),
    ("ASGD", {}),
    ("ASGD", {"lr": 0.05, "t0": 2, "lambd": 1e-2, "weight_decay": 0.05, "maximize": True}),
]
NAMES = sorted({name for name, _ in CASES})


def case_id(case: tuple) -> str:
    name, kwargs = case
    return name + "".join(f"-{k}={v}" for k, v in kwargs.items())


def initial_arrays(dtype: type = np.float64) -> tuple[list, np.ndarray, np.ndarray]:
    """Weights of a 5-8-4-2 MLP and a batch of 16 on which every ReLU unit is alive."""
    rng = np.random.default_rng(7)
    shapes = [(8, 5), (8,), (4, 8), (4,), (2, 4), (2,)]
    weights = [rng.uniform(-0.6, 0.6, s) for s in shapes]
    weights[3] = np.full(4, 0.8)  # ReLU biases: no unit is dead
    x = rng.standard_normal((16, 5))
    y = rng.standard_normal((16, 2))
    h = np.tanh(x @ weights[0].T + weights[1]) @ weights[2].T + weights[3]
    assert (h > 0).any(axis=0).all(), "a ReLU unit is dead at the start"
    return [w.astype(dtype) for w in weights], x.astype(dtype), y.astype(dtype)


def forward(params: list, x, y, sign: float):
    w1, b1, w2, b2, w3, b3 = params
    h = (x @ w1.T + b1).tanh()
    h = (h @ w2.T + b2).relu()
    out = h @ w3.T + b3
    return ((out - y) ** 2).mean() * sign


def make(lib, params: list, name: str, kwargs: dict):
    if lib is torch:
        kwargs = {k: v for k, v in kwargs.items() if k != "packed_signs"}  # a minigrad option
    return getattr(lib.optim, name)(params, **kwargs)


def trajectory(lib, name: str, kwargs: dict, dtype: type = np.float64, steps: int = STEPS) -> list:
    """The parameters (NumPy copies) after each step."""
    weights, x, y = initial_arrays(dtype)
    params = [lib.tensor(w, requires_grad=True) for w in weights]
    x, y = lib.tensor(x), lib.tensor(y)
    opt = make(lib, params, name, kwargs)
    sign = -1.0 if kwargs.get("maximize") else 1.0
    out = []
    for _ in range(steps):
        opt.zero_grad()
        forward(params, x, y, sign).backward()
        opt.step()
        out.append([p.detach().numpy().copy() for p in params])
    return out


def assert_same_trajectory(ours: list, theirs: list, rtol: float, atol: float) -> None:
    for step, (a, b) in enumerate(zip(ours, theirs), start=1):
        for i, (pa, pb) in enumerate(zip(a, b)):
            np.testing.assert_allclose(pa, pb, rtol=rtol, atol=atol, err_msg=f"step {step}, parameter {i}")


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_float64_trajectory_equals_torch(case, float64_default):
    name, kwargs = case
    ours, theirs = trajectory(minigrad, name, kwargs), trajectory(torch, name, kwargs)
    assert_same_trajectory(ours, theirs, rtol=1e-9, atol=1e-12)
    # The model really moved: the comparison is not between two unchanged copies.
    assert np.abs(ours[-1][0] - initial_arrays()[0][0]).max() > 1e-3


@pytest.mark.parametrize("case", [("SGD", {"lr": 0.1, "momentum": 0.9}), ("Rprop", {}), ("Adagrad", {"lr": 0.1}),
                                  ("RMSprop", {"lr": 0.003, "centered": True, "momentum": 0.5}), ("Adam", {"lr": 0.01}),
                                  ("AdamW", {"lr": 0.01}), ("NAdam", {}), ("Adadelta", {})], ids=case_id)
def test_float32_trajectory_equals_torch(case):
    name, kwargs = case
    ours, theirs = trajectory(minigrad, name, kwargs, np.float32), trajectory(torch, name, kwargs, np.float32)
    assert ours[0][0].dtype == np.float32
    assert_same_trajectory(ours, theirs, rtol=1e-3, atol=1e-6)


def test_float32_default_dtype_gives_float32_scalar_state_like_torch():
    # Float64 parameters under a float32 default: step and mu_product are float32 0-dim tensors,
    # and NAdam's mu_product is rounded to float32 at each step, as torch does.
    ours, theirs = trajectory(minigrad, "NAdam", {}), trajectory(torch, "NAdam", {})
    assert_same_trajectory(ours, theirs, rtol=1e-9, atol=1e-12)
    p = minigrad.tensor([1.0, 2.0], dtype=minigrad.float64, requires_grad=True)
    opt = minigrad.optim.NAdam([p])
    p.grad = minigrad.tensor([0.5, -0.5], dtype=minigrad.float64)
    opt.step()
    for key in ("step", "mu_product"):
        value = opt.state[p][key]
        assert value.dtype == minigrad.float32 and value.shape == () and value.device.type == "cpu"


def test_param_groups_with_different_lr(float64_default):
    def run(lib):
        weights, x, y = initial_arrays()
        params = [lib.tensor(w, requires_grad=True) for w in weights]
        x, y = lib.tensor(x), lib.tensor(y)
        opt = lib.optim.Adam([{"params": params[:2]}, {"params": params[2:4], "lr": 0.05},
                              {"params": params[4:], "lr": 0.002, "amsgrad": True}], lr=0.01)
        for _ in range(20):
            opt.zero_grad()
            forward(params, x, y, 1.0).backward()
            opt.step()
        return [p.detach().numpy() for p in params]

    for a, b in zip(run(minigrad), run(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["SGD", "Adam", "Rprop"])
def test_step_with_closure(name, float64_default):
    def run(lib):
        weights, x, y = initial_arrays()
        params = [lib.tensor(w, requires_grad=True) for w in weights]
        x, y = lib.tensor(x), lib.tensor(y)
        opt = getattr(lib.optim, name)(params, lr=0.01)
        calls = []

        def closure():
            calls.append(lib.is_grad_enabled())
            opt.zero_grad()
            loss = forward(params, x, y, 1.0)
            loss.backward()
            return loss

        losses = []
        with lib.no_grad():  # the closure still runs with grad enabled
            for _ in range(10):
                losses.append(float(opt.step(closure)))
        assert calls == [True] * 10
        return losses, [p.detach().numpy() for p in params]

    (loss_a, params_a), (loss_b, params_b) = run(minigrad), run(torch)
    np.testing.assert_allclose(loss_a, loss_b, rtol=1e-9)
    for a, b in zip(params_a, params_b):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["SGD", "Adam", "NAdam", "Adagrad", "Rprop"])
def test_parameter_without_grad_is_skipped_entirely(name, float64_default):
    # An extra parameter, used in the loss only on odd steps: no state, no decay, no step increment.
    def run(lib):
        weights, x, y = initial_arrays()
        params = [lib.tensor(w, requires_grad=True) for w in weights]
        extra = lib.tensor([0.5, -0.25], requires_grad=True)
        x, y = lib.tensor(x), lib.tensor(y)
        kwargs = {"lr": 0.01} if name != "Rprop" else {}
        if name in ("SGD", "Adam", "NAdam", "Adagrad"):
            kwargs["weight_decay"] = 0.1
        if name == "SGD":
            kwargs["momentum"] = 0.9
        opt = getattr(lib.optim, name)(params + [extra], **kwargs)
        steps = []
        for k in range(12):
            opt.zero_grad()
            loss = forward(params, x, y, 1.0)
            if k % 2:
                loss = loss + (extra * extra).sum()
            loss.backward()
            opt.step()
            st = opt.state[extra]
            steps.append(float(st["step"]) if "step" in st else len(st))
        return [p.detach().numpy().copy() for p in params + [extra]], steps

    (ours, steps_a), (theirs, steps_b) = run(minigrad), run(torch)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    assert steps_a == steps_b
    if name == "Adagrad":
        assert steps_a[-1] == 6.0  # state from __init__, stepped only when there was a gradient


@pytest.mark.parametrize("case", [c for c in CASES if not c[1].get("maximize")], ids=case_id)
def test_state_dict_round_trip_continues_the_same_run(case, float64_default):
    name, kwargs = case
    weights, x, y = initial_arrays()
    x, y = minigrad.tensor(x), minigrad.tensor(y)

    def train(params, opt, steps):
        for _ in range(steps):
            opt.zero_grad()
            forward(params, x, y, 1.0).backward()
            opt.step()

    params = [minigrad.tensor(w, requires_grad=True) for w in weights]
    opt = make(minigrad, params, name, kwargs)
    train(params, opt, 10)
    saved = copy.deepcopy(opt.state_dict())
    saved_params = [p.detach().numpy().copy() for p in params]
    train(params, opt, STEPS - 10)

    # A fresh model and optimizer (other hyperparameters: the saved ones must win) resume the run.
    resumed = [minigrad.tensor(w, requires_grad=True) for w in saved_params]
    fresh_kwargs = {k: v for k, v in kwargs.items() if k not in ("lr",)}
    opt2 = make(minigrad, resumed, name, {**fresh_kwargs, "lr": 0.123})
    opt2.load_state_dict(saved)
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    train(resumed, opt2, STEPS - 10)
    for a, b in zip(resumed, params):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())

    # ... and it is torch's trajectory.
    theirs = trajectory(torch, name, kwargs)[-1]
    for a, b in zip(resumed, theirs):
        np.testing.assert_allclose(a.detach().numpy(), b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("case", [("SGD", {"lr": 0.1}), ("SGD", {"lr": 0.1, "momentum": 0.9}), ("Rprop", {}),
                                  ("Adagrad", {}), ("RMSprop", {"momentum": 0.9, "centered": True}),
                                  ("Adam", {"amsgrad": True}), ("AdamW", {}), ("NAdam", {}), ("Adadelta", {})],
                         ids=case_id)
def test_state_dict_layout_equals_torch(case, float64_default):
    name, kwargs = case

    def state_dict(lib):
        weights, x, y = initial_arrays()
        params = [lib.tensor(w, requires_grad=True) for w in weights]
        opt = getattr(lib.optim, name)([{"params": params[:2]}, {"params": params[2:], "lr": 0.5}], **kwargs)
        forward(params, lib.tensor(x), lib.tensor(y), 1.0).backward()
        opt.step()
        return opt.state_dict()

    ours, theirs = state_dict(minigrad), state_dict(torch)
    assert list(ours) == list(theirs) == ["state", "param_groups"]
    assert [g["params"] for g in ours["param_groups"]] == [[0, 1], [2, 3, 4, 5]]
    for g_ours, g_theirs in zip(ours["param_groups"], theirs["param_groups"]):
        extra = {"packed_signs"} if name == "Rprop" else set()
        assert [k for k in g_ours if k not in extra] == list(g_theirs)
        assert set(g_ours) == set(g_theirs) | extra
        assert {k: v for k, v in g_ours.items() if k not in extra} == g_theirs
    assert list(ours["state"]) == list(theirs["state"])
    for index, st in theirs["state"].items():
        assert list(ours["state"][index]) == list(st)
        for key, value in st.items():
            mine = ours["state"][index][key]
            assert isinstance(mine, minigrad.Tensor)
            assert tuple(mine.shape) == tuple(value.shape)
            assert str(mine.dtype).split(".")[1] == str(value.dtype).split(".")[1]


@pytest.mark.parametrize("breakage", ["group count", "group size", "state shape", "missing entry"])
def test_bad_state_dict_raises_and_changes_nothing(breakage, float64_default):
    weights, x, y = initial_arrays()
    params = [minigrad.tensor(w, requires_grad=True) for w in weights]
    opt = minigrad.optim.Adam([{"params": params[:4]}, {"params": params[4:], "lr": 0.5}], lr=0.01)
    forward(params, minigrad.tensor(x), minigrad.tensor(y), 1.0).backward()
    opt.step()
    good = copy.deepcopy(opt.state_dict())
    bad = copy.deepcopy(good)
    bad["param_groups"][0]["lr"] = 99.0
    if breakage == "group count":
        bad["param_groups"] = bad["param_groups"][:1]
    elif breakage == "group size":
        bad["param_groups"][1]["params"] = bad["param_groups"][1]["params"][:1]
    elif breakage == "state shape":
        bad["state"][5]["exp_avg"] = minigrad.zeros(3)  # parameter 5 has shape (2,)
    else:
        del bad["state"][2]["exp_avg_sq"]

    before_params = [p.detach().numpy().copy() for p in params]
    before_state = {i: {k: v.numpy().copy() for k, v in st.items()} for i, st in opt.state_dict()["state"].items()}
    groups_before = [{k: v for k, v in g.items()} for g in opt.param_groups]
    state_object = opt.state
    with pytest.raises(ValueError):
        opt.load_state_dict(bad)
    assert opt.state is state_object
    assert opt.param_groups[0]["lr"] == 0.01
    assert [set(g) for g in opt.param_groups] == [set(g) for g in groups_before]
    for p, b in zip(params, before_params):
        np.testing.assert_array_equal(p.detach().numpy(), b)
    now = opt.state_dict()["state"]
    for i, st in before_state.items():
        for k, v in st.items():
            np.testing.assert_array_equal(now[i][k].numpy(), v)
    opt.load_state_dict(good)  # and the good one still loads


@pytest.mark.parametrize("name", ["SGD", "Adam", "Rprop"])
def test_torch_group_count_and_size_errors_match(name):
    # The two checks torch makes: same exception type and message.
    def error(lib, keep_groups: int, keep_params: int | None):
        a, b = lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)
        opt = getattr(lib.optim, name)([{"params": [a]}, {"params": [b]}], lr=0.1)
        sd = opt.state_dict()
        sd["param_groups"] = sd["param_groups"][:keep_groups]
        if keep_params is not None:
            sd["param_groups"][0]["params"] = sd["param_groups"][0]["params"][:keep_params]
        with pytest.raises(Exception) as info:
            opt.load_state_dict(sd)
        return type(info.value), str(info.value)

    assert error(minigrad, 1, None) == error(torch, 1, None)
    assert error(minigrad, 2, 0) == error(torch, 2, 0)


@pytest.mark.parametrize("name", NAMES)
def test_lr_changed_between_steps_is_used(name, float64_default):
    # A scheduler changes group["lr"]; each step reads it again (Rprop only at state creation).
    def run(lib):
        weights, x, y = initial_arrays()
        params = [lib.tensor(w, requires_grad=True) for w in weights]
        x, y = lib.tensor(x), lib.tensor(y)
        opt = getattr(lib.optim, name)(params, lr=0.01)
        for k in range(12):
            for group in opt.param_groups:
                group["lr"] = 0.01 * (1 + k % 3)
            opt.zero_grad()
            forward(params, x, y, 1.0).backward()
            opt.step()
        return [p.detach().numpy() for p in params]

    for a, b in zip(run(minigrad), run(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
