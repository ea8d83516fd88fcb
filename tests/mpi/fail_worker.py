"""Run with ``mpiexec -n 2 python fail_worker.py MODE``: rank 1 fails, rank 0 goes on to a collective.

MODE ``raise``: rank 1 raises RuntimeError after init_process_group, before an all_reduce that rank 0
has entered. MODE ``exit``: rank 1 calls ``sys.exit(3)`` there instead. Rank 0 prints
``RANK0-PASSED-ALL_REDUCE`` if its all_reduce ever returns (it must not: rank 1 never joins).
"""

from __future__ import annotations

import sys

import minigrad
import minigrad.distributed as dist

mode = sys.argv[1]
dist.init_process_group("mpi")
rank = dist.get_rank()
print(f"rank {rank} initialized", flush=True)
t = minigrad.ones(3)
if rank == 1:
    if mode == "exit":
        sys.exit(3)
    raise RuntimeError("rank 1 fails on purpose before all_reduce")
dist.all_reduce(t)
print("RANK0-PASSED-ALL_REDUCE", flush=True)
