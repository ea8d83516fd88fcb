"""Time one full training step of an MLP: minigrad vs hand-written NumPy vs torch.

A step is forward, cross-entropy loss, backward, optimizer step and zero_grad. The three
implementations run interleaved in one process (A B C A B C ...) so that machine noise
hits them alike, and the table reports medians and ratios to the NumPy baseline.

    python benchmarks/mlp_step.py                      # CPU, all sizes
    python benchmarks/mlp_step.py --sizes tiny deep    # a subset
    python benchmarks/mlp_step.py --device cuda        # the same on a GPU: hand-written CuPy, torch CUDA

Small sizes run with one BLAS thread (Python overhead is what they measure, and threads
only add noise there); the large size uses the machine's BLAS threads for all three.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from datetime import date

import numpy as np
from threadpoolctl import threadpool_limits

import minigrad

SIZES = {
    "tiny": ([64, 32, 10], 32),
    "large": ([784, 2048, 2048, 10], 256),
    "deep": ([64] * 101 + [10], 32),
}


def make_data(widths: list, batch: int, rng: np.random.Generator) -> tuple:
    x = rng.standard_normal((batch, widths[0])).astype(np.float32)
    y = rng.integers(0, widths[-1], batch)
    layers = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        bound = 1 / np.sqrt(fan_in)
        layers.append((rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32),
                       rng.uniform(-bound, bound, fan_out).astype(np.float32)))
    return x, y, layers


class NumpyMLP:
    """The baseline: explicit matmuls for forward and backward, in-place optimizer updates.

    ``xp`` is NumPy, or CuPy for the same baseline written by hand on a GPU.
    """

    def __init__(self, layers: list, optimizer: str, lr: float, xp=np) -> None:
        self.xp = xp
        self.params = [xp.asarray(a).copy() for pair in layers for a in pair]
        self.optimizer, self.lr, self.t = optimizer, lr, 0
        self.loss = None
        self.state = [[xp.zeros_like(p), xp.zeros_like(p)] for p in self.params]

    def step(self, x: np.ndarray, y: np.ndarray) -> None:
        xp, p = self.xp, self.params
        n_layers = len(p) // 2
        acts = [x]
        h = x
        for i in range(n_layers):
            h = h @ p[2 * i].T + p[2 * i + 1]
            if i < n_layers - 1:
                xp.maximum(h, 0, out=h)
            acts.append(h)
        logits = acts[-1]
        z = logits - logits.max(axis=1, keepdims=True)
        e = xp.exp(z)
        total = e.sum(axis=1, keepdims=True)
        rows = xp.arange(len(y))
        # The loss value itself, as every step of the two libraries computes it.
        self.loss = (xp.log(total[:, 0]) - z[rows, y]).mean()
        probs = e / total
        g = probs
        g[rows, y] -= 1
        g /= len(y)
        grads = [None] * len(p)
        for i in reversed(range(n_layers)):
            grads[2 * i] = g.T @ acts[i]
            grads[2 * i + 1] = g.sum(axis=0)
            if i > 0:
                g = g @ p[2 * i]
                g *= acts[i] > 0
        self.t += 1
        for param, grad, (m, v) in zip(p, grads, self.state):
            if self.optimizer == "sgd":
                m *= 0.9
                m += grad
                param -= self.lr * m
            else:
                m *= 0.9
                m += 0.1 * grad
                v *= 0.999
                v += 0.001 * grad * grad
                denom = xp.sqrt(v / (1 - 0.999**self.t)) + 1e-8
                param -= (self.lr / (1 - 0.9**self.t)) * m / denom


def library_step(lib, layers: list, optimizer: str, lr: float, device: str):
    """One training step as a closure, written once for both minigrad and torch."""
    nn = lib.nn
    modules = []
    for i, (w, b) in enumerate(layers):
        lin = nn.Linear(w.shape[1], w.shape[0])
        with lib.no_grad():
            lin.weight.copy_(lib.tensor(w))
            lin.bias.copy_(lib.tensor(b))
        modules.append(lin)
        if i < len(layers) - 1:
            modules.append(nn.ReLU())
    model = nn.Sequential(*modules).to(device)
    opt = (lib.optim.SGD(model.parameters(), lr=lr, momentum=0.9) if optimizer == "sgd"
           else lib.optim.Adam(model.parameters(), lr=lr))
    loss_fn = nn.CrossEntropyLoss()

    def step(x, y):
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        opt.zero_grad()

    return step


def measure(steps: dict, args: dict, repeats: int, inner: int, sync: dict, best_of: int = 3) -> dict:
    """Seconds per step of each implementation in each round; the rounds run them back to back.

    In a round each implementation runs ``best_of`` blocks of ``inner`` steps and keeps its
    fastest block: the block least disturbed by other jobs on a shared machine (the reason
    ``timeit`` reports minima).
    """
    for name, fn in steps.items():  # warm-up: allocations, optimizer state, BLAS initialisation
        for _ in range(3):
            fn(*args[name])
        sync[name]()
    times = {name: [] for name in steps}
    for _ in range(repeats):
        for name, fn in steps.items():
            a = args[name]
            blocks = []
            for _ in range(best_of):
                t0 = time.perf_counter()
                for _ in range(inner):
                    fn(*a)
                sync[name]()
                blocks.append((time.perf_counter() - t0) / inner)
            times[name].append(min(blocks))
    return times


def run(sizes: list, optimizers: list, device: str, repeats: int) -> list:
    import torch

    rows = []
    rng = np.random.default_rng(0)
    for size in sizes:
        widths, batch = SIZES[size]
        x, y, layers = make_data(widths, batch, rng)
        threads = None if size == "large" else 1
        inner = 2 if size == "large" else 20
        for optimizer in optimizers:
            lr = 0.01 if optimizer == "sgd" else 1e-3
            with threadpool_limits(limits=threads):
                if threads:
                    torch.set_num_threads(threads)
                steps, args, sync = {}, {}, {}
                if device == "cpu":
                    base = NumpyMLP(layers, optimizer, lr)
                    steps["numpy"], args["numpy"], sync["numpy"] = base.step, (x, y), lambda: None
                    steps["torch"] = library_step(torch, layers, optimizer, lr, "cpu")
                    args["torch"], sync["torch"] = (torch.tensor(x), torch.tensor(y)), lambda: None
                    steps["minigrad"] = library_step(minigrad, layers, optimizer, lr, "cpu")
                    args["minigrad"], sync["minigrad"] = (minigrad.tensor(x), minigrad.tensor(y)), lambda: None
                else:
                    import cupy

                    base = NumpyMLP(layers, optimizer, lr, xp=cupy)
                    steps["numpy"], args["numpy"] = base.step, (cupy.asarray(x), cupy.asarray(y))
                    sync["numpy"] = cupy.cuda.Device().synchronize
                    steps["minigrad"] = library_step(minigrad, layers, optimizer, lr, "cuda")
                    args["minigrad"] = (minigrad.tensor(x, device="cuda"), minigrad.tensor(y, device="cuda"))
                    sync["minigrad"] = minigrad.cuda.synchronize
                    if torch.cuda.is_available():
                        steps["torch"] = library_step(torch, layers, optimizer, lr, "cuda")
                        args["torch"] = (torch.tensor(x, device="cuda"), torch.tensor(y, device="cuda"))
                        sync["torch"] = torch.cuda.synchronize
                result = measure(steps, args, repeats, inner, sync)
                torch.set_num_threads(max(1, torch.get_num_threads()))
            rows.append((size, optimizer, result))
    return rows


def report(rows: list, device: str) -> str:
    base = "numpy"  # the hand-written baseline: NumPy on the CPU, the same code on CuPy on a GPU
    hand = "numpy" if device == "cpu" else "cupy"
    lines = [f"| MLP | optimizer | {hand} (ms) | torch (ms) | minigrad (ms) | torch / {hand} | minigrad / {hand} |",
             "|---|---|---|---|---|---|---|"]
    for size, optimizer, times in rows:
        ms = {name: f"{statistics.median(times[name]) * 1e3:.3f}" if name in times else "-"
              for name in ("numpy", "torch", "minigrad")}
        # The ratio of each round (its contenders ran seconds apart), then the median over rounds:
        # slow drifts in the machine's speed cancel within a round.
        ratio = {name: f"{statistics.median(t / b for t, b in zip(times[name], times[base])):.2f}"
                 if name in times and base in times else "-" for name in ("torch", "minigrad")}
        widths, batch = SIZES[size]
        shape = "-".join(map(str, widths)) if len(widths) < 6 else f"{len(widths) - 1} layers"
        lines.append(f"| {size} ({shape}, batch {batch}) | {optimizer} | {ms['numpy']} | {ms['torch']} | "
                     f"{ms['minigrad']} | {ratio['torch']} | {ratio['minigrad']} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", default=None, choices=list(SIZES))
    parser.add_argument("--optimizers", nargs="+", default=["sgd", "adam"], choices=["sgd", "adam"])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    sizes = args.sizes or list(SIZES)
    rows = run(sizes, args.optimizers, args.device, args.repeats)
    machine = platform.processor() or platform.machine()
    if args.device == "cuda":
        import cupy

        gpu = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
        machine += f" with {gpu}, CuPy {cupy.__version__}"
    print(f"{date.today()} on {machine}, Python {platform.python_version()}, "
          f"NumPy {np.__version__}, device {args.device}; median of {args.repeats} interleaved rounds "
          "(each the best of 3 blocks), float32")
    print(report(rows, args.device))


if __name__ == "__main__":
    main()
