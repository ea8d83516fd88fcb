"""The optimizer API: argument checks, signatures, zero_grad, what a user can do between steps, memory.

Errors are compared with the exception torch 2.13 really raises (type and message).
"""

from __future__ import annotations

import copy
import inspect
import math
import warnings
from collections import defaultdict

import numpy as np
import pytest
import torch

import minigrad
from minigrad import _backend

NAMES = ["SGD", "Rprop", "Adagrad", "RMSprop", "Adam", "AdamW", "NAdam", "Adadelta", "Adamax", "RAdam", "ASGD"]


def raised(fn) -> tuple:
    with pytest.raises(Exception) as info:
        fn()
    return type(info.value), str(info.value).replace("torch.", "minigrad.")


def params(lib, *shapes):
    return [lib.zeros(*s, requires_grad=True) for s in shapes]


BAD_ARGUMENTS = [
    ("SGD", {"lr": -0.1}), ("SGD", {"lr": 0.1, "momentum": -0.5}), ("SGD", {"lr": 0.1, "weight_decay": -1e-3}),
    ("SGD", {"lr": 0.1, "nesterov": True}), ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "nesterov": True}),
    ("Rprop", {"lr": -1.0}), ("Rprop", {"etas": (1.0, 1.2)}), ("Rprop", {"etas": (0.5, 0.9)}),
    ("Rprop", {"etas": (0.0, 1.2)}),
    ("Adagrad", {"lr": -0.1}), ("Adagrad", {"lr_decay": -1.0}), ("Adagrad", {"weight_decay": -1.0}),
    ("Adagrad", {"initial_accumulator_value": -1.0}), ("Adagrad", {"eps": -1e-10}),
    ("RMSprop", {"lr": -0.1}), ("RMSprop", {"eps": -1.0}), ("RMSprop", {"momentum": -1.0}),
    ("RMSprop", {"weight_decay": -1.0}), ("RMSprop", {"alpha": -0.5}),
    ("Adam", {"lr": -0.1}), ("Adam", {"eps": -1.0}), ("Adam", {"betas": (1.0, 0.999)}), ("Adam", {"betas": (0.9, 1.0)}),
    ("Adam", {"betas": (-0.1, 0.999)}), ("Adam", {"weight_decay": -1.0}), ("Adam", {"betas": (0, 0.99)}),
    ("AdamW", {"lr": -0.1}), ("AdamW", {"betas": (0.9, 1.5)}), ("AdamW", {"weight_decay": -0.5}),
    ("NAdam", {"lr": -0.1}), ("NAdam", {"eps": -1.0}), ("NAdam", {"betas": (1.0, 0.999)}),
    ("NAdam", {"betas": (0.9, 1.0)}), ("NAdam", {"weight_decay": -1.0}), ("NAdam", {"momentum_decay": -1.0}),
    ("Adadelta", {"lr": -0.1}), ("Adadelta", {"rho": 1.1}), ("Adadelta", {"rho": -0.1}), ("Adadelta", {"eps": -1.0}),
    ("Adadelta", {"weight_decay": -1.0}),
    ("SGD", {"lr": 0.1, "foo": 1}), ("Adam", {"amsgard": True}), ("RMSprop", {"initial_accumulator_value": 0}),
    ("AdamW", {"decoupled_weight_decay": True}),
    ("Adamax", {"lr": -0.1}), ("Adamax", {"eps": -1.0}), ("Adamax", {"betas": (0.9, 1.0)}),
    ("Adamax", {"weight_decay": -1.0}), ("RAdam", {"lr": -0.1}), ("RAdam", {"betas": (1.0, 0.999)}),
    ("RAdam", {"weight_decay": -1.0}), ("ASGD", {"lr": -0.1}), ("ASGD", {"weight_decay": -1.0}),
]


@pytest.mark.parametrize("name, kwargs", BAD_ARGUMENTS, ids=[f"{n}-{k}" for n, k in BAD_ARGUMENTS])
def test_bad_arguments_raise_like_torch(name, kwargs):
    ours = raised(lambda: getattr(minigrad.optim, name)(params(minigrad, (2,)), **kwargs))
    theirs = raised(lambda: getattr(torch.optim, name)(params(torch, (2,)), **kwargs))
    assert ours == theirs


def test_the_course_rmsprop_line_raises_type_error_like_torch():
    line = "optim.RMSprop(ps, lr=0.01, initial_accumulator_value=0, eps=1e-10, alpha=0.99)"
    ours = raised(lambda: eval(line, {"optim": minigrad.optim, "ps": params(minigrad, (2,))}))
    theirs = raised(lambda: eval(line, {"optim": torch.optim, "ps": params(torch, (2,))}))
    assert ours == theirs
    assert ours[0] is TypeError and "initial_accumulator_value" in ours[1]


@pytest.mark.parametrize("case", ["empty", "bare tensor", "non-leaf", "set", "not a tensor", "same param twice",
                                  "group not a dict", "tensor lr"])
def test_bad_params_raise_like_torch(case):
    def build(lib):
        a, b = lib.ones(2, requires_grad=True), lib.ones(3, requires_grad=True)
        if case == "empty":
            return lib.optim.SGD([], lr=0.1)
        if case == "bare tensor":
            return lib.optim.SGD(a, lr=0.1)
        if case == "non-leaf":
            return lib.optim.SGD([a * 2], lr=0.1)
        if case == "set":
            return lib.optim.SGD([{"params": {a, b}}], lr=0.1)
        if case == "not a tensor":
            return lib.optim.SGD([a, 3], lr=0.1)
        if case == "same param twice":
            return lib.optim.SGD([{"params": [a]}, {"params": [b, a]}], lr=0.1)
        if case == "group not a dict":
            return lib.optim.SGD([a], lr=0.1).add_param_group([b])
        return lib.optim.SGD([a], lr=lib.tensor([0.1, 0.2]))

    assert raised(lambda: build(minigrad)) == raised(lambda: build(torch))


@pytest.mark.parametrize("name", NAMES)
def test_signature_is_torchs(name):
    ours = inspect.signature(getattr(minigrad.optim, name))
    theirs = inspect.signature(getattr(torch.optim, name))

    def describe(sig):
        return [(p.name, p.kind, p.default) for p in sig.parameters.values()]

    extra = [("packed_signs", inspect.Parameter.KEYWORD_ONLY, False)] if name == "Rprop" else []
    assert describe(ours) == describe(theirs) + extra


@pytest.mark.parametrize("name", NAMES)
def test_defaults_and_repr_are_torchs(name):
    ours = getattr(minigrad.optim, name)(params(minigrad, (2,)))
    theirs = getattr(torch.optim, name)(params(torch, (2,)))
    extra = {"packed_signs": False} if name == "Rprop" else {}
    assert ours.defaults == {**theirs.defaults, **extra}
    if not extra:
        assert repr(ours) == repr(theirs)


def test_flags_without_effect_are_accepted_and_stored():
    p = params(minigrad, (2,))
    opt = minigrad.optim.Adam(p, foreach=True, capturable=True, differentiable=True, fused=False)
    group = opt.param_groups[0]
    assert (group["foreach"], group["capturable"], group["differentiable"], group["fused"]) == (True, True, True, False)
    assert raised(lambda: minigrad.optim.Adam(params(minigrad, (2,)), fused=True, foreach=True)) == \
        raised(lambda: torch.optim.Adam(params(torch, (2,)), fused=True, foreach=True))


def test_named_parameters_keep_their_names_like_torch():
    def build(lib):
        a, b = lib.ones(2, requires_grad=True), lib.ones(3, requires_grad=True)
        opt = lib.optim.SGD([("a", a), ("b", b)], lr=0.1)
        return opt.param_groups[0]["param_names"], opt.state_dict()["param_groups"][0]["param_names"]

    assert build(minigrad) == build(torch) == (["a", "b"], ["a", "b"])


def test_duplicate_parameter_warns_and_is_updated_twice_like_torch():
    def run(lib):
        a = lib.tensor([1.0, -2.0], requires_grad=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            opt = lib.optim.Adam([a, a], lr=0.1)
        for _ in range(3):
            opt.zero_grad()
            (a * a).sum().backward()
            opt.step()
        return [str(w.message) for w in caught], a.detach().numpy().copy(), float(opt.state[a]["step"])

    (msgs_a, a, steps_a), (msgs_b, b, steps_b) = run(minigrad), run(torch)
    assert msgs_a == msgs_b and len(msgs_a) == 1
    np.testing.assert_allclose(a, b, rtol=1e-6)
    assert steps_a == steps_b == 6.0


# -- zero_grad ------------------------------------------------------------------------------
def test_zero_grad_sets_grads_to_none_by_default():
    a, b = params(minigrad, (2,), (3,))
    opt = minigrad.optim.SGD([a, b], lr=0.1)
    (a.sum() + b.sum()).backward()
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_zero_grad_set_to_none_false_zeros_in_place_and_accumulates_like_torch():
    def run(lib):
        a = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        opt = lib.optim.SGD([a], lr=0.1, momentum=0.9)
        (a * a).sum().backward()
        grad = a.grad
        values = []
        for _ in range(4):
            opt.zero_grad(set_to_none=False)
            assert a.grad is grad  # the same tensor, zeroed in place
            assert (a.grad.numpy() == 0).all()
            (a * a).sum().backward()
            (a * 3).sum().backward()  # accumulates
            opt.step()
            values.append(a.detach().numpy().copy())
        return np.array(values)

    np.testing.assert_allclose(run(minigrad), run(torch), rtol=1e-6)


# -- things a user can do between steps, on both paths (reference and foreach) ----------------
def quadratic_run(lib, name: str, kwargs: dict, between=None, steps: int = 8):
    """Train three tensors on a quadratic; ``between(k, tensors, opt)`` runs before each step."""
    rng = np.random.default_rng(3)
    tensors = [lib.tensor(rng.standard_normal(s), requires_grad=True) for s in [(3, 4), (4,), (2,)]]
    target = [lib.tensor(rng.standard_normal(t.shape)) for t in tensors]
    opt = getattr(lib.optim, name)(tensors, **kwargs)
    for k in range(steps):
        opt.zero_grad()
        sum(((t - c) ** 2 * (i + 1)).sum() for i, (t, c) in enumerate(zip(tensors, target))).backward()
        if between is not None:
            between(k, tensors, opt)
        opt.step()
    return [t.detach().numpy().copy() for t in tensors], opt


def assert_runs_match(between, name="Adam", kwargs=None, rtol=1e-9):
    kwargs = {"lr": 0.05} if kwargs is None else kwargs
    theirs, _ = quadratic_run(torch, name, kwargs, lambda k, t, o: between(torch, k, t, o))
    for foreach in (False, True):
        ours, _ = quadratic_run(minigrad, name, {**kwargs, "foreach": foreach},
                                lambda k, t, o: between(minigrad, k, t, o))
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-12, err_msg=f"foreach={foreach}")


@pytest.mark.parametrize("name", NAMES)
def test_user_replaces_a_gradient(name):
    def between(lib, k, tensors, opt):
        if k % 3 == 1:
            tensors[1].grad = lib.tensor(np.linspace(-1, 1, 4))

    assert_runs_match(between, name, {} if name in ("Rprop", "Adadelta", "NAdam") else {"lr": 0.05})


def test_user_scales_a_gradient_in_place():
    def between(lib, k, tensors, opt):
        tensors[0].grad.mul_(0.5)

    assert_runs_match(between, "SGD", {"lr": 0.1, "momentum": 0.9})


def test_user_replaces_a_parameters_data():
    def between(lib, k, tensors, opt):
        if k == 3:
            tensors[0].data = lib.ones(3, 4, dtype=lib.float64)

    assert_runs_match(between)


def test_user_replaces_or_resets_state_like_torch():
    def between(lib, k, tensors, opt):
        if k == 2:
            opt.state[tensors[0]]["exp_avg"] = lib.zeros(3, 4, dtype=lib.float64)
        if k == 3:
            opt.state[tensors[2]].update(exp_avg_sq=lib.ones(2, dtype=lib.float64))
            opt.state[tensors[1]]["step"].fill_(10.0)  # in place: seen by the next step
        if k == 4:
            opt.state[tensors[1]] = {}
        if k == 6:
            opt.state = defaultdict(dict)

    assert_runs_match(between)


def test_parameter_that_gets_and_loses_its_gradient():
    def between(lib, k, tensors, opt):
        if k in (2, 3, 6):
            tensors[2].grad = None

    for name in ["SGD", "Adam", "Rprop"]:
        assert_runs_match(between, name, {"lr": 0.05, "momentum": 0.5} if name == "SGD" else {})


def test_add_param_group_mid_run():
    def between(lib, k, tensors, opt):
        if k == 3:
            extra = lib.tensor([0.5, -1.5], requires_grad=True, dtype=lib.float64)
            opt.add_param_group({"params": [extra], "lr": 0.2})
            opt.extra = extra
        if k >= 3:
            extra = opt.extra
            extra.grad = extra.detach() * 2

    for name in NAMES:
        assert_runs_match(between, name, {})


def test_module_to_float64_after_creating_the_optimizer():
    def run(lib):
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Linear(4, 3), lib.nn.Tanh(), lib.nn.Linear(3, 1))
        for p, w in zip(model.parameters(), [np.full((3, 4), 0.1), np.full(3, 0.2), np.full((1, 3), -0.3), [0.1]]):
            p.data = lib.tensor(np.asarray(w, dtype=np.float32))
        opt = lib.optim.Adam(model.parameters(), lr=0.01)
        x = lib.tensor(np.linspace(-1, 1, 20).reshape(5, 4))
        y = lib.tensor(np.linspace(0, 1, 5).reshape(5, 1))
        model.double()
        for _ in range(10):
            opt.zero_grad()
            ((model(x) - y) ** 2).mean().backward()
            opt.step()
        assert all(p.dtype == lib.float64 for p in model.parameters())
        return [p.detach().numpy().copy() for p in model.parameters()]

    for a, b in zip(run(minigrad), run(torch)):
        assert a.dtype == np.float64
        np.testing.assert_allclose(a, b, rtol=1e-9)


@pytest.mark.parametrize("foreach", [False, True])
def test_module_to_float64_after_some_steps_raises_like_torch(foreach):
    # The state stays float32 while the parameters become float64: torch's step refuses that, and
    # so does minigrad's, before anything changes.
    for lib in (minigrad, torch):
        lib.manual_seed(0)
        model = lib.nn.Linear(3, 2)
        opt = lib.optim.Adam(model.parameters(), lr=0.01, foreach=foreach)
        x = lib.ones(4, 3)
        for _ in range(3):
            opt.zero_grad()
            model(x).sum().backward()
            opt.step()
        model.double()
        opt.zero_grad()
        model(x.double()).sum().backward()
        before = [p.detach().numpy().copy() for p in model.parameters()]
        with pytest.raises(RuntimeError, match="dtype"):
            opt.step()
        for p, old in zip(model.parameters(), before):
            np.testing.assert_array_equal(p.detach().numpy(), old)


def test_parameters_keep_identity_and_are_updated_in_place():
    a, b = params(minigrad, (3,), (2, 2))
    opt = minigrad.optim.Adam([a, b], lr=0.1)
    early_view = b.detach()  # taken after the optimizer was created: keeps sharing b's memory
    (a.sum() + b.sum()).backward()
    opt.step()
    arrays = (a._data, b._data)
    view = a.detach()  # shares a's memory, as torch's detach does
    for _ in range(3):
        opt.zero_grad()
        (a.sum() + b.sum()).backward()
        opt.step()
    assert a._data is arrays[0] and b._data is arrays[1]  # laid out once, then updated in place
    np.testing.assert_array_equal(view.numpy(), a.detach().numpy())
    np.testing.assert_array_equal(early_view.numpy(), b.detach().numpy())
    assert not a.grad_fn and a.requires_grad and a.is_leaf


def test_a_kept_gradient_keeps_its_values():
    a = minigrad.tensor([1.0, 2.0], requires_grad=True)
    opt = minigrad.optim.SGD([a], lr=0.1)
    for _ in range(2):
        opt.zero_grad()
        (a * a).sum().backward()
        opt.step()
    old = a.grad
    old_values = old.numpy().copy()
    opt.zero_grad()
    (a * a * 10).sum().backward()
    opt.step()
    np.testing.assert_array_equal(old.numpy(), old_values)
    np.testing.assert_allclose(a.grad.numpy(), 20 * (a.detach().numpy() + 0.1 * a.grad.numpy()))


def _linear_pair(lib):
    w = lib.tensor(np.linspace(-1, 1, 12).reshape(3, 4), requires_grad=True)
    b = lib.tensor([0.5, -0.25, 0.125], requires_grad=True, dtype=lib.float64)
    x = lib.tensor(np.linspace(0, 2, 8).reshape(2, 4))
    return w, b, x


@pytest.mark.parametrize("case", ["plain", "kept", "shared", "hooked"])
def test_linear_gradients_after_a_step_equal_torch(case):
    # A kept old gradient, a weight used twice or a hook: each backward gives torch's gradients.
    grads = {}
    for lib in (minigrad, torch):
        w, b, x = _linear_pair(lib)
        opt = lib.optim.SGD([w, b], lr=0.1)
        F = lib.nn.functional
        F.linear(x, w, b).pow(2).sum().backward()
        opt.step()
        old = w.grad if case == "kept" else None
        old_values = None if old is None else old.detach().numpy().copy()
        opt.zero_grad()
        if case == "hooked":
            w.register_hook(lambda g: g * 3)
        if case == "shared":
            square = lib.tensor(np.linspace(-1, 1, 16).reshape(4, 4), requires_grad=True)
            opt.add_param_group({"params": [square]})
            out = F.linear(F.linear(x, square), square, None).sum()
            out.backward()
            grads[lib] = [square.grad.detach().numpy().copy()]
            continue
        F.linear(x, w, b).pow(3).sum().backward()
        if old is not None:
            np.testing.assert_array_equal(old.detach().numpy(), old_values)
        grads[lib] = [w.grad.detach().numpy().copy(), b.grad.detach().numpy().copy()]
    for mine, ref in zip(grads[minigrad], grads[torch]):
        np.testing.assert_allclose(mine, ref, rtol=1e-12)


def test_frozen_parameter_is_left_alone():
    a, b = params(minigrad, (3,), (2,))
    b.requires_grad_(False)
    opt = minigrad.optim.AdamW([a, b], lr=0.1, weight_decay=0.5)
    b_array = b._data
    for _ in range(3):
        opt.zero_grad()
        ((a - 1) ** 2).sum().backward()
        opt.step()
    assert b._data is b_array and b not in opt.state
    assert float(opt.state[a]["step"]) == 3


@pytest.mark.parametrize("problem", ["shape", "dtype"])
def test_a_bad_gradient_raises_before_anything_changes(problem):
    a, b = minigrad.tensor([1.0, 2.0], requires_grad=True), minigrad.tensor([3.0], requires_grad=True)
    opt = minigrad.optim.Adam([{"params": [a]}, {"params": [b]}], lr=0.1)
    (a.sum() + b.sum()).backward()
    opt.step()
    before = (a.detach().numpy().copy(), b.detach().numpy().copy(), float(opt.state[a]["step"]),
              opt.state[a]["exp_avg"].numpy().copy())
    opt.zero_grad()
    (a.sum() + b.sum()).backward()
    b.grad.data = minigrad.ones(3) if problem == "shape" else minigrad.ones(1, dtype=minigrad.float64)
    what = "size" if problem == "shape" else "dtype"
    with pytest.raises(RuntimeError, match=f"parameter 0 of group 1 has a gradient of {what}"):
        opt.step()
    after = (a.detach().numpy(), b.detach().numpy(), float(opt.state[a]["step"]), opt.state[a]["exp_avg"].numpy())
    for x, y in zip(before, after):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("case", [("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}), ("Rprop", {}),
                                  ("Rprop", {"packed_signs": True}), ("Adagrad", {"weight_decay": 0.1}),
                                  ("RMSprop", {"centered": True, "momentum": 0.5}), ("Adam", {"amsgrad": True}),
                                  ("AdamW", {}), ("NAdam", {"weight_decay": 0.1}), ("Adadelta", {})])
def test_steps_on_a_device_equal_steps_on_the_host(case, cuda):
    name, kwargs = case

    def run(dev):
        rng = np.random.default_rng(5)
        tensors = [minigrad.tensor(rng.standard_normal(s), device=dev, requires_grad=True) for s in [(3, 5), (7,)]]
        opt = getattr(minigrad.optim, name)(tensors, **kwargs)
        for _ in range(5):
            opt.zero_grad()
            sum(((t - 0.3) ** 2).sum() for t in tensors).backward()
            opt.step()
        for st in opt.state.values():
            for key in ("step", "mu_product"):
                if key in st:
                    assert st[key].device.type == "cpu"
        big = [v for st in opt.state.values() for v in st.values() if v.ndim > 0]
        assert all(v.device.type == dev for v in big)
        sd = opt.state_dict()
        opt2 = getattr(minigrad.optim, name)(tensors, **kwargs)
        opt2.load_state_dict(sd)
        return [_backend.to_host(t.detach()._data) for t in tensors]

    for a, b in zip(run("cuda"), run("cpu")):
        np.testing.assert_array_equal(a, b)


def test_gradient_on_another_device_raises(cuda):
    a = minigrad.zeros(3, device="cuda", requires_grad=True)
    opt = minigrad.optim.SGD([a], lr=0.1)
    a.grad = minigrad.zeros(3, device="cuda")
    a.grad.data = minigrad.ones(3)  # assigning it as .grad is refused, as in torch
    with pytest.raises(RuntimeError, match="parameter 0 of group 0 has its gradient on cpu but is on cuda:0"):
        opt.step()


def test_state_on_another_device_raises(cuda):
    a = minigrad.zeros(3, requires_grad=True)
    opt = minigrad.optim.Adam([a], lr=0.1)
    a.grad = minigrad.ones(3)
    opt.step()
    a.data = minigrad.zeros(3, device="cuda")  # moved, but its state stays on the host
    a.grad = minigrad.ones(3, device="cuda")
    with pytest.raises(RuntimeError, match="optimizer state 'exp_avg' of parameter 0 of group 0 is on cpu but the "
                                           "parameter is on cuda:0"):
        opt.step()


# -- state dicts ------------------------------------------------------------------------------
def test_state_dict_holds_live_tensors_and_load_copies():
    _, opt = quadratic_run(minigrad, "Adam", {"lr": 0.1}, steps=2)
    sd = opt.state_dict()
    before = sd["state"][0]["exp_avg"].numpy().copy()
    opt2 = minigrad.optim.Adam(opt.param_groups[0]["params"], lr=0.1)
    opt2.load_state_dict(sd)
    assert opt2.state[opt.param_groups[0]["params"][0]]["exp_avg"] is not sd["state"][0]["exp_avg"]
    for p in opt.param_groups[0]["params"]:
        p.grad = minigrad.ones_like(p)
    opt.step()
    assert not np.array_equal(sd["state"][0]["exp_avg"].numpy(), before)  # live, as torch's


def test_load_state_dict_with_plain_number_step_like_older_checkpoints():
    p = minigrad.tensor([1.0, 2.0], requires_grad=True)
    opt = minigrad.optim.Adam([p], lr=0.1)
    sd = {"state": {0: {"step": 3, "exp_avg": minigrad.zeros(2), "exp_avg_sq": minigrad.zeros(2)}},
          "param_groups": [dict(opt.state_dict()["param_groups"][0])]}
    opt.load_state_dict(sd)
    assert opt.state[p]["step"].dtype == minigrad.float32 and float(opt.state[p]["step"]) == 3


def test_adagrad_state_exists_before_the_first_step_like_torch():
    def build(lib):
        a, b = lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)
        opt = lib.optim.Adagrad([{"params": [a]}, {"params": [b], "initial_accumulator_value": 5.0}],
                                initial_accumulator_value=0.5)
        return {i: {k: v.numpy().tolist() for k, v in st.items()} for i, st in opt.state_dict()["state"].items()}

    assert build(minigrad) == build(torch) == {0: {"step": 0.0, "sum": [0.5, 0.5]},
                                               1: {"step": 0.0, "sum": [0.5, 0.5, 0.5]}}


def test_state_dict_survives_minigrad_save_and_load(tmp_path):
    ours, opt = quadratic_run(minigrad, "NAdam", {"lr": 0.1}, steps=3)
    minigrad.save(opt.state_dict(), tmp_path / "opt.pt")
    tensors = opt.param_groups[0]["params"]
    opt2 = minigrad.optim.NAdam(tensors)
    opt2.load_state_dict(minigrad.load(tmp_path / "opt.pt"))
    for p in tensors:
        for key, value in opt.state[p].items():
            np.testing.assert_array_equal(opt2.state[p][key].numpy(), value.numpy())
            # torch's rule: floating state takes the parameter's dtype, except step
            assert opt2.state[p][key].dtype == (value.dtype if key == "step" else p.dtype)
    assert opt2.param_groups[0]["lr"] == 0.1


def test_a_subclass_with_its_own_step_works_like_torch():
    def run(lib):
        class PlainSGD(lib.optim.Optimizer):
            def __init__(self, params, lr=0.1):
                super().__init__(params, {"lr": lr})

            @lib.no_grad()
            def step(self, closure=None):
                for group in self.param_groups:
                    for p in group["params"]:
                        if p.grad is not None:
                            self.state[p]["n"] = self.state[p].get("n", 0) + 1
                            p.add_(p.grad, alpha=-group["lr"])

        a = lib.tensor([1.0, -2.0], requires_grad=True)
        opt = PlainSGD([a])
        for _ in range(3):
            opt.zero_grad()
            (a * a).sum().backward()
            opt.step()
        return a.detach().numpy().tolist(), opt.state_dict()["state"], opt.state_dict()["param_groups"]

    assert run(minigrad) == run(torch)


def test_optimizer_pickles_and_copies():
    _, opt = quadratic_run(minigrad, "Adam", {"lr": 0.1}, steps=2)
    clone = copy.deepcopy(opt)
    assert clone.param_groups[0]["lr"] == 0.1 and len(clone.state) == 3


# -- memory -----------------------------------------------------------------------------------
MEMORY = [  # (optimizer, kwargs, multiplier: params + grads + full-size state, 0-dim scalars per tensor)
    ("SGD", {"lr": 0.1}, 2, 0), ("SGD", {"lr": 0.1, "momentum": 0.9}, 3, 0),
    ("Rprop", {}, 4, 1), ("Adagrad", {}, 3, 1), ("RMSprop", {}, 3, 1), ("RMSprop", {"momentum": 0.9}, 4, 1),
    ("RMSprop", {"centered": True}, 4, 1), ("RMSprop", {"centered": True, "momentum": 0.9}, 5, 1),
    ("Adam", {}, 4, 1), ("Adam", {"amsgrad": True}, 5, 1), ("AdamW", {}, 4, 1), ("NAdam", {}, 4, 2),
    ("Adadelta", {}, 4, 1), ("Adamax", {}, 4, 1), ("RAdam", {}, 4, 1), ("ASGD", {}, 3, 3),
]


@pytest.mark.parametrize("name, kwargs, multiplier, scalars", MEMORY)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_memory_multiplier(name, kwargs, multiplier, scalars, dtype):
    model = minigrad.nn.Sequential(minigrad.nn.Linear(5, 8), minigrad.nn.Tanh(), minigrad.nn.Linear(8, 4))
    model.to(getattr(minigrad, dtype))
    opt = getattr(minigrad.optim, name)(model.parameters(), **kwargs)
    model(minigrad.ones(3, 5, dtype=getattr(minigrad, dtype))).sum().backward()
    opt.step()
    param_bytes = sum(p.nbytes for p in model.parameters())
    grad_bytes = sum(p.grad.nbytes for p in model.parameters())
    full = sum(v.nbytes for st in opt.state.values() for v in st.values() if v.ndim > 0)
    small = [v for st in opt.state.values() for v in st.values() if v.ndim == 0]
    assert (param_bytes + grad_bytes + full) / param_bytes == multiplier
    assert len(small) == scalars * 4 and all(v.nbytes == 4 for v in small)


def test_packed_signs_store_two_bits_per_element():
    model = minigrad.nn.Linear(30, 7)  # 210 + 7 values
    opt = minigrad.optim.Rprop(model.parameters(), packed_signs=True)
    model(minigrad.ones(2, 30)).sum().backward()
    opt.step()
    st = opt.state[model.weight]
    assert list(st) == ["step", "prev_positive", "prev_negative", "step_size"]
    assert st["prev_positive"].shape == (27,) and st["prev_positive"].dtype == minigrad.uint8
    assert opt.state[model.bias]["prev_negative"].shape == (1,)
    full = sum(v.nbytes for s in opt.state.values() for v in s.values() if v.ndim > 0)
    params = sum(p.nbytes for p in model.parameters())
    assert full == 217 * 4 + 2 * (27 + 1)  # step_size, and two bit planes
    assert math.isclose((2 * params + full) / params, 3.0645, abs_tol=1e-4)
    signs = np.sign(model.weight.grad.numpy()).ravel()  # the first step keeps every gradient
    bits = np.unpackbits(st["prev_positive"].numpy())[:210].astype(int) - \
        np.unpackbits(st["prev_negative"].numpy())[:210]
    np.testing.assert_array_equal(bits, signs)


@pytest.mark.parametrize("foreach", [False, True])
def test_a_bad_lr_in_a_later_group_raises_before_any_group_changes(foreach):
    # torch raises a TypeError too, but only after updating group 0: minigrad checks every group first.
    a = minigrad.tensor([1.0, 2.0], requires_grad=True)
    b = minigrad.tensor([3.0], requires_grad=True)
    opt = minigrad.optim.Adam([{"params": [a]}, {"params": [b], "lr": None}], lr=0.1, foreach=foreach)
    (a.sum() + b.sum()).backward()
    with pytest.raises(TypeError, match="group 1 has lr=None"):
        opt.step()
    np.testing.assert_array_equal(a.detach().numpy(), [1.0, 2.0])
    assert not opt.state  # no step counted, no state made


@pytest.mark.parametrize("packed_signs", [False, True])
@pytest.mark.parametrize("foreach", [False, True])
def test_rprop_skips_a_nan_gradient_element_like_torch(foreach, packed_signs):
    # torch's sign(NaN) is 0: the element neither moves nor changes its step size, and the next
    # steps go on as after a zero gradient.
    grads = [[1.0, float("nan"), 1.0], [1.0, 1.0, -1.0], [1.0, 1.0, -1.0], [float("nan"), 1.0, 1.0]]
    results = {}
    for lib in (torch, minigrad):
        p = lib.tensor([1.0, 2.0, 3.0], requires_grad=True, dtype=lib.float64)
        kwargs = {"packed_signs": packed_signs} if lib is minigrad else {}
        opt = lib.optim.Rprop([p], foreach=foreach, **kwargs)
        values = []
        for g in grads:
            p.grad = lib.tensor(g, dtype=lib.float64)
            opt.step()
            values.append(p.detach().numpy().copy())
            values.append(opt.state[p]["step_size"].numpy().copy())
        results[lib] = values
    for mine, theirs in zip(results[minigrad], results[torch]):
        np.testing.assert_array_equal(mine, theirs)
    assert np.isfinite(results[minigrad][-2]).all()


def test_load_state_dict_refuses_object_arrays():
    p = minigrad.tensor([1.0, 2.0], requires_grad=True)
    opt = minigrad.optim.Adam([p])
    p.grad = minigrad.ones(2)
    opt.step()
    sd = copy.deepcopy(opt.state_dict())
    sd["state"][0]["exp_avg"] = np.array([None, "os.system"], dtype=object)
    before = opt.state[p]["exp_avg"].numpy().copy()
    with pytest.raises(ValueError, match="'exp_avg' of dtype object"):
        opt.load_state_dict(sd)
    np.testing.assert_array_equal(opt.state[p]["exp_avg"].numpy(), before)
