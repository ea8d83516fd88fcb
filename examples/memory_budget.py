"""One deep MLP trained three ways: plain, with activation checkpointing, with float16 autocast.

The course's memory rule: a layer costs sizeof(type) x (n x k + k), training keeps every layer's
output for backward, multiplied by the batch, and the optimizer multiplies the parameter bytes
(Adam: parameters + gradients + two moments = 4x). For a deep, narrow network and a large batch
the activations are the biggest part, and there are two standard ways to shrink them:

* **checkpointing** (``minigrad.utils.checkpoint.checkpoint_sequential``, minigrad/utils/checkpoint.py):
  keep only the inputs of ~sqrt(n) segments of the network and recompute each segment's activations
  when backward reaches it. Memory for compute: one more forward per step. The gradients are the
  plain run's, bit for bit (tests/test_example_memory_budget.py checks it).
* **autocast** (``minigrad.autocast("cpu", dtype=minigrad.float16)`` + ``minigrad.amp.GradScaler``,
  minigrad/amp/): the matrix products run in float16, so what they keep and what Tanh keeps after
  them are half the size; the weights stay float32 ("master weights"), cast to float16 once per
  forward, and those float16 copies are kept for backward too (width x width x 2 bytes a layer): the
  saving is less than half. The loss is computed in float32 (``logits.float()``) and scaled so that
  float16 gradients do not flush to zero.

All three start from the same weights and see the same batches for the same number of steps. For
each: the peak bytes of one training step (``zero_grad()``, forward, loss, backward, ``step()``)
predicted by ``minigrad.memory.summary()`` and measured with ``minigrad.memory.measure()``
(tracemalloc), the median time of a step, the test accuracy on the held-out 25% of scikit-learn's
8x8 digits, and one PNG (out/memory_budget.png): predicted vs measured peaks, and the loss curves.

The model's ``forward`` enters autocast and calls ``checkpoint_sequential`` itself, so the training
loop is the same for the three, and so is the call to ``summary()``, which runs the model's forward.

Time: checkpointing costs one more forward. float16 on a CPU is *slower*, not faster: NumPy has no
float16 matrix product in its BLAS, it loops in C (~350 million multiply-adds/s here, where float32's
BLAS does tens of billions). On a GPU float16 products run on tensor cores: faster as well as smaller.

    python examples/memory_budget.py [output directory, default out/] [--fast]
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
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

import minigrad as torch  # noqa: E402
import minigrad.nn.functional as F  # noqa: E402
from minigrad import nn  # noqa: E402
from minigrad.memory import format_bytes, measure, summary  # noqa: E402
from minigrad.utils.checkpoint import checkpoint_sequential  # noqa: E402
from minigrad.utils.threads import limit_blas_threads  # noqa: E402

DEPTH = 32  # hidden layers, each Linear(WIDTH, WIDTH) then Tanh (the first one Linear(64, WIDTH))
WIDTH = 64
BATCH = 256  # activations per layer: BATCH x WIDTH x 4 bytes = 64 kB, four times a layer's weights
LR = 1e-3
GAIN = 1.3  # Xavier init; torch's default init (variance 1/(3n)) shrinks the signal through 32 Tanh layers
EPOCHS = 10  # --fast: 2 (batches of BATCH, the remainder of each epoch dropped: 5 steps per epoch)
STEPS_PER_EPOCH = 1347 // BATCH  # 1347 training digits
SEGMENTS = round(math.sqrt(DEPTH))  # checkpoint_sequential's segments: ~sqrt(n) is where its peak is lowest
VARIANTS = ("plain", "checkpointed", "autocast")


class DeepMLP(nn.Module):
    """64 -> DEPTH x (Linear, Tanh) -> 10. ``segments > 1``: checkpointed while training; ``half``: autocast."""

    def __init__(self, depth: int = DEPTH, width: int = WIDTH, segments: int = 1, half: bool = False) -> None:
        super().__init__()
        self.blocks = nn.Sequential(*[nn.Sequential(nn.Linear(64 if i == 0 else width, width), nn.Tanh())
                                      for i in range(depth)])
        self.head = nn.Linear(width, 10)
        self.segments = segments
        self.half = half
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight, gain=GAIN)
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.half:  # float16 matrix products (float16 logits: the loss casts them back)
            with torch.autocast("cpu", dtype=torch.float16):
                return self._forward(x)
        return self._forward(x)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.segments > 1 and self.training and torch.is_grad_enabled():
            x = checkpoint_sequential(self.blocks, self.segments, x, use_reentrant=False)
        else:
            x = self.blocks(x)
        return self.head(x)


def make_model(variant: str, seed: int = 0) -> DeepMLP:
    """The same initial weights for every variant (the seed is set before the layers are made)."""
    torch.manual_seed(seed)
    return DeepMLP(segments=SEGMENTS if variant == "checkpointed" else 1, half=variant == "autocast")


def make_training(model: DeepMLP) -> tuple:
    """Adam on float32 weights, and a GradScaler that is on for autocast only (off: every call passes through)."""
    return torch.optim.Adam(model.parameters(), lr=LR), torch.amp.GradScaler("cpu", enabled=model.half)


def loss_of(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(logits.float(), y)  # in float32 whatever the logits: the sum needs float32's range


def train_step(model: DeepMLP, opt, scaler, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The usual loop, the same for the three variants. Returns the (unscaled) loss."""
    opt.zero_grad()
    loss = loss_of(model(x), y)
    scaler.scale(loss).backward()
    scaler.step(opt)  # unscales; skips the step when a float16 gradient overflowed
    scaler.update()
    return loss


def load_data() -> tuple:
    """Digits scaled to [0, 1], split 75/25 with a fixed seed, stratified (as examples/train_digits.py)."""
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    x_train, x_test, y_train, y_test = train_test_split(x, digits.target, test_size=0.25, random_state=0,
                                                        stratify=digits.target)
    return torch.tensor(x_train), torch.tensor(y_train), torch.tensor(x_test), torch.tensor(y_test)


def batches(n: int, epochs: int, seed: int = 0) -> list:
    """The index arrays of every step: the same for every variant."""
    rng = np.random.default_rng(seed)
    steps = []
    for _ in range(epochs):
        order = rng.permutation(n)
        steps += [torch.tensor(order[i:i + BATCH]) for i in range(0, n - BATCH + 1, BATCH)]
    return steps


def peaks(variant: str, x: torch.Tensor, y: torch.Tensor) -> dict:
    """Predicted and measured peak of one training step, the second one (Adam's state exists by then).

    One outer ``measure()`` for the whole run, so the step's freeing of the previous step's gradients
    is seen; the model, optimizer and batch are made inside it (an array made before tracing is
    invisible). Measured peak = the arrays alive before the step + the step's own peak above them.
    """
    with measure():
        with measure() as setup:
            x, y = x.clone(), y.clone()  # the batch, held by the caller, is part of the step's memory
            model = make_model(variant)
            opt, scaler = make_training(model)
            with np.errstate(over="ignore", invalid="ignore"):
                train_step(model, opt, scaler, x, y)  # the first step makes Adam's state
        report = summary(model, tuple(x.shape), optimizer=opt, loss_fn=lambda out: loss_of(out, y))
        with measure() as step, np.errstate(over="ignore", invalid="ignore"):
            train_step(model, opt, scaler, x, y)
    return {"predicted": report.step_peak, "measured": setup.array_current + step.peak,
            "activations": report.activation_bytes, "params": report.param_bytes, "state": report.state_bytes,
            "report": report}


def train(variant: str, data: tuple, steps: list) -> dict:
    x_train, y_train, x_test, y_test = data
    model = make_model(variant)
    opt, scaler = make_training(model)
    losses, seconds, skipped = [], [], 0
    for idx in steps:
        xb, yb = x_train[idx], y_train[idx]
        scale = scaler.get_scale()
        start = time.perf_counter()
        # A float16 gradient may overflow at the first scales (65536, 32768...): GradScaler sees the inf,
        # skips that step and halves the scale. NumPy's overflow warnings say nothing more.
        with np.errstate(over="ignore", invalid="ignore"):
            loss = train_step(model, opt, scaler, xb, yb)
        seconds.append(time.perf_counter() - start)
        losses.append(loss.item())
        skipped += scaler.get_scale() < scale  # update() halves the scale after a skipped step
    model.eval()
    with torch.no_grad():
        accuracy = (model(x_test).argmax(dim=1) == y_test).float().mean().item()
    return {"losses": losses, "step_ms": 1000 * float(np.median(seconds)), "test_accuracy": accuracy,
            "skipped_steps": skipped, "final_loss": float(np.mean(losses[-STEPS_PER_EPOCH:]))}


def plot(results: dict, out_dir: str) -> str:
    fig, (bars, curves) = plt.subplots(1, 2, figsize=(12, 4.5))
    xs = np.arange(len(results))
    predicted = [r["predicted"] / 1e6 for r in results.values()]
    measured = [r["measured"] / 1e6 for r in results.values()]
    bars.bar(xs - 0.2, predicted, 0.4, label="predicted: summary().step_peak")
    bars.bar(xs + 0.2, measured, 0.4, label="measured: measure() (tracemalloc)")
    for i, (p, m) in enumerate(zip(predicted, measured)):
        bars.text(i - 0.2, p, f"{p:.2f}", ha="center", va="bottom", fontsize=8)
        bars.text(i + 0.2, m, f"{m:.2f}", ha="center", va="bottom", fontsize=8)
    bars.set_xticks(xs, list(results))
    bars.set_ylabel("peak of one training step (MB)")
    bars.set_title(f"{DEPTH} x Linear({WIDTH},{WIDTH})+Tanh, batch {BATCH}, Adam")
    bars.legend(fontsize=8, loc="upper right")
    # plain and checkpointed are the same numbers: a thick line under a dashed one shows both
    for (name, r), style in zip(results.items(), ({"lw": 4, "alpha": 0.4}, {"ls": "--"}, {"ls": ":", "lw": 2})):
        curves.plot(r["losses"], label=f"{name}: test accuracy {r['test_accuracy']:.1%}", **style)
    curves.set_xlabel("step")
    curves.set_ylabel("training loss (cross entropy, float32)")
    curves.set_title("same weights, same batches")
    curves.legend(fontsize=8)
    fig.tight_layout()
    path = os.path.join(out_dir, "memory_budget.png")
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def main(out_dir: str = "out", fast: bool = False) -> dict:
    """Train the three variants; returns, per variant, the peaks (bytes), step time (ms), accuracy and losses."""
    os.makedirs(out_dir, exist_ok=True)
    data = load_data()
    steps = batches(len(data[0]), 2 if fast else EPOCHS)
    print(f"{DEPTH} hidden layers Linear({WIDTH}, {WIDTH}) + Tanh, batch {BATCH}, Adam lr {LR}, {len(steps)} steps; "
          f"checkpointed: {SEGMENTS} segments")
    results: dict = {}
    with limit_blas_threads(make_model("plain"), batch_size=BATCH):  # small products: 1 BLAS thread is faster
        for variant in VARIANTS:
            results[variant] = {**peaks(variant, data[0][steps[0]], data[1][steps[0]]), **train(variant, data, steps)}
    plain = results["plain"]
    print(f"\n{'variant':<13} {'predicted peak':>14} {'measured peak':>13} {'pred/meas':>9} {'activations':>11} "
          f"{'vs plain':>8} {'ms/step':>8} {'final loss':>10} {'test acc':>8}")
    for name, r in results.items():
        print(f"{name:<13} {format_bytes(r['predicted']):>14} {format_bytes(r['measured']):>13} "
              f"{r['predicted'] / r['measured']:9.3f} {format_bytes(r['activations']):>11} "
              f"{r['measured'] / plain['measured']:8.2f} {r['step_ms']:8.2f} {r['final_loss']:10.4f} "
              f"{r['test_accuracy']:8.1%}")
    print(f"\nparameters {format_bytes(plain['params'])}, Adam state {format_bytes(plain['state'])}, the same for all "
          "three: params + grads + state = 4x params.")
    print("'activations': summary()'s count of what the graph keeps for backward after the forward; 'predicted peak':"
          "\nits replay of one step; 'measured peak': tracemalloc around a second step (see docs/memory.md).")
    amp = results["autocast"]
    print(f"autocast: float16 activations, plus a float16 copy of each weight kept for backward; GradScaler "
          f"skipped {amp['skipped_steps']} of {len(steps)} steps\n(steps where a float16 gradient overflowed); "
          f"{amp['step_ms'] / plain['step_ms']:.0f}x plain's time per step: NumPy has no float16 BLAS, a GPU has "
          "tensor cores.")
    path = plot(results, out_dir)
    print("wrote", path)
    for r in results.values():
        r.pop("report")
    results["png"] = path
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", default="out", help="where to write the PNG (default: out)")
    parser.add_argument("--fast", action="store_true", help="2 epochs instead of 10 (used by the tests)")
    args = parser.parse_args()
    main(args.out_dir, fast=args.fast)
