"""Graph nodes and ``Function``: the single place where an op enters the graph.

Every op, built-in or written by a user, is a ``Function`` subclass with a
``forward`` and a ``backward`` side by side. ``Function.apply`` runs forward,
and when a gradient is needed it records a ``Node`` (the output's ``grad_fn``)
holding:

* ``next_edges``: for each input, the node its gradient flows to next
  (``None`` for inputs that need no gradient);
* ``saved``: exactly the arrays ``backward`` needs (``ctx.save_for_backward``).
  The memory report counts these, and they are dropped after backward.

Built-in ops set ``raw = True``: their forward and backward work on plain
NumPy/CuPy arrays, which keeps the per-op overhead small. A user's Function
gets and returns minigrad tensors, as in torch.
"""

from __future__ import annotations

import weakref
from typing import Any

from .._grad_mode import _enabled as _grad_enabled
from .._grad_mode import no_grad

FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they "
    "have already been freed). Saved intermediate values of the graph are freed when you call "
    ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
    "graph a second time or if you need to access saved tensors after calling backward."
)


Tensor: Any = None  # set by minigrad/tensor.py (the two modules refer to each other)
_new_object = object.__new__


class Node:
    """A recorded op, also the ``ctx`` its forward and backward receive."""

    # Class-level defaults: an op sets only what it uses, which keeps recording cheap.
    next_edges: tuple = ()  # per input: (node, output index) its gradient goes to, or None
    input_meta: tuple = ()  # per input: (shape, dtype), to reduce and cast gradients
    needs_input_grad: tuple = ()
    saved: tuple = ()
    freed = False
    n_outputs = 1
    output_meta: tuple = ()
    hooks: list | None = None  # (output index, fn(grad array) -> grad array or None)
    non_differentiable: tuple = ()

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
        fn = self.fn
        return fn.__name__ + ("Backward0" if fn.raw else "Backward")

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"

    @property
    def next_functions(self) -> tuple:
        return tuple((e[0], e[1]) if e is not None else (None, 0) for e in self.next_edges)

    def register_hook(self, output_nr: int, hook: Any) -> None:
        if self.hooks is None:
            self.hooks = []
        self.hooks.append((output_nr, hook))

    def release(self) -> None:
        """Drop the saved arrays once backward has used them (unless retain_graph)."""
        if self.saved:
            self.saved = ()
            self.freed = True

    # -- used by the engine ----------------------------------------------------------------
    def apply_backward(self, grads: list) -> list:
        """Gradients w.r.t. each input, reduced to that input's shape and dtype."""
        if self.freed:
            raise RuntimeError(FREED_MESSAGE)
        fn = self.fn
        raw = fn.raw
        if raw:
            result = fn.backward(self, grads[0]) if len(grads) == 1 else fn.backward(self, *grads)
        else:
            with no_grad():
                result = fn.backward(self, *(Tensor._wrap(g) for g in grads))
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


class AccumulateGrad(Node):
    """The node that ends a path at a leaf: it adds the incoming gradient to ``leaf.grad``."""

    def __init__(self, variable: Any) -> None:
        super().__init__(None)
        # The leaf holds its node; the node refers back weakly, so the two form no reference cycle.
        self._variable = weakref.ref(variable)

    @property
    def variable(self) -> Any:
        """The leaf tensor (None once it has been freed: its gradient can't be read any more)."""
        return self._variable()

    def name(self) -> str:
        return "AccumulateGrad"

    def waits_for_total(self) -> bool:
        """True if the leaf has hooks: the engine then sums its gradients first (its hooks see the total)."""
        leaf = self._variable()
        return leaf is not None and bool(leaf._leaf_hooks)

    def accumulate(self, g: Any, owned: bool) -> None:
        """Add the gradient ``g`` into ``leaf.grad``.

        ``owned``: whether the engine owns ``g`` (minigrad/autograd/engine.py states the rule). Only
        an owned array becomes ``.grad`` itself; any other is copied first, so that ``.grad`` never
        shares its array with the caller's gradient, another tensor or a saved array.
        """
        leaf = self._variable()
        if leaf is None:
            return
        if leaf._leaf_hooks:  # kept on the tensor: this node lives only as long as a graph uses it
            for _, hook in leaf._leaf_hooks:
                result = hook(leaf._wrap(g))
                if result is not None:
                    g, owned = result._data, False
        dtype = leaf._data.dtype
        if g.dtype is not dtype and g.dtype != dtype:
            g, owned = g.astype(dtype), True
        if leaf.grad is None:
            leaf.grad = Tensor._wrap(g if owned else g.copy())
        else:
            leaf.grad._data += g


class Function:
    """Base class of every differentiable op (``torch.autograd.Function``).

    Subclasses define ``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)`` as static
    methods and are called with ``MyFunction.apply(*args)``.

    ``backward`` may return any tensors, even saved ones or its incoming gradients: the engine
    writes only into gradient arrays it owns (minigrad/autograd/engine.py), and it takes what a
    user's backward returns as views, which it never owns. Built-in ops (``Op``, ``raw = True``)
    follow a stricter contract that lets the engine own their new arrays; see ``ops/_base.py``.
    """

    raw = False  # True for built-in ops, whose forward/backward take arrays, not tensors

    @staticmethod
    def forward(ctx: Node, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx: Node, *grad_outputs: Any) -> Any:
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        ctx = _new_object(Node)
        ctx.fn = cls
        raw = cls.raw
        fargs = []
        edges = []  # per input: where its gradient goes next, or None
        meta = []  # per input: (shape, dtype), to reduce and cast its gradient
        needs = []  # per input: whether it needs a gradient
        array_type = None
        for a in args:
            if isinstance(a, Tensor):
                arr = a._data
                if array_type is None:
                    array_type = type(arr)
                elif type(arr) is not array_type:
                    _raise_device_mismatch(args)
                fargs.append(arr if raw else a.detach())
                if a.requires_grad:
                    fn = a.grad_fn
                    if fn is not None:
                        edges.append((fn, a._output_nr))
                    else:  # a leaf: its gradient goes to its AccumulateGrad node
                        acc = a._accumulator
                        edges.append((acc, 0) if acc is not None else a._edge())
                    meta.append((arr.shape, arr.dtype))
                    needs.append(True)
                    continue
            else:
                fargs.append(a)
            edges.append(None)
            meta.append(None)
            needs.append(False)
        ctx.needs_input_grad = needs = tuple(needs)
        record = True in needs and _grad_enabled.get()
        if raw:
            out = cls.forward(ctx, *fargs, **kwargs) if kwargs else cls.forward(ctx, *fargs)
        else:
            with no_grad():
                out = cls.forward(ctx, *fargs, **kwargs)
        if type(out) is not tuple:
            if type(out) is array_type:
                t = _new_object(Tensor)
                t._data = out
            else:  # a Tensor (from a user's Function), or a NumPy scalar from a reduction
                t = Tensor._wrap(out._data if isinstance(out, Tensor) else out)
            if record and t._data.dtype.kind in "fc" and not ctx.non_differentiable:
                ctx.next_edges = tuple(edges)
                ctx.input_meta = tuple(meta)
                t.grad_fn = ctx
                t.requires_grad = True
            return t
        if record:
            ctx.next_edges = tuple(edges)
            ctx.input_meta = tuple(meta)
        return _wrap_outputs(ctx, out, record)


def _wrap_outputs(ctx: Node, outs: tuple, record: bool) -> tuple:
    """Tensors for the outputs of a multi-output op; the differentiable ones get ``ctx`` as grad_fn."""
    arrays = [o._data if isinstance(o, Tensor) else o for o in outs]
    result = tuple(Tensor._wrap(a) for a in arrays)
    if not record:
        return result
    ctx.n_outputs = len(arrays)
    ctx.output_meta = tuple((a.shape, a.dtype) for a in arrays)
    non_diff = {id(o._data if isinstance(o, Tensor) else o) for o in ctx.non_differentiable}
    for i, (t, a) in enumerate(zip(result, arrays)):
        if id(a) not in non_diff and a.dtype.kind in "fc":
            t.grad_fn = ctx
            t._output_nr = i
            t.requires_grad = True
    return result


def _raise_device_mismatch(args: tuple) -> None:
    devices = [str(a.device) for a in args if isinstance(a, Tensor)]
    names = sorted(set(devices))
    raise RuntimeError("Expected all tensors to be on the same device, but found at least two devices, "
                       f"{names[0]} and {names[-1]}!")
