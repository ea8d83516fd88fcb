"""``Function``: the single place where an op enters the graph.

Every op, built-in or written by a user, is a ``Function`` subclass with a
``forward`` and a ``backward`` side by side. ``Function.apply`` runs forward,
and when a gradient is needed it records a ``Node`` (minigrad/autograd/graph.py)
as the output's ``grad_fn``.

Built-in ops set ``raw = True``: their forward and backward work on plain
NumPy/CuPy arrays, which keeps the per-op overhead small. A user's Function
gets and returns minigrad tensors, as in torch.

Outputs are made by the first tensor argument's ``_wrap`` (a plain ``Tensor``,
even when that argument is a ``Parameter``), so this module needs only
``TensorBase`` (minigrad/autograd/graph.py), not minigrad/tensor.py.
"""

from __future__ import annotations

from typing import Any

from .._backend import device_of
from .._grad_mode import _enabled as _grad_enabled
from .._grad_mode import no_grad
from . import anomaly_mode
from .graph import Node, TensorBase, VersionCounter

__all__ = ["Function", "raise_device_mismatch"]

_new_object = object.__new__


class Function:
    """Base class of every differentiable op (``torch.autograd.Function``).

    Subclasses define ``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)`` as static
    methods and are called with ``MyFunction.apply(*args)``.

    ``backward`` may return any tensors, even saved ones or its incoming gradients: the engine
    writes only into gradient arrays it owns (minigrad/autograd/engine.py), and it takes what a
    user's backward returns as views, which it never owns. Built-in ops (``Op``, ``raw = True``)
    follow a stricter contract that lets the engine own their new arrays; see ``ops/_base.py``.

    Differs from torch: ``forward`` must take ``ctx`` first (no ``setup_context`` style), there is no forward
    mode (``jvp``) or ``vmap``, and ``ctx`` has no ``mark_dirty``, ``set_materialize_grads`` or
    ``save_for_forward``.
    """

    raw = False  # True for built-in ops, whose forward/backward take arrays, not tensors
    returns_view = False  # True for ops whose result may be a view of the first input's memory
    # For an op that saves a value it computed from its inputs (a fused loss keeps softmax(input)):
    # {index in saved: (op, input positions, node attributes)}, the op that value is the output of.
    # A recorded backward differentiates the value through that op (Node.saved_in_graph).
    saved_as_outputs: dict = {}

    @staticmethod
    def forward(ctx: Node, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx: Node, *grad_outputs: Any) -> Any:
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    @classmethod
    def backward_on_arrays(cls, ctx: Node, grads: list) -> Any:
        """Run ``backward`` on tensors around the gradient arrays ``grads``, recording nothing."""
        with no_grad():
            return cls.backward(ctx, *(ctx._wrap(g) for g in grads))

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        ctx = _new_object(Node)
        ctx.fn = cls
        raw = cls.raw
        fargs = []
        edges = []  # per input: where its gradient goes next, or None
        meta = []  # per input: (shape, dtype), to reduce and cast its gradient
        needs = []  # per input: whether it needs a gradient
        first = None  # the first tensor argument: its _wrap makes the outputs
        array_type = None
        for a in args:
            if isinstance(a, TensorBase):
                if a._base is not None:  # a view: written since it got its history? (then it takes a new one)
                    a._refresh_view()
                arr = a._data
                if first is None:
                    first = a
                    array_type = type(arr)
                elif type(arr) is not array_type:
                    raise_device_mismatch(args)
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
        if raw:  # a built-in op: it always has a tensor argument
            out = cls.forward(ctx, *fargs, **kwargs) if kwargs else cls.forward(ctx, *fargs)
        else:
            with no_grad():
                out = cls.forward(ctx, *fargs, **kwargs)
            if first is None:  # no tensor argument: nothing was recorded, and forward's results go back as they are
                return out
            ctx._wrap = first._wrap  # its backward gets tensors too (backward_on_arrays)
        wrap = first._wrap
        if type(out) is not tuple:
            if type(out) is not array_type and isinstance(out, TensorBase):  # from a user's Function
                out = out._data
            t = wrap(out)  # (_wrap turns the NumPy scalar of a full reduction into a 0-dim array)
            if cls.returns_view and _same_memory(t._data, first._data):
                t._share_memory_of(first)
            if record and t._data.dtype.kind in "fc" and not ctx.non_differentiable:
                ctx.next_edges = tuple(edges)
                ctx.input_meta = tuple(meta)
                if anomaly_mode.enabled:
                    ctx.forward_stack = anomaly_mode.forward_stack()
                t.grad_fn = ctx
                t.requires_grad = True
                if ctx.saved:
                    if t._data is not out:  # a NumPy scalar made a 0-dim array: save that, it is the output
                        for s in ctx.saved:
                            if s is out:
                                ctx.saved = _replaced(ctx.saved, out, t._data)
                                break
                    ctx.saved_versions = _saved_versions(ctx, args, (t,), edges)
            return t
        if record:
            ctx.next_edges = tuple(edges)
            ctx.input_meta = tuple(meta)
            if anomaly_mode.enabled:
                ctx.forward_stack = anomaly_mode.forward_stack()
        outs = _wrap_outputs(ctx, out, record, wrap)
        if record and ctx.saved:
            ctx.saved_versions = _saved_versions(ctx, args, outs, edges)
        return outs


def _replaced(values: tuple, old: Any, new: Any) -> tuple:
    """``values`` with ``new`` where ``old`` was (no generator here: it would make ``apply``'s locals cells)."""
    return tuple([new if v is old else v for v in values])


def _wrap_outputs(ctx: Node, outs: tuple, record: bool, wrap: Any) -> tuple:
    """Tensors for the outputs of a multi-output op; the differentiable ones get ``ctx`` as grad_fn."""
    arrays = [o._data if isinstance(o, TensorBase) else o for o in outs]
    result = tuple(wrap(a) for a in arrays)
    if not record:
        return result
    ctx.n_outputs = len(arrays)
    ctx.output_meta = tuple((a.shape, a.dtype) for a in arrays)
    non_diff = {id(o._data if isinstance(o, TensorBase) else o) for o in ctx.non_differentiable}
    for i, (t, a) in enumerate(zip(result, arrays)):
        if id(a) not in non_diff and a.dtype.kind in "fc":
            t.grad_fn = ctx
            t._output_nr = i
            t.requires_grad = True
    return result


def _same_memory(a: Any, b: Any) -> bool:
    """Whether ``a`` views the memory ``b`` views (NumPy and CuPy point a view's ``base`` at the owner)."""
    root = b if b.base is None else b.base
    return a.base is not None and (a.base is root or a.base is b)


def _saved_versions(ctx: Node, inputs: tuple, outputs: tuple, edges: list) -> tuple:
    """The version of each input or output tensor ``ctx`` saved, to check before backward uses it.

    One entry per saved tensor: (its VersionCounter, the version now, its place in ``ctx.saved``,
    its source: the edge its gradient goes to if it is an input (None if it needs none), or the
    output index if it is ``ctx``'s own output: ``ctx`` itself is not held, which would make a
    reference cycle). A recorded backward puts the saved tensors back into the graph from these.
    """
    entries = []
    raw = ctx.fn.raw
    k = -1
    for s in ctx.saved:
        k += 1
        if s is None:
            continue
        array = s if raw else s._data  # a user's Function saves tensors (detached)
        t = source = None
        i = -1
        for a in inputs:
            i += 1
            if getattr(a, "_data", None) is array:
                t, source = a, edges[i]
                break
        else:
            j = -1
            for o in outputs:
                j += 1
                if o._data is array:
                    t, source = o, (j if o.grad_fn is ctx else None)
                    break
            else:
                if isinstance(s, TensorBase):  # a tensor a user's forward made: its own counter
                    t = s
                else:  # an array the op made itself: nobody else can change it
                    continue
        vc = t._vc
        if vc is None:
            vc = t._vc = VersionCounter()
        entries.append((vc, vc.value, k, source))
    return tuple(entries)


def raise_device_mismatch(args: tuple) -> None:
    """torch's error for tensors on different devices in one op."""
    devices = [str(device_of(a._data)) for a in args if isinstance(a, TensorBase)]
    names = sorted(set(devices))
    raise RuntimeError("Expected all tensors to be on the same device, but found at least two devices, "
                       f"{names[0]} and {names[-1]}!")
