"""Train an MLP on MNIST read from its original IDX files.

Put the four files of the MNIST database in one directory, gzip-compressed or not::

    train-images-idx3-ubyte[.gz]  train-labels-idx1-ubyte[.gz]
    t10k-images-idx3-ubyte[.gz]   t10k-labels-idx1-ubyte[.gz]

(torchvision's ``MNIST/raw`` folder holds exactly these; they can be downloaded from the mirror
torchvision uses, ``MIRROR`` below), then

    python examples/mnist_idx.py [DIRECTORY, default data/mnist] [--epochs 3] [--fast]

The model is a 784-128-10 MLP trained with Adam on mini-batches of 64; one epoch over the
60,000 training images takes a few seconds on two CPU cores.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time

import minigrad as torch
from minigrad import nn
from minigrad.utils.data import DataLoader, TensorDataset
from minigrad.utils.idx import load_idx

FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
CONTENTS = {
    "train_images": "60,000 training images, 28x28",
    "train_labels": "their labels",
    "test_images": "10,000 test images, 28x28",
    "test_labels": "their labels",
}
# yann.lecun.com, the original host, often refuses downloads; torchvision tries this mirror first
MIRROR = "https://ossci-datasets.s3.amazonaws.com/mnist/"


def find_files(directory: str) -> dict[str, str]:
    """The path of each MNIST file in ``directory``, plain or ``.gz``; a helpful error if one is missing."""
    found, missing = {}, []
    for key, name in FILES.items():
        for candidate in (name, name + ".gz"):
            path = os.path.join(directory, candidate)
            if os.path.isfile(path):
                found[key] = path
                break
        else:
            missing.append(name)
    if missing:
        raise FileNotFoundError(missing_files_message(directory, missing))
    return found


def missing_files_message(directory: str, missing: list[str]) -> str:
    """Which files are missing, the four expected, and where to download them."""
    width = max(len(name) for name in FILES.values()) + len("[.gz]")
    expected = "\n".join(f"  {name + '[.gz]':{width}}  {CONTENTS[key]}" for key, name in FILES.items())
    urls = " \\\n".join(f"      {MIRROR}{name}.gz" for name in FILES.values())
    quoted = shlex.quote(directory)
    return (
        f"MNIST files missing in {directory!r}: {', '.join(missing)} (looked for each with and without .gz).\n"
        f"This script reads the four IDX files of the MNIST database from that directory, each plain or "
        f"gzip-compressed (.gz):\n{expected}\n"
        f"Download them from {MIRROR} (the mirror torchvision uses), for example:\n"
        f"  mkdir -p {quoted} && cd {quoted} && curl --fail --remote-name-all \\\n{urls}\n"
        "or point this script at torchvision's MNIST/raw folder.")


def load_mnist(directory: str, limit: int | None = None) -> tuple[torch.Tensor, ...]:
    """(train images, train labels, test images, test labels); images as float32 in [0, 1]."""
    paths = find_files(directory)
    data = {key: load_idx(path) for key, path in paths.items()}
    for split in ("train", "test"):
        images, labels = data[f"{split}_images"], data[f"{split}_labels"]
        if images.shape[0] != labels.shape[0]:
            raise ValueError(f"{paths[f'{split}_images']} holds {images.shape[0]} images but "
                             f"{paths[f'{split}_labels']} holds {labels.shape[0]} labels")
    out = []
    for split in ("train", "test"):
        images, labels = data[f"{split}_images"], data[f"{split}_labels"]
        if limit is not None:
            images, labels = images[:limit], labels[:limit]
        out += [images.float() / 255.0, labels.long()]  # uint8 pixels 0..255; labels as class indices
    return tuple(out)


def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    model.eval()
    with torch.no_grad():
        return (model(images).argmax(1) == labels).float().mean().item()


def main(directory: str, epochs: int = 3, fast: bool = False, seed: int = 0) -> dict:
    """Train and evaluate; returns the test accuracy and timings. ``fast`` uses 2,000 images of each split."""
    x_train, y_train, x_test, y_test = load_mnist(directory, limit=2000 if fast else None)
    rows, cols = x_train.shape[1], x_train.shape[2]
    print(f"MNIST from {directory}: {len(x_train)} training and {len(x_test)} test images of {rows}x{cols}")

    torch.manual_seed(seed)
    model = nn.Sequential(nn.Flatten(), nn.Linear(rows * cols, 128), nn.ReLU(), nn.Linear(128, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=64, shuffle=True)
    start = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        total = 0.0
        for images, labels in loader:
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(images), labels)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(labels)
        test_acc = accuracy(model, x_test, y_test)
        print(f"epoch {epoch + 1}: train loss {total / len(x_train):.4f}, test accuracy {test_acc:.2%} "
              f"({time.perf_counter() - start:.1f} s)")
    return {"test_accuracy": test_acc, "train_accuracy": accuracy(model, x_train, y_train),
            "seconds": time.perf_counter() - start}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?", default="data/mnist",
                        help="directory holding the four MNIST IDX files (default: data/mnist)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--fast", action="store_true", help="2,000 images of each split (used by the tests)")
    args = parser.parse_args()
    try:
        main(args.directory, epochs=args.epochs, fast=args.fast)
    except FileNotFoundError as exc:
        sys.exit(str(exc))
