"""Run with ``mpiexec -n 2 python collectives_worker.py OUTDIR``: each rank runs minigrad.distributed's
collectives on the known inputs of ``_common.collective_inputs(rank)`` and writes what it got to
``OUTDIR/collectives_rank<r>.npz`` (arrays) and ``.json`` (everything else). The test compares them with NumPy."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import _common
import numpy as np

import minigrad
import minigrad.distributed as dist

out_dir = Path(sys.argv[1])
dist.init_process_group("gloo")  # torch's CPU backend name: means MPI in minigrad
rank, size = dist.get_rank(), dist.get_world_size()
inputs = _common.collective_inputs(rank)
arrays: dict[str, np.ndarray] = {}
info: dict = {"rank": rank, "size": size, "backend": dist.get_backend(), "initialized": dist.is_initialized()}

ops = {"sum": dist.ReduceOp.SUM, "avg": dist.ReduceOp.AVG, "max": dist.ReduceOp.MAX, "min": dist.ReduceOp.MIN,
       "product": dist.ReduceOp.PRODUCT}
for kind, x in inputs.items():
    for name, op in ops.items():
        t = minigrad.tensor(x.copy())
        ret = dist.all_reduce(t, op=op)
        arrays[f"all_reduce_{name}_{kind}"] = t.numpy().copy()
        info[f"all_reduce_{name}_{kind}_returned"] = repr(ret)
    for src in (0, 1):
        t = minigrad.tensor(x.copy())
        dist.broadcast(t, src=src)
        arrays[f"broadcast_{src}_{kind}"] = t.numpy().copy()
    gathered = [minigrad.zeros(*x.shape, dtype=minigrad.tensor(x).dtype) for _ in range(size)]
    dist.all_gather(gathered, minigrad.tensor(x.copy()))
    arrays[f"all_gather_{kind}"] = np.stack([g.numpy() for g in gathered])
    for name in ("sum", "max"):
        t = minigrad.tensor(x.copy())
        dist.reduce(t, dst=1, op=ops[name])
        arrays[f"reduce_{name}_{kind}"] = t.numpy().copy()

# The default op is SUM, and the result is in place: a tensor already held sees it.
t = minigrad.tensor(inputs["f64"].copy())
alias = t
dist.all_reduce(t)
arrays["all_reduce_default_f64"] = alias.numpy().copy()

# async_op=True: a Work that has finished.
t = minigrad.tensor(inputs["f64"].copy())
work = dist.all_reduce(t, op=dist.ReduceOp.SUM, async_op=True)
info["async_wait"] = work.wait()
info["async_is_completed"] = work.is_completed()
arrays["all_reduce_async_f64"] = t.numpy().copy()
info["barrier_async_wait"] = dist.barrier(async_op=True).wait()
info["broadcast_async_wait"] = dist.broadcast(minigrad.tensor(inputs["f64"].copy()), src=0, async_op=True).wait()

dist.barrier()
dist.destroy_process_group()
info["initialized_after_destroy"] = dist.is_initialized()
np.savez(out_dir / f"collectives_rank{rank}.npz", **arrays)
(out_dir / f"collectives_rank{rank}.json").write_text(json.dumps(info))
