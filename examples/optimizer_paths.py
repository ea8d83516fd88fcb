"""The course's optimizers on 2-D functions: their paths on contour plots, and the course's claims checked.

Each optimizer moves one point, a tensor of shape (2,), downhill on three functions:

* an ill-conditioned quadratic ``0.5 * (x**2 + 25 * y**2)``: a long shallow valley (x) with
  steep walls (y);
* Rosenbrock's banana ``(1 - x)**2 + 100 * (y - x**2)**2``: a curved, flat-bottomed valley;
* two wells ``(x**2 - 1)**2 + 0.3 * x + 0.5 * y**2``: a local minimum near x = +0.96 and the
  global one near x = -1.04, separated by a bump.

It saves one PNG of paths per function and one PNG of the claims, and prints where every
optimizer ended. The claims checked (by the functions ``momentum_goes_further`` and the three
after it, which the tests call too):

1. momentum gets further than plain SGD along a consistent slope (same lr, same steps);
2. Nesterov overshoots the minimum less than classical momentum;
3. AdaGrad's steps shrink until it nearly stops, far from the minimum;
4. Rprop ignores the size of the gradient: scaling the function by 1000 leaves its path unchanged.

On the two wells, momentum and Nesterov carry enough speed over the bump to end in the global
minimum while the others settle in the local one. That one is shown, not checked: with other
lrs or momentum coefficients momentum may stop in the local well too.

    python examples/optimizer_paths.py [output directory, default out/] [--fast]
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: no window, works without a display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import minigrad as torch  # noqa: E402

# The functions are written with + - * ** only, so that the same code evaluates minigrad
# tensors (for the gradients) and NumPy grids (for the contour plots).
Fn = Callable[[Any, Any], Any]


def quadratic(x: Any, y: Any) -> Any:
    return 0.5 * (x ** 2 + 25 * y ** 2)


def rosenbrock(x: Any, y: Any) -> Any:
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2


def two_wells(x: Any, y: Any) -> Any:
    return (x ** 2 - 1) ** 2 + 0.3 * x + 0.5 * y ** 2


@dataclass
class Problem:
    f: Fn
    start: tuple[float, float]
    minimum: tuple[float, float]
    steps: int  # a full run; --fast runs a third
    sgd_lr: float  # for SGD, momentum and Nesterov
    step: float  # the adaptive methods' step size, in units of the coordinates
    xlim: tuple[float, float]
    ylim: tuple[float, float]


# The lrs are what each function tolerates: plain SGD must stay stable on the steepest direction
# (lr < 2 / largest curvature: 2/25 for the quadratic, ~2/1300 at Rosenbrock's start).
PROBLEMS = {
    "quadratic": Problem(quadratic, (-4.0, 1.0), (0.0, 0.0), 100, 0.02, 0.5, (-4.5, 1.5), (-1.2, 1.2)),
    "rosenbrock": Problem(rosenbrock, (-1.5, 2.0), (1.0, 1.0), 600, 0.001, 0.05, (-2.0, 2.0), (-0.5, 3.0)),
    "two_wells": Problem(two_wells, (2.0, 1.5), (-1.0356, 0.0), 200, 0.01, 0.1, (-2.0, 2.3), (-1.0, 2.0)),
}


def make_optimizers(problem: Problem) -> dict[str, Callable[[list], torch.optim.Optimizer]]:
    """Every course optimizer, as a function of the parameter list, tuned for ``problem``."""
    lr, step = problem.sgd_lr, problem.step
    optim = torch.optim
    return {
        "SGD": lambda ps: optim.SGD(ps, lr=lr),
        "Momentum": lambda ps: optim.SGD(ps, lr=lr, momentum=0.9),
        "Nesterov": lambda ps: optim.SGD(ps, lr=lr, momentum=0.9, nesterov=True),
        # Rprop's lr is only its first step size; from then on it grows or shrinks by itself.
        "Rprop": lambda ps: optim.Rprop(ps, lr=step),
        # Adagrad's and Adam's first step is lr along every coordinate whatever the gradient.
        "Adagrad": lambda ps: optim.Adagrad(ps, lr=step),
        # RMSprop's first step is lr / sqrt(1 - alpha) = 10 lr (its average of g**2 starts at 0,
        # with no bias correction), so lr = step / 10 starts it at the same size as Adam.
        "RMSprop": lambda ps: optim.RMSprop(ps, lr=step / 10),
        "Adam": lambda ps: optim.Adam(ps, lr=step),
        "NAdam": lambda ps: optim.NAdam(ps, lr=step),
        # Adadelta has no lr to tune (torch's lr=1 just multiplies): its first steps are
        # sqrt(eps / (1 - rho)) ~ 3e-3, and it speeds up only as its average of past steps grows.
        "Adadelta": lambda ps: optim.Adadelta(ps),
    }


def run(f: Fn, start: tuple[float, float], make_optimizer: Callable, steps: int) -> np.ndarray:
    """The points visited by ``steps`` optimizer steps from ``start``: an array of shape (steps + 1, 2)."""
    p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    optimizer = make_optimizer([p])
    path = [p.detach().numpy().copy()]
    for _ in range(steps):
        optimizer.zero_grad()
        f(p[0], p[1]).backward()
        optimizer.step()
        path.append(p.detach().numpy().copy())  # a copy: step() updates p in place
    return np.array(path)


def step_lengths(path: np.ndarray) -> np.ndarray:
    return np.linalg.norm(np.diff(path, axis=0), axis=1)


# ---- the course's claims, each measured on one run ---------------------------------------------
# Settings: the quadratic above with lr = 0.02 and momentum 0.9. The margins are wide: we also
# ran lr from 0.01 to 0.03 and momentum from 0.8 to 0.95 and every claim held with room to spare.

def momentum_goes_further(steps: int = 10) -> dict:
    """Along the quadratic's shallow x axis the gradient keeps pointing the same way, so momentum
    builds up speed: after ``steps`` steps it has travelled several times as far as plain SGD."""
    p = PROBLEMS["quadratic"]
    opts = make_optimizers(p)
    sgd = run(p.f, p.start, opts["SGD"], steps)
    momentum = run(p.f, p.start, opts["Momentum"], steps)
    sgd_progress = float(abs(sgd[-1, 0] - sgd[0, 0]))
    momentum_progress = float(abs(momentum[-1, 0] - momentum[0, 0]))
    return {"sgd_progress": sgd_progress, "momentum_progress": momentum_progress,
            "holds": momentum_progress > 2 * sgd_progress}


def nesterov_overshoots_less(steps: int = 100) -> dict:
    """Across the steep y axis momentum swings past the minimum (y = 0 from y = 1). Nesterov looks
    at the gradient where momentum is taking it and brakes earlier: a smaller swing, a shorter path."""
    p = PROBLEMS["quadratic"]
    opts = make_optimizers(p)
    momentum = run(p.f, p.start, opts["Momentum"], steps)
    nesterov = run(p.f, p.start, opts["Nesterov"], steps)
    result = {
        "momentum_overshoot": float(-momentum[:, 1].min()),  # how far below y = 0 it went
        "nesterov_overshoot": float(-nesterov[:, 1].min()),
        "momentum_path_length": float(step_lengths(momentum).sum()),
        "nesterov_path_length": float(step_lengths(nesterov).sum()),
    }
    result["holds"] = (result["nesterov_overshoot"] < result["momentum_overshoot"]
                       and result["nesterov_path_length"] < result["momentum_path_length"])
    return result


def adagrad_nearly_stops(steps: int = 200) -> dict:
    """AdaGrad divides lr by the root of the sum of every past squared gradient, a sum that only
    grows. In Rosenbrock's valley its steps fall to a few percent of its first one and never pick
    up again, while it is still far from the minimum (1, 1): it has all but stopped. RMSprop, whose
    average forgets old gradients, speeds up again along the same valley (for contrast)."""
    p = PROBLEMS["rosenbrock"]
    opts = make_optimizers(p)
    path = run(p.f, p.start, opts["Adagrad"], steps)
    lengths = step_lengths(path)
    rmsprop = step_lengths(run(p.f, p.start, opts["RMSprop"], steps))
    distance = float(np.linalg.norm(path[-1] - np.array(p.minimum)))
    late = lengths[steps // 2:]  # the second half of the run
    result = {"first_step": float(lengths[0]), "last_step": float(lengths[-1]),
              "largest_late_step": float(late.max()), "distance_to_minimum": distance,
              "rmsprop_largest_late_step": float(rmsprop[steps // 2:].max())}
    # (lr 0.02 to 0.2 with 100 to 600 steps: the largest late step is 0.8% to 1.8% of the first, distance > 1.9)
    result["holds"] = late.max() < 0.05 * lengths[0] and distance > 1.0
    return result


def rprop_ignores_gradient_size(steps: int = 10) -> dict:
    """Rprop moves by its own step sizes and looks only at the sign of the gradient, so on
    1000 * f it takes exactly the steps it takes on f. Plain SGD's first step grows 1000 times."""
    p = PROBLEMS["quadratic"]

    def scaled(x: Any, y: Any) -> Any:
        return 1000 * p.f(x, y)

    rprop = torch.optim.Rprop
    small = run(p.f, p.start, lambda ps: rprop(ps, lr=p.step), steps)
    large = run(scaled, p.start, lambda ps: rprop(ps, lr=p.step), steps)
    sgd_small = step_lengths(run(p.f, p.start, lambda ps: torch.optim.SGD(ps, lr=1e-5), 1))[0]
    sgd_large = step_lengths(run(scaled, p.start, lambda ps: torch.optim.SGD(ps, lr=1e-5), 1))[0]
    difference = float(np.abs(step_lengths(small) - step_lengths(large)).max())
    return {"rprop_steps": step_lengths(small), "rprop_steps_scaled": step_lengths(large),
            "max_step_difference": difference,
            "sgd_first_step_ratio": float(sgd_large / sgd_small), "holds": difference == 0.0}


# ---- a claim that can fail, shown failing ---------------------------------------------------------
# "Nesterov is more stable than classical momentum" (the course: "more stable and less prone to
# overshooting") holds for small steps only. On the steep axis of f = (x² + 50 y²) / 2 (curvature
# L = 50) with momentum μ, both methods are linear recurrences in y:
#   momentum  y' = (1 + μ - h)·y - μ·y_prev,          stable for h = lr·L < 2(1 + μ)          (lr < 0.076)
#   Nesterov  y' = (1 + μ)(1 - h)·y - μ(1 - h)·y_prev,  stable for h < 2(1 + μ) / (1 + 2μ)   (lr < 0.0271)
# (torch's Nesterov, whose parameters are the look-ahead point, is the second one). With μ = 0.9
# Nesterov's stable range is 1 + 2μ = 2.8 times narrower: at lr = 0.01 it overshoots less and
# converges much faster, at lr = 0.03 it diverges while classical momentum converges.

def stiff_quadratic(x: Any, y: Any) -> Any:
    return 0.5 * (x ** 2 + 50 * y ** 2)


STIFF_START, STIFF_CURVATURE, STIFF_MOMENTUM = (-4.0, 1.0), 50.0, 0.9
NESTEROV_REGIMES = {"small": 0.01, "large": 0.03}  # lr of each regime


def contraction(lr: float, momentum: float, nesterov: bool, curvature: float = STIFF_CURVATURE) -> float:
    """The factor by which the error along a direction of this curvature shrinks per step, in the long run:
    the spectral radius of the 2x2 recurrence above (above 1: it diverges)."""
    h, mu = lr * curvature, momentum
    a, b = ((1 + mu) * (1 - h), -mu * (1 - h)) if nesterov else (1 + mu - h, -mu)
    return float(np.abs(np.roots([1.0, -a, -b])).max())


def stability_limits(momentum: float = STIFF_MOMENTUM, curvature: float = STIFF_CURVATURE) -> dict:
    return {"momentum_max_lr": 2 * (1 + momentum) / curvature,
            "nesterov_max_lr": 2 * (1 + momentum) / ((1 + 2 * momentum) * curvature)}


def nesterov_more_stable(lr: float, steps: int = 100, momentum: float = STIFF_MOMENTUM) -> dict:
    """Classical momentum and Nesterov with the same lr and μ on f = (x² + 50 y²)/2 from (-4, 1). The claim
    holds at this lr if Nesterov ends at least as close to the minimum, never swings further past it,
    and its error shrinks faster per step (``contraction``). Also returns both paths."""
    sgd = torch.optim.SGD
    paths = {"Momentum": run(stiff_quadratic, STIFF_START, lambda ps: sgd(ps, lr=lr, momentum=momentum), steps),
             "Nesterov": run(stiff_quadratic, STIFF_START,
                             lambda ps: sgd(ps, lr=lr, momentum=momentum, nesterov=True), steps)}
    result: dict = {"lr": lr, "momentum": momentum, "steps": steps, "paths": paths}
    for name, path in paths.items():
        key = name.lower()
        result[f"{key}_final_distance"] = float(np.linalg.norm(path[-1]))
        result[f"{key}_largest_y"] = float(np.abs(path[:, 1]).max())
        result[f"{key}_overshoot"] = float(-path[:, 1].min())  # from y = 1: how far below y = 0 it went
        result[f"{key}_contraction"] = contraction(lr, momentum, nesterov=name == "Nesterov")
    result["holds"] = (result["nesterov_final_distance"] <= result["momentum_final_distance"]
                       and result["nesterov_overshoot"] <= result["momentum_overshoot"]
                       and result["nesterov_contraction"] < result["momentum_contraction"])
    return result


def nesterov_stability_regimes(steps: int = 100) -> dict:
    """Both regimes of the claim "Nesterov is more stable than momentum" and the stability limits."""
    return {**{regime: nesterov_more_stable(lr, steps) for regime, lr in NESTEROV_REGIMES.items()},
            **stability_limits()}


CLAIMS = {
    "momentum gets further than SGD along a consistent slope": momentum_goes_further,
    "Nesterov overshoots less than momentum": nesterov_overshoots_less,
    "AdaGrad's steps shrink until it nearly stops": adagrad_nearly_stops,
    "Rprop's steps do not depend on the gradient's size": rprop_ignores_gradient_size,
    # the same claim in its two regimes: it holds at the small lr and FAILS at the large one
    f"Nesterov is more stable than momentum (lr {NESTEROV_REGIMES['small']})":
        lambda: nesterov_more_stable(NESTEROV_REGIMES["small"]),
    f"Nesterov is more stable than momentum (lr {NESTEROV_REGIMES['large']})":
        lambda: nesterov_more_stable(NESTEROV_REGIMES["large"]),
}


# Each optimizer's hyperparameters, read back from the optimizer for the figures' titles and legends.
HYPERPARAMETERS = {
    "SGD": ("lr", "momentum", "nesterov"), "Rprop": ("lr", "etas", "step_sizes"), "Adagrad": ("lr", "eps"),
    "RMSprop": ("lr", "alpha", "eps"), "Adam": ("lr", "betas", "eps"), "NAdam": ("lr", "betas", "momentum_decay"),
    "Adadelta": ("lr", "rho", "eps"),
}


def hyperparameters(make_optimizer: Callable) -> str:
    """``"lr=0.02, momentum=0.9"``: the settings of the optimizer ``make_optimizer`` builds (zeros, False
    and SGD's nesterov=False left out)."""
    optimizer = make_optimizer([torch.zeros(2, requires_grad=True)])
    group = optimizer.param_groups[0]
    keys = HYPERPARAMETERS[type(optimizer).__name__]
    return ", ".join(f"{k}={group[k]:g}" if isinstance(group[k], float) else f"{k}={group[k]}"
                     for k in keys if group[k] not in (0, False) or k == "lr")


# ---- pictures and table -------------------------------------------------------------------------

# A path that barely leaves the start says why on its panel, so that it does not read as a bug.
WHY_SO_SHORT = {"Adadelta": "\nsteps start at sqrt(eps / (1 - rho)) ~ 3e-3: it barely moves"}


def plot_paths(name: str, problem: Problem, paths: dict[str, np.ndarray], out_dir: str, grid: int) -> str:
    """One panel per optimizer: the path over the function's contour lines, its hyperparameters in the title."""
    settings = {opt_name: hyperparameters(make) for opt_name, make in make_optimizers(problem).items()}
    xs = np.linspace(*problem.xlim, grid)
    ys = np.linspace(*problem.ylim, grid)
    X, Y = np.meshgrid(xs, ys)
    Z = problem.f(X, Y)
    # log-spaced levels show the flat valley floors as well as the steep walls
    levels = np.geomspace(1e-2, Z.max() - Z.min() + 1e-2, 20) + Z.min() - 1e-2
    fig, axes = plt.subplots(3, 3, figsize=(11, 10), sharex=True, sharey=True)
    for ax, (opt_name, path) in zip(axes.ravel(), paths.items()):
        ax.contour(X, Y, Z, levels=levels, cmap="viridis", linewidths=0.6)
        ax.plot(path[:, 0], path[:, 1], ".-", color="crimson", markersize=2, linewidth=1)
        ax.plot(*problem.start, "o", color="black", markersize=4)
        ax.plot(*problem.minimum, "*", color="gold", markeredgecolor="black", markersize=12)
        why = WHY_SO_SHORT.get(opt_name, "")
        ax.set_title(f"{opt_name}: f = {problem.f(*path[-1]):.3g}\n{settings[opt_name]}{why}", fontsize=8)
        ax.set_xlim(problem.xlim)
        ax.set_ylim(problem.ylim)
    fig.suptitle(f"{name}: {len(next(iter(paths.values()))) - 1} steps from {problem.start} (star: minimum)")
    fig.subplots_adjust(left=0.05, right=0.98, bottom=0.04, top=0.91, wspace=0.08, hspace=0.25)
    png = os.path.join(out_dir, f"paths_{name}.png")
    fig.savefig(png, dpi=80)
    plt.close(fig)
    return png


def plot_claims(claims: dict, out_dir: str, steps: int) -> str:
    """The four claims as curves: position or step length against the step number."""
    p = PROBLEMS["quadratic"]
    opts = make_optimizers(p)
    fig, axes = plt.subplots(2, 2, figsize=(11, 8))

    ax = axes[0, 0]
    for opt_name in ("SGD", "Momentum"):
        ax.plot(run(p.f, p.start, opts[opt_name], 30)[:, 0], label=f"{opt_name} ({hyperparameters(opts[opt_name])})")
    ax.set(title="1. quadratic: x (shallow axis) per step", xlabel="step", ylabel="x")
    ax.axhline(0, color="grey", linewidth=0.5)
    ax.legend()

    ax = axes[0, 1]
    for opt_name in ("Momentum", "Nesterov"):
        ax.plot(run(p.f, p.start, opts[opt_name], 40)[:, 1], label=f"{opt_name} ({hyperparameters(opts[opt_name])})")
    ax.set(title="2. quadratic: y (steep axis) per step; minimum at 0", xlabel="step", ylabel="y")
    ax.axhline(0, color="grey", linewidth=0.5)
    ax.legend()

    ax = axes[1, 0]
    r = PROBLEMS["rosenbrock"]
    r_opts = make_optimizers(r)
    for opt_name in ("Adagrad", "RMSprop", "Adam"):
        ax.semilogy(step_lengths(run(r.f, r.start, r_opts[opt_name], steps)),
                    label=f"{opt_name} ({hyperparameters(r_opts[opt_name])})", linewidth=0.8)
    ax.set(title="3. Rosenbrock: step length per step", xlabel="step", ylabel="|step|")
    ax.legend()

    ax = axes[1, 1]
    rprop = claims["Rprop's steps do not depend on the gradient's size"]
    rprop_settings = hyperparameters(lambda ps: torch.optim.Rprop(ps, lr=p.step))
    ax.plot(rprop["rprop_steps"], "o-", label=f"Rprop on f ({rprop_settings})")
    ax.plot(rprop["rprop_steps_scaled"], "x--", markersize=9, label="Rprop on 1000 f (the same)")
    ax.set(title="4. quadratic: Rprop step lengths", xlabel="step", ylabel="|step|")
    ax.legend(fontsize=8)

    for ax in axes.ravel():
        ax.legend(fontsize=8)
    fig.suptitle(f"the course's claims on the quadratic 0.5 (x² + 25 y²) from {p.start} and on Rosenbrock "
                 f"from {r.start}")
    fig.tight_layout()
    png = os.path.join(out_dir, "optimizer_claims.png")
    fig.savefig(png, dpi=80)
    plt.close(fig)
    return png


def plot_nesterov_regimes(regimes: dict, out_dir: str) -> str:
    """The claim "Nesterov is more stable than momentum" at a small lr (it holds) and a larger one (it fails),
    and the per-step contraction of both against lr."""
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    mu = regimes["small"]["momentum"]
    for ax, regime in zip(axes[:2], ("small", "large")):
        r = regimes[regime]
        for name, path in r["paths"].items():
            ax.semilogy(np.abs(path[:, 1]) + 1e-300, label=f"{name} (lr={r['lr']:g}, momentum={mu:g}"
                        + (", nesterov=True)" if name == "Nesterov" else ")"))
        verdict = "holds" if r["holds"] else "FAILS"
        ax.set(title=f"lr = {r['lr']:g}: the claim {verdict}\nfinal distance: momentum "
                     f"{r['momentum_final_distance']:.2g}, Nesterov {r['nesterov_final_distance']:.2g}",
               xlabel="step", ylabel="|y| (the steep axis, curvature 50)")
        ax.set_ylim(1e-16, 1e16)
        ax.legend(fontsize=8)
    ax = axes[2]
    lrs = np.linspace(0.001, 0.09, 400)
    for nesterov, name in ((False, "Momentum"), (True, "Nesterov")):
        ax.plot(lrs, [contraction(lr, mu, nesterov) for lr in lrs], label=f"{name} (momentum={mu:g})")
    ax.axhline(1.0, color="grey", linewidth=0.8)
    for regime in ("small", "large"):
        ax.axvline(regimes[regime]["lr"], color="black", linestyle=":", linewidth=0.8)
    ax.set(title=f"error factor per step on the steep axis (above 1: diverges)\nstable for lr < "
                 f"{regimes['nesterov_max_lr']:.4f} (Nesterov), < {regimes['momentum_max_lr']:.3f} (momentum)",
           xlabel="lr", ylabel="spectral radius", ylim=(0, 2))
    ax.legend(fontsize=8)
    for ax in axes:
        ax.title.set_fontsize(9)
    fig.suptitle(f"\"Nesterov is more stable than momentum\" on f = (x² + 50 y²)/2 from {STIFF_START}: "
                 "true for small steps only")
    fig.tight_layout()
    png = os.path.join(out_dir, "nesterov_stability.png")
    fig.savefig(png, dpi=80)
    plt.close(fig)
    return png


def main(out_dir: str = "out", fast: bool = False) -> dict:
    """Run everything; returns the paths, the claims' measurements and the PNG files written."""
    os.makedirs(out_dir, exist_ok=True)
    results: dict = {"paths": {}, "files": []}
    print(f"{'function':<11} {'optimizer':<9} {'final x':>9} {'final y':>9} {'f(final)':>10} {'to minimum':>10}")
    for name, problem in PROBLEMS.items():
        steps = problem.steps // 3 if fast else problem.steps
        paths = {opt_name: run(problem.f, problem.start, make, steps)
                 for opt_name, make in make_optimizers(problem).items()}
        results["paths"][name] = paths
        for opt_name, path in paths.items():
            x, y = path[-1]
            gap = np.linalg.norm(path[-1] - np.array(problem.minimum))
            print(f"{name:<11} {opt_name:<9} {x:9.4f} {y:9.4f} {problem.f(x, y):10.4g} {gap:10.4f}")
        results["files"].append(plot_paths(name, problem, paths, out_dir, grid=60 if fast else 120))

    print()
    results["claims"] = {claim: check() for claim, check in CLAIMS.items()}
    for claim, measured in results["claims"].items():
        details = ", ".join(f"{k}={v:.4g}" for k, v in measured.items() if isinstance(v, float))
        print(f"[{'holds' if measured['holds'] else 'FAILS'}] {claim}: {details}")
    results["files"].append(plot_claims(results["claims"], out_dir, PROBLEMS["rosenbrock"].steps // (3 if fast else 1)))
    regimes = results["nesterov_regimes"] = nesterov_stability_regimes()
    print(f"Nesterov's stable range on curvature 50 with momentum 0.9: lr < {regimes['nesterov_max_lr']:.4f}; "
          f"classical momentum's: lr < {regimes['momentum_max_lr']:.4f}")
    results["files"].append(plot_nesterov_regimes(regimes, out_dir))
    for path in results["files"]:
        print("wrote", path)
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", default="out", help="where to write the PNG files (default: out)")
    parser.add_argument("--fast", action="store_true", help="fewer steps and coarser plots (used by the tests)")
    args = parser.parse_args()
    main(args.out_dir, fast=args.fast)
