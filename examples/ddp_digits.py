"""The digits MLP trained by several processes at once: data parallelism over MPI, torch's DDP API.

    mpiexec -n 2 python examples/ddp_digits.py          # 2 processes (any N works)
    python examples/ddp_digits.py                       # 1 process: the same program, no MPI launcher

Every process holds the whole model and trains on its own part of each epoch's shuffled
training set (``DistributedSampler``): with N processes and a per-process batch of B, one step
sees N*B samples. ``DistributedDataParallel`` averages the gradients over the processes during
backward, so the optimizer steps keep the copies equal. Each process then measures the test
accuracy on its own part of the test set, and one ``all_reduce`` of the correct counts gives the
accuracy on the whole test set; rank 0 prints a table of both and what the step cost: time per
step, and the bytes each process sends per step (an all_reduce over a ring moves 2 (N-1)/N
times the gradient bytes).

The training loop is what a torch DDP script runs; only the import differs.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import minigrad as torch
import minigrad.distributed as dist
from minigrad import nn
from minigrad.nn.parallel import DistributedDataParallel as DDP
from minigrad.utils.data import DataLoader, TensorDataset
from minigrad.utils.data.distributed import DistributedSampler


def load_data() -> tuple:
    """Digits scaled to [0, 1], split 75/25 with a fixed seed: the same split on every process."""
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    x_train, x_test, y_train, y_test = train_test_split(x, digits.target, test_size=0.25, random_state=0,
                                                        stratify=digits.target)
    return (TensorDataset(torch.tensor(x_train), torch.tensor(y_train)),
            TensorDataset(torch.tensor(x_test), torch.tensor(y_test)))


def evaluate(model: nn.Module, data: TensorDataset, rank: int, world: int) -> tuple[int, int]:
    """(correct, count) on this process's part of ``data`` (every world-th sample, no padding)."""
    x, y = data.tensors
    x, y = x[rank::world], y[rank::world]
    model.eval()
    with torch.no_grad():
        correct = int((model(x).argmax(dim=1) == y).sum().item())
    model.train()
    return correct, len(y)


def train(epochs: int = 30, batch_size: int = 32, lr: float = 0.1, seed: int = 0) -> dict:
    dist.init_process_group("gloo")  # torch's CPU backend name; in minigrad every backend runs over MPI
    rank, world = dist.get_rank(), dist.get_world_size()
    train_set, test_set = load_data()
    torch.manual_seed(seed + rank)  # different on purpose: DDP copies rank 0's weights to every process
    model = DDP(nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10)))
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    sampler = DistributedSampler(train_set, shuffle=True, seed=seed)
    loader = DataLoader(train_set, batch_size=batch_size, sampler=sampler)

    steps = 0
    start = time.perf_counter()
    for epoch in range(epochs):
        sampler.set_epoch(epoch)  # a new shuffle each epoch, the same on every process
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()  # the gradients are averaged over the processes here
            optimizer.step()
            steps += 1
    seconds = time.perf_counter() - start

    correct, count = evaluate(model.module, test_set, rank, world)
    totals = torch.tensor([correct, count], dtype=torch.int64)
    dist.all_reduce(totals)
    grad_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    per_rank = [torch.zeros(2, dtype=torch.int64) for _ in range(world)]
    dist.all_gather(per_rank, torch.tensor([correct, count], dtype=torch.int64))
    result = {"rank": rank, "world_size": world, "steps": steps, "seconds": seconds,
              "ms_per_step": 1000 * seconds / steps, "per_rank_accuracy": [int(c) / int(n) for c, n in per_rank],
              "test_accuracy": int(totals[0]) / int(totals[1]), "gradient_bytes": grad_bytes,
              "bytes_sent_per_step": 2 * (world - 1) / world * grad_bytes}
    dist.destroy_process_group()
    return result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=32, help="per process")
    parser.add_argument("--lr", type=float, default=0.1)
    args = parser.parse_args(argv)
    r = train(args.epochs, args.batch_size, args.lr)
    if r["rank"] == 0:
        n = r["world_size"]
        print(f"{n} process(es), batch {args.batch_size} each ({n * args.batch_size} per step), "
              f"{r['steps']} steps in {r['seconds']:.2f} s: {r['ms_per_step']:.2f} ms per step")
        for i, acc in enumerate(r["per_rank_accuracy"]):
            print(f"  rank {i}: test accuracy {acc:.2%} on its part of the test set")
        print(f"test accuracy {r['test_accuracy']:.2%} on the whole test set")
        print(f"gradients: {r['gradient_bytes']:,} bytes per step; an all_reduce over a ring sends "
              f"{r['bytes_sent_per_step']:,.0f} bytes per process per step")
    return r


if __name__ == "__main__":
    main()
