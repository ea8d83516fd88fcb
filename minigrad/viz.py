"""Draw the graph that autograd recorded, as a ``graphviz.Digraph``.

    loss = model(x).sum()
    loss.backward()
    minigrad.viz.draw_graph(loss, model=model, show_grads=True).render("mlp", format="png")

Drawing reads only the public graph API that minigrad shares with torch
(``grad_fn``, ``next_functions``, ``name()``, ``AccumulateGrad.variable``), so
what you see is exactly what ``backward`` will walk. Arrows follow the forward
pass: from the leaves, through the ops, to the output; backward runs them in
reverse.

Building the ``Digraph`` needs only the ``graphviz`` Python package. Turning it
into a picture (``.render``, ``.pipe``) needs Graphviz's ``dot`` program; when
it is missing those raise ``graphviz.ExecutableNotFound`` and ``.source`` still
gives the DOT text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import graphviz
import numpy

__all__ = ["draw_graph"]

# Colours: the output stands out, parameters look alike, ops stay neutral.
_OUTPUT_STYLE = {"shape": "box", "style": "filled", "fillcolor": "darkolivegreen1"}
_LEAF_STYLE = {"shape": "box", "style": "filled", "fillcolor": "lightblue"}
_OP_STYLE = {"shape": "box", "style": "filled,rounded", "fillcolor": "lightgrey"}


def draw_graph(tensor: Any, show_shapes: bool = True, show_grads: bool = False,
               params: Mapping[str, Any] | None = None, model: Any = None) -> graphviz.Digraph:
    """The graph that produced ``tensor`` (or a list of tensors).

    * op nodes are named as torch names them (``AddmmBackward0``, ``MulBackward0``...);
    * tensor nodes (the output and the leaves) show shape, dtype and size in bytes;
    * ``params={"0.weight": w, ...}`` (for example ``dict(model.named_parameters())``) or
      ``model=model`` names the parameters; the parameters of one module are drawn in one
      box (a graphviz cluster); any other tensor in ``params``, the output included, is
      labelled by its key (``params={"loss": loss}``);
    * ``show_grads=True`` adds each leaf's gradient norm (after ``backward``).
    """
    roots = list(tensor) if isinstance(tensor, (list, tuple)) else [tensor]
    names = _parameter_names(params, model)
    module_kinds = _module_kinds(model)
    in_model = {id(p) for _, p in model.named_parameters()} if model is not None else set()

    font = {"fontname": "monospace", "fontsize": "10"}
    dot = graphviz.Digraph(graph_attr={"rankdir": "TB", **font}, node_attr=font)
    clusters: dict[str, list[tuple[str, str]]] = {}  # module path -> (node id, label) of its parameters
    keep_alive: list[Any] = []  # ids are only unique among live objects: hold every object we named by id
    drawn: set[str] = set()
    stack: list[Any] = []

    def add_tensor(t: Any, style: dict) -> str:
        node_id = f"t{id(t)}"
        if node_id in drawn:
            return node_id
        drawn.add(node_id)
        keep_alive.append(t)
        name = names.get(id(t))
        label = _tensor_label(t, name, show_shapes, show_grads)
        if style is _LEAF_STYLE and name is not None and (id(t) in in_model or "." in name):
            # a parameter of a module: draw it inside that module's box
            clusters.setdefault(name.rpartition(".")[0], []).append((node_id, label))
        else:
            dot.node(node_id, label, **style)
        return node_id

    def add_op(fn: Any) -> str:
        node_id = f"n{id(fn)}"
        if node_id not in drawn:
            drawn.add(node_id)
            keep_alive.append(fn)
            dot.node(node_id, fn.name(), **_OP_STYLE)
            stack.append(fn)
        return node_id

    for root in roots:
        out_id = add_tensor(root, _OUTPUT_STYLE)
        if root.grad_fn is not None:
            dot.edge(add_op(root.grad_fn), out_id)
    # An explicit stack, not recursion: a graph thousands of ops deep draws like a short one.
    while stack:
        fn = stack.pop()
        fn_id = f"n{id(fn)}"
        for nxt, _ in fn.next_functions:
            if nxt is None:  # an input that needs no gradient: not part of the backward graph
                continue
            leaf = getattr(nxt, "variable", None)
            if leaf is not None:  # AccumulateGrad: draw the leaf tensor it feeds
                src = add_tensor(leaf, _LEAF_STYLE)
            else:
                src = add_op(nxt)
            dot.edge(src, fn_id)

    for path, members in sorted(clusters.items()):
        with dot.subgraph(name=f"cluster_{path}" if path else "cluster_") as box:
            box.attr(label=_module_label(path, module_kinds), style="rounded,dashed", color="grey40")
            for node_id, label in members:
                box.node(node_id, label, **_LEAF_STYLE)
    return dot


def _parameter_names(params: Mapping[str, Any] | None, model: Any) -> dict[int, str]:
    """id(tensor) -> its name; explicit ``params`` win over names taken from ``model``."""
    names: dict[int, str] = {}
    if model is not None:
        names.update((id(p), n) for n, p in model.named_parameters())
    if params is not None:
        items: Iterable = params.items() if hasattr(params, "items") else params
        names.update((id(p), n) for n, p in items)
    return names


def _module_kinds(model: Any) -> dict[str, str]:
    if model is None or not hasattr(model, "named_modules"):
        return {}
    return {path: type(m).__name__ for path, m in model.named_modules()}


def _module_label(path: str, kinds: dict[str, str]) -> str:
    kind = kinds.get(path)
    if not path:
        return kind or "model"
    return f"{path}: {kind}" if kind else path


def _tensor_label(t: Any, name: str | None, show_shapes: bool, show_grads: bool) -> str:
    lines = [name] if name is not None else []
    if show_shapes or name is None:
        shape = tuple(t.shape)
        lines.append(f"{shape} {str(t.dtype).rpartition('.')[2]}")
        lines.append(format_bytes(t.numel() * t.element_size()))
    if show_grads and t.grad_fn is None:
        g = t.grad
        lines.append("grad: None" if g is None else f"|grad| = {_norm(g):.4g}")
    return "\\n".join(lines)  # DOT's own line break escape, kept as is by graphviz's quoting


def _norm(g: Any) -> float:
    # in float64 on the host: a float16 gradient's squares can overflow
    return float(numpy.linalg.norm(numpy.asarray(g, dtype=numpy.float64).ravel()))


def format_bytes(n: int) -> str:
    """``128 B``, ``1.5 kB``, ``3.2 MB``: decimal units, as memory is counted in the course."""
    if n < 1000:
        return f"{n} B"
    value = float(n)
    for unit in ("kB", "MB", "GB", "TB"):
        value /= 1000
        if value < 999.95:  # what still prints as at most "999.9"
            return f"{value:.1f} {unit}"
    return f"{value / 1000:.1f} PB"
