"""The layers, activations and losses added for published MLP programs, against torch in float64: values,
gradients of inputs and parameters, second derivatives (create_graph), state dicts, reprs and errors."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest
import torch
from conftest import assert_close, to_torch

import minigrad
import minigrad.nn as nn
import minigrad.nn.functional as F


def mg(a: np.ndarray, requires_grad: bool = True) -> minigrad.Tensor:
    return minigrad.tensor(a, requires_grad=requires_grad)


def check(fn, tfn, arrays: list, grad_of: tuple | None = None, second: bool = True, extra=(), textra=()) -> None:
    """``fn(*tensors)`` and ``tfn(*torch_tensors)`` agree in value, gradient (of the inputs listed in
    ``grad_of``, plus the parameters ``extra``/``textra``) and, with ``second``, in the gradient of a weighted
    sum of the first gradients (a second derivative, through create_graph)."""
    grad_of = tuple(range(len(arrays))) if grad_of is None else grad_of
    xs = [mg(a, i in grad_of) for i, a in enumerate(arrays)]
    txs = [to_torch(x) for x in xs]
    out, tout = fn(*xs), tfn(*txs)
    assert_close(out, tout)
    wrt = [xs[i] for i in grad_of] + list(extra)
    twrt = [txs[i] for i in grad_of] + list(textra)
    v = np.random.default_rng(7).standard_normal(tuple(tout.shape))
    gs = minigrad.autograd.grad(out, wrt, mg(v, False), create_graph=second, allow_unused=True,
                                materialize_grads=True)
    tgs = torch.autograd.grad(tout, twrt, torch.from_numpy(v), create_graph=second, allow_unused=True,
                              materialize_grads=True)
    for g, tg in zip(gs, tgs):
        assert_close(g, tg)
    if not second:
        return
    ws = [np.random.default_rng(11 + i).standard_normal(tuple(tg.shape)) for i, tg in enumerate(tgs)]
    s = sum((g * mg(w, False)).sum() for g, w in zip(gs, ws) if g.requires_grad)
    ts = sum((tg * torch.from_numpy(w)).sum() for tg, w in zip(tgs, ws) if tg.requires_grad)
    if not isinstance(ts, torch.Tensor):
        return  # linear in everything: no second derivative
    ths = torch.autograd.grad(ts, twrt, allow_unused=True, materialize_grads=True)
    if isinstance(s, minigrad.Tensor) and s.requires_grad:
        hs = minigrad.autograd.grad(s, wrt, allow_unused=True, materialize_grads=True)
    else:  # the first gradients do not depend on the inputs: the second derivatives are zeros
        hs = [minigrad.zeros(*t.shape, dtype=t.dtype) for t in wrt]
    for h, th in zip(hs, ths):
        assert_close(h, torch.zeros_like(th) if th._is_zerotensor() else th)


@pytest.fixture
def x() -> np.ndarray:
    a = np.random.default_rng(0).standard_normal((4, 5)) * 2
    a[0, 0] = 0.0  # the kinks of the piecewise functions
    a[1, 1] = 1.0
    a[1, 2] = -1.0
    return a


# -- activations ------------------------------------------------------------------------------

ACTIVATIONS = [
    ("gelu", lambda t: F.gelu(t), lambda t: torch.nn.functional.gelu(t)),
    ("gelu_tanh", lambda t: F.gelu(t, approximate="tanh"), lambda t: torch.nn.functional.gelu(t, approximate="tanh")),
    ("silu", F.silu, torch.nn.functional.silu),
    ("elu", lambda t: F.elu(t, 0.7), lambda t: torch.nn.functional.elu(t, 0.7)),
    ("softplus", F.softplus, torch.nn.functional.softplus),
    ("softplus_beta", lambda t: F.softplus(t, 2.0, 3.0), lambda t: torch.nn.functional.softplus(t, 2.0, 3.0)),
    ("hardtanh", F.hardtanh, torch.nn.functional.hardtanh),
    ("hardtanh_range", lambda t: F.hardtanh(t, -0.5, 2.0), lambda t: torch.nn.functional.hardtanh(t, -0.5, 2.0)),
    ("relu6", F.relu6, torch.nn.functional.relu6),
]


@pytest.mark.parametrize("name,fn,tfn", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_functions_match_torch_to_second_order(x, name, fn, tfn):
    check(fn, tfn, [x], second=False)  # first derivatives at the kinks too
    check(fn, tfn, [x + 0.01])  # second derivatives away from them (torch's own differ from its first's slopes)


MODULES = [
    (lambda: nn.GELU(), lambda: torch.nn.GELU()),
    (lambda: nn.GELU("tanh"), lambda: torch.nn.GELU("tanh")),
    (lambda: nn.SiLU(), lambda: torch.nn.SiLU()),
    (lambda: nn.ELU(alpha=2.0), lambda: torch.nn.ELU(alpha=2.0)),
    (lambda: nn.Softplus(beta=2, threshold=10), lambda: torch.nn.Softplus(beta=2, threshold=10)),
    (lambda: nn.Hardtanh(0.5, 2), lambda: torch.nn.Hardtanh(0.5, 2)),
    (lambda: nn.ReLU6(), lambda: torch.nn.ReLU6()),
]


@pytest.mark.parametrize("make,tmake", MODULES)
def test_activation_modules_match_torch(x, make, tmake):
    m, tm = make(), tmake()
    assert repr(m) == repr(tm)
    check(m, tm, [x], second=False)


def test_softplus_is_linear_above_the_threshold_without_overflow():
    a = np.array([-800.0, -30.0, 19.0, 21.0, 800.0])
    check(F.softplus, torch.nn.functional.softplus, [a])
    check(lambda t: F.elu(t), lambda t: torch.nn.functional.elu(t), [a])


def test_inplace_activations(x):
    for fn, tfn in ((lambda t: F.silu(t, inplace=True), lambda t: torch.nn.functional.silu(t, inplace=True)),
                    (lambda t: F.elu(t, inplace=True), lambda t: torch.nn.functional.elu(t, inplace=True)),
                    (lambda t: F.hardtanh(t, inplace=True), lambda t: torch.nn.functional.hardtanh(t, inplace=True))):
        check(lambda t, fn=fn: fn(t * 1.0), lambda t, tfn=tfn: tfn(t * 1.0), [x + 0.01])


@pytest.mark.parametrize("shape,n", [((4, 3), 3), ((4, 3, 5), 3), ((4, 3), 1), ((6,), 1), ((), 1)])
def test_prelu_matches_torch(shape, n):
    rng = np.random.default_rng(3)
    a, w = rng.standard_normal(shape), rng.standard_normal(n)
    check(F.prelu, torch.nn.functional.prelu, [a, w])
    m, tm = nn.PReLU(n, dtype=minigrad.float64), torch.nn.PReLU(n).double()
    assert repr(m) == repr(tm) and list(m.state_dict()) == list(tm.state_dict())
    assert_close(m.weight, tm.weight)
    check(m, tm, [a], extra=[m.weight], textra=[tm.weight])


def test_prelu_errors():
    for inp, w in ((np.zeros((2, 4)), np.zeros(3)), (np.zeros((2, 3)), np.zeros((3, 1)))):
        with pytest.raises(RuntimeError) as ours:
            F.prelu(mg(inp), mg(w))
        with pytest.raises(RuntimeError) as theirs:
            torch.nn.functional.prelu(torch.from_numpy(inp), torch.from_numpy(w))
        assert str(ours.value) == str(theirs.value)


def test_errors_of_activations():
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh."):
        F.gelu(minigrad.zeros(2), approximate="foo")
    with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
        F.hardtanh(minigrad.zeros(2), 2.0, 1.0)
    with pytest.raises(AssertionError, match=r"max_val \(1\) must be greater than min_val \(2\)"):
        nn.Hardtanh(2, 1)


# -- normalization ----------------------------------------------------------------------------


@pytest.mark.parametrize("shape,normalized", [((4, 5), 5), ((2, 3, 4), (3, 4)), ((3, 6), [6])])
def test_layer_norm_matches_torch_to_second_order(shape, normalized):
    rng = np.random.default_rng(4)
    ns = (normalized,) if isinstance(normalized, int) else tuple(normalized)
    a, w, b = rng.standard_normal(shape) * 3 + 1, rng.standard_normal(ns), rng.standard_normal(ns)
    check(lambda t, w, b: F.layer_norm(t, normalized, w, b),
          lambda t, w, b: torch.nn.functional.layer_norm(t, ns, w, b), [a, w, b])
    check(lambda t: F.layer_norm(t, normalized, eps=0.1), lambda t: torch.nn.functional.layer_norm(t, ns, eps=0.1),
          [a])


def test_layer_norm_module(x):
    m, tm = nn.LayerNorm(5, dtype=minigrad.float64), torch.nn.LayerNorm(5).double()
    assert repr(m) == repr(tm) and list(m.state_dict()) == list(tm.state_dict())
    with minigrad.no_grad():
        m.weight.copy_(minigrad.tensor(np.arange(5.0)))
    with torch.no_grad():
        tm.weight.copy_(torch.arange(5.0))
    check(m, tm, [x], extra=[m.weight, m.bias], textra=[tm.weight, tm.bias])
    for args in ((3,), ((2, 3), 1e-3, False), (3, 1e-5, True, False)):
        assert repr(nn.LayerNorm(*args)) == repr(torch.nn.LayerNorm(*args))
        assert list(nn.LayerNorm(*args).state_dict()) == list(torch.nn.LayerNorm(*args).state_dict())


def test_layer_norm_errors():
    for ns, shape in ((4, (2, 3)), ([2, 4], (2, 3))):
        with pytest.raises(RuntimeError) as ours:
            nn.LayerNorm(ns)(minigrad.zeros(*shape))
        with pytest.raises(RuntimeError) as theirs:
            torch.nn.LayerNorm(ns)(torch.zeros(*shape))
        assert str(ours.value) == str(theirs.value)
    with pytest.raises(RuntimeError) as ours:
        F.layer_norm(minigrad.zeros(2, 3), (3,), minigrad.ones(4))
    with pytest.raises(RuntimeError) as theirs:
        torch.nn.functional.layer_norm(torch.zeros(2, 3), (3,), torch.ones(4))
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5)])
@pytest.mark.parametrize("kwargs", [{}, {"momentum": None}, {"momentum": 0.3, "affine": False},
                                    {"track_running_stats": False}, {"bias": False}])
def test_batch_norm_1d_trains_and_evaluates_as_torch(shape, kwargs):
    rng = np.random.default_rng(5)
    m, tm = nn.BatchNorm1d(3, dtype=minigrad.float64, **kwargs), torch.nn.BatchNorm1d(3, **kwargs).double()
    assert repr(m) == repr(tm)
    if m.weight is not None:
        with minigrad.no_grad():
            m.weight.copy_(minigrad.tensor([0.5, 2.0, -1.0]))
        with torch.no_grad():
            tm.weight.copy_(torch.tensor([0.5, 2.0, -1.0]))
    params = [p for p in (m.weight, m.bias) if p is not None]
    tparams = [p for p in (tm.weight, tm.bias) if p is not None]
    for step in range(4):
        a = rng.standard_normal(shape) * (step + 1) + step
        check(m, tm, [a], extra=params, textra=tparams, second=step == 0)
        sd, tsd = m.state_dict(), tm.state_dict()
        assert list(sd) == list(tsd)
        for k in sd:
            assert_close(sd[k], tsd[k])
    m.eval()
    tm.eval()
    check(m, tm, [rng.standard_normal(shape)], extra=params, textra=tparams)
    assert_close(m.state_dict().get("num_batches_tracked", minigrad.tensor(0)),
                 tm.state_dict().get("num_batches_tracked", torch.tensor(0)))


def test_batch_norm_state_dict_round_trip_and_dtype():
    m = nn.BatchNorm1d(3)
    m(minigrad.randn(5, 3))
    m2 = nn.BatchNorm1d(3)
    m2.load_state_dict(m.state_dict())
    assert m2.num_batches_tracked.item() == 1 and m2.num_batches_tracked.dtype == minigrad.int64
    assert np.array_equal(m2.running_var.numpy(), m.running_var.numpy())
    m.double()
    assert m.running_mean.dtype == minigrad.float64 and m.num_batches_tracked.dtype == minigrad.int64
    assert copy.deepcopy(m).num_batches_tracked.item() == 1


def test_functional_batch_norm_matches_torch():
    rng = np.random.default_rng(6)
    a, rm, rv = rng.standard_normal((5, 3)), rng.standard_normal(3), rng.random(3) + 0.5
    w, b = rng.standard_normal(3), rng.standard_normal(3)
    for training in (False, True):
        rmm, rvm = mg(rm, False), mg(rv, False)
        trm, trv = torch.from_numpy(rm.copy()), torch.from_numpy(rv.copy())
        check(lambda t, w, b, rm=rmm, rv=rvm, tr=training: F.batch_norm(t, rm, rv, w, b, tr, 0.2),
              lambda t, w, b, rm=trm, rv=trv, tr=training: torch.nn.functional.batch_norm(t, rm, rv, w, b, tr, 0.2),
              [a, w, b], second=False)
        assert_close(rmm, trm)
        assert_close(rvm, trv)


def test_batch_norm_errors():
    for shape in ((1, 3), (2, 4), (2, 3, 4, 5), (3,), (1, 3, 1)):
        with pytest.raises((ValueError, RuntimeError)) as ours:
            nn.BatchNorm1d(3)(minigrad.zeros(*shape))
        with pytest.raises((ValueError, RuntimeError)) as theirs:
            torch.nn.BatchNorm1d(3)(torch.zeros(*shape))
        assert type(ours.value) is type(theirs.value)
        assert str(ours.value) == str(theirs.value).replace("torch.", "minigrad.")
    with pytest.raises(RuntimeError, match="running_mean must be defined in evaluation mode"):
        F.batch_norm(minigrad.zeros(2, 3), None, None)


# -- embedding --------------------------------------------------------------------------------


def test_embedding_matches_torch():
    m, tm = nn.Embedding(6, 3, padding_idx=2, dtype=minigrad.float64), torch.nn.Embedding(6, 3, padding_idx=2)
    assert repr(m) == repr(tm) and list(m.state_dict()) == list(tm.state_dict())
    assert np.array_equal(m.weight.detach().numpy()[2], np.zeros(3))
    tm.double().load_state_dict({"weight": to_torch(m.weight, False)})
    idx = np.array([[0, 2, 5], [2, 1, 0]])
    out, tout = m(minigrad.tensor(idx)), tm(torch.from_numpy(idx))
    assert_close(out, tout)
    g = np.random.default_rng(1).standard_normal((2, 3, 3))
    out.backward(minigrad.tensor(g))
    tout.backward(torch.from_numpy(g))
    assert_close(m.weight.grad, tm.weight.grad)
    assert np.array_equal(m.weight.grad.numpy()[2], np.zeros(3))
    assert repr(nn.Embedding(3, 4, max_norm=1.0)) == repr(torch.nn.Embedding(3, 4, max_norm=1.0))
    assert nn.Embedding(5, 2, padding_idx=-1).padding_idx == 4


def test_embedding_from_pretrained_and_max_norm():
    table = np.random.default_rng(2).standard_normal((4, 3)) * 2
    m = nn.Embedding.from_pretrained(minigrad.tensor(table))
    tm = torch.nn.Embedding.from_pretrained(torch.from_numpy(table.copy()))
    assert not m.weight.requires_grad and repr(m) == repr(tm)
    m = nn.Embedding.from_pretrained(minigrad.tensor(table), freeze=False, max_norm=1.5)
    tm = torch.nn.Embedding.from_pretrained(torch.from_numpy(table.copy()), freeze=False, max_norm=1.5)
    idx = np.array([3, 0, 3])
    out, tout = m(minigrad.tensor(idx)), tm(torch.from_numpy(idx))
    assert_close(out, tout)
    assert_close(m.weight, tm.weight)  # the rows read were renormalized in place, the others kept
    check(lambda w: F.embedding(minigrad.tensor(idx), w, padding_idx=0),
          lambda w: torch.nn.functional.embedding(torch.from_numpy(idx), w, padding_idx=0), [table])


def test_embedding_errors():
    e, te = nn.Embedding(3, 4), torch.nn.Embedding(3, 4)
    for idx in ([3], [-1], [-4]):
        with pytest.raises(IndexError, match="index out of range in self"):
            e(minigrad.tensor(idx))
        with pytest.raises(IndexError, match="index out of range in self"):
            te(torch.tensor(idx))
    with pytest.raises(RuntimeError) as ours:
        e(minigrad.tensor([1.0]))
    with pytest.raises(RuntimeError) as theirs:
        te(torch.tensor([1.0]))
    assert str(ours.value) == str(theirs.value).replace("torch.", "minigrad.")
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(3, 4, padding_idx=3)
    with pytest.raises(AssertionError, match="Embeddings parameter is expected to be 2-dimensional"):
        nn.Embedding.from_pretrained(minigrad.zeros(3))


# -- shapes and distances ---------------------------------------------------------------------


def test_unflatten():
    m, tm = nn.Unflatten(1, (2, 3)), torch.nn.Unflatten(1, (2, 3))
    assert repr(m) == repr(tm)
    check(m, tm, [np.random.default_rng(0).standard_normal((4, 6, 2))], second=False)
    check(nn.Unflatten(-1, (2, -1)), torch.nn.Unflatten(-1, (2, -1)), [np.zeros((3, 6))], second=False)
    with pytest.raises(RuntimeError) as ours:
        m(minigrad.zeros(2, 5))
    with pytest.raises(RuntimeError) as theirs:
        tm(torch.zeros(2, 5))
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("shapes,dim", [(((4, 5), (4, 5)), 1), (((4, 5), (1, 5)), 1), (((3, 4, 2), (3, 4, 2)), -1),
                                        (((5,), (5,)), 0)])
def test_cosine_similarity_matches_torch(shapes, dim):
    rng = np.random.default_rng(8)
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    check(lambda p, q: F.cosine_similarity(p, q, dim), lambda p, q: torch.nn.functional.cosine_similarity(p, q, dim),
          [a, b])
    m, tm = nn.CosineSimilarity(dim), torch.nn.CosineSimilarity(dim)
    assert repr(m) == repr(tm)
    check(m, tm, [a, b], second=False)


def test_cosine_similarity_of_a_zero_vector():
    a, b = np.zeros((2, 3)), np.ones((2, 3))
    check(F.cosine_similarity, torch.nn.functional.cosine_similarity, [a, b], second=False)


# -- losses -----------------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name,kw", [("huber_loss", {}), ("huber_loss", {"delta": 0.5}), ("smooth_l1_loss", {}),
                                     ("smooth_l1_loss", {"beta": 2.0}), ("smooth_l1_loss", {"beta": 0.0})])
def test_robust_regression_losses_match_torch(x, reduction, name, kw):
    t = np.random.default_rng(9).standard_normal(x.shape)
    t[0, 0] = x[0, 0]  # a zero difference
    check(lambda a, b: getattr(F, name)(a, b, reduction=reduction, **kw),
          lambda a, b: getattr(torch.nn.functional, name)(a, b, reduction=reduction, **kw), [x, t])


def test_loss_modules_match_torch(x):
    t = np.random.default_rng(10).standard_normal(x.shape)
    for m, tm in ((nn.HuberLoss(delta=2.0), torch.nn.HuberLoss(delta=2.0)),
                  (nn.SmoothL1Loss(beta=0.5, reduction="sum"), torch.nn.SmoothL1Loss(beta=0.5, reduction="sum"))):
        assert repr(m) == repr(tm)
        check(m, tm, [x, t], grad_of=(0,))
    w = np.random.default_rng(12).random(x.shape)
    check(lambda a, b: F.huber_loss(a, b, weight=mg(w, False)),
          lambda a, b: torch.nn.functional.huber_loss(a, b, weight=torch.from_numpy(w)), [x, t])


@pytest.mark.parametrize("reduction", ["batchmean", "sum", "none", "mean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_matches_torch(reduction, log_target):
    rng = np.random.default_rng(13)
    logits, tlogits = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    inp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    target = tlogits - np.log(np.exp(tlogits).sum(1, keepdims=True))
    if not log_target:
        target = np.exp(target)
        target[0, 1] = 0.0  # 0 * log 0 counts as 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target),
              lambda a, b: torch.nn.functional.kl_div(a, b, reduction=reduction, log_target=log_target),
              [inp, target], grad_of=(0,) if not log_target else (0, 1))
        m = nn.KLDivLoss(reduction=reduction, log_target=log_target)
        tm = torch.nn.KLDivLoss(reduction=reduction, log_target=log_target)
        assert repr(m) == repr(tm)
        check(m, tm, [inp, target], grad_of=(0,), second=False)


def test_loss_warnings_and_errors():
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        F.kl_div(minigrad.zeros(2, 3), minigrad.ones(2, 3))
    with pytest.raises(ValueError, match="foo is not a valid value for reduction"):
        F.kl_div(minigrad.zeros(2, 3), minigrad.ones(2, 3), reduction="foo")
    with pytest.raises(RuntimeError, match="smooth_l1_loss does not support negative values for beta."):
        F.smooth_l1_loss(minigrad.zeros(3), minigrad.zeros(3), beta=-1.0)
    for delta in (0.0, -1.0):
        with pytest.raises(RuntimeError, match="huber_loss does not support non-positive values for delta."):
            F.huber_loss(minigrad.zeros(3), minigrad.zeros(3), delta=delta)
    with pytest.warns(UserWarning, match="Using a target size"):
        F.huber_loss(minigrad.zeros(3, 1), minigrad.zeros(3))


# -- containers -------------------------------------------------------------------------------


def test_module_dict():
    m = nn.ModuleDict({"fc": nn.Linear(2, 3), "act": nn.ReLU()})
    tm = torch.nn.ModuleDict({"fc": torch.nn.Linear(2, 3), "act": torch.nn.ReLU()})
    assert repr(m) == repr(tm) and list(m.state_dict()) == list(tm.state_dict())
    m["out"] = nn.Linear(3, 1)
    assert list(m) == ["fc", "act", "out"] and len(m) == 3 and "out" in m
    assert [n for n, _ in m.named_parameters()] == ["fc.weight", "fc.bias", "out.weight", "out.bias"]
    assert isinstance(m.pop("act"), nn.ReLU) and list(m.keys()) == ["fc", "out"]
    m.update([("act", nn.Tanh())])
    assert list(m) == ["fc", "out", "act"]
    del m["fc"]
    assert list(m) == ["out", "act"]


def test_parameter_list_and_dict():
    pl = nn.ParameterList([nn.Parameter(minigrad.ones(2)), minigrad.zeros(3)])
    tpl = torch.nn.ParameterList([torch.nn.Parameter(torch.ones(2)), torch.zeros(3)])
    assert repr(pl) == repr(tpl).replace("torch.", "minigrad.")
    assert list(pl.state_dict()) == list(tpl.state_dict()) == ["0", "1"]
    assert isinstance(pl[1], nn.Parameter) and pl[1].requires_grad and len(pl) == 2 and pl[-1] is pl[1]
    pl.append(minigrad.ones(1))
    assert len(list(pl.parameters())) == 3 and len(pl[1:]) == 2
    pd = nn.ParameterDict({"a": nn.Parameter(minigrad.ones(2)), "b": minigrad.zeros(3)})
    tpd = torch.nn.ParameterDict({"a": torch.nn.Parameter(torch.ones(2)), "b": torch.zeros(3)})
    assert repr(pd) == repr(tpd).replace("torch.", "minigrad.")
    assert list(pd.state_dict()) == list(tpd.state_dict()) == ["a", "b"]
    assert isinstance(pd["b"], nn.Parameter) and "a" in pd and len(pd) == 2 and list(pd.keys()) == ["a", "b"]
    pd["c"] = minigrad.ones(1)
    assert [n for n, _ in pd.named_parameters()] == ["a", "b", "c"]
    assert pd.pop("a").shape == (2,) and list(pd) == ["b", "c"] and pd.get("z") is None

    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ws = nn.ParameterList([minigrad.ones(2, 2) for _ in range(2)])

        def forward(self, x):
            for w in self.ws:
                x = x @ w
            return x.sum()

    model = Model()
    model(minigrad.ones(1, 2)).backward()
    assert all(p.grad is not None for p in model.parameters())
    assert list(model.state_dict()) == ["ws.0", "ws.1"]


# -- hooks ------------------------------------------------------------------------------------


def _run_hooks(lib, x_requires_grad: bool) -> list:
    torch_like = torch if lib == "torch" else minigrad
    layer = torch_like.nn.Linear(3, 2).double()
    with torch_like.no_grad():
        layer.weight.copy_(torch_like.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], dtype=torch_like.float64))
    calls = []

    def pre(module, grad_output):
        calls.append(("pre", [g.shape for g in grad_output]))
        return (grad_output[0] * 2,)

    def post(module, grad_input, grad_output):
        calls.append(("post", [None if g is None else g.numpy().round(8).tolist() for g in grad_input],
                      [g.numpy().round(8).tolist() for g in grad_output]))

    layer.register_full_backward_pre_hook(pre)
    handle = layer.register_full_backward_hook(post)
    x = torch_like.tensor([[1.0, 2.0, 3.0]], dtype=torch_like.float64, requires_grad=x_requires_grad)
    layer(x).sum().backward()
    calls.append(("x.grad", None if x.grad is None else x.grad.numpy().round(8).tolist(),
                  layer.weight.grad.numpy().round(8).tolist()))
    handle.remove()
    layer(x).sum().backward()
    return calls


@pytest.mark.parametrize("x_requires_grad", [True, False])
def test_full_backward_hooks_match_torch(x_requires_grad):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ours = _run_hooks("minigrad", x_requires_grad)
        n = len(caught)
        theirs = _run_hooks("torch", x_requires_grad)
    assert ours == theirs
    assert [str(w.message) for w in caught[:n]] == [str(w.message) for w in caught[n:]]
    assert n == (0 if x_requires_grad else 2)


def test_backward_hook_can_replace_grad_input_and_forward_hooks_with_kwargs():
    layer = nn.Linear(3, 2)
    layer.register_full_backward_hook(lambda m, gi, go: (gi[0] * 0,))
    x = minigrad.ones(1, 3, requires_grad=True)
    layer(x).sum().backward()
    assert np.array_equal(x.grad.numpy(), np.zeros((1, 3)))

    class Scale(nn.Module):
        def forward(self, x, scale=1.0):
            return x * scale

    m = Scale()
    seen = []
    m.register_forward_pre_hook(lambda mod, args, kwargs: (args, {"scale": 3.0}), with_kwargs=True)
    m.register_forward_hook(lambda mod, args, kwargs, out: seen.append(kwargs) or out + 1, with_kwargs=True)
    assert m(minigrad.tensor(2.0)).item() == 7.0 and seen == [{"scale": 3.0}]
