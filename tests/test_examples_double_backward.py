"""The double-backprop examples (newton.py, hessian_curvature.py) in their fast mode, checked against
independent numbers: closed-form Hessians, and torch's own Hessian of the same network."""

from pathlib import Path

import numpy as np
import pytest
import torch
from test_examples import PNG_MAGIC, load_example, quietly  # the first examples' helpers

# ---- newton ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def newton(tmp_path_factory):
    module = load_example("newton")
    return module, quietly(module.main, str(tmp_path_factory.mktemp("newton")), fast=True)


# The closed forms, written again here so that the test does not trust the example's own.
CLOSED_FORM_HESSIANS = {
    "quartic": lambda p: np.array([[12 * p[0] ** 2 - 18 * p[0]]]),
    "rosenbrock": lambda p: np.array([[1200 * p[0] ** 2 - 400 * p[1] + 2, -400 * p[0]], [-400 * p[0], 200.0]]),
}


@pytest.mark.parametrize("name", ["quartic", "rosenbrock"])
def test_newton_hessians_by_double_backprop_equal_the_closed_form(newton, name):
    module, results = newton
    problem = module.PROBLEMS[name]
    path = results["runs"][name]["Newton"].path
    for point in path:  # every point Newton visited, start included
        _, _, hessian = module.gradient_and_hessian(problem.f, point)
        np.testing.assert_allclose(hessian, CLOSED_FORM_HESSIANS[name](point), rtol=0, atol=1e-10)
    assert results["hessian_error"][name] < 1e-10  # and what the example reports agrees


def test_newton_reaches_the_minimum_in_far_fewer_iterations_than_gradient_descent(newton):
    module, results = newton
    minima = {"quartic": [2.25], "rosenbrock": [1.0, 1.0]}
    for name, minimum in minima.items():
        nt, gd = results["runs"][name]["Newton"], results["runs"][name]["gradient descent"]
        assert nt.converged and nt.grad_norms[-1] < module.TOLERANCE
        np.testing.assert_allclose(nt.path[-1], minimum, atol=1e-8)
        assert nt.iterations == results["iterations"][name]["Newton"]
        assert 10 * nt.iterations < gd.iterations  # gradient descent: >= 10 times as many
    # the quartic: gradient descent converges too, just slowly; on Rosenbrock --fast stops it unconverged
    quartic = results["runs"]["quartic"]
    assert quartic["gradient descent"].converged
    assert quartic["Newton"].iterations <= 8 < 80 <= quartic["gradient descent"].iterations
    rosenbrock = results["runs"]["rosenbrock"]
    assert rosenbrock["Newton"].iterations <= 30
    assert rosenbrock["gradient descent"].iterations == module.MAX_GD_ITERATIONS["fast"]
    assert not rosenbrock["gradient descent"].converged


def test_newton_converges_quadratically_at_the_end(newton):
    _, results = newton
    for name in ("quartic", "rosenbrock"):
        norms = results["runs"][name]["Newton"].grad_norms
        # the last steps: each |grad| at most ~ C |previous|², far below a linear rate
        assert norms[-1] < 1e-3 * norms[-2] and norms[-2] < 1e-1 * norms[-3]


def test_newton_writes_the_rosenbrock_png(newton):
    _, results = newton
    assert [Path(p).name for p in results["files"]] == ["newton_rosenbrock.png"]
    assert Path(results["files"][0]).read_bytes()[:8] == PNG_MAGIC


# ---- hessian_curvature ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def curvature(tmp_path_factory):
    module = load_example("hessian_curvature")
    return module, quietly(module.main, str(tmp_path_factory.mktemp("curvature")), fast=True)


def torch_loss(theta: torch.Tensor, features: np.ndarray, labels: np.ndarray, weight_decay: float) -> torch.Tensor:
    """The example's loss, written in torch: Linear(4, 6), Tanh, Linear(6, 3), cross entropy + ½ wd |θ|².

    θ is laid out as parameters_to_vector lays out the parameters: weight (6, 4), bias (6,),
    weight (3, 6), bias (3,), each row-major."""
    w1, b1, w2, b2 = torch.split(theta, [24, 6, 18, 3])
    x = torch.from_numpy(features)
    hidden = torch.tanh(torch.nn.functional.linear(x, w1.reshape(6, 4), b1))
    logits = torch.nn.functional.linear(hidden, w2.reshape(3, 6), b2)
    return torch.nn.functional.cross_entropy(logits, torch.from_numpy(labels)) + 0.5 * weight_decay * (theta ** 2).sum()


def test_mlp_hessian_equals_torch_hessian_of_the_same_network(curvature):
    module, r = curvature
    theta = torch.from_numpy(r["theta"])
    assert theta.numel() == 51 and r["hessian"].shape == (51, 51)
    # the loss itself first: same network, same weights, same data
    assert abs(torch_loss(theta, r["features"], r["labels"], r["weight_decay"]).item() - r["loss"]) < 1e-12
    expected = torch.autograd.functional.hessian(
        lambda t: torch_loss(t, r["features"], r["labels"], r["weight_decay"]), theta).numpy()
    np.testing.assert_allclose(r["hessian"], expected, rtol=0, atol=1e-10)
    np.testing.assert_allclose(r["eigenvalues"], np.linalg.eigvalsh(expected), rtol=0, atol=1e-10)


def test_mlp_is_at_a_minimum(curvature):
    _, r = curvature
    theta = torch.from_numpy(r["theta"]).requires_grad_(True)
    grad, = torch.autograd.grad(torch_loss(theta, r["features"], r["labels"], r["weight_decay"]), theta)
    assert grad.norm().item() < 1e-9  # torch's gradient: a stationary point
    assert r["eigenvalues"].min() > 0  # and the Hessian is positive definite there: a minimum


def test_power_iteration_with_hessian_vector_products_finds_lambda_max(curvature):
    _, r = curvature
    assert abs(r["lambda_max_power"] - r["lambda_max"]) < 1e-6
    assert r["lambda_max"] == r["eigenvalues"].max()
    assert r["power_products"] < 2000  # it converged before its limit


def test_learning_rate_bounds_on_the_quadratic_model_exactly(curvature):
    module, r = curvature
    lam = np.linalg.eigvalsh(r["hessian"]).max()
    mu = module.MOMENTUM
    assert r["bounds"][0.0] == pytest.approx(2 / lam, rel=1e-12)
    assert r["bounds"][mu] == pytest.approx(2 * (1 + mu) / lam, rel=1e-12)
    trials = {(t.momentum, round(t.lr / r["bounds"][t.momentum], 6)): t for t in r["trials"]}
    assert set(trials) == {(0.0, 0.9), (0.0, 1.1), (mu, 0.9), (mu, 1.1)}
    for momentum in (0.0, mu):
        below, above = trials[(momentum, 0.9)].quadratic, trials[(momentum, 1.1)].quadratic
        assert below[0] == above[0] > 0  # the same start
        assert below[-1] < 1e-3 * below[0]  # just below the bound: shrinks to nothing
        assert above[-1] > 1e6 * above[0]  # just above: diverges
    # plain SGD below the bound decreases the quadratic at every step; above it, the growth per step
    # tends to (1 - lr λmax)² = 1.2² exactly
    plain_below, plain_above = trials[(0.0, 0.9)].quadratic, trials[(0.0, 1.1)].quadratic
    assert np.all(np.diff(plain_below) < 0)
    assert plain_above[-1] / plain_above[-2] == pytest.approx(1.2 ** 2, rel=1e-6)
    # with momentum the growth factor per step is the largest root of z² - (1 + μ - lr λ) z + μ, squared
    lr = trials[(mu, 1.1)].lr
    z = np.abs(np.roots([1, -(1 + mu - lr * lam), mu])).max()
    momentum_above = trials[(mu, 1.1)].quadratic
    assert momentum_above[-1] / momentum_above[-3] == pytest.approx(z ** 4, rel=1e-6)  # two steps: no sign flips


def test_learning_rate_bounds_on_the_network(curvature):
    """The measured network: back to the minimum below each bound, pushed far away above it."""
    _, r = curvature
    for t in r["trials"]:
        if t.lr < r["bounds"][t.momentum]:
            assert t.network[-1] < 1e-3 * t.network[0]
        else:
            assert np.nanmax(t.network) > 1e4 * t.network[0]


def test_curvature_writes_its_png(curvature):
    _, r = curvature
    assert [Path(p).name for p in r["files"]] == ["hessian_curvature.png"]
    assert Path(r["files"][0]).read_bytes()[:8] == PNG_MAGIC
