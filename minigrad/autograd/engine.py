"""Reverse-mode backward pass over the recorded graph, without recursion.

1. Walk the graph from the roots once (an explicit stack) and count, for every
   node, how many edges point at it.
2. Run nodes in an order where a node runs only after every node that feeds it
   a gradient has run: a node becomes ready when its count drops to zero.
   Gradients arriving at the same node from several paths are summed first,
   so ``b = a + a`` gives ``a.grad == 2``.
3. After a node has run, its saved arrays are released unless ``retain_graph``.

A leaf's ``AccumulateGrad`` node only adds into ``leaf.grad``, and addition does not
care about order, so a gradient for a leaf is added as soon as it arrives; only leaves
with hooks wait for their total, since torch calls a leaf's hooks once, with the sum.
"""

from __future__ import annotations

from typing import Any

from .function import AccumulateGrad, Node


def run_backward(roots: list, grads: list, retain_graph: bool) -> None:
    """Backpropagate ``grads`` (arrays) from the tensors ``roots`` to every leaf."""
    # Gradients that have arrived for each node, one slot per output.
    pending: dict[Node, list] = {}
    # Arrays that someone else may still read: the caller's gradient, and gradients an op passed on
    # unchanged (``a + b`` hands its gradient to both inputs). A second gradient arriving for the same
    # slot is added into the first in place only if the first is fresh: not borrowed, not a view.
    borrowed: set[int] = set()
    start = []
    for t, g in zip(roots, grads):
        node, k = t._edge()
        borrowed.add(id(g))
        buf = pending.setdefault(node, [None] * node.n_outputs)
        _arrive(buf, k, g, borrowed)
        start.append(node)
    start = list(dict.fromkeys(start))

    # How many edges point at each node: it may run only once all of them have delivered. A leaf
    # takes its gradients as they arrive (addition does not care about order), unless it has hooks:
    # torch calls a leaf's hooks once, with the total.
    dependencies: dict[Node, int] = {}
    stack = list(start)
    while stack:
        for edge in stack.pop().next_edges:
            if edge is None:
                continue
            nxt = edge[0]
            if type(nxt) is AccumulateGrad and not nxt.waits_for_total():
                continue
            if nxt in dependencies:
                dependencies[nxt] += 1
            else:
                dependencies[nxt] = 1
                stack.append(nxt)

    ready = [n for n in start if n not in dependencies]
    while ready:
        node = ready.pop()
        grads = pending.pop(node)
        if type(node) is AccumulateGrad:
            g = grads[0]
            if g is not None:
                node.accumulate(g, g.base is None and id(g) not in borrowed)
            continue
        if node.n_outputs == 1:
            live = grads[0] is not None
            incoming = grads[0]
        else:
            live = any(g is not None for g in grads)
            if live:
                grads = _materialize(node, grads)
            incoming = None
        if live:
            if node.hooks:
                grads = _run_hooks(node, grads)
                incoming = grads[0] if node.n_outputs == 1 else None
            in_grads = node.apply_backward(grads)
        else:  # nothing flows through this node, but the nodes after it still wait for it
            in_grads = (None,) * len(node.next_edges)
        if not retain_graph:
            node.release()
        for edge, g in zip(node.next_edges, in_grads):
            if edge is None:
                continue
            nxt, k = edge
            if g is not None and (g is incoming or (incoming is None and any(g is h for h in grads))):
                borrowed.add(id(g))
            left = dependencies.get(nxt)
            if left is None:  # a leaf that takes its gradients as they arrive
                if g is not None:
                    nxt.accumulate(g, g.base is None and id(g) not in borrowed)
                continue
            buf = pending.get(nxt)
            if buf is None:
                buf = pending[nxt] = [None] * nxt.n_outputs
            if g is not None:
                if buf[k] is None:
                    buf[k] = g
                else:
                    _arrive(buf, k, g, borrowed)
            if left == 1:
                ready.append(nxt)
            dependencies[nxt] = left - 1
        # Let go of this node's gradients now, not when the next node's replace them: a weight
        # gradient already copied into its optimizer slot would otherwise stay alive meanwhile.
        grads = in_grads = incoming = g = None


def _arrive(buf: list, k: int, g: Any, borrowed: set) -> None:
    """Sum ``g`` into the gradient waiting in slot ``k``."""
    have = buf[k]
    if have is None:
        buf[k] = g
    elif have.base is None and id(have) not in borrowed:
        buf[k] += g  # not `have += g`: for 0-dim values NumPy returns a new scalar, not the array
    else:
        buf[k] = have + g  # a new array: ours


def _materialize(node: Node, buf: list) -> list:
    """Outputs that got no gradient (unused outputs of a multi-output op) get zeros."""
    if all(g is not None for g in buf):
        return buf
    from .._backend import xp_of

    xp = xp_of(next(g for g in buf if g is not None))
    out = []
    for g, (shape, dtype) in zip(buf, node.output_meta):
        if g is None:
            g = xp.zeros(shape, dtype=dtype)
        out.append(g)
    return out


def _run_hooks(node: Node, grads: list) -> list:
    grads = list(grads)
    for k, hook in node.hooks:
        result = hook(grads[k])
        if result is not None:
            grads[k] = result
    return grads
