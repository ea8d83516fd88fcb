"""Watch backward run, one node at a time.

    with minigrad.autograd.trace(model=model) as t:
        loss.backward()
    print(t)          # a table: one row per node, in the order the engine ran them
    t.steps[0]        # the same rows as small dataclasses, to step through in a notebook
    t.draw()          # the graph, each node numbered by when it ran (graphviz)

``loss.backward()`` is the chain rule applied node after node, but it happens in one call that
shows nothing. A trace records, for every node the engine runs: which gradient arrived (its shape,
first values and norm), which gradient it sent to which node or leaf, and how many bytes of saved
arrays the node let go of once it had run. Reading the rows top to bottom is reading backprop as a
student writes it by hand: the loss's gradient first, then each layer's, down to the parameters.

Cost: ``run_backward`` (minigrad/autograd/engine.py) reads once per call whether a trace is active
(a ``ContextVar``: a trace in one thread sees only that thread's backward calls). With none, the
engine runs exactly the code it runs without this module; with one, each node runs through
``Trace.runner``'s wrapper, which copies the gradients to the host (so the rows keep their values
after later steps write into ``.grad``). Leaves (``AccumulateGrad``) get no row of their own: they
appear as where a gradient goes.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy

from .._backend import to_host
from .engine import active_tracer
from .graph import AccumulateGrad, Node, TensorBase

__all__ = ["Flow", "Grad", "Step", "Trace", "trace"]


@dataclass
class Grad:
    """One gradient, summarised: enough to recognise it and to compare it with a hand computation."""

    shape: tuple[int, ...]
    head: tuple[float, ...]  # its first values, flattened
    norm: float  # its Euclidean norm, in float64
    value: numpy.ndarray | None = field(default=None, repr=False)  # a host copy of all of it (keep_values=True)

    def __str__(self) -> str:
        numel = int(numpy.prod(self.shape)) if self.shape else 1
        values = ", ".join(f"{v:.4g}" for v in self.head) + (", ..." if numel > len(self.head) else "")
        return f"{list(self.shape)} |g|={self.norm:.4g} [{values}]"


@dataclass
class Flow:
    """A gradient a node sent on: for its input number ``input``, to the node ``to`` (a node's name, or the
    leaf's: its name given to ``trace`` or, without one, ``leaf [shape]``)."""

    input: int  # the index in the sending node's ``next_functions``
    to: str
    grad: Grad
    leaf: bool  # True: it was added into that leaf's ``.grad``
    to_step: int | None = None  # the step that then ran the receiving node (None for a leaf, or if it never ran)

    def __str__(self) -> str:
        where = f"{self.to} (leaf)" if self.leaf else f"{self.to} #{self.to_step if self.to_step else '?'}"
        return f"{self.grad} -> {where}"


@dataclass
class Step:
    """One node as the engine ran it: the ``step``-th of the trace."""

    step: int  # 1 for the first node run in the trace
    op: str  # torch's node name (``Node.name()``): AddmmBackward0, MseLossBackward0...
    grads_in: list[Grad | None]  # per output of the node, the gradient it received (None: none came)
    grads_out: list[Flow]  # the gradients it sent on, in the order of its inputs
    released: int  # bytes of saved arrays it let go of after running (0 with retain_graph)
    backward: int = 0  # which backward call of the trace ran it (0 for the first)
    output: str | None = None  # the name given to ``trace`` of the tensor this node made, if any
    node: Node | None = field(default=None, repr=False, compare=False)  # the node itself (for draw())


class Trace:
    """The rows of the backward calls made inside ``with trace() as t:``; see the module docstring.

    ``names``: ``{"W1": w1, ...}`` names for tensors: a leaf's name labels the gradients sent to it, a
    non-leaf's labels the node that made it. ``model``: a module whose ``named_parameters()`` name its
    parameters (``names`` wins where both name a tensor). ``head``: how many first values each gradient
    shows. ``keep_values``: keep a host copy of every gradient (``Grad.value``); off for large models.

    Traces nest: every active trace records the backward calls made inside it, each numbering its own steps.
    """

    def __init__(self, names: Mapping[str, Any] | None = None, model: Any = None, head: int = 4,
                 keep_values: bool = True) -> None:
        self.steps: list[Step] = []
        self.head, self.keep_values = head, keep_values
        self._names: dict[int, str] = {}  # id(tensor) -> name
        self._edge_names: dict[tuple, str] = {}  # (node, output index) -> name, for named non-leaf tensors
        # The named tensors are held, so that no other tensor can take over the id of one that was freed.
        self._named: list[Any] = []
        pairs = list(model.named_parameters()) if model is not None else []
        pairs += list(names.items()) if names is not None else []
        for name, t in pairs:
            self._named.append(t)
            if t.grad_fn is None:
                self._names[id(t)] = name
            else:
                self._edge_names[(t.grad_fn, t._output_nr)] = name
        self._calls = 0
        self._waiting: dict[Node, list[Flow]] = {}  # a node that has not run yet -> the flows sent to it
        self._parent: Trace | None = None
        self._token: Any = None

    # -- recording ---------------------------------------------------------------------------
    def __enter__(self) -> Trace:
        self._parent = active_tracer.get()
        self._token = active_tracer.set(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        active_tracer.reset(self._token)
        self._token = None

    def runner(self, run_node: Callable, cut: dict, wrap: Any) -> Callable:
        """What the engine calls instead of ``run_node`` for each node of one backward call (it calls this once
        per backward, when this is the innermost active trace): runs the node, then records its row in this
        trace and every trace around it. ``cut``: the engine's cut graph with ``inputs=`` (else empty)."""
        chain = []
        t: Trace | None = self
        while t is not None:
            chain.append(t)
            t._start_call()
            t = t._parent

        def traced(node: Node, pending: dict, retain_graph: bool, create_graph: bool, wrap: Any) -> tuple:
            arrived = [self._grad(pending.get((node, k), (None, False))[0]) for k in range(node.n_outputs)]
            # retain_graph=True here, so that the saved arrays are counted after the node's hooks ran (a
            # checkpointed block refills them there) and just before they go.
            grads, out = run_node(node, pending, True, create_graph, wrap)
            released = 0
            if not retain_graph:
                released = saved_bytes(node)
                node.release()
            edges = cut[node] if cut else node.next_edges
            sent = [(i, edge, self._grad(g)) for i, (edge, g) in enumerate(zip(edges, out))
                    if edge is not None and g is not None]
            for tracer in chain:
                tracer._record(node, arrived, sent, released)
            return grads, out

        return traced

    def _start_call(self) -> None:
        self._calls += 1
        self._waiting.clear()  # a node that got a gradient in an earlier call and never ran: it stays "?"

    def _grad(self, g: Any) -> Grad | None:
        """A host copy of ``g`` (an array, or a tensor in a recorded backward), summarised."""
        if g is None:
            return None
        array = numpy.array(to_host(g._data if isinstance(g, TensorBase) else g), copy=True)
        flat = array.ravel()
        norm = float(numpy.linalg.norm(flat.astype(numpy.float64)))  # float64: float16 squares overflow
        head = tuple(float(v) for v in flat[:self.head])
        return Grad(tuple(array.shape), head, norm, array if self.keep_values else None)

    def _record(self, node: Node, arrived: list, sent: list, released: int) -> None:
        step = len(self.steps) + 1
        for flow in self._waiting.pop(node, ()):
            flow.to_step = step
        flows = []
        for i, (nxt, _), grad in sent:
            if type(nxt) is AccumulateGrad:
                leaf = nxt.variable
                name = self._names.get(id(leaf)) if leaf is not None else None
                if name is None:
                    name = f"leaf {list(leaf._data.shape) if leaf is not None else '(freed)'}"
                flows.append(Flow(i, name, grad, True))
            else:
                flow = Flow(i, nxt.name(), grad, False)
                self._waiting.setdefault(nxt, []).append(flow)
                flows.append(flow)
        output = next((self._edge_names[(node, k)] for k in range(node.n_outputs) if (node, k) in self._edge_names),
                      None)
        self.steps.append(Step(step, node.name(), arrived, flows, released, self._calls - 1, output, node))

    # -- reading -----------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    def __getitem__(self, i: int) -> Step:
        return self.steps[i]

    def _rows(self) -> list[tuple[str, str, str, list[str], str]]:
        """(step, op, gradients in, [each gradient out], released) as text, for the table and the HTML."""
        rows = []
        for s in self.steps:
            op = s.op + (f" ({s.output})" if s.output else "")
            grads_in = "; ".join(str(g) if g is not None else "none" for g in s.grads_in)
            rows.append((str(s.step), op, grads_in, [str(f) for f in s.grads_out] or ["(nothing)"],
                         format_bytes(s.released)))
        return rows

    def __str__(self) -> str:
        header = ("step", "op", "gradient in", "gradient out -> to", "released")
        rows = self._rows()
        lines_of_rows = []  # one line per gradient sent: a node that sends several takes several lines
        for step, op, grads_in, flows, released in rows:
            for j, flow in enumerate(flows):
                lines_of_rows.append((step, op, grads_in, flow, released) if j == 0 else ("", "", "", flow, ""))
        width = [max(len(r[c]) for r in [header, *lines_of_rows]) for c in range(5)]

        def line(cells: tuple) -> str:
            # numbers right-aligned, text left-aligned
            return "  ".join(c.rjust(w) if i in (0, 4) else c.ljust(w) for i, (c, w) in enumerate(zip(cells, width)))

        lines = [line(header), line(tuple("-" * w for w in width))] + [line(r) for r in lines_of_rows]
        if not rows:
            lines.append("(no backward ran inside the trace)")
        return "\n".join(x.rstrip() for x in lines)

    def __repr__(self) -> str:
        return f"<Trace: {len(self.steps)} steps in {self._calls} backward call(s)>"

    def _repr_html_(self) -> str:
        """The table as HTML, which Jupyter shows for ``t`` on its own in a cell."""
        cells = "".join(f"<th>{h}</th>" for h in ("step", "op", "gradient in", "gradient out &rarr; to",
                                                     "released"))
        body = []
        for step, op, grads_in, flows, released in self._rows():
            out = "<br>".join(html.escape(f) for f in flows)
            body.append(f"<tr><td>{step}</td><td><code>{html.escape(op)}</code></td><td>{html.escape(grads_in)}"
                        f"</td><td>{out}</td><td>{released}</td></tr>")
        return f"<table><thead><tr>{cells}</tr></thead><tbody>{''.join(body)}</tbody></table>"

    def draw(self) -> Any:
        """The traced nodes as a ``graphviz.Digraph``, each labelled ``#step``: the order backward ran them.

        Unlike ``minigrad.viz.draw_graph`` (arrows along the forward pass), arrows here go the way the
        gradients went, each labelled with the gradient's shape and norm; leaves are blue boxes. Colours
        are draw_graph's.
        """
        import graphviz

        from .. import viz

        op_style = getattr(viz, "_OP_STYLE", {"shape": "box", "style": "filled,rounded", "fillcolor": "lightgrey"})
        leaf_style = getattr(viz, "_LEAF_STYLE", {"shape": "box", "style": "filled", "fillcolor": "lightblue"})
        font = {"fontname": "Helvetica", "fontsize": "11"}
        dot = graphviz.Digraph(graph_attr={"rankdir": "TB", **font}, node_attr=font, edge_attr={"fontsize": "9"})
        for s in self.steps:
            label = f"#{s.step} {s.op}" + (f"\n({s.output})" if s.output else "")
            if s.released:
                label += f"\nreleased {format_bytes(s.released)}"
            dot.node(f"s{s.step}", label, **op_style)
        leaves: dict[str, str] = {}  # a leaf's name -> its graphviz id (no ':', which DOT reads as a port)
        for s in self.steps:
            for f in s.grads_out:
                if f.leaf:
                    target = leaves.get(f.to)
                    if target is None:
                        target = leaves[f.to] = f"leaf{len(leaves)}"
                        dot.node(target, f.to, **leaf_style)
                elif f.to_step is not None:
                    target = f"s{f.to_step}"
                else:  # a node that never ran (outside inputs=, or after an error)
                    target = f"pending{s.step}_{f.input}"
                    dot.node(target, f"{f.to}\n(did not run)", style="dashed", shape="box")
                dot.edge(f"s{s.step}", target, label=f"{list(f.grad.shape)} |g|={f.grad.norm:.3g}")
        return dot


def format_bytes(n: int) -> str:
    """``376 B``, ``1.5 kB``: decimal units, as memory is counted in the course (minigrad.viz's format)."""
    if n < 1000:
        return f"{n} B"
    value = float(n)
    for unit in ("kB", "MB", "GB"):
        value /= 1000
        if value < 999.95:
            return f"{value:.1f} {unit}"
    return f"{value / 1000:.1f} TB"


def saved_bytes(node: Node) -> int:
    """Bytes of the arrays ``node`` holds for its backward (``saved``), each buffer counted once (``x * x``
    saves ``x`` twice; a view counts as its whole base, which it keeps alive). A buffer something else also
    holds (a parameter, the input batch) stays in memory when the node lets go of it."""
    buffers: dict[int, int] = {}
    for value in node.saved:
        value = getattr(value, "_data", value)  # a user Function saves tensors
        if hasattr(value, "nbytes") and hasattr(value, "shape"):
            while getattr(value, "base", None) is not None and hasattr(value.base, "nbytes"):
                value = value.base
            buffers[id(value)] = int(value.nbytes)
    return sum(buffers.values())


def trace(names: Mapping[str, Any] | None = None, model: Any = None, head: int = 4,
          keep_values: bool = True) -> Trace:
    """Record the backward calls made inside ``with trace() as t:``, one row per node run (see ``Trace``)."""
    return Trace(names, model, head, keep_values)
