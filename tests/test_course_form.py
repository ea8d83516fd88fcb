"""minigrad.optim.course: each optimizer against its course formula computed by hand with NumPy, against
torch.optim where the course agrees with torch, each slip switch doing what docs/optimizers.md says, and
examples/course_vs_torch.py in its fast mode."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import minigrad
from minigrad.optim import course

A = np.array([1.0, 25.0])  # the quadratic 0.5 * sum(A * w**2), gradient A * w
START = np.array([-4.0, 1.0])


def quadratic(lib, w):
    return 0.5 * (lib.tensor(A, dtype=lib.float64) * w * w).sum()


def course_path(make, steps: int, start=START) -> np.ndarray:
    """The points visited by a course optimizer on the quadratic (rows: start, after step 1, ...)."""
    w = minigrad.tensor(start, dtype=minigrad.float64, requires_grad=True)
    opt = make([w])

    def closure():
        opt.zero_grad()
        loss = quadratic(minigrad, w)
        loss.backward()
        return loss

    path = [w.detach().numpy().copy()]
    for _ in range(steps):
        if isinstance(opt, course.Nesterov):
            opt.step(closure)
        else:
            closure()
            opt.step()
        path.append(w.detach().numpy().copy())
    return np.array(path)


def torch_path(make, steps: int, start=START) -> np.ndarray:
    """The same with a real torch.optim optimizer."""
    w = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = make([w])
    path = [w.detach().numpy().copy()]
    for _ in range(steps):
        opt.zero_grad()
        quadratic(torch, w).backward()
        opt.step()
        path.append(w.detach().numpy().copy())
    return np.array(path)


def one_step(make, grad: float) -> float:
    """How far one step moves a weight at 0 with gradient ``grad`` (a course optimizer)."""
    w = minigrad.zeros(1, dtype=minigrad.float64, requires_grad=True)
    opt = make([w])
    w.grad = minigrad.tensor([grad], dtype=minigrad.float64)
    opt.step()
    return -w.item()


def torch_one_step(make, grad: float) -> float:
    w = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = make([w])
    w.grad = torch.tensor([grad], dtype=torch.float64)
    opt.step()
    return -w.item()


# ---- the course's formulas by hand, in NumPy (the independent truth) --------------------------------

def grad(w):
    return A * w


def np_momentum(steps, lr, mu, tau, dampen_first_step=True):
    w, m, path = START.copy(), np.zeros(2), [START.copy()]
    for t in range(1, steps + 1):
        g = grad(w)
        m = g.copy() if (t == 1 and not dampen_first_step) else mu * m + (1 - tau) * g
        w = w - lr * m
        path.append(w)
    return np.array(path)


def np_nesterov(steps, lr, mu, lookahead_without_lr=True):
    w, m, path = START.copy(), np.zeros(2), [START.copy()]
    for _ in range(steps):
        m = mu * m + grad(w - (1 if lookahead_without_lr else lr) * mu * m)
        w = w - lr * m
        path.append(w)
    return np.array(path)


def np_rprop(steps, u0, eta_plus=1.2, eta_minus=0.5, u_min=1e-6, u_max=50.0):
    w, U, SGN, path = START.copy(), np.full(2, u0), np.zeros(2), [START.copy()]
    for _ in range(steps):
        s = np.sign(grad(w))
        w = w - U * s
        U = np.clip(np.where(s == SGN, U * eta_plus, U * eta_minus), u_min, u_max)
        SGN = s
        path.append(w)
    return np.array(path)


def np_adagrad_rmsprop(steps, lr, eps, eps_inside_sqrt, gamma=None):
    w, S, path = START.copy(), np.zeros(2), [START.copy()]
    for _ in range(steps):
        g = grad(w)
        S = S + g ** 2 if gamma is None else gamma * S + (1 - gamma) * g ** 2
        w = w - (lr / np.sqrt(S + eps) * g if eps_inside_sqrt else lr * g / (np.sqrt(S) + eps))
        path.append(w)
    return np.array(path)


def np_adam_nadam(steps, lr, eps, nadam=False, eps_inside_sqrt=True, drop_grad_term=True, b1=0.9, b2=0.999):
    w, m, r, path = START.copy(), np.zeros(2), np.zeros(2), [START.copy()]
    for t in range(1, steps + 1):
        g = grad(w)
        m, r = b1 * m + (1 - b1) * g, b2 * r + (1 - b2) * g ** 2
        r_hat = r / (1 - b2 ** t)
        if not nadam:
            m_hat = m / (1 - b1 ** t)
            w = w - lr * m_hat / (np.sqrt(r_hat + eps) if eps_inside_sqrt else np.sqrt(r_hat) + eps)
        else:
            m_hat = b1 * m / (1 - b1 ** t) + (1 - b1) * (1.0 if drop_grad_term else g) / (1 - b1 ** t)
            w = w - lr * m_hat / (np.sqrt(r_hat) + eps)
        path.append(w)
    return np.array(path)


def np_adadelta(steps, rho, eps, plus_sign=True):
    w, ema, emasu, path = START.copy(), np.zeros(2), np.zeros(2), [START.copy()]
    for _ in range(steps):
        g = grad(w)
        ema = rho * ema + (1 - rho) * g ** 2
        dw = np.sqrt(emasu + eps) / np.sqrt(ema + eps) * g
        emasu = rho * emasu + (1 - rho) * dw ** 2
        w = w + dw if plus_sign else w - dw
        path.append(w)
    return np.array(path)


HAND = {  # id: (the course optimizer, its formula by hand)
    "SGD": (lambda ps: course.SGD(ps, lr=0.02), lambda n: np_momentum(n, 0.02, 0.0, 0.0)),
    "Momentum": (lambda ps: course.Momentum(ps, lr=0.02, mu=0.9), lambda n: np_momentum(n, 0.02, 0.9, 0.0)),
    "Momentum-tau": (lambda ps: course.Momentum(ps, lr=0.01, mu=0.99, tau=0.25),
                     lambda n: np_momentum(n, 0.01, 0.99, 0.25)),
    "Momentum-tau-torch-start": (lambda ps: course.Momentum(ps, lr=0.01, mu=0.99, tau=0.25, dampen_first_step=False),
                                 lambda n: np_momentum(n, 0.01, 0.99, 0.25, dampen_first_step=False)),
    "Nesterov-course": (lambda ps: course.Nesterov(ps, lr=0.02, mu=0.5), lambda n: np_nesterov(n, 0.02, 0.5)),
    "Nesterov-with-lr": (lambda ps: course.Nesterov(ps, lr=0.02, mu=0.9, lookahead_without_lr=False),
                         lambda n: np_nesterov(n, 0.02, 0.9, lookahead_without_lr=False)),
    "Rprop-u0=0": (lambda ps: course.Rprop(ps), lambda n: np_rprop(n, 0.0)),
    "Rprop-u0=0.3": (lambda ps: course.Rprop(ps, u0=0.3, eta_plus=1.1, eta_minus=0.75),
                     lambda n: np_rprop(n, 0.3, 1.1, 0.75)),
    "AdaGrad": (lambda ps: course.AdaGrad(ps, lr=0.5), lambda n: np_adagrad_rmsprop(n, 0.5, 1e-10, True)),
    "AdaGrad-eps-outside": (lambda ps: course.AdaGrad(ps, lr=0.5, eps=1e-3, eps_inside_sqrt=False),
                            lambda n: np_adagrad_rmsprop(n, 0.5, 1e-3, False)),
    "RMSprop": (lambda ps: course.RMSprop(ps, lr=0.05, eps=1e-3),
                lambda n: np_adagrad_rmsprop(n, 0.05, 1e-3, True, gamma=0.9)),
    "RMSprop-eps-outside": (lambda ps: course.RMSprop(ps, lr=0.05, gamma=0.8, eps_inside_sqrt=False),
                            lambda n: np_adagrad_rmsprop(n, 0.05, 1e-8, False, gamma=0.8)),
    "Adam": (lambda ps: course.Adam(ps, lr=0.3, eps=1e-2), lambda n: np_adam_nadam(n, 0.3, 1e-2)),
    "Adam-eps-outside": (lambda ps: course.Adam(ps, lr=0.3, eps_inside_sqrt=False),
                         lambda n: np_adam_nadam(n, 0.3, 1e-8, eps_inside_sqrt=False)),
    "NAdam-course": (lambda ps: course.NAdam(ps, lr=0.3), lambda n: np_adam_nadam(n, 0.3, 1e-8, nadam=True)),
    "NAdam-fixed": (lambda ps: course.NAdam(ps, lr=0.3, drop_grad_term=False),
                    lambda n: np_adam_nadam(n, 0.3, 1e-8, nadam=True, drop_grad_term=False)),
    "AdaDelta-course": (lambda ps: course.AdaDelta(ps), lambda n: np_adadelta(n, 0.9, 1e-8)),
    "AdaDelta-minus": (lambda ps: course.AdaDelta(ps, rho=0.8, eps=1e-6, plus_sign=False),
                       lambda n: np_adadelta(n, 0.8, 1e-6, plus_sign=False)),
}


@pytest.mark.parametrize("name", list(HAND))
def test_each_course_form_is_its_formula_computed_by_hand(name):
    make, by_hand = HAND[name]
    np.testing.assert_allclose(course_path(make, 6), by_hand(6), rtol=1e-13, atol=1e-15)


def test_every_course_class_is_in_the_hand_tests():
    base = course.CourseOptimizer
    classes = {cls.__name__ for cls in vars(course).values()
               if isinstance(cls, type) and issubclass(cls, base) and cls is not base}
    tested = {name.split("-")[0] for name in HAND}
    assert classes == tested == {"SGD", "Momentum", "Nesterov", "Rprop", "AdaGrad", "RMSprop", "Adam", "NAdam",
                                 "AdaDelta"}


# ---- where the course agrees with torch: torch.optim itself, 1e-12 in float64 -------------------------

AGREE = {  # id: (the course form, fixed where needed; torch.optim)
    "SGD": (lambda ps: course.SGD(ps, lr=0.02), lambda ps: torch.optim.SGD(ps, lr=0.02)),
    "Momentum": (lambda ps: course.Momentum(ps, lr=0.02, mu=0.9),
                 lambda ps: torch.optim.SGD(ps, lr=0.02, momentum=0.9)),
    "Momentum-dampening-torch-start": (
        lambda ps: course.Momentum(ps, lr=0.01, mu=0.99, tau=0.25, dampen_first_step=False),
        lambda ps: torch.optim.SGD(ps, lr=0.01, momentum=0.99, dampening=0.25)),
    "AdaGrad": (lambda ps: course.AdaGrad(ps, lr=0.5, eps_inside_sqrt=False),
                lambda ps: torch.optim.Adagrad(ps, lr=0.5)),
    "RMSprop": (lambda ps: course.RMSprop(ps, lr=0.05, gamma=0.9, eps_inside_sqrt=False),
                lambda ps: torch.optim.RMSprop(ps, lr=0.05, alpha=0.9)),
    "Adam": (lambda ps: course.Adam(ps, lr=0.5, eps_inside_sqrt=False), lambda ps: torch.optim.Adam(ps, lr=0.5)),
    "AdaDelta": (lambda ps: course.AdaDelta(ps, eps=1e-6, plus_sign=False), lambda ps: torch.optim.Adadelta(ps)),
    "AdaDelta-course-eps": (lambda ps: course.AdaDelta(ps, plus_sign=False),
                            lambda ps: torch.optim.Adadelta(ps, eps=1e-8)),
}


@pytest.mark.parametrize("name", list(AGREE))
def test_where_the_course_agrees_with_torch_it_equals_torch_optim(name):
    make_course, make_torch = AGREE[name]
    np.testing.assert_allclose(course_path(make_course, 30), torch_path(make_torch, 30), rtol=1e-12, atol=1e-14)


def test_nesterov_with_lr_is_torch_after_the_change_of_variables():
    """torch's p_t is the course's look-ahead point w_t - lr*mu*m_{t-1} (and torch's buffer is m)."""
    lr, mu = 0.02, 0.9
    w = minigrad.tensor(START, dtype=minigrad.float64, requires_grad=True)
    opt = course.Nesterov([w], lr=lr, mu=mu, lookahead_without_lr=False)
    p = torch.tensor(START, dtype=torch.float64, requires_grad=True)
    ref = torch.optim.SGD([p], lr=lr, momentum=mu, nesterov=True)

    def closure():
        opt.zero_grad()
        loss = quadratic(minigrad, w)
        loss.backward()
        return loss

    for _ in range(30):
        lookahead = w.detach().numpy() - lr * mu * opt.m[0].numpy()
        np.testing.assert_allclose(lookahead, p.detach().numpy(), rtol=1e-12, atol=1e-14)
        loss = opt.step(closure)
        assert loss.item() == pytest.approx(0.5 * float(np.sum(A * lookahead ** 2)), rel=1e-12)
        ref.zero_grad()
        quadratic(torch, p).backward()
        ref.step()
        np.testing.assert_allclose(opt.m[0].numpy(), ref.state[p]["momentum_buffer"].numpy(), rtol=1e-12, atol=1e-14)


def test_zero_grad_and_empty_params():
    w = minigrad.tensor([1.0], requires_grad=True)
    opt = course.Adam([w])
    (w * w).sum().backward()
    assert w.grad is not None
    opt.zero_grad()
    assert w.grad is None
    with pytest.raises(ValueError, match="empty parameter list"):
        course.SGD([])


def test_course_optimizers_train_a_module():
    """They take model.parameters() (a generator) and update the module's own tensors in place."""
    minigrad.manual_seed(0)
    model = minigrad.nn.Linear(3, 1)
    weight = model.weight
    x, y = minigrad.randn(32, 3), minigrad.randn(32, 1)
    opt = course.Momentum(model.parameters(), lr=0.05, mu=0.9)
    losses = []
    for _ in range(20):
        loss = ((model(x) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert model.weight is weight and weight.requires_grad and weight.is_leaf
    assert losses[-1] < 0.8 * losses[0]


# ---- each slip switch does what the docs say ---------------------------------------------------------

def test_dampening_torch_first_step_is_one_over_one_minus_tau_larger():
    lr, mu, tau = 0.01, 0.99, 0.25
    ours = course_path(lambda ps: course.Momentum(ps, lr=lr, mu=mu, tau=tau), 5)
    theirs = torch_path(lambda ps: torch.optim.SGD(ps, lr=lr, momentum=mu, dampening=tau), 5)
    np.testing.assert_allclose(theirs[1] - theirs[0], (ours[1] - ours[0]) / (1 - tau), rtol=1e-14)
    assert np.abs(ours[5] - theirs[5]).max() > 1e-3
    # with tau = 0 the switch changes nothing
    a = course_path(lambda ps: course.Momentum(ps, lr=lr, mu=mu), 5)
    b = course_path(lambda ps: course.Momentum(ps, lr=lr, mu=mu, dampen_first_step=False), 5)
    np.testing.assert_array_equal(a, b)


def test_dampening_later_steps_follow_the_same_recursion():
    """On a constant gradient the buffers differ by tau * g * mu**(t-1): the extra first gradient decaying."""
    lr, mu, tau = 0.01, 0.9, 0.5
    w1 = minigrad.zeros(1, dtype=minigrad.float64, requires_grad=True)
    w2 = minigrad.zeros(1, dtype=minigrad.float64, requires_grad=True)
    ours = course.Momentum([w1], lr=lr, mu=mu, tau=tau)
    theirs = minigrad.optim.SGD([w2], lr=lr, momentum=mu, dampening=tau)
    for t in range(1, 8):
        w1.grad = minigrad.tensor([1.0], dtype=minigrad.float64)
        w2.grad = minigrad.tensor([1.0], dtype=minigrad.float64)
        ours.step()
        theirs.step()
        difference = theirs.state[w2]["momentum_buffer"].item() - ours.m[0].item()
        assert difference == pytest.approx(tau * mu ** (t - 1), rel=1e-12)


def test_nesterov_without_lr_is_the_course_slip():
    lr, mu = 0.02, 0.9
    slip = course_path(lambda ps: course.Nesterov(ps, lr=lr, mu=mu), 10)
    fixed = course_path(lambda ps: course.Nesterov(ps, lr=lr, mu=mu, lookahead_without_lr=False), 10)
    assert np.abs(slip[-1]).max() > 1e3  # looking ahead by mu*m (gradient units) throws y far off: it diverges
    assert np.abs(fixed[-1]).max() < np.abs(START).max()
    # with lr = 1 the two look-aheads are the same point
    np.testing.assert_array_equal(course_path(lambda ps: course.Nesterov(ps, lr=1.0, mu=0.01), 5),
                                  course_path(lambda ps: course.Nesterov(ps, lr=1.0, mu=0.01,
                                                                         lookahead_without_lr=False), 5))


def rprop_path(make, grads=(1.0, 1.0, -1.0, -1.0, -1.0)):
    w = minigrad.tensor([1.0], dtype=minigrad.float64, requires_grad=True)
    opt, path = make([w]), []
    for g in grads:
        w.grad = minigrad.tensor([g], dtype=minigrad.float64)
        opt.step()
        path.append(w.item())
    return path


def test_rprop_u0_zero_never_moves_and_u0_positive_is_still_not_torch():
    assert rprop_path(lambda ps: course.Rprop(ps, u_min=0.0)) == [1.0] * 5  # U_0 = 0, the formula alone
    floor = rprop_path(lambda ps: course.Rprop(ps))  # U_0 = 0 with the course's floor 1e-6
    assert floor[0] == 1.0 and abs(floor[1] - 1.0) == pytest.approx(1e-6)
    np.testing.assert_allclose(rprop_path(lambda ps: course.Rprop(ps, u0=0.1)), [0.9, 0.85, 0.91, 0.94, 0.976],
                               rtol=1e-14)
    theirs = []
    p = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
    ref = torch.optim.Rprop([p], lr=0.1)
    for g in (1.0, 1.0, -1.0, -1.0, -1.0):
        p.grad = torch.tensor([g], dtype=torch.float64)
        ref.step()
        theirs.append(p.item())
    np.testing.assert_allclose(theirs, [0.9, 0.78, 0.78, 0.84, 0.912], rtol=1e-14)


@pytest.mark.parametrize("cls, torch_make, grad, course_step, torch_step", [
    # the docs: a first gradient of 1e-5 moves AdaGrad's weight by ~0.7 eta in the course, ~eta in torch
    (course.AdaGrad, lambda ps: torch.optim.Adagrad(ps, lr=1.0), 1e-5, 1 / np.sqrt(2), 1.0),
    # Adam: 1e-8 inside the root acts like 1e-4 outside: a gradient of 1e-4 gets lr / sqrt(2)
    (course.Adam, lambda ps: torch.optim.Adam(ps, lr=1.0), 1e-4, 1 / np.sqrt(2), 1.0),
    # RMSprop (gamma 0.9): course 1e-4 / sqrt(1e-9 + 1e-8), torch 1e-4 / (sqrt(1e-9) + 1e-8)
    (course.RMSprop, lambda ps: torch.optim.RMSprop(ps, lr=1.0, alpha=0.9), 1e-4, 1e-4 / np.sqrt(1.1e-8),
     1e-4 / (np.sqrt(1e-9) + 1e-8)),
])
def test_eps_inside_the_root_is_visible_for_small_gradients(cls, torch_make, grad, course_step, torch_step):
    kwargs = {"gamma": 0.9} if cls is course.RMSprop else {}
    ours = one_step(lambda ps: cls(ps, lr=1.0, **kwargs), grad)
    fixed = one_step(lambda ps: cls(ps, lr=1.0, eps_inside_sqrt=False, **kwargs), grad)
    theirs = torch_one_step(torch_make, grad)
    assert ours == pytest.approx(course_step, rel=1e-3)
    assert theirs == pytest.approx(torch_step, rel=1e-4) and fixed == pytest.approx(theirs, rel=1e-13)
    # for a gradient of 1 the placement hardly matters
    assert one_step(lambda ps: cls(ps, lr=1.0, **kwargs), 1.0) == pytest.approx(torch_one_step(torch_make, 1.0),
                                                                                 rel=1e-7)


def test_nadam_slip_moves_a_weight_at_the_minimum_and_the_fix_is_still_not_torch():
    lr, eps = 0.002, 1e-8
    slip = course_path(lambda ps: course.NAdam(ps, lr=lr), 1, start=np.zeros(2))
    assert slip[1] == pytest.approx(np.full(2, -lr / eps), rel=1e-12)  # m_hat = (1-b1)/(1-b1) = 1, r_hat = 0
    fixed = course_path(lambda ps: course.NAdam(ps, lr=lr, drop_grad_term=False), 1, start=np.zeros(2))
    np.testing.assert_array_equal(fixed[1], np.zeros(2))
    # the fix is NAdam with a constant mu = beta1; torch's mu schedule starts at about beta1 / 2
    ours = course_path(lambda ps: course.NAdam(ps, lr=0.3, drop_grad_term=False), 10)
    theirs = torch_path(lambda ps: torch.optim.NAdam(ps, lr=0.3), 10)
    assert np.abs(ours - theirs).max() > 1e-3
    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    ref = torch.optim.NAdam([p])
    p.grad = torch.ones(1, dtype=torch.float64)
    ref.step()
    assert float(ref.state[p]["mu_product"]) == pytest.approx(0.9 * (1 - 0.5 * 0.96 ** 0.004), rel=1e-6)


def test_adadelta_plus_sign_climbs_the_loss():
    def loss(path):
        return [0.5 * float(np.sum(A * w ** 2)) for w in path]

    climbing = loss(course_path(lambda ps: course.AdaDelta(ps), 20))
    descending = loss(course_path(lambda ps: course.AdaDelta(ps, plus_sign=False), 20))
    assert all(b > a for a, b in zip(climbing, climbing[1:]))
    assert all(b < a for a, b in zip(descending, descending[1:]))
    # the first step is about sqrt(eps / (1 - rho)) along +g in the course: 3.2e-4 with its eps 1e-8
    assert one_step(lambda ps: course.AdaDelta(ps), 1.0) == pytest.approx(-np.sqrt(1e-8 / 0.1), rel=1e-6)
    assert torch_one_step(lambda ps: torch.optim.Adadelta(ps), 1.0) == pytest.approx(np.sqrt(1e-6 / 0.1), rel=1e-4)


# ---- the example ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def example():
    path = Path(__file__).resolve().parent.parent / "examples" / "course_vs_torch.py"
    spec = importlib.util.spec_from_file_location("example_course_vs_torch", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    out = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out):
        results = module.main(fast=True)
    return results, out.getvalue(), time.perf_counter() - start


def test_example_runs_fast_and_every_claim_holds(example):
    results, printed, seconds = example
    assert seconds < 5
    assert set(results) == {"agreements", "nesterov", "dampening", "eps_placement", "nadam", "adadelta", "rprop"}
    assert all(section["holds"] for section in results.values())
    assert printed.count("[holds]") == 7 and "FAILS" not in printed


def test_example_numbers_match_the_docs(example):
    results = example[0]
    agreements = {k: v for k, v in results["agreements"].items() if k != "holds"}
    assert len(agreements) == 7 and max(agreements.values()) < 1e-13
    assert results["nesterov"]["max_difference_after_change_of_variables"] < 1e-13
    assert results["dampening"]["first_step_ratio"] == pytest.approx(4 / 3, rel=1e-14)
    adam = results["eps_placement"]["Adam (eps=1e-8)"]
    assert adam[1e-4]["course"] == pytest.approx(1 / np.sqrt(2), rel=1e-6)
    assert adam[1e-4]["torch"] == pytest.approx(1.0, rel=2e-4)
    assert results["nadam"]["mu_schedule"][1] == pytest.approx(0.4500735, abs=1e-7)
    assert results["nadam"]["moves_at_minimum"]["course (slip)"] == pytest.approx(0.002 / 1e-8)
    assert results["rprop"]["paths"]["course, U_0 = 0.1"] == [0.9, 0.85, 0.91, 0.94, 0.976]
    first = results["adadelta"]["first_step"]
    assert first[1e-6] / first[1e-8] == pytest.approx(10, rel=1e-3)


def test_example_prints_the_step_by_step_tables(example):
    printed = example[1]
    for heading in ("1. Where the course agrees", "2. Nesterov", "3. Dampening", "4. eps inside the root",
                    "5. NAdam", "6. AdaDelta", "7. Rprop"):
        assert heading in printed
    assert "1.333333333333333" in printed  # the dampening ratio 1/(1-tau)
