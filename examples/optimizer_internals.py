"""Inside the adaptive optimizers: their state, step by step, and the learning rate each really applies.

The course gives each optimizer's formulas; this example reads the numbers those formulas keep
from ``optimizer.state[p]`` while the optimizer trains, so that its claims can be seen:

* a tiny regression (fit ``y = 2x + 1`` plus noise with a line ``w0·x + w1``, minibatches of 8,
  the mean squared error) trained by SGD with momentum, Rprop, Adagrad, RMSprop, Adam and
  Adadelta. For the first steps it prints the state (momentum buffer; Rprop's step sizes;
  Adagrad's sum of squared gradients; RMSprop's average of them; Adam's m, v, bias corrections
  1 - β^t and corrected m̂, v̂; Adadelta's two averages) and the **effective learning rate** of
  each coordinate: the update the optimizer actually made divided by the gradient.
* one PNG of the effective learning rates over the whole run: **Adagrad's decays like 1/sqrt(t)**
  (its sum of squared gradients only grows: it "stops learning"), RMSprop's and Adam's do not
  (their averages forget), Adadelta's starts near ``sqrt(ε)/sqrt((1-ρ)·g²+ε)`` and is why it
  barely moves at first; and Adam's first steps with and without its bias correction, from the
  same m and v: without it the first steps are 3 to 6.6 times too large.
* one PNG of RMSprop's limit cycle, the course's "no guarantee of convergence": on ``f = x²/2``
  with the course's own example setting (lr = 0.01, alpha = 0.9) RMSprop ends up jumping between
  x = +0.005 and x = -0.005 for ever, while plain gradient descent with the same lr converges.
  The reason: RMSprop divides by the root of the recent squared gradients, which shrink with x,
  so its effective lr grows until it reaches 2 = 2 / curvature, where a step lands on -x.

    python examples/optimizer_internals.py [output directory, default out/] [--fast]
"""

from __future__ import annotations

import argparse
import math
import os
import time

import matplotlib

matplotlib.use("Agg")  # files only: no window, works without a display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import minigrad as torch  # noqa: E402

# ---- the tiny regression -------------------------------------------------------------------------

N_POINTS, BATCH = 64, 8
TRUE_W = (2.0, 1.0)  # slope, intercept


def make_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Features ``X`` (columns x and 1; x has standard deviation 2, so the slope's gradients are the
    larger ones) and targets ``y = 2x + 1 + noise``."""
    rng = np.random.default_rng(seed)
    x = 2.0 * rng.standard_normal(N_POINTS)
    X = np.stack([x, np.ones(N_POINTS)], axis=1)
    y = X @ np.array(TRUE_W) + 2.0 * rng.standard_normal(N_POINTS)
    return X, y


def least_squares() -> np.ndarray:
    """The best line for the data (what the optimizers approach, up to minibatch noise)."""
    X, y = make_data()
    return np.linalg.lstsq(X, y, rcond=None)[0]


def full_loss(w: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The mean squared error on all the points for each row of ``w``."""
    return ((np.atleast_2d(w) @ X.T - y) ** 2).mean(axis=1)


def make_batches(steps: int, seed: int = 1) -> np.ndarray:
    """Which rows each step sees, shape (steps, BATCH): one shuffled pass over the data after another.
    Every optimizer gets the same batches."""
    rng = np.random.default_rng(seed)
    passes = [rng.permutation(N_POINTS) for _ in range(-(-steps * BATCH // N_POINTS))]
    return np.concatenate(passes)[: steps * BATCH].reshape(steps, BATCH)


# The optimizers and their settings, chosen so that every one fits the line in a few hundred steps
# (Adadelta excepted: it has no lr to tune, see its panel). Same start for all: w = (0, 0).
OPTIMIZERS = {
    "SGD momentum": (lambda ps: torch.optim.SGD(ps, lr=0.02, momentum=0.9)),
    "Rprop": (lambda ps: torch.optim.Rprop(ps, lr=0.01)),
    "Adagrad": (lambda ps: torch.optim.Adagrad(ps, lr=0.5)),
    "RMSprop": (lambda ps: torch.optim.RMSprop(ps, lr=0.01)),
    "Adam": (lambda ps: torch.optim.Adam(ps, lr=0.05)),
    "Adadelta": (lambda ps: torch.optim.Adadelta(ps)),
}

# Which hyperparameters each one has (read back from the optimizer, so the titles cannot go stale).
HYPERPARAMETERS = {
    "SGD": ("lr", "momentum", "dampening", "nesterov"), "Rprop": ("lr", "etas", "step_sizes"),
    "Adagrad": ("lr", "lr_decay", "eps"), "RMSprop": ("lr", "alpha", "eps", "momentum"),
    "Adam": ("lr", "betas", "eps"), "Adadelta": ("lr", "rho", "eps"),
}


def describe(optimizer: torch.optim.Optimizer) -> str:
    """``"Adam(lr=0.05, betas=(0.9, 0.999), eps=1e-08)"``: the settings the optimizer runs with."""
    name = type(optimizer).__name__
    group = optimizer.param_groups[0]
    return f"{name}(" + ", ".join(f"{k}={group[k]:g}" if isinstance(group[k], float) else f"{k}={group[k]}"
                                  for k in HYPERPARAMETERS[name]) + ")"


def _array(t) -> np.ndarray:
    return t.detach().numpy().copy()  # a copy: the optimizer updates its state in place


def trace(name: str, steps: int) -> dict:
    """Train the regression with ``OPTIMIZERS[name]`` for ``steps`` steps and record, after each step,
    the weights, the gradient, the update made, the effective lr (update / gradient) and the state.

    Every value is an array with one row per step (the weights: one more, the start)."""
    X, y = make_data()
    batches = make_batches(steps)
    w = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    optimizer = OPTIMIZERS[name]([w])
    group = optimizer.param_groups[0]
    rec: dict[str, list] = {"w": [_array(w)], "grad": [], "update": [], "loss": []}
    for rows in batches:
        Xb, yb = torch.tensor(X[rows]), torch.tensor(y[rows])
        optimizer.zero_grad()
        loss = ((Xb @ w - yb) ** 2).mean()
        loss.backward()
        before = _array(w)
        optimizer.step()
        after = _array(w)
        rec["w"].append(after)
        rec["grad"].append(_array(w.grad))
        rec["update"].append(before - after)  # the step taken: w_new = w - update
        rec["loss"].append(loss.item())
        state = optimizer.state[w]
        for key, value in state.items():
            rec.setdefault(key, []).append(value.item() if key == "step" else _array(value))
        if name == "Adam":
            t = state["step"].item()
            beta1, beta2 = group["betas"]
            bc1, bc2 = 1 - beta1 ** t, 1 - beta2 ** t
            m, v = _array(state["exp_avg"]), _array(state["exp_avg_sq"])
            for key, value in {"bc1": bc1, "bc2": bc2, "m_hat": m / bc1, "v_hat": v / bc2,
                               # the step Adam would take from the same m and v without the corrections
                               "update_uncorrected": group["lr"] * m / (np.sqrt(v) + group["eps"]),
                               # what multiplies m̂: lr / (sqrt(v̂) + eps), the per-coordinate lr of Adam
                               "lr_on_m_hat": group["lr"] / (np.sqrt(v / bc2) + group["eps"])}.items():
                rec.setdefault(key, []).append(value)
    out = {key: np.array(values) for key, values in rec.items()}
    out["effective_lr"] = out["update"] / out["grad"]
    out["label"] = describe(optimizer)
    out["hyper"] = {k: v for k, v in group.items() if k != "params"}
    return out


# ---- RMSprop's limit cycle on f = x**2 / 2 ---------------------------------------------------------

def limit_cycle(steps: int = 1500, lr: float = 0.01, alpha: float = 0.9, x0: float = 1.0) -> dict:
    """RMSprop and plain gradient descent, same lr, on f = x²/2 (curvature 1) from x0.

    GD multiplies x by (1 - lr) each step and converges. RMSprop's step is lr·g/(sqrt(v)+eps): as x
    shrinks so does v, its effective lr lr/(sqrt(v)+eps) grows, and when it reaches 2 (= 2 / curvature)
    a step takes x to -x. It settles there: x = ±lr/2 for ever (v = (lr/2)², lr/sqrt(v) = 2)."""
    runs = {}
    for name, make in {"RMSprop": lambda ps: torch.optim.RMSprop(ps, lr=lr, alpha=alpha),
                       "RMSprop, default alpha": lambda ps: torch.optim.RMSprop(ps, lr=lr),
                       "SGD": lambda ps: torch.optim.SGD(ps, lr=lr)}.items():
        x = torch.tensor([x0], dtype=torch.float64, requires_grad=True)
        optimizer = make([x])
        xs, eff = [x0], []
        for _ in range(steps):
            optimizer.zero_grad()
            (0.5 * x * x).sum().backward()
            g = x.grad.item()
            before = x.item()
            optimizer.step()
            xs.append(x.item())
            eff.append((before - x.item()) / g)
        runs[name] = {"x": np.array(xs), "effective_lr": np.array(eff), "label": describe(optimizer)}
    window = 100  # the last `window` steps against the `window` before them
    x = np.abs(runs["RMSprop"]["x"])
    result = {"runs": runs, "lr": lr, "alpha": alpha, "x0": x0, "window": window,
              "amplitude_last": float(x[-window:].max()), "amplitude_before": float(x[-2 * window:-window].max()),
              "smallest_last": float(x[-window:].min()),
              "predicted_amplitude": lr / 2,
              "sgd_final": float(abs(runs["SGD"]["x"][-1])),
              "final_effective_lr": float(runs["RMSprop"]["effective_lr"][-1])}
    result["cycles"] = (result["amplitude_last"] >= result["amplitude_before"] * (1 - 1e-9)
                        and result["sgd_final"] < 1e-3 * result["amplitude_last"])
    return result


# ---- printing ---------------------------------------------------------------------------------------

def fmt(a) -> str:
    return "[" + ", ".join(f"{v:11.4e}" for v in np.atleast_1d(a)) + "]"


STATE_ROWS = {  # what to print for each optimizer, after the gradient, the update and the effective lr
    "SGD momentum": ("momentum_buffer",),
    "Rprop": ("step_size", "prev"),
    "Adagrad": ("sum",),
    "RMSprop": ("square_avg",),
    "Adam": ("exp_avg", "exp_avg_sq", "bc1", "bc2", "m_hat", "v_hat", "update_uncorrected"),
    "Adadelta": ("square_avg", "acc_delta"),
}


def print_first_steps(traces: dict, n: int) -> None:
    for name, tr in traces.items():
        print(f"\n{tr['label']}  (coordinates: slope, intercept)")
        for i in range(n):
            print(f"  step {i + 1}: grad {fmt(tr['grad'][i])}  update {fmt(tr['update'][i])}  "
                  f"effective lr {fmt(tr['effective_lr'][i])}")
            print("          " + "  ".join(f"{key} {fmt(tr[key][i])}" for key in STATE_ROWS[name]))


def adadelta_first_lr(tr: dict) -> dict:
    """Adadelta's first effective lr is sqrt(0 + eps) / sqrt((1 - rho)·g1² + eps) (times lr): its
    average of past squared updates starts at 0, so the numerator is sqrt(eps) = 1e-3."""
    h = tr["hyper"]
    g1 = tr["grad"][0]
    formula = h["lr"] * math.sqrt(h["eps"]) / np.sqrt((1 - h["rho"]) * g1 ** 2 + h["eps"])
    return {"first_effective_lr": tr["effective_lr"][0], "formula": formula,
            "first_step_bound": h["lr"] * math.sqrt(h["eps"] / (1 - h["rho"]))}


# ---- pictures -------------------------------------------------------------------------------------

COORDS = ("slope w0", "intercept w1")


def plot_effective_lr(traces: dict, out_dir: str, facts: dict) -> str:
    fig, axes = plt.subplots(2, 3, figsize=(16, 10))
    t = np.arange(1, len(traces["Adagrad"]["grad"]) + 1)

    ax = axes[0, 0]
    tr = traces["Adagrad"]
    for j, c in enumerate(COORDS):
        ax.loglog(t, tr["effective_lr"][:, j], label=c)
        ref = tr["effective_lr"][-1, j] * np.sqrt(t[-1] / t)
        ax.loglog(t, ref, "k:", linewidth=0.8, label="c / sqrt(t)" if j == 0 else None)
    ax.set(title=f"{tr['label']}\nlr / (sqrt(sum of g²) + eps): decays like 1/sqrt(t)",
           xlabel="step t", ylabel="effective lr = update / gradient")
    ax.legend(fontsize=8)

    ax = axes[0, 1]
    tr = traces["RMSprop"]
    for j, c in enumerate(COORDS):
        ax.loglog(t, tr["effective_lr"][:, j], label=c)
    ax.set(title=f"{tr['label']}\nlr / (sqrt(moving average of g²) + eps): no decay",
           xlabel="step t", ylabel="effective lr = update / gradient")
    ax.legend(fontsize=8)

    ax = axes[0, 2]
    tr = traces["Adadelta"]
    for j, c in enumerate(COORDS):
        ax.loglog(t, tr["effective_lr"][:, j], label=c)
    first = facts["adadelta"]
    ax.set(title=f"{tr['label']}\nstarts at sqrt(eps)/sqrt((1-rho)·g1² + eps) = "
                 f"{first['formula'][0]:.1e}, {first['formula'][1]:.1e}:\n"
                 f"first steps ≤ sqrt(eps/(1-rho)) = {first['first_step_bound']:.1e}, so it barely moves at first",
           xlabel="step t", ylabel="effective lr = update / gradient")
    ax.legend(fontsize=8)

    ax = axes[1, 0]
    tr = traces["Adam"]
    for j, c in enumerate(COORDS):
        ax.loglog(t, tr["lr_on_m_hat"][:, j], label=c)
    ax.set(title=f"{tr['label']}\nlr / (sqrt(v̂) + eps), the lr applied to m̂\n"
                 "(update / gradient mixes in the momentum): no decay",
           xlabel="step t", ylabel="update / m̂")
    ax.legend(fontsize=8)

    ax = axes[1, 1]
    k = min(50, len(t))
    for j, c in enumerate(COORDS):
        line, = ax.semilogy(t[:k], np.abs(tr["update"][:k, j]), label=f"{c}: with bias correction (actual)")
        ax.semilogy(t[:k], np.abs(tr["update_uncorrected"][:k, j]), "--", color=line.get_color(),
                    label=f"{c}: without (lr·m / (sqrt(v) + eps))")
    ax.set(title=f"{tr['label']}: its first {k} steps\nwithout correction, from the same m and v: "
                 f"\n{facts['adam']['ratio'][0]:.2f}x at t=1, up to {facts['adam']['max_ratio']:.2f}x "
                 f"(t={facts['adam']['max_ratio_step']})", xlabel="step t", ylabel="|update|")
    ax.legend(fontsize=7)

    ax = axes[1, 2]
    X, y = make_data()
    best = full_loss(least_squares(), X, y)
    for name in ("Adagrad", "RMSprop", "Adam", "Adadelta"):
        ax.loglog(np.arange(len(t) + 1) + 1, full_loss(traces[name]["w"], X, y) - best, label=traces[name]["label"],
                  linewidth=0.8)
    ax.set(title="loss on all the points minus the least-squares loss\n(same minibatches for all)",
           xlabel="step t + 1", ylabel="excess mean squared error")
    ax.legend(fontsize=7)

    for ax in axes.ravel():
        ax.title.set_fontsize(9)
    fig.suptitle(f"Effective learning rates on a tiny regression (y = 2x + 1 + noise, {N_POINTS} points, "
                 f"minibatches of {BATCH}, start w = (0, 0))")
    fig.tight_layout()
    png = os.path.join(out_dir, "effective_lr.png")
    fig.savefig(png, dpi=80)
    plt.close(fig)
    return png


def plot_limit_cycle(cycle: dict, out_dir: str) -> str:
    runs = cycle["runs"]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    ax = axes[0]
    for r in runs.values():
        ax.semilogy(np.abs(r["x"]) + 1e-300, label=r["label"], linewidth=0.8)
    ax.axhline(cycle["predicted_amplitude"], color="grey", linestyle=":", label="lr / 2")
    ax.set(title=f"f = x²/2 from x = {cycle['x0']:g}: |x| per step", xlabel="step", ylabel="|x|")
    ax.set_ylim(1e-12, 2)
    ax.legend(fontsize=7)

    ax = axes[1]
    last = 40
    steps = np.arange(len(runs["RMSprop"]["x"]))[-last:]
    ax.plot(steps, runs["RMSprop"]["x"][-last:], "o-", markersize=3, label=runs["RMSprop"]["label"])
    ax.plot(steps, runs["SGD"]["x"][-last:], "s-", markersize=3, label=runs["SGD"]["label"])
    ax.set(title=f"the last {last} steps: RMSprop jumps between ±{cycle['amplitude_last']:.4g}",
           xlabel="step", ylabel="x")
    ax.legend(fontsize=7)

    ax = axes[2]
    for name in ("RMSprop", "RMSprop, default alpha"):
        ax.semilogy(runs[name]["effective_lr"], label=runs[name]["label"], linewidth=0.8)
    ax.axhline(2.0, color="grey", linestyle=":", label="2 / curvature: a step lands on -x")
    ax.set(title="RMSprop's effective lr = lr / (sqrt(v) + eps)", xlabel="step", ylabel="update / gradient")
    ax.legend(fontsize=7)
    fig.suptitle("RMSprop does not converge: its effective lr grows to the edge of stability "
                 "(plain SGD with the same lr converges)")
    fig.tight_layout()
    png = os.path.join(out_dir, "rmsprop_limit_cycle.png")
    fig.savefig(png, dpi=80)
    plt.close(fig)
    return png


# ---- main -----------------------------------------------------------------------------------------

def decay_exponent(effective_lr: np.ndarray) -> np.ndarray:
    """The slope of log(effective lr) against log(t) over the second half of the run, per coordinate
    (-0.5 for a 1/sqrt(t) decay, 0 for none)."""
    n = len(effective_lr)
    t = np.arange(1, n + 1)[n // 2:]
    return np.array([np.polyfit(np.log(t), np.log(effective_lr[n // 2:, j]), 1)[0]
                     for j in range(effective_lr.shape[1])])


def main(out_dir: str = "out", fast: bool = False) -> dict:
    """Run everything; returns the traces, the limit cycle, the key numbers and the PNG files written."""
    start = time.perf_counter()
    os.makedirs(out_dir, exist_ok=True)
    steps = 1000 if fast else 3000
    traces = {name: trace(name, steps) for name in OPTIMIZERS}
    print_first_steps(traces, 3)

    adam = traces["Adam"]
    ratio = np.array([(1 - 0.9 ** t) / math.sqrt(1 - 0.999 ** t) for t in range(1, steps + 1)])
    facts = {
        "adagrad_decay_exponent": decay_exponent(traces["Adagrad"]["effective_lr"]),
        "rmsprop_decay_exponent": decay_exponent(np.abs(traces["RMSprop"]["effective_lr"])),
        "adam_decay_exponent": decay_exponent(adam["lr_on_m_hat"]),
        "adadelta": adadelta_first_lr(traces["Adadelta"]),
        "adam": {"ratio": ratio, "max_ratio": float(ratio.max()), "max_ratio_step": int(ratio.argmax()) + 1,
                 "first_update": adam["update"][0], "first_update_uncorrected": adam["update_uncorrected"][0]},
        "final_w": {name: tr["w"][-1] for name, tr in traces.items()},
    }
    print(f"\nafter {steps} steps (data made with w = {TRUE_W}; least squares: w = {fmt(least_squares())}):")
    for tr in traces.values():
        print(f"  {tr['label']:<58} w = {fmt(tr['w'][-1])}  last loss {tr['loss'][-1]:.4f}")
    print("\nhow the effective lr changes over the second half, as t^k:")
    for name, key in (("Adagrad", "adagrad"), ("RMSprop", "rmsprop"), ("Adam", "adam")):
        print(f"  {name:<8} k = {fmt(facts[key + '_decay_exponent'])}" + ("  (1/sqrt(t): -0.5)" if key == "adagrad"
                                                                           else ""))
    a = facts["adadelta"]
    print(f"\nAdadelta's first effective lr: sqrt(eps)/sqrt((1-rho) g1² + eps) = {fmt(a['formula'])}"
          f" (measured {fmt(a['first_effective_lr'])}),\n  so its first step is at most sqrt(eps/(1-rho)) = "
          f"{a['first_step_bound']:.4g} whatever the gradient (measured {fmt(traces['Adadelta']['update'][0])})")
    print(f"Adam's first step: {fmt(adam['update'][0])} (lr·sign(g) with bias correction); without it, from the same"
          f" m and v: {fmt(adam['update_uncorrected'][0])}\n  = (1-beta1)/sqrt(1-beta2) = {ratio[0]:.4f} times "
          f"larger; the factor (1-beta1^t)/sqrt(1-beta2^t) peaks at {ratio.max():.3f} (t = {ratio.argmax() + 1})"
          f" and is still {ratio[min(99, steps - 1)]:.3f} at t = 100")

    cycle = limit_cycle()
    print(f"\nRMSprop limit cycle on f = x²/2, lr={cycle['lr']}, alpha={cycle['alpha']}: |x| over the last "
          f"{cycle['window']} steps between {cycle['smallest_last']:.6g} and {cycle['amplitude_last']:.6g} "
          f"(the {cycle['window']} before: max {cycle['amplitude_before']:.6g}; predicted lr/2 = "
          f"{cycle['predicted_amplitude']:g}), effective lr {cycle['final_effective_lr']:.6g}; SGD with the same lr "
          f"ends at |x| = {cycle['sgd_final']:.3g}")
    files = [plot_effective_lr(traces, out_dir, facts), plot_limit_cycle(cycle, out_dir)]
    for path in files:
        print("wrote", path)
    print(f"{time.perf_counter() - start:.1f} s")
    return {"traces": traces, "facts": facts, "cycle": cycle, "files": files, "steps": steps}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", default="out", help="where to write the PNG files (default: out)")
    parser.add_argument("--fast", action="store_true", help="fewer steps (used by the tests)")
    args = parser.parse_args()
    main(args.out_dir, fast=args.fast)
