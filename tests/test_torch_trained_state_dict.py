"""A model trained in torch carries on in minigrad, and one trained in minigrad in torch: an MLP trained a few
Adam steps on sklearn's digits, its state dict and its optimizer's saved to files by one library and loaded by
the other, gives the same outputs on the test digits and the same parameters after one more Adam step."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import minigrad
import minigrad.nn as nn

TOL = 1e-6  # relative and absolute: logits near 10 are float32 values 1e-6 apart (summation order)
LR, STEPS = 1e-2, 10  # a few Adam steps, then one more after the checkpoint


@pytest.fixture(scope="module")
def digits():
    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=0, stratify=y)
    return x_train, x_test, y_train.astype(np.int64), y_test.astype(np.int64)


def _torch_mlp() -> torch.nn.Sequential:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))


def _minigrad_mlp() -> nn.Sequential:
    minigrad.manual_seed(1)  # other initial weights than torch's: the loaded state dict must replace them
    return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))


def _batches(x: np.ndarray, y: np.ndarray, steps: int, batch: int = 64):
    rng = np.random.default_rng(0)
    for _ in range(steps):
        idx = rng.choice(len(x), batch, replace=False)
        yield x[idx], y[idx]


def _step(lib, model, opt, xb: np.ndarray, yb: np.ndarray) -> None:
    opt.zero_grad()
    loss = lib.nn.functional.cross_entropy(model(lib.from_numpy(xb)), lib.from_numpy(yb))
    loss.backward()
    opt.step()


def _assert_params_equal(torch_model, mg_model) -> None:
    ours = dict(mg_model.named_parameters())
    theirs = dict(torch_model.named_parameters())
    assert list(ours) == list(theirs) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    for name, p in theirs.items():
        assert ours[name].dtype == minigrad.float32
        np.testing.assert_allclose(ours[name].detach().numpy(), p.detach().numpy(), rtol=TOL, atol=TOL, err_msg=name)


def _assert_outputs_equal(torch_model, mg_model, x: np.ndarray) -> None:
    with torch.no_grad():
        expected = torch_model(torch.from_numpy(x)).numpy()
    with minigrad.no_grad():
        out = mg_model(minigrad.from_numpy(x))
    assert out.dtype == minigrad.float32 and out.shape == (len(x), 10)
    np.testing.assert_allclose(out.numpy(), expected, rtol=TOL, atol=TOL)


def test_torch_trained_mlp_and_adam_carry_on_in_minigrad(digits, tmp_path):
    x_train, x_test, y_train, y_test = digits
    model = _torch_mlp()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    batches = list(_batches(x_train, y_train, STEPS + 1))
    for xb, yb in batches[:STEPS]:
        _step(torch, model, opt, xb, yb)
    weights, optimizer = tmp_path / "model.pt", tmp_path / "optimizer.pt"
    torch.save(model.state_dict(), weights)
    torch.save(opt.state_dict(), optimizer)

    ours = _minigrad_mlp()
    ours.load_state_dict(minigrad.load(weights))
    ours_opt = minigrad.optim.Adam(ours.parameters(), lr=0.5)  # the loaded param_groups bring LR back
    ours_opt.load_state_dict(minigrad.load(optimizer))
    assert ours_opt.param_groups[0]["lr"] == LR
    _assert_params_equal(model, ours)
    _assert_outputs_equal(model, ours, x_test)
    with torch.no_grad():
        accuracy = (model(torch.from_numpy(x_test)).argmax(1).numpy() == y_test).mean()
    assert accuracy > 0.5  # a few steps have taught it something: the comparison is not of noise

    xb, yb = batches[STEPS]  # one more Adam step in both, from the loaded moments and step counts
    _step(torch, model, opt, xb, yb)
    _step(minigrad, ours, ours_opt, xb, yb)
    _assert_params_equal(model, ours)
    _assert_outputs_equal(model, ours, x_test)


def test_minigrad_trained_mlp_runs_the_same_in_torch(digits, tmp_path):
    x_train, x_test, y_train, _ = digits
    ours = _minigrad_mlp()
    ours_opt = minigrad.optim.Adam(ours.parameters(), lr=LR)
    batches = list(_batches(x_train, y_train, STEPS + 1))
    for xb, yb in batches[:STEPS]:
        _step(minigrad, ours, ours_opt, xb, yb)
    weights, optimizer = tmp_path / "model.pt", tmp_path / "optimizer.pt"
    minigrad.save(ours.state_dict(), weights)
    minigrad.save(ours_opt.state_dict(), optimizer)

    model = _torch_mlp()
    model.load_state_dict(torch.load(weights, weights_only=True))
    opt = torch.optim.Adam(model.parameters(), lr=0.5)
    opt.load_state_dict(torch.load(optimizer, weights_only=True))
    assert opt.param_groups[0]["lr"] == LR
    assert all(p.dtype == torch.float32 for p in model.parameters())
    _assert_params_equal(model, ours)
    _assert_outputs_equal(model, ours, x_test)

    xb, yb = batches[STEPS]
    _step(minigrad, ours, ours_opt, xb, yb)
    _step(torch, model, opt, xb, yb)
    _assert_params_equal(model, ours)
    _assert_outputs_equal(model, ours, x_test)
