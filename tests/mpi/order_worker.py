"""Run with ``mpiexec -n 2 python order_worker.py OUTDIR``: the ranks run their layers in different orders.

Rank 0 computes ``b(a(x))``, rank 1 ``a(b(x))``, with one bucket per parameter: rank 0's backward
finishes ``a``'s gradient last, rank 1's first. DDP must still average the buckets in the same order
on both ranks (MPI pairs collectives by order), or the gradients of ``a`` and ``b`` get mixed up.
Each rank writes its gradients after one backward to ``order_rank<r>.npz``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import minigrad
import minigrad.distributed as dist
import minigrad.nn as nn
from minigrad.nn.parallel import DistributedDataParallel as DDP

out_dir = Path(sys.argv[1])
dist.init_process_group("mpi")
rank = dist.get_rank()


class TwoOrders(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(2, 2, bias=False)
        self.b = nn.Linear(2, 2, bias=False)

    def forward(self, x: minigrad.Tensor) -> minigrad.Tensor:
        return self.b(self.a(x)) if rank == 0 else self.a(self.b(x))


model = TwoOrders().double()
with minigrad.no_grad():
    model.a.weight.fill_(1.0)
    model.b.weight.fill_(2.0)
ddp = DDP(model, bucket_cap_mb=1e-6)  # one bucket per parameter
x = minigrad.ones(1, 2, dtype=minigrad.float64) * (rank + 1)
ddp(x).sum().backward()
np.savez(out_dir / f"order_rank{rank}.npz", nbuckets=len(ddp._buckets), a=model.a.weight.grad.numpy(),
         b=model.b.weight.grad.numpy())
dist.destroy_process_group()
