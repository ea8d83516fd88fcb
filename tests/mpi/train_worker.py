"""Run with ``mpiexec -n 2 python train_worker.py OUTDIR``: DistributedDataParallel training, float64.

Writes ``OUTDIR/train_rank<r>.npz``:

* for each of ``_common.TRAIN_CONFIGS`` (SGD with momentum / Adam, one bucket / several): the
  parameters before wrapping (each rank seeds differently), after wrapping, and after every
  optimizer step, the indices the DistributedSampler gave, and the number of buckets;
* no_sync: the gradients after two micro-batches inside ``no_sync`` and after a third outside;
* a module with a buffer: the buffer after wrapping, and after a forward once rank 1 changed its own.
"""

from __future__ import annotations

import sys
from pathlib import Path

import _common
import numpy as np

import minigrad
import minigrad.distributed as dist
import minigrad.nn as nn
import minigrad.nn.functional as F
import minigrad.optim as optim
from minigrad.nn.parallel import DistributedDataParallel as DDP
from minigrad.utils.data import DataLoader, TensorDataset
from minigrad.utils.data.distributed import DistributedSampler

out_dir = Path(sys.argv[1])
minigrad.set_default_dtype(minigrad.float64)
dist.init_process_group("mpi")
rank = dist.get_rank()
X, y = _common.data()
dataset = TensorDataset(minigrad.tensor(X), minigrad.tensor(y))
out: dict[str, np.ndarray] = {}


def params(module) -> list[np.ndarray]:
    return [p.detach().numpy().copy() for p in module.parameters()]


for name, cap in _common.TRAIN_CONFIGS:
    key = _common.config_name(name, cap)
    minigrad.manual_seed(100 + rank)  # a different initialization on each rank: DDP must replace it
    model = _common.mlp(nn)
    for i, p in enumerate(params(model)):
        out[f"{key}_pre_{i}"] = p
    ddp = DDP(model, bucket_cap_mb=cap)
    out[f"{key}_nbuckets"] = np.array(len(ddp._buckets))
    for i, p in enumerate(params(model)):
        out[f"{key}_post_{i}"] = p
    opt = _common.optimizer(optim, name, ddp.parameters())
    sampler = DistributedSampler(dataset, shuffle=False)  # rank and world size from the process group
    loader = DataLoader(dataset, batch_size=_common.BATCH, sampler=sampler)
    steps: list[list[np.ndarray]] = []
    batches: list[np.ndarray] = []
    for epoch in range(_common.EPOCHS):
        sampler.set_epoch(epoch)
        out[f"{key}_indices_{epoch}"] = np.array(list(sampler))
        for xb, yb in loader:
            batches.append(xb.numpy().copy())
            opt.zero_grad()
            loss = F.cross_entropy(ddp(xb), yb)
            loss.backward()
            opt.step()
            steps.append(params(model))
    if rank == 0 and key == "adam_one":  # rank 0 saves, as DDP scripts do: the wrapped module's and the optimizer's
        minigrad.save({"model": ddp.module.state_dict(), "optimizer": opt.state_dict()}, out_dir / "checkpoint.pt")
    out[f"{key}_nsteps"] = np.array(len(steps))
    out[f"{key}_batches"] = np.concatenate(batches)
    for i in range(len(steps[0])):
        out[f"{key}_steps_{i}"] = np.stack([s[i] for s in steps])

# no_sync: 2 micro-batches accumulate locally, the 3rd backward averages the total.
minigrad.manual_seed(7 + rank)
model = _common.mlp(nn)
ddp = DDP(model)
for i, p in enumerate(params(model)):
    out[f"nosync_init_{i}"] = p
xs, ys = minigrad.tensor(X), minigrad.tensor(y)


def micro_backward(micro: int) -> None:
    rows = _common.nosync_rows(rank, micro)
    (F.cross_entropy(ddp(xs[rows]), ys[rows]) / 3).backward()


with ddp.no_sync():
    micro_backward(0)
    micro_backward(1)
for i, p in enumerate(model.parameters()):
    out[f"nosync_inside_{i}"] = p.grad.numpy().copy()
micro_backward(2)
for i, p in enumerate(model.parameters()):
    out[f"nosync_after_{i}"] = p.grad.numpy().copy()


# Buffers: rank 0's reach every rank at construction, and again at each forward (broadcast_buffers).
class WithBuffer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(2, 2)
        self.register_buffer("stat", minigrad.full((3,), float(rank + 1)))

    def forward(self, x):
        return self.lin(x) * self.stat.sum()


buffered = WithBuffer()
out["buffer_pre"] = buffered.stat.numpy().copy()
ddp = DDP(buffered)
out["buffer_post"] = buffered.stat.numpy().copy()
with minigrad.no_grad():
    if rank == 1:
        buffered.stat.fill_(42.0)
    ddp(minigrad.ones(1, 2))
out["buffer_after_forward"] = buffered.stat.numpy().copy()
out["state_dict_keys"] = np.array(list(ddp.state_dict()))

dist.destroy_process_group()
np.savez(out_dir / f"train_rank{rank}.npz", **out)
