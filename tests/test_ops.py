"""Every differentiable op against torch (float64, forward values and input gradients to 1e-10) and against
finite differences (gradcheck)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import assert_close, to_np

import minigrad
from minigrad.autograd import gradcheck, gradgradcheck

# -- input specs: each is a function of a NumPy generator, or a plain Python value -----------------------------


def N(*shape):
    """Standard normal float64 values (a leaf that requires grad)."""
    return lambda rng: np.asarray(rng.standard_normal(shape))


def Pos(*shape):
    """Positive float64 values in [0.5, 2] (for log, sqrt, pow bases)."""
    return lambda rng: np.asarray(rng.uniform(0.5, 2.0, shape))


def Away(*shape):
    """Float64 values with |x| in [0.2, 2]: away from the kinks of abs, relu, clamp at 0."""
    return lambda rng: np.asarray(rng.uniform(0.2, 2.0, shape) * rng.choice([-1.0, 1.0], shape))


def Lit(values, dtype=np.float64):
    """Fixed values; float arrays require grad, int and bool arrays are plain (index or condition) tensors."""
    return lambda rng: np.array(values, dtype=dtype)


class Case:
    def __init__(self, name, fn, *specs, fd=True):
        self.name, self.fn, self.specs, self.fd = name, fn, specs, fd

    def param(self):
        return pytest.param(self, id=self.name)


def _values(case, seed=0):
    rng = np.random.default_rng(seed)
    return [s(rng) if callable(s) else s for s in case.specs]


def _inputs(lib, values):
    """The same values as minigrad or torch inputs: float arrays become leaves that require grad."""
    out = []
    for v in values:
        if isinstance(v, np.ndarray):
            out.append(lib.tensor(v.copy(), requires_grad=v.dtype.kind == "f"))
        else:
            out.append(v)
    return out


def run_case(case, seed=0, dtype=np.float64, tol=1e-10):
    """Forward and backward in both libraries with the same inputs and the same random upstream gradient."""
    values = [v.astype(dtype) if isinstance(v, np.ndarray) and v.dtype.kind == "f" else v
              for v in _values(case, seed)]
    mg_in, th_in = _inputs(minigrad, values), _inputs(torch, values)
    mg_out, th_out = case.fn(minigrad, *mg_in), case.fn(torch, *th_in)
    assert_close(mg_out, th_out, atol=tol, rtol=tol)
    assert mg_out.requires_grad == th_out.requires_grad
    upstream = np.random.default_rng(seed + 1).standard_normal(tuple(th_out.shape))
    mg_out.backward(minigrad.tensor(upstream, dtype=mg_out.dtype))
    th_out.backward(torch.tensor(upstream, dtype=th_out.dtype))
    for i, (m, t) in enumerate(zip(mg_in, th_in)):
        if isinstance(t, torch.Tensor) and t.requires_grad:
            assert m.grad is not None, f"input {i} got no gradient"
            assert_close(m.grad, t.grad, atol=tol, rtol=tol)  # dtype included: grads keep the input's dtype
    return mg_out, th_out


# -- elementwise ops, binary ones with broadcasting and Python numbers on either side ---------------------------

ELEMENTWISE = [
    Case("add", lambda m, a, b: a + b, N(2, 3), N(2, 3)),
    Case("add_bcast_3d_2d", lambda m, a, b: a + b, N(3, 1, 4), N(2, 4)),
    Case("add_bcast_2d_3d", lambda m, a, b: a + b, N(2, 4), N(3, 1, 4)),
    Case("add_scalar_tensor", lambda m, a, b: a + b, N(2, 3), N()),
    Case("add_python_right", lambda m, a: a + 2.5, N(2, 3)),
    Case("add_python_left", lambda m, a: 2.5 + a, N(2, 3)),
    Case("add_fn_alpha", lambda m, a, b: m.add(a, b, alpha=3), N(2, 3), N(3)),
    Case("sub", lambda m, a, b: a - b, N(3, 1, 4), N(2, 4)),
    Case("sub_python_right", lambda m, a: a - 2, N(4)),
    Case("sub_python_left", lambda m, a: 2 - a, N(4)),
    Case("sub_same", lambda m, a: a - a, N(3)),
    Case("mul", lambda m, a, b: a * b, N(3, 1, 4), N(2, 4)),
    Case("mul_0d_both", lambda m, a, b: a * b, N(), N()),
    Case("mul_python_left", lambda m, a: 3 * a, N(2, 2)),
    Case("mul_self", lambda m, a: a * a, N(2, 3)),
    Case("div", lambda m, a, b: a / b, N(3, 1, 4), Away(2, 4)),
    Case("div_python_right", lambda m, a: a / 4.0, N(3)),
    Case("div_python_left", lambda m, a: 2.0 / a, Away(3)),
    Case("div_0d", lambda m, a, b: a / b, N(2, 3), Away()),
    Case("pow_int", lambda m, a: a**2, N(2, 3)),
    Case("pow_float", lambda m, a: a**0.5, Pos(2, 3)),
    Case("pow_neg", lambda m, a: a**-1.5, Pos(4)),
    Case("pow_tensor_tensor", lambda m, a, b: a**b, Pos(3, 1), N(1, 4)),
    Case("pow_python_base", lambda m, a: 2.0**a, N(2, 3)),
    Case("pow_fn", lambda m, a, b: m.pow(a, b), Pos(2, 3), N(3)),
    Case("matmul_2d", lambda m, a, b: a @ b, N(2, 3), N(3, 4)),
    Case("matmul_1d_1d", lambda m, a, b: a @ b, N(3), N(3)),
    Case("matmul_1d_2d", lambda m, a, b: a @ b, N(3), N(3, 4)),
    Case("matmul_2d_1d", lambda m, a, b: a @ b, N(2, 3), N(3)),
    Case("matmul_batch_2d", lambda m, a, b: a @ b, N(2, 2, 3), N(3, 4)),
    Case("matmul_batch_bcast", lambda m, a, b: m.matmul(a, b), N(2, 1, 2, 3), N(3, 3, 4)),
    Case("matmul_1d_batch", lambda m, a, b: a @ b, N(3), N(2, 3, 4)),
    Case("neg", lambda m, a: -a, N(2, 3)),
    Case("neg_fn", lambda m, a: m.neg(a), N(2, 3)),
    Case("exp", lambda m, a: m.exp(a), N(2, 3)),
    Case("exp_method", lambda m, a: a.exp(), N(4)),
    Case("log", lambda m, a: m.log(a), Pos(2, 3)),
    Case("sqrt", lambda m, a: m.sqrt(a), Pos(2, 3)),
    Case("abs", lambda m, a: m.abs(a), Away(2, 3)),
    Case("abs_at_zero", lambda m, a: a.abs(), Lit([-1.0, 0.0, 2.0]), fd=False),
    Case("tanh", lambda m, a: m.tanh(a), N(2, 3)),
    Case("tanh_large", lambda m, a: a.tanh(), Lit([-30.0, -1.0, 0.5, 30.0]), fd=False),
    Case("sigmoid", lambda m, a: m.sigmoid(a), N(2, 3)),
    Case("sigmoid_large", lambda m, a: a.sigmoid(), Lit([-800.0, -40.0, 0.0, 40.0, 800.0]), fd=False),
    Case("relu", lambda m, a: m.relu(a), Away(2, 3)),
    Case("relu_at_zero", lambda m, a: a.relu(), Lit([-1.0, 0.0, 2.0]), fd=False),
    Case("clamp_both", lambda m, a: m.clamp(a, -0.5, 0.5), Lit([-2.0, -0.3, 0.1, 0.4, 1.7])),
    Case("clamp_min", lambda m, a: a.clamp(min=0.1), Lit([-2.0, -0.3, 0.4, 1.7])),
    Case("clamp_max", lambda m, a: a.clamp(max=0.1), Lit([-2.0, -0.3, 0.4, 1.7])),
    Case("clamp_at_bounds", lambda m, a: a.clamp(-1.0, 1.0), Lit([-1.0, 0.0, 1.0, 2.0]), fd=False),
    Case("clip", lambda m, a: m.clip(a, -0.5, 0.5), Lit([-2.0, 0.1, 1.7])),
    Case("maximum", lambda m, a, b: m.maximum(a, b), N(3, 1, 4), N(2, 4)),
    Case("maximum_ties", lambda m, a, b: m.maximum(a, b), Lit([1.0, 2.0, 3.0]), Lit([1.0, 5.0, 3.0]), fd=False),
    Case("minimum", lambda m, a, b: m.minimum(a, b), N(3, 1, 4), N(2, 4)),
    Case("minimum_ties", lambda m, a, b: m.minimum(a, b), Lit([1.0, 2.0, 3.0]), Lit([1.0, 5.0, 0.0]), fd=False),
    Case("where", lambda m, c, a, b: m.where(c, a, b), Lit([[True, False, True], [False, False, True]], bool),
         N(2, 3), N(2, 3)),
    Case("where_bcast", lambda m, c, a, b: m.where(c, a, b), Lit([True, False, True], bool), N(2, 1), N(2, 3)),
    Case("where_python_other", lambda m, c, a: m.where(c, a, 0.0), Lit([True, False, True], bool), N(2, 3)),
    Case("where_method", lambda m, c, a, b: a.where(c, b), Lit([True, False], bool), N(2), N(2)),
    Case("clone", lambda m, a: a.clone() * 2, N(2, 3)),
    Case("to_float32", lambda m, a: a.float(), N(2, 3), fd=False),
]


@pytest.mark.parametrize("case", [c.param() for c in ELEMENTWISE])
def test_elementwise_vs_torch(case):
    run_case(case)


# -- reductions ----------------------------------------------------------------------------------------------

TIES = [[3.0, 1.0, 3.0, -2.0], [0.5, 0.5, -1.0, -1.0], [2.0, 2.0, 2.0, 2.0]]

REDUCTIONS = [
    Case("sum_all", lambda m, a: a.sum(), N(2, 3, 4)),
    Case("sum_fn", lambda m, a: m.sum(a), N(2, 3)),
    Case("sum_dim", lambda m, a: a.sum(dim=1), N(2, 3, 4)),
    Case("sum_dim_neg", lambda m, a: a.sum(-1), N(2, 3, 4)),
    Case("sum_keepdim", lambda m, a: a.sum(1, keepdim=True), N(2, 3, 4)),
    Case("sum_tuple", lambda m, a: a.sum(dim=(0, 2)), N(2, 3, 4)),
    Case("sum_tuple_neg_keepdim", lambda m, a: a.sum((0, -1), keepdim=True), N(2, 3, 4)),
    Case("sum_0d", lambda m, a: a.sum(), N()),
    Case("mean_all", lambda m, a: a.mean(), N(2, 3, 4)),
    Case("mean_fn", lambda m, a: m.mean(a), N(2, 3)),
    Case("mean_dim", lambda m, a: a.mean(dim=0), N(2, 3, 4)),
    Case("mean_dim_neg_keepdim", lambda m, a: a.mean(-2, keepdim=True), N(2, 3, 4)),
    Case("mean_tuple", lambda m, a: a.mean(dim=(1, 2)), N(2, 3, 4)),
    Case("mean_tuple_keepdim", lambda m, a: a.mean((-1, 0), keepdim=True), N(2, 3, 4)),
    Case("max_all", lambda m, a: a.max(), N(3, 4)),
    Case("max_all_ties", lambda m, a: a.max(), Lit(TIES), fd=False),
    Case("max_fn", lambda m, a: m.max(a), N(3, 4)),
    Case("max_dim", lambda m, a: a.max(dim=1).values, N(3, 4)),
    Case("max_dim_keepdim", lambda m, a: a.max(0, keepdim=True)[0], N(3, 4)),
    Case("max_dim_neg", lambda m, a: m.max(a, -1)[0], N(2, 3, 4)),
    Case("max_dim_ties", lambda m, a: a.max(dim=1).values, Lit(TIES), fd=False),
    Case("min_all", lambda m, a: a.min(), N(3, 4)),
    Case("min_all_ties", lambda m, a: a.min(), Lit(TIES), fd=False),
    Case("min_dim", lambda m, a: a.min(dim=1).values, N(3, 4)),
    Case("min_dim_keepdim_neg", lambda m, a: a.min(-2, keepdim=True).values, N(2, 3, 4)),
    Case("min_dim_ties", lambda m, a: a.min(1)[0], Lit(TIES), fd=False),
    Case("max_dim_0d", lambda m, a: a.max(0).values, N()),
    Case("min_dim_0d_keepdim", lambda m, a: a.min(-1, keepdim=True)[0], N()),
    Case("sum_dim_0d", lambda m, a: a.sum(0), N()),
    Case("mean_dim_0d_keepdim", lambda m, a: a.mean(-1, keepdim=True), N()),
    Case("softmax_0d", lambda m, a: a.softmax(0), N()),
    Case("max_binary", lambda m, a, b: m.max(a, b), N(2, 3), N(3)),
    Case("min_binary", lambda m, a, b: m.min(a, b), N(2, 3), N(3)),
]


@pytest.mark.parametrize("case", [c.param() for c in REDUCTIONS])
def test_reduction_vs_torch(case):
    run_case(case)


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_dim_indices_match_torch(name, dim):
    values = np.array(TIES)
    mg, th = getattr(minigrad.tensor(values), name)(dim), getattr(torch.tensor(values), name)(dim)
    assert_close(mg.values, th.values)
    assert_close(mg.indices, th.indices)
    assert_close(mg[1], th[1])


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("kwargs", [{}, {"dim": 0}, {"dim": 1}, {"dim": -1, "keepdim": True}])
def test_argmax_argmin_vs_torch(name, kwargs):
    values = np.array(TIES)
    mg = getattr(minigrad, name)(minigrad.tensor(values), **kwargs)
    th = getattr(torch, name)(torch.tensor(values), **kwargs)
    assert_close(mg, th)
    assert not mg.requires_grad
    assert_close(getattr(minigrad.tensor(values, requires_grad=True), name)(**kwargs), th)


# -- shape ops --------------------------------------------------------------------------------------------------

SHAPE = [
    Case("reshape", lambda m, a: a.reshape(3, 4) * 2, N(2, 6)),
    Case("reshape_tuple_infer", lambda m, a: m.reshape(a, (4, -1)), N(2, 6)),
    Case("view", lambda m, a: a.view(-1), N(2, 3)),
    Case("view_tuple", lambda m, a: a.view((3, 2)), N(2, 3)),
    Case("flatten", lambda m, a: a.flatten(), N(2, 3, 2)),
    Case("flatten_range", lambda m, a: m.flatten(a, 1, -1), N(2, 3, 2)),
    Case("flatten_start", lambda m, a: a.flatten(start_dim=1), N(2, 3, 2, 2)),
    Case("transpose", lambda m, a: a.transpose(0, 2), N(2, 3, 4)),
    Case("transpose_neg", lambda m, a: m.transpose(a, -1, -2), N(2, 3, 4)),
    Case("T", lambda m, a: a.T, N(2, 3)),
    Case("t", lambda m, a: a.t(), N(2, 3)),
    Case("permute", lambda m, a: a.permute(2, 0, 1), N(2, 3, 4)),
    Case("permute_tuple_neg", lambda m, a: m.permute(a, (-1, 0, 1)), N(2, 3, 4)),
    Case("unsqueeze", lambda m, a: a.unsqueeze(1), N(2, 3)),
    Case("unsqueeze_neg", lambda m, a: m.unsqueeze(a, -1), N(2, 3)),
    Case("unsqueeze_0d", lambda m, a: a.unsqueeze(0), N()),
    Case("squeeze_all", lambda m, a: a.squeeze(), N(1, 3, 1, 2)),
    Case("squeeze_dim", lambda m, a: a.squeeze(2), N(1, 3, 1, 2)),
    Case("squeeze_dim_neg", lambda m, a: m.squeeze(a, -4), N(1, 3, 1, 2)),
    Case("squeeze_non_one", lambda m, a: a.squeeze(1), N(1, 3, 1, 2)),
    Case("cat_dim0", lambda m, a, b, c: m.cat([a, b, c]), N(1, 3), N(2, 3), N(3, 3)),
    Case("cat_dim1", lambda m, a, b, c: m.cat((a, b, c), dim=1), N(2, 1), N(2, 3), N(2, 2)),
    Case("cat_neg", lambda m, a, b: m.cat([a, b], -1), N(2, 2, 1), N(2, 2, 3)),
    Case("cat_same_twice", lambda m, a, b: m.cat([a, b, a]), N(2), N(3)),
    Case("stack_dim0", lambda m, a, b, c: m.stack([a, b, c]), N(2, 3), N(2, 3), N(2, 3)),
    Case("stack_dim1", lambda m, a, b, c: m.stack((a, b, c), dim=1), N(2, 3), N(2, 3), N(2, 3)),
    Case("stack_neg", lambda m, a, b: m.stack([a, b], dim=-1), N(2, 3), N(2, 3)),
    Case("stack_same_twice", lambda m, a: m.stack([a, a * 2]), N(3)),
    Case("stack_0d", lambda m, a, b: m.stack([a, b]), N(), N()),
    Case("transpose_0d", lambda m, a: a.transpose(0, -1), N()),
    Case("flatten_0d", lambda m, a: a.flatten(), N()),
    Case("squeeze_0d", lambda m, a: a.squeeze(0), N()),
    Case("index_0d_none", lambda m, a: a[None], N()),
]


@pytest.mark.parametrize("case", [c.param() for c in SHAPE])
def test_shape_ops_vs_torch(case):
    run_case(case)


# -- softmax -----------------------------------------------------------------------------------------------------

LARGE = [[1000.0, 999.0, 998.0], [-1000.0, 0.0, 1000.0]]

SOFTMAX = [
    Case("softmax_dim1", lambda m, a: m.softmax(a, dim=1), N(2, 4)),
    Case("softmax_dim0", lambda m, a: a.softmax(0), N(2, 4)),
    Case("softmax_neg_3d", lambda m, a: m.softmax(a, -1), N(2, 3, 4)),
    Case("softmax_large", lambda m, a: m.softmax(a, dim=1), Lit(LARGE)),
    Case("log_softmax_dim1", lambda m, a: m.log_softmax(a, dim=1), N(2, 4)),
    Case("log_softmax_dim0", lambda m, a: a.log_softmax(0), N(2, 4)),
    Case("log_softmax_neg_3d", lambda m, a: m.log_softmax(a, -2), N(2, 3, 4)),
    Case("log_softmax_large", lambda m, a: m.log_softmax(a, dim=1), Lit(LARGE)),
]


@pytest.mark.parametrize("case", [c.param() for c in SOFTMAX])
def test_softmax_vs_torch(case):
    run_case(case)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_large_values_are_finite(name):
    for dtype in (minigrad.float32, minigrad.float64):
        x = minigrad.tensor(LARGE, dtype=dtype, requires_grad=True)
        y = getattr(minigrad, name)(x, dim=1)
        assert np.isfinite(to_np(y)).all()
        (y * minigrad.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=dtype)).sum().backward()
        assert np.isfinite(to_np(x.grad)).all()
    # exact values: softmax([1000, 999, 998]) = softmax([2, 1, 0])
    expected = np.exp([2.0, 1.0, 0.0]) / np.exp([2.0, 1.0, 0.0]).sum()
    got = minigrad.softmax(minigrad.tensor(LARGE, dtype=minigrad.float64), dim=1)
    np.testing.assert_allclose(to_np(got)[0], expected, rtol=1e-12)


# -- indexing ------------------------------------------------------------------------------------------------------

INDEXING = [
    Case("index_int", lambda m, a: a[1], N(3, 4)),
    Case("index_neg_int", lambda m, a: a[-1, 2], N(3, 4)),
    Case("index_slice", lambda m, a: a[:, 1:3], N(3, 4)),
    Case("index_slice_step", lambda m, a: a[::2, 1::2], N(3, 4)),
    Case("index_ellipsis_none", lambda m, a: a[None, ..., 0], N(3, 4)),
    Case("index_list_repeats", lambda m, a: a[[0, 2, 0, 0]], N(3, 4)),
    Case("index_tensor_repeats", lambda m, a, i: a[i], N(3, 4), Lit([1, 1, 2, 1], np.int64)),
    Case("index_tensor_2d", lambda m, a, i: a[i], N(4), Lit([[0, 3], [3, 3]], np.int64)),
    Case("index_pair_arrays", lambda m, a, i, j: a[i, j], N(3, 4), Lit([0, 2, 0], np.int64),
         Lit([1, 3, 1], np.int64)),
    Case("index_slice_and_array", lambda m, a, i: a[:, i], N(3, 4), Lit([3, 0, 3], np.int64)),
    Case("index_bool_mask", lambda m, a, k: a[k], N(2, 3), Lit([[True, False, True], [False, False, True]], bool)),
    Case("index_bool_rows", lambda m, a, k: a[k], N(3, 2), Lit([True, False, True], bool)),
    Case("index_then_sum_twice", lambda m, a: a[0] + a[0:1].sum() + a[-1], N(2, 3)),
]


@pytest.mark.parametrize("case", [c.param() for c in INDEXING])
def test_indexing_vs_torch(case):
    run_case(case)


def test_repeated_index_accumulates_by_hand():
    a = minigrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    a[[0, 0, 2, 0]].sum().backward()
    assert a.grad.tolist() == [3.0, 0.0, 1.0]


# -- no-grad ops: comparisons, in-place, __setitem__ ------------------------------------------------------------

COMPARISONS = {
    "lt": lambda a, b: a < b, "le": lambda a, b: a <= b, "gt": lambda a, b: a > b, "ge": lambda a, b: a >= b,
    "eq": lambda a, b: a == b, "ne": lambda a, b: a != b,
}


@pytest.mark.parametrize("name", list(COMPARISONS))
def test_comparisons_return_bool_vs_torch(name):
    op = COMPARISONS[name]
    a = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])
    b = np.array([2.0, 2.0, 2.0])
    for mg, th in [
        (op(minigrad.tensor(a, requires_grad=True), minigrad.tensor(b)), op(torch.tensor(a), torch.tensor(b))),
        (op(minigrad.tensor(a), 2.0), op(torch.tensor(a), 2.0)),
        (op(minigrad.tensor([1, 2, 3]), 2), op(torch.tensor([1, 2, 3]), 2)),
    ]:
        assert mg.dtype == minigrad.bool
        assert not mg.requires_grad
        assert_close(mg, th)


def test_inplace_ops_vs_torch():
    a = np.arange(6.0).reshape(2, 3)
    mg, th = minigrad.tensor(a), torch.tensor(a)
    for op in (lambda t: t.__iadd__(1.5), lambda t: t.__isub__(0.25), lambda t: t.__imul__(3.0),
               lambda t: t.__itruediv__(2.0)):
        mg2, th2 = op(mg), op(th)
        assert mg2 is mg and th2 is th
        assert_close(mg, th)
    mg += minigrad.tensor([1.0, 2.0, 3.0])
    th += torch.tensor([1.0, 2.0, 3.0])
    assert_close(mg, th)


def test_setitem_vs_torch():
    a = np.zeros((3, 4))
    mg, th = minigrad.tensor(a), torch.tensor(a)
    for index, value in [((0, 1), 5.0), (slice(1, 3), 2.0), ((slice(None), 3), -1.0)]:
        mg[index] = value
        th[index] = value
    mg[minigrad.tensor([0, 2])] = minigrad.tensor([7.0, 8.0, 9.0, 10.0], dtype=minigrad.float64)
    th[torch.tensor([0, 2])] = torch.tensor([7.0, 8.0, 9.0, 10.0], dtype=torch.float64)
    mg[mg > 8.5] = 0.0
    th[th > 8.5] = 0.0
    assert_close(mg, th)


# -- edge values: zeros, infinities, NaNs (torch's conventions where the derivative is undefined) ---------------

NAN, INF = float("nan"), float("inf")

EDGES = [
    Case("pow_zero_exponent_at_zero", lambda m, a: a**0, Lit([0.0, 1.0, -2.0])),
    Case("pow_at_zero", lambda m, a: a**2 + a**1, Lit([0.0, -1.5])),
    Case("pow_tensor_zero_base", lambda m, a, b: a**b, Lit([0.0, 0.0, 0.0, 2.0]), Lit([1.0, 0.0, -1.0, 2.0])),
    Case("pow_tensor_zero_exponent", lambda m, a, b: a**b, Lit([0.0, 3.0]), Lit([0.0, 0.0])),
    Case("rpow_zero_base", lambda m, a: 0.0**a, Lit([1.0, 2.0, 0.0])),
    Case("sqrt_at_zero", lambda m, a: a.sqrt(), Lit([0.0, 4.0])),
    Case("log_at_zero", lambda m, a: a.log(), Lit([0.0, 4.0])),
    Case("div_by_zero", lambda m, a, b: a / b, Lit([1.0, 0.0, -1.0]), Lit([0.0, 0.0, 0.0])),
    Case("exp_overflow", lambda m, a: a.exp(), Lit([1000.0, 0.0])),
    Case("sigmoid_inf", lambda m, a: a.sigmoid(), Lit([INF, -INF, 0.0])),
    Case("tanh_inf", lambda m, a: a.tanh(), Lit([INF, -INF, 0.0])),
    Case("max_nan", lambda m, a: a.max(), Lit([1.0, NAN, 3.0])),
    Case("min_nan", lambda m, a: a.min(), Lit([1.0, NAN, 3.0])),
    Case("max_dim_nan", lambda m, a: a.max(1).values, Lit([[1.0, NAN, 3.0], [4.0, 2.0, 0.0]])),
    Case("maximum_nan", lambda m, a, b: m.maximum(a, b), Lit([1.0, NAN, 3.0, NAN]), Lit([2.0, 2.0, NAN, NAN])),
    Case("minimum_nan", lambda m, a, b: m.minimum(a, b), Lit([1.0, NAN, 3.0, NAN]), Lit([2.0, 2.0, NAN, NAN])),
    Case("relu_nan", lambda m, a: a.relu(), Lit([NAN, 1.0, -1.0])),
    Case("abs_nan", lambda m, a: a.abs(), Lit([NAN, -1.0, 0.0])),
    Case("clamp_nan", lambda m, a: a.clamp(0.0, 1.0), Lit([NAN, 0.5, 2.0])),
    Case("softmax_neg_inf", lambda m, a: a.softmax(0), Lit([-INF, 0.0, 1.0])),
    Case("log_softmax_neg_inf", lambda m, a: a.log_softmax(0), Lit([-INF, 0.0, 1.0])),
    Case("mean_of_empty", lambda m, a: a[:0].mean(), Lit([1.0, 2.0])),
    Case("sum_of_empty", lambda m, a: a[:0].sum(), Lit([1.0, 2.0])),
]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy warns on 0**-1, log(0), 1/0; torch does not
@pytest.mark.parametrize("case", [c.param() for c in EDGES])
def test_edge_values_vs_torch(case):
    run_case(case)


# -- finite differences ----------------------------------------------------------------------------------------

ALL_CASES = ELEMENTWISE + REDUCTIONS + SHAPE + SOFTMAX + INDEXING


@pytest.mark.parametrize("case", [c.param() for c in ALL_CASES])
def test_float32_keeps_dtype_vs_torch(case):
    """The same cases in float32: outputs and gradients stay float32 (no float64 leaking in) and agree."""
    run_case(case, dtype=np.float32, tol=2e-5)


@pytest.mark.parametrize("case", [c.param() for c in ALL_CASES if c.fd])
def test_gradcheck(case):
    mg_in = _inputs(minigrad, _values(case, seed=7))
    assert gradcheck(lambda *xs: case.fn(minigrad, *xs), mg_in, eps=1e-6, atol=1e-5, rtol=1e-3)


@pytest.mark.parametrize("case", [c.param() for c in ALL_CASES if c.fd])
def test_gradgradcheck(case):
    """Second derivatives (the recorded backward) against finite differences of first derivatives."""
    mg_in = _inputs(minigrad, _values(case, seed=7))
    assert gradgradcheck(lambda *xs: case.fn(minigrad, *xs), mg_in, eps=1e-6, atol=1e-5, rtol=1e-3)


def test_gradcheck_catches_a_wrong_gradient():
    class WrongExp(minigrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.exp()

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x.exp() * 1.01

    x = minigrad.tensor([0.1, 0.2], dtype=minigrad.float64, requires_grad=True)
    with pytest.raises(minigrad.autograd.GradcheckError):
        gradcheck(WrongExp.apply, (x,))
    assert gradcheck(WrongExp.apply, (x,), raise_exception=False) is False


def test_gradcheck_multiple_outputs_and_non_float_outputs():
    x = minigrad.tensor([0.3, -0.7, 1.1], dtype=minigrad.float64, requires_grad=True)
    y = minigrad.tensor([[0.5], [2.0]], dtype=minigrad.float64, requires_grad=True)
    assert gradcheck(lambda a, b: (a.exp(), a * b, a.argmax()), (x, y))
    assert gradcheck(lambda a, b, k: (a * k + b).max(1), (x, y, 3.0))  # a (values, indices) pair
    assert x.grad is None and y.grad is None  # gradcheck leaves no gradients behind
