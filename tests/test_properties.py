"""Property tests: over random broadcast-compatible shapes, values and dims, minigrad's results and gradients
equal torch's (float64)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import assert_close, to_torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

import minigrad

SETTINGS = settings(max_examples=30, deadline=None)

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
    "maximum": lambda a, b: a.maximum(b),
    "minimum": lambda a, b: a.minimum(b),
    "mul_sum_add": lambda a, b: (a * b).sum(-1, keepdim=True) + a,
}


def _pair(seed: int, shapes: tuple, positive_first: bool):
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.5, 2.0, shapes[0]) if positive_first else rng.standard_normal(shapes[0])
    b = rng.uniform(0.5, 2.0, shapes[1]) * rng.choice([-1.0, 1.0], shapes[1])  # |b| >= 0.5: safe divisor
    return np.asarray(a), np.asarray(b)


def _backward_both(mg_out, th_out, seed: int) -> None:
    g = np.asarray(np.random.default_rng(seed + 1).standard_normal(tuple(th_out.shape)))
    mg_out.backward(minigrad.tensor(g))
    th_out.backward(torch.tensor(g))


@pytest.mark.parametrize("name", list(BINARY))
@SETTINGS
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=3),
       seed=st.integers(0, 2**32 - 1))
def test_binary_op_gradients_equal_torch(name, shapes, seed):
    op = BINARY[name]
    a, b = _pair(seed, shapes.input_shapes, positive_first=name == "pow")
    ma, mb = minigrad.tensor(a, requires_grad=True), minigrad.tensor(b, requires_grad=True)
    ta, tb = to_torch(ma), to_torch(mb)
    mg_out, th_out = op(ma, mb), op(ta, tb)
    assert tuple(mg_out.shape) == shapes.result_shape or name == "mul_sum_add"
    assert_close(mg_out, th_out)
    _backward_both(mg_out, th_out, seed)
    assert_close(ma.grad, ta.grad)
    assert_close(mb.grad, tb.grad)


@st.composite
def shape_and_dims(draw, min_dims: int = 1):
    shape = draw(array_shapes(min_dims=min_dims, max_dims=4, min_side=1, max_side=4))
    n = len(shape)
    dims = draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=n, unique_by=lambda d: d % n))
    return shape, tuple(dims)


REDUCTIONS = {
    "sum": lambda t, dims, keep: t.sum(dim=dims, keepdim=keep),
    "mean": lambda t, dims, keep: t.mean(dim=dims, keepdim=keep),
    "sum_single": lambda t, dims, keep: t.sum(dims[0], keep),
    "max_dim": lambda t, dims, keep: t.max(dim=dims[0], keepdim=keep).values,
    "min_dim": lambda t, dims, keep: t.min(dims[0], keep)[0],
    "max_all": lambda t, dims, keep: t.max(),
    "min_all": lambda t, dims, keep: t.min(),
    "softmax": lambda t, dims, keep: t.softmax(dims[0]),
    "log_softmax": lambda t, dims, keep: t.log_softmax(dims[0]),
}


@pytest.mark.parametrize("name", list(REDUCTIONS))
@SETTINGS
@given(shape_dims=shape_and_dims(), keepdim=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_reduction_gradients_equal_torch(name, shape_dims, keepdim, seed):
    shape, dims = shape_dims
    op = REDUCTIONS[name]
    x = np.asarray(np.random.default_rng(seed).standard_normal(shape))
    mx = minigrad.tensor(x, requires_grad=True)
    tx = to_torch(mx)
    mg_out, th_out = op(mx, dims, keepdim), op(tx, dims, keepdim)
    assert_close(mg_out, th_out)
    _backward_both(mg_out, th_out, seed)
    assert_close(mx.grad, tx.grad)


@SETTINGS
@given(shapes=mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=3),
       seed=st.integers(0, 2**32 - 1))
def test_where_gradients_equal_torch(shapes, seed):
    rng = np.random.default_rng(seed)
    cond = np.asarray(rng.random(shapes.input_shapes[0]) < 0.5)
    a = np.asarray(rng.standard_normal(shapes.input_shapes[1]))
    b = np.asarray(rng.standard_normal(shapes.input_shapes[2]))
    ma, mb = minigrad.tensor(a, requires_grad=True), minigrad.tensor(b, requires_grad=True)
    ta, tb = to_torch(ma), to_torch(mb)
    mg_out = minigrad.where(minigrad.tensor(cond), ma, mb)
    th_out = torch.where(torch.tensor(cond), ta, tb)
    assert_close(mg_out, th_out)
    _backward_both(mg_out, th_out, seed)
    assert_close(ma.grad, ta.grad)
    assert_close(mb.grad, tb.grad)


@SETTINGS
@given(shapes=mutually_broadcastable_shapes(signature="(m?,n),(n,p?)->(m?,p?)", max_dims=3, max_side=3),
       seed=st.integers(0, 2**32 - 1))
def test_matmul_gradients_equal_torch(shapes, seed):
    """Vectors, matrices and broadcast batches of matrices."""
    rng = np.random.default_rng(seed)
    a = np.asarray(rng.standard_normal(shapes.input_shapes[0]))
    b = np.asarray(rng.standard_normal(shapes.input_shapes[1]))
    ma, mb = minigrad.tensor(a, requires_grad=True), minigrad.tensor(b, requires_grad=True)
    ta, tb = to_torch(ma), to_torch(mb)
    mg_out, th_out = ma @ mb, ta @ tb
    assert tuple(mg_out.shape) == shapes.result_shape
    assert_close(mg_out, th_out)
    _backward_both(mg_out, th_out, seed)
    assert_close(ma.grad, ta.grad)
    assert_close(mb.grad, tb.grad)
