"""Check analytical gradients against central finite differences, as ``torch.autograd.gradcheck``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy

from .._backend import to_host
from .._grad_mode import no_grad
from .graph import TensorBase


class GradcheckError(RuntimeError):
    pass


def gradcheck(fn: Callable, inputs: Any, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True) -> bool:
    """True when every input's gradient equals the finite-difference Jacobian-vector products.

    Inputs that require grad should be float64: in float32, rounding swamps an
    ``eps`` of 1e-6. Every output element is checked (the full Jacobian).
    """
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    wrt = [t for t in inputs if isinstance(t, TensorBase) and t.requires_grad]
    if not wrt:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of the them "
                         "have requires_grad=True.")
    for t in wrt:
        if t._data.dtype != numpy.float64:
            import warnings

            warnings.warn(f"Input #{inputs.index(t)} requires gradient and is not a double precision floating "
                          "point. This check will likely fail if all the inputs are not of double precision "
                          "floating point.", stacklevel=2)

    def outputs() -> list:
        out = fn(*inputs)
        return list(out) if isinstance(out, (tuple, list)) else [out]

    with no_grad():
        outs = outputs()
    for k, out in enumerate(outs):
        if not isinstance(out, TensorBase) or not out.is_floating_point():
            continue
        n_out = out._data.size
        analytic = [numpy.zeros((n_out, t._data.size)) for t in wrt]
        for j in range(n_out):
            for t in wrt:
                t.grad = None
            y = outputs()[k]
            if not y.requires_grad:
                continue
            seed = numpy.zeros(n_out)
            seed[j] = 1.0
            y.backward(y._wrap(y._xp.asarray(seed.reshape(y._data.shape)).astype(y._data.dtype)))
            for a, t in zip(analytic, wrt):
                if t.grad is not None:
                    a[j] = to_host(t.grad._data).ravel()
        for i, t in enumerate(wrt):
            numeric = _numeric_jacobian(outputs, k, t, eps)
            if not numpy.allclose(analytic[i], numeric, rtol=rtol, atol=atol):
                if raise_exception:
                    raise GradcheckError(f"Jacobian mismatch for output {k} with respect to input {inputs.index(t)},\n"
                                         f"numerical:{numeric}\nanalytical:{analytic[i]}\n")
                return False
    for t in wrt:
        t.grad = None
    return True


def _numeric_jacobian(outputs: Callable, k: int, t: Any, eps: float) -> numpy.ndarray:
    data = t._data  # perturbed in place, one element at a time, then restored
    columns: Sequence = []
    with no_grad():
        for i in numpy.ndindex(data.shape):
            orig = data[i].item()
            data[i] = orig + eps
            plus = to_host(outputs()[k]._data).astype(numpy.float64).ravel()
            data[i] = orig - eps
            minus = to_host(outputs()[k]._data).astype(numpy.float64).ravel()
            data[i] = orig
            columns.append((plus - minus) / (2 * eps))
    return numpy.stack(columns, axis=1) if columns else numpy.zeros((0, 0))
