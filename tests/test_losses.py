"""Every loss with every reduction against torch in float64: the value and the gradients (to 1e-10)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import assert_close

import minigrad
import minigrad.nn as nn
import minigrad.nn.functional as F

REDUCTIONS = ["mean", "sum", "none"]


def _inputs(rng: np.random.Generator, case: str) -> tuple:
    """(input, target, extra keyword arguments as NumPy arrays or plain values) for a loss case."""
    if case in ("mse", "l1"):
        return rng.standard_normal((4, 3)), rng.standard_normal((4, 3)), {}
    if case == "mse_weight":
        return rng.standard_normal((4, 3)), rng.standard_normal((4, 3)), {"weight": rng.random((4, 3))}
    if case == "bce":
        return rng.uniform(0.02, 0.98, (5, 3)), rng.random((5, 3)), {}
    if case == "bce_weight":
        return rng.uniform(0.02, 0.98, (5, 3)), rng.random((5, 3)), {"weight": rng.random(3)}
    if case == "bce_logits":
        return rng.standard_normal((5, 3)) * 4, rng.random((5, 3)), {}
    if case == "bce_logits_weights":
        return (rng.standard_normal((5, 3)) * 4, rng.random((5, 3)),
                {"weight": rng.random((5, 3)), "pos_weight": rng.random(3) * 3})
    if case == "ce":
        return rng.standard_normal((6, 4)), rng.integers(0, 4, 6), {}
    if case == "ce_weight_ignore":
        target = rng.integers(0, 4, 6)
        target[2] = -100
        return rng.standard_normal((6, 4)), target, {"weight": rng.random(4) + 0.1}
    if case == "ce_custom_ignore_index":
        return rng.standard_normal((6, 4)), np.array([0, 3, 1, 3, 2, 0]), {"ignore_index": 3}
    if case == "ce_spatial":
        return rng.standard_normal((2, 4, 3, 2)), rng.integers(0, 4, (2, 3, 2)), {"weight": rng.random(4)}
    if case == "ce_unbatched":
        return rng.standard_normal(5), np.array(2), {}
    if case == "ce_uint8_target":
        return rng.standard_normal((6, 4)), rng.integers(0, 4, 6).astype(np.uint8), {}
    if case == "ce_probabilities":
        p = rng.random((6, 4))
        return rng.standard_normal((6, 4)), p / p.sum(1, keepdims=True), {"weight": rng.random(4)}
    if case == "ce_label_smoothing":
        target = rng.integers(0, 4, 6)
        target[0] = -100
        return rng.standard_normal((6, 4)), target, {"label_smoothing": 0.2, "weight": rng.random(4) + 0.1}
    if case == "ce_label_smoothing_probabilities":
        p = rng.random((6, 4))
        return rng.standard_normal((6, 4)), p / p.sum(1, keepdims=True), {"label_smoothing": 0.3}
    if case == "nll":
        return np.log(rng.dirichlet(np.ones(4), 6)), rng.integers(0, 4, 6), {}
    if case == "nll_weight_ignore":
        target = rng.integers(0, 4, 6)
        target[[1, 4]] = -100
        return np.log(rng.dirichlet(np.ones(4), 6)), target, {"weight": rng.random(4) + 0.1}
    raise KeyError(case)


FUNCTIONS = {
    "mse": "mse_loss", "mse_weight": "mse_loss", "l1": "l1_loss", "bce": "binary_cross_entropy",
    "bce_weight": "binary_cross_entropy", "bce_logits": "binary_cross_entropy_with_logits",
    "bce_logits_weights": "binary_cross_entropy_with_logits", "nll": "nll_loss", "nll_weight_ignore": "nll_loss",
}


def _function(case: str) -> str:
    return FUNCTIONS.get(case, "cross_entropy")


def _pair(value, requires_grad: bool) -> tuple:
    """The same array as a minigrad and as a torch tensor."""
    if not isinstance(value, np.ndarray):
        return value, value
    ours = minigrad.tensor(value, requires_grad=requires_grad)
    theirs = torch.from_numpy(value.copy()).requires_grad_(requires_grad)
    return ours, theirs


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", ["mse", "mse_weight", "l1", "bce", "bce_weight", "bce_logits",
                                  "bce_logits_weights", "ce", "ce_weight_ignore", "ce_custom_ignore_index",
                                  "ce_spatial", "ce_unbatched", "ce_uint8_target",
                                  "ce_probabilities", "ce_label_smoothing",
                                  "ce_label_smoothing_probabilities", "nll", "nll_weight_ignore"])
def test_loss_value_and_gradients_match_torch(rng, case, reduction):
    x, target, extra = _inputs(rng, case)
    target_grad = target.dtype.kind == "f"  # torch also differentiates w.r.t. float targets
    x, tx = _pair(x, True)
    y, ty = _pair(target, target_grad)
    ours_kw = {k: _pair(v, False)[0] for k, v in extra.items()}
    theirs_kw = {k: _pair(v, False)[1] for k, v in extra.items()}
    name = _function(case)
    loss = getattr(F, name)(x, y, reduction=reduction, **ours_kw)
    ref = getattr(torch.nn.functional, name)(tx, ty, reduction=reduction, **theirs_kw)
    assert_close(loss, ref)
    g = rng.standard_normal(tuple(ref.shape))
    loss.backward(minigrad.tensor(g))
    ref.backward(torch.from_numpy(g))
    assert_close(x.grad, tx.grad)
    if target_grad:
        assert_close(y.grad, ty.grad)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["MSELoss", "L1Loss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss",
                                  "NLLLoss"])
def test_loss_modules_match_torch(rng, name, reduction):
    case = {"MSELoss": "mse", "L1Loss": "l1", "BCELoss": "bce_weight", "BCEWithLogitsLoss": "bce_logits_weights",
            "CrossEntropyLoss": "ce_weight_ignore", "NLLLoss": "nll_weight_ignore"}[name]
    x, target, extra = _inputs(rng, case)
    x, tx = _pair(x, True)
    y, ty = _pair(target, False)
    ours = getattr(nn, name)(reduction=reduction, **{k: _pair(v, False)[0] for k, v in extra.items()})
    theirs = getattr(torch.nn, name)(reduction=reduction, **{k: _pair(v, False)[1] for k, v in extra.items()})
    loss, ref = ours(x, y), theirs(tx, ty)
    assert_close(loss, ref)
    loss.sum().backward()
    ref.sum().backward()
    assert_close(x.grad, tx.grad)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())  # weights are buffers in both


def test_unbatched_input_with_a_one_element_target(rng):
    x = minigrad.tensor(rng.standard_normal(5), requires_grad=True)
    loss = F.cross_entropy(x, minigrad.tensor([3]))
    assert_close(loss, torch.nn.functional.cross_entropy(torch.from_numpy(x.detach().numpy()), torch.tensor([3])))
    loss.backward()  # torch's backward refuses this case ("size mismatch"); the gradient is softmax - one_hot
    e = np.exp(x.detach().numpy())
    np.testing.assert_allclose(x.grad.numpy(), e / e.sum() - np.eye(5)[3], rtol=1e-12, atol=1e-15)


def test_float32_losses_stay_float32(rng):
    x = minigrad.tensor(rng.standard_normal((4, 3)), dtype=minigrad.float32, requires_grad=True)
    labels = minigrad.tensor([0, 2, 1, 1])
    probs = minigrad.tensor(rng.random((4, 3)), dtype=minigrad.float32)
    for loss in (F.mse_loss(x, probs), F.cross_entropy(x, labels), F.binary_cross_entropy(x.sigmoid(), probs),
                 F.binary_cross_entropy_with_logits(x, probs)):
        assert loss.dtype == minigrad.float32
        loss.backward()
        assert x.grad.dtype == minigrad.float32


def test_stable_for_extreme_logits():
    logits = minigrad.tensor([[1000.0, -1000.0], [-1000.0, 1000.0]], dtype=minigrad.float64, requires_grad=True)
    loss = F.cross_entropy(logits, minigrad.tensor([1, 1]))
    ref = torch.nn.functional.cross_entropy(torch.tensor([[1000.0, -1000.0], [-1000.0, 1000.0]],
                                                         dtype=torch.float64), torch.tensor([1, 1]))
    assert_close(loss, ref)
    z = minigrad.tensor([800.0, -800.0, 0.0], dtype=minigrad.float64, requires_grad=True)
    t = minigrad.tensor([0.0, 1.0, 0.5], dtype=minigrad.float64)
    loss = F.binary_cross_entropy_with_logits(z, t, reduction="none")
    assert_close(loss, torch.tensor([800.0, 800.0, np.log(2)], dtype=torch.float64))
    loss.sum().backward()
    assert np.isfinite(z.grad.numpy()).all()


def test_bce_clamps_log_at_minus_100_like_torch():
    p = minigrad.tensor([0.0, 1.0, 0.0, 1.0], dtype=minigrad.float64, requires_grad=True)
    t = minigrad.tensor([1.0, 0.0, 0.0, 1.0], dtype=minigrad.float64)
    tp = torch.tensor([0.0, 1.0, 0.0, 1.0], dtype=torch.float64, requires_grad=True)
    loss = F.binary_cross_entropy(p, t, reduction="none")
    ref = torch.nn.functional.binary_cross_entropy(tp, torch.tensor([1.0, 0.0, 0.0, 1.0], dtype=torch.float64),
                                                   reduction="none")
    assert_close(loss, ref)  # 100, 100, 0, 0: no inf
    loss.sum().backward()
    ref.sum().backward()
    assert_close(p.grad, tp.grad)


def _nll_case(rng: np.random.Generator, case: str) -> tuple:
    """(log-probabilities, target, keyword arguments as NumPy arrays or plain values) for nll_loss."""
    logp = np.log(rng.dirichlet(np.ones(4), 6))
    target = rng.integers(0, 4, 6)
    ignoring = target.copy()
    ignoring[[1, 4]] = -100
    if case == "plain":
        return logp, target, {}
    if case == "weight":
        return logp, target, {"weight": rng.random(4)}
    if case == "ignore_index":
        return logp, ignoring, {}
    if case == "custom_ignore_index":
        return logp, target, {"ignore_index": int(target[0])}
    if case == "all_ignored":
        return logp, np.full(6, -100), {"weight": rng.random(4)}
    if case == "zero_weights":
        return logp, target, {"weight": np.zeros(4)}
    if case == "ignored_minus_inf":  # torch skips ignored targets: 0 even where the input is -inf
        logp[1, 0] = -np.inf
        return logp, ignoring, {}
    if case == "uint8_target":
        return logp, target.astype(np.uint8), {}
    if case == "non_contiguous":
        return np.asfortranarray(logp), target, {}
    if case == "empty":
        return np.zeros((0, 4)), np.zeros(0, dtype=np.int64), {}
    if case == "unbatched":
        return logp[0], np.array(2), {"weight": rng.random(4)}
    if case == "unbatched_ignored":
        return logp[0], np.array(-100), {}
    if case == "3d":
        target = rng.integers(0, 4, (2, 5))
        target[0, 1] = -100
        return rng.standard_normal((2, 4, 5)), target, {"weight": rng.random(4)}
    if case == "4d":
        return rng.standard_normal((2, 4, 3, 2)), rng.integers(0, 4, (2, 3, 2)), {}
    if case == "5d":
        return rng.standard_normal((2, 4, 3, 1, 2)), rng.integers(0, 4, (2, 3, 1, 2)), {"weight": rng.random(4)}
    raise KeyError(case)


def _value_and_gradients_to_1e12(fn: str, rng, x, target, extra, reduction, target_grad=False) -> None:
    x, tx = _pair(x, True)
    y, ty = _pair(target, target_grad)
    loss = getattr(F, fn)(x, y, reduction=reduction, **{k: _pair(v, False)[0] for k, v in extra.items()})
    ref = getattr(torch.nn.functional, fn)(tx, ty, reduction=reduction,
                                           **{k: _pair(v, False)[1] for k, v in extra.items()})
    assert_close(loss, ref, atol=1e-12, rtol=1e-12)
    assert loss.grad_fn.name() == ref.grad_fn.name() or ref.grad_fn.name() == "ViewBackward0"
    g = rng.standard_normal(tuple(ref.shape))
    loss.backward(minigrad.tensor(g))
    ref.backward(torch.from_numpy(g))
    assert_close(x.grad, tx.grad, atol=1e-12, rtol=1e-12)
    if target_grad:
        assert_close(y.grad, ty.grad, atol=1e-12, rtol=1e-12)


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", ["plain", "weight", "ignore_index", "custom_ignore_index", "all_ignored",
                                  "zero_weights", "ignored_minus_inf", "uint8_target", "non_contiguous", "empty",
                                  "unbatched", "unbatched_ignored", "3d", "4d", "5d"])
def test_nll_loss_is_one_node_with_torchs_values_and_gradients(rng, case, reduction):
    x, target, extra = _nll_case(rng, case)
    _value_and_gradients_to_1e12("nll_loss", rng, x, target, extra, reduction)


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", ["plain", "weight_row", "weight_column", "weight_full", "target_grad", "edges",
                                  "empty"])
def test_binary_cross_entropy_is_one_node_with_torchs_values_and_gradients(rng, case, reduction):
    x, y, extra = rng.uniform(0.02, 0.98, (5, 3)), rng.random((5, 3)), {}
    if case.startswith("weight"):
        extra["weight"] = rng.random({"weight_row": 3, "weight_column": (5, 1), "weight_full": (5, 3)}[case])
    if case == "edges":  # each log clamped at -100; the gradient's denominator kept above 1e-12
        x, y = np.array([0.0, 1.0, 0.5, 1e-300, 1.0]), np.array([1.0, 0.0, 0.5, 1.0, 1.0])
    if case == "empty":
        x, y = np.zeros(0), np.zeros(0)
    _value_and_gradients_to_1e12("binary_cross_entropy", rng, x, y, extra, reduction, target_grad=case == "target_grad")


def test_loss_weights_take_no_gradient_like_torch():
    p, t = minigrad.rand(5, 3, dtype=minigrad.float64), minigrad.rand(5, 3, dtype=minigrad.float64)
    tp, tt = torch.rand(5, 3, dtype=torch.float64), torch.rand(5, 3, dtype=torch.float64)
    w, tw = minigrad.rand(3, dtype=minigrad.float64, requires_grad=True), torch.rand(3, dtype=torch.float64,
                                                                                       requires_grad=True)
    _same_error(lambda: F.binary_cross_entropy(p, t, weight=w),
                lambda: torch.nn.functional.binary_cross_entropy(tp, tt, weight=tw), RuntimeError)
    labels = minigrad.tensor([0, 2, 1, 1, 0])
    _same_error(lambda: F.nll_loss(p, labels, weight=w),
                lambda: torch.nn.functional.nll_loss(tp, torch.tensor([0, 2, 1, 1, 0]), weight=tw), RuntimeError)


# -- errors -----------------------------------------------------------------------------------


def _same_error(ours, theirs, exc_type) -> None:
    with pytest.raises(exc_type) as a:
        ours()
    with pytest.raises(exc_type) as b:
        theirs()
    assert str(a.value) == str(b.value).replace("torch.Size", "minigrad.Size")


@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
def test_class_target_errors_match_torch(fn):
    ours, theirs = getattr(F, fn), getattr(torch.nn.functional, fn)
    x, tx = minigrad.randn(3, 4), torch.randn(3, 4)
    _same_error(lambda: ours(x, minigrad.zeros(3)), lambda: theirs(tx, torch.zeros(3)), RuntimeError)
    _same_error(lambda: ours(x, minigrad.zeros(3, dtype=minigrad.int32)),
                lambda: theirs(tx, torch.zeros(3, dtype=torch.int32)), RuntimeError)
    _same_error(lambda: ours(x, minigrad.zeros(4, dtype=minigrad.int64)),
                lambda: theirs(tx, torch.zeros(4, dtype=torch.int64)), ValueError)
    _same_error(lambda: ours(x, minigrad.tensor([0, 1, 4])), lambda: theirs(tx, torch.tensor([0, 1, 4])), IndexError)
    _same_error(lambda: ours(x, minigrad.tensor([0, -3, 1])), lambda: theirs(tx, torch.tensor([0, -3, 1])),
                IndexError)
    _same_error(lambda: ours(minigrad.randn(2, 3, 4), minigrad.zeros(2, 5, dtype=minigrad.int64)),
                lambda: theirs(torch.randn(2, 3, 4), torch.zeros(2, 5, dtype=torch.int64)), RuntimeError)
    _same_error(lambda: ours(x, minigrad.tensor([0, 1, 2]), weight=minigrad.ones(3)),
                lambda: theirs(tx, torch.tensor([0, 1, 2]), weight=torch.ones(3)), RuntimeError)
    _same_error(lambda: ours(x, minigrad.tensor(1)), lambda: theirs(tx, torch.tensor(1)), ValueError)
    _same_error(lambda: ours(minigrad.randn(4), minigrad.tensor([1, 2])),
                lambda: theirs(torch.randn(4), torch.tensor([1, 2])), ValueError)
    _same_error(lambda: ours(minigrad.tensor(1.0), minigrad.tensor(1)),
                lambda: theirs(torch.tensor(1.0), torch.tensor(1)), ValueError if fn == "nll_loss" else RuntimeError)
    _same_error(lambda: ours(x, minigrad.tensor([0, 1, 2]), reduction="avg"),
                lambda: theirs(tx, torch.tensor([0, 1, 2]), reduction="avg"), ValueError)


def test_cross_entropy_message_for_float_targets_names_the_dtypes():
    with pytest.raises(RuntimeError, match="expected target dtype to be Long or Byte, but got Float"):
        nn.CrossEntropyLoss()(minigrad.randn(3, 4), minigrad.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(RuntimeError, match="Expected floating point type for target with class probabilities"):
        F.cross_entropy(minigrad.randn(3, 4), minigrad.zeros(3, 4, dtype=minigrad.int64))


def test_regression_losses_warn_and_broadcast_like_torch():
    x, t = minigrad.randn(3, 1, dtype=minigrad.float64), minigrad.randn(3, dtype=minigrad.float64)
    with pytest.warns(UserWarning) as ours:
        loss = F.mse_loss(x, t)
    with pytest.warns(UserWarning) as theirs:
        ref = torch.nn.functional.mse_loss(torch.from_numpy(x.numpy()), torch.from_numpy(t.numpy()))
    assert str(ours[0].message) == str(theirs[0].message).replace("torch.Size", "minigrad.Size")
    assert "Using a target size (minigrad.Size([3])) that is different to the input size" in str(ours[0].message)
    assert_close(loss, ref)
    with pytest.warns(UserWarning, match="different to the input size"):
        F.l1_loss(x, t)


def test_reduction_errors_and_legacy_arguments():
    x, t = minigrad.randn(2, 2), minigrad.randn(2, 2)
    loss = nn.MSELoss(reduction="avg")  # as torch: only reported when the loss is computed
    with pytest.raises(ValueError, match="avg is not a valid value for reduction"):
        loss(x, t)
    for fn in (F.l1_loss, F.binary_cross_entropy_with_logits):
        with pytest.raises(ValueError, match="bad is not a valid value for reduction"):
            fn(x, t, reduction="bad")
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        summed = F.mse_loss(x, t, size_average=False)
    assert_close(summed, torch.from_numpy(np.asarray(((x.numpy() - t.numpy()) ** 2).sum())), rtol=1e-6)


def test_binary_cross_entropy_errors_match_torch():
    p, tp = minigrad.rand(3), torch.rand(3)
    _same_error(lambda: F.binary_cross_entropy(p, minigrad.rand(3, 1)),
                lambda: torch.nn.functional.binary_cross_entropy(tp, torch.rand(3, 1)), ValueError)
    _same_error(lambda: F.binary_cross_entropy(p, minigrad.rand(3, dtype=minigrad.float64)),
                lambda: torch.nn.functional.binary_cross_entropy(tp, torch.rand(3, dtype=torch.float64)),
                RuntimeError)
    _same_error(lambda: F.binary_cross_entropy(p + 1, minigrad.rand(3)),
                lambda: torch.nn.functional.binary_cross_entropy(tp + 1, torch.rand(3)), RuntimeError)
    for shape in ((2, 3), (4,)):  # a weight that expands to a larger shape, or does not expand
        _same_error(lambda s=shape: F.binary_cross_entropy(p, minigrad.rand(3), weight=minigrad.rand(*s)),
                    lambda s=shape: torch.nn.functional.binary_cross_entropy(tp, torch.rand(3), weight=torch.rand(*s)),
                    RuntimeError)
    _same_error(lambda: F.binary_cross_entropy_with_logits(p, minigrad.rand(3, 1)),
                lambda: torch.nn.functional.binary_cross_entropy_with_logits(tp, torch.rand(3, 1)), ValueError)


# -- on another device ------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["mse_weight", "l1", "bce_weight", "bce_logits_weights", "ce_weight_ignore",
                                  "ce_spatial", "ce_label_smoothing", "ce_probabilities", "nll_weight_ignore"])
def test_losses_on_device_equal_losses_on_host(rng, cuda, case):
    from minigrad import _backend

    x, target, extra = _inputs(rng, case)
    results = []
    for device in ("cpu", cuda):
        xt = minigrad.tensor(x, device=device, requires_grad=True)
        kw = {k: minigrad.tensor(v, device=device) if isinstance(v, np.ndarray) else v for k, v in extra.items()}
        loss = getattr(F, _function(case))(xt, minigrad.tensor(target, device=device), **kw)
        loss.backward()
        assert loss.device.type == device and xt.grad.device.type == device
        results.append((_backend.to_host(loss._data), _backend.to_host(xt.grad._data)))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-12)
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-12)
