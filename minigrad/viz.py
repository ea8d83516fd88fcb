"""Draw the graph that autograd recorded, as a ``graphviz.Digraph``.

    loss = model(x).sum()
    loss.backward()
    minigrad.viz.draw_graph(loss, model=model, show_grads=True).render("mlp", format="png")

Drawing reads only the public graph API that minigrad shares with torch
(``grad_fn``, ``next_functions``, ``name()``, ``AccumulateGrad.variable``), so
what you see is exactly what ``backward`` will walk. Arrows follow the forward
pass: from the leaves, through the ops, to the output; backward runs them in
reverse.

``intermediates=True`` draws every tensor between the ops too (micrograd's drawing): the
ones passed in ``params=`` by their name, the others by the op that made them (a graph node
does not hold its output, so their shape and dtype come from the node's metadata and their
values cannot be shown); each op then shows the bytes it keeps for backward.

Building the ``Digraph`` needs only the ``graphviz`` Python package. Turning it
into a picture (``.render``, ``.pipe``) needs Graphviz's ``dot`` program; when
it is missing those raise ``graphviz.ExecutableNotFound`` and ``.source`` still
gives the DOT text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import graphviz
import numpy

__all__ = ["draw_graph"]

# Colours: the output stands out, parameters look alike, ops stay neutral.
_OUTPUT_STYLE = {"shape": "box", "style": "filled", "fillcolor": "darkolivegreen1"}
_LEAF_STYLE = {"shape": "box", "style": "filled", "fillcolor": "lightblue"}
_OP_STYLE = {"shape": "box", "style": "filled,rounded", "fillcolor": "lightgrey"}
_INTERMEDIATE_STYLE = {"shape": "box", "style": "filled", "fillcolor": "lightyellow"}


def draw_graph(tensor: Any, show_shapes: bool = True, show_grads: bool = False,
               params: Mapping[str, Any] | None = None, model: Any = None,
               show_values: bool = False, intermediates: bool = False) -> graphviz.Digraph:
    """The graph that produced ``tensor`` (or a list of tensors).

    * op nodes are named as torch names them (``AddmmBackward0``, ``MulBackward0``...);
    * tensor nodes (the output and the leaves) show shape, dtype and size in bytes;
    * ``params={"0.weight": w, ...}`` (for example ``dict(model.named_parameters())``) or
      ``model=model`` names the parameters; the parameters of one module are drawn in one
      box (a graphviz cluster); any other tensor in ``params``, the output included, is
      labelled by its key (``params={"loss": loss}``), and an intermediate tensor given there
      (``params={"h": h}``) is drawn between the op that made it and the ops that use it;
    * ``show_grads=True`` adds each leaf's gradient norm (after ``backward``);
    * ``show_values=True`` adds the first few values of every tensor drawn, and of its gradient:
      a leaf's ``.grad``, or an intermediate's if it called ``retain_grad()`` before backward
      ("not retained" otherwise: backward frees the gradients of intermediates);
    * ``intermediates=True`` draws every intermediate tensor, as micrograd does: the unnamed ones
      are labelled by the op that made them (``Tanh output``), with the shape and dtype the graph
      recorded; each op shows the bytes it saved for backward (parameters left out: they exist
      anyway), 0 once backward has freed them.
    """
    roots = list(tensor) if isinstance(tensor, (list, tuple)) else [tensor]
    names = _parameter_names(params, model)
    module_kinds = _module_kinds(model)
    in_model = {id(p) for _, p in model.named_parameters()} if model is not None else set()
    # (id(node), output index) -> the tensor it made, for the non-leaf tensors we know by name, and the roots
    known_outputs = {(id(t.grad_fn), t._output_nr): t for t in _named_tensors(params, model)
                     if t.grad_fn is not None}
    known_outputs.update(((id(t.grad_fn), t._output_nr), t) for t in roots if t.grad_fn is not None)

    font = {"fontname": "monospace", "fontsize": "10"}
    dot = graphviz.Digraph(graph_attr={"rankdir": "TB", **font}, node_attr=font)
    clusters: dict[str, list[tuple[str, str]]] = {}  # module path -> (node id, label) of its parameters
    keep_alive: list[Any] = []  # ids are only unique among live objects: hold every object we named by id
    drawn: set[str] = set()
    linked: set[tuple[str, str]] = set()  # op -> the tensor it made: one edge, however many ops use it
    stack: list[Any] = []
    leaf_buffers: set[int] = set()  # the leaves' arrays: an op that keeps one keeps no new memory

    def add_tensor(t: Any, style: dict) -> str:
        node_id = f"t{id(t)}"
        if node_id in drawn:
            return node_id
        drawn.add(node_id)
        keep_alive.append(t)
        name = names.get(id(t))
        label = _tensor_label(t, name, show_shapes, show_grads)
        if show_values:
            label += "\\n" + "\\n".join(_value_lines(t))
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
            stack.append(fn)
            if not intermediates:
                dot.node(node_id, fn.name(), **_OP_STYLE)
        return node_id

    def add_output(fn: Any, nr: int, consumer: Any, index: int) -> str | None:
        """The tensor node for output ``nr`` of ``fn`` if it is drawn (and its edge from ``fn``), else None."""
        t = known_outputs.get((id(fn), nr))
        if t is not None:
            tensor_id = add_tensor(t, _OUTPUT_STYLE if any(t is r for r in roots) else _INTERMEDIATE_STYLE)
        elif intermediates:
            tensor_id = f"o{id(fn)}_{nr}"
            if tensor_id not in drawn:
                drawn.add(tensor_id)
                dot.node(tensor_id, _unnamed_label(fn, nr, consumer, index, show_values), **_INTERMEDIATE_STYLE)
        else:
            return None
        if (f"n{id(fn)}", tensor_id) not in linked:
            linked.add((f"n{id(fn)}", tensor_id))
            dot.edge(add_op(fn), tensor_id)
        return tensor_id

    for root in roots:
        if root.grad_fn is None:
            add_tensor(root, _OUTPUT_STYLE)
        else:
            add_output(root.grad_fn, root._output_nr, None, 0)
    # An explicit stack, not recursion: a graph thousands of ops deep draws like a short one.
    ops: list[Any] = []
    while stack:
        fn = stack.pop()
        ops.append(fn)
        fn_id = f"n{id(fn)}"
        for index, (nxt, nr) in enumerate(fn.next_functions):
            if nxt is None:  # an input that needs no gradient: not part of the backward graph
                continue
            leaf = getattr(nxt, "variable", None)
            if leaf is not None:  # AccumulateGrad: draw the leaf tensor it feeds
                src = add_tensor(leaf, _LEAF_STYLE)
                leaf_buffers.add(id(_owner(leaf._data)))
            else:
                src = add_output(nxt, nr, fn, index) or add_op(nxt)
            dot.edge(src, fn_id)
    if intermediates:  # op nodes last, once every leaf is known: what an op saved is counted without them
        for fn in ops:
            dot.node(f"n{id(fn)}", fn.name() + "\\n" + _saved_line(fn, leaf_buffers), **_OP_STYLE)

    for path, members in sorted(clusters.items()):
        with dot.subgraph(name=f"cluster_{path}" if path else "cluster_") as box:
            box.attr(label=_module_label(path, module_kinds), style="rounded,dashed", color="grey40")
            for node_id, label in members:
                box.node(node_id, label, **_LEAF_STYLE)
    return dot


def _named_tensors(params: Mapping[str, Any] | None, model: Any) -> list[Any]:
    """Every tensor given a name, in ``params`` or by ``model``."""
    tensors = [p for _, p in model.named_parameters()] if model is not None else []
    if params is not None:
        items: Iterable = params.items() if hasattr(params, "items") else params
        tensors.extend(t for _, t in items)
    return tensors


def _role(fn: Any) -> str:
    """``Tanh`` for ``TanhBackward0``: the op that made a tensor, as the forward pass called it."""
    return re.sub(r"Backward\d*$", "", fn.name()) or fn.name()


def _unnamed_label(fn: Any, nr: int, consumer: Any, index: int, show_values: bool) -> str:
    """An intermediate nobody named: the graph keeps its shape and dtype, not its values."""
    name = f"{_role(fn)} output" + (f" {nr}" if getattr(fn, "n_outputs", 1) > 1 else "")
    meta = None
    if consumer is not None and index < len(consumer.input_meta):
        meta = consumer.input_meta[index]  # the consumer recorded its input's shape and dtype
    if meta is None and nr < len(getattr(fn, "output_meta", ())):
        meta = fn.output_meta[nr]
    lines = [name]
    if meta is not None:
        shape, dtype = tuple(meta[0]), numpy.dtype(meta[1])
        lines += [f"{shape} {dtype.name}", format_bytes(int(numpy.prod(shape, dtype=numpy.int64)) * dtype.itemsize)]
    if show_values:
        lines += ["values: not kept (name it in params=)", "grad: not retained"]
    return "\\n".join(lines)


def _owner(a: Any) -> Any:
    """The array that owns ``a``'s buffer (a view keeps its whole base alive)."""
    while getattr(a, "base", None) is not None and hasattr(a.base, "nbytes"):
        a = a.base
    return a


def _saved_line(fn: Any, leaf_buffers: set[int]) -> str:
    """``saved: 48 B``: the distinct buffers ``fn`` keeps for its backward, the leaves' left out."""
    if getattr(fn, "freed", False):
        return "saved: freed by backward"
    buffers: dict[int, int] = {}
    values = list(getattr(fn, "saved", ()))
    # a few ops (indexing) keep arrays as attributes, outside ``saved``
    for key, value in vars(fn).items() if hasattr(fn, "__dict__") else ():
        if key != "saved":
            values.extend(value if isinstance(value, tuple) else (value,))
    for value in values:
        value = getattr(value, "_data", value)  # a user Function saves tensors
        if isinstance(value, numpy.ndarray) or (type(value).__module__.startswith("cupy") and hasattr(value, "nbytes")):
            base = _owner(value)
            if id(base) not in leaf_buffers:
                buffers[id(base)] = int(base.nbytes)
    return f"saved: {format_bytes(sum(buffers.values()))}"


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


def _value_lines(t: Any) -> list[str]:
    """The first values of ``t`` and of its gradient, when there is one to show."""
    lines = [f"data: {_first_values(t)}"]
    if t.grad_fn is None or getattr(t, "_retains_grad", False):
        lines.append("grad: None" if t.grad is None else f"grad: {_first_values(t.grad)}")
    else:
        lines.append("grad: not retained")  # backward frees an intermediate's gradient unless retain_grad()
    return lines


def _first_values(t: Any, count: int = 4) -> str:
    """``[0.5, -1, 2, ...]``: enough of a tensor to recognise it, in float64 on the host."""
    flat = numpy.asarray(t.detach().cpu().numpy(), dtype=numpy.float64).ravel()
    shown = ", ".join(f"{v:.4g}" for v in flat[:count])
    return f"[{shown}{', ...' if flat.size > count else ''}]"


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
