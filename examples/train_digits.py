"""Train a 64-128-10 MLP on scikit-learn's bundled 8x8 digits and report the test accuracy.

The dataset (1,797 images of handwritten digits) ships inside scikit-learn: nothing is
downloaded. The training loop is plain torch code; only the import differs. A progress bar
follows the epochs (with the loss of the last one); the last line gives the test accuracy and
the total time.

    python examples/train_digits.py
    python examples/train_digits.py --epochs 5 --device cuda
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from tqdm import tqdm

import minigrad as torch
from minigrad import nn
from minigrad.utils.data import DataLoader, TensorDataset
from minigrad.utils.threads import limit_blas_threads


def load_data(device: str = "cpu") -> tuple:
    """Digits scaled to [0, 1], split 75/25 with a fixed seed (stratified, so every class is in both)."""
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    x_train, x_test, y_train, y_test = train_test_split(x, digits.target, test_size=0.25, random_state=0,
                                                        stratify=digits.target)
    as_tensors = [torch.tensor(x_train), torch.tensor(y_train), torch.tensor(x_test), torch.tensor(y_test)]
    return tuple(t.to(device) for t in as_tensors)


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    model.eval()
    with torch.no_grad():
        predicted = model(x).argmax(dim=1)
    model.train()
    return (predicted == y).float().mean().item()


def train(epochs: int = 30, batch_size: int = 32, lr: float = 0.1, device: str = "cpu", seed: int = 0,
          progress: bool = True) -> dict:
    begin = time.perf_counter()
    torch.manual_seed(seed)
    x_train, y_train, x_test, y_test = load_data(device)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10)).to(device)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=batch_size, shuffle=True)

    start = time.perf_counter()
    # batches of 32 through 64-128-10 are tiny matrix products: extra BLAS threads only wait on each other
    with limit_blas_threads(model, batch_size=batch_size), \
            tqdm(range(epochs), desc="training", unit="epoch", disable=not progress) as bar:
        for _ in bar:
            total = 0.0
            for xb, yb in loader:
                optimizer.zero_grad()
                loss = loss_fn(model(xb), yb)
                loss.backward()
                optimizer.step()
                total += loss.item() * len(xb)
            bar.set_postfix(loss=f"{total / len(x_train):.4f}")
    seconds = time.perf_counter() - start
    result = {"train_accuracy": accuracy(model, x_train, y_train), "test_accuracy": accuracy(model, x_test, y_test),
              "seconds": seconds, "final_loss": total / len(x_train)}
    result["total_seconds"] = time.perf_counter() - begin  # data, training and evaluation
    return result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    args = parser.parse_args(argv)
    result = train(args.epochs, args.batch_size, args.lr, args.device, progress=args.progress)
    print(f"test accuracy {result['test_accuracy']:.2%} (train {result['train_accuracy']:.2%}), "
          f"final loss {result['final_loss']:.4f}; {args.epochs} epochs on {args.device}, "
          f"total time {result['total_seconds']:.2f} s (training {result['seconds']:.2f} s)")
    return result


if __name__ == "__main__":
    main()
