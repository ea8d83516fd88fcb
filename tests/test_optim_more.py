"""Adamax, RAdam and ASGD follow torch 2.13 step for step: parameters and every state entry.

The shared tables of ``test_optim_parity`` (``CASES``) and ``test_optim_api`` hold these
optimizers too, for the checks every optimizer gets; this file adds what is particular to them:
the state after every step, RAdam's switch from its momentum-only steps to rectified ones, ASGD's
average after ``t0``, loading a state dict saved by torch, and the memory each docstring states.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from test_optim_parity import case_id, forward, initial_arrays
from test_optim_paths import assert_same
from test_optim_paths import run as paths_run

import minigrad
from minigrad.memory import summary

STEPS = 50
RTOL, ATOL = 1e-9, 1e-12  # the parity tests' float64 tolerance: NumPy rounds each operation, torch fuses some

CASES = [
    ("Adamax", {}),
    ("Adamax", {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-3}),
    ("Adamax", {"lr": 0.01, "weight_decay": 0.05}),
    ("Adamax", {"lr": 0.01, "weight_decay": 0.05, "maximize": True}),
    ("RAdam", {}),
    ("RAdam", {"lr": 0.01, "weight_decay": 0.05}),
    ("RAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True, "maximize": True}),
    ("RAdam", {"lr": 0.01, "betas": (0.8, 0.8), "eps": 1e-4}),  # rectified from step 7
    ("RAdam", {"lr": 0.01, "betas": (0.9, 0.5)}),  # ρ∞ = 3: never rectified
    ("ASGD", {}),
    ("ASGD", {"lr": 0.05, "lambd": 1e-2, "alpha": 0.6, "t0": 10}),
    ("ASGD", {"lr": 0.05, "t0": 3, "weight_decay": 0.05, "maximize": True}),
    ("ASGD", {"lr": 0.05, "t0": 0.5, "lambd": 0.0}),
]


def _numpy(value) -> np.ndarray:
    return np.array(value.detach().numpy() if hasattr(value, "detach") else value)


def history(lib, name: str, kwargs: dict, steps: int = STEPS) -> list:
    """(parameters, state of each parameter) as NumPy copies after each step of the parity MLP."""
    weights, x, y = initial_arrays()
    params = [lib.tensor(w, requires_grad=True) for w in weights]
    x, y = lib.tensor(x), lib.tensor(y)
    opt = getattr(lib.optim, name)(params, **kwargs)
    sign = -1.0 if kwargs.get("maximize") else 1.0
    out = []
    for _ in range(steps):
        opt.zero_grad()
        forward(params, x, y, sign).backward()
        opt.step()
        out.append(([_numpy(p) for p in params], [{k: _numpy(v) for k, v in opt.state[p].items()} for p in params]))
    return out


def max_relative_difference(a: np.ndarray, b: np.ndarray) -> float:
    diff = np.abs(a - b)
    return float(np.max(np.where(diff == 0, 0.0, diff / np.maximum(np.abs(b), 1e-300)), initial=0.0))


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_parameters_and_state_equal_torchs_at_every_step(case, float64_default):
    name, kwargs = case
    ours, theirs = history(minigrad, name, kwargs), history(torch, name, kwargs)
    for step, ((params_a, state_a), (params_b, state_b)) in enumerate(zip(ours, theirs), start=1):
        for i, (a, b) in enumerate(zip(params_a, params_b)):
            np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL, err_msg=f"step {step}, parameter {i}")
        for i, (sa, sb) in enumerate(zip(state_a, state_b)):
            assert list(sa) == list(sb)  # torch's names, in torch's order
            for key in sb:
                assert sa[key].dtype == sb[key].dtype and sa[key].shape == sb[key].shape, key
                np.testing.assert_allclose(sa[key], sb[key], rtol=RTOL, atol=ATOL,
                                           err_msg=f"step {step}, parameter {i}, {key}")
    assert np.abs(ours[-1][0][0] - initial_arrays()[0][0]).max() > 1e-3  # the run really moved


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("scenario", ["plain", "skips", "duplicate", "late"])
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_multi_tensor_step_equals_reference_step_bit_for_bit(case, scenario, dtype):
    name, kwargs = case
    kwargs = {**kwargs, "t0": 2} if name == "ASGD" and "t0" in kwargs else kwargs  # average within the 8 steps
    assert_same(paths_run(name, kwargs, True, dtype, steps=8, scenario=scenario),
                paths_run(name, kwargs, False, dtype, steps=8, scenario=scenario))


def rho(t: int, beta2: float) -> float:
    rho_inf = 2 / (1 - beta2) - 1
    return rho_inf - 2 * t * beta2 ** t / (1 - beta2 ** t)


@pytest.mark.parametrize("beta2", [0.999, 0.8, 0.5])
def test_radam_steps_with_momentum_only_while_rho_is_at_most_5(beta2, float64_default):
    # A constant gradient g: m̂ = g at every step, so the unrectified step moves by exactly lr·g, and a
    # rectified one by lr·g·sqrt(1-β2^t)/(|g| + ε)·r_t, which differs.
    lr, g = 0.1, np.array([0.25, -2.0, 3.0])
    steps = 12
    switch = next((t for t in range(1, steps + 1) if rho(t, beta2) > 5), None)
    moves = {}
    for lib in (minigrad, torch):
        p = lib.tensor(np.zeros(3), requires_grad=True)
        opt = lib.optim.RAdam([p], lr=lr, betas=(0.9, beta2))
        before, moves[lib] = np.zeros(3), []
        for _ in range(steps):
            p.grad = lib.tensor(g.copy())
            opt.step()
            now = _numpy(p)
            moves[lib].append(before - now)
            before = now
    for t, (a, b) in enumerate(zip(moves[minigrad], moves[torch]), start=1):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=0, err_msg=f"step {t}")
        unrectified = np.allclose(a, lr * g, rtol=1e-12, atol=0)
        assert unrectified == (switch is None or t < switch), f"step {t}"
    assert {0.999: 6, 0.8: 7, 0.5: None}[beta2] == switch  # the cases cover both sides of the switch


def test_asgd_ax_is_the_average_of_the_iterates_after_t0(float64_default):
    t0 = 3
    p = minigrad.tensor([1.0, -2.0, 0.5], requires_grad=True)
    opt = minigrad.optim.ASGD([p], lr=0.1, t0=t0)
    iterates = []
    for t in range(1, 16):
        p.grad = p.detach() * 2 - 1
        opt.step()
        iterates.append(_numpy(p))
        ax = _numpy(opt.state[p]["ax"])
        if t <= t0 + 2:  # μ is still 1: ax follows p
            np.testing.assert_array_equal(ax, iterates[-1])
        else:  # the mean of the iterates from step t0 + 2 on
            np.testing.assert_allclose(ax, np.mean(iterates[t0 + 1:], axis=0), rtol=1e-13)
        assert float(opt.state[p]["mu"]) == 1 / max(1, t - t0)
        assert float(opt.state[p]["eta"]) == pytest.approx(0.1 / (1 + 1e-4 * 0.1 * t) ** 0.75, rel=1e-15)


def test_asgd_scalar_state_is_rounded_to_the_step_dtype_like_torch():
    # Under the float32 default, eta (started at lr) and mu are float32, also for float64 parameters.
    states = {}
    for lib in (minigrad, torch):
        p = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        opt = lib.optim.ASGD([p], lr=0.1, t0=1)
        values = []
        for _ in range(4):
            p.grad = lib.tensor([0.5, -0.5], dtype=lib.float64)
            opt.step()
            values.append((_numpy(p), *(_numpy(opt.state[p][k]) for k in ("step", "eta", "mu"))))
        states[lib] = values
    for ours, theirs in zip(states[minigrad], states[torch]):
        for a, b in zip(ours, theirs):
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)
    assert states[minigrad][0][2].dtype == np.float32


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_loading_torchs_state_dict_continues_torchs_run(case, float64_default, tmp_path):
    name, kwargs = case
    weights, x, y = initial_arrays()
    sign = -1.0 if kwargs.get("maximize") else 1.0
    runs = {}
    for lib in (torch, minigrad):
        params = [lib.tensor(w, requires_grad=True) for w in weights]
        runs[lib] = (params, getattr(lib.optim, name)(params, **kwargs), lib.tensor(x), lib.tensor(y))

    def train(lib, steps):
        params, opt, xs, ys = runs[lib]
        for _ in range(steps):
            opt.zero_grad()
            forward(params, xs, ys, sign).backward()
            opt.step()

    train(torch, 10)
    torch.save(runs[torch][1].state_dict(), tmp_path / "opt.pt")
    for p, q in zip(runs[minigrad][0], runs[torch][0]):
        p.data = minigrad.tensor(q.detach().numpy().copy())
    runs[minigrad][1].load_state_dict(minigrad.load(tmp_path / "opt.pt"))
    loaded = runs[minigrad][1].state_dict()
    for index, st in runs[torch][1].state_dict()["state"].items():
        assert list(loaded["state"][index]) == list(st)
        for key, value in st.items():
            np.testing.assert_array_equal(_numpy(loaded["state"][index][key]), _numpy(value), err_msg=key)
    train(torch, 20)
    train(minigrad, 20)
    for a, b in zip(runs[minigrad][0], runs[torch][0]):
        np.testing.assert_allclose(_numpy(a), _numpy(b), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_state_dict_round_trip_continues_bit_for_bit(case, float64_default):
    name, kwargs = case
    weights, x, y = initial_arrays()
    x, y = minigrad.tensor(x), minigrad.tensor(y)
    sign = -1.0 if kwargs.get("maximize") else 1.0

    def train(params, opt, steps):
        for _ in range(steps):
            opt.zero_grad()
            forward(params, x, y, sign).backward()
            opt.step()

    params = [minigrad.tensor(w, requires_grad=True) for w in weights]
    opt = getattr(minigrad.optim, name)(params, **kwargs)
    train(params, opt, 12)
    saved = minigrad.load(_saved(opt))
    resumed = [minigrad.tensor(p.detach().numpy().copy(), requires_grad=True) for p in params]
    opt2 = getattr(minigrad.optim, name)(resumed, lr=0.321)
    opt2.load_state_dict(saved)
    assert opt2.param_groups[0] == {**opt.param_groups[0], "params": resumed}
    train(params, opt, 15)
    train(resumed, opt2, 15)
    for a, b in zip(resumed, params):
        np.testing.assert_array_equal(_numpy(a), _numpy(b))


def _saved(opt):
    import io

    buf = io.BytesIO()
    minigrad.save(opt.state_dict(), buf)
    buf.seek(0)
    return buf


BAD_ARGUMENTS = [
    ("Adamax", {"lr": -0.1}), ("Adamax", {"eps": -1.0}), ("Adamax", {"betas": (1.0, 0.999)}),
    ("Adamax", {"betas": (0.9, 1.0)}), ("Adamax", {"betas": (-0.1, 0.9)}), ("Adamax", {"weight_decay": -1.0}),
    ("Adamax", {"lr": "tensor"}), ("Adamax", {"amsgrad": True}),
    ("RAdam", {"lr": -0.1}), ("RAdam", {"eps": -1.0}), ("RAdam", {"betas": (1.0, 0.999)}),
    ("RAdam", {"betas": (0.9, 1.5)}), ("RAdam", {"weight_decay": -1.0}), ("RAdam", {"lr": "tensor"}),
    ("RAdam", {"fused": True}),
    ("ASGD", {"lr": -0.1}), ("ASGD", {"weight_decay": -1.0}), ("ASGD", {"lr": "tensor"}), ("ASGD", {"momentum": 0.9}),
]


@pytest.mark.parametrize("name, kwargs", BAD_ARGUMENTS, ids=[f"{n}-{k}" for n, k in BAD_ARGUMENTS])
def test_bad_arguments_raise_like_torch(name, kwargs):
    def error(lib):
        args = {k: (lib.tensor([0.1, 0.2]) if v == "tensor" else v) for k, v in kwargs.items()}
        with pytest.raises(Exception) as info:
            getattr(lib.optim, name)([lib.zeros(2, requires_grad=True)], **args)
        return type(info.value), str(info.value).replace("torch.", "minigrad.")

    assert error(minigrad) == error(torch)


@pytest.mark.parametrize("name, kwargs, scalars", [("Adamax", {}, 1), ("RAdam", {}, 1),
                                                    ("RAdam", {"decoupled_weight_decay": True}, 1),
                                                    ("ASGD", {}, 3), ("ASGD", {"t0": 0}, 3)])
def test_memory_multiplier_of_the_docstring_is_the_state_allocated(name, kwargs, scalars):
    cls = getattr(minigrad.optim, name)
    stated = float(re.search(r"\*\*Memory\*\*: (\d+)×", cls.__doc__).group(1))
    model = minigrad.nn.Sequential(minigrad.nn.Linear(7, 5), minigrad.nn.Tanh(), minigrad.nn.Linear(5, 3))
    opt = cls(model.parameters(), **kwargs)
    report = summary(model, (4, 7), optimizer=opt)
    model(minigrad.randn(4, 7)).sum().backward()
    opt.step()
    full = (report.param_bytes + report.grad_bytes + report.state_full_size_bytes) / report.param_bytes
    assert full == stated
    allocated = sum(v.nbytes for st in opt.state.values() for v in st.values() if v.ndim > 0)
    assert report.state_full_size_bytes == allocated
    n_tensors = len(list(model.parameters()))
    assert report.state_bytes - report.state_full_size_bytes == scalars * 4 * n_tensors
    small = [v for st in opt.state.values() for v in st.values() if v.ndim == 0]
    assert len(small) == scalars * n_tensors
    # ... and torch allocates the same
    params = [torch.nn.Parameter(torch.randn(*p.shape)) for p in model.parameters()]
    topt = getattr(torch.optim, name)(params, **kwargs)
    sum(p.sum() for p in params).backward()
    topt.step()
    assert allocated == sum(v.nbytes for p in params for v in topt.state[p].values() if v.ndim > 0)
    assert len(small) == sum(1 for p in params for v in topt.state[p].values() if v.ndim == 0)


@pytest.mark.parametrize("name", ["Adamax", "RAdam", "ASGD"])
def test_signature_defaults_and_repr_are_torchs(name):
    import inspect

    def describe(sig):
        return [(p.name, p.kind, p.default) for p in sig.parameters.values()]

    assert describe(inspect.signature(getattr(minigrad.optim, name))) == \
        describe(inspect.signature(getattr(torch.optim, name)))
    ours = getattr(minigrad.optim, name)([minigrad.zeros(2, requires_grad=True)])
    theirs = getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)])
    assert ours.defaults == theirs.defaults
    assert list(ours.param_groups[0]) == list(theirs.param_groups[0])
    assert repr(ours) == repr(theirs)
