"""Activation checkpointing (``torch.utils.checkpoint``): trade compute for memory.

Training keeps, from the forward pass until backward uses them, the arrays each op saved (its
*activations*): a Linear layer keeps its input, a Tanh its output. For a deep network these are
most of the memory a training step needs. ``checkpoint(function, *args)`` runs ``function``
(a block of layers) normally but throws away what its ops saved as soon as the forward is done,
keeping only the block's arguments; when backward reaches the block, it runs ``function`` once
more on the same arguments to get those arrays back, just in time, and backward continues.

How it works here, in three steps (``checkpoint``, ``_strip``, ``_Recompute``):

1. **Forward.** ``function(*args)`` runs with grad recording on, exactly as it would without
   checkpointing, so the graph is the ordinary one: the output's ``grad_fn`` is the block's last
   op (``AddmmBackward0``...), its parameters are reached through their own ``AccumulateGrad``
   nodes, and every later feature of the engine (hooks, ``autograd.grad`` w.r.t. a parameter
   inside, ``backward(inputs=...)``, ``create_graph``) works unchanged. Then we walk the block's
   nodes, from its outputs back to its arguments and to leaves, and empty each node's ``saved``:
   the nodes stay (a few hundred bytes each), their arrays go.
2. **Just before backward enters the block**, a hook on the nodes of the block's outputs (the
   engine runs a node's hooks before its backward) runs ``function(*args)`` again, with the
   random generators put back where they were before the forward (so Dropout draws the same
   mask), then walks the new graph and the old one side by side. They have the same shape,
   node for node, because the same ops ran in the same order; each old node gets the new node's
   saved arrays back. The new graph is then dropped.
3. **Backward** runs through the old nodes as if nothing had happened. The values saved are the
   same bits as in the first run, so the gradients equal a plain run's bit for bit. Each node
   still remembers the versions of what it saved in the first forward (``saved_versions``), so
   an argument changed in place between forward and backward raises torch's error, and a
   recorded backward (``create_graph=True``) puts the saved values back into the right graph.

This is what torch does with ``use_reentrant=False`` (with saved-tensor hooks: each saved
tensor is a placeholder that triggers the recomputation when backward first unpacks it).
torch's older ``use_reentrant=True`` variant wraps the block in one node,
``CheckpointFunctionBackward``, whose backward recomputes the block and runs a nested backward
through it. minigrad has the one implementation above for both values of ``use_reentrant``;
with ``use_reentrant=True`` (torch's default when the argument is left out, with a warning, as
torch) it raises or warns where torch does when ``checkpoint`` is called (keyword arguments,
``context_fn``/``debug``, no argument requiring grad: then the output does not require grad and
no parameter inside gets a gradient, as in torch). It does not raise torch's backward-time error
for ``autograd.grad()`` and ``backward(inputs=...)``, which the reentrant variant cannot support
and this one can; and the output's ``grad_fn`` is the block's last op, not
``CheckpointFunctionBackward``.

Limits. A tensor with a history (not a leaf) that ``function`` uses must be passed as an
argument, not captured from an enclosing scope: the forward walk cannot tell such a tensor's
nodes from the block's own (nodes carry no creation time), so it would empty them too; the
recomputation notices it and raises ``CheckpointError``. Parameters and other leaves can be
captured freely (a Module's weights). The host's default generator is always preserved; for CuPy
arguments the default generator of their GPU is too (``Generator.get_state`` / ``set_state``).

What it saves: the memory of an n-layer MLP, ``checkpoint_sequential(model, s, x)``
---------------------------------------------------------------------------------
Take n blocks ``Linear(w, w)`` then ``Tanh``, batch b, float32 (4 bytes), ``.grad`` already
allocated (a second training step: gradients are added into it in place). Let
``x = b·w·4`` bytes, one activation array. Each layer saves two arrays of that size, Linear its
input and Tanh its output, but Tanh's output *is* the next Linear's input: one new array
``a = x`` per layer. The peak of a step is then, above the model and its gradients:

* **plain**: the forward keeps all n activations (n·a); backward then frees one per layer while
  it allocates, per layer, a transient weight gradient ``g_w = w·w·4`` and a few ``x``-sized
  arrays (the incoming gradient, Tanh's ``g·(1 - y²)``, the gradient of the layer's input).
  ``peak ≈ n·a + c``, c the per-layer transient, the same in every variant.
* **s segments** (torch's rule, kept here: segment size ``k = n // s``; the first ``s - 1``
  segments are checkpointed, the last segment, the remaining ``n - (s-1)·k`` layers, runs
  plainly): the forward keeps the ``s - 1`` segment inputs (each one array ``x``, already
  counted as an activation of the layer before) and the last segment's activations; backward
  goes through the last segment as a plain one, then recomputes one checkpointed segment at a
  time, holding its k layers' activations on top of the segment inputs not yet reached.
  ``peak ≈ (s - 1)·x + max(n - (s-1)·k, k)·a + c``.

For n = 32: s = 1 is the plain run (torch checkpoints nothing then); s = 4 gives
``3x + 8a`` ≈ 11 arrays instead of 32; s = 32 gives ``31x + 1a`` ≈ 32, no better than plain,
since every layer input is kept as a segment input. The best s is near ``sqrt(n)``.
tests/test_checkpoint_activations.py measures these peaks with tracemalloc and checks them
against this formula, with ``c`` counted from the shapes too.
"""

from __future__ import annotations

import contextlib
import warnings
import weakref
from collections.abc import Callable, Iterator
from typing import Any

from .. import _autocast, _backend, random
from .._grad_mode import enable_grad, is_grad_enabled, no_grad
from ..autograd.graph import AccumulateGrad, Node, TensorBase

__all__ = ["CheckpointError", "checkpoint", "checkpoint_sequential", "held_for_recomputation", "noop_context_fn",
           "refill"]

_REENTRANT_WARNING = (
    "torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. Starting in PyTorch 2.9, "
    "calling checkpoint without use_reentrant will raise an exception. use_reentrant=False is recommended, but "
    "if you need to preserve the current default behavior, you can pass use_reentrant=True. Refer to docs for "
    "more details on the differences between the two variants.")
_SEQUENTIAL_WARNING = (
    "torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter should be passed explicitly. In "
    "version 2.9 we will raise an exception if use_reentrant is not passed. use_reentrant=False is recommended, "
    "but if you need to preserve the current default behavior, you can pass use_reentrant=True. Refer to docs "
    "for more details on the differences between the two variants.")


class CheckpointError(RuntimeError):
    """The recomputation did not reproduce the forward pass (torch's ``CheckpointError``)."""


def noop_context_fn() -> tuple:
    """The default ``context_fn``: no context around the forward nor around the recomputation."""
    return contextlib.nullcontext(), contextlib.nullcontext()


def checkpoint(function: Callable, *args: Any, use_reentrant: bool | None = None,
               context_fn: Callable[[], tuple] = noop_context_fn, determinism_check: str = "default",
               debug: bool = False, early_stop: bool = True, **kwargs: Any) -> Any:
    """``function(*args, **kwargs)``, keeping none of its activations for backward: they are recomputed.

    ``preserve_rng_state=True`` (a keyword, as in torch) puts the random generators back for the
    recomputation, so Dropout inside draws the same mask. ``context_fn`` returns two context
    managers, one around the forward, one around the recomputation (``use_reentrant=False`` only).
    ``determinism_check="default"`` compares the shapes and dtypes recomputed with the forward's;
    ``"none"`` checks only that the same ops ran. ``debug`` and ``early_stop`` are accepted for
    torch's sake and change nothing (recomputation here always runs the whole function).
    """
    if use_reentrant is None:
        warnings.warn(_REENTRANT_WARNING, stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    if use_reentrant:
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
        if is_grad_enabled() and not any(isinstance(a, TensorBase) and a.requires_grad for a in args):
            # torch's reentrant variant differentiates only through the arguments: nothing to differentiate
            warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", stacklevel=2)
            with no_grad():
                return function(*args)
    elif determinism_check not in ("default", "none"):
        raise ValueError(f"determinism_check should be one of ['default', 'none'], but got {determinism_check}")
    if not is_grad_enabled():  # nothing is recorded, so nothing is kept: just run it
        return function(*args, **kwargs)
    forward_context, recompute_context = context_fn()
    rng_state = _rng_state(args) if preserve else None
    with forward_context:
        outputs = function(*args, **kwargs)
    boundary = {id(t.grad_fn) for t in _tensors_in(args) if t.grad_fn is not None}
    out_nodes = _unique([t.grad_fn for t in _tensors_in(outputs) if t.grad_fn is not None
                         and id(t.grad_fn) not in boundary])
    nodes = _walk(out_nodes, boundary)
    if not any(node.saved for node in nodes):
        return outputs  # nothing was saved, nothing to recompute
    metadata = [_metadata(node.saved) for node in nodes]
    for node in nodes:
        node.saved = ()  # the point of it all: the arrays go, the node stays
    hook = _Recompute(function, args, kwargs, rng_state, recompute_context, out_nodes, boundary, metadata,
                      determinism_check)
    for node in out_nodes:
        node.register_prehook(hook)  # torch's node pre-hook: runs just before the node's backward
        _blocks[node] = hook
    return outputs


# The block each output node refills, for refill() and held_for_recomputation(); weak, so it never keeps a
# graph alive.
_blocks: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@contextlib.contextmanager
def _autocast_restored(state: Any) -> Iterator[None]:
    """The autocast of the forward pass, for the recomputation (backward usually runs outside autocast): the
    same ops in the same dtypes give the same saved arrays. A fresh cast cache, dropped afterwards."""
    if state is None:
        token = _autocast.state.set(None)
    else:
        token = _autocast.state.set(_autocast.AutocastState(state.cpu, state.cuda,
                                                            None if state.cache is None else {}, 1))
    try:
        yield
    finally:
        _autocast.state.reset(token)


class _Recompute:
    """The hook on the block's output nodes: refill the block's nodes before backward runs the first of them.

    It holds the block's arguments (the memory checkpointing keeps) and the output nodes weakly: the
    nodes hold this hook, and a strong reference back would make a cycle that only ``gc`` could free.
    """

    def __init__(self, function: Callable, args: tuple, kwargs: dict, rng_state: Any, context: Any,
                 out_nodes: list, boundary: set, metadata: list, determinism_check: str) -> None:
        self.function, self.args, self.kwargs = function, args, kwargs
        self.rng_state, self.context = rng_state, context
        self.autocast = _autocast.state.get()  # the forward's autocast (or None): the recomputation runs under it too
        self.out_nodes = [weakref.ref(node) for node in out_nodes]
        self.boundary, self.metadata, self.determinism_check = boundary, metadata, determinism_check
        self.done = False

    def __call__(self, grad: Any) -> None:
        if self.done:  # already refilled (a second output's node, or a second backward with retain_graph)
            return None
        self.done = True
        old = [ref() for ref in self.out_nodes]
        with _rng_restored(self.rng_state, self.args), _autocast_restored(self.autocast), enable_grad(), self.context:
            outputs = self.function(*self.args, **self.kwargs)
        new = _unique([t.grad_fn for t in _tensors_in(outputs) if t.grad_fn is not None
                       and id(t.grad_fn) not in self.boundary])
        pairs = self._pairs(new, old)
        if self.determinism_check == "default":
            self._check(pairs)
        for new_node, old_node in pairs:
            old_node.saved = new_node.saved
        self.function = self.args = self.kwargs = None  # never needed again: let the block's input go
        return None

    def _pairs(self, new: list, old: list) -> list:
        """The recomputed nodes and the forward's, side by side, in the order ``_walk`` visits the forward's."""
        if len(new) != len(old) or any(n.fn is not o.fn for n, o in zip(new, old)):
            raise CheckpointError("torch.utils.checkpoint: the recomputation returned different outputs than "
                                  "the forward pass (is the function deterministic?)")
        pairs = []
        seen = set()
        stack = list(zip(reversed(new), reversed(old)))
        while stack:
            n, o = stack.pop()
            if id(o) in seen:
                continue
            seen.add(id(o))
            if n is o:
                raise CheckpointError(
                    "torch.utils.checkpoint: the function uses a tensor with a history that is not one of its "
                    "arguments (one captured from outside); its nodes were emptied with the block's. Pass every "
                    "tensor that is not a leaf as an argument of checkpoint().")
            if n.fn is not o.fn or len(n.next_edges) != len(o.next_edges):
                raise CheckpointError(f"torch.utils.checkpoint: the recomputation ran {n.name()} where the forward "
                                      f"pass ran {o.name()} (is the function deterministic?)")
            pairs.append((n, o))
            for ne, oe in reversed(list(zip(n.next_edges, o.next_edges))):
                if oe is None or _stops(oe[0], self.boundary):
                    continue
                if ne is None:
                    raise CheckpointError(f"torch.utils.checkpoint: an input of {o.name()} needed a gradient in "
                                          "the forward pass but not in the recomputation")
                stack.append((ne[0], oe[0]))
        return pairs

    def _check(self, pairs: list) -> None:
        """torch's determinism check: the recomputed saved values have the forward's shapes and dtypes."""
        for position, ((n, _), before) in enumerate(zip(pairs, self.metadata)):
            after = _metadata(n.saved)
            if after != before:
                raise CheckpointError(
                    "torch.utils.checkpoint: Recomputed values for the following tensors have different metadata "
                    f"than during the forward pass.\nnode at position {position} ({n.name()}):\n"
                    f"saved metadata: {before}\nrecomputed metadata: {after}\n")


def refill(node: Node) -> bool:
    """Recompute the checkpointed block whose output ``node`` is, now, as backward does just before it runs
    ``node``; True if there was one still to refill. minigrad.memory's replay of backward calls this, so that
    its predicted peak holds one recomputed block at a time, as the real backward does."""
    hook = _blocks.get(node)
    if hook is None or hook.done:
        return False
    hook(None)
    return True


def held_for_recomputation(node: Node) -> list:
    """The arrays a checkpointed block whose output ``node`` is keeps until backward refills it: its arguments'
    (the memory checkpointing spends). Empty for any other node."""
    hook = _blocks.get(node)
    if hook is None or hook.done:
        return []
    return [t._data for t in _tensors_in(hook.args)]


def checkpoint_sequential(functions: Any, segments: int, input: Any, use_reentrant: bool | None = None,
                          **kwargs: Any) -> Any:
    """Run ``functions`` (a Sequential or a list of modules) one after another, in ``segments`` pieces.

    As torch: with ``k = len(functions) // segments``, the first ``segments - 1`` pieces of ``k``
    functions are each checkpointed, and the rest (the last piece) runs plainly, since backward
    starts there at once. So ``segments=1`` checkpoints nothing.
    """
    if use_reentrant is None:
        warnings.warn(_SEQUENTIAL_WARNING, stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    if hasattr(functions, "children"):  # a Sequential: its layers
        functions = list(functions.children())
    segment_size = len(functions) // segments
    end = -1
    for start in range(0, segment_size * (segments - 1), segment_size):
        end = start + segment_size - 1
        input = checkpoint(_run(functions, start, end), input, use_reentrant=use_reentrant,
                           preserve_rng_state=preserve)
    return _run(functions, end + 1, len(functions) - 1)(input)


def _run(functions: list, start: int, end: int) -> Callable:
    """A function that applies ``functions[start..end]`` (both included) in turn."""
    def forward(input: Any) -> Any:
        for j in range(start, end + 1):
            input = functions[j](input)
        return input

    return forward


# -- walking the block's nodes --------------------------------------------------------------------


def _stops(node: Node, boundary: set) -> bool:
    """Whether the walk stops at ``node``: a leaf's AccumulateGrad, or the node that made an argument."""
    return type(node) is AccumulateGrad or id(node) in boundary


def _walk(starts: list, boundary: set) -> list:
    """The block's nodes: everything reachable from ``starts`` before a leaf or an argument, each once.

    Depth first with an explicit stack (a block can be thousands of ops deep); ``_Recompute._pairs``
    visits the recomputed graph in exactly this order.
    """
    nodes = []
    seen = set()
    stack = list(reversed(starts))
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        nodes.append(node)
        for edge in reversed(node.next_edges):
            if edge is not None and not _stops(edge[0], boundary):
                stack.append(edge[0])
    return nodes


def _unique(nodes: list) -> list:
    """``nodes`` without repeats, in order (two outputs of one op share a node)."""
    return list({id(n): n for n in nodes}.values())


def _tensors_in(obj: Any) -> Iterator[TensorBase]:
    """The tensors inside a function's arguments or outputs (nested tuples, lists and dicts)."""
    if isinstance(obj, TensorBase):
        yield obj
    elif isinstance(obj, (tuple, list)):
        for item in obj:
            yield from _tensors_in(item)
    elif isinstance(obj, dict):
        for item in obj.values():
            yield from _tensors_in(item)


def _metadata(saved: tuple) -> tuple:
    """(shape, dtype) of each array or tensor a node saved, for the determinism check."""
    out = []
    for s in saved:
        array = getattr(s, "_data", s)
        if hasattr(array, "shape") and hasattr(array, "dtype"):
            out.append((tuple(array.shape), str(array.dtype)))
    return tuple(out)


# -- random generators ---------------------------------------------------------------------------


def _gpu_devices(args: tuple) -> list:
    """The GPUs the tensor arguments live on (their generators are saved too, as torch does)."""
    devices = {}
    for t in _tensors_in(args):
        d = _backend.device_of(t._data)
        if d.type == "cuda":
            devices[d.index or 0] = d
    return list(devices.values())


def _rng_state(args: tuple) -> list:
    """Snapshots of the host's default generator and of the default generators of the arguments' GPUs."""
    generators = [random.default_generator] + [random.cuda_default_generator(d) for d in _gpu_devices(args)]
    return [(g, g.get_state()) for g in generators]


def _set_rng_state(states: list) -> None:
    for generator, state in states:
        generator.set_state(state)


@contextlib.contextmanager
def _rng_restored(states: list | None, args: tuple) -> Iterator[None]:
    """Run the block with the generators as they were before its forward, then put them back as they are now."""
    if states is None:
        yield
        return
    now = _rng_state(args)
    _set_rng_state(states)
    try:
        yield
    finally:
        _set_rng_state(now)
