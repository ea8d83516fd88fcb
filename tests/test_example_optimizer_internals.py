"""examples/optimizer_internals.py: the state it prints is each optimizer's formulas, recomputed here in NumPy."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.test_examples import PNG_MAGIC, quietly

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "optimizer_internals.py"
STEPS = 10  # the first steps, recomputed independently
TOL = {"rtol": 1e-12, "atol": 1e-12}  # float64 throughout


def load():
    spec = importlib.util.spec_from_file_location("example_optimizer_internals", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def internals(tmp_path_factory):
    module = load()
    return module, quietly(module.main, str(tmp_path_factory.mktemp("internals")), fast=True)


def gradients(module, w: np.ndarray, step: int) -> np.ndarray:
    """d/dw of mean((X w - y)²) on the step's minibatch, by hand."""
    X, y = module.make_data()
    rows = module.make_batches(step + 1)[step]
    Xb, yb = X[rows], y[rows]
    return 2 / len(rows) * Xb.T @ (Xb @ w - yb)


def replay(module, update_rule, state: dict) -> list[dict]:
    """Run ``update_rule(g, w, state, t) -> new w`` from w = 0 on the example's batches; the state after each step."""
    w = np.zeros(2)
    out = []
    for i in range(STEPS):
        g = gradients(module, w, i)
        new_w = update_rule(g, w, state, i + 1)
        out.append({**{k: np.copy(v) for k, v in state.items()}, "grad": g, "update": w - new_w, "w": new_w})
        w = new_w
    return out


def check(tr: dict, expected: list[dict], keys: dict) -> None:
    """``keys`` maps the example's names to the ones of ``expected``."""
    for i, exp in enumerate(expected):
        for ours, theirs in keys.items():
            np.testing.assert_allclose(tr[ours][i], exp[theirs], **TOL, err_msg=f"{ours}, step {i + 1}")
        # the effective lr is the update over the gradient; the update is w_old - w_new, which loses
        # digits to cancellation (|update| ~ 1e-3 of |w|), hence the looser tolerance for it
        np.testing.assert_allclose(tr["effective_lr"][i], exp["update"] / exp["grad"], rtol=1e-9)


def test_sgd_momentum_buffer(internals):
    module, results = internals

    def rule(g, w, s, t):
        s["buf"] = g.copy() if t == 1 else 0.9 * s["buf"] + g
        return w - 0.02 * s["buf"]

    check(results["traces"]["SGD momentum"], replay(module, rule, {}), {"momentum_buffer": "buf", "grad": "grad"})


def test_rprop_step_sizes(internals):
    module, results = internals

    def rule(g, w, s, t):
        sign = np.sign(g * s["prev"])
        s["size"] = np.clip(s["size"] * np.where(sign > 0, 1.2, np.where(sign < 0, 0.5, 1.0)), 1e-6, 50)
        g = np.where(sign < 0, 0.0, g)  # a sign change: no move, and 0 remembered
        s["prev"] = g
        return w - s["size"] * np.sign(g)

    expected = replay(module, rule, {"prev": np.zeros(2), "size": np.full(2, 0.01)})
    tr = results["traces"]["Rprop"]
    for i, exp in enumerate(expected):
        np.testing.assert_allclose(tr["step_size"][i], exp["size"], **TOL)
        np.testing.assert_allclose(tr["prev"][i], exp["prev"], **TOL)
        np.testing.assert_allclose(tr["update"][i], exp["update"], **TOL)
    assert tr["step_size"][0].tolist() == [0.01, 0.01]  # lr is the first step size


def test_adagrad_sum_of_squares_and_effective_lr(internals):
    module, results = internals

    def rule(g, w, s, t):
        s["sum"] = s["sum"] + g * g
        s["eff"] = 0.5 / (np.sqrt(s["sum"]) + 1e-10)
        return w - s["eff"] * g

    expected = replay(module, rule, {"sum": np.zeros(2)})
    tr = results["traces"]["Adagrad"]
    check(tr, expected, {"sum": "sum", "grad": "grad"})
    for i, exp in enumerate(expected):
        np.testing.assert_allclose(tr["effective_lr"][i], exp["eff"], rtol=1e-9)
    # the sum only grows, so the effective lr only falls; over a long run like 1/sqrt(t)
    eff = tr["effective_lr"]
    assert (np.diff(eff, axis=0) <= 0).all()
    assert (eff[-1] < 0.2 * eff[0]).all()  # after 1000 steps: 0.11 and 0.006 of the first
    long = module.trace("Adagrad", 3000)["effective_lr"]
    assert module.decay_exponent(long) == pytest.approx([-0.5, -0.5], abs=0.07)
    t = np.arange(1, 3001)
    tail = long[1500:] * np.sqrt(t[1500:, None])
    assert (tail.max(axis=0) < 1.25 * tail.min(axis=0)).all()  # eff lr · sqrt(t) nearly constant


def test_rmsprop_square_avg(internals):
    module, results = internals

    def rule(g, w, s, t):
        s["v"] = 0.99 * s["v"] + 0.01 * g * g
        return w - 0.01 * g / (np.sqrt(s["v"]) + 1e-8)

    tr = results["traces"]["RMSprop"]
    check(tr, replay(module, rule, {"v": np.zeros(2)}), {"square_avg": "v", "grad": "grad"})
    # no bias correction: the first effective lr is lr / (sqrt(0.01) |g1|), a first step of 10 lr
    np.testing.assert_allclose(np.abs(tr["update"][0]), 0.1, rtol=1e-6)
    # and no decay in the long run
    long = module.trace("RMSprop", 3000)["effective_lr"]
    assert (np.abs(module.decay_exponent(long)) < 0.15).all()


def test_adam_moments_and_bias_corrections(internals):
    module, results = internals
    b1, b2, lr, eps = 0.9, 0.999, 0.05, 1e-8

    def rule(g, w, s, t):
        s["m"] = b1 * s["m"] + (1 - b1) * g
        s["v"] = b2 * s["v"] + (1 - b2) * g * g
        s["bc1"], s["bc2"] = np.array(1 - b1 ** t), np.array(1 - b2 ** t)
        s["m_hat"], s["v_hat"] = s["m"] / s["bc1"], s["v"] / s["bc2"]
        s["uncorrected"] = lr * s["m"] / (np.sqrt(s["v"]) + eps)
        return w - lr * s["m_hat"] / (np.sqrt(s["v_hat"]) + eps)

    tr = results["traces"]["Adam"]
    expected = replay(module, rule, {"m": np.zeros(2), "v": np.zeros(2)})
    check(tr, expected, {"exp_avg": "m", "exp_avg_sq": "v", "bc1": "bc1", "bc2": "bc2", "m_hat": "m_hat",
                         "v_hat": "v_hat", "update_uncorrected": "uncorrected", "grad": "grad"})
    assert tr["step"][:STEPS].tolist() == list(range(1, STEPS + 1))
    # with the corrections the first step is lr along every coordinate; without, (1-b1)/sqrt(1-b2) = 3.16 times that
    np.testing.assert_allclose(np.abs(tr["update"][0]), lr, rtol=1e-6)
    np.testing.assert_allclose(tr["update_uncorrected"][0] / tr["update"][0], 0.1 / np.sqrt(0.001), rtol=1e-5)  # eps
    facts = results["facts"]["adam"]
    assert facts["max_ratio"] == pytest.approx(max((1 - b1 ** t) / np.sqrt(1 - b2 ** t) for t in range(1, 1000)))
    assert facts["max_ratio_step"] == 12 and 6.5 < facts["max_ratio"] < 6.6


def test_adadelta_averages_and_why_it_barely_moves(internals):
    module, results = internals
    rho, eps = 0.9, 1e-6

    def rule(g, w, s, t):
        s["v"] = rho * s["v"] + (1 - rho) * g * g
        delta = np.sqrt(s["u"] + eps) / np.sqrt(s["v"] + eps) * g
        s["u"] = rho * s["u"] + (1 - rho) * delta * delta
        return w - delta

    tr = results["traces"]["Adadelta"]
    check(tr, replay(module, rule, {"v": np.zeros(2), "u": np.zeros(2)}),
          {"square_avg": "v", "acc_delta": "u", "grad": "grad"})
    first = results["facts"]["adadelta"]
    g1 = tr["grad"][0]
    np.testing.assert_allclose(first["formula"], np.sqrt(eps) / np.sqrt((1 - rho) * g1 ** 2 + eps), **TOL)
    np.testing.assert_allclose(first["first_effective_lr"], first["formula"], rtol=1e-9)
    assert first["first_step_bound"] == pytest.approx(np.sqrt(eps / (1 - rho)))  # 3.2e-3
    assert (np.abs(tr["update"][0]) <= first["first_step_bound"]).all()
    assert (np.abs(tr["update"][:5]) < 0.01).all()  # Adam's first steps are 0.05


def test_rmsprop_limit_cycle_while_gd_converges(internals):
    module, results = internals
    c = results["cycle"]
    assert c["cycles"]
    x = np.abs(c["runs"]["RMSprop"]["x"])
    n = 200
    # the amplitude over the last n steps does not shrink: the same in each quarter of them, at lr / 2
    quarters = x[-n:].reshape(4, -1).max(axis=1)
    assert (quarters >= quarters[0] * (1 - 1e-9)).all()
    assert x[-n:].min() > 0.99 * c["predicted_amplitude"] and x[-n:].max() <= c["predicted_amplitude"]
    # it alternates sign: a period-2 cycle around the minimum
    signs = np.sign(c["runs"]["RMSprop"]["x"][-n:])
    assert (signs[1:] == -signs[:-1]).all()
    np.testing.assert_allclose(c["runs"]["RMSprop"]["effective_lr"][-n:], 2.0, rtol=1e-6)
    # plain GD with the same lr on the same problem: x_t = (1 - lr)^t x0 exactly
    sgd = c["runs"]["SGD"]["x"]
    np.testing.assert_allclose(sgd, (1 - c["lr"]) ** np.arange(len(sgd)) * c["x0"], rtol=1e-9)
    assert sgd[-1] < 1e-3 * x[-n:].min()
    # RMSprop by hand in NumPy gives the same cycle
    xs, v = 1.0, 0.0
    for _ in range(len(x) - 1):
        v = 0.9 * v + 0.1 * xs * xs
        xs -= 0.01 * xs / (np.sqrt(v) + 1e-8)
    assert abs(xs) == pytest.approx(x[-1], rel=1e-6)


def test_figures_written_and_labelled(internals):
    module, results = internals
    assert sorted(Path(p).name for p in results["files"]) == ["effective_lr.png", "rmsprop_limit_cycle.png"]
    for path in results["files"]:
        assert Path(path).read_bytes()[:8] == PNG_MAGIC
    assert results["traces"]["Adam"]["label"] == "Adam(lr=0.05, betas=(0.9, 0.999), eps=1e-08)"
    assert results["cycle"]["runs"]["RMSprop"]["label"].startswith("RMSprop(lr=0.01, alpha=0.9,")
