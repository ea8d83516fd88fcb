"""Derivatives of whole functions: ``vjp``, ``jvp``, ``jacobian``, ``hessian``, ``hvp`` and ``vhp``.

For ``func`` at the point ``inputs``, ``J`` is the Jacobian of its outputs with respect to its inputs
and, when ``func`` returns one scalar, ``g`` is its gradient and ``H`` its Hessian (the Jacobian of
``g``). Everything is made of ``grad`` (minigrad/autograd/api.py), that is of backward passes:

* ``J^T v`` is one backward pass with ``v``;
* ``J v`` too, once the backward pass is seen as a function: ``u -> J^T u`` is linear in ``u``, so
  its own vjp with ``v`` is ``J v`` (minigrad has no forward mode, so this "double backward" stands in);
* ``J`` row by row: row ``k`` is ``J^T e_k`` for the one-hot ``e_k``, a backward pass per output element;
* ``H``, ``H v`` and ``v^T H`` are the same three applied to a recorded ``g``.

The behaviour (signatures, return structures, ``strict`` checks, error texts) is torch's
``torch.autograd.functional``: results come back as the arguments came in (a tensor, or a tuple,
and for ``jacobian`` and ``hessian`` a tuple of tuples), detached unless ``create_graph=True``.

Differs from torch: there is no forward mode, so ``jvp`` and ``strategy="forward-mode"`` run backward passes
(``func``'s backward must itself be differentiable), and ``vectorize=True`` loops instead of using vmap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from .._backend import xp_of
from .._grad_mode import enable_grad
from .api import grad
from .graph import TensorBase

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]

Tensors = TensorBase | tuple[TensorBase, ...]

_OUTPUTS = "outputs of the user-provided function"
_HERE = "minigrad.autograd.functional.jacobian"
_STRATEGIES = ("forward-mode", "reverse-mode")

# torch's texts, word for word; {i} is an index in the tuple being checked, {out} an output's index.
_NO_GRAD_OUTPUT = ("Output {i} of the user-provided function does not require gradients. The outputs must be computed "
                   "in a differentiable manner from the input when running in strict mode.")
_UNUSED_INPUT = ("The output of the user-provided function is independent of input {i}. This is not allowed in "
                 "strict mode.")
_UNUSED_IN_ROW = ("Output {out} of the user-provided function is independent of input {i}. This is not allowed in "
                  "strict mode.")
_CONSTANT_JACOBIAN = ("The jacobian of the user-provided function is independent of input {i}. This is not allowed in "
                      "strict mode when create_graph=True.")
_CONSTANT_HESSIAN = ("The hessian of the user-provided function is independent of input {i}. This is not allowed in "
                     "strict mode when create_graph=True.")
_CONSTANT_BACKWARD = ("The gradient with respect to input {i} is independent of the inputs of the user-provided "
                      "function. This is not allowed in strict mode.")
_UNUSED_DUMMY = ("The gradient with respect to the input is independent of entry {i} in the grad_outputs when using "
                 "the double backward trick to compute forward mode gradients. This is not allowed in strict mode.")
_UNUSED_IN_GRADIENT = ("The jacobian of the user-provided function is independent of input {i}. This is not allowed in "
                       "strict mode.")
_UNUSED_HVP_DUMMY = ("The hessian of the user-provided function is independent of entry {i} in the grad_jacobian. This "
                     "is not allowed in strict mode as it prevents from using the double backward trick to replace "
                     "forward mode AD.")
_CONSTANT_GRADIENT = ("While computing the hessian, found that the jacobian of the user-provided function with respect "
                      "to input {i} is independent of the input. This is not allowed in strict mode. You should ensure "
                      "that your function is twice differentiable and that the jacobian depends on the inputs (this "
                      "would be violated by a linear function for example).")


# -- helpers ----------------------------------------------------------------------------------------------
def _tensors(value: Any, what: str, fn_name: str) -> tuple[tuple, bool]:
    """A tuple of tensors, and whether the caller passed a tuple (torch's TypeError for anything else)."""
    was_tuple = isinstance(value, tuple)
    tensors = value if was_tuple else (value,)
    for i, t in enumerate(tensors):
        if not isinstance(t, TensorBase):
            which = f"the value at index {i}" if was_tuple else f"the given {what}"
            raise TypeError(f"The {what} given to {fn_name} must be either a Tensor or a tuple of Tensors but {which} "
                            f"has type {type(t)}.")
    return tensors, was_tuple


def _result(tensors: tuple, was_tuple: bool, create_graph: bool) -> Any:
    """The caller's structure back; detached, unless the caller wants to differentiate the results again."""
    if not create_graph:
        tensors = tuple(t.detach() for t in tensors)
    return tensors if was_tuple else tensors[0]


def _fresh(tensors: tuple, create_graph: bool, requires_grad: bool = True) -> tuple:
    """New tensor objects to work with, so that the caller's are left alone: with create_graph, views that keep
    the caller's history (the results must stay differentiable with respect to the caller's tensors)."""
    return tuple(t.view_as(t) if create_graph and t.requires_grad else t.detach().requires_grad_(requires_grad)
                 for t in tensors)


def _v_tensors(v: Any, like: tuple, like_tuple: bool, fn_name: str, create_graph: bool) -> tuple | None:
    """v as a tuple of tensors shaped like ``like`` (the outputs for vjp, the inputs otherwise), with torch's
    errors. None stays None: ``grad`` then starts from 1, which only means something for a single element."""
    if v is None:
        if len(like) != 1 or like[0].numel() != 1:
            what = ("the user-provided function returns a single Tensor" if fn_name == "vjp"
                    else "the input to the user-provided function is a single Tensor")
            raise RuntimeError(f"The vector v can only be None if {what} with a single element.")
        return None
    vs, _ = _tensors(v, "v", fn_name)
    if len(vs) != len(like):
        raise RuntimeError(f"v is a tuple of invalid length: should be {len(like)} but got {len(vs)}." if like_tuple
                           else "The given v should contain a single Tensor.")
    for i, (a, b) in enumerate(zip(vs, like)):
        if a.size() != b.size():
            where = f"Entry {i} in " if like_tuple else ""
            raise RuntimeError(f"{where}v has invalid size: should be {b.size()} but got {a.size()}.")
    return _fresh(vs, create_graph, requires_grad=False)


def _grads(outputs: tuple, wrt: tuple, weights: tuple | None, create_graph: bool,
           retain_graph: bool | None = None) -> tuple:
    """The gradient of ``sum_i weights_i . outputs_i`` with respect to each of ``wrt``, None where none arrives.

    Outputs that are None or constants are left out: they add nothing, and ``grad`` would refuse them.
    """
    weights = (None,) * len(outputs) if weights is None else weights
    kept = [(y, w) for y, w in zip(outputs, weights) if y is not None and y.requires_grad]
    if not kept:
        return (None,) * len(wrt)
    return grad(tuple(y for y, _ in kept), wrt, tuple(w for _, w in kept), retain_graph=retain_graph,
                create_graph=create_graph, allow_unused=True)


def _zeros_like(t: TensorBase) -> TensorBase:
    return t._wrap(xp_of(t._data).zeros_like(t._data))


def _fill(grads: tuple, like: tuple, strict: bool = False, create_graph: bool = False, missing: str = "",
          constant: str = "", out: int | None = None) -> tuple:
    """Zeros (shaped like ``like``) where no gradient arrived, or strict mode's error. With create_graph,
    strict mode also refuses a constant gradient: differentiating it again would silently give zeros."""
    filled = []
    for i, (g, ref) in enumerate(zip(grads, like)):
        if g is None:
            if strict:
                raise RuntimeError(missing.format(i=i, out=out))
            g = _zeros_like(ref)
        elif strict and create_graph and not g.requires_grad:
            raise RuntimeError(constant.format(i=i, out=out))
        filled.append(g)
    return tuple(filled)


def _strict_check(tensors: tuple, constant: str, missing: str | None = None) -> None:
    """Strict mode's error for the first tensor that is missing or does not depend on the inputs."""
    for i, t in enumerate(tensors):
        if t is None and missing is not None:
            raise RuntimeError(missing.format(i=i))
        if t is None or not t.requires_grad:
            raise RuntimeError(constant.format(i=i))


def _scalar_and_gradient(func: Callable[..., Any], xs: tuple, strict: bool, fn_name: str) -> tuple[TensorBase, tuple]:
    """``f(xs)``, which must be one single-element tensor, and its gradient ``g`` (None for an input ``f`` does
    not use), recorded so that it can be differentiated again."""
    ys, was_tuple = _tensors(func(*xs), _OUTPUTS, fn_name)
    if strict:
        _strict_check(ys, _NO_GRAD_OUTPUT)
    if was_tuple:
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
    if ys[0].numel() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fn_name} should contain a single element")
    return ys[0], _grads(ys, xs, None, create_graph=True)


def _one_hots(y: TensorBase) -> Iterator[TensorBase]:
    """``e_k`` shaped like ``y``, for each element ``k`` of ``y`` (made one at a time: n of them take n^2 numbers)."""
    xp = xp_of(y._data)
    for k in range(y.numel()):
        e = xp.zeros(y.numel(), dtype=y._data.dtype)
        e[k] = 1
        yield y._wrap(e.reshape(y._data.shape))


def _stack(rows: list, y: TensorBase, x: TensorBase) -> TensorBase:
    """The rows of the block ``dy/dx`` stacked into the shape ``y.shape + x.shape`` (recorded if they have history)."""
    shape = tuple(y.shape) + tuple(x.shape)
    if not rows:  # y has no elements, and stack refuses an empty list
        return x._wrap(xp_of(x._data).zeros(shape, dtype=x._data.dtype))
    return xp_of(rows[0]).stack(rows, axis=0).reshape(shape)


# -- public API ---------------------------------------------------------------------------------------------
def vjp(func: Callable[..., Any], inputs: Tensors, v: Tensors | None = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(func(inputs), J^T v)``, the vector-Jacobian product, shaped like the inputs.

    ``v`` is shaped like the outputs (None for a single-element output: then ``J^T v`` is the gradient).
    Cost: one forward pass, one backward pass. ``strict=True`` raises, rather than give zeros, for an
    input the outputs do not depend on.
    """
    with enable_grad():
        xs, inputs_tuple = _tensors(inputs, "inputs", "vjp")
        xs = _fresh(xs, create_graph)
        ys, outputs_tuple = _tensors(func(*xs), _OUTPUTS, "vjp")
        if strict:
            _strict_check(ys, _NO_GRAD_OUTPUT)
        vs = _v_tensors(v, ys, outputs_tuple, "vjp", create_graph)
        jt_v = _grads(ys, xs, vs, create_graph)
        jt_v = _fill(jt_v, xs, strict, create_graph, _UNUSED_INPUT, _CONSTANT_JACOBIAN)
    return _result(ys, outputs_tuple, create_graph), _result(jt_v, inputs_tuple, create_graph)


def jvp(func: Callable[..., Any], inputs: Tensors, v: Tensors | None = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(func(inputs), J v)``, the Jacobian-vector product, shaped like the outputs.

    ``v`` is shaped like the inputs (None for a single-element input). The backward pass
    ``u -> J^T u``, recorded with a dummy ``u``, is linear in ``u`` with Jacobian ``J^T``; a backward
    pass through it with ``v`` gives ``(J^T)^T v = J v``. Cost: one forward pass, two backward passes.
    """
    with enable_grad():
        xs, inputs_tuple = _tensors(inputs, "inputs", "jvp")
        xs = _fresh(xs, create_graph)
        vs = _v_tensors(v, xs, inputs_tuple, "jvp", create_graph)
        ys, outputs_tuple = _tensors(func(*xs), _OUTPUTS, "jvp")
        if strict:
            _strict_check(ys, _NO_GRAD_OUTPUT)
        # the backward is linear in u, so u's value does not matter: zeros can hold no inf or nan
        u = tuple(_zeros_like(y).requires_grad_() for y in ys)
        jt_u = _grads(ys, xs, u, create_graph=True)
        if strict:
            _strict_check(jt_u, _CONSTANT_BACKWARD, missing=_UNUSED_INPUT)
        jv = _grads(jt_u, u, vs, create_graph)
        jv = _fill(jv, ys, strict, create_graph, _UNUSED_DUMMY, _CONSTANT_JACOBIAN)
    return _result(ys, outputs_tuple, create_graph), _result(jv, outputs_tuple, create_graph)


def jacobian(func: Callable[..., Any], inputs: Tensors, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode") -> Any:
    """``J[i][j] = d output_i / d input_j``, of shape ``output_i.shape + input_j.shape``.

    Row ``k`` of ``J[i]`` is ``J^T e_k`` for the one-hot ``e_k`` of output ``i``'s element ``k``.
    Cost: one forward pass, one backward pass per output element (``vectorize=True`` gives the
    same values the same way). A tensor, a tuple when the inputs or the outputs were a tuple, a
    tuple (over outputs) of tuples (over inputs) when both were.
    """
    if strategy not in _STRATEGIES:
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your function '
                             'has more outputs than inputs, "forward-mode" tends to be more performant. Otherwise, '
                             'prefer to use "reverse-mode".')
    if strategy == "forward-mode":
        return _forward_mode_jacobian(func, inputs, create_graph, strict, vectorize)
    with enable_grad():
        xs, inputs_tuple = _tensors(inputs, "inputs", "jacobian")
        xs = _fresh(xs, create_graph)
        ys, outputs_tuple = _tensors(func(*xs), _OUTPUTS, "jacobian")
        if strict:
            _strict_check(ys, _NO_GRAD_OUTPUT)
        if strict and vectorize:
            raise RuntimeError(f"{_HERE}: `strict=True` and `vectorized=True` are not supported together. Please "
                               "either set `strict=False` or `vectorize=False`.")
        blocks = []
        for k, y in enumerate(ys):
            # torch's text names the output's index where it says "input" here
            constant = _CONSTANT_JACOBIAN.format(i=k)
            rows = [_fill(_grads((y,), xs, (e,), create_graph, retain_graph=True), xs, strict, create_graph,
                          _UNUSED_IN_ROW, constant, out=k) for e in _one_hots(y)]
            block_row = tuple(_stack([row[j] for row in rows], y, x) for j, x in enumerate(xs))
            blocks.append(_result(block_row, inputs_tuple, create_graph))
    return tuple(blocks) if outputs_tuple else blocks[0]


def _forward_mode_jacobian(func: Callable[..., Any], inputs: Any, create_graph: bool, strict: bool,
                           vectorize: bool) -> Any:
    """torch's errors for forward mode; without forward mode, minigrad gives the same Jacobian in reverse mode,
    in the structure torch's forward mode returns (lists where it has tuples, when the inputs were a tuple)."""
    if create_graph:
        raise NotImplementedError(f"{_HERE}: `create_graph=True` and `strategy=\"forward-mode\"` are not supported "
                                  "together (yet). Please either set `create_graph=False` or "
                                  "`strategy=\"reverse-mode\"`.")
    if strict:
        raise RuntimeError(f"{_HERE}: `strict=True` and `strategy=\"forward-mode\"` are not supported together (yet). "
                           "Please either set `strict=False` or `strategy=\"reverse-mode\"`.")
    _, inputs_tuple = _tensors(inputs, "inputs", "jacobian")
    if not vectorize:  # (torch's text lacks the space between "is" and "only")
        raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse Hessian is"
                                  "only implemented for `vectorize=True`.")
    jac = jacobian(func, inputs, vectorize=True)
    if inputs_tuple and isinstance(jac, tuple):
        return [list(row) for row in jac] if isinstance(jac[0], tuple) else list(jac)
    return jac


def hessian(func: Callable[..., Any], inputs: Tensors, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """``H[i][j] = d^2 f / d input_i d input_j`` for a function ``f`` with one scalar output.

    The Jacobian of the gradient ``g``, recorded: ``H[i][j] = d g_i / d input_j``, of shape
    ``input_i.shape + input_j.shape``; a tensor for a single input, a tuple of tuples otherwise.
    Cost: one forward pass, one backward pass for ``g``, then one per input element.
    """
    xs, inputs_tuple = _tensors(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in _STRATEGIES:
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def gradient(*xs: TensorBase) -> tuple:
        _, g = _scalar_and_gradient(func, xs, strict, "hessian")
        if strict:
            _strict_check(g, _CONSTANT_GRADIENT)
        return _fill(g, xs)

    h = jacobian(gradient, xs, create_graph, strict, vectorize, strategy=outer_jacobian_strategy)
    return h if inputs_tuple else h[0][0]


def hvp(func: Callable[..., Any], inputs: Tensors, v: Tensors | None = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(func(inputs), H v)`` for a function with one scalar output, shaped like the inputs.

    ``jvp`` applied to the recorded gradient ``g``: a backward pass through ``g`` with a dummy ``u``
    gives ``H^T u``, and a backward pass through that with ``v`` gives ``H v``. Cost: one forward
    pass, three backward passes; ``vhp`` needs two, and is equal when ``H`` is symmetric.
    """
    with enable_grad():
        xs, inputs_tuple = _tensors(inputs, "inputs", "hvp")
        xs = _fresh(xs, create_graph)
        vs = _v_tensors(v, xs, inputs_tuple, "hvp", create_graph)
        y, g = _scalar_and_gradient(func, xs, strict, "hvp")
        if strict:
            _strict_check(g, _CONSTANT_GRADIENT, missing=_UNUSED_INPUT)
        u = tuple(_zeros_like(x).requires_grad_() for x in xs)  # as in jvp: any value would do
        ht_u = _grads(g, xs, u, create_graph=True)
        hv = _grads(ht_u, u, vs, create_graph)
        hv = _fill(hv, xs, strict, create_graph, _UNUSED_HVP_DUMMY, _CONSTANT_HESSIAN)
    return _result((y,), False, create_graph), _result(hv, inputs_tuple, create_graph)


def vhp(func: Callable[..., Any], inputs: Tensors, v: Tensors | None = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(func(inputs), v^T H)`` for a function with one scalar output, shaped like the inputs.

    ``vjp`` applied to the recorded gradient ``g``: a backward pass through ``g`` with ``v`` gives
    ``H^T v``, that is ``v^T H``. Cost: one forward pass, two backward passes.
    """
    with enable_grad():
        xs, inputs_tuple = _tensors(inputs, "inputs", "vhp")
        xs = _fresh(xs, create_graph)
        vs = _v_tensors(v, xs, inputs_tuple, "vhp", create_graph)
        y, g = _scalar_and_gradient(func, xs, strict, "vhp")
        if strict:
            _strict_check(g, _CONSTANT_GRADIENT, missing=_UNUSED_INPUT)
        vh = _grads(g, xs, vs, create_graph)
        vh = _fill(vh, xs, strict, create_graph, _UNUSED_IN_GRADIENT, _CONSTANT_HESSIAN)
    return _result((y,), False, create_graph), _result(vh, inputs_tuple, create_graph)
