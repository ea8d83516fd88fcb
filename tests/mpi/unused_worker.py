"""Run with ``mpiexec -n 2 python unused_worker.py OUTDIR``: DDP with a parameter that a forward skips.

Rank 1 skips ``b`` (``_common.skip_model``), rank 0 uses it. Each part writes its own file as soon as
it is done (``unused_<part>_rank<r>.npz``), so that a later part that fails cannot take the
earlier results with it:

* ``one``: find_unused_parameters=True, one bucket, two iterations: the gradients after each backward;
* ``error``: find_unused_parameters=False, both ranks skip ``b``: the error of the next forward;
* ``small``: find_unused_parameters=True with one bucket per parameter, two iterations.
"""

from __future__ import annotations

import sys
from pathlib import Path

import _common
import numpy as np

import minigrad
import minigrad.distributed as dist
import minigrad.nn as nn
from minigrad.nn.parallel import DistributedDataParallel as DDP

out_dir = Path(sys.argv[1])
minigrad.set_default_dtype(minigrad.float64)
dist.init_process_group("mpi")
rank = dist.get_rank()


def run(part: str, cap: float | None) -> None:
    minigrad.manual_seed(rank)
    model = _common.skip_model(nn)
    ddp = DDP(model, find_unused_parameters=True, bucket_cap_mb=cap)
    out = {"nbuckets": np.array(len(ddp._buckets))}
    for name, p in model.named_parameters():
        out[f"init_{name}"] = p.detach().numpy().copy()
    for step in range(2):
        model.zero_grad()
        x = minigrad.tensor(_common.skip_input(rank, step))
        ddp(x, use_b=(rank == 0)).pow(2).mean().backward()
        for name, p in model.named_parameters():
            out[f"grad{step}_{name}"] = p.grad.numpy().copy()
    np.savez(out_dir / f"unused_{part}_rank{rank}.npz", **out)


run("one", None)

# Without find_unused_parameters, a parameter left out of the loss (here on every rank, as in
# torch's own case) leaves the reduction unfinished: the next forward says so.
minigrad.manual_seed(rank)
ddp = DDP(_common.skip_model(nn))
x = minigrad.tensor(_common.skip_input(rank, 0))
ddp(x, use_b=False).pow(2).mean().backward()
try:
    ddp(x, use_b=False)
    error = ["", ""]
except Exception as exc:  # noqa: BLE001
    error = [type(exc).__name__, str(exc)]
np.savez(out_dir / f"unused_error_rank{rank}.npz", kind=np.array(error[0]), message=np.array(error[1]))

run("small", 0.00001)  # 10 bytes: every parameter its own bucket
dist.destroy_process_group()
