"""``vjp``, ``jvp``, ``jacobian``, ``hessian``, ``hvp`` and ``vhp``, as ``torch.autograd.functional``.

Everything is built on ``grad`` (minigrad/autograd/api.py), with torch's signatures, return
structures, ``strict`` checks and error messages. Notation, for ``func`` at the point ``inputs``:
``J`` is the Jacobian of the outputs with respect to the inputs, and, for a function with one
scalar output, ``H`` is its Hessian (the Jacobian of its gradient).

Return structures follow how things were passed: a result that matches the inputs is a tuple if
``inputs`` was a tuple and a single tensor otherwise; likewise for the outputs. ``jacobian`` of a
function of several inputs (a tuple) and several outputs (a tuple) is a tuple of tuples,
``jacobian[i][j]`` that of output ``i`` with respect to input ``j``, of shape
``output_i.shape + input_j.shape``.

Results are detached unless ``create_graph=True``: then they are computed with a recorded
backward, and can be differentiated again.

Forward mode: minigrad has no forward-mode AD. ``jvp`` uses the double-backward trick (as torch
does); ``vectorize=True`` computes the same values as the default, one backward pass per row;
``strategy="forward-mode"`` raises what torch raises without ``vectorize``, and with it computes
the Jacobian in reverse mode.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._backend import xp_of
from .._grad_mode import enable_grad, is_grad_enabled, set_grad_enabled
from .api import grad
from .graph import TensorBase

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]

_MODULE = "minigrad.autograd.functional"


# -- helpers (torch's, in minigrad's words) ---------------------------------------------------------------
def _as_tuple(inp: Any, arg_name: str, fn_name: str) -> tuple[bool, tuple]:
    """Whether ``inp`` was a tuple, and ``inp`` as a tuple of tensors (torch's TypeError otherwise)."""
    is_inp_tuple = isinstance(inp, tuple)
    if not is_inp_tuple:
        inp = (inp,)
    for i, el in enumerate(inp):
        if not isinstance(el, TensorBase):
            if is_inp_tuple:
                raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors but "
                                f"the value at index {i} has type {type(el)}.")
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors but the "
                            f"given {arg_name} has type {type(el)}.")
    return is_inp_tuple, inp


def _tuple_postprocess(res: Any, to_unpack: Any) -> Any:
    """Undo ``_as_tuple``: unwrap one level (bool) or two levels (a pair of bools: outer, inner)."""
    if isinstance(to_unpack, tuple):
        if not to_unpack[1]:
            res = tuple(el[0] for el in res)
        if not to_unpack[0]:
            res = res[0]
    elif not to_unpack:
        res = res[0]
    return res


def _grad_preprocess(inputs: tuple, create_graph: bool, need_graph: bool) -> tuple:
    """New tensor objects for the inputs: views that keep their history when ``create_graph`` (so that
    the results can be differentiated with respect to the caller's tensors), detached ones otherwise."""
    res = []
    for inp in inputs:
        if create_graph and inp.requires_grad:
            res.append(inp.view_as(inp))
        else:
            res.append(inp.detach().requires_grad_(need_graph))
    return tuple(res)


def _grad_postprocess(inputs: tuple, create_graph: bool) -> tuple:
    """Detach the results unless ``create_graph`` (nested tuples too)."""
    if isinstance(inputs[0], TensorBase):
        return inputs if create_graph else tuple(inp.detach() for inp in inputs)
    return tuple(_grad_postprocess(inp, create_graph) for inp in inputs)


def _validate_v(v: tuple, other: tuple, is_other_tuple: bool) -> None:
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for idx, (el_v, el_other) in enumerate(zip(v, other)):
        if el_v.size() != el_other.size():
            prepend = f"Entry {idx} in " if is_other_tuple else ""
            raise RuntimeError(f"{prepend}v has invalid size: should be {el_other.size()} but got {el_v.size()}.")


def _check_requires_grad(inputs: tuple, input_type: str, strict: bool) -> None:
    """In strict mode, torch's errors for a result that does not depend on the inputs."""
    if not strict:
        return
    for i, inp in enumerate(inputs):
        if inp is None:  # only for grad_inputs
            raise RuntimeError(f"The output of the user-provided function is independent of input {i}. This is not "
                               "allowed in strict mode.")
        if not inp.requires_grad:
            if input_type == "hessian":
                raise RuntimeError(f"The hessian of the user-provided function with respect to input {i} is "
                                   "independent of the input. This is not allowed in strict mode. You should ensure "
                                   "that your function is thrice differentiable and that the hessian depends on the "
                                   "inputs.")
            if input_type == "jacobian":
                raise RuntimeError("While computing the hessian, found that the jacobian of the user-provided function "
                                   f"with respect to input {i} is independent of the input. This is not allowed in "
                                   "strict mode. You should ensure that your function is twice differentiable and "
                                   "that the jacobian depends on the inputs (this would be violated by a linear "
                                   "function for example).")
            if input_type == "grad_inputs":
                raise RuntimeError(f"The gradient with respect to input {i} is independent of the inputs of the "
                                   "user-provided function. This is not allowed in strict mode.")
            raise RuntimeError(f"Output {i} of the user-provided function does not require gradients. The outputs "
                               "must be computed in a differentiable manner from the input when running in strict "
                               "mode.")


def _autograd_grad(outputs: tuple, inputs: tuple, grad_outputs: tuple | None = None, create_graph: bool = False,
                   retain_graph: bool | None = None) -> tuple:
    """``grad`` that skips outputs that are None or need no gradient (None for every input when none is left)."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    kept = [(out, g) for out, g in zip(outputs, grad_outputs) if out is not None and out.requires_grad]
    if not kept:
        return (None,) * len(inputs)
    return grad(tuple(o for o, _ in kept), inputs, tuple(g for _, g in kept), allow_unused=True,
                create_graph=create_graph, retain_graph=retain_graph)


def _zeros_like(t: TensorBase) -> TensorBase:
    """A constant tensor of zeros with ``t``'s shape, dtype and device."""
    return t._wrap(xp_of(t._data).zeros_like(t._data))


def _fill_in_zeros(grads: tuple, refs: tuple, strict: bool, create_graph: bool, stage: str) -> tuple:
    """Zeros for the None gradients (of inputs the result does not depend on), or torch's strict errors."""
    res = []
    for i, grads_i in enumerate(grads):
        if grads_i is None:
            if strict:
                if stage == "back":
                    raise RuntimeError(f"The output of the user-provided function is independent of input {i}. This "
                                       "is not allowed in strict mode.")
                if stage == "back_trick":
                    raise RuntimeError(f"The gradient with respect to the input is independent of entry {i} in the "
                                       "grad_outputs when using the double backward trick to compute forward mode "
                                       "gradients. This is not allowed in strict mode.")
                if stage == "double_back":
                    raise RuntimeError(f"The jacobian of the user-provided function is independent of input {i}. This "
                                       "is not allowed in strict mode.")
                raise RuntimeError(f"The hessian of the user-provided function is independent of entry {i} in the "
                                   "grad_jacobian. This is not allowed in strict mode as it prevents from using the "
                                   "double backward trick to replace forward mode AD.")
            grads_i = _zeros_like(refs[i])
        elif strict and create_graph and not grads_i.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(f"The {what} of the user-provided function is independent of input {i}. This is not "
                               "allowed in strict mode when create_graph=True.")
        res.append(grads_i)
    return tuple(res)


def _prepare_v(v: Any, fn_name: str, create_graph: bool, other: tuple, is_other_tuple: bool) -> tuple:
    _, v = _as_tuple(v, "v", fn_name)
    v = _grad_preprocess(v, create_graph=create_graph, need_graph=False)
    _validate_v(v, other, is_other_tuple)
    return v


def _scalar_output(func: Callable[..., Any], inputs: tuple, strict: bool, fn_name: str) -> tuple[bool, tuple]:
    """Run ``func`` for hvp / vhp, and check that it returned one single-element tensor."""
    is_outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function", fn_name)
    _check_requires_grad(outputs, "outputs", strict=strict)
    if is_outputs_tuple or not isinstance(outputs[0], TensorBase):
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
    if outputs[0].numel() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fn_name} should contain a single element")
    return is_outputs_tuple, outputs


# -- public API ---------------------------------------------------------------------------------------------
def vjp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """Vector-Jacobian product: ``(func(inputs), v^T J)``, i.e. ``J^T v``, shaped like the inputs.

    ``v`` has the outputs' shapes; it may be None when ``func`` returns a single one-element tensor
    (then ``v = 1`` and the result is the gradient). Cost: one forward and one backward pass.
    ``strict=True`` raises where an input does not affect the outputs (instead of giving zeros).
    """
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", "vjp")
        _check_requires_grad(outputs, "outputs", strict=strict)
        if v is not None:
            v = _prepare_v(v, "vjp", create_graph, outputs, is_outputs_tuple)
        elif len(outputs) != 1 or outputs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the user-provided function returns a single Tensor "
                               "with a single element.")
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grad_res = _autograd_grad(outputs, inputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, inputs, strict, create_graph, "back")
    outputs = _grad_postprocess(outputs, create_graph)
    result = _grad_postprocess(result, create_graph)
    return _tuple_postprocess(outputs, is_outputs_tuple), _tuple_postprocess(result, is_inputs_tuple)


def jvp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """Jacobian-vector product: ``(func(inputs), J v)``, shaped like the outputs.

    ``v`` has the inputs' shapes; it may be None when the input is a single one-element tensor.
    Computed with the double-backward trick, as torch does: ``g -> J^T g`` is linear in ``g``, so
    ``J v`` is the vjp of that map with ``v``: one forward pass, one recorded backward pass with a
    dummy ``g`` (zeros that require grad), and one backward pass through that backward.
    """
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        if v is not None:
            v = _prepare_v(v, "jvp", create_graph, inputs, is_inputs_tuple)
        elif len(inputs) != 1 or inputs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the input to the user-provided function is a single "
                               "Tensor with a single element.")
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", "jvp")
        _check_requires_grad(outputs, "outputs", strict=strict)
        # The backward is linear in grad_outputs: their value does not matter (zeros: no inf or nan)
        grad_outputs = tuple(_zeros_like(out).requires_grad_() for out in outputs)
        grad_inputs = _autograd_grad(outputs, inputs, grad_outputs, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict=strict)
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grad_res = _autograd_grad(grad_inputs, grad_outputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, outputs, strict, create_graph, "back_trick")
    outputs = _grad_postprocess(outputs, create_graph)
    result = _grad_postprocess(result, create_graph)
    return _tuple_postprocess(outputs, is_outputs_tuple), _tuple_postprocess(result, is_outputs_tuple)


def jacobian(func: Callable[..., Any], inputs: Any, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode") -> Any:
    """The Jacobian ``J[i][j] = d output_i / d input_j``, of shape ``output_i.shape + input_j.shape``.

    A single tensor when ``inputs`` is one tensor and ``func`` returns one; a tuple when one of the
    two is a tuple; a tuple (over outputs) of tuples (over inputs) when both are. Each row
    ``e_k^T J`` is a vjp with a one-hot vector: one forward pass, then one backward pass per output
    element (the graph is kept between them). ``vectorize=True`` gives the same values the same way.
    """
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your function '
                             'has more outputs than inputs, "forward-mode" tends to be more performant. Otherwise, '
                             'prefer to use "reverse-mode".')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError(f"{_MODULE}.jacobian: `create_graph=True` and `strategy=\"forward-mode\"` are "
                                      "not supported together (yet). Please either set `create_graph=False` or "
                                      "`strategy=\"reverse-mode\"`.")
        if strict:
            raise RuntimeError(f"{_MODULE}.jacobian: `strict=True` and `strategy=\"forward-mode\"` are not supported "
                               "together (yet). Please either set `strict=False` or `strategy=\"reverse-mode\"`.")
        _as_tuple(inputs, "inputs", "jacobian")
        if not vectorize:
            raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse Hessian is"
                                      "only implemented for `vectorize=True`.")
        # minigrad has no forward mode: the same Jacobian, in reverse mode, in torch's forward-mode structure
        # (its blocks come in lists there: a list of lists for tuples of inputs and outputs)
        result = jacobian(func, inputs, vectorize=True)
        is_inputs_tuple = isinstance(inputs, tuple)
        if isinstance(result, tuple) and is_inputs_tuple:
            return [list(r) for r in result] if isinstance(result[0], tuple) else list(result)
        return result

    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", "jacobian")
        _check_requires_grad(outputs, "outputs", strict=strict)
        if vectorize and strict:
            raise RuntimeError(f"{_MODULE}.jacobian: `strict=True` and `vectorized=True` are not supported together. "
                               "Please either set `strict=False` or `vectorize=False`.")

        result = []
        for i, out in enumerate(outputs):
            rows: tuple[list, ...] = tuple([] for _ in inputs)
            n = out.numel()
            xp = xp_of(out._data)
            for k in range(n):
                seed = xp.zeros(n, dtype=out._data.dtype)
                seed[k] = 1
                vj = _autograd_grad((out,), inputs, (out._wrap(seed.reshape(out._data.shape)),), retain_graph=True,
                                    create_graph=create_graph)
                for el_idx, (rows_el, vj_el, inp_el) in enumerate(zip(rows, vj, inputs)):
                    if vj_el is not None:
                        if strict and create_graph and not vj_el.requires_grad:
                            raise RuntimeError(f"The jacobian of the user-provided function is independent of input "
                                               f"{i}. This is not allowed in strict mode when create_graph=True.")
                        rows_el.append(vj_el)
                    else:
                        if strict:
                            raise RuntimeError(f"Output {i} of the user-provided function is independent of input "
                                               f"{el_idx}. This is not allowed in strict mode.")
                        rows_el.append(_zeros_like(inp_el))
            result.append(tuple(_stack(rows_el, out, inp) for rows_el, inp in zip(rows, inputs)))
        result = _grad_postprocess(tuple(result), create_graph)
        return _tuple_postprocess(result, (is_outputs_tuple, is_inputs_tuple))


def _stack(rows: list, out: TensorBase, inp: TensorBase) -> TensorBase:
    """The rows of one Jacobian block stacked, shaped ``out.shape + inp.shape`` (recorded when they have a history)."""
    shape = tuple(out.shape) + tuple(inp.shape)
    if not rows:  # an output with no elements (torch's stack would refuse the empty list)
        return inp._wrap(xp_of(inp._data).zeros(shape, dtype=inp._data.dtype))
    return xp_of(rows[0]).stack(rows, axis=0).reshape(shape)


def hessian(func: Callable[..., Any], inputs: Any, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """The Hessian ``H[i][j] = d^2 f / d input_i d input_j`` of a function ``f`` with one scalar output.

    Of shape ``input_i.shape + input_j.shape``: a single tensor for a single input, a tuple of
    tuples for a tuple of inputs. The Jacobian of the (recorded) gradient: one forward pass, one
    recorded backward pass, then one backward pass through it per input element.
    """
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def ensure_single_output_function(*inp: Any) -> Any:
        out = func(*inp)
        is_out_tuple, t_out = _as_tuple(out, "outputs of the user-provided function", "hessian")
        _check_requires_grad(t_out, "outputs", strict=strict)
        if is_out_tuple or not isinstance(out, TensorBase):
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out.numel() != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should contain a single element")
        return out.squeeze()

    def jac_func(*inp: Any) -> Any:
        jac = jacobian(ensure_single_output_function, inp, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict=strict)
        return jac

    res = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict, vectorize=vectorize,
                   strategy=outer_jacobian_strategy)
    return _tuple_postprocess(res, (is_inputs_tuple, is_inputs_tuple))


def vhp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """Vector-Hessian product ``(func(inputs), v^T H)`` for a function with one scalar output, shaped like the inputs.

    One forward pass, one recorded backward pass (the gradient), and one backward pass through it
    with ``v``. Equal to ``hvp`` for twice continuously differentiable functions (H symmetric),
    and cheaper.
    """
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vhp")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        if v is not None:
            v = _prepare_v(v, "vhp", create_graph, inputs, is_inputs_tuple)
        elif len(inputs) != 1 or inputs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the input to the user-provided function is a single "
                               "Tensor with a single element.")
        is_outputs_tuple, outputs = _scalar_output(func, inputs, strict, "vhp")
        jac = _autograd_grad(outputs, inputs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict=strict)
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grad_res = _autograd_grad(jac, inputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, inputs, strict, create_graph, "double_back")
    outputs = _grad_postprocess(outputs, create_graph)
    result = _grad_postprocess(result, create_graph)
    return _tuple_postprocess(outputs, is_outputs_tuple), _tuple_postprocess(result, is_inputs_tuple)


def hvp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """Hessian-vector product ``(func(inputs), H v)`` for a function with one scalar output, shaped like the inputs.

    As torch does, with the double-backward trick on the gradient: one forward pass, one recorded
    backward pass (the gradient), a recorded backward through it with a dummy vector (zeros that
    require grad), and a third backward pass through that one with ``v``. ``vhp`` is cheaper, and
    equal when H is symmetric.
    """
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hvp")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        if v is not None:
            v = _prepare_v(v, "hvp", create_graph, inputs, is_inputs_tuple)
        elif len(inputs) != 1 or inputs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the input to the user-provided function is a single "
                               "Tensor with a single element.")
        is_outputs_tuple, outputs = _scalar_output(func, inputs, strict, "hvp")
        jac = _autograd_grad(outputs, inputs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict=strict)
        grad_jac = tuple(_zeros_like(inp).requires_grad_() for inp in inputs)
        double_back = _autograd_grad(jac, inputs, grad_jac, create_graph=True)
        _check_requires_grad(jac, "hessian", strict=strict)
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grad_res = _autograd_grad(double_back, grad_jac, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, inputs, strict, create_graph, "double_back_trick")
    outputs = _grad_postprocess(outputs, create_graph)
    result = _grad_postprocess(result, create_graph)
    return _tuple_postprocess(outputs, is_outputs_tuple), _tuple_postprocess(result, is_inputs_tuple)
