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
  its backward formula needs (``_scratch`` below).

The largest total is the backward peak. See docs/memory.md for the whole step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy

from ..autograd.function import AccumulateGrad
from ..tensor import Tensor
from .activations import node_arrays, owner

# How an op's backward makes each input's gradient from its output's gradient g:
# "view": a view of g (no new memory); "pass": g itself (new memory only where a
# broadcast input needs it summed back); any other op: a new array of the input's size.
GRAD_KIND: dict[str, tuple] = {
    "Add": ("pass", "pass"),
    "Sub": ("pass", "new"),
    "Expand": ("pass",),
    "Clone": ("pass",),
    "To": ("pass",),
    "Reshape": ("view",),
    "Permute": ("view",),
    "Sum": ("view",),
}


# Inputs whose gradient the op's backward writes straight into the parameter's slot in its
# optimizer's flat buffer (Node.grad_destination) when that is where it goes: no new memory.
WRITES_INTO_SLOT: dict[str, tuple] = {"Addmm": (1, 2)}


@dataclass
class _Grad:
    """A gradient array in flight; several pending slots may share one (pass-through)."""

    shape: tuple
    nbytes: int
    users: int = 0


def _new_grad(meta: tuple) -> _Grad:
    shape, dtype = meta
    return _Grad(tuple(shape), math.prod(shape) * dtype.itemsize)


# NumPy reuses a temporary in place for `t * a` (t a temporary, a an array) once t holds at
# least this many bytes ("temporary elision"), which saves one temporary in most formulas.
ELISION_BYTES = 256 * 1024


def _scratch(node: Any, g: _Grad) -> int:
    """Bytes of temporary arrays inside ``node``'s backward formula, besides its results.

    ``g`` is the gradient of the node's output, so it has the output's shape and dtype.
    """
    name = node.fn.__name__ if node.fn is not None else ""
    n = math.prod(g.shape)
    itemsize = g.nbytes // n if n else 0
    # Multiplying g by a boolean mask casts the mask to g's dtype one buffer at a time.
    cast = min(n, numpy.getbufsize()) * itemsize
    if name == "Relu":
        return n + cast  # g * (out > 0): the mask, one byte per element, and its cast
    if name == "NativeDropout":
        return cast  # g * mask, the mask being saved already
    if name in ("Tanh", "Sigmoid", "LogSoftmax", "Softmax", "Pow"):
        # g * (1 - out * out) and the like: two temporaries, or one when the last product
        # can be written into a temporary
        return g.nbytes if g.nbytes >= ELISION_BYTES else 2 * g.nbytes
    if name == "Mean":
        return g.nbytes  # g / count, then a broadcast view of it
    if name == "CrossEntropy":
        shape, dtype = node.input_meta[0]
        return math.prod(shape) * dtype.itemsize  # a copy of the probabilities, minus one at the targets
    return 0


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
            for a in node_arrays(node):
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


def backward_peak(root: Tensor, params: list[Tensor], held: list[Any], slots: bool = True) -> tuple[int, int]:
    """(bytes alive when backward starts, most bytes alive during backward).

    Parameters and optimizer state are left out (the caller adds them); counted
    are the saved buffers, the arrays in ``held`` (what the caller keeps through
    the step: the batch, the model's output, the loss), the gradients of
    activations and the scratch space of each node's backward.

    ``slots``: the parameters' gradients already have their storage (an optimizer's
    flat buffer, counted by the caller), and each new gradient is copied into it, or
    written there by the op itself (``WRITES_INTO_SLOT``).
    Otherwise each parameter's first gradient array becomes its ``.grad`` and is
    counted here, from the moment it is made.
    """
    param_ids = {id(owner(p._data)) for p in params}
    pinned = {id(owner(a)): int(owner(a).nbytes) for a in held}
    start = root.grad_fn
    if start is None:
        total = sum(pinned.values())
        return total, total

    dependencies, holds, refs, sizes = _graph(start, param_ids)
    sizes.update(pinned)
    live_saved = sum(n for key, n in sizes.items() if refs.get(key, 0) > 0 or key in pinned)
    first = _Grad(tuple(root.shape), root.nbytes, 1)
    pending: dict[Any, list] = {start: [first]}
    in_flight = first.nbytes
    begin = peak = live_saved + in_flight
    ready = [start]
    lingering: list = []
    graded: set = set()  # the parameters whose .grad exists by now
    kept = 0
    while ready:
        node = ready.pop()
        buf = pending.pop(node, [])
        if type(node) is AccumulateGrad:
            for g in buf:
                if g is not None:
                    freed = _drop(g)
                    in_flight -= freed
                    if not slots and node not in graded:
                        # the array becomes the parameter's .grad and stays
                        graded.add(node)
                        kept += g.nbytes
                        g.users = -2
            continue
        g_out = next((g for g in buf if g is not None), None)
        kinds = GRAD_KIND.get(node.fn.__name__, ())
        in_place = WRITES_INTO_SLOT.get(node.fn.__name__, ()) if slots else ()
        produced: list = []
        new_bytes = 0
        for i, edge in enumerate(node.next_edges):
            if edge is None or g_out is None:
                produced.append(None)
                continue
            if i in in_place and type(edge[0]) is AccumulateGrad and edge[0] not in graded:
                graded.add(edge[0])  # its first gradient goes into the slot; a second one is new memory
                produced.append(None)
                continue
            kind = kinds[i] if i < len(kinds) else "new"
            if kind == "view" or (kind == "pass" and tuple(node.input_meta[i][0]) == g_out.shape):
                produced.append(g_out)
            else:
                g = _new_grad(node.input_meta[i])
                new_bytes += g.nbytes
                produced.append(g)
        if g_out is not None:
            # The engine still holds the previous node's results while this one runs.
            stale = sum({id(g): g.nbytes for g in lingering if -1 <= g.users <= 0}.values())
            peak = max(peak, live_saved + in_flight + kept + new_bytes + stale + _scratch(node, g_out))
            lingering = [g for g in produced if g is not None]

        # The node has run: its saved buffers go, its new gradients move on to the next nodes.
        for key in holds.get(node, ()):
            refs[key] -= 1
            if refs[key] == 0 and key not in pinned:
                live_saved -= sizes[key]
        in_flight += new_bytes
        for edge, g in zip(node.next_edges, produced):
            if edge is None:
                continue
            nxt, k = edge
            waiting = pending.setdefault(nxt, [None] * max(nxt.n_outputs, k + 1))
            if g is not None and waiting[k] is None:
                g.users += 1
                waiting[k] = g
            # (a gradient arriving where one already waits is added into it, then freed below)
            dependencies[nxt] -= 1
            if dependencies[nxt] == 0:
                ready.append(nxt)
        for g in buf:
            if g is not None:
                in_flight -= _drop(g)
        for g in produced:
            if g is not None and g.users == 0 and all(g is not b for b in buf):
                in_flight -= g.nbytes
                g.users = -1  # freed: not to be subtracted twice
    return begin, peak


def _drop(g: _Grad) -> int:
    """Release one use of ``g``; the bytes freed (its size when nobody uses it any more)."""
    g.users -= 1
    return g.nbytes if g.users == 0 else 0
