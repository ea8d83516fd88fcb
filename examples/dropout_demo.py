"""Dropout: what it does in training and in evaluation, and what it does to overfitting.

Part 1. ``nn.Dropout(p)`` in training mode zeroes each value with probability p and multiplies
the survivors by 1 / (1 - p), so that the expected value of every output equals its input. In
evaluation mode (``model.eval()``) it passes its input through unchanged.

Part 2. The same MLP trained twice on only 100 of scikit-learn's 8x8 digits, without and with
dropout, then evaluated on the other 1,697. Both memorize their training set (100% train
accuracy) while doing worse on unseen digits: that gap is overfitting. Dropout keeps the network
from relying on any single unit; on this data it mostly shows as a lower test loss (the
network is less confidently wrong), while test accuracy changes by a point or so either way
depending on the seed: dropout is a regularizer, not a guaranteed win.

    python examples/dropout_demo.py [--fast]
"""

from __future__ import annotations

import argparse

import numpy as np
from sklearn.datasets import load_digits

import minigrad as torch
from minigrad import nn


def show_train_vs_eval(p: float = 0.5) -> dict:
    """Dropout on a small tensor in both modes, and the scaling checked on a large one."""
    torch.manual_seed(0)
    dropout = nn.Dropout(p)
    x = torch.randn(10)
    print(f"Dropout(p={p}): kept values are multiplied by 1/(1-p) = {1 / (1 - p):g}")
    print("input       ", row(x.numpy()))
    dropout.train()  # the default for a new module
    y = dropout(x)
    print("train mode  ", row(y.numpy()))
    kept = y.numpy() != 0
    ratios = y.numpy()[kept] / x.numpy()[kept]
    print("kept/input  ", row(ratios), "(only the kept ones)")
    dropout.eval()
    z = dropout(x)
    print("eval mode   ", row(z.numpy()), "(unchanged)")

    # Over many values the mean survives dropout: that is what the 1/(1-p) scaling is for.
    dropout.train()
    big = dropout(torch.ones(100_000))
    zero_fraction = float((big.numpy() == 0).mean())
    print(f"on 100,000 ones: {zero_fraction:.1%} zeroed, mean {big.numpy().mean():.4f} (expected 1)\n")
    return {"ratios": ratios, "eval_equal": bool(z.equal(x)), "zero_fraction": zero_fraction,
            "mean": float(big.numpy().mean())}


def row(values: np.ndarray) -> str:
    return " ".join(f"{v + 0.0:7.3f}" for v in values)  # + 0.0 prints a dropped -0.0 as 0.000


def make_mlp(p: float, hidden: int) -> nn.Sequential:
    """Wide enough to memorize 100 digits. Dropout after each hidden layer (identity when p = 0)."""
    return nn.Sequential(
        nn.Linear(64, hidden), nn.ReLU(), nn.Dropout(p),
        nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(p),
        nn.Linear(hidden, 10),
    )


def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """(accuracy, cross-entropy loss) with dropout switched off."""
    model.eval()
    with torch.no_grad():
        logits = model(x)
        accuracy = (logits.argmax(1) == y).float().mean().item()
        loss = nn.functional.cross_entropy(logits, y).item()
    return accuracy, loss


def train(p: float, data: tuple, epochs: int, hidden: int, seed: int) -> dict:
    x_train, y_train, x_test, y_test = data
    torch.manual_seed(seed)  # the same initial weights for both runs
    model = make_mlp(p, hidden)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(epochs):  # full batch: with 100 samples there is nothing to gain from mini-batches
        model.train()  # evaluate() switched dropout off; switch it back on
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x_train), y_train)
        loss.backward()
        optimizer.step()
    train_acc, train_loss = evaluate(model, x_train, y_train)
    test_acc, test_loss = evaluate(model, x_test, y_test)
    return {"train_acc": train_acc, "train_loss": train_loss, "test_acc": test_acc, "test_loss": test_loss}


def main(fast: bool = False, n_train: int = 100, seed: int = 0) -> dict:
    results = {"scaling": show_train_vs_eval(0.5)}

    images, labels = load_digits(return_X_y=True)
    order = np.random.default_rng(seed).permutation(len(images))
    train_idx, test_idx = order[:n_train], order[n_train:]
    x = torch.tensor(images / 16.0, dtype=torch.float32)  # pixels 0..16 -> 0..1
    y = torch.tensor(labels)
    data = (x[train_idx], y[train_idx], x[test_idx], y[test_idx])

    epochs, hidden = (150, 128) if fast else (300, 256)
    print(f"digits: {n_train} training images, {len(test_idx)} test images; MLP 64-{hidden}-{hidden}-10, "
          f"Adam, {epochs} full-batch epochs")
    print(f"{'':16}{'train acc':>10}{'test acc':>10}{'train loss':>12}{'test loss':>11}")
    for name, p in (("no dropout", 0.0), ("dropout p=0.5", 0.5)):
        r = results[name] = train(p, data, epochs, hidden, seed)
        print(f"{name:16}{r['train_acc']:10.1%}{r['test_acc']:10.1%}{r['train_loss']:12.4f}{r['test_loss']:11.4f}")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="a smaller network, fewer epochs (used by the tests)")
    main(fast=parser.parse_args().fast)
