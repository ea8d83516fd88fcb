"""Aliasing idioms of torch training code give torch's numbers in minigrad.

Views of gradients kept across steps, aliases of parameters (``.data``, ``.detach()``, ``.numpy()``),
live ``state_dict`` values, parameters that share memory or are the same object, user-assigned gradients,
optimizer state replaced or kept by the user, EMAs written through ``.data``, two optimizers on the same
parameters, ``model.double()`` between optimizers and ``vector_to_parameters``.

Each test writes its program once, as a function of the library (``torch`` or ``minigrad``) that returns
NumPy arrays, runs it under both (torch first) and compares every array: to 1e-12 relative in float64,
exactly otherwise (float32 values that are exact, integers, booleans).
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

import minigrad

X = [[0.5, -1.0, 0.25], [1.5, 0.75, -0.5], [-0.25, 0.5, 1.0], [1.0, -0.75, 0.5]]
Y2 = [[0.3, -0.2], [0.1, 0.4], [-0.5, 0.2], [0.25, -0.1]]
Y1 = [[0.5], [-0.25], [0.75], [0.1]]
X2 = [[0.5, -1.0], [1.5, 0.75], [-0.25, 0.5], [1.0, -0.75]]

W_A, B_A = [[0.2, -0.4, 0.1], [0.3, 0.25, -0.35]], [0.05, -0.1]
W_B, B_B = [[0.6, -0.45]], [0.15]
W_C, B_C = [[-0.3, 0.2, 0.4]], [-0.05]
W_ENC, B_ENC = [[0.4, -0.3], [0.2, 0.5]], [0.1, -0.2]
W_DEC, B_DEC = [[-0.25, 0.35], [0.45, 0.15]], [-0.05, 0.3]

OPTIMIZERS = {
    "SGD": lambda lib, params, kw: lib.optim.SGD(params, lr=0.1, momentum=0.9, **kw),
    "Adam": lambda lib, params, kw: lib.optim.Adam(params, lr=0.05, **kw),
    "Rprop": lambda lib, params, kw: lib.optim.Rprop(params, lr=0.05, **kw),
    "Adagrad": lambda lib, params, kw: lib.optim.Adagrad(params, lr=0.1, **kw),
}
NAMES = list(OPTIMIZERS)
FOREACH = [pytest.param({}, id="default"), pytest.param({"foreach": True}, id="foreach")]


def make_optimizer(lib, name: str, params, kw: dict):
    return OPTIMIZERS[name](lib, list(params), kw)


def f64(lib, values):
    return lib.tensor(values, dtype=lib.float64)


def linear(lib, weight: list, bias: list | None = None):
    """An ``nn.Linear`` in float64 with the given weight (and bias)."""
    n_out, n_in = len(weight), len(weight[0])
    lin = lib.nn.Linear(n_in, n_out, bias=bias is not None, dtype=lib.float64)
    with lib.no_grad():
        lin.weight.copy_(f64(lib, weight))
        if bias is not None:
            lin.bias.copy_(f64(lib, bias))
    return lin


def mlp(lib):
    """3 -> 2 (tanh) -> 1."""
    return lib.nn.Sequential(linear(lib, W_A, B_A), lib.nn.Tanh(), linear(lib, W_B, B_B))


def mse(out, y):
    return ((out - y) ** 2).mean()


def train_step(lib, opt, model, x, y) -> None:
    opt.zero_grad()
    mse(model(x), y).backward()
    opt.step()


def snap(t) -> np.ndarray:
    """A copy of the values of a torch or minigrad tensor (or a NumPy array)."""
    if isinstance(t, torch.Tensor):
        return t.detach().numpy().copy()
    if isinstance(t, minigrad.Tensor):
        return np.array(t.detach().numpy(), copy=True)
    return np.array(t, copy=True)


def snap_module(prefix: str, model) -> dict:
    return {f"{prefix}.{k}": snap(p) for k, p in model.named_parameters()}


def assert_same(ours: dict, theirs: dict) -> None:
    """The same keys, shapes and dtypes; float64 values to 1e-12 relative, all others (float32 values that are
    exact, integers, booleans) exactly."""
    assert list(ours) == list(theirs)
    for key, expected in theirs.items():
        actual = ours[key]
        assert actual.shape == expected.shape, f"{key}: shape {actual.shape} != {expected.shape}"
        assert actual.dtype == expected.dtype, f"{key}: dtype {actual.dtype} != {expected.dtype}"
        if expected.dtype == np.float64:
            np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-14, err_msg=key)
        else:
            np.testing.assert_array_equal(actual, expected, err_msg=key)


def run_both(program) -> dict:
    """Run ``program(torch)``, then ``program(minigrad)``, compare, and return torch's results."""
    theirs = program(torch)
    ours = program(minigrad)
    assert_same(ours, theirs)
    return theirs


# -- views of p.grad --------------------------------------------------------------------------


GRAD_VIEWS = {
    "view": lambda lin: lin.weight.grad.view(-1),
    "index": lambda lin: lin.weight.grad[0],
    "T": lambda lin: lin.weight.grad.T,
    "flatten": lambda lin: lin.weight.grad.flatten(),
    "bias_slice": lambda lin: lin.bias.grad[1:],
    "bias_grad": lambda lin: lin.bias.grad,
}


def grad_views_program(lib, name: str, kw: dict, set_to_none: bool, idiom: str) -> dict:
    lin = linear(lib, W_A, B_A)
    opt = make_optimizer(lib, name, lin.parameters(), kw)
    x, y = f64(lib, X), f64(lib, Y2)
    history = []
    for _ in range(3):
        opt.zero_grad(set_to_none=set_to_none)
        mse(lin(x).tanh(), y).backward()
        history.append(GRAD_VIEWS[idiom](lin))
        opt.step()
    out = {f"kept{step}": snap(view) for step, view in enumerate(history)}
    out.update(snap_module("lin", lin))
    return out


@pytest.mark.parametrize("kw", FOREACH)
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("idiom", list(GRAD_VIEWS))
def test_grad_views_kept_across_steps_keep_their_values(idiom, name, kw):
    """``history.append(p.grad.view(-1))`` (or ``p.grad[0]``, ``p.grad.T``, ``p.grad.flatten()``,
    ``bias.grad[1:]``, ``bias.grad``) kept over three backward/step/zero_grad() cycles: each backward makes a
    fresh ``.grad``, so an old view keeps its own step's values."""
    theirs = run_both(lambda lib: grad_views_program(lib, name, kw, True, idiom))
    assert not np.allclose(theirs["kept0"], theirs["kept2"])


@pytest.mark.parametrize("kw", FOREACH)
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("idiom", list(GRAD_VIEWS))
def test_grad_views_kept_with_zero_grad_set_to_none_false_see_later_gradients(idiom, name, kw):
    """``opt.zero_grad(set_to_none=False)``: every backward accumulates into the same ``.grad``, so a view kept
    at the first step shows the last step's gradient."""
    theirs = run_both(lambda lib: grad_views_program(lib, name, kw, False, idiom))
    np.testing.assert_array_equal(theirs["kept0"], theirs["kept2"])
    assert not np.allclose(theirs["kept0"], grad_views_program(torch, name, kw, True, idiom)["kept0"])


# -- aliases of parameters ----------------------------------------------------------------------


PARAM_ALIASES = {
    "data": lambda p: p.data,
    "detach": lambda p: p.detach(),
    "numpy": lambda p: p.detach().numpy(),
}


def param_aliases_program(lib, name: str, kw: dict, idiom: str) -> dict:
    a, b, c = linear(lib, W_A, B_A), linear(lib, W_B, B_B), linear(lib, W_C, B_C)
    x, y, y_c = f64(lib, X), f64(lib, Y1), f64(lib, Y1[::-1])
    params = {"a.weight": a.weight, "a.bias": a.bias, "b.weight": b.weight, "b.bias": b.bias,
              "c.weight": c.weight, "c.bias": c.bias}
    alias = PARAM_ALIASES[idiom]
    aliases = {f"{key}.before": alias(p) for key, p in params.items()}
    opt = make_optimizer(lib, name, params.values(), kw)
    for step in range(5):
        opt.zero_grad()
        if step == 1:
            b.requires_grad_(False)
            aliases["b.weight.frozen"] = b.weight.numpy() if idiom == "numpy" else alias(b.weight)
        if step == 3:
            b.requires_grad_(True)
        loss = mse(b(a(x).tanh()), y)
        if step != 0:  # c gets no gradient at the first step
            loss = loss + mse(c(x), y_c)
        loss.backward()
        if step == 0:
            old_grad = a.weight.grad
        opt.step()
        if step == 1:
            aliases.update({f"{key}.after_step": alias(p) for key, p in params.items()})
    out = {key: snap(value) for key, value in aliases.items()}
    out.update({key: snap(p) for key, p in params.items()})
    out["old_grad"] = snap(old_grad)
    out["last_grad"] = snap(a.weight.grad)
    return out


@pytest.mark.parametrize("kw", FOREACH)
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("idiom", list(PARAM_ALIASES))
def test_param_aliases_see_every_update(idiom, name, kw):
    """``p.data``, ``p.detach()`` or ``p.detach().numpy()`` (``p.numpy()`` while frozen) taken before the
    optimizer exists, and after a step, stay live; with a parameter that gets no gradient at the first step, a
    layer frozen with ``requires_grad_(False)`` then unfrozen, and an old ``p.grad`` still held by the user."""
    theirs = run_both(lambda lib: param_aliases_program(lib, name, kw, idiom))
    np.testing.assert_array_equal(theirs["a.weight.before"], theirs["a.weight"])
    np.testing.assert_array_equal(theirs["b.weight.frozen"], theirs["b.weight"])
    assert not np.allclose(theirs["a.weight"], W_A)
    assert not np.allclose(theirs["old_grad"], theirs["last_grad"])


# -- live state_dict values ---------------------------------------------------------------------


def state_dict_program(lib, name: str, kw: dict) -> dict:
    model = mlp(lib)
    x, y = f64(lib, X), f64(lib, Y1)
    initial = model.state_dict()
    opt = make_optimizer(lib, name, model.parameters(), kw)
    train_step(lib, opt, model, x, y)
    best_live = model.state_dict()
    best_deep = copy.deepcopy(model.state_dict())
    best_clone = {k: v.clone() for k, v in model.state_dict().items()}
    for _ in range(2):
        train_step(lib, opt, model, x, y)
    out = {}
    for label, sd in [("initial", initial), ("best_live", best_live), ("best_deep", best_deep),
                      ("best_clone", best_clone)]:
        out.update({f"{label}.{k}": snap(v) for k, v in sd.items()})
    out.update(snap_module("trained", model))
    model.load_state_dict(initial)
    out.update(snap_module("after_loading_initial", model))
    model.load_state_dict(best_deep)
    out.update(snap_module("after_loading_deep", model))
    for _ in range(2):
        train_step(lib, opt, model, x, y)
    out.update(snap_module("trained_from_deep", model))
    model.load_state_dict(best_clone)
    out.update(snap_module("after_loading_clone", model))
    train_step(lib, opt, model, x, y)
    out.update(snap_module("final", model))
    return out


@pytest.mark.parametrize("kw", FOREACH)
@pytest.mark.parametrize("name", NAMES)
def test_state_dict_values_are_live_views(name, kw):
    """``sd = model.state_dict(); ...train...; model.load_state_dict(sd)`` is a no-op; an uncloned "best so far"
    state dict ends with the current weights, a ``copy.deepcopy`` or ``{k: v.clone()}`` one keeps the old ones."""
    theirs = run_both(lambda lib: state_dict_program(lib, name, kw))
    np.testing.assert_array_equal(theirs["initial.0.weight"], theirs["trained.0.weight"])
    assert not np.allclose(theirs["best_deep.0.weight"], theirs["trained.0.weight"])


# -- shared and tied parameters -----------------------------------------------------------------


def parameter_shares_tensor_program(lib, name: str, kw: dict) -> dict:
    t = f64(lib, [0.5, -0.25, 1.0])
    p = lib.nn.Parameter(t)
    opt = make_optimizer(lib, name, [p], kw)
    target = f64(lib, [0.2, 0.1, -0.3])
    for _ in range(3):
        opt.zero_grad()
        ((p.tanh() - target) ** 2).sum().backward()
        opt.step()
    return {"t": snap(t), "p": snap(p)}


@pytest.mark.parametrize("kw", FOREACH)
@pytest.mark.parametrize("name", NAMES)
def test_parameter_shares_memory_with_its_tensor(name, kw):
    """``p = nn.Parameter(t)`` shares memory with ``t``: ``t`` sees every optimizer step."""
    theirs = run_both(lambda lib: parameter_shares_tensor_program(lib, name, kw))
    np.testing.assert_array_equal(theirs["t"], theirs["p"])
    assert not np.allclose(theirs["t"], [0.5, -0.25, 1.0])


def tied_program(lib, name: str, kw: dict, how: str) -> dict:
    enc, dec = linear(lib, W_ENC, B_ENC), linear(lib, W_DEC, B_DEC)
    if how == "storage":
        dec.weight.data = enc.weight.data
    else:
        dec.weight = enc.weight
    model = lib.nn.Sequential(enc, lib.nn.Tanh(), dec)
    x, y = f64(lib, X2), f64(lib, Y2)
    params = list(model.parameters())
    opt = make_optimizer(lib, name, params, kw)
    out = {}
    for step in range(3):
        train_step(lib, opt, model, x, y)
        out[f"enc.weight{step}"] = snap(enc.weight)
        out[f"dec.weight{step}"] = snap(dec.weight)
    out["biases"] = np.concatenate([snap(enc.bias), snap(dec.bias)])
    out["n_params"] = np.array(len(params))
    return out


@pytest.mark.parametrize("kw", FOREACH)
@pytest.mark.parametrize("name", NAMES)
def test_weights_tied_through_storage_stay_tied(name, kw):
    """``dec.weight.data = enc.weight.data``: two parameters on one storage, both updated there, for 3 steps."""
    theirs = run_both(lambda lib: tied_program(lib, name, kw, "storage"))
    assert theirs["n_params"] == 4
    np.testing.assert_array_equal(theirs["enc.weight2"], theirs["dec.weight2"])


@pytest.mark.parametrize("kw", FOREACH)
@pytest.mark.parametrize("name", NAMES)
def test_weights_tied_by_sharing_one_parameter_stay_tied(name, kw):
    """``dec.weight = enc.weight``: one Parameter object in two modules, listed once, stays tied."""
    theirs = run_both(lambda lib: tied_program(lib, name, kw, "object"))
    assert theirs["n_params"] == 3
    np.testing.assert_array_equal(theirs["enc.weight2"], theirs["dec.weight2"])


# -- a user-assigned gradient -------------------------------------------------------------------

ASSIGNED_GRAD_OPTIMIZERS = {
    "SGD-lr1-momentum0.9": lambda lib, params, kw: lib.optim.SGD(params, lr=1.0, momentum=0.9, **kw),
    **OPTIMIZERS,
}


def assigned_grad_program(lib, name: str, kw: dict) -> dict:
    p = f64(lib, [1.0, 1.0, 1.0]).requires_grad_()
    big = f64(lib, [9.0, 0.1, 0.2, 0.3, 9.0])
    grad = big[1:4]
    p.grad = grad
    opt = ASSIGNED_GRAD_OPTIMIZERS[name](lib, [p], kw)
    out = {}
    opt.step()
    out["p1"] = snap(p)
    out["grad1"] = snap(p.grad)
    big.mul_(0)
    out["grad_after_big_mul"] = snap(p.grad)
    opt.step()
    out["p2"] = snap(p)
    big[2] = 5.0
    out["grad_after_big_set"] = snap(p.grad)
    out["grad_is_assigned_tensor"] = np.array(p.grad is grad)
    opt.step()
    out["p3"] = snap(p)
    out["big"] = snap(big)
    return out


@pytest.mark.parametrize("kw", FOREACH)
@pytest.mark.parametrize("name", list(ASSIGNED_GRAD_OPTIMIZERS))
def test_user_assigned_gradient_view_stays_a_view(name, kw):
    """``p.grad = big[1:4]; opt.step(); big.mul_(0); opt.step()``: the step reads ``big``'s memory and leaves it
    with ``p.grad``, which still is a view of ``big`` afterwards (writing into ``big`` changes ``p.grad``)."""
    theirs = run_both(lambda lib: assigned_grad_program(lib, name, kw))
    np.testing.assert_array_equal(theirs["grad_after_big_set"], [0.0, 5.0, 0.0])
    if name == "SGD-lr1-momentum0.9":
        np.testing.assert_allclose(theirs["p2"], [0.81, 0.62, 0.43], rtol=1e-12)


# -- optimizer state replaced or kept by the user -----------------------------------------------

STATE_KEYS = [("SGD", "momentum_buffer", 0.0), ("Adam", "exp_avg", 0.0), ("Adam", "exp_avg_sq", 0.5),
              ("Rprop", "prev", 0.0), ("Rprop", "step_size", 0.02), ("Adagrad", "sum", 0.5)]


def replaced_state_program(lib, name: str, key: str, value: float, how: str, kw: dict) -> dict:
    lin = linear(lib, W_A, B_A)
    x, y = f64(lib, X), f64(lib, Y2)
    opt = make_optimizer(lib, name, lin.parameters(), kw)
    p = lin.weight
    for _ in range(2):
        train_step(lib, opt, lin, x, y)
    kept = opt.state[p][key]
    listed = opt.state_dict()["state"][0][key]
    out = {"kept_before": snap(kept)}
    train_step(lib, opt, lin, x, y)
    out["kept_live"] = snap(kept)
    out["listed_live"] = snap(listed)
    out["current_before"] = snap(opt.state[p][key])
    new = lib.zeros_like(p.detach()) + value
    if how == "data":
        opt.state[p][key].data = new
    else:
        opt.state[p][key] = new
    out["after_replacing"] = snap(opt.state[p][key])
    for step in range(2):
        train_step(lib, opt, lin, x, y)
        out[f"weight{step}"] = snap(p)
        out[f"bias{step}"] = snap(lin.bias)
        out[f"state{step}"] = snap(opt.state[p][key])
        out[f"kept{step}"] = snap(kept)
        out[f"new{step}"] = snap(new)
    for k, v in opt.state[p].items():
        out[f"final.{k}"] = snap(v)
    return out


@pytest.mark.parametrize("kw", FOREACH)
@pytest.mark.parametrize("how", ["data", "assign"])
@pytest.mark.parametrize("name, key, value", STATE_KEYS, ids=[f"{n}-{k}" for n, k, _ in STATE_KEYS])
def test_replaced_optimizer_state_is_read_and_written(name, key, value, how, kw):
    """``opt.state[p][key].data = t`` and ``opt.state[p][key] = t`` (e.g. ``momentum_buffer``, ``exp_avg``):
    the next steps read and update ``t``. Before that, a state tensor kept by the user
    (``m = opt.state[p]["exp_avg"]``) and ``opt.state_dict()["state"][0][key]`` are the live tensor."""
    theirs = run_both(lambda lib: replaced_state_program(lib, name, key, value, how, kw))
    assert not np.allclose(theirs["kept_before"], theirs["kept_live"])
    np.testing.assert_array_equal(theirs["kept_live"], theirs["current_before"])
    assert not np.allclose(theirs["new1"], value)
    if how == "assign":
        np.testing.assert_array_equal(theirs["kept1"], theirs["kept_live"])
    else:
        np.testing.assert_array_equal(theirs["kept1"], theirs["new1"])


# -- EMA of weights through .data ---------------------------------------------------------------


def ema_program(lib, name: str, kw: dict, source: str) -> dict:
    model = mlp(lib)
    x, y = f64(lib, X), f64(lib, Y1)
    ema = copy.deepcopy(model)
    early = [p.data for p in model.parameters()] if source == "early" else None
    opt = make_optimizer(lib, name, model.parameters(), kw)
    out = {}
    for step in range(5):
        train_step(lib, opt, model, x, y)
        sources = early if early is not None else [p.data for p in model.parameters()]
        for pe, data in zip(ema.parameters(), sources):
            pe.data.mul_(0.9).add_(0.1 * data)
        out.update(snap_module(f"ema{step}", ema))
    out.update(snap_module("model", model))
    return out


@pytest.mark.parametrize("kw", FOREACH)
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("source", ["fresh", "early"])
def test_ema_through_data(source, name, kw):
    """``ema.data.mul_(0.9).add_(0.1 * p.data)`` after each of 5 steps, with ``p.data`` taken at each step
    ("fresh") or once, before the optimizer exists ("early")."""
    theirs = run_both(lambda lib: ema_program(lib, name, kw, source))
    if source == "early":
        np.testing.assert_array_equal(theirs["ema4.0.weight"], ema_program(torch, name, kw, "fresh")["ema4.0.weight"])
    assert not np.allclose(theirs["ema4.0.weight"], theirs["model.0.weight"])


# -- two optimizers on the same parameters ------------------------------------------------------

PAIRS = [("SGD", "Adam"), ("Adam", "SGD"), ("Rprop", "Adagrad"), ("Adam", "Adam")]


def two_optimizers_program(lib, first: str, second: str, kw: dict) -> dict:
    model = mlp(lib)
    x, y = f64(lib, X), f64(lib, Y1)
    optimizers = [make_optimizer(lib, first, model.parameters(), kw),
                  make_optimizer(lib, second, model.parameters(), kw)]
    out = {}
    for step in range(6):
        train_step(lib, optimizers[step % 2], model, x, y)
        out.update(snap_module(f"step{step}", model))
    for i, opt in enumerate(optimizers):
        for j, p in enumerate(model.parameters()):
            for k, v in opt.state[p].items():
                out[f"opt{i}.param{j}.{k}"] = snap(v)
    return out


@pytest.mark.parametrize("kw", FOREACH)
@pytest.mark.parametrize("first, second", PAIRS, ids=[f"{a}-{b}" for a, b in PAIRS])
def test_two_optimizers_on_the_same_parameters(first, second, kw):
    """Two optimizers (e.g. SGD and Adam) over the same parameters, stepping in turn."""
    run_both(lambda lib: two_optimizers_program(lib, first, second, kw))


# -- model.double() between optimizers ----------------------------------------------------------

X_DYADIC = [[0.5, -1.0, 0.25], [1.5, 0.75, -0.5], [-0.25, 0.5, 1.0], [1.0, -0.75, 0.5]]
W_DYADIC, B_DYADIC = [[0.25, -0.5, 0.125], [0.375, 0.25, -0.625]], [0.0625, -0.125]


def double_program(lib, name: str, kw: dict) -> dict:
    lin = lib.nn.Linear(3, 2)
    with lib.no_grad():
        lin.weight.copy_(lib.tensor(W_DYADIC))
        lin.bias.copy_(lib.tensor(B_DYADIC))
    opt32 = lib.optim.SGD(lin.parameters(), lr=0.25, momentum=0.5, **kw)
    x32 = lib.tensor(X_DYADIC)
    out = {}
    for step in range(3):  # a linear loss: every float32 value below is exact
        opt32.zero_grad()
        lin(x32).sum().backward()
        opt32.step()
        out.update(snap_module(f"float32.step{step}", lin))
        if step == 0:
            alias = lin.weight.detach()
    out["float32.alias"] = snap(alias)
    lin.double()
    opt = make_optimizer(lib, name, lin.parameters(), kw)
    x, y = f64(lib, X), f64(lib, Y2)
    for step in range(3):
        train_step(lib, opt, lin, x, y)
        out.update(snap_module(f"float64.step{step}", lin))
    out["alias"] = snap(alias)
    return out


@pytest.mark.parametrize("kw", FOREACH)
@pytest.mark.parametrize("name", NAMES)
def test_model_double_after_float32_steps_then_new_optimizer(name, kw):
    """``model.double()`` after 3 float32 steps, then a new optimizer and 3 float64 steps."""
    theirs = run_both(lambda lib: double_program(lib, name, kw))
    assert theirs["float32.step2.weight"].dtype == np.float32
    assert theirs["float64.step2.weight"].dtype == np.float64
    np.testing.assert_array_equal(theirs["alias"], theirs["float32.step2.weight"])


# -- vector_to_parameters --------------------------------------------------------------------


def vector_program(lib, name: str, kw: dict) -> dict:
    model = mlp(lib)
    x, y = f64(lib, X), f64(lib, Y1)
    opt = make_optimizer(lib, name, model.parameters(), kw)
    out = {}
    for _ in range(2):
        train_step(lib, opt, model, x, y)
    with lib.no_grad():
        vec = lib.nn.utils.parameters_to_vector(model.parameters())
        out["vec"] = snap(vec)
        new_vec = vec * 0.5 + 0.01
    lib.nn.utils.vector_to_parameters(new_vec, model.parameters())
    out.update(snap_module("written", model))
    for step in range(2):
        train_step(lib, opt, model, x, y)
        out.update(snap_module(f"step{step}", model))
    out["new_vec"] = snap(new_vec)
    with lib.no_grad():
        out["final_vec"] = snap(lib.nn.utils.parameters_to_vector(model.parameters()))
    return out


@pytest.mark.parametrize("kw", FOREACH)
@pytest.mark.parametrize("name", NAMES)
def test_vector_to_parameters_between_steps(name, kw):
    """``vector_to_parameters(vec, model.parameters())`` between steps: the next step starts from the written
    values (and the parameters then live in ``vec``'s memory, as torch's ``param.data = vec[...]``)."""
    theirs = run_both(lambda lib: vector_program(lib, name, kw))
    np.testing.assert_array_equal(theirs["new_vec"], theirs["final_vec"])
