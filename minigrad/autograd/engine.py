"""Reverse-mode backward pass over the recorded graph, without recursion.

1. Walk the graph from the roots once, with an explicit stack, and count for every
   node how many edges point at it.
2. Run the nodes in an order where a node runs only after every node that feeds it
   a gradient has run: it becomes ready when its count drops to zero. Gradients
   arriving at the same node output by several paths are summed first, so
   ``b = a + a`` gives ``a.grad == 2``.
3. After a node has run, its saved arrays are released unless ``retain_graph``.

With ``inputs`` (``backward(inputs=[a, h])``) only the nodes on a path from a root to an
input run, as in torch: the graph is cut before scheduling, every edge to a node off those
paths becoming ``None``, so other leaves get no gradient, and other nodes run no hooks and
keep their saved arrays (a later backward may still go through them). A non-leaf input
collects its gradient with retain_grad's hook on its ``grad_fn``; that node runs, even when
no input lies beyond it, so that it checks its saved tensors' versions as torch's does.

With ``create_graph`` the gradients are tensors instead of arrays, each node runs its
backward formulas on them (``Node.apply_backward``), and the ops they run are recorded: the
gradients have a history and can be differentiated again. Nothing is then written in place.

With ``capture`` (``autograd.grad``) the gradients arriving at ``inputs`` are returned instead of
added into ``.grad``; nothing is accumulated anywhere.

Hooks, in torch's order, for a node that has any (``Node.has_hooks``, the one attribute read per node for
them): the tensor hooks of its outputs (retain_grad's last), its pre-hooks (``register_prehook``), its
backward, its post-hooks (``register_hook``). They see tensors; what they hand back is never written into.

Tracing (minigrad/autograd/trace.py): ``run_backward`` reads once whether a ``trace()`` is active; only then
does it run each node through the tracer's wrapper of ``_run_node``. Without one, the loop is the same code
as if tracing did not exist: no test per node.

A leaf's ``AccumulateGrad`` node only adds into ``leaf.grad``, and addition does not
care about order, so a leaf takes each gradient as it arrives; only a leaf with hooks
is counted and waits for its total, since torch calls a leaf's hooks once, with the sum.

Ownership rule: the engine writes into a gradient array (adds another gradient into
it in place, or makes it a leaf's ``.grad``, which later backward calls add into)
only if it owns that array, that is, the array was created during this backward by
the engine itself (a sum) or by an op's backward as a new array. It never writes
into an array that came from the caller (``backward(gradient=g)``), from a hook, or
that an op returned unchanged (the very gradient it was given, or a view:
``g.base is not None``). When two gradients meet, the total is ``a += b`` if ``a`` is
owned and ``a + b`` (a new array, owned) otherwise; a leaf's first gradient becomes
its ``.grad`` as it is if owned, and as a copy otherwise.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from . import anomaly_mode
from .graph import AccumulateGrad, Node, run_posthooks, run_prehooks

_NOTHING = (None, False)  # what a node output that received no gradient holds

# The innermost active ``trace()`` (minigrad/autograd/trace.py), or None. A ContextVar, not a global: a trace
# in one thread (or asyncio task) records only the backward calls made there.
active_tracer: ContextVar[Any] = ContextVar("minigrad_active_tracer", default=None)


def run_backward(roots: list, grads: list, retain_graph: bool, inputs: list | None = None,
                 create_graph: bool = False, capture: bool = False) -> list | None:
    """Backpropagate ``grads`` from the tensors ``roots`` to every leaf, or only to ``inputs``.

    ``grads`` are arrays, or tensors with ``create_graph``. With ``capture``, returns the gradient
    of each of ``inputs`` (None where none arrived) and writes no ``.grad``.
    """
    # Per node output, an edge (node, index): the gradient summed so far, and whether the engine owns it.
    pending: dict[tuple, tuple] = {}
    for t, g in zip(roots, grads):
        _add(pending, t._edge(), g, grads, create_graph)  # given by the caller: never ours
    wanted = [t._edge() for t in inputs] if capture else ()
    captured: dict[tuple, Any] = {}
    dependencies, ready, cut = _schedule(pending, inputs, capture)
    wrap = roots[0]._wrap  # makes the tensors that hooks see around gradient arrays
    tracer = active_tracer.get()  # read once per backward: a trace costs nothing when there is none
    run_node = _run_node if tracer is None else tracer.runner(_run_node, cut, wrap)
    if anomaly_mode.enabled:  # read once per backward, like the tracer
        run_node = anomaly_mode.checked(run_node)
    while ready:
        node = ready.pop()
        if type(node) is AccumulateGrad:  # a root, a leaf with hooks (they see the total), or captured
            g, owned = pending.pop((node, 0), _NOTHING)
            if capture:
                captured[(node, 0)] = g
            elif g is not None:
                node.accumulate(g, owned)
            continue
        if capture and cut and all(edge is None for edge in cut[node]):  # an input nothing beyond needs
            for k in range(node.n_outputs):
                captured[(node, k)] = pending.pop((node, k), _NOTHING)[0]
            continue
        grads, out = run_node(node, pending, retain_graph, create_graph, wrap)
        if capture:
            for k, g in enumerate(grads):
                if (node, k) in wanted:
                    captured[(node, k)] = g
        for edge, g in zip(cut[node] if cut else node.next_edges, out):
            if edge is None:
                continue
            nxt = edge[0]
            left = dependencies.get(nxt)
            if left is None:  # a leaf without hooks adds each gradient into .grad as it arrives
                if g is not None:
                    nxt.accumulate(g, _is_new(g, grads))
                continue
            _add(pending, edge, g, grads, create_graph)
            dependencies[nxt] = left - 1
            if left == 1:
                ready.append(nxt)
        grads = out = g = None  # drop this node's gradients before the next node allocates its own
    if capture:
        return [captured.get(edge) for edge in wanted]
    return None


def _schedule(pending: dict, inputs: list | None, capture: bool = False) -> tuple:
    """How many edges point at each node reachable from the roots, the roots nothing points at, and the cut
    graph (see ``_cut``; empty without ``inputs``).

    Leaves without hooks are not counted: addition does not care about order, so they take each gradient as
    it arrives. A leaf with hooks waits for the total, since torch calls its hooks once, with the sum, and so
    does a captured leaf (the cut graph reaches no other).
    """
    starts = list(dict.fromkeys(node for node, _ in pending))
    cut: dict[Node, tuple] = {}
    if inputs is not None:
        cut, starts = _cut(starts, inputs)
    dependencies: dict[Node, int] = {}
    stack = list(starts)
    while stack:
        node = stack.pop()
        for edge in cut[node] if cut else node.next_edges:
            if edge is None:
                continue
            nxt = edge[0]
            if nxt in dependencies:
                dependencies[nxt] += 1
            elif type(nxt) is not AccumulateGrad or capture or nxt.waits_for_total():
                dependencies[nxt] = 1
                stack.append(nxt)
    return dependencies, [node for node in starts if node not in dependencies], cut


def _cut(starts: list, inputs: list) -> tuple:
    """The nodes on a path from ``starts`` to an input's node, each with its edges to other nodes replaced by
    None, and the starts among them."""
    parents = _parents(starts)
    needed = set()
    stack = [node for node in {t._edge()[0] for t in inputs} if node in parents]  # the inputs the roots reach
    while stack:  # a node that sends gradients to a needed node is needed
        node = stack.pop()
        if node not in needed:
            needed.add(node)
            stack.extend(parents[node])
    cut = {node: tuple(edge if edge is not None and edge[0] in needed else None for edge in node.next_edges)
           for node in needed}
    return cut, [node for node in starts if node in needed]


def _parents(starts: list) -> dict:
    """Every node reachable from ``starts``, with the nodes whose edges point at it."""
    parents: dict[Node, list] = {node: [] for node in starts}
    stack = list(starts)
    while stack:
        node = stack.pop()
        for edge in node.next_edges:
            if edge is not None:
                if edge[0] not in parents:
                    parents[edge[0]] = []
                    stack.append(edge[0])
                parents[edge[0]].append(node)
    return parents


def _is_new(g: Any, given: list) -> bool:
    """Whether ``g``, computed from the gradients ``given``, is a new array (or tensor): not one of them, not
    a view."""
    try:
        base = g.base
    except AttributeError:  # a tensor, with create_graph
        base = g._data.base
    return base is None and g is not given[0] and (len(given) == 1 or all(g is not h for h in given))


def _add(pending: dict, edge: tuple, g: Any, given: list, create_graph: bool = False) -> None:
    """Sum ``g``, computed from the gradients ``given``, into the gradient waiting at ``edge``."""
    if g is None:
        return
    have = pending.get(edge)
    if have is None:
        pending[edge] = (g, _is_new(g, given))
        return
    total, owned = have
    if owned and not create_graph:  # a recorded sum is a new tensor: the first may be saved by an op already
        total += g  # for 0-dim values NumPy gives back a new scalar: ours as well
    else:
        total = total + g
    pending[edge] = (total, True)


def _run_node(node: Node, pending: dict, retain_graph: bool, create_graph: bool, wrap: Any) -> tuple:
    """Take ``node``'s gradients from ``pending`` and run its backward: (its gradients, what it sends on)."""
    if node.n_outputs == 1:
        grads = [pending.pop((node, 0), _NOTHING)[0]]
    else:
        grads = [pending.pop((node, k), _NOTHING)[0] for k in range(node.n_outputs)]
    if node.has_hooks:
        grads, out = _run_hooked(node, grads, create_graph, wrap)
    else:
        if node.n_outputs > 1:
            grads = _materialize(node, grads)
        if grads[0] is None:  # (after _materialize: a node's gradients are all there or all None)
            out: Any = (None,) * len(node.next_edges)  # nothing flows through, but the nodes after it still wait
        else:
            out = node.apply_backward(grads, create_graph) if create_graph else node.apply_backward(grads)
    if not retain_graph:
        node.release()
    return grads, out


def _run_hooked(node: Node, grads: list, create_graph: bool, wrap: Any) -> tuple:
    """``_run_node``'s middle for a node with hooks, in torch's order: tensor hooks, pre-hooks, backward,
    post-hooks. ``grads`` has None for an output that got no gradient: what node hooks see, as in torch (the
    backward itself gets zeros there)."""
    arrived = [g is not None for g in grads]
    if node.n_outputs > 1:
        grads = _materialize(node, grads)
    if grads[0] is None:
        return grads, (None,) * len(node.next_edges)
    if node.hooks:
        _run_hooks(node, grads)
    seen = [g if came else None for g, came in zip(grads, arrived)]  # what the node hooks see
    if node.n_outputs > 1:  # as torch, they see only outputs that can have a gradient (not max's indices)
        kept = [k for k, (_, dtype) in enumerate(node.output_meta) if dtype.kind in "fc"]
        seen = [seen[k] for k in kept]
    if node._pre_hooks:
        seen = run_prehooks(node, seen, wrap, create_graph)
        if node.n_outputs > 1:
            full: list = [None] * node.n_outputs
            for k, g in zip(kept, seen):
                full[k] = g
            grads = _materialize(node, full)
        else:
            grads = seen
    if grads[0] is None:  # a pre-hook dropped the gradient: nothing flows on
        out: Any = [None] * len(node.next_edges)
    else:
        out = node.apply_backward(grads, create_graph) if create_graph else node.apply_backward(grads)
    if node._post_hooks:
        out = run_posthooks(node, list(out), seen, wrap, create_graph)
    return grads, out


def _materialize(node: Node, buf: list) -> list:
    """Outputs that got no gradient (unused outputs of a multi-output op) get zeros, unless none got one."""
    have = [g for g in buf if g is not None]
    if not have or len(have) == len(buf):
        return buf
    from .._backend import xp_of

    xp = xp_of(have[0])  # with create_graph, NumPy's names for tensors (minigrad/ops/recorded.py)
    return [xp.zeros(shape, dtype=dtype) if g is None else g for g, (shape, dtype) in zip(buf, node.output_meta)]


def _run_hooks(node: Node, grads: list) -> None:
    """Let the hooks of ``node``'s outputs see, and replace, the gradients in ``grads``."""
    for k, hook in node.hooks:
        result = hook(grads[k])
        if result is not None:
            grads[k] = result

