"""Run as a plain ``python single_worker.py`` (no mpiexec: MPI's singleton init, world size 1).

Prints one JSON object: the errors of minigrad.distributed before init and on a second init,
rank and size, and the state_dict keys of DistributedDataParallel around ``_common.mlp``.
"""

from __future__ import annotations

import json

import _common

import minigrad.distributed as dist
import minigrad.nn as nn
from minigrad.nn.parallel import DistributedDataParallel as DDP


def error_of(fn) -> list[str] | None:
    try:
        fn()
    except Exception as exc:  # noqa: BLE001
        return [type(exc).__name__, str(exc)]
    return None


result: dict = {"initialized_before": dist.is_initialized(),
                "get_rank_before": error_of(dist.get_rank),
                "get_world_size_before": error_of(dist.get_world_size),
                "all_reduce_before": error_of(lambda: dist.all_reduce(nn.Linear(1, 1).weight.detach()))}
dist.init_process_group("gloo")
result.update(rank=dist.get_rank(), size=dist.get_world_size(), initialized=dist.is_initialized(),
              init_twice=error_of(lambda: dist.init_process_group("gloo")))
ddp = DDP(_common.mlp(nn))
result["state_dict_keys"] = list(ddp.state_dict())
result["module_state_dict_keys"] = list(ddp.module.state_dict())
dist.destroy_process_group()
result["initialized_after_destroy"] = dist.is_initialized()
dist.init_process_group("mpi")  # after destroy, a new group may be made (torch allows it too)
result["reinit_rank"] = dist.get_rank()
dist.destroy_process_group()
print(json.dumps(result))
