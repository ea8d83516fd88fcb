"""The peak of backward, predicted by replaying the engine over the recorded graph.

"Parameters + gradients + optimizer state + saved activations" adds up things
that are not all alive at the same moment, and leaves out what backward itself
allocates: the gradient of every activation is as large as the activation. This
module walks the graph the forward pass recorded, in the order the engine
(minigrad/autograd/engine.py) runs it, and keeps count of

* the saved buffers still held by nodes that have not run yet (a node drops its
  saved arrays right after its backward);
* the gradients in flight: produced by a node, waiting for the next one;
* what the running node allocates: its input gradients, and the scratch arrays
  its backward formula needs;
* the parameters' gradients, from the moment each one is made.

The largest total is the backward peak. See docs/memory.md for the whole step.

What each op's backward allocates is written next to that backward, on its op
class (``grad_kinds`` and ``backward_scratch``, described in minigrad/ops/_base.py);
a user's ``Function`` states nothing, so each of its gradients counts as a new
array and its scratch as 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..autograd.graph import AccumulateGrad
from ..ops._base import Op
from ..tensor import Tensor
from ..utils.checkpoint import held_for_recomputation, refill
from .activations import node_arrays, owner


@dataclass(eq=False)
class _Grad:
    """A gradient array in flight; ``refs``: the pending slots and engine variables that hold it."""

    shape: tuple
    nbytes: int
    refs: int = 0


def _new_grad(meta: tuple) -> _Grad:
    shape, dtype = meta
    return _Grad(tuple(shape), math.prod(shape) * dtype.itemsize)


def _grad_kinds(node: Any) -> tuple:
    """Per input of ``node``: "view", "pass" or "new" (see ``Op``)."""
    fn = node.fn
    return fn.grad_kinds if issubclass(fn, Op) else ()


def _scratch(node: Any, g: _Grad) -> int:
    """Bytes of temporary arrays inside ``node``'s backward, for the gradient ``g`` of its output."""
    fn = node.fn
    return fn.backward_scratch(node, g.nbytes, math.prod(g.shape)) if issubclass(fn, Op) else 0


def _graph(start: Any, param_ids: set) -> tuple[dict, dict, dict, dict]:
    """Per node: how many edges point at it (as the engine counts them), and the buffers it holds."""
    dependencies: dict[Any, int] = {}
    holds: dict[Any, list[int]] = {}
    refs: dict[int, int] = {}
    sizes: dict[int, int] = {}
    stack = [start]
    visited = {start}
    while stack:
        node = stack.pop()
        if type(node) is not AccumulateGrad:
            mine = {}
            for a in (*node_arrays(node), *held_for_recomputation(node)):
                base = owner(a)
                if id(base) not in param_ids:
                    mine[id(base)] = int(base.nbytes)
            holds[node] = list(mine)
            for key, nbytes in mine.items():
                refs[key] = refs.get(key, 0) + 1
                sizes[key] = nbytes
        for edge in node.next_edges:
            if edge is not None:
                nxt = edge[0]
                dependencies[nxt] = dependencies.get(nxt, 0) + 1
                if nxt not in visited:
                    visited.add(nxt)
                    stack.append(nxt)
    return dependencies, holds, refs, sizes


def _refilled(holds: dict, refs: dict, sizes: dict, param_ids: set) -> int:
    """Count the buffers that nodes holding nothing until now hold after a recomputation; their new bytes."""
    added = 0
    for node, held in holds.items():
        if held:
            continue
        mine = {}
        for a in node_arrays(node):
            base = owner(a)
            if id(base) not in param_ids:
                mine[id(base)] = int(base.nbytes)
        holds[node] = list(mine)
        for key, nbytes in mine.items():
            if refs.get(key, 0) == 0:
                added += nbytes
            refs[key] = refs.get(key, 0) + 1
            sizes[key] = nbytes
    return added


class _Count:
    """What is alive during the replay, besides the saved buffers: gradients in flight, parameters' ``.grad``."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.kept = 0

    def new(self, g: _Grad) -> _Grad:
        g.refs += 1
        if g.refs == 1:
            self.in_flight += g.nbytes
        return g

    def hold(self, g: _Grad) -> _Grad:
        g.refs += 1
        return g

    def release(self, g: _Grad | None) -> None:
        if g is not None:
            g.refs -= 1
            if g.refs == 0:
                self.in_flight -= g.nbytes


def backward_peak(root: Tensor, params: list[Tensor], held: list[Any],
                  trace: list[tuple[str, int]] | None = None) -> tuple[int, int]:
    """(bytes alive when backward starts, most bytes alive during backward).

    ``trace``: a list to which the replay appends ``(what runs, bytes alive)`` at every moment it
    counts, node by node (``"start"`` first): the running total that ``plot_step()`` draws. Its
    largest value is the peak returned.

    Parameters and optimizer state are left out (the caller adds them); counted are the saved
    buffers, the arrays in ``held`` (what the caller keeps through the step: the batch, the
    model's output, the loss), the gradient ``backward()`` starts from, the gradients of
    activations, the scratch space of each node's backward, and the parameters' gradients from
    the moment each is made (``zero_grad()`` left them at None: each becomes a new ``.grad``).

    The replay follows the engine's ownership rule (minigrad/autograd/engine.py): a gradient the
    engine made (an op's new array, or a sum) becomes ``.grad`` as it is, and two gradients meeting
    are added in place into it; a gradient it was handed (passed through unchanged, or a view) is
    copied into ``.grad``, and a sum with it is a new array.
    """
    param_ids = {id(owner(p._data)) for p in params}
    pinned = {id(owner(a)): int(owner(a).nbytes) for a in held}
    start = root.grad_fn
    if start is None:
        total = sum(pinned.values())
        if trace is not None:
            trace.append(("start", total))
        return total, total

    dependencies, holds, refs, sizes = _graph(start, param_ids)
    sizes.update(pinned)
    live_saved = sum(n for key, n in sizes.items() if refs.get(key, 0) > 0 or key in pinned)
    count = _Count()
    # The caller's gradient (ones for a scalar loss) stays referenced by the caller until backward returns.
    first = count.new(_Grad(tuple(root.shape), root.nbytes))
    pending: dict[tuple, tuple] = {(start, root._output_nr): (count.hold(first), False)}
    begin = peak = live_saved + count.in_flight
    if trace is not None:
        trace.append(("start", begin))

    def see(node: Any, alive: int) -> None:
        """One moment of the replay: the peak so far, and the running total for ``trace``."""
        nonlocal peak
        peak = max(peak, alive)
        if trace is not None:
            trace.append((node.name(), alive))

    ready = [start]
    lingering: _Grad | None = None  # the engine's loop variable still holds the last gradient a leaf copied

    while ready:
        node = ready.pop()
        if type(node) is AccumulateGrad:
            count.release(lingering)
            lingering = None
            g, owned = pending.pop((node, 0), (None, False))
            if g is None:
                continue
            if owned and g.refs == 1:
                g.refs = 0  # it becomes the parameter's .grad: it stays, counted from now on as kept
                count.in_flight -= g.nbytes
                count.kept += g.nbytes
            else:
                count.kept += g.nbytes  # a copy
                lingering = g
            see(node, live_saved + count.in_flight + count.kept)
            continue

        if refill(node):  # a checkpointed block: backward recomputes its saved arrays just before this node
            live_saved += _refilled(holds, refs, sizes, param_ids)
            see(node, live_saved + count.in_flight + count.kept)
        ins = [pending.pop((node, k), (None, False))[0] for k in range(node.n_outputs)]
        produced: list = [None] * len(node.next_edges)
        scratch = 0
        if any(g is not None for g in ins):
            if node.n_outputs > 1:  # outputs that got no gradient get zeros
                ins = [count.new(_new_grad(meta)) if g is None else g for g, meta in zip(ins, node.output_meta)]
            g_out = next(g for g in ins if g is not None)
            kinds = _grad_kinds(node)
            for i, edge in enumerate(node.next_edges):
                if edge is None:
                    continue
                kind = kinds[i] if i < len(kinds) else "new"
                if kind == "view" or (kind == "pass" and tuple(node.input_meta[i][0]) == g_out.shape):
                    produced[i] = count.hold(g_out)
                else:
                    produced[i] = count.new(_new_grad(node.input_meta[i]))
            scratch = _scratch(node, g_out)
        see(node, live_saved + count.in_flight + count.kept + scratch)
        count.release(lingering)
        lingering = None

        # The node has run: its saved buffers go, its gradients move on to the next nodes.
        for key in holds.get(node, ()):
            refs[key] -= 1
            if refs[key] == 0 and key not in pinned:
                live_saved -= sizes[key]
        for edge, g in zip(node.next_edges, produced):
            if edge is None:
                continue
            if g is not None:
                waiting = pending.get(edge)
                if waiting is None:
                    pending[edge] = (count.hold(g), all(g is not h for h in ins))
                elif not waiting[1]:  # not the engine's to add into: the sum is a new array
                    total = count.new(_Grad(waiting[0].shape, waiting[0].nbytes))
                    see(node, live_saved + count.in_flight + count.kept)
                    count.release(waiting[0])
                    pending[edge] = (total, True)
            nxt = edge[0]
            dependencies[nxt] -= 1
            if dependencies[nxt] == 0:
                ready.append(nxt)
        for g in (*ins, *produced):
            count.release(g)
    return begin, peak
