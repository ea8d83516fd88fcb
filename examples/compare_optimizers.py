"""Train the same MLP on the digits with every optimizer of the course, and compare them.

Each run starts from the same weights and sees the same mini-batches; only the optimizer
differs. The settings are the course's own lines (``torch.optim.Adagrad(model.parameters(),
lr=0.2)`` ...). The script prints a table (final training loss, test accuracy, time and the
bytes of optimizer state) and saves the loss curves as a PNG.

    python examples/compare_optimizers.py                 # 20 epochs, plot in out/
    python examples/compare_optimizers.py --epochs 5 --out docs/figures
"""

from __future__ import annotations

import argparse
import copy
import os
import time

import matplotlib

matplotlib.use("Agg")  # files only: no display needed
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from tqdm import tqdm  # noqa: E402

import minigrad as torch  # noqa: E402
from minigrad import nn  # noqa: E402
from minigrad.utils.data import DataLoader, TensorDataset  # noqa: E402
from minigrad.utils.threads import limit_blas_threads  # noqa: E402

# The course's optimizer lines, name -> factory.
COURSE_OPTIMIZERS = {
    "SGD": lambda p: torch.optim.SGD(p, lr=0.01),
    "SGD momentum 0.9": lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9),
    "SGD momentum 0.99, dampening 0.25": lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.99, dampening=0.25),
    "Nesterov": lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9, nesterov=True),
    "Rprop": lambda p: torch.optim.Rprop(p, etas=(0.75, 1.1)),
    "Adagrad": lambda p: torch.optim.Adagrad(p, lr=0.2),
    "RMSprop": lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9),
    "Adam": lambda p: torch.optim.Adam(p),
    "NAdam": lambda p: torch.optim.NAdam(p),
    "Adadelta": lambda p: torch.optim.Adadelta(p),
}

# Ten curves, some nearly on top of each other (momentum 0.9 and Nesterov differ by under 1%):
# each gets its own color, dash pattern and marker, so that one hidden under another still shows.
COLORS = plt.get_cmap("tab10").colors
LINESTYLES = ["-", "--", "-.", ":"]
MARKERS = ["o", "s", "^", "v", "D", "x", "P", "*", "<", ">"]


def load_data() -> tuple:
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    x_train, x_test, y_train, y_test = train_test_split(x, digits.target, test_size=0.25, random_state=0,
                                                        stratify=digits.target)
    return torch.tensor(x_train), torch.tensor(y_train), torch.tensor(x_test), torch.tensor(y_test)


def state_bytes(optimizer: torch.optim.Optimizer) -> int:
    """Bytes of every tensor the optimizer keeps per parameter (its ``state``)."""
    return sum(v.nbytes for s in optimizer.state.values() for v in s.values() if isinstance(v, torch.Tensor))


def train_one(name: str, make_optimizer, start: nn.Module, data: tuple, epochs: int, batch_size: int) -> dict:
    x_train, y_train, x_test, y_test = data
    model = copy.deepcopy(start)
    optimizer = make_optimizer(model.parameters())
    loss_fn = nn.CrossEntropyLoss()
    torch.manual_seed(1)  # the same mini-batch order for every optimizer
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=batch_size, shuffle=True)
    curve = []
    begin = time.perf_counter()
    for _ in tqdm(range(epochs), desc=f"{name:>34s}", unit="epoch", leave=False):
        total = 0.0
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(xb)
        curve.append(total / len(x_train))
    seconds = time.perf_counter() - begin
    with torch.no_grad():
        accuracy = (model(x_test).argmax(dim=1) == y_test).float().mean().item()
    return {"curve": curve, "accuracy": accuracy, "seconds": seconds, "state_bytes": state_bytes(optimizer)}


def plot_curves(results: dict) -> plt.Figure:
    """Training loss per epoch of every optimizer, on a log scale (the losses span two decades)."""
    fig, ax = plt.subplots(figsize=(9.5, 5))
    for i, (name, r) in enumerate(results.items()):
        epochs = np.arange(1, len(r["curve"]) + 1)
        # a marker every third epoch, shifted per curve so that the markers of overlapping curves alternate
        every = (i % 3, 3) if len(epochs) >= 9 else 1
        ax.plot(epochs, r["curve"], label=name, color=COLORS[i % len(COLORS)],
                linestyle=LINESTYLES[i % len(LINESTYLES)], marker=MARKERS[i % len(MARKERS)], markevery=every,
                markersize=6, markerfacecolor="none", linewidth=1.6)
    ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss (cross entropy, log scale)")
    ax.set_title("64-128-10 MLP on the 8x8 digits, the course's optimizer settings")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)  # outside: hides no curve
    fig.tight_layout()
    return fig


def main(out_dir: str = "out", epochs: int = 20, batch_size: int = 64, fast: bool = False) -> dict:
    if fast:
        epochs = min(epochs, 3)
    data = load_data()
    torch.manual_seed(0)
    start = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    param_bytes = sum(p.nbytes for p in start.parameters())
    # batches of 64 through 64-128-10 are 5e5 multiply-adds: a second BLAS thread only slows them
    with limit_blas_threads(start, batch_size=batch_size):
        results = {name: train_one(name, make, start, data, epochs, batch_size)
                   for name, make in COURSE_OPTIMIZERS.items()}

    print(f"{'optimizer':36s} {'final loss':>10s} {'test acc':>9s} {'time (s)':>9s} {'state (B)':>10s} "
          f"{'x params':>8s}")
    for name, r in results.items():
        # parameters + gradients + state, in units of the parameters (the course's multiplier)
        multiplier = 2 + r["state_bytes"] / param_bytes
        print(f"{name:36s} {r['curve'][-1]:10.4f} {r['accuracy']:9.2%} {r['seconds']:9.2f} "
              f"{r['state_bytes']:10d} {multiplier:7.2f}x")

    os.makedirs(out_dir, exist_ok=True)
    fig = plot_curves(results)
    path = os.path.join(out_dir, "compare_optimizers.png")
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print("wrote", path)
    return {"results": results, "file": path, "param_bytes": param_bytes}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="out")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--fast", action="store_true")
    args = parser.parse_args()
    main(args.out, args.epochs, args.batch_size, args.fast)
