"""``backward`` and ``grad``, torch.autograd's two entry points into the engine (minigrad/autograd/engine.py).

``backward`` adds gradients into the ``.grad`` of leaves; ``grad`` returns the gradients of the
given inputs and writes no ``.grad``. With ``create_graph=True`` the backward pass is recorded,
so the gradients have a history and can be differentiated again (double backprop).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._backend import xp_of
from .engine import run_backward
from .graph import TensorBase


def _as_tuple(x: Any) -> tuple:
    if isinstance(x, TensorBase) or x is None:
        return (x,)
    return tuple(x)


def _shape_text(shape: tuple) -> str:
    return f"minigrad.Size({list(shape)})"


def _make_grads(outputs: tuple, grad_outputs: tuple, create_graph: bool) -> list:
    """The gradient each output starts with: arrays, or tensors for a recorded backward (torch's checks)."""
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"got {len(outputs)} tensors and {len(grad_outputs)} gradients")
    grads = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not isinstance(out, TensorBase):
            raise TypeError(f"outputs must be Tensors, but got {type(out).__name__}")
        if not out.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        data = out._data
        if g is None:
            if data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            g = data.copy()  # a copy and a fill: cheaper than ones_like
            g.fill(1)
            grads.append(out._wrap(g) if create_graph else g)
            continue
        given = g
        array = g._data if isinstance(g, TensorBase) else xp_of(data).asarray(g)
        if array.shape != data.shape:
            raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {_shape_text(array.shape)} and "
                               f"output[{i}] has a shape of {_shape_text(data.shape)}.")
        if create_graph:  # the caller's tensor itself, so that its own history takes part
            g = given if isinstance(given, TensorBase) else out._wrap(array)
            grads.append(g if array.dtype == data.dtype else g.to(out.dtype))
        else:
            grads.append(array.astype(data.dtype, copy=False))
    return grads


def _check_inputs(inputs: tuple, name: str) -> list:
    if not inputs:
        raise RuntimeError(f"`inputs` argument to `{name}()` cannot be empty.")
    for t in inputs:
        if not isinstance(t, TensorBase):
            raise RuntimeError(f"all inputs have to be Tensors or GradientEdges, but got {type(t).__name__}")
    return list(inputs)


def backward(tensors: Any, grad_tensors: Any = None, retain_graph: bool | None = None, create_graph: bool = False,
             grad_variables: Any = None, inputs: Any = None) -> None:
    """Add the gradients of ``tensors`` into ``.grad`` of every leaf they depend on (or only of ``inputs``).

    ``grad_tensors``: the gradient of each of ``tensors`` (None for a scalar's 1). ``create_graph``:
    record the backward pass, so that the gradients can be differentiated again; ``retain_graph``
    defaults to it.
    """
    tensors = _as_tuple(tensors)
    if grad_variables is not None:
        grad_tensors = grad_variables
    grad_tensors = (None,) * len(tensors) if grad_tensors is None else _as_tuple(grad_tensors)
    if inputs is not None:
        inputs = _check_inputs(_as_tuple(inputs), "backward")
    if retain_graph is None:
        retain_graph = create_graph
    grads = _make_grads(tensors, grad_tensors, create_graph)
    for t in inputs or ():
        t.retain_grad()  # torch's error for an input that does not require grad comes from here too
    run_backward(list(tensors), grads, bool(retain_graph), inputs, create_graph)


def grad(outputs: Any, inputs: Any, grad_outputs: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False, only_inputs: bool = True, allow_unused: bool | None = None,
         is_grads_batched: bool = False, materialize_grads: bool = False) -> tuple:
    """The gradients of ``outputs`` with respect to each of ``inputs``, as a tuple; no ``.grad`` is written.

    ``grad_outputs``: the gradient of each output (None for a scalar's 1). ``create_graph``: record the
    backward pass, so that the results can be differentiated again (``retain_graph`` defaults to it).
    An input the outputs do not depend on raises, unless ``allow_unused`` (then its gradient is None,
    or zeros with ``materialize_grads``). ``is_grads_batched``: the first dim of each grad_output is a
    batch, and each result gets that dim too (computed one vector at a time).
    """
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True, but got: "
                         "allow_unused=False.")
    allow_unused = bool(allow_unused) or materialize_grads
    outputs = _as_tuple(outputs)
    inputs = _check_inputs(_as_tuple(inputs), "grad")
    grad_outputs = (None,) * len(outputs) if grad_outputs is None else _as_tuple(grad_outputs)
    if is_grads_batched:
        return _batched(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused, materialize_grads)
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    if retain_graph is None:
        retain_graph = create_graph
    grads = _make_grads(outputs, grad_outputs, create_graph)
    found = run_backward(list(outputs), grads, bool(retain_graph), inputs, create_graph, capture=True)
    result = []
    for i, (t, g) in enumerate(zip(inputs, found)):
        if g is None:
            if not allow_unused:
                raise RuntimeError(f"The differentiated Tensor at index {i} appears to not have been used in the "
                                   "graph. Set allow_unused=True if this is the desired behavior.")
            if materialize_grads:
                g = t._wrap(xp_of(t._data).zeros_like(t._data))
        elif not isinstance(g, TensorBase):
            g = t._wrap(g if g.base is None and all(g is not h for h in grads) else g.copy())  # never the caller's
        result.append(g)
    return tuple(result)


def _batched(outputs: tuple, inputs: list, grad_outputs: tuple, retain_graph: Any, create_graph: bool,
             allow_unused: bool, materialize_grads: bool) -> tuple:
    """``grad`` for each vector along the first dim of ``grad_outputs``, the results stacked along a new first dim."""
    n = grad_outputs[0].shape[0]
    rows = [grad(outputs, inputs, tuple(g[b] for g in grad_outputs), retain_graph=True if b < n - 1 else retain_graph,
                 create_graph=create_graph, allow_unused=allow_unused, materialize_grads=materialize_grads)
            for b in range(n)]
    return tuple(None if parts[0] is None else xp_of(parts[0]).stack(parts, axis=0) for parts in zip(*rows))


__all__: Sequence[str] = ["backward", "grad"]
