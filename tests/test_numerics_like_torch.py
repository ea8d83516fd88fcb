"""Edge values as torch handles them: zero spread, NaN and inf gradients at masks, empty
dimensions, and the inputs torch refuses.

Each check runs one program with minigrad and with torch (float64) and compares values and
gradients to 1e-12, NaN matching NaN; where torch raises, minigrad raises the same exception
type with torch's wording.
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


def raises_same(program, *words: str) -> None:
    """torch raises; minigrad raises the same exception type, and both messages contain ``words``."""
    with pytest.raises(Exception) as theirs:
        program(torch)
    with pytest.raises(type(theirs.value)) as ours:
        program(minigrad)
    assert type(ours.value) is type(theirs.value)
    for word in words:
        assert word in str(theirs.value), f"torch says: {theirs.value}"
        assert word in str(ours.value), f"minigrad says: {ours.value}"


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
    "dof zero along dim", "dof negative along dim", "std dof negative", "dim=[]", "0-dim", "constant slices",
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
            if case == "dim=[]":  # the whole tensor's value; torch's per-dim gradient counts one element
                return grads(lib, lambda lib, x: x.var(dim=[]), [[1.0, 2.0], [3.0, 5.0]])
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


# -- 3. inputs torch refuses, and empty dimensions ----------------------------------------------


@pytest.mark.parametrize("case", ["functional", "module training", "module eval", "empty input"])
def test_dropout_with_a_nan_probability_raises_as_torch(case):
    def program(lib):
        x = lib.ones(0 if case == "empty input" else 3)
        if case == "functional" or case == "empty input":
            return lib.nn.functional.dropout(x, NAN)
        layer = lib.nn.Dropout(p=NAN)  # the constructor lets NaN through, in torch too
        if case == "module eval":
            layer.eval()
        return layer(x)

    raises_same(program, "dropout probability has to be between 0 and 1, but got nan")


@pytest.mark.parametrize("x, y, word", [
    ([NAN, 0.5], [1.0, 0.0], "input"),
    ([0.3, 0.5], [1.5, 0.0], "target"),
    ([0.3, 0.5], [-0.5, 0.0], "target"),
    ([0.3, 0.5], [NAN, 0.0], "target"),
    ([0.5, 1.3], [1.5, 0.0], "target"),  # element by element: the first bad one names its tensor
    ([0.5, 1.3], [0.5, 2.0], "input"),
])
def test_binary_cross_entropy_checks_input_and_target_as_torch(x, y, word):
    def program(lib):
        return lib.nn.functional.binary_cross_entropy(lib.tensor(x, dtype=lib.float64),
                                                      lib.tensor(y, dtype=lib.float64))

    raises_same(program, f"all elements of {word} should be between 0 and 1")


def test_binary_cross_entropy_in_range_and_empty_are_torchs():
    same_on_both(lambda lib: grads(lib, lambda lib, x, y: lib.nn.functional.binary_cross_entropy(x, y),
                                   [0.0, 0.3, 1.0], [0.0, 0.25, 1.0]))
    same_on_both(lambda lib: [lib.nn.functional.binary_cross_entropy(lib.zeros(0, dtype=lib.float64),
                                                                     lib.zeros(0, dtype=lib.float64))])


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape, dim", [((2, 0), 1), ((2, 0), 0), ((0,), 0), ((0, 3), 1)])
def test_softmax_over_an_empty_dimension_is_empty(name, shape, dim):
    same_on_both(lambda lib: grads(lib, lambda lib, x: getattr(lib, name)(x, dim), np.zeros(shape)))


@pytest.mark.parametrize("case", ["int64 ** -1", "int32.pow(-2)", "uint8 ** -1", "bool ** -1"])
def test_integers_to_negative_integer_powers_raise_as_torch(case):
    def program(lib):
        if case == "int64 ** -1":
            return lib.tensor([1, 2]) ** -1
        if case == "int32.pow(-2)":
            return lib.tensor([1, 2], dtype=lib.int32).pow(-2)
        if case == "uint8 ** -1":
            return lib.tensor([1, 2], dtype=lib.uint8) ** -1
        return lib.tensor([True, False]) ** -1

    raises_same(program, "Integers to negative integer powers are not allowed.")


@pytest.mark.parametrize("case", [
    "int tensor exponents", "int scalar base", "bool ** 2", "bool ** 0", "bool ** True", "bool ** False",
    "bool ** 2.0", "bool ** int tensor", "int8 ** 2", "int ** True",
])
def test_integer_and_bool_powers_have_torchs_values_and_dtypes(case):
    def program(lib):
        b = lib.tensor([True, False])
        if case == "int tensor exponents":  # a negative exponent gives 0 but for bases 1 and -1
            return [lib.tensor([1, 2, -1, -1, 0, -2, 3]) ** lib.tensor([-1, -1, -1, -2, -1, -3, 2])]
        if case == "int scalar base":
            return [2 ** lib.tensor([1, -1, 0]), (-1) ** lib.tensor([-1, -2, 3])]
        if case == "bool ** 2":
            return [b ** 2]
        if case == "bool ** 0":
            return [b ** 0]
        if case == "bool ** True":
            return [b ** True]
        if case == "bool ** False":
            return [b ** False]
        if case == "bool ** 2.0":
            return [b ** 2.0]
        if case == "bool ** int tensor":
            return [b ** lib.tensor(2), b ** lib.tensor([2, 3], dtype=lib.int32)]
        if case == "int8 ** 2":
            return [lib.tensor([1, 2], dtype=lib.int8) ** 2]
        return [lib.tensor([3, 2]) ** True]

    same_on_both(program)


def test_bool_to_a_bool_tensor_power_is_not_implemented_as_in_torch():
    raises_same(lambda lib: lib.tensor([True, False]) ** lib.tensor([True, False]),
                "\"pow\" not implemented for 'Bool'")


@pytest.mark.parametrize("name", ["sum", "mean", "var", "std"])
@pytest.mark.parametrize("keepdim", [False, True])
def test_an_empty_dim_list_reduces_over_every_dim(name, keepdim):
    same_on_both(lambda lib: grads(lib, lambda lib, x: getattr(x, name)(dim=[], keepdim=keepdim),
                                   [[1.0, 2.0], [3.0, 5.0]]))


@pytest.mark.parametrize("call, words", [
    (lambda lib: lib.zeros(0, 3).max(dim=0), ["max(): Expected reduction dim 0 to have non-zero size."]),
    (lambda lib: lib.zeros(0, 3).min(dim=-2), ["min(): Expected reduction dim 0 to have non-zero size."]),
    (lambda lib: lib.zeros(3, 0).max(1, keepdim=True), ["max(): Expected reduction dim 1 to have non-zero size."]),
    (lambda lib: lib.zeros(0, 3).argmax(dim=0), ["argmax(): Expected reduction dim 0 to have non-zero size."]),
    (lambda lib: lib.zeros(0).argmin(0), ["argmin(): Expected reduction dim 0 to have non-zero size."]),
    (lambda lib: lib.zeros(0, 3).argmax(),
     ["argmax(): Expected reduction dim to be specified for input.numel() == 0."]),
])
def test_max_and_argmax_over_an_empty_dim_raise_as_torch(call, words):
    raises_same(call, *words)


def test_max_over_a_non_empty_dim_of_an_empty_tensor_is_empty():
    same_on_both(lambda lib: list(lib.zeros(0, 3, dtype=lib.float64).max(dim=1)) + [lib.zeros(0, 3).argmin(1)])


@pytest.mark.parametrize("args, words", [
    ((4.5, 3), ["empty(): argument 'size' failed to unpack the object at pos 2", "must be tuple of ints",
                "but got float"]),
    ((4, 3.0), ["empty(): argument 'size' (position 1) must be tuple of ints, but found element of type float at "
                "pos 0"]),
    ((4.5, 3.5), ["found element of type float at pos 0"]),
    ((4, True), ["found element of type bool at pos 0"]),
    ((None, 3), ["failed to unpack the object at pos 2", "but got NoneType"]),
])
def test_linear_refuses_sizes_that_are_not_integers(args, words):
    raises_same(lambda lib: lib.nn.Linear(*args), *words)


def test_linear_takes_integer_like_sizes():
    layer = minigrad.nn.Linear(np.int64(4), 3)
    assert layer.weight.shape == (3, 4)


def test_the_same_edge_values_on_a_device(device):
    """The masked backwards, std/var, integer powers and the checks with device arrays (the strict
    CuPy stand-in refuses any host array mixed in; a real GPU where CuPy finds one)."""

    def program(where):
        def t(values, **kw):
            return minigrad.tensor(values, dtype=minigrad.float64, device=where, **kw)

        x = t([1.0, -1.0, 0.0, 3.0, NAN], requires_grad=True)
        w = t([[0.5, 0.5], [1.0, 3.0]], requires_grad=True)
        g = t([NAN, INF, -INF, 2.0, 1.0])
        outs = (minigrad.where(x > 0, x, 0.0) + x.relu() + x.clamp(-0.5, 2.0) + minigrad.maximum(x, t([0.0] * 5))
                + minigrad.minimum(x, t([0.0] * 5)))
        outs.backward(g)
        (w.std(0).sum() + w.var() + w[:, :1].max()).backward()
        ints = minigrad.tensor([1, 2, -1, -1], device=where) ** minigrad.tensor([-1, -1, -1, -2], device=where)
        empty = minigrad.softmax(minigrad.zeros(2, 0, device=where), 1)
        with pytest.raises(RuntimeError, match="all elements of target should be between 0 and 1"):
            minigrad.nn.functional.binary_cross_entropy(t([0.5, 0.5]), t([0.5, 2.0]))
        return [v.detach().cpu().numpy() for v in (outs, x.grad, w.grad, ints, empty)]

    for ours, host in zip(program(device), program("cpu")):
        assert ours.dtype == host.dtype and ours.shape == host.shape
        np.testing.assert_array_equal(ours, host)
