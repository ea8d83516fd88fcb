"""The recorded graph, and the part of a tensor that takes part in it.

* ``TensorBase``: an array (``_data``) and its place in the graph (``grad_fn``, ``grad``,
  a leaf's ``AccumulateGrad``). minigrad/tensor.py's ``Tensor`` subclasses it with every
  method and operator; autograd and the ops need only this part, so they never import
  tensor.py.
* ``Node``: one recorded op. ``Function.apply`` (minigrad/autograd/function.py) records it
  as its output's ``grad_fn``, holding

  * ``next_edges``: for each input, the node its gradient flows to next
    (``None`` for inputs that need no gradient);
  * ``saved``: exactly the arrays ``backward`` needs (``ctx.save_for_backward``).
    The memory report counts these, and they are dropped after backward.
* ``AccumulateGrad``: the node of a leaf, which adds the incoming gradient into ``leaf.grad``.
* ``VersionCounter``: how many times a tensor's memory was written in place, shared with its
  views. A node remembers the versions of the tensors it saved, and backward refuses to use a
  saved tensor that was changed since (torch's check).
"""

from __future__ import annotations

import weakref
from typing import Any

from .._grad_mode import enable_grad

FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they "
    "have already been freed). Saved intermediate values of the graph are freed when you call "
    ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
    "graph a second time or if you need to access saved tensors after calling backward."
)


class VersionCounter:
    """How many in-place writes a tensor's memory has had; a tensor and its views share one."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0


def increment_version(tensor: TensorBase) -> None:
    """Count an in-place write into ``tensor``'s memory (``torch.autograd.graph.increment_version``)."""
    vc = tensor._vc
    if vc is None:
        vc = tensor._vc = VersionCounter()
    vc.value += 1


class TensorBase:
    """An array and its place in the autograd graph: what ``Function.apply`` and the engine read and set.

    ``Tensor`` (minigrad/tensor.py) is the subclass users see; every tensor is one. The modules
    tensor.py imports (autograd, the ops) test ``isinstance(x, TensorBase)``, and make new tensors
    with ``x._wrap(array)`` on a tensor they were given, which gives a plain ``Tensor`` whatever
    ``x``'s own class (a ``Parameter``'s results are not parameters).
    """

    # Class-level defaults keep tensor creation cheap: most tensors only ever set _data.
    _data: Any
    _grad: Any = None  # a Tensor, once backward has reached this leaf (or a tensor that retains grad)
    requires_grad: bool = False
    grad_fn: Node | None = None
    _output_nr = 0  # which output of grad_fn this tensor is
    _accumulator: AccumulateGrad | None = None  # a leaf's AccumulateGrad node, made on first use
    _leaf_hooks: list | None = None  # a leaf's gradient hooks: (0, fn) pairs
    _post_accumulate_hooks: list | None = None  # a leaf's hooks run after .grad is updated: (0, fn(leaf)) pairs
    _retains_grad = False
    _vc: VersionCounter | None = None  # made on first use; a view shares its base's
    _base: TensorBase | None = None  # the tensor this one is a view of (torch's ``._base``)
    _view_version = 0  # a view's version when it got its history: a newer one means it needs a new one
    _view_of_leaf = False  # a view made when its base was a leaf

    @property
    def grad(self) -> Any:
        return self._grad

    @grad.setter
    def grad(self, value: Any) -> None:
        if value is not None:
            self._check_grad(value)
        self._grad = value

    def _check_grad(self, value: Any) -> None:
        """Refuse a gradient that can't be this tensor's (``Tensor`` gives torch's checks)."""

    @property
    def _version(self) -> int:
        """How many in-place writes this tensor's memory has had (shared with its views)."""
        return 0 if self._vc is None else self._vc.value

    def _version_counter(self) -> VersionCounter:
        vc = self._vc
        if vc is None:
            vc = self._vc = VersionCounter()
        return vc

    def _share_memory_of(self, base: TensorBase) -> None:
        """Record that this tensor views ``base``'s memory: one version counter, and ``_base``."""
        self._vc = vc = base._version_counter()
        self._base = root = base if base._base is None else base._base
        self._view_version = vc.value
        # torch refuses in-place writes through a view made of a leaf once that leaf has a history
        self._view_of_leaf = root.grad_fn is None

    def _refresh_view(self) -> None:
        """Bring a view's history up to date after writes into its memory (``Tensor`` does it)."""

    @staticmethod
    def _wrap(array: Any) -> Any:
        """A plain tensor around ``array`` (no copy, no graph); ``Tensor`` defines it."""
        raise NotImplementedError

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    def _edge(self) -> tuple:
        """Where a gradient for this tensor goes: its grad_fn, or the AccumulateGrad of a leaf."""
        if self.grad_fn is not None:
            return (self.grad_fn, self._output_nr)
        if self._accumulator is None:
            self._accumulator = AccumulateGrad(self)
        return (self._accumulator, 0)


class RemovableHandle:
    """What ``Node.register_hook`` and ``register_prehook`` return: ``remove()`` unregisters the hook (torch's
    ``torch.utils.hooks.RemovableHandle``); usable as a context manager."""

    def __init__(self, hooks: list, fn: Any) -> None:
        self._hooks, self._fn = hooks, fn

    def remove(self) -> None:
        for i, fn in enumerate(self._hooks):
            if fn is self._fn:
                del self._hooks[i]
                return

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


def named(t: TensorBase, name: str) -> TensorBase:
    """Give the node that made ``t`` torch's name for the op the caller ran, and return ``t``."""
    node = t.grad_fn
    if node is not None:
        node.label = name
    return t


class Node:
    """A recorded op, also the ``ctx`` its forward and backward receive.

    Differs from torch: one class is both torch's ``autograd.graph.Node`` and its ``FunctionCtx``, and as a
    ``ctx`` it has no ``mark_dirty``, ``set_materialize_grads`` or ``save_for_forward``.
    """

    # Class-level defaults: an op sets only what it uses, which keeps recording cheap.
    next_edges: tuple = ()  # per input: (node, output index) its gradient goes to, or None
    input_meta: tuple = ()  # per input: (shape, dtype), to reduce and cast gradients
    needs_input_grad: tuple = ()
    saved: tuple = ()
    freed = False
    n_outputs = 1
    output_meta: tuple = ()
    # Tensor hooks (Tensor.register_hook, retain_grad, checkpoint's recomputation) on this node's outputs:
    # (output index, fn(grad array) -> grad array or None), retain_grad's last. See register_tensor_hook.
    hooks: list | None = None
    # torch's node hooks (register_prehook / register_hook): fn(grad_outputs) and fn(grad_inputs, grad_outputs).
    _pre_hooks: list | None = None
    _post_hooks: list | None = None
    # Whether any hook was ever registered here: the engine reads only this per node (one attribute), so a
    # backward without hooks pays nothing for them. It stays True after a removal (the hooks' lists just empty).
    has_hooks = False
    non_differentiable: tuple = ()
    # Per saved tensor: (its VersionCounter, the version when saved, its index in ``saved``, where its
    # gradient goes); see _saved_versions in function.py. Checked before backward uses the saved values,
    # and used to put the saved values back into the graph for a recorded backward (saved_in_graph).
    saved_versions: tuple = ()
    _wrap: Any = None  # a user Function's: makes the tensors its backward receives
    # torch's name for what the caller ran, where one op class serves several torch ops (a Reshape
    # made by view() is ViewBackward0, by unsqueeze() UnsqueezeBackward0); see named().
    label: str | None = None
    forward_stack: list | None = None  # where the forward call was made, kept in anomaly mode (anomaly_mode.py)

    def __init__(self, fn: type | None = None) -> None:
        self.fn = fn

    # -- the ctx API, as torch.autograd.function.FunctionCtx -----------------------------
    def save_for_backward(self, *values: Any) -> None:
        self.saved = values

    @property
    def saved_tensors(self) -> tuple:
        if self.freed:
            raise RuntimeError(FREED_MESSAGE)
        return self.saved

    def mark_non_differentiable(self, *outputs: Any) -> None:
        self.non_differentiable = outputs

    def name(self) -> str:
        """The node's name as torch gives it (``MulBackward0``; ``MyFunctionBackward`` for a user's Function)."""
        if self.label is not None:
            return self.label
        fn = self.fn
        return fn.__name__ + ("Backward0" if fn.raw else "Backward")

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"

    @property
    def next_functions(self) -> tuple:
        return tuple((e[0], e[1]) if e is not None else (None, 0) for e in self.next_edges)

    def register_tensor_hook(self, output_nr: int, fn: Any) -> None:
        """Run ``fn(grad)`` on the gradient of output ``output_nr`` before this node's backward (minigrad's way of
        holding a non-leaf tensor's hooks: the tensor may be gone by then, its node is not).

        ``fn`` gets arrays (tensors with ``create_graph``) and may return a replacement. Hooks run in the order
        registered, except that retain_grad's (marked ``fn.retains_grad``) runs last: ``.grad`` then shows the
        gradient as the other hooks left it (torch's rule).
        """
        if self.hooks is None:
            self.hooks = []
        self.hooks.append((output_nr, fn))
        self.hooks.sort(key=lambda h: getattr(h[1], "retains_grad", False))  # stable: keeps the others' order
        self.has_hooks = True

    def register_prehook(self, fn: Any) -> RemovableHandle:
        """torch's ``Node.register_prehook``: call ``fn(grad_outputs)`` just before this node's backward.

        ``grad_outputs`` is a tuple with one tensor per output of the node (None for an output that got no
        gradient): what the backward is about to use, after the tensor hooks of those outputs and retain_grad.
        ``fn`` may return a tuple of the same length to use instead. Hooks run in the order registered, each
        seeing what the one before returned. Returns a handle whose ``remove()`` unregisters ``fn``.
        """
        if self._pre_hooks is None:
            self._pre_hooks = []
        self._pre_hooks.append(fn)
        self.has_hooks = True
        return RemovableHandle(self._pre_hooks, fn)

    def register_hook(self, fn: Any) -> RemovableHandle:
        """torch's ``Node.register_hook``: call ``fn(grad_inputs, grad_outputs)`` just after this node's backward.

        ``grad_inputs``: the gradients the backward computed, one per entry of ``next_functions`` (None where
        that input needs none); ``grad_outputs``: the gradients it received. ``fn`` may return a tuple like
        ``grad_inputs`` to send on instead. A student's window on one step of the chain rule: what came in,
        what went out. Returns a handle whose ``remove()`` unregisters ``fn``.
        """
        if self._post_hooks is None:
            self._post_hooks = []
        self._post_hooks.append(fn)
        self.has_hooks = True
        return RemovableHandle(self._post_hooks, fn)

    def release(self) -> None:
        """Drop the saved arrays once backward has used them (unless retain_graph)."""
        if self.saved:
            self.saved = ()
            self.saved_versions = ()
            self.freed = True

    def raise_modified(self, entry: tuple) -> None:
        """torch's error for a saved tensor written in place since this node saved it (``entry``: see
        ``saved_versions``)."""
        vc, version, k, source = entry
        saved = self.saved[k]
        array = getattr(saved, "_data", saved)
        kind = _TYPE_NAMES.get(str(array.dtype), "Tensor")
        made = None
        if isinstance(source, int):  # this node's own output
            made = f", which is output {source} of {self.fn.__name__},"
        elif source is not None and type(source[0]) is not AccumulateGrad:
            node = source[0]
            made = f", which is output of {node.fn.__name__ if node.fn is not None else node.name()},"
        raise RuntimeError(
            "one of the variables needed for gradient computation has been modified by an inplace "
            f"operation: [minigrad.{kind} {list(array.shape)}]{made or ''} is at version {vc.value}; expected "
            f"version {version} instead. Hint: the tensor was changed in place (x += ..., x[i] = ..., an "
            "optimizer step...) after this node saved it; change a copy (x.clone()) instead.")

    def saved_in_graph(self, wrap: Any) -> tuple:
        """The saved values as tensors in the graph, for a recorded backward (``create_graph=True``).

        A saved input or output gets the history it had when saved: its gradient flows to the same
        node (for a leaf, to the leaf's AccumulateGrad), so the recorded backward can be
        differentiated through it. Everything else an op saved (masks, indices) is a constant.
        ``wrap`` makes a tensor around an array.
        """
        # arrays become tensors; numbers an op saved (Pow's exponent) stay numbers
        tensors = [wrap(getattr(s, "_data", s)) if hasattr(s, "ndim") else s for s in self.saved]
        for vc, _, k, source in self.saved_versions:
            t = tensors[k]
            t._vc = vc  # later writes into the saved tensor's memory are seen through this one too
            if source is None:
                continue
            t.requires_grad = True
            if isinstance(source, int):  # this node's own output
                t.grad_fn, t._output_nr = self, source
            elif type(source[0]) is AccumulateGrad:  # a leaf: stands in for it, its gradient goes to the leaf
                t._accumulator = source[0]
            else:
                t.grad_fn, t._output_nr = source
        for k, (op, inputs, attributes) in self.fn.saved_as_outputs.items():
            edges = tuple(self.next_edges[i] for i in inputs)
            if any(edge is not None for edge in edges):
                tensors[k].grad_fn = _node_of(op, tensors[k]._data, edges, [self.input_meta[i] for i in inputs],
                                              attributes)
                tensors[k].requires_grad = True
        return tuple(tensors)

    # -- used by the engine ----------------------------------------------------------------
    def apply_backward(self, grads: list, create_graph: bool = False) -> list:
        """Gradients w.r.t. each input, reduced to that input's shape and dtype.

        ``grads`` are arrays; with ``create_graph`` they are tensors, and the backward formulas run
        on tensors, recording the backward pass as a graph of its own (see ``RecordedCtx``).
        """
        if self.freed:
            raise RuntimeError(FREED_MESSAGE)
        for entry in self.saved_versions:  # torch's check: nothing saved was written in place since
            if entry[0].value != entry[1]:
                self.raise_modified(entry)
        if create_graph:
            return self._apply_backward_recorded(grads)
        fn = self.fn
        raw = fn.raw
        if raw:
            result = fn.backward(self, grads[0]) if len(grads) == 1 else fn.backward(self, *grads)
        else:
            result = fn.backward_on_arrays(self, grads)
        if type(result) is not tuple:
            result = (result,)
        metas = self.input_meta
        if len(result) != len(metas):
            if raw and len(result) < len(metas):
                # built-in ops take their options (axes, shapes...) as trailing non-tensor arguments
                result += (None,) * (len(metas) - len(result))
            else:
                raise RuntimeError(f"function {self.name()} returned an incorrect number of gradients "
                                   f"(expected {len(metas)}, got {len(result)})")
        out = list(result)
        for i, meta in enumerate(metas):
            g = out[i]
            if g is None or meta is None:  # meta is None for inputs that need no gradient
                out[i] = None
                continue
            if not raw:
                # A user's backward may return an array it also keeps (a saved tensor, even an input's
                # data): hand it on as a view, so that the engine never adds into it in place.
                g = out[i] = (g._data if hasattr(g, "_data") else g).view()
            shape, dtype = meta
            if g.shape != shape:
                out[i] = g = _sum_to_shape(g, shape, self, i)
            if g.dtype is not dtype and g.dtype != dtype:
                out[i] = g.astype(dtype)
        return out

    def _apply_backward_recorded(self, grads: list) -> list:
        """``apply_backward`` on tensors: the same formulas, each op they run recorded."""
        wrap = grads[0]._wrap
        saved = self.saved_in_graph(wrap)
        with enable_grad():
            result = self.fn.backward(RecordedCtx(self, saved), *grads)
        if type(result) is not tuple:
            result = (result,)
        metas = self.input_meta
        if len(result) < len(metas) and self.fn.raw:
            result += (None,) * (len(metas) - len(result))
        elif len(result) != len(metas):
            raise RuntimeError(f"function {self.name()} returned an incorrect number of gradients "
                               f"(expected {len(metas)}, got {len(result)})")
        out = []
        for i, (g, meta) in enumerate(zip(result, metas)):
            if g is None or meta is None:
                out.append(None)
                continue
            if not isinstance(g, TensorBase):  # an array a formula made from constants only
                g = wrap(g)
            shape, dtype = meta
            with enable_grad():
                if g.shape != shape:
                    g = _sum_to_shape(g, shape, self, i)
                if g._data.dtype != dtype:
                    g = _cast(g, dtype)
                if not g.requires_grad:
                    g = _through_masks(g, saved)
            out.append(g)
        return out


class RecordedCtx:
    """The ``ctx`` an op's backward receives in a recorded backward: the node, with its saved values
    as tensors in the graph (``Node.saved_in_graph``).

    Every other attribute is the node's, so a backward reads ``ctx.axis`` or ``ctx.needs_input_grad``
    the same way in both runs. Its formulas then run on tensors: operators work on tensors as on
    arrays, and ``xp_of(tensor)`` gives NumPy's names made of recorded ops (minigrad/ops/recorded.py).
    """

    def __init__(self, node: Node, saved: tuple) -> None:
        self._node = node
        self.saved_tensors = self.saved = saved

    def __getattr__(self, name: str) -> Any:
        return getattr(self._node, name)


def _node_of(op: type, out: Any, edges: tuple, meta: list, attributes: dict) -> Node:
    """A node for ``out`` computed by ``op`` from inputs whose gradients go to ``edges``, as ``op.apply`` would
    have recorded it (keeping ``out`` as its saved output)."""
    node = Node(op)
    node.next_edges, node.input_meta = edges, tuple(meta)
    node.needs_input_grad = tuple(edge is not None for edge in edges)
    node.__dict__.update(attributes)
    node.saved = (out,)
    node.saved_versions = ((VersionCounter(), 0, 0, 0),)  # its output: in a recorded backward, its own
    return node


def _through_masks(g: Any, saved: tuple) -> Any:
    """``g``, marked as depending on the saved tensors that require grad, as torch marks it.

    A gradient such as ReLU's, ``where(out != 0, g, 0)``, depends on ``out`` only through a mask: its
    derivative with respect to ``out`` is 0, but it is one (torch's ``threshold_backward`` takes
    ``out``), so torch's result requires grad and differentiating it gives zeros, not an error.
    """
    for t in saved:
        if isinstance(t, TensorBase) and t.requires_grad:
            from .._backend import xp_of

            return xp_of(g).zero_derivative_wrt(g, t)
    return g


def _cast(g: Any, dtype: Any) -> Any:
    from .._backend import xp_of

    return xp_of(g).astype(g, dtype)


def _sum_to_shape(g: Any, shape: tuple, node: Node, index: int) -> Any:
    """Undo broadcasting: sum the gradient over the axes the forward broadcast along.

    This is the only place in minigrad where broadcasting is undone.
    """
    extra = g.ndim - len(shape)
    ok = extra >= 0 and all(s == 1 or s == gs for s, gs in zip(shape, g.shape[extra:]))
    if not ok:
        raise RuntimeError(f"Function {node.name()} returned an invalid gradient at index {index} - got "
                           f"{list(g.shape)} but expected shape compatible with {list(shape)}")
    axes = tuple(range(extra)) + tuple(extra + i for i, s in enumerate(shape) if s == 1 and g.shape[extra + i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape) if extra else g


def run_prehooks(node: Node, grads: list, wrap: Any, recorded: bool = False) -> list:
    """Pass ``grads`` (a node's incoming gradients: arrays, or tensors in a ``recorded`` backward; None where
    none came) through the node's pre-hooks; returns the gradients its backward should use.

    The hooks see tensors (torch's API), made around the arrays without a copy.
    """
    shown = _as_tensors(grads, wrap)
    for fn in list(node._pre_hooks):  # a copy: a hook may remove itself
        result = fn(tuple(shown))
        if result is not None:
            shown = _checked(fn, result, shown)
    return shown if recorded else _as_arrays(shown)


def run_posthooks(node: Node, grads_in: list, grads_out: list, wrap: Any, recorded: bool = False) -> list:
    """Pass ``grads_in`` (what a node's backward computed for its inputs) through the node's post-hooks, which
    also see ``grads_out`` (what the backward received); returns the gradients to send on."""
    shown = _as_tensors(grads_in, wrap)
    outputs = tuple(_as_tensors(grads_out, wrap))
    # grad_inputs has one entry per next_functions entry. A built-in op also lists its options (a sum's dims...)
    # there, where torch does not: a replacement may leave out such trailing entries, which torch's code does.
    edges = node.next_edges
    needed = len(edges)
    while needed and edges[needed - 1] is None:
        needed -= 1
    for fn in list(node._post_hooks):
        result = fn(tuple(shown), outputs)
        if result is not None:
            if type(result) is tuple and needed <= len(result) < len(shown):
                result += (None,) * (len(shown) - len(result))
            shown = _checked(fn, result, shown)
    return shown if recorded else _as_arrays(shown)


def _as_tensors(values: list, wrap: Any) -> list:
    return [v if v is None or isinstance(v, TensorBase) else wrap(v) for v in values]


def _as_arrays(shown: list) -> list:
    """The hooks' tensors back as arrays, for a backward on arrays: each as a view, which the engine never
    writes into (its ownership rule). A hook may keep the tensors it saw or returned (a student's list of
    gradients); adding a later gradient into one in place would change them behind its back."""
    return [None if s is None else s._data.view() for s in shown]


def _checked(fn: Any, result: Any, before: list) -> list:
    """A hook's replacement tuple, refused with torch's errors unless it is one tensor (or None) per value,
    each of the shape and dtype of the value it replaces."""
    name = getattr(fn, "__name__", type(fn).__name__)
    if type(result) is not tuple:
        raise TypeError(f"expected tuple, but hook returned '{type(result).__name__}'")
    if len(result) != len(before):
        raise RuntimeError(f"hook '{name}' has returned an incorrect number of values (got {len(result)}, but "
                           f"expected {len(before)})")
    for new, old in zip(result, before):
        if new is None:
            continue
        if not isinstance(new, TensorBase):
            raise TypeError(f"expected Variable, but hook returned '{type(new).__name__}'")
        if old is None:
            continue
        if new._data.shape != old._data.shape:
            raise RuntimeError(f"hook '{name}' has changed the size of value")
        if new._data.dtype != old._data.dtype:
            was, got = (_TYPE_NAMES.get(str(t._data.dtype), "Tensor") for t in (old, new))
            raise RuntimeError(f"hook '{name}' has changed the type of value (was minigrad.{was} got minigrad.{got})")
    return list(result)


_TYPE_NAMES = {"float16": "HalfTensor", "float32": "FloatTensor", "float64": "DoubleTensor",
               "int32": "IntTensor", "int64": "LongTensor", "bool": "BoolTensor", "uint8": "ByteTensor"}


class AccumulateGrad(Node):
    """The node that ends a path at a leaf: it adds the incoming gradient to ``leaf.grad``."""

    def __init__(self, variable: TensorBase) -> None:
        super().__init__(None)
        # The leaf holds its node; the node refers back weakly, so the two form no reference cycle.
        self._variable = weakref.ref(variable)

    @property
    def variable(self) -> TensorBase | None:
        """The leaf tensor (None once it has been freed: its gradient can't be read any more)."""
        return self._variable()

    def name(self) -> str:
        return "AccumulateGrad"

    def waits_for_total(self) -> bool:
        """True if the leaf has hooks: the engine then sums its gradients first (its hooks see the total, and
        post-accumulate hooks run once, when ``.grad`` is final for this backward)."""
        leaf = self._variable()
        return leaf is not None and bool(leaf._leaf_hooks or leaf._post_accumulate_hooks or self.has_hooks)

    def accumulate(self, g: Any, owned: bool) -> None:
        """Add the gradient ``g`` into ``leaf.grad``.

        ``owned``: whether the engine owns ``g`` (minigrad/autograd/engine.py states the rule). Only
        an owned array becomes ``.grad`` itself; any other is copied first, so that ``.grad`` never
        shares its array with the caller's gradient, another tensor or a saved array.
        """
        leaf = self._variable()
        if leaf is None:
            return
        if isinstance(g, TensorBase):  # a recorded backward (create_graph)
            g = self._accumulate_recorded(leaf, g, owned)
            if g is None:  # a pre-hook dropped it
                return
        else:
            if leaf._leaf_hooks:  # kept on the tensor: this node lives only as long as a graph uses it
                for _, hook in leaf._leaf_hooks:
                    result = hook(leaf._wrap(g))
                    if result is not None:
                        g, owned = result._data, False
            if self.has_hooks and self._pre_hooks:  # torch's order: the leaf's tensor hooks, then the node's
                (g,) = run_prehooks(self, [g], leaf._wrap)
                owned = False
                if g is None:
                    return
            dtype = leaf._data.dtype
            add = g
            if add.dtype is not dtype and add.dtype != dtype:
                add, owned = add.astype(dtype), True
            if leaf._grad is None:  # the engine's own array, of the leaf's shape and dtype: no checks needed
                leaf._grad = leaf._wrap(add if owned else add.copy())
            else:
                leaf._grad._data += add
        if leaf._post_accumulate_hooks:  # torch's register_post_accumulate_grad_hook: after .grad is final
            for _, hook in leaf._post_accumulate_hooks:
                hook(leaf)
        if self.has_hooks and self._post_hooks:  # an AccumulateGrad computes no gradient: grad_inputs is ()
            run_posthooks(self, [], [g], leaf._wrap, isinstance(g, TensorBase))

    def _accumulate_recorded(self, leaf: TensorBase, g: TensorBase, owned: bool) -> TensorBase | None:
        """``leaf.grad`` becomes ``g`` with its history, or ``leaf.grad + g`` (recorded, not in place). Returns the
        gradient as the hooks left it (None if a pre-hook dropped it), for the post-hooks."""
        with enable_grad():
            for _, hook in leaf._leaf_hooks or ():
                result = hook(g)
                if result is not None:
                    g, owned = result, False
            if self.has_hooks and self._pre_hooks:
                (g,) = run_prehooks(self, [g], leaf._wrap, True)
                owned = False
                if g is None:
                    return None
            add = g
            if add._data.dtype != leaf._data.dtype:
                add, owned = _cast(add, leaf._data.dtype), True
            if leaf._grad is None:
                leaf._grad = add if owned else add.clone()  # never the caller's tensor itself
            else:
                leaf._grad = leaf._grad + add
        return g
