"""``DistributedDataParallel``: the same model on every process, each process a part of the batch.

Data parallelism in three steps, as torch's DDP:

1. At construction, rank 0's parameters and buffers are copied to every process (a broadcast),
   so all replicas start equal.
2. Each process runs forward and backward on its own part of the batch.
3. During backward, as soon as the gradients of a group of parameters (a *bucket*) are final,
   the bucket's gradients are averaged over the processes with one ``all_reduce``. After
   backward every process holds the same averaged gradients, so the same optimizer step keeps
   the replicas equal.

A gradient is final when the engine has added all of it into ``.grad``: each parameter gets a
post-accumulate hook (``Tensor.register_post_accumulate_grad_hook``), run once per backward.
Buckets gather parameters in the reverse of their registration order, which is about the order
backward finishes them, up to ``bucket_cap_mb`` megabytes each: one collective moves many small
gradients, and the first buckets are averaged while backward still runs.

``no_sync()`` skips the averaging, for gradient accumulation: the gradients of several backward
passes add up in ``.grad``, and the first backward after the ``with`` block averages the total.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from ... import distributed as dist
from ..._backend import xp_of
from ..._grad_mode import is_grad_enabled, no_grad
from ...autograd.graph import increment_version
from ..module import Module

_DEFAULT_BUCKET_MB = 25  # torch's default


class _Bucket:
    """Parameters whose gradients are averaged by one ``all_reduce``, and how many are final."""

    def __init__(self, params: list) -> None:
        self.params = params
        self.ready = 0


class DistributedDataParallel(Module):
    """Wrap ``module`` so that backward averages its gradients over all processes (torch's DDP).

    Start the program with MPI (``mpiexec -n 2 python train.py``) and call
    ``minigrad.distributed.init_process_group()`` first. Give each process its own part of the
    data (``minigrad.utils.data.distributed.DistributedSampler``). ``bucket_cap_mb``: the most
    megabytes of gradients one collective moves. ``find_unused_parameters=True``: parameters that
    the forward did not use count as ready with a zero gradient (found by walking the output's
    graph), so their buckets are still averaged. The other arguments of torch's signature are
    accepted; devices are the module's own.

    Differs from torch: ``device_ids``, ``output_device``, ``dim``, ``process_group``, ``check_reduction``,
    ``gradient_as_bucket_view`` and ``static_graph`` are accepted and ignored. The processes are an MPI job,
    and the gradients are averaged over all of them (the default group).
    """

    def __init__(self, module: Module, device_ids: Any = None, output_device: Any = None, dim: int = 0,
                 broadcast_buffers: bool | None = None, init_sync: bool = True, process_group: Any = None,
                 bucket_cap_mb: float | None = None, find_unused_parameters: bool = False,
                 check_reduction: bool = False, gradient_as_bucket_view: bool = False, static_graph: bool = False,
                 **kwargs: Any) -> None:
        super().__init__()
        self.module = module
        self.broadcast_buffers = True if broadcast_buffers is None else broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.require_backward_grad_sync = True
        self.world_size = dist.get_world_size()
        params = [p for p in dict.fromkeys(module.parameters()) if p.requires_grad]  # a tied weight once
        if init_sync:
            self._broadcast_states(params)
        cap = (_DEFAULT_BUCKET_MB if bucket_cap_mb is None else bucket_cap_mb) * 1024 * 1024
        self._buckets = _make_buckets(list(reversed(params)), cap)
        self._bucket_of = {id(p): b for b in self._buckets for p in b.params}
        self._hooks = [p.register_post_accumulate_grad_hook(self._on_final_grad) for p in params]
        self._expecting = False  # a backward has started averaging and not finished
        self._next = 0  # the next bucket to average: every process averages them in the same order

    def _broadcast_states(self, params: list) -> None:
        """Rank 0's parameters and buffers, copied into every process's (in place)."""
        with no_grad():
            for t in (*params, *self.module.buffers()):
                dist.broadcast(t, src=0)

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        if self._expecting and any(b.ready for b in self._buckets):
            raise RuntimeError(
                "Expected to have finished reduction in the prior iteration before starting a new one. This error "
                "indicates that your module has parameters that were not used in producing loss. You can enable "
                "unused parameter detection by passing the keyword argument `find_unused_parameters=True` to "
                "`minigrad.nn.parallel.DistributedDataParallel`, and by making sure all `forward` function outputs "
                "participate in calculating loss.")
        if self.broadcast_buffers and self.world_size > 1:
            with no_grad():
                for b in self.module.buffers():
                    dist.broadcast(b, src=0)
        for bucket in self._buckets:
            bucket.ready = 0
        self._next = 0
        output = self.module(*inputs, **kwargs)
        self._expecting = is_grad_enabled() and self.require_backward_grad_sync
        if self._expecting and self.find_unused_parameters:
            used = _leaves_reached(output)
            for p in (p for b in self._buckets for p in b.params):
                if id(p) not in used:
                    self._on_final_grad(p)
        return output

    def _on_final_grad(self, param: Any) -> None:
        """A parameter's gradient is final for this backward: average the buckets that are complete.

        Buckets are averaged in their order only, the same on every process: MPI pairs the processes'
        collectives by their order, so a process that completed bucket 1 before bucket 0 (another order
        of the graph, an unused parameter) must still average bucket 0 first.
        """
        if not self.require_backward_grad_sync:
            return
        self._bucket_of[id(param)].ready += 1
        buckets = self._buckets
        while self._next < len(buckets) and buckets[self._next].ready == len(buckets[self._next].params):
            self._average(buckets[self._next])
            self._next += 1
        if self._next == len(buckets):
            self._expecting = False

    def _average(self, bucket: _Bucket) -> None:
        """One ``all_reduce`` of the bucket's gradients, laid end to end, then each divided by the world size."""
        params = bucket.params
        like = params[0]._data
        xp = xp_of(like)
        flat = params[0]._wrap(xp.concatenate([xp.zeros(p._data.size, dtype=like.dtype) if p.grad is None
                                               else p.grad._data.reshape(-1) for p in params]))
        dist.all_reduce(flat, dist.ReduceOp.SUM)
        flat = flat._data
        flat /= self.world_size
        start = 0
        for p in bucket.params:
            n = p._data.size
            if p.grad is None:  # unused here (find_unused_parameters): another process may have used it
                p.grad = p._wrap(flat[start:start + n].reshape(p._data.shape).copy())
            else:  # in place: .grad stays the tensor the user may hold
                p.grad._data[...] = flat[start:start + n].reshape(p._data.shape)
                increment_version(p.grad)
            start += n

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Backward passes inside the block only add into ``.grad``; the next one outside averages the total."""
        before = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = before


def _make_buckets(params: list, cap_bytes: float) -> list:
    """Consecutive parameters grouped up to ``cap_bytes`` of gradients each (a larger one alone)."""
    buckets: list = []
    current: list = []
    size = 0
    for p in params:
        nbytes = p._data.nbytes
        if current and size + nbytes > cap_bytes:
            buckets.append(_Bucket(current))
            current, size = [], 0
        current.append(p)
        size += nbytes
    if current:
        buckets.append(_Bucket(current))
    return buckets


def _leaves_reached(output: Any) -> set:
    """The ids of the leaf tensors whose gradients ``output``'s graph reaches."""
    outputs = output if isinstance(output, (list, tuple)) else [output]
    stack = [t.grad_fn for t in outputs if getattr(t, "grad_fn", None) is not None]
    seen, leaves = set(), set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for nxt, _ in node.next_functions:
            if nxt is None:
                continue
            leaf = getattr(nxt, "variable", None)
            if leaf is not None:
                leaves.add(id(leaf))
            else:
                stack.append(nxt)
    return leaves
