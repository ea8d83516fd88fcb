"""The Hessian of a small network's loss, its largest eigenvalue, and the largest stable learning rate.

Near a minimum θ* the loss is, to second order, a quadratic:

    L(θ* + δ) ≈ L(θ*) + ½ δᵀ H δ          (the gradient is 0 at a minimum; H is the Hessian there)

Gradient descent on that quadratic is δ ← (I - lr H) δ. Along the eigenvector of H with
eigenvalue λ the component of δ is multiplied by (1 - lr λ) at every step, so it shrinks iff
|1 - lr λ| < 1, that is 0 < lr < 2/λ. The steepest direction (λmax) decides: gradient descent
is stable only for lr < 2/λmax, the course's learning-rate bound. Heavy-ball momentum
(v ← μ v + g, θ ← θ - lr v, which is torch's SGD with momentum) multiplies each component by a
2x2 matrix whose eigenvalues z solve z² - (1 + μ - lr λ) z + μ = 0; both have |z| < 1 iff
lr λ < 2 (1 + μ): momentum moves the bound to lr < 2(1 + μ)/λmax (3.8/λmax for μ = 0.9).

This example measures it on a real network: nn.Sequential(Linear(4, 6), Tanh(), Linear(6, 3)),
51 parameters, on 3 digit classes of scikit-learn's bundled digits (3, 5 and 8, which look
alike), each image reduced to its first 4 principal components. The loss is the mean cross entropy
plus ½ wd |θ|² (wd = 1e-2: weight decay, which also makes sure that a minimum exists at all,
since the classes could be separable, and that Newton's method finds it).

1. Train to a minimum: full-batch Adam, then Newton steps (newton.py's method, with this full
   Hessian) until |grad| < 1e-10.
2. The Hessian there, built by double backprop (backprop through the recorded gradient, one row
   per backward pass: 51 passes) with respect to all 51 parameters flattened in
   ``parameters_to_vector``'s order; its eigenvalues by ``numpy.linalg.eigvalsh``; λmax.
3. λmax again without ever forming H: power iteration with Hessian-vector products. H v is the
   gradient of (g · v), where g is the gradient recorded with create_graph=True: one backward pass
   per product, whatever the number of parameters. This is how λmax is measured on real networks,
   where H (parameters²) does not fit in memory.
4. Restart from θ* + a small random perturbation (|δ| = 1e-3, the same one for every run) and
   run full-batch SGD (minigrad.optim.SGD) at lr = 0.9 · 2/λmax and 1.1 · 2/λmax, and SGD with
   momentum 0.9 at 0.9 and 1.1 times 2(1+μ)/λmax. The bound is exact for the quadratic model,
   and the same runs on the quadratic model (same H, same δ) are printed next to the network's.
   For the network itself the bound is a local statement: it predicts that the perturbation is
   amplified (by |1 - 1.1·2| = 1.2 per step along the top eigenvector, for plain SGD), not what
   happens once the loss is no longer near quadratic. The table prints what was measured.

What we measured (λmax ≈ 0.46, so 2/λmax ≈ 4.35): at 0.9 times either bound the network falls back
to θ*, its loss gap following the quadratic model's to 3 digits; at 1.1 times the plain bound the
loss gap grows 1.2² per step, as predicted, from 2e-8 to ~7e-3, where the network stops being a
quadratic and the growth stops (it keeps bouncing, well above the minimum: it does not blow up to
infinity); at 1.1 times the momentum bound it climbs to a loss of ~7, worse than guessing. The
quadratic model diverges in both cases, without limit.

    python examples/hessian_curvature.py [output directory, default out/] [--fast]
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")  # files only: no window, works without a display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

import minigrad as torch  # noqa: E402
from minigrad import nn  # noqa: E402
from minigrad.nn import functional as F  # noqa: E402
from minigrad.nn.utils import parameters_to_vector  # noqa: E402

WEIGHT_DECAY = 1e-2
CLASSES = (3, 5, 8)
FEATURES = 4
PERTURBATION = 1e-3  # |θ - θ*| at the restart
MOMENTUM = 0.9
FACTORS = (0.9, 1.1)  # the lrs tried, as multiples of each bound


# ---- data, model, loss ------------------------------------------------------------------------

def load_data() -> tuple[np.ndarray, np.ndarray]:
    """The digits 3, 5, 8 as 4 principal components (standardized), and labels 0, 1, 2."""
    digits = load_digits()
    keep = np.isin(digits.target, CLASSES)
    images = digits.data[keep].astype(np.float64)
    labels = np.searchsorted(CLASSES, digits.target[keep])
    centered = images - images.mean(axis=0)
    _, _, vt = np.linalg.svd(centered, full_matrices=False)
    features = centered @ vt[:FEATURES].T
    return features / features.std(axis=0), labels


def make_model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(FEATURES, 6), nn.Tanh(), nn.Linear(6, len(CLASSES))).double()


def loss_of(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean cross entropy plus ½ wd |θ|²."""
    penalty = sum((p ** 2).sum() for p in model.parameters())
    return F.cross_entropy(model(x), y) + 0.5 * WEIGHT_DECAY * penalty


def get_vector(model: nn.Module) -> np.ndarray:
    return parameters_to_vector(model.parameters()).detach().numpy().copy()


def set_vector(model: nn.Module, theta: np.ndarray) -> None:
    """Write θ into the parameters (in place: optimizers and the model keep the same tensors)."""
    start = 0
    with torch.no_grad():
        for p in model.parameters():
            n = p.numel()
            p.copy_(torch.tensor(theta[start:start + n]).reshape(p.shape))
            start += n


# ---- derivatives by (double) backprop --------------------------------------------------------------

def recorded_gradient(model: nn.Module, x, y) -> tuple[torch.Tensor, list]:
    """The loss's gradient as one flat vector, recorded (create_graph=True): differentiable again."""
    params = list(model.parameters())
    grads = torch.autograd.grad(loss_of(model, x, y), params, create_graph=True)
    return parameters_to_vector(grads), params


def hessian(model: nn.Module, x, y) -> np.ndarray:
    """The full Hessian: row i is the gradient of g[i], one backward pass through g's graph each."""
    g, params = recorded_gradient(model, x, y)
    rows = []
    for i in range(g.shape[0]):
        row = torch.autograd.grad(g[i], params, retain_graph=True)
        rows.append(parameters_to_vector(row).numpy())
    return np.stack(rows)


def power_iteration(model: nn.Module, x, y, max_iterations: int = 2000, tol: float = 1e-13,
                    seed: int = 0) -> tuple[float, int]:
    """λmax from Hessian-vector products only: H v = d(g · v)/dθ, never forming H.

    v ← H v / |H v| converges to the eigenvector of the eigenvalue largest in size (here λmax: at a
    minimum every eigenvalue is >= 0) and vᵀ H v to that eigenvalue. Stops when it changes by
    less than ``tol`` relative to itself. Returns λmax and the number of products used."""
    g, params = recorded_gradient(model, x, y)
    v = np.random.default_rng(seed).standard_normal(g.shape[0])
    v /= np.linalg.norm(v)
    estimate = 0.0
    for k in range(1, max_iterations + 1):
        hv_parts = torch.autograd.grad((g * torch.tensor(v)).sum(), params, retain_graph=True)
        hv = parameters_to_vector(hv_parts).numpy()
        previous, estimate = estimate, float(v @ hv)
        v = hv / np.linalg.norm(hv)
        if abs(estimate - previous) < tol * abs(estimate):
            return estimate, k
    return estimate, max_iterations


# ---- training ---------------------------------------------------------------------------------

def find_minimum(model: nn.Module, x, y, adam_steps: int = 2000, max_newton_steps: int = 50) -> dict:
    """Adam, then Newton steps with backtracking (as in newton.py) until |grad| < 1e-10."""
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(adam_steps):
        optimizer.zero_grad()
        loss_of(model, x, y).backward()
        optimizer.step()
    newton_steps, converged = 0, False
    for newton_steps in range(max_newton_steps + 1):
        theta = get_vector(model)
        g, _ = recorded_gradient(model, x, y)
        g = g.detach().numpy()
        if np.linalg.norm(g) < 1e-10:
            converged = True
            break
        if newton_steps == max_newton_steps:
            break
        h = hessian(model, x, y)
        d = np.linalg.solve(h, -g)
        if not g @ d < 0:  # H not positive definite here: steepest descent instead
            d = -g
        fx, t = loss_of(model, x, y).item(), 1.0
        while True:
            set_vector(model, theta + t * d)
            if loss_of(model, x, y).item() <= fx + 1e-4 * t * (g @ d) or t < 1e-12:
                break
            t /= 2
    return {"adam_steps": adam_steps, "newton_steps": newton_steps, "grad_norm": float(np.linalg.norm(g)),
            "converged": converged}


def train(model: nn.Module, x, y, theta0: np.ndarray, lr: float, momentum: float, steps: int) -> np.ndarray:
    """Full-batch SGD from θ0; the loss at every step (steps + 1 values)."""
    set_vector(model, theta0)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = loss_of(model, x, y)
        losses.append(loss.item())
        if not np.isfinite(losses[-1]):
            break
        loss.backward()
        optimizer.step()
    else:
        losses.append(loss_of(model, x, y).item())
    return np.array(losses)


def train_quadratic(h: np.ndarray, delta0: np.ndarray, lr: float, momentum: float, steps: int) -> np.ndarray:
    """The same SGD on the quadratic model ½ δᵀ H δ (gradient H δ), exactly: its values per step."""
    delta, velocity = delta0.copy(), np.zeros_like(delta0)
    values = [0.5 * delta @ h @ delta]
    for k in range(steps):
        g = h @ delta
        velocity = g if k == 0 else momentum * velocity + g  # torch's SGD: the first buffer is g
        delta = delta - lr * velocity
        values.append(0.5 * delta @ h @ delta)
    return np.array(values)


@dataclass
class Trial:
    name: str
    lr: float
    momentum: float
    network: np.ndarray  # loss - loss* per step
    quadratic: np.ndarray  # ½ δᵀHδ per step


# ---- picture ----------------------------------------------------------------------------------

def plot(eigenvalues: np.ndarray, trials: list[Trial], lam_max: float, out_dir: str) -> str:
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
    ax = axes[0]
    ax.semilogy(np.arange(1, len(eigenvalues) + 1), np.sort(eigenvalues)[::-1], "o", markersize=4)
    ax.axhline(WEIGHT_DECAY, color="grey", linewidth=0.6, linestyle=":", label=f"wd = {WEIGHT_DECAY:g}")
    ax.set(title=f"Hessian eigenvalues at the minimum (λmax = {lam_max:.4g})", xlabel="index (largest first)",
           ylabel="eigenvalue")
    ax.legend()
    for ax, momentum in zip(axes[1:], (0.0, MOMENTUM)):
        bound = "2/λmax" if momentum == 0 else f"2(1+{momentum:g})/λmax"
        for trial, color in zip([t for t in trials if t.momentum == momentum], ("tab:blue", "crimson")):
            # gaps below 1e-13 (rounding: the loss is ~0.2) are drawn at 1e-13
            ax.semilogy(np.maximum(trial.network, 1e-13), color=color, label=f"{trial.name}: network")
            ax.semilogy(trial.quadratic, color=color, linestyle="--", linewidth=0.9,
                        label=f"{trial.name}: quadratic model")
        ax.set(title=("SGD" if momentum == 0 else f"SGD, momentum {momentum:g}") + f": lr around {bound}",
               xlabel="step", ylabel="loss - loss at the minimum", ylim=(1e-12, 1e2))
        ax.legend(fontsize=8)
    fig.tight_layout()
    png = os.path.join(out_dir, "hessian_curvature.png")
    fig.savefig(png, dpi=80)
    plt.close(fig)
    return png


def main(out_dir: str = "out", fast: bool = False) -> dict:
    """Everything above; returns the numbers the tests check and the PNG written."""
    os.makedirs(out_dir, exist_ok=True)
    timings = {}
    features, labels = load_data()
    x, y = torch.tensor(features), torch.tensor(labels)
    model = make_model()
    n_params = sum(p.numel() for p in model.parameters())
    print(f"data: {len(labels)} digits {CLASSES}, {FEATURES} principal components; model: "
          f"{FEATURES}-6-3 MLP, {n_params} parameters, float64; loss: cross entropy + ½·{WEIGHT_DECAY:g}·|θ|²")

    start = time.perf_counter()
    found = find_minimum(model, x, y)  # the same minimum in both modes: --fast shortens the SGD runs
    theta_star = get_vector(model)
    loss_star = loss_of(model, x, y).item()
    timings["find minimum"] = time.perf_counter() - start
    print(f"minimum: {found['adam_steps']} Adam steps + {found['newton_steps']} Newton steps, "
          f"loss {loss_star:.6f}, |grad| {found['grad_norm']:.1e}"
          + ("" if found["converged"] else "  NOT CONVERGED: the bounds below are not about a minimum"))

    start = time.perf_counter()
    h = hessian(model, x, y)
    timings["Hessian (double backprop)"] = time.perf_counter() - start
    eigenvalues = np.linalg.eigvalsh(h)
    lam_max = float(eigenvalues[-1])
    start = time.perf_counter()
    lam_power, products = power_iteration(model, x, y)
    timings["power iteration"] = time.perf_counter() - start
    print(f"Hessian: {h.shape[0]}x{h.shape[1]}, symmetric to {np.abs(h - h.T).max():.1e}; eigenvalues from "
          f"{eigenvalues[0]:.3g} to {lam_max:.6g}; {np.sum(eigenvalues < 1e-2)} of them below 1e-2")
    print(f"λmax by power iteration ({products} Hessian-vector products, H never formed): {lam_power:.10g}; "
          f"eigvalsh: {lam_max:.10g}; difference {abs(lam_power - lam_max):.1e}")

    bounds = {0.0: 2 / lam_max, MOMENTUM: 2 * (1 + MOMENTUM) / lam_max}
    delta0 = np.random.default_rng(1).standard_normal(n_params)
    delta0 *= PERTURBATION / np.linalg.norm(delta0)
    steps = 100 if fast else 300
    trials = []
    start = time.perf_counter()
    for momentum, bound in bounds.items():
        for factor in FACTORS:
            lr = factor * bound
            name = f"lr = {factor:g}·{'2' if momentum == 0 else '2(1+μ)'}/λmax"
            network = train(model, x, y, theta_star + delta0, lr, momentum, steps) - loss_star
            trials.append(Trial(name, lr, momentum, network, train_quadratic(h, delta0, lr, momentum, steps)))
    timings["SGD runs"] = time.perf_counter() - start
    set_vector(model, theta_star)

    print(f"\nrestart from θ* + δ, |δ| = {PERTURBATION:g}; {steps} full-batch steps; "
          f"2/λmax = {bounds[0.0]:.5f}, 2(1+μ)/λmax = {bounds[MOMENTUM]:.5f} (μ = {MOMENTUM:g})")
    print(f"{'run':<26} {'momentum':>8} {'lr':>8} | {'network: loss - loss*':^35} | {'quadratic model ½δᵀHδ':^31}")
    print(f"{'':<26} {'':>8} {'':>8} | {'start':>9} {'largest':>9} {'end':>9}  {'':>5} | "
          f"{'start':>9} {'end':>9}  {'':>10}")
    for t in trials:
        net_end = t.network[-1] if np.isfinite(t.network[-1]) else np.inf
        net_word = "down" if net_end < t.network[0] else "UP"
        quad_word = "shrinks" if t.quadratic[-1] < t.quadratic[0] else "DIVERGES"
        print(f"{t.name:<26} {t.momentum:8g} {t.lr:8.5f} | {t.network[0]:9.2e} {np.nanmax(t.network):9.2e} "
              f"{net_end:9.2e}  {net_word:>5} | {t.quadratic[0]:9.2e} {t.quadratic[-1]:9.2e}  {quad_word:>10}")
    for name, seconds in timings.items():
        print(f"time, {name}: {seconds:.2f} s")

    png = plot(eigenvalues, trials, lam_max, out_dir)
    print("wrote", png)
    return {"features": features, "labels": labels, "theta": theta_star, "loss": loss_star,
            "weight_decay": WEIGHT_DECAY, "hessian": h, "eigenvalues": eigenvalues, "lambda_max": lam_max,
            "lambda_max_power": lam_power, "power_products": products, "bounds": bounds, "delta0": delta0,
            "trials": trials, "minimum": found, "timings": timings, "files": [png]}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", default="out", help="where to write the PNG (default: out)")
    parser.add_argument("--fast", action="store_true", help="fewer training steps (used by the tests)")
    args = parser.parse_args()
    main(args.out_dir, fast=args.fast)
