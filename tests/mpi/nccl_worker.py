"""Run with ``mpiexec -n 1 python nccl_worker.py OUTDIR`` on a machine with a GPU and CuPy: the NCCL backend.

One process (NCCL refuses two processes on one GPU, and a test machine has one): each collective
goes through NCCL on CuPy arrays, and DDP training on the GPU runs its buckets through NCCL too.
Writes the results to ``nccl.npz``; the test compares them with NumPy and with plain training.
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
from minigrad.nn.parallel import DistributedDataParallel as DDP

out_dir = Path(sys.argv[1])
dist.init_process_group("nccl")
out = {"backend": np.array(dist.get_backend() == "nccl")}
t = minigrad.tensor([1.0, -2.0, 3.0], device="cuda")
dist.all_reduce(t, op=dist.ReduceOp.MAX)
dist.broadcast(t, src=0)
gathered = [minigrad.zeros(3, device="cuda")]
dist.all_gather(gathered, t)
out["collectives"] = gathered[0].cpu().numpy()

minigrad.set_default_dtype(minigrad.float64)
minigrad.manual_seed(0)
model = _common.mlp(nn).to("cuda")
ddp = DDP(model, bucket_cap_mb=1e-3)
opt = minigrad.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
x, y = (minigrad.tensor(a, device="cuda") for a in _common.data())
for _ in range(3):
    opt.zero_grad()
    F.cross_entropy(ddp(x), y).backward()
    opt.step()
for name, p in model.named_parameters():
    out[f"param_{name}"] = p.detach().cpu().numpy()
np.savez(out_dir / "nccl.npz", **out)
dist.destroy_process_group()
