"""Reverse-mode backward pass over the recorded graph, without recursion.

1. Walk the graph from the roots once (an explicit stack) and count, for every
   node, how many edges point at it.
2. Run nodes in an order where a node runs only after every node that feeds it
   a gradient has run: a node becomes ready when its count drops to zero.
   Gradients arriving at the same node from several paths are summed first,
   so ``b = a + a`` gives ``a.grad == 2``.
3. After a node has run, its saved arrays are released unless ``retain_graph``.
"""

from __future__ import annotations

from typing import Any

from .function import AccumulateGrad, Node


def run_backward(roots: list, grads: list, retain_graph: bool) -> None:
    """Backpropagate ``grads`` (arrays) from the tensors ``roots`` to every leaf."""
    pending: dict[Node, list] = {}  # node -> gradient per output, summed as they arrive
    owned: dict[Node, list] = {}  # False where that array may be shared with another gradient
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
            if edge is not None:
                nxt = edge[0]
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
        given = [id(g) for g in grads]
        for edge, g in zip(node.next_edges, in_grads):
            if edge is None:
                continue
            nxt, k = edge
            buf = pending.get(nxt)
            if buf is None:
                buf = pending[nxt] = [None] * nxt.n_outputs
                fl = owned[nxt] = [False] * nxt.n_outputs
            else:
                fl = owned[nxt]
            if g is not None:
                # An array is ours to add into later only if it is fresh: not a view, not the
                # incoming gradient passed through, not handed to another input as well.
                is_owned = g.base is None and id(g) not in given
                given.append(id(g))
                if buf[k] is None:
                    buf[k] = g
                    fl[k] = is_owned
                elif fl[k]:
                    buf[k] += g
                else:
                    buf[k] = buf[k] + g
                    fl[k] = True
            left = dependencies[nxt] - 1
            dependencies[nxt] = left
            if left == 0:
                ready.append(nxt)


def _add(pending: dict, owned: dict, node: Node, k: int, g: Any, is_owned: bool) -> None:
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
