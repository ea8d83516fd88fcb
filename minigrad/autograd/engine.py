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


def _waits_for_total(node: Node) -> bool:
    if type(node) is not AccumulateGrad:
        return True
    leaf = node._variable()
    return leaf is not None and bool(leaf._leaf_hooks)


def run_backward(roots: list, grads: list, retain_graph: bool) -> None:
    """Backpropagate ``grads`` (arrays) from the tensors ``roots`` to every leaf."""
    # Gradients that have arrived for each node, one slot per output, with a flag per slot:
    # True when the array is ours (fresh), so later arrivals may be added into it in place.
    pending: dict[Node, list] = {}
    owned: dict[Node, list] = {}
    start = []
    for t, g in zip(roots, grads):
        node, k = t._edge()
        _add(pending, owned, node, k, g, False)
        start.append(node)
    start = list(dict.fromkeys(start))

    # How many edges point at each node: it may run only once all of them have delivered.
    dependencies: dict[Node, int] = {}
    stack = list(start)
    while stack:
        for edge in stack.pop().next_edges:
            if edge is not None and _waits_for_total(nxt := edge[0]):
                if nxt in dependencies:
                    dependencies[nxt] += 1
                else:
                    dependencies[nxt] = 1
                    stack.append(nxt)

    ready = [n for n in start if n not in dependencies]
    while ready:
        node = ready.pop()
        grads = pending.pop(node)
        flags = owned.pop(node)
        if type(node) is AccumulateGrad:
            if grads[0] is not None:
                node.accumulate(grads[0], flags[0])
            continue
        if node.n_outputs == 1:
            live = grads[0] is not None
        else:
            live = any(g is not None for g in grads)
            if live:
                grads = _materialize(node, grads)
        if live:
            if node.hooks:
                grads = _run_hooks(node, grads)
            in_grads = node.apply_backward(grads)
        else:  # nothing flows through this node, but the nodes after it still wait for it
            in_grads = (None,) * len(node.next_edges)
        if not retain_graph:
            node.release()
        passed_in = grads[0] if len(grads) == 1 else grads
        for edge, g in zip(node.next_edges, in_grads):
            if edge is None:
                continue
            nxt, k = edge
            # An array is ours to add into later only if it is fresh: not a view, and not one of
            # the incoming gradients passed through (built-in ops never return one fresh array
            # for two inputs; a user Function's gradients arrive as views).
            is_owned = g is not None and g.base is None and (
                g is not passed_in if passed_in is not grads else not any(g is h for h in grads))
            if nxt not in dependencies:  # a leaf's AccumulateGrad that does not wait (counted above)
                if g is not None:
                    nxt.accumulate(g, is_owned)
                continue
            if g is not None:
                _add(pending, owned, nxt, k, g, is_owned)
            elif nxt not in pending:
                pending[nxt] = [None] * nxt.n_outputs
                owned[nxt] = [False] * nxt.n_outputs
            left = dependencies[nxt] - 1
            dependencies[nxt] = left
            if left == 0:
                ready.append(nxt)
        # Let go of this node's gradients now, not when the next node's replace them: a weight
        # gradient already copied into its optimizer slot would otherwise stay alive meanwhile.
        grads = in_grads = passed_in = g = None


def _add(pending: dict, owned: dict, node: Node, k: int, g: Any, is_owned: bool) -> None:
    """Sum ``g`` into the gradient waiting for output ``k`` of ``node``."""
    buf = pending.get(node)
    if buf is None:
        buf = pending[node] = [None] * node.n_outputs
        owned[node] = [False] * node.n_outputs
    if buf[k] is None:
        buf[k] = g
        owned[node][k] = is_owned
    elif owned[node][k]:
        buf[k] += g
    else:
        buf[k] = buf[k] + g
        owned[node][k] = True


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
