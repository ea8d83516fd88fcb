"""The course's optimizers as it writes them (minigrad.optim.course) against torch's (minigrad.optim), step by step.

``minigrad.optim`` computes what torch 2.13 computes, to the last digit; ``minigrad.optim.course``
computes what the course's formulas say, slips included, with a switch to fix each slip. Running
both on the same small problem turns every claim of docs/optimizers.md about "course vs torch"
into numbers:

1. where the course agrees with torch (gradient descent, momentum, and AdaGrad, RMSprop, Adam,
   AdaDelta once ε and the sign are placed as torch places them), the two paths are equal to
   ~1e-16;
2. Nesterov: the course's form, with α in the look-ahead, is torch's after the change of
   variables ``p = w - α·μ·m`` (to ~1e-16); without α (as the course writes it) it is not;
3. dampening: torch's first step is ``1/(1-τ)`` times the course's (its buffer starts at the
   undamped gradient), later steps follow the same recursion;
4. ε inside or outside the square root: the same step for gradients of 1, a different one for
   gradients of 1e-4 (Adam: ≈lr/sqrt(2) in the course, ≈lr in torch);
5. NAdam: the course's missing gradient term moves a weight that sits at the minimum; fixed,
   the course still uses μ = β1 where torch's μ schedule starts at ≈β1/2;
6. AdaDelta: the course's ``w + Δw`` climbs the loss; with ``w - Δw`` it is torch's;
7. Rprop: with the course's ``U_0 = 0`` nothing moves; with ``U_0 = lr`` it still takes
   another path than torch's iRprop-.

The problem is the quadratic ``0.5·(x² + 25·y²)`` from (-4, 1) (the one of
examples/optimizer_paths.py), in float64; sections 4, 6 and 7 set the gradient directly.
Nothing is plotted: every section prints its table and a ``[holds]`` line, and ``main``
returns the numbers (the tests check them).

    python examples/course_vs_torch.py [--fast]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import numpy as np

import minigrad as torch
from minigrad.optim import course

START = (-4.0, 1.0)
CURVATURE = (1.0, 25.0)


def quadratic(w: Any) -> Any:
    return 0.5 * (torch.tensor(CURVATURE, dtype=torch.float64) * w * w).sum()


def run(make: Callable[[list], Any], steps: int, start: tuple = START) -> tuple[np.ndarray, Any]:
    """The points visited by ``steps`` steps of the optimizer ``make([w])`` on the quadratic, and the optimizer."""
    w = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = make([w])

    def closure() -> Any:
        opt.zero_grad()
        loss = quadratic(w)
        loss.backward()
        return loss

    path = [w.detach().numpy().copy()]
    for _ in range(steps):
        if isinstance(opt, course.Nesterov):
            opt.step(closure)  # the course's Nesterov evaluates the gradient itself, at the look-ahead point
        else:
            closure()
            opt.step()
        path.append(w.detach().numpy().copy())  # a copy: step() updates w in place
    return np.array(path), opt


def first_step(make: Callable[[list], Any], grad: float) -> float:
    """How far one step moves a weight at 0 whose gradient is ``grad``."""
    w = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = make([w])
    w.grad = torch.tensor([grad], dtype=torch.float64)
    opt.step()
    return float(-w.item())


# ---- 1. where the course and torch agree --------------------------------------------------------

AGREEING = {  # name: (the course's class, fixed where needed; torch's)
    "gradient descent": (lambda ps: course.SGD(ps, lr=0.02), lambda ps: torch.optim.SGD(ps, lr=0.02)),
    "momentum": (lambda ps: course.Momentum(ps, lr=0.02, mu=0.9),
                 lambda ps: torch.optim.SGD(ps, lr=0.02, momentum=0.9)),
    "dampening, torch's first step": (
        lambda ps: course.Momentum(ps, lr=0.02, mu=0.9, tau=0.25, dampen_first_step=False),
        lambda ps: torch.optim.SGD(ps, lr=0.02, momentum=0.9, dampening=0.25)),
    "AdaGrad, eps outside": (lambda ps: course.AdaGrad(ps, lr=0.5, eps_inside_sqrt=False),
                             lambda ps: torch.optim.Adagrad(ps, lr=0.5)),
    "RMSprop, eps outside": (lambda ps: course.RMSprop(ps, lr=0.05, gamma=0.9, eps_inside_sqrt=False),
                             lambda ps: torch.optim.RMSprop(ps, lr=0.05, alpha=0.9)),
    "Adam, eps outside": (lambda ps: course.Adam(ps, lr=0.5, eps_inside_sqrt=False),
                          lambda ps: torch.optim.Adam(ps, lr=0.5)),
    "AdaDelta, w - dw": (lambda ps: course.AdaDelta(ps, eps=1e-6, plus_sign=False),
                         lambda ps: torch.optim.Adadelta(ps)),
}


def agreements(steps: int) -> dict:
    """The largest difference between the course's path and torch's over ``steps`` steps."""
    print(f"1. Where the course agrees with torch: max |course - torch| over {steps} steps on the quadratic")
    result: dict = {}
    for name, (make_course, make_torch) in AGREEING.items():
        ours, theirs = run(make_course, steps)[0], run(make_torch, steps)[0]
        result[name] = float(np.abs(ours - theirs).max())
        print(f"   {name:<30} {result[name]:.1e}   (torch ends at {theirs[-1, 0]:+.6f}, {theirs[-1, 1]:+.6f})")
    result["holds"] = max(result.values()) < 1e-13
    return result


# ---- 2. Nesterov ---------------------------------------------------------------------------------

def nesterov(steps: int, lr: float = 0.02, mu: float = 0.9) -> dict:
    """The course's Nesterov (w and m) against torch's p: p_t = w_t - lr·mu·m_{t-1}, the look-ahead point."""
    print(f"2. Nesterov (lr={lr}, mu={mu}): torch's p is the course's look-ahead point w - lr*mu*m")
    print(f"   {'t':>3} {'course w_t (x)':>15} {'w_t - lr*mu*m (x)':>18} {'torch p_t (x)':>15} {'difference':>11}")
    opt_with = course.Nesterov([torch.tensor(START, dtype=torch.float64, requires_grad=True)], lr=lr, mu=mu,
                               lookahead_without_lr=False)
    torch_path = run(lambda ps: torch.optim.SGD(ps, lr=lr, momentum=mu, nesterov=True), steps)[0]
    w, differences = opt_with.params[0], []
    for t in range(steps + 1):
        lookahead = w.detach().numpy() - lr * mu * opt_with.m[0].numpy()
        differences.append(float(np.abs(lookahead - torch_path[t]).max()))
        if t < 6 or t == steps:
            print(f"   {t:>3} {w[0].item():15.10f} {lookahead[0]:18.10f} {torch_path[t, 0]:15.10f} "
                  f"{differences[-1]:11.1e}")
        opt_with.step(lambda: _backward(opt_with, w))
    slip = run(lambda ps: course.Nesterov(ps, lr=lr, mu=mu), steps)[0]  # the course's look-ahead w - mu*m
    result = {"max_difference_after_change_of_variables": max(differences),
              "slip_first_steps_y": [float(y) for y in slip[:4, 1]],
              "slip_final_size": float(np.abs(slip[-1]).max())}
    first_ys = ", ".join(f"{y:.4g}" for y in slip[:4, 1])
    print(f"   the course as written looks ahead to w - mu*m (m in gradient units, no lr): y = {first_ys}, ..., "
          f"|w| = {result['slip_final_size']:.3g} after {steps} steps")
    result["holds"] = result["max_difference_after_change_of_variables"] < 1e-13 and result["slip_final_size"] > 1e3
    return result


def _backward(opt: Any, w: Any) -> Any:
    opt.zero_grad()
    loss = quadratic(w)
    loss.backward()
    return loss


# ---- 3. dampening --------------------------------------------------------------------------------

def dampening(steps: int, lr: float = 0.01, mu: float = 0.99, tau: float = 0.25) -> dict:
    """The course's own example, SGD(lr=0.01, momentum=0.99, dampening=0.25): step lengths, course and torch."""
    print(f"3. Dampening (lr={lr}, mu={mu}, tau={tau}, the course's example): torch's buffer starts at g_1, "
          f"the course's at (1-tau)*g_1")
    ours = run(lambda ps: course.Momentum(ps, lr=lr, mu=mu, tau=tau), steps)[0]
    theirs = run(lambda ps: torch.optim.SGD(ps, lr=lr, momentum=mu, dampening=tau), steps)[0]
    ours_steps = np.linalg.norm(np.diff(ours, axis=0), axis=1)
    theirs_steps = np.linalg.norm(np.diff(theirs, axis=0), axis=1)
    print(f"   {'t':>3} {'course |step|':>14} {'torch |step|':>13} {'ratio':>8}")
    for t in range(min(5, steps)):
        print(f"   {t + 1:>3} {ours_steps[t]:14.8f} {theirs_steps[t]:13.8f} {theirs_steps[t] / ours_steps[t]:8.5f}")
    ratio = float(theirs_steps[0] / ours_steps[0])
    result = {"first_step_ratio": ratio, "expected_ratio": 1 / (1 - tau),
              "distance_after": float(np.abs(ours[-1] - theirs[-1]).max())}
    print(f"   first step: torch / course = {ratio:.15f} = 1/(1-tau); after {steps} steps the points differ by "
          f"{result['distance_after']:.4f}")
    result["holds"] = abs(ratio - 1 / (1 - tau)) < 1e-12
    return result


# ---- 4. eps inside or outside the root ------------------------------------------------------------

EPS_PAIRS = {  # name: (the course's form, torch's), each with lr = 1 so that the step is in units of lr
    "AdaGrad (eps=1e-10)": (lambda ps: course.AdaGrad(ps, lr=1.0), lambda ps: torch.optim.Adagrad(ps, lr=1.0)),
    "RMSprop (eps=1e-8, gamma=0.9)": (lambda ps: course.RMSprop(ps, lr=1.0, gamma=0.9),
                                      lambda ps: torch.optim.RMSprop(ps, lr=1.0, alpha=0.9)),
    "Adam (eps=1e-8)": (lambda ps: course.Adam(ps, lr=1.0), lambda ps: torch.optim.Adam(ps, lr=1.0)),
}


def eps_placement(grads: tuple = (1.0, 1e-4, 1e-5)) -> dict:
    """The first step, in units of lr, for a gradient of each size: sqrt(. + eps) (course) or sqrt(.) + eps (torch)."""
    print("4. eps inside the root (course) or outside (torch): the first step / lr")
    print(f"   {'':<31}" + "".join(f" {'g=' + format(g, 'g'):>21}" for g in grads))
    print(f"   {'':<31}" + " {:>10} {:>10}".format("course", "torch") * len(grads))
    result: dict = {}
    for name, (make_course, make_torch) in EPS_PAIRS.items():
        row = {g: (first_step(make_course, g), first_step(make_torch, g)) for g in grads}
        result[name] = {g: {"course": c, "torch": t} for g, (c, t) in row.items()}
        print(f"   {name:<31}" + "".join(f" {c:10.6f} {t:10.6f}" for c, t in row.values()))
    adam = result["Adam (eps=1e-8)"]
    result["holds"] = (abs(adam[1.0]["course"] / adam[1.0]["torch"] - 1) < 1e-7
                       and abs(adam[1e-4]["course"] - 1 / np.sqrt(2)) < 1e-6 and adam[1e-4]["torch"] > 0.9998)
    return result


# ---- 5. NAdam --------------------------------------------------------------------------------------

def torch_mu(t: int, beta1: float = 0.9, momentum_decay: float = 0.004) -> float:
    """torch's NAdam momentum schedule (Dozat): mu_t = beta1 * (1 - 0.5 * 0.96 ** (t * psi))."""
    return beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))


def nadam(steps: int, lr: float = 0.002) -> dict:
    """The slip at a minimum, the fixed course form against torch, and torch's mu schedule."""
    print(f"5. NAdam (lr={lr}): the course's m_hat lacks the gradient in its second term")
    at_minimum = {}
    for name, make in {"course (slip)": lambda ps: course.NAdam(ps, lr=lr),
                       "course, fixed": lambda ps: course.NAdam(ps, lr=lr, drop_grad_term=False),
                       "torch": lambda ps: torch.optim.NAdam(ps, lr=lr)}.items():
        at_minimum[name] = float(np.abs(run(make, 1, start=(0.0, 0.0))[0][-1]).max())
        print(f"   one step from the minimum (gradient 0), {name:<14}: moves by {at_minimum[name]:.6g}")
    fixed = run(lambda ps: course.NAdam(ps, lr=lr, drop_grad_term=False), steps)[0]
    theirs, opt = run(lambda ps: torch.optim.NAdam(ps, lr=lr), steps)
    mu_product = float(opt.state[opt.param_groups[0]["params"][0]]["mu_product"])
    schedule = {t: torch_mu(t) for t in (1, 2, 10, 100, 1000, 10000, 100000)}
    product = float(np.prod([torch_mu(t) for t in range(1, steps + 1)]))
    print("   torch's mu_t: " + ", ".join(f"t={t}: {mu:.4f}" for t, mu in schedule.items()))
    print("   the course's mu: beta1 = 0.9 at every step")
    print(f"   torch's state mu_product after {steps} steps: {mu_product:.6e} = prod of its mu_t {product:.6e}"
          f" (float32); the course's beta1^t: {0.9 ** steps:.6e}")
    result = {"moves_at_minimum": at_minimum, "mu_schedule": schedule, "mu_product": mu_product,
              "mu_product_expected": product,
              "fixed_vs_torch_max_difference": float(np.abs(fixed - theirs).max())}
    print(f"   fixed course form vs torch, max |difference| over {steps} steps: "
          f"{result['fixed_vs_torch_max_difference']:.3g}")
    result["holds"] = (at_minimum["course (slip)"] > 1.0 and at_minimum["course, fixed"] == 0.0
                       and at_minimum["torch"] == 0.0 and abs(schedule[1] - 0.4500735) < 1e-7
                       and abs(mu_product / product - 1) < 1e-5
                       and result["fixed_vs_torch_max_difference"] > 1e-6)
    return result


# ---- 6. AdaDelta -----------------------------------------------------------------------------------

def adadelta(steps: int) -> dict:
    """The course's w + dw climbs; w - dw is torch's (lr = 1); the first step is about sqrt(eps / (1 - rho))."""
    print("6. AdaDelta: w + dw (the course) or w - dw (torch)")
    losses = {}
    for name, make in {"course, w + dw": lambda ps: course.AdaDelta(ps),
                       "course, w - dw": lambda ps: course.AdaDelta(ps, plus_sign=False),
                       "torch, eps=1e-8": lambda ps: torch.optim.Adadelta(ps, eps=1e-8)}.items():
        path = run(make, steps)[0]
        losses[name] = [0.5 * float(np.sum(np.array(CURVATURE) * p * p)) for p in (path[0], path[-1])]
        print(f"   {name:<16} loss {losses[name][0]:.6f} -> {losses[name][1]:.6f} after {steps} steps")
    first = {eps: first_step(lambda ps, e=eps: torch.optim.Adadelta(ps, eps=e), 1.0) for eps in (1e-8, 1e-6)}
    print(f"   first step: {first[1e-8]:.3g} with the course's eps 1e-8, {first[1e-6]:.3g} with torch's default 1e-6"
          f" (sqrt(eps/(1-rho)): {np.sqrt(1e-8 / 0.1):.3g}, {np.sqrt(1e-6 / 0.1):.3g})")
    result = {"losses": losses, "first_step": first}
    result["holds"] = (losses["course, w + dw"][1] > losses["course, w + dw"][0]
                       and losses["course, w - dw"][1] < losses["course, w - dw"][0]
                       and abs(losses["course, w - dw"][1] - losses["torch, eps=1e-8"][1]) < 1e-13)
    return result


# ---- 7. Rprop --------------------------------------------------------------------------------------

def rprop(grads: tuple = (1.0, 1.0, -1.0, -1.0, -1.0)) -> dict:
    """One weight at 1 with the gradients ``grads`` (docs/optimizers.md's example)."""
    print(f"7. Rprop, one weight at 1, gradients {list(grads)}")
    paths = {}
    for name, make in {"course, U_0 = 0, no floor": lambda ps: course.Rprop(ps, u_min=0.0),
                       "course, U_0 = 0": lambda ps: course.Rprop(ps),
                       "course, U_0 = 0.1": lambda ps: course.Rprop(ps, u0=0.1),
                       "torch, lr = 0.1": lambda ps: torch.optim.Rprop(ps, lr=0.1)}.items():
        w = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
        opt, paths[name] = make([w]), []
        for g in grads:
            w.grad = torch.tensor([g], dtype=torch.float64)
            opt.step()
            paths[name].append(round(w.item(), 10))
        print(f"   {name:<26} {paths[name]}")
    result = {"paths": paths}
    result["holds"] = (paths["course, U_0 = 0, no floor"] == [1.0] * len(grads)
                       and paths["torch, lr = 0.1"] == [0.9, 0.78, 0.78, 0.84, 0.912]
                       and paths["course, U_0 = 0.1"] != paths["torch, lr = 0.1"])
    return result


def main(fast: bool = False) -> dict:
    """Run the seven comparisons; returns their numbers, each with ``holds``."""
    steps = 10 if fast else 50
    print("course: minigrad.optim.course (the course's formulas); torch: minigrad.optim (torch 2.13's, to the last"
          " digit); float64\n")
    results = {}
    for name, section in {"agreements": lambda: agreements(steps), "nesterov": lambda: nesterov(steps),
                          "dampening": lambda: dampening(steps), "eps_placement": eps_placement,
                          "nadam": lambda: nadam(steps), "adadelta": lambda: adadelta(steps), "rprop": rprop}.items():
        results[name] = section()
        print(f"   [{'holds' if results[name]['holds'] else 'FAILS'}]\n")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="10 steps instead of 50 (used by the tests)")
    main(fast=parser.parse_args().fast)
