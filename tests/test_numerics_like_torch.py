"""Edge values as torch handles them: zero spread, and NaN and inf gradients at masks.

Each check runs one program with minigrad and with torch (float64) and compares values and
gradients to 1e-12, NaN matching NaN.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import minigrad

LIBS = (minigrad, torch)
NAN, INF = math.nan, math.inf


def arrays(values) -> list:
    """Tensors (and nested tuples/lists of them) as NumPy arrays, for comparing the two libraries."""
    if isinstance(values, (tuple, list)):
        return [arrays(v) for v in values]
    if values is None:
        return None
    return np.array(values.detach().numpy(), copy=True)


def assert_same(ours, theirs, path="result") -> None:
    if isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs), path
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_same(a, b, f"{path}[{i}]")
        return
    if theirs is None:
        assert ours is None, path
        return
    assert ours.shape == theirs.shape, f"{path}: shape {ours.shape} != {theirs.shape}"
    assert ours.dtype == theirs.dtype, f"{path}: dtype {ours.dtype} != {theirs.dtype}"
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12, equal_nan=True, err_msg=path)


def same_on_both(program) -> None:
    assert_same(*(arrays(program(lib)) for lib in LIBS))


def grads(lib, fn, *inputs, grad=None) -> list:
    """``[output, input gradients...]`` of ``fn`` at float64 ``inputs``, backward from ``grad`` (ones by default)."""
    xs = [lib.tensor(x, dtype=lib.float64, requires_grad=True) for x in inputs]
    out = fn(lib, *xs)
    out.backward(lib.ones_like(out) if grad is None else lib.tensor(grad, dtype=lib.float64))
    return [out, *(x.grad for x in xs)]


# -- 1. std and var -----------------------------------------------------------------------------


def _normalised_dead_unit(lib):
    """A hand-written normalisation over a layer whose second ReLU unit is dead on the whole batch."""
    rng = np.random.default_rng(0)
    x = lib.tensor(np.abs(rng.normal(size=(8, 3))), dtype=lib.float64)
    w0 = rng.normal(size=(3, 3))
    w0[:, 1] = -np.abs(w0[:, 1])  # x >= 0, so unit 1 is never positive
    w = lib.tensor(w0, dtype=lib.float64, requires_grad=True)
    h = (x @ w).relu()
    y = (h - h.mean(0)) / (h.std(0) + 1e-5)
    (y * lib.tensor(rng.normal(size=(8, 3)), dtype=lib.float64)).sum().backward()
    return y, w.grad


@pytest.mark.parametrize("case", [
    "normalisation", "std", "var", "std dim", "var keepdim", "std correction 0", "one element",
    "dof zero along dim", "dof negative along dim", "std dof negative", "0-dim", "constant slices",
])
def test_std_and_var_values_and_gradients_are_torchs(case):
    def program(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the degrees-of-freedom warning, tested below
            if case == "normalisation":
                return _normalised_dead_unit(lib)
            if case == "std":
                return grads(lib, lambda lib, x: x.std(), [2.0, 2.0, 2.0])
            if case == "var":
                return grads(lib, lambda lib, x: x.var(), [0.0, 0.0, 0.0, 0.0])
            if case == "std dim":
                return grads(lib, lambda lib, x: x.std(0), [[1.0, 2.0, -3.0], [1.0, 5.0, -3.0]])
            if case == "var keepdim":
                return grads(lib, lambda lib, x: x.var(1, keepdim=True), [[1.0, 2.0, 4.0], [7.0, 7.0, 7.0]])
            if case == "std correction 0":
                return grads(lib, lambda lib, x: x.std(correction=0), [[0.5, 0.5], [0.5, 0.5]])
            if case == "one element":  # no degree of freedom: NaN value and gradient
                return grads(lib, lambda lib, x: x.std(), [3.0]) + grads(lib, lambda lib, x: x.var(), [3.0])
            if case == "dof zero along dim":  # 2 / 0 = inf times the deviation
                return grads(lib, lambda lib, x: x.var(0, correction=2), [[1.0, 4.0], [3.0, 4.0]])
            if case == "dof negative along dim":
                return grads(lib, lambda lib, x: x.var(0, correction=3), [[1.0], [3.0]])
            if case == "std dof negative":
                return grads(lib, lambda lib, x: x.std(correction=3), [1.0, 3.0]) + \
                    grads(lib, lambda lib, x: x.var(correction=2), [1.0, 3.0])
            if case == "0-dim":
                return grads(lib, lambda lib, x: x.std(0, correction=0), 3.0)
            if case == "constant slices":  # exact zeros along dims, where a mean of 0.1s is inexact
                return grads(lib, lambda lib, x: x.std(0), [[0.1, 0.7], [0.1, 0.7], [0.1, 0.7]])
        raise AssertionError(case)

    same_on_both(program)


def test_std_and_var_of_an_empty_tensor_are_nan_with_torchs_warning():
    def program(lib):
        outs = []
        for name, shape, dim in [("std", (0,), None), ("var", (0,), None), ("var", (0, 3), 0), ("std", (0, 3), 1)]:
            x = lib.zeros(shape, dtype=lib.float64, requires_grad=True)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                out = getattr(x, name)() if dim is None else getattr(x, name)(dim)
            messages = [str(w.message) for w in caught]
            assert any(m.startswith(f"{name}(): degrees of freedom is <= 0. Correction should be strictly less "
                                    "than the reduction factor (input numel divided by output numel).")
                       for m in messages), messages
            out.sum().backward()
            outs += [out, x.grad]
        return outs

    same_on_both(program)


# -- 2. masks select the gradient ---------------------------------------------------------------


G = [NAN, INF, -INF, 2.0]


@pytest.mark.parametrize("case", [
    "where", "where both", "relu", "relu at nan", "clamp", "clamp min", "maximum", "minimum", "max all",
    "leaky_relu", "abs multiplies", "dropout multiplies", "pow exponent multiplies", "pow base",
    "masked softmax", "masked log_softmax", "masked by assignment",
])
def test_nan_and_inf_gradients_stop_at_masks_as_in_torch(case):
    def program(lib):
        x = [1.0, -1.0, 0.0, 3.0]
        if case == "where":  # the example
            return grads(lib, lambda lib, v: lib.where(v > 0, v, lib.zeros(2, dtype=lib.float64)), [1.0, -1.0],
                         grad=[NAN, NAN])
        if case == "where both":
            return grads(lib, lambda lib, v, w: lib.where(v > 0, v, w), x, [5.0, 6.0, 7.0, 8.0], grad=G)
        if case == "relu":
            return grads(lib, lambda lib, v: v.relu(), x, grad=G)
        if case == "relu at nan":  # threshold_backward passes the gradient where the output is NaN
            return grads(lib, lambda lib, v: v.relu(), [NAN, -1.0, 0.0, 2.0], grad=[5.0, NAN, INF, 1.0])
        if case == "clamp":
            return grads(lib, lambda lib, v: v.clamp(-0.5, 2.0), [1.0, -1.0, NAN, 3.0], grad=G)
        if case == "clamp min":
            return grads(lib, lambda lib, v: lib.clamp(v, min=0.0), x, grad=G)
        if case == "maximum":  # ties halve the gradient, a NaN input gets all of it
            return grads(lib, lambda lib, v, w: lib.maximum(v, w), x, [0.0, 0.0, 0.0, NAN], grad=G)
        if case == "minimum":
            return grads(lib, lambda lib, v, w: lib.minimum(v, w), x, [0.0, 0.0, 0.0, NAN], grad=G)
        if case == "max all":
            return grads(lib, lambda lib, v: v.max(), [1.0, 3.0, 3.0], grad=NAN)
        if case == "leaky_relu":
            return grads(lib, lambda lib, v: lib.nn.functional.leaky_relu(v), x, grad=G)
        if case == "abs multiplies":  # torch multiplies by sgn(x): NaN even at 0
            return grads(lib, lambda lib, v: v.abs(), x, grad=G)
        if case == "dropout multiplies":
            return grads(lib, lambda lib, v: lib.nn.functional.dropout(v, 1.0), x, grad=G)
        if case == "pow exponent multiplies":  # 0 ** e: the derivative is 0, times a NaN gradient is NaN
            return grads(lib, lambda lib, e: lib.tensor([0.0, 0.0, 2.0, 0.0], dtype=lib.float64) ** e,
                         [1.0, 2.0, -1.0, 0.0], grad=G)
        if case == "pow base":
            return grads(lib, lambda lib, v, e: v ** e, [1.0, 2.0, 0.0, 3.0], [0.0, 0.0, 1.0, 2.0], grad=G)
        scores = lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=lib.float64, requires_grad=True)
        keep = lib.tensor([[True, False, True], [False, False, False]])  # the second row fully masked
        weights = lib.tensor([[1.0, -2.0, 3.0], [4.0, 5.0, 6.0]], dtype=lib.float64)
        if case == "masked softmax":
            probs = lib.softmax(lib.where(keep, scores, -INF), 1)
            out = lib.where(keep, probs, 0.0)
        elif case == "masked log_softmax":
            out = lib.where(keep, lib.log_softmax(lib.where(keep, scores, -INF), 1), 0.0)
        elif case == "masked by assignment":
            masked = scores * 1
            masked[~keep] = -INF
            out = lib.where(keep, lib.softmax(masked, 1), 0.0)
        else:
            raise AssertionError(case)
        (out * weights).sum().backward()
        assert np.isfinite(scores.grad.numpy()).all()
        return [out, scores.grad]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's, for -inf - -inf in the masked row
        same_on_both(program)
