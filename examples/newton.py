"""Newton's method against gradient descent, with Hessians from minigrad's double backprop.

Gradient descent moves along -grad f with a fixed learning rate. The learning rate has to suit
the steepest curvature it meets (lr < 2 / largest curvature, or it diverges), and is then far
too small where the function is flat: it crawls. Newton's method uses the curvature itself: it
models f near x by its second-order Taylor expansion and jumps to that model's minimum, the step
d that solves

    H d = -g        (g the gradient, H the Hessian: the matrix of second derivatives)

Near a minimum where H is positive definite it converges quadratically: the number of correct
digits roughly doubles at every step.

Where do the Hessians come from? From backprop of backprop. ``autograd.grad(f, x,
create_graph=True)`` returns the gradient g as tensors that are themselves recorded in a graph
(the backward pass, written down as ordinary ops). Each entry g[i] is then a function of x like
any other, and backprop through that recorded gradient graph gives its gradient, row i of H:

    g, = torch.autograd.grad(f(x), x, create_graph=True)
    H = [torch.autograd.grad(g[i], x, retain_graph=True)[0] for i in range(n)]

The cost: one backward pass to build g, then n backward passes through the gradient graph (a
graph about twice the size of the original), one per row; ``retain_graph=True`` keeps that graph
alive between them. For n = 2 that is nothing. For a network with a million parameters it is a
million passes and a matrix of 10**12 entries, which is why deep learning does not use Newton's
method as is (see examples/hessian_curvature.py for what is done instead: Hessian-vector products).
Each Hessian is checked here against the closed-form one of each function (printed: max difference).

The two functions:

* a 1-D quartic ``f(x) = x**4 - 3 x**3 + 2``, minimum at x = 9/4, started at x = 4. Its curvature
  f'' = 12 x**2 - 18 x is 120 at the start but only 20.25 at the minimum: the lr that is safe at
  the start (0.01 < 2/120) makes each late step shrink the error only by 1 - 0.01 * 20.25 ~ 0.8.
* Rosenbrock's banana ``(1 - x)**2 + 100 (y - x**2)**2`` from the classic start (-1.2, 1),
  minimum (1, 1). The Hessian's eigenvalues at the minimum are ~1002 and ~0.4: lr = 0.001
  (< 2/1506, the largest curvature on the path, at the start) shrinks the error along the
  flat direction by only 1 - 0.001 * 0.4 per step, so gradient descent needs tens of thousands.

The safeguard: the pure Newton step can go uphill or too far, far from the minimum (where H is
not positive definite, or the quadratic model is poor). So (1) if the Newton direction d is not
downhill (g . d >= 0), we take d = -g instead; (2) a backtracking line search: try the full step
t = 1 and halve t until f(x + t d) <= f(x) + 1e-4 * t * (g . d) (the Armijo condition: a decrease
at least a small fraction of what the slope promises). Near the minimum the full step passes at
once and the quadratic convergence is kept. The table reports how often each part was needed.

Gradient descent here is the plain full-step kind (a fixed lr, no line search), as in the course.
Both stop when |grad f| < 1e-8 (the Euclidean norm), or after a fixed number of iterations
(``MAX_GD_ITERATIONS``; --fast stops gradient descent on Rosenbrock early, unconverged, and says so).

    python examples/newton.py [output directory, default out/] [--fast]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: no window, works without a display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import minigrad as torch  # noqa: E402

TOLERANCE = 1e-8  # stop when |grad f| < TOLERANCE
MAX_NEWTON_ITERATIONS = 100
MAX_GD_ITERATIONS = {"full": 100_000, "fast": 2_000}
ARMIJO = 1e-4  # the fraction of the promised decrease a line-search step must achieve


# The functions take a 1-D tensor (or array) of coordinates and use + - * ** only, so the same
# code evaluates minigrad tensors (for gradients and Hessians) and NumPy grids (for the plot).

def quartic(x: Any) -> Any:
    return x[0] ** 4 - 3 * x[0] ** 3 + 2


def quartic_hessian(x: np.ndarray) -> np.ndarray:
    """The closed form: f'' = 12 x**2 - 18 x, as a 1x1 matrix."""
    return np.array([[12 * x[0] ** 2 - 18 * x[0]]])


def rosenbrock(x: Any) -> Any:
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def rosenbrock_hessian(x: np.ndarray) -> np.ndarray:
    """The closed form, from differentiating by hand twice."""
    a, b = x
    return np.array([[2 - 400 * (b - a ** 2) + 800 * a ** 2, -400 * a],
                     [-400 * a, 200.0]])


@dataclass
class Problem:
    f: Callable[[Any], Any]
    hessian: Callable[[np.ndarray], np.ndarray]  # closed form, to check the double backprop
    start: tuple[float, ...]
    minimum: tuple[float, ...]
    lr: float  # gradient descent's fixed learning rate


PROBLEMS = {
    "quartic": Problem(quartic, quartic_hessian, (4.0,), (2.25,), 0.01),
    "rosenbrock": Problem(rosenbrock, rosenbrock_hessian, (-1.2, 1.0), (1.0, 1.0), 0.001),
}


# ---- derivatives by (double) backprop -------------------------------------------------------------

def gradient(f: Callable, x: np.ndarray) -> tuple[float, np.ndarray]:
    """f(x) and its gradient, by one ordinary backward pass."""
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    value = f(xt)
    g, = torch.autograd.grad(value, xt)
    return value.item(), g.numpy()


def gradient_and_hessian(f: Callable, x: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """f(x), its gradient and its Hessian: backprop, then n backprops through the gradient's graph."""
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    value = f(xt)
    g, = torch.autograd.grad(value, xt, create_graph=True)  # g is recorded: differentiable again
    rows = [torch.autograd.grad(g[i], xt, retain_graph=True)[0] for i in range(len(x))]
    hessian = np.stack([row.numpy() for row in rows])
    return value.item(), g.detach().numpy(), hessian


# ---- the two methods ---------------------------------------------------------------------------

@dataclass
class Run:
    path: np.ndarray  # the points visited, (iterations + 1, n)
    grad_norms: list[float]  # |grad f| at each point of the path
    converged: bool
    seconds: float
    hessian_error: float = 0.0  # Newton: max |H(backprop) - H(closed form)| over every iterate
    line_search_cuts: int = 0  # Newton: steps where the full step t = 1 was halved
    gradient_fallbacks: int = 0  # Newton: steps where the Newton direction was not downhill

    @property
    def iterations(self) -> int:
        return len(self.path) - 1


def newton(problem: Problem) -> Run:
    """Newton's method with the safeguard described in the module docstring."""
    start = time.perf_counter()
    x = np.array(problem.start, dtype=np.float64)
    path, norms = [x], []
    errors, cuts, fallbacks = [], 0, 0
    converged = False
    for _ in range(MAX_NEWTON_ITERATIONS + 1):
        fx, g, hessian = gradient_and_hessian(problem.f, x)
        errors.append(float(np.abs(hessian - problem.hessian(x)).max()))
        norms.append(float(np.linalg.norm(g)))
        if norms[-1] < TOLERANCE:
            converged = True
            break
        if len(path) > MAX_NEWTON_ITERATIONS:
            break
        try:
            d = np.linalg.solve(hessian, -g)
        except np.linalg.LinAlgError:  # a singular Hessian: no Newton step at all
            d = g * 0
        if not g @ d < 0:  # not downhill (H not positive definite there): use steepest descent
            d, fallbacks = -g, fallbacks + 1
        t = 1.0
        while problem.f(x + t * d) > fx + ARMIJO * t * (g @ d):
            t /= 2
        cuts += t < 1.0
        x = x + t * d
        path.append(x)
    return Run(np.array(path), norms, converged, time.perf_counter() - start,
               max(errors), cuts, fallbacks)


def gradient_descent(problem: Problem, max_iterations: int) -> Run:
    """Plain gradient descent, x <- x - lr * grad f(x), with the problem's fixed lr."""
    start = time.perf_counter()
    x = np.array(problem.start, dtype=np.float64)
    path, norms = [x], []
    converged = False
    while True:
        _, g = gradient(problem.f, x)
        norms.append(float(np.linalg.norm(g)))
        if norms[-1] < TOLERANCE:
            converged = True
            break
        if len(path) > max_iterations:
            break
        x = x - problem.lr * g
        path.append(x)
    return Run(np.array(path), norms, converged, time.perf_counter() - start)


# ---- picture ----------------------------------------------------------------------------------

def plot_rosenbrock(runs: dict[str, Run], out_dir: str, grid: int) -> str:
    problem = PROBLEMS["rosenbrock"]
    xs, ys = np.linspace(-1.6, 1.6, grid), np.linspace(-0.4, 1.8, grid)
    X, Y = np.meshgrid(xs, ys)
    Z = rosenbrock((X, Y))
    levels = np.geomspace(1e-2, Z.max(), 20)  # log-spaced: the flat valley floor shows too
    fig, ax = plt.subplots(figsize=(8, 6))
    ax.contour(X, Y, Z, levels=levels, cmap="viridis", linewidths=0.6)
    gd, nt = runs["gradient descent"], runs["Newton"]
    ax.plot(gd.path[:, 0], gd.path[:, 1], "-", color="tab:blue", linewidth=1.2,
            label=f"gradient descent, lr = {problem.lr}: {gd.iterations} steps"
                  + ("" if gd.converged else " (stopped, not converged)"))
    ax.plot(nt.path[:, 0], nt.path[:, 1], "o-", color="crimson", markersize=4, linewidth=1.2,
            label=f"Newton (+ line search): {nt.iterations} steps")
    ax.plot(*problem.start, "o", color="black", markersize=6, label="start")
    ax.plot(*problem.minimum, "*", color="gold", markeredgecolor="black", markersize=15, label="minimum")
    ax.set(xlabel="x", ylabel="y", title="Rosenbrock: Newton's method against gradient descent")
    ax.legend(loc="upper right", fontsize=9)
    fig.tight_layout()
    png = os.path.join(out_dir, "newton_rosenbrock.png")
    fig.savefig(png, dpi=80)
    plt.close(fig)
    return png


def main(out_dir: str = "out", fast: bool = False) -> dict:
    """Run both methods on both functions; returns the runs, the Hessian checks and the PNG written."""
    os.makedirs(out_dir, exist_ok=True)
    max_gd = MAX_GD_ITERATIONS["fast" if fast else "full"]
    results: dict = {"runs": {}, "iterations": {}, "hessian_error": {}, "files": []}
    print(f"stopping rule: |grad f| < {TOLERANCE:g}\n")
    print(f"{'function':<11} {'method':<17} {'iterations':>10} {'converged':>9} {'final point':>26} "
          f"{'|grad f|':>9} {'seconds':>8}")
    for name, problem in PROBLEMS.items():
        runs = {"Newton": newton(problem), "gradient descent": gradient_descent(problem, max_gd)}
        results["runs"][name] = runs
        results["iterations"][name] = {method: run.iterations for method, run in runs.items()}
        results["hessian_error"][name] = runs["Newton"].hessian_error
        for method, run in runs.items():
            point = ", ".join(f"{v:.9f}" for v in run.path[-1])
            label = method if method == "Newton" else f"GD, lr={problem.lr}"
            print(f"{name:<11} {label:<17} {run.iterations:>10} {'yes' if run.converged else 'NO':>9} "
                  f"{'(' + point + ')':>26} {run.grad_norms[-1]:9.2e} {run.seconds:8.3f}")
    print()
    for name in PROBLEMS:
        nt = results["runs"][name]["Newton"]
        print(f"{name}: Newton's Hessians (double backprop) vs the closed form, max |difference| over "
              f"{len(nt.grad_norms)} points: {nt.hessian_error:.2e}; line search halved "
              f"{nt.line_search_cuts} of {nt.iterations} steps; gradient fallback {nt.gradient_fallbacks} times")
        digits = ", ".join(f"{v:.0e}" for v in nt.grad_norms[-5:])
        print(f"{name}: Newton's last |grad f| values (quadratic convergence): {digits}")
    results["files"].append(plot_rosenbrock(results["runs"]["rosenbrock"], out_dir, grid=80 if fast else 200))
    for path in results["files"]:
        print("wrote", path)
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", default="out", help="where to write the PNG (default: out)")
    parser.add_argument("--fast", action="store_true",
                        help="stop gradient descent early and draw a coarser plot (used by the tests)")
    args = parser.parse_args()
    main(args.out_dir, fast=args.fast)
