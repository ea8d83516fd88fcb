"""Check analytical gradients against central finite differences: ``gradcheck`` and ``gradgradcheck``, as torch's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy

from .._backend import to_host
from .api import grad
from .graph import TensorBase


class GradcheckError(RuntimeError):
    pass


def gradcheck(func: Callable, inputs: Any, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, nondet_tol: float = 0.0, check_undefined_grad: bool = True,
              check_grad_dtypes: bool = False, check_batched_grad: bool = False,
              check_batched_forward_grad: bool = False, check_forward_ad: bool = False,
              check_backward_ad: bool = True, fast_mode: bool = False, masked: bool | None = None) -> bool:
    """True when the gradients that backward computes equal central finite differences.

    For each differentiable output and each input that requires grad, the analytic Jacobian
    (one ``grad`` call per output element, with a one-hot grad_output; no ``.grad`` is written)
    is compared with the numerical one (two evaluations of ``func`` per input element):
    ``|analytic - numeric| <= atol + rtol * |numeric|``. When no output is differentiable, the
    numerical Jacobian must be zero. Raises ``GradcheckError`` on a mismatch, or returns False when
    ``raise_exception=False``.

    Inputs that require grad should be float64: in float32, rounding swamps an ``eps`` of 1e-6.
    ``check_grad_dtypes``: each gradient must have its input's dtype. ``check_batched_grad``: ``grad``
    with ``is_grads_batched=True`` must give the same Jacobian. Accepted for torch's signature and
    ignored: ``nondet_tol`` (minigrad's backward is deterministic), ``check_undefined_grad``,
    ``fast_mode`` (the full Jacobian is always checked), ``masked``. minigrad has no forward-mode AD:
    ``check_forward_ad=True`` and ``check_batched_forward_grad=True`` raise NotImplementedError.

    Differs from torch: ``nondet_tol``, ``check_undefined_grad``, ``fast_mode`` and ``masked`` are accepted and
    ignored, and ``check_forward_ad=True`` raises NotImplementedError, as minigrad has no forward-mode AD.
    """
    if not (check_forward_ad or check_backward_ad):
        raise AssertionError("Expected at least one of check_forward_ad or check_backward_ad to be True")
    if check_batched_grad and not check_backward_ad:
        raise AssertionError("Setting check_batched_grad=True requires check_backward_ad to be True")
    if check_batched_forward_grad and not check_forward_ad:
        raise AssertionError("Setting check_batched_forward_grad=True requires check_forward_ad to be True")
    if check_forward_ad:
        raise NotImplementedError("minigrad has no forward-mode AD: gradcheck supports only check_forward_ad=False "
                                  "(and gradgradcheck only check_fwd_over_rev=False)")
    try:
        return _gradcheck(func, inputs, eps, atol, rtol, check_grad_dtypes, check_batched_grad)
    except GradcheckError:
        if raise_exception:
            raise
        return False


def _as_tuple(x: Any) -> tuple:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _gradcheck(fn: Callable, inputs: Any, eps: float, atol: float, rtol: float, check_grad_dtypes: bool,
               check_batched_grad: bool) -> bool:
    inputs = _as_tuple(inputs)
    wrt_index = [i for i, t in enumerate(inputs) if isinstance(t, TensorBase) and t.requires_grad]
    wrt = [inputs[i] for i in wrt_index]
    if not wrt:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of the them "
                         "have requires_grad=True.")
    for i, t in zip(wrt_index, wrt):
        if t._data.dtype != numpy.float64:
            import warnings

            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating "
                          "point. This check will likely fail if all the inputs are not of double precision "
                          "floating point.", stacklevel=3)

    def outputs() -> list:
        return list(_as_tuple(fn(*inputs)))

    outs = outputs()
    float_outs = [(k, out) for k, out in enumerate(outs) if isinstance(out, TensorBase) and out.is_floating_point()]
    differentiable = [(k, out) for k, out in float_outs if out.requires_grad]
    if not differentiable:  # torch: the numerical Jacobian of every output must then be zero
        for t in wrt:
            if any(numpy.any(n != 0) for n in _numeric_jacobians(outputs, [k for k, _ in float_outs], t, eps).values()):
                raise GradcheckError("Numerical gradient for function expected to be zero")
        return True
    analytic = {}
    for k, out in differentiable:
        analytic[k] = _analytic_jacobian(out, wrt, check_grad_dtypes)
        if check_batched_grad:
            _check_batched(out, wrt, analytic[k], k, atol, rtol)
    for n, (i, t) in enumerate(zip(wrt_index, wrt)):
        numerics = _numeric_jacobians(outputs, list(analytic), t, eps)
        for k, numeric in numerics.items():
            a = analytic[k][n]
            if numeric.size == 0 and a.size == 0:
                continue
            if not numpy.allclose(a, numeric, rtol=rtol, atol=atol):
                raise GradcheckError(f"Jacobian mismatch for output {k} with respect to input {i},\n"
                                     f"numerical:{numeric}\nanalytical:{a}\n")
    return True


def _analytic_jacobian(out: Any, wrt: list, check_grad_dtypes: bool) -> list:
    """Each input's Jacobian of ``out``, (out.numel(), input.numel()): one ``grad`` call per element of ``out``."""
    n_out = out._data.size
    analytic = [numpy.zeros((n_out, t._data.size)) for t in wrt]
    xp = out._xp
    for j in range(n_out):
        seed = xp.zeros(n_out, dtype=out._data.dtype)
        seed[j] = 1
        row = grad(out, wrt, out._wrap(seed.reshape(out._data.shape)), retain_graph=True, allow_unused=True)
        for a, t, g in zip(analytic, wrt, row):
            if g is None:
                continue
            if check_grad_dtypes and g._data.dtype != t._data.dtype:
                raise GradcheckError("Gradient has dtype mismatch")
            a[j] = to_host(g._data).ravel()
    return analytic


def _check_batched(out: Any, wrt: list, analytic: list, k: int, atol: float, rtol: float) -> None:
    """``grad`` with ``is_grads_batched=True`` and the identity as grad_outputs: the whole Jacobian at once."""
    n_out = out._data.size
    eye = out._xp.eye(n_out, dtype=out._data.dtype).reshape((n_out, *out._data.shape))
    batched = grad(out, wrt, out._wrap(eye), retain_graph=True, allow_unused=True, is_grads_batched=True)
    for i, (a, g) in enumerate(zip(analytic, batched)):
        b = numpy.zeros_like(a) if g is None else to_host(g._data).reshape(a.shape)
        if not numpy.allclose(a, b, rtol=rtol, atol=atol):
            raise GradcheckError(f"For output {k} and input {i}:\nbatched grad computed does not match the gradient "
                                 f"computed one row at a time.\nbatched:{b}\none at a time:{a}\n")


def gradgradcheck(func: Callable, inputs: Any, grad_outputs: Any = None, *, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, gen_non_contig_grad_outputs: bool = False, raise_exception: bool = True,
                  nondet_tol: float = 0.0, check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
                  check_batched_grad: bool = False, check_fwd_over_rev: bool = False, check_rev_over_rev: bool = True,
                  fast_mode: bool = False, masked: bool = False) -> bool:
    """True when the second derivatives that a recorded backward computes equal finite differences of first ones.

    ``gradcheck`` of ``(inputs, grad_outputs) -> grad(func(inputs), inputs, grad_outputs,
    create_graph=True)``: the Jacobian of the vector-Jacobian product ``J^T v`` with respect to
    the inputs (Hessian blocks contracted with ``v``) and to ``v`` (``J^T`` itself). ``grad_outputs``
    (``v``): one per differentiable output; when None, random in [-1, 1) (as torch's ``make_tensor``,
    from a fixed-seed NumPy generator, so runs repeat), requiring grad. Cost: that of ``gradcheck``
    on the new function, each call of which runs ``func`` and one recorded backward pass.
    ``gen_non_contig_grad_outputs`` is accepted and ignored (arrays are copied contiguous anyway);
    the other options are passed to ``gradcheck``.

    Differs from torch: ``gen_non_contig_grad_outputs`` is ignored, ``check_fwd_over_rev=True`` raises
    NotImplementedError (no forward-mode AD), and random grad_outputs come from NumPy, not torch's generator.
    """
    if not (check_fwd_over_rev or check_rev_over_rev):
        raise AssertionError("Expected at least one of check_fwd_over_rev or check_rev_over_rev to be True")
    if check_undefined_grad and not check_rev_over_rev:
        raise AssertionError("Setting check_undefined_grad=True requires check_rev_over_rev to be True")
    if check_batched_grad and not check_rev_over_rev:
        raise AssertionError("Setting check_batched_grad=True requires check_rev_over_rev to be True")
    tupled_inputs = _as_tuple(inputs)
    if grad_outputs is None:
        generator = numpy.random.default_rng(0)
        tupled_grad_outputs = []
        for out in _differentiable_outputs(func(*tupled_inputs)):
            dtype = out._data.dtype if out.is_floating_point() else numpy.float64
            values = generator.uniform(-1.0, 1.0, out._data.shape).astype(dtype)
            g = out._wrap(out._xp.asarray(values))
            tupled_grad_outputs.append(g.requires_grad_())
        tupled_grad_outputs = tuple(tupled_grad_outputs)
    else:
        tupled_grad_outputs = _as_tuple(grad_outputs)
    n_inputs = len(tupled_inputs)
    diff_input_indices = [i for i, x in enumerate(tupled_inputs) if isinstance(x, TensorBase) and x.requires_grad]

    def new_func(*args: Any) -> tuple:
        input_args, given = args[:n_inputs], args[n_inputs:]
        outputs = _differentiable_outputs(func(*input_args))
        diff_input_args = tuple(input_args[i] for i in diff_input_indices)
        grad_inputs = grad(outputs, diff_input_args, given, create_graph=True, allow_unused=True)
        return tuple(g for g in grad_inputs if g is not None)

    return gradcheck(new_func, tupled_inputs + tupled_grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol, check_undefined_grad=check_undefined_grad,
                     check_grad_dtypes=check_grad_dtypes, check_batched_grad=check_batched_grad, fast_mode=fast_mode,
                     check_forward_ad=check_fwd_over_rev, check_backward_ad=check_rev_over_rev, masked=masked)


def _differentiable_outputs(out: Any) -> tuple:
    return tuple(o for o in _as_tuple(out) if isinstance(o, TensorBase) and o.requires_grad)


def _numeric_jacobians(outputs: Callable, ks: list, t: Any, eps: float) -> dict:
    """For each output index in ``ks``, its Jacobian with respect to ``t`` by central differences,
    (output.numel(), t.numel()): two calls of ``outputs`` per element of ``t`` (with grad mode as the
    caller has it, as torch: the function may itself differentiate, as gradgradcheck's does)."""
    data = t._data  # perturbed in place, one element at a time, then restored
    columns: dict = {k: [] for k in ks}
    def values() -> list:  # copies, taken at once: an output may be a view of the perturbed input
        out = outputs()
        return [numpy.array(to_host(out[k]._data), dtype=numpy.float64).ravel() for k in ks]

    for i in numpy.ndindex(data.shape):
        orig = data[i].item()
        data[i] = orig + eps
        plus = values()
        data[i] = orig - eps
        minus = values()
        data[i] = orig
        for k, p, m in zip(ks, plus, minus):
            columns[k].append((p - m) / (2 * eps))
    return {k: numpy.stack(c, axis=1) if c else numpy.zeros((0, 0)) for k, c in columns.items()}
