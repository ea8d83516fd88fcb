"""Time ``optimizer.step()``: minigrad vs torch (CPU) vs one fused NumPy update over flat arrays.

The model is a 100-layer MLP of 64-unit layers: 200 parameter tensors (weights 64x64 and
biases 64), 416,000 float32 values. Only ``step()`` is timed, with gradients in place. For
each optimizer the contenders run interleaved in one
process (A B C A B C ...), so that machine noise hits them alike, with one BLAS thread, and
the table reports medians.

* minigrad: ``minigrad.optim.<Name>(params)`` with its defaults (on the CPU, the reference
  per-parameter step), and with ``foreach=True`` (the multi-tensor step);
* torch: ``torch.optim.<Name>`` with its defaults (on CPU, ``foreach=None`` means the
  per-tensor loop), and with ``foreach=True`` (one multi-tensor kernel per operation);
* NumPy: the same update written by hand over flat arrays holding all 416,000 values, with
  in-place operations and preallocated scratch arrays: what a step costs without any
  per-tensor bookkeeping.

It also times ``zero_grad()`` and the fixed cost of a call (a model with one 3-element
tensor).

    python benchmarks/optim_step.py            # all optimizers
    python benchmarks/optim_step.py --quick    # fewer repetitions
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import time
from datetime import date

import numpy as np
import torch
from threadpoolctl import threadpool_limits

import minigrad

OPTIMIZERS = ["SGD", "SGD+momentum", "Rprop", "Adagrad", "RMSprop", "Adam", "AdamW", "NAdam", "Adadelta"]


def make_optimizer(lib, name: str, params: list, **kwargs):
    if name == "SGD+momentum":
        return lib.optim.SGD(params, lr=1e-3, momentum=0.9, **kwargs)
    return getattr(lib.optim, name)(params, **kwargs)


def model_params(lib, layers: int, rng: np.random.Generator) -> list:
    """Weights and biases of ``layers`` Linear(64, 64) layers, with gradients in place.

    The gradients are random, of size 1e-2: a real 100-layer tanh network has vanishing
    gradients (1e-27 and less), whose squares underflow, and arithmetic on such numbers
    can be slower than on ordinary ones, which would blur the comparison.
    """
    params = []
    for _ in range(layers):
        for shape in [(64, 64), (64,)]:
            p = lib.tensor(rng.uniform(-0.125, 0.125, shape).astype(np.float32), requires_grad=True)
            p.grad = lib.tensor((rng.standard_normal(shape) * 1e-2).astype(np.float32))
            params.append(p)
    return params


class FlatNumpy:
    """The reference: each optimizer's default update over flat float32 arrays, in place."""

    def __init__(self, name: str, n: int, rng: np.random.Generator) -> None:
        self.name = name
        self.p = rng.standard_normal(n).astype(np.float32)
        self.g = rng.standard_normal(n).astype(np.float32) * 1e-2
        self.s1 = np.zeros(n, np.float32)
        self.s2 = np.zeros(n, np.float32)
        self.t1 = np.empty(n, np.float32)
        self.t2 = np.empty(n, np.float32)
        self.t = 0
        if name == "Rprop":
            self.s2[...] = 1e-2
            self.mask = np.empty(n, bool)

    def step(self) -> None:
        p, g, s1, s2, t1, t2 = self.p, self.g, self.s1, self.s2, self.t1, self.t2
        self.t += 1
        name = self.name
        if name == "SGD":
            p -= np.multiply(g, 1e-3, out=t1)
        elif name == "SGD+momentum":
            s1 *= 0.9
            s1 += g
            p -= np.multiply(s1, 1e-3, out=t1)
        elif name == "Rprop":  # s1: previous gradient, s2: step sizes
            np.sign(np.multiply(g, s1, out=t1), out=t1)
            np.less(t1, 0, out=self.mask)
            t2[...] = 1.0
            t2[t1 > 0] = 1.2
            t2[self.mask] = 0.5
            s2 *= t2
            np.clip(s2, 1e-6, 50, out=s2)
            np.copyto(s1, g)
            s1[self.mask] = 0
            p -= np.multiply(np.sign(s1, out=t1), s2, out=t1)
        elif name == "Adagrad":
            s1 += np.multiply(g, g, out=t1)
            np.sqrt(s1, out=t1)
            t1 += 1e-10
            p -= np.multiply(np.divide(g, t1, out=t1), 1e-2, out=t1)
        elif name == "RMSprop":
            s1 *= 0.99
            s1 += np.multiply(np.multiply(g, 0.01, out=t1), g, out=t1)
            np.sqrt(s1, out=t1)
            t1 += 1e-8
            p -= np.multiply(np.divide(g, t1, out=t1), 1e-2, out=t1)
        elif name in ("Adam", "AdamW", "NAdam"):
            if name == "AdamW":
                p *= 1 - 1e-3 * 1e-2
            s1 += np.multiply(np.subtract(g, s1, out=t1), 0.1, out=t1)
            s2 *= 0.999
            s2 += np.multiply(np.multiply(g, 0.001, out=t1), g, out=t1)
            np.sqrt(s2, out=t1)
            t1 /= (1 - 0.999 ** self.t) ** 0.5
            t1 += 1e-8
            if name == "NAdam":
                p -= np.multiply(np.divide(g, t1, out=t2), 1e-3, out=t2)
            p -= np.multiply(np.divide(s1, t1, out=t1), 1e-3, out=t1)
        elif name == "Adadelta":
            s1 *= 0.9
            s1 += np.multiply(np.multiply(g, 0.1, out=t1), g, out=t1)
            np.sqrt(np.add(s1, 1e-6, out=t1), out=t1)
            np.sqrt(np.add(s2, 1e-6, out=t2), out=t2)
            t2 /= t1
            t2 *= g
            s2 *= 0.9
            s2 += np.multiply(np.multiply(t2, 0.1, out=t1), t2, out=t1)
            p -= t2


def timed(fn, repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat * 1e6


def samples_interleaved(fns: list, rounds: int, repeat: int) -> list:
    """For each function, the mean time of ``repeat`` calls in each of ``rounds`` rounds; they take turns."""
    for fn in fns:
        fn()
    samples: list = [[] for _ in fns]
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            samples[i].append(timed(fn, repeat))
    return samples


def median_interleaved(fns: list, rounds: int, repeat: int) -> list:
    """Median over ``rounds`` of the mean time of ``repeat`` calls, the functions taking turns."""
    return [statistics.median(s) for s in samples_interleaved(fns, rounds, repeat)]


def machine() -> str:
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        model = next(line.split(":", 1)[1].strip() for line in lscpu.splitlines() if line.startswith("Model name"))
    except (OSError, StopIteration):
        model = platform.processor() or "unknown CPU"
    cores = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip() or "?"
    return (f"{model}, {cores} cores (nproc), Python {platform.python_version()}, NumPy {np.__version__}, "
            f"torch {torch.__version__}, one BLAS/torch thread, {date.today().isoformat()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--only", nargs="*", default=OPTIMIZERS, help="optimizers to time")
    args = parser.parse_args()
    rounds, repeat = (7, 5) if args.quick else (21, 10)
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    layers = 100

    print(f"Machine: {machine()}\n")
    print(f"`step()` on {2 * layers} tensors ({layers} x Linear(64, 64), {layers * 64 * 65:,} float32 values); "
          f"median of {rounds} rounds of {repeat} steps.\n")
    print("| optimizer | minigrad µs | minigrad foreach µs | torch µs | torch foreach µs | NumPy flat µs "
          "| minigrad / NumPy | minigrad foreach / NumPy | torch foreach / NumPy |")
    print("|---|---|---|---|---|---|---|---|---|")
    n_tensors = 2 * layers
    for name in args.only:
        mg_opt = make_optimizer(minigrad, name, model_params(minigrad, layers, rng))
        mf_opt = make_optimizer(minigrad, name, model_params(minigrad, layers, rng), foreach=True)
        t_opt = make_optimizer(torch, name, model_params(torch, layers, rng))
        tf_opt = make_optimizer(torch, name, model_params(torch, layers, rng), foreach=True)
        ref = FlatNumpy(name, layers * 64 * 65, rng)
        with threadpool_limits(1):
            mg_t, mf_t, t_t, tf_t, np_t = median_interleaved(
                [mg_opt.step, mf_opt.step, t_opt.step, tf_opt.step, ref.step], rounds, repeat)
        print(f"| {name} | {mg_t:.0f} | {mf_t:.0f} | {t_t:.0f} | {tf_t:.0f} | {np_t:.0f} "
              f"| {mg_t / np_t:.2f} | {mf_t / np_t:.2f} | {tf_t / np_t:.2f} |")

    # zero_grad on the 200 tensors, and the cost of a call on one tiny tensor.
    print("\n| call | minigrad µs | torch µs | NumPy µs | minigrad − NumPy µs |")
    print("|---|---|---|---|---|")
    mg_params, t_params = model_params(minigrad, layers, rng), model_params(torch, layers, rng)
    mg_opt, t_opt = minigrad.optim.SGD(mg_params, lr=1e-3), torch.optim.SGD(t_params, lr=1e-3)
    mg_opt.step()
    t_opt.step()
    mg_grads = [p.grad for p in mg_params]
    t_grads = [p.grad for p in t_params]

    def mg_zero() -> None:  # give the gradients back after each zero_grad, outside the timed call
        mg_opt.zero_grad()

    def restore(params: list, grads: list) -> None:
        for p, g in zip(params, grads):
            p.grad = g

    samples_mg, samples_t = [], []
    for _ in range(rounds * repeat):
        restore(mg_params, mg_grads)
        start = time.perf_counter()
        mg_zero()
        samples_mg.append((time.perf_counter() - start) * 1e6)
        restore(t_params, t_grads)
        start = time.perf_counter()
        t_opt.zero_grad()
        samples_t.append((time.perf_counter() - start) * 1e6)
    print(f"| zero_grad(), {n_tensors} tensors | {statistics.median(samples_mg):.1f} "
          f"| {statistics.median(samples_t):.1f} | – | – |")

    # The fixed cost of a call: one 3-element tensor, against the same update in NumPy. The best
    # round is shown too: on a shared machine it is the figure least disturbed by other jobs.
    best_rows = []
    for name in [n for n in OPTIMIZERS if "+" not in n]:
        mg_tiny = [minigrad.tensor([1.0, 2.0, 3.0], requires_grad=True)]
        t_tiny = [torch.tensor([1.0, 2.0, 3.0], requires_grad=True)]
        mg_tiny[0].grad = minigrad.tensor([0.1, 0.2, 0.3])
        t_tiny[0].grad = torch.tensor([0.1, 0.2, 0.3])
        mg_o, t_o = getattr(minigrad.optim, name)(mg_tiny, lr=1e-3), getattr(torch.optim, name)(t_tiny, lr=1e-3)
        ref = FlatNumpy(name, 3, rng)
        samples = samples_interleaved([mg_o.step, t_o.step, ref.step], rounds, repeat * 20)
        mg_t, t_t, np_t = (statistics.median(s) for s in samples)
        print(f"| {name}.step(), one 3-element tensor | {mg_t:.1f} | {t_t:.1f} | {np_t:.1f} | {mg_t - np_t:.1f} |")
        best_rows.append(f"| {name} | {min(samples[0]):.1f} | {min(samples[2]):.1f} | "
                         f"{min(samples[0]) - min(samples[2]):.1f} |")
    mg_o = minigrad.optim.SGD(mg_tiny, lr=1e-3)
    t_o = torch.optim.SGD(t_tiny, lr=1e-3)
    mg_t, t_t = median_interleaved([mg_o.zero_grad, t_o.zero_grad], rounds, repeat * 20)
    print(f"| zero_grad(), one tensor | {mg_t:.1f} | {t_t:.1f} | – | {mg_t:.1f} |")
    print("\nBest round, one 3-element tensor (µs):\n")
    print("| optimizer | minigrad step | NumPy update | fixed cost |\n|---|---|---|---|")
    print("\n".join(best_rows))


if __name__ == "__main__":
    main()
