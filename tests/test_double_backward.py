"""Double backprop (``create_graph=True``) against torch, the oracle: second and third derivatives of every
differentiable op (float64, 1e-10), ``autograd.grad``'s semantics and error messages, ``backward(create_graph=True)``
into ``.grad``, a gradient-penalty training loop, a Hessian-vector product, that recorded backward graphs are freed
by reference counting alone, and a user ``Function`` whose backward is written in tensor ops.

Each op case is ``fn(lib, *inputs)`` run on minigrad and on torch with the same values. Float arrays become leaves
that require grad, ``Const`` values and integer or bool arrays plain tensors, other values (numbers, tuples) are
passed as they are. The check, in both libraries:

    g1 = grad(out, leaves, w, create_graph=True)          # first order, w random
    g2 = grad(sum((g1_i * v_i).sum()), leaves, ...)       # second order, v random
    g3 = grad(sum((g2_i * u_i).sum()), leaves, ...)       # third order

with ``allow_unused=True, materialize_grads=True`` so that a gradient that is zero because nothing depends on a
leaf compares as zeros, and a gradient that has no history (a linear op's) counts as a constant.
"""

from __future__ import annotations

import gc
import warnings
import weakref

import numpy as np
import pytest
import torch
from conftest import assert_close, to_np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minigrad
from minigrad.autograd.graph import AccumulateGrad, Node

TOL = 1e-10

# -- input specs (as tests/test_ops.py): functions of a NumPy generator --------------------------------------------


from test_ops import Away, N, Pos  # noqa: E402  (the same input specs as the first-order tests)


def Unit(*shape):
    """Probabilities in [0.05, 0.95] (binary_cross_entropy)."""
    return lambda rng: np.asarray(rng.uniform(0.05, 0.95, shape))


def Lit(values, dtype=np.float64):
    return lambda rng: np.array(values, dtype=dtype)


class Const:
    """A float tensor that does not require grad (a target, a class weight)."""

    def __init__(self, spec):
        self.spec = spec

    def __call__(self, rng):
        return Const(self.spec(rng))


class Case:
    def __init__(self, name, fn, *specs, order=3):
        self.name, self.fn, self.specs, self.order = name, fn, specs, order

    def param(self):
        return pytest.param(self, id=self.name)


def _values(specs, seed):
    rng = np.random.default_rng(seed)
    return [s(rng) if callable(s) else s for s in specs]


def _inputs(lib, values):
    out = []
    for v in values:
        if isinstance(v, Const):
            out.append(lib.tensor(v.spec.copy()))
        elif isinstance(v, np.ndarray):
            out.append(lib.tensor(v.copy(), requires_grad=v.dtype.kind == "f"))
        else:
            out.append(v)
    return out


def _flat(out):
    """The differentiable tensors among an op's outputs (a tuple for max(dim) and friends)."""
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return [o for o in outs if o.is_floating_point() and o.requires_grad]


def higher_order(lib, case, seed, order):
    """[forward outputs, first-order grads, second-order grads, ...] of ``case`` in ``lib``."""
    inputs = _inputs(lib, _values(case.specs, seed))
    leaves = [t for t in inputs if isinstance(t, lib.Tensor) and t.requires_grad]
    out = case.fn(lib, *inputs)
    outs = _flat(out)
    rng = np.random.default_rng(seed + 100)
    ws = [lib.tensor(rng.standard_normal(tuple(o.shape))) for o in outs]
    results = [[o.detach() for o in outs]]
    grads = lib.autograd.grad(outs, leaves, ws, create_graph=True, allow_unused=True, materialize_grads=True)
    results.append([_dense(g) for g in grads])
    for k in range(2, order + 1):
        vs = [lib.tensor(rng.standard_normal(tuple(g.shape))) for g in grads]
        terms = [(g * v).sum() for g, v in zip(grads, vs) if g.requires_grad]
        if not terms:  # no gradient has a history: every higher derivative is zero
            grads = [lib.zeros_like(t) for t in leaves]
            if k == order:
                results.append(grads)
        else:
            total = terms[0]
            for term in terms[1:]:
                total = total + term
            if k == order:  # the last order as a user would take it too: without recording
                plain = lib.autograd.grad(total, leaves, retain_graph=True, allow_unused=True, materialize_grads=True)
                results.append([_dense(g) for g in plain])
            grads = list(lib.autograd.grad(total, leaves, create_graph=True, allow_unused=True,
                                           materialize_grads=True))
        results.append([_dense(g) for g in grads])
    return results


def _dense(g):
    """torch gives some zero gradients as a ZeroTensor (abs's second derivative), which has no NumPy view."""
    if isinstance(g, torch.Tensor) and g._is_zerotensor():
        return torch.zeros(g.shape, dtype=g.dtype)
    return g


def _labels(order):
    labels = ["forward"] + [f"order {k} (create_graph=True)" for k in range(1, order + 1)]
    labels.insert(order, f"order {order} (create_graph=False)")
    return labels


def check_case(case, seed=0, order=None):
    order = case.order if order is None else order
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = higher_order(torch, case, seed, order)
        actual = higher_order(minigrad, case, seed, order)
    assert len(actual) == len(expected)
    labels = _labels(order)
    for k, (mine, theirs) in enumerate(zip(actual, expected)):
        assert len(mine) == len(theirs)
        for i, (m, t) in enumerate(zip(mine, theirs)):
            try:
                assert_close(m, t, atol=TOL, rtol=TOL)
            except AssertionError as e:
                raise AssertionError(f"{case.name}: {labels[k]}, input {i}: {e}") from None


def sin_of(op):
    """``op`` followed by sin: a linear op's recorded backward then gets gradients with a history."""
    return lambda lib, *a: op(lib, *a).sin()


def through_sin(op):
    """sin, then ``op`` (on the first input), then sin: both directions of the op's backward are recorded."""
    return lambda lib, x, *a: op(lib, x.sin(), *a).sin()


# -- the op table ---------------------------------------------------------------------------------------------------

ELEMENTWISE = [
    Case("add", lambda lib, a, b: a + b, N(3, 4), N(3, 4)),
    Case("add_broadcast", lambda lib, a, b: (a + b).sin(), N(3, 1), N(1, 4)),
    Case("add_alpha", lambda lib, a, b: lib.add(a, b, alpha=2.5).sin(), N(3, 4), N(4)),
    Case("add_scalar_shape", lambda lib, a, b: (a + b) * a, N(3, 4), N()),
    Case("sub", lambda lib, a, b: a - b, N(3, 4), N(3, 4)),
    Case("sub_broadcast", lambda lib, a, b: (a - b).sin(), N(3, 1), N(1, 4)),
    Case("rsub_number", lambda lib, a: (2.0 - a).exp(), N(3, 4)),
    Case("mul", lambda lib, a, b: a * b, N(3, 4), N(3, 4)),
    Case("mul_broadcast", lambda lib, a, b: a * b, N(3, 1), N(1, 4)),
    Case("mul_scalar_shape", lambda lib, a, b: a * b * a, N(3, 4), N()),
    Case("mul_self", lambda lib, a: a * a * a, N(3, 4)),
    Case("mul_number", lambda lib, a: (a * 3.0).sin(), N(3, 4)),
    Case("div", lambda lib, a, b: a / b, N(3, 4), Pos(3, 4)),
    Case("div_broadcast", lambda lib, a, b: a / b, N(3, 1), Pos(1, 4)),
    Case("div_scalar_shape", lambda lib, a, b: a / b, N(3, 4), Pos()),
    Case("rdiv_number", lambda lib, a: 2.0 / a, Pos(3, 4)),
    Case("div_number", lambda lib, a: (a / 3.0).sin(), N(3, 4)),
    Case("pow_tensor", lambda lib, a, b: a ** b, Pos(3, 4), N(3, 4)),
    Case("pow_tensor_broadcast", lambda lib, a, b: a ** b, Pos(3, 1), N(1, 4)),
    Case("pow_scalar_2", lambda lib, a: a ** 2, N(3, 4)),
    Case("pow_scalar_3", lambda lib, a: a ** 3, N(3, 4)),
    Case("pow_scalar_frac", lambda lib, a: a ** 2.5, Pos(3, 4)),
    Case("pow_scalar_neg", lambda lib, a: a ** -1.5, Pos(3, 4)),
    Case("pow_scalar_neg_int", lambda lib, a: a ** -2, Away(3, 4)),
    Case("rpow_number", lambda lib, a: 2.0 ** a, N(3, 4)),
    Case("pow_fn", lambda lib, a, b: lib.pow(a, b), Pos(3, 4), N()),
    Case("neg", lambda lib, a: (-a).exp(), N(3, 4)),
    Case("neg_linear", lambda lib, a: -a, N(3, 4)),
    Case("exp", lambda lib, a: a.exp(), N(3, 4)),
    Case("log", lambda lib, a: a.log(), Pos(3, 4)),
    Case("sqrt", lambda lib, a: a.sqrt(), Pos(3, 4)),
    Case("sin", lambda lib, a: a.sin(), N(3, 4)),
    Case("cos", lambda lib, a: a.cos(), N(3, 4)),
    Case("abs", lambda lib, a: a.abs(), Away(3, 4)),
    Case("abs_composed", lambda lib, a: a.abs() * a.sin(), Away(3, 4)),
    Case("tanh", lambda lib, a: a.tanh(), N(3, 4)),
    Case("sigmoid", lambda lib, a: a.sigmoid(), N(3, 4)),
    Case("F.tanh", lambda lib, a: lib.nn.functional.tanh(a), N(3, 4)),
    Case("F.sigmoid", lambda lib, a: lib.nn.functional.sigmoid(a), N(3, 4)),
    Case("relu", lambda lib, a: a.relu() * a, Away(3, 4)),
    Case("F.relu", lambda lib, a: lib.nn.functional.relu(a).exp(), Away(3, 4)),
    Case("leaky_relu", lambda lib, a: lib.nn.functional.leaky_relu(a, 0.2) * a, Away(3, 4)),
    Case("clamp_both", lambda lib, a: a.clamp(-0.8, 0.9).exp(), Away(3, 4)),
    Case("clamp_min", lambda lib, a: a.clamp(min=-0.5) * a, Away(3, 4)),
    Case("clamp_max", lambda lib, a: a.clamp(max=0.5).sin(), Away(3, 4)),
    Case("maximum", lambda lib, a, b: lib.maximum(a, b) * a * b, N(3, 4), N(3, 4)),
    Case("maximum_broadcast", lambda lib, a, b: lib.maximum(a, b).exp(), N(3, 1), N(1, 4)),
    Case("minimum", lambda lib, a, b: lib.minimum(a, b) * a * b, N(3, 4), N(3, 4)),
    Case("minimum_broadcast", lambda lib, a, b: lib.minimum(a, b).exp(), N(3, 1), N(1, 4)),
    Case("where", lambda lib, c, a, b: lib.where(c, a * a, b.exp()),
         Lit([[True, False, True, False]] * 3, bool), N(3, 4), N(3, 4)),
    Case("where_broadcast", lambda lib, c, a, b: lib.where(c, a, b).sin(),
         Lit([[True], [False], [True]], bool), N(1, 4), N(3, 1)),
    Case("where_number", lambda lib, c, a: lib.where(c, a, 0.5).exp(), Lit([True, False, True], bool), N(3)),
    Case("log1p", lambda lib, a: a.log1p(), Pos(3, 4)),
    Case("expm1", lambda lib, a: a.expm1(), N(3, 4)),
    Case("rsqrt", lambda lib, a: a.rsqrt(), Pos(3, 4)),
    Case("reciprocal", lambda lib, a: a.reciprocal(), Away(3, 4)),
    Case("erf", lambda lib, a: a.erf(), N(3, 4)),
    Case("floor", lambda lib, a: a.floor(), N(3, 4)),
    Case("floor_composed", lambda lib, a: a.floor() * a.sin(), N(3, 4)),
    Case("round", lambda lib, a: a.round() * a, N(3, 4)),
    Case("sign", lambda lib, a: a.sign() * a.exp(), Away(3, 4)),
    Case("ceil_trunc", lambda lib, a: a.ceil() + a.trunc() * a, N(3, 4)),
    Case("remainder_number", lambda lib, a: (a % 0.7).exp(), N(3, 4)),
    Case("remainder_tensor", lambda lib, a, b: lib.remainder(a, b) * a * b, N(3, 4), Pos(3, 4)),
    Case("nan_to_num", lambda lib, a: lib.nan_to_num(a, nan=0.25, posinf=3.0, neginf=-3.0).sin() * a.tanh(),
         Lit([[np.nan, 1.0, -0.5], [np.inf, -np.inf, 0.3]])),
    Case("to_float32", lambda lib, a: a.to(lib.float32).to(lib.float64) * a, N(3, 4)),
    Case("to_same_dtype", lambda lib, a: a.to(lib.float64).exp(), N(3, 4)),
    Case("clone", lambda lib, a: a.clone() * a.clone().sin(), N(3, 4)),
    Case("square_via_mul_tanh", lambda lib, a, b: (a * b).tanh() * (a - b).sigmoid(), N(3, 1), N(1, 4)),
]

LINALG = [
    Case("matmul_2d", lambda lib, a, b: a @ b, N(3, 4), N(4, 5)),
    Case("matmul_2d_tanh", lambda lib, a, b: (a @ b).tanh(), N(3, 4), N(4, 5)),
    Case("matmul_batched", lambda lib, a, b: (a @ b).sin(), N(2, 3, 4), N(2, 4, 5)),
    Case("matmul_batched_broadcast", lambda lib, a, b: (a @ b).sin(), N(2, 3, 4), N(4, 5)),
    Case("matmul_mat_vec", lambda lib, a, b: (a @ b).exp(), N(3, 4), N(4)),
    Case("matmul_vec_mat", lambda lib, a, b: (a @ b).exp(), N(4), N(4, 3)),
    Case("matmul_vec_vec", lambda lib, a, b: (a @ b).sin(), N(4), N(4)),
    Case("matmul_self", lambda lib, a: a @ a @ a, N(3, 3)),
    Case("mm", lambda lib, a, b: lib.mm(a, b).tanh(), N(3, 4), N(4, 2)),
    Case("linear_bias", lambda lib, x, w, b: lib.nn.functional.linear(x, w, b).tanh(), N(5, 4), N(3, 4), N(3)),
    Case("linear_no_bias", lambda lib, x, w: lib.nn.functional.linear(x, w).tanh(), N(5, 4), N(3, 4)),
    Case("linear_3d", lambda lib, x, w, b: lib.nn.functional.linear(x, w, b).tanh(), N(2, 5, 4), N(3, 4), N(3)),
    Case("linear_plain", lambda lib, x, w, b: lib.nn.functional.linear(x, w, b), N(5, 4), N(3, 4), N(3)),
]

REDUCTIONS = [
    Case("sum_all", lambda lib, a: a.sum(), N(3, 4)),
    Case("sum_all_sin", through_sin(lambda lib, a: a.sum()), N(3, 4)),
    Case("sum_dim", through_sin(lambda lib, a: a.sum(1)), N(3, 4)),
    Case("sum_dims_keepdim", through_sin(lambda lib, a: a.sum((0, 2), keepdim=True)), N(2, 3, 4)),
    Case("mean_all", through_sin(lambda lib, a: a.mean()), N(3, 4)),
    Case("mean_dim", through_sin(lambda lib, a: a.mean(0)), N(3, 4)),
    Case("mean_dim_keepdim", through_sin(lambda lib, a: a.mean(-1, keepdim=True)), N(3, 4)),
    Case("max_all", lambda lib, a: a.max() * a, N(3, 4)),
    Case("min_all", lambda lib, a: a.min().exp() * a, N(3, 4)),
    Case("max_dim", lambda lib, a: a.max(1)[0].exp(), N(3, 4)),
    Case("max_dim_keepdim", lambda lib, a: a.max(0, keepdim=True).values * a, N(3, 4)),
    Case("min_dim", lambda lib, a: a.min(1).values.sin() * a.sum(1), N(3, 4)),
    Case("max_dim_tuple", lambda lib, a: a.max(-1), N(3, 4)),  # (values, indices): indices not differentiable
    Case("var_all", lambda lib, a: a.var(), N(3, 4)),
    Case("var_dim", lambda lib, a: a.var(1), N(3, 4)),
    Case("var_dim_correction0", lambda lib, a: a.var(0, correction=0, keepdim=True), N(3, 4)),
    Case("std_all", lambda lib, a: a.std(), N(3, 4)),
    Case("std_dim", lambda lib, a: a.std(1), N(3, 4)),
    Case("std_dim_correction0", lambda lib, a: a.std(-1, correction=0, keepdim=True), N(3, 4)),
    Case("std_dims_correction2", lambda lib, a: a.std((0, 2), correction=2), N(2, 3, 4)),
    Case("var_composed", lambda lib, a: (a.var(1) + a.mean(1)).exp(), N(3, 4)),
]

SHAPES = [
    Case("reshape", lambda lib, a: a.reshape(4, 3), N(3, 4)),
    Case("reshape_sin", through_sin(lambda lib, a: a.reshape(2, -1, 2)), N(3, 4)),
    Case("view_sin", through_sin(lambda lib, a: a.view(12)), N(3, 4)),
    Case("permute_sin", through_sin(lambda lib, a: a.permute(2, 0, 1)), N(2, 3, 4)),
    Case("transpose_sin", through_sin(lambda lib, a: a.transpose(0, 2)), N(2, 3, 4)),
    Case("t_matmul", lambda lib, a: (a.t() @ a).tanh(), N(3, 4)),
    Case("mT_composed", lambda lib, a, b: (a.transpose(0, 1) * b).exp(), N(3, 4), N(4, 3)),
    Case("expand_sin", through_sin(lambda lib, a: a.expand(2, 3, 4)), N(3, 1)),
    Case("expand_mul", lambda lib, a, b: a.expand(3, 4) * b, N(1, 4), N(3, 4)),
    Case("cat", lambda lib, a, b: lib.cat([a, b.sin(), a * b[:1]], 0).tanh(), N(2, 4), N(3, 4)),
    Case("cat_dim1", lambda lib, a, b: lib.cat([a, b], 1).exp(), N(3, 2), N(3, 4)),
    Case("stack", lambda lib, a, b: lib.stack([a, b, a * b], 1).sin(), N(3, 4), N(3, 4)),
    Case("squeeze_sin", through_sin(lambda lib, a: a.squeeze()), N(3, 1, 4)),
    Case("squeeze_dim_sin", through_sin(lambda lib, a: a.squeeze(1)), N(3, 1, 4)),
    Case("unsqueeze_sin", through_sin(lambda lib, a: a.unsqueeze(0) * a.unsqueeze(1)), N(3, 4)),
    Case("flatten_sin", through_sin(lambda lib, a: a.flatten(1)), N(2, 3, 4)),
    Case("flatten_all", lambda lib, a: a.flatten(), N(2, 3, 4)),
]

INDEXING = [
    Case("slice", lambda lib, a: a[1:3, ::2], N(3, 4)),
    Case("slice_sin", through_sin(lambda lib, a: a[1:, ::2]), N(3, 4)),
    Case("int_index_sin", through_sin(lambda lib, a: a[1]), N(3, 4)),
    Case("int_array_repeats", through_sin(lambda lib, a, i: a[i]), N(3, 4), Lit([0, 2, 2, 1, 0], np.int64)),
    Case("int_array_cols", through_sin(lambda lib, a, i: a[:, i]), N(3, 4), Lit([3, 3, 0], np.int64)),
    Case("int_array_pair", through_sin(lambda lib, a, i, j: a[i, j]), N(3, 4),
         Lit([0, 2, 2, 0], np.int64), Lit([1, 3, 3, 1], np.int64)),
    Case("bool_mask_sin", through_sin(lambda lib, a, m: a[m]), N(3, 4),
         Lit([[True, False, True, True], [False, False, True, False], [True, True, False, False]], bool)),
    Case("bool_rows", through_sin(lambda lib, a, m: a[m]), N(3, 4), Lit([True, False, True], bool)),
    Case("gather", through_sin(lambda lib, a, i: lib.gather(a, 1, i)), N(3, 4),
         Lit([[0, 0], [3, 1], [2, 2]], np.int64)),
    Case("gather_dim0", lambda lib, a, i: a.gather(0, i) * a[:2], N(3, 4), Lit([[0, 1, 2, 2], [2, 2, 0, 1]], np.int64)),
    Case("gather_plain", lambda lib, a, i: a.gather(1, i), N(3, 4), Lit([[0, 0], [3, 1], [2, 2]], np.int64)),
]


def _setitem_slice(lib, x, v):
    y = x.clone()
    y[1:3] = v
    return y


def _setitem_array(lib, x, v):
    y = x.sin()
    y[[0, 2]] = v * v
    return y.exp()


def _setitem_mask(lib, x, v):
    y = x.clone()
    y[y > 0] = v.exp()
    return y * x


def _setitem_number(lib, x):
    y = x * x
    y[:, 1] = 0.5
    return y.sin()


SETITEM = [
    Case("setitem_clone_slice", _setitem_slice, N(4, 3), N(2, 3)),
    Case("setitem_clone_slice_sin", sin_of(_setitem_slice), N(4, 3), N(3)),
    Case("setitem_int_array", _setitem_array, N(4, 3), N(2, 3)),
    Case("setitem_mask", _setitem_mask, Away(3, 4), N()),
    Case("setitem_number", _setitem_number, N(3, 4)),
]

SOFTMAX = [
    Case("softmax_dim1", lambda lib, a: a.softmax(1), N(3, 4)),
    Case("softmax_dim0", lambda lib, a: lib.softmax(a, 0), N(3, 4)),
    Case("softmax_3d", lambda lib, a: lib.nn.functional.softmax(a, dim=-1), N(2, 3, 4)),
    Case("log_softmax_dim1", lambda lib, a: a.log_softmax(1), N(3, 4)),
    Case("log_softmax_dim0", lambda lib, a: lib.log_softmax(a, 0), N(3, 4)),
    Case("log_softmax_3d", lambda lib, a: lib.nn.functional.log_softmax(a, dim=1), N(2, 3, 4)),
    Case("softmax_of_linear", lambda lib, x, w: (x @ w).softmax(-1) * x[:, :3], N(4, 5), N(5, 3)),
]


def _ce(reduction, **kw):
    return lambda lib, x, t, *w: lib.nn.functional.cross_entropy(x, t, *w, reduction=reduction, **kw)


TARGETS = Lit([0, 3, 1, 3, 2], np.int64)

LOSSES = [
    Case("mse_mean", lambda lib, a, b: lib.nn.functional.mse_loss(a, b), N(3, 4), N(3, 4)),
    Case("mse_sum", lambda lib, a, b: lib.nn.functional.mse_loss(a, b, reduction="sum"), N(3, 4), N(3, 4)),
    Case("mse_none", lambda lib, a, b: lib.nn.functional.mse_loss(a, b, reduction="none"), N(3, 4), N(3, 4)),
    Case("mse_mean_tanh", lambda lib, a, b: lib.nn.functional.mse_loss(a.tanh(), b), N(3, 4), N(3, 4)),
    Case("mse_const_target", lambda lib, a, b: lib.nn.functional.mse_loss(a.exp(), b), N(3, 4), Const(N(3, 4))),
    Case("cross_entropy_mean", _ce("mean"), N(5, 4), TARGETS),
    Case("cross_entropy_sum", _ce("sum"), N(5, 4), TARGETS),
    Case("cross_entropy_none", _ce("none"), N(5, 4), TARGETS),
    Case("cross_entropy_weight_mean", _ce("mean"), N(5, 4), TARGETS, Const(Pos(4))),
    Case("cross_entropy_weight_none", _ce("none"), N(5, 4), TARGETS, Const(Pos(4))),
    Case("cross_entropy_ignore_index", _ce("mean", ignore_index=3), N(5, 4), TARGETS),
    Case("cross_entropy_ignore_index_sum", _ce("sum", ignore_index=0), N(5, 4), TARGETS),
    Case("cross_entropy_weight_ignore", _ce("mean", ignore_index=1), N(5, 4), TARGETS, Const(Pos(4))),
    Case("cross_entropy_3d", _ce("mean"), N(2, 4, 3), Lit([[0, 3, 1], [2, 2, 0]], np.int64)),
    Case("cross_entropy_1d", _ce("sum"), N(4), Lit(2, np.int64)),
    Case("cross_entropy_label_smoothing", _ce("mean", label_smoothing=0.2), N(5, 4), TARGETS),
    Case("cross_entropy_probabilities", lambda lib, x, p: lib.nn.functional.cross_entropy(x, p.softmax(1)),
         N(5, 4), N(5, 4)),
    Case("cross_entropy_of_linear", lambda lib, x, w, t: lib.nn.functional.cross_entropy(x @ w, t),
         N(5, 3), N(3, 4), TARGETS),
    Case("cross_entropy_of_F_linear", lambda lib, x, w, b, t: lib.nn.functional.cross_entropy(
        lib.nn.functional.linear(x, w, b), t), Const(N(5, 3)), N(4, 3), N(4), TARGETS),
    Case("cross_entropy_of_F_linear_order2", lambda lib, x, w, t: lib.nn.functional.cross_entropy(
        lib.nn.functional.linear(x, w), t), Const(N(5, 3)), N(4, 3), TARGETS, order=2),
    Case("nll_loss_mean", lambda lib, x, t: lib.nn.functional.nll_loss(x, t), N(5, 4), TARGETS),
    Case("nll_loss_of_log_softmax", lambda lib, x, t: lib.nn.functional.nll_loss(x.log_softmax(1), t, reduction="sum"),
         N(5, 4), TARGETS),
    Case("nll_loss_weight_none", lambda lib, x, t, w: lib.nn.functional.nll_loss(x.tanh(), t, w, reduction="none"),
         N(5, 4), TARGETS, Const(Pos(4))),
    Case("nll_loss_weight_ignore", lambda lib, x, t, w: lib.nn.functional.nll_loss(x * x, t, w, ignore_index=3),
         N(5, 4), TARGETS, Const(Pos(4))),
    Case("bce_mean", lambda lib, p, y: lib.nn.functional.binary_cross_entropy(p, y), Unit(3, 4), Const(Unit(3, 4))),
    Case("bce_sum", lambda lib, p, y: lib.nn.functional.binary_cross_entropy(p, y, reduction="sum"),
         Unit(3, 4), Const(Unit(3, 4))),
    Case("bce_none_weight", lambda lib, p, y, w: lib.nn.functional.binary_cross_entropy(p, y, w, reduction="none"),
         Unit(3, 4), Const(Unit(3, 4)), Const(Pos(4))),
    Case("bce_of_sigmoid", lambda lib, x, y: lib.nn.functional.binary_cross_entropy(x.sigmoid(), y),
         N(3, 4), Const(Unit(3, 4))),
    Case("bce_logits_mean", lambda lib, x, y: lib.nn.functional.binary_cross_entropy_with_logits(x, y),
         N(3, 4), Unit(3, 4)),
    Case("bce_logits_sum_const_target",
         lambda lib, x, y: lib.nn.functional.binary_cross_entropy_with_logits(x, y, reduction="sum"),
         N(3, 4), Const(Unit(3, 4))),
    Case("bce_logits_none_weight",
         lambda lib, x, y, w: lib.nn.functional.binary_cross_entropy_with_logits(x, y, w, reduction="none"),
         N(3, 4), Unit(3, 4), Const(Pos(4))),
    Case("bce_logits_pos_weight",
         lambda lib, x, y, pw: lib.nn.functional.binary_cross_entropy_with_logits(x, y, pos_weight=pw),
         N(3, 4), Unit(3, 4), Const(Pos(4))),
    Case("bce_logits_pos_weight_const_target",
         lambda lib, x, y, pw: lib.nn.functional.binary_cross_entropy_with_logits(x, y, pos_weight=pw,
                                                                                  reduction="sum"),
         N(3, 4), Const(Unit(3, 4)), Const(Pos(4))),
    Case("l1_mean", lambda lib, a, b: lib.nn.functional.l1_loss(a, b), N(3, 4), N(3, 4)),
    Case("l1_sum_of_tanh", lambda lib, a, b: lib.nn.functional.l1_loss(a.tanh(), b, reduction="sum"),
         N(3, 4), N(3, 4)),
    Case("l1_none", lambda lib, a, b: lib.nn.functional.l1_loss(a * a, b, reduction="none"), N(3, 4), N(3, 4)),
]


def _mlp(lib, x, w1, b1, w2, b2):
    """Linear, Tanh (the module), Linear, with the leaves as parameters."""
    y = lib.nn.functional.linear(x, w1, b1)
    return lib.nn.functional.linear(lib.nn.Tanh()(y), w2, b2)


def _sequential(lib, x, w1, b1, w2, b2):
    """A real nn.Sequential(Linear, Tanh, Linear) holding the given values; differentiated w.r.t. its input."""
    model = lib.nn.Sequential(lib.nn.Linear(4, 5, dtype=lib.float64), lib.nn.Tanh(),
                              lib.nn.Linear(5, 3, dtype=lib.float64))
    with lib.no_grad():
        for p, v in zip(model.parameters(), (w1, b1, w2, b2)):
            p.copy_(v)
    return model(x)


MODULES = [
    Case("mlp_functional", _mlp, N(6, 4), N(5, 4), N(5), N(3, 5), N(3)),
    Case("mlp_sequential_wrt_input", _sequential,
         N(6, 4), Const(N(5, 4)), Const(N(5)), Const(N(3, 5)), Const(N(3))),
    Case("mlp_mse", lambda lib, x, w1, b1, w2, b2, y: lib.nn.functional.mse_loss(_mlp(lib, x, w1, b1, w2, b2), y),
         N(6, 4), N(5, 4), N(5), N(3, 5), N(3), Const(N(6, 3))),
]

ALL_CASES = ELEMENTWISE + LINALG + REDUCTIONS + SHAPES + INDEXING + SETITEM + SOFTMAX + LOSSES + MODULES


@pytest.mark.parametrize("case", [c.param() for c in ALL_CASES])
def test_higher_derivatives_like_torch(case):
    check_case(case)


# -- 2. a property test over shapes ---------------------------------------------------------------------------------

SHAPE_PAIRS = st.sampled_from([((3, 4), (3, 4)), ((3, 1), (1, 4)), ((3, 4), ()), ((), (2, 3)), ((4,), (3, 4)),
                               ((2, 1, 4), (3, 1)), ((1,), (5,)), ((2, 3), (2, 1))])


@settings(max_examples=100, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(shapes=SHAPE_PAIRS, dim=st.sampled_from([None, 0, -1]), keepdim=st.booleans(), seed=st.integers(0, 2**16))
def test_composite_second_derivatives_property(shapes, dim, keepdim, seed):
    """``((a * b).tanh() + a.exp() / (1 + b * b)).sum(dim) * mean(b)`` with broadcasting: second and third
    derivatives equal torch's."""
    sa, sb = shapes

    def fn(lib, a, b):
        y = (a * b).tanh() + a.exp() / (1 + b * b) - (a - b).sigmoid() ** 2
        r = y.sum() if dim is None else y.sum(dim, keepdim=keepdim)
        return r * b.mean() + (y * y).mean()

    check_case(Case("composite", fn, N(*sa), N(*sb)), seed=seed)


# -- 3. autograd.grad semantics against torch -----------------------------------------------------------------------


def both(values, requires_grad=True):
    """The same float64 values as a minigrad and a torch leaf."""
    v = np.asarray(values, dtype=np.float64)
    return (minigrad.tensor(v.copy(), requires_grad=requires_grad),
            torch.tensor(v.copy(), requires_grad=requires_grad))


def same_error(mg_call, th_call):
    """Both calls raise the same exception type with the same message (torch's module name as minigrad's)."""
    with pytest.raises(Exception) as th_info:
        th_call()
    with pytest.raises(Exception) as mg_info:
        mg_call()
    assert type(mg_info.value).__name__ == type(th_info.value).__name__
    assert str(mg_info.value) == str(th_info.value).replace("torch.", "minigrad.")


def close_all(mine, theirs):
    assert len(mine) == len(theirs)
    for m, t in zip(mine, theirs):
        if t is None:
            assert m is None
        else:
            assert m is not None
            assert_close(m, t)


RNG = np.random.default_rng(7)
XV, YV, WV = RNG.standard_normal((3, 4)), RNG.standard_normal(4), RNG.standard_normal((3, 4))


def test_grad_outputs_non_scalar():
    (mx, tx), (my, ty) = both(XV), both(YV)
    close_all(minigrad.autograd.grad((mx * my).sin(), (mx, my), minigrad.tensor(WV)),
              torch.autograd.grad((tx * ty).sin(), (tx, ty), torch.tensor(WV)))


def test_grad_several_outputs_and_inputs():
    (mx, tx), (my, ty) = both(XV), both(YV)

    def outs(lib, x, y):
        return [(x * y).exp(), (x @ y).tanh(), y.sum()]

    gos = [WV, RNG.standard_normal(3), None]
    close_all(minigrad.autograd.grad(outs(minigrad, mx, my), [mx, my],
                                     [None if g is None else minigrad.tensor(g) for g in gos]),
              torch.autograd.grad(outs(torch, tx, ty), [tx, ty], [None if g is None else torch.tensor(g) for g in gos]))


def test_grad_allow_unused_and_materialize():
    (mx, tx), (my, ty), (mz, tz) = both(XV), both(YV), both(YV)
    for kw in ({"allow_unused": True}, {"materialize_grads": True}, {"allow_unused": True, "materialize_grads": True}):
        mine = minigrad.autograd.grad((mx.exp() * my).sum(), [mx, mz, my], **kw)
        theirs = torch.autograd.grad((tx.exp() * ty).sum(), [tx, tz, ty], **kw)
        close_all(mine, theirs)
    assert minigrad.autograd.grad((mx * 2).sum(), [mz], allow_unused=True) == (None,)


def test_grad_allow_unused_create_graph():
    (mx, tx), (mz, tz) = both(XV), both(YV)
    mine = minigrad.autograd.grad((mx.exp()).sum(), [mx, mz], create_graph=True, materialize_grads=True)
    theirs = torch.autograd.grad((tx.exp()).sum(), [tx, tz], create_graph=True, materialize_grads=True)
    close_all(mine, theirs)
    assert mine[0].requires_grad == theirs[0].requires_grad
    close_all(minigrad.autograd.grad(mine[0].sum(), [mx, mz], allow_unused=True),
              torch.autograd.grad(theirs[0].sum(), [tx, tz], allow_unused=True))


def test_grad_retain_graph():
    (mx, tx) = both(XV)
    mo, to = (mx.exp() * mx).sum(), (tx.exp() * tx).sum()
    close_all(minigrad.autograd.grad(mo, mx, retain_graph=True), torch.autograd.grad(to, tx, retain_graph=True))
    close_all(minigrad.autograd.grad(mo, mx), torch.autograd.grad(to, tx))  # retained: a second call works
    same_error(lambda: minigrad.autograd.grad(mo, mx), lambda: torch.autograd.grad(to, tx))


def test_grad_create_graph_retains_by_default():
    (mx, tx) = both(XV)
    mo, to = (mx.exp() * mx).sum(), (tx.exp() * tx).sum()
    minigrad.autograd.grad(mo, mx, create_graph=True)
    torch.autograd.grad(to, tx, create_graph=True)
    close_all(minigrad.autograd.grad(mo, mx), torch.autograd.grad(to, tx))
    same_error(lambda: minigrad.autograd.grad(mo, mx), lambda: torch.autograd.grad(to, tx))


def test_grad_is_grads_batched():
    (mx, tx), (my, ty) = both(XV), both(YV)
    batch = RNG.standard_normal((5, 3, 4))
    mine = minigrad.autograd.grad((mx * my).sin(), [mx, my], minigrad.tensor(batch), is_grads_batched=True)
    theirs = torch.autograd.grad((tx * ty).sin(), [tx, ty], torch.tensor(batch), is_grads_batched=True)
    close_all(mine, theirs)


def test_grad_is_grads_batched_jacobian_then_hessian():
    """The Jacobian of a gradient (the Hessian), one row per basis vector."""
    (mx, tx) = both(YV)
    eye = np.eye(4)
    mg = minigrad.autograd.grad((mx.exp() * mx.sin()).sum(), mx, create_graph=True)[0]
    tg = torch.autograd.grad((tx.exp() * tx.sin()).sum(), tx, create_graph=True)[0]
    close_all(minigrad.autograd.grad(mg, mx, minigrad.tensor(eye), is_grads_batched=True),
              torch.autograd.grad(tg, tx, torch.tensor(eye), is_grads_batched=True))


@pytest.mark.parametrize("which", ["input_not_requiring_grad", "unused_input", "unused_second_input",
                                   "output_not_requiring_grad", "grad_output_shape", "empty_inputs",
                                   "materialize_without_allow_unused", "non_scalar_no_grad_output",
                                   "count_of_grad_outputs", "backward_empty_inputs"])
def test_grad_errors_like_torch(which):
    def call(lib, x, y, c):
        g = lib.autograd.grad
        if which == "input_not_requiring_grad":
            return g((x * 2).sum(), [x, c])
        if which == "unused_input":
            return g((x * 2).sum(), [y])
        if which == "unused_second_input":
            return g((x * 2).sum(), [x, y])
        if which == "output_not_requiring_grad":
            return g((c * 2).sum(), [x])
        if which == "grad_output_shape":
            return g(x * 2, [x], lib.ones(2, dtype=lib.float64))
        if which == "empty_inputs":
            return g(x * 2, [])
        if which == "materialize_without_allow_unused":
            return g((x * 2).sum(), [x], materialize_grads=True, allow_unused=False)
        if which == "non_scalar_no_grad_output":
            return g(x * 2, [x])
        if which == "count_of_grad_outputs":
            return g([x * 2, y * 3], [x], [lib.ones(3, dtype=lib.float64)])
        return lib.autograd.backward((x * 2).sum(), inputs=[])

    (mx, tx), (my, ty), (mc, tc) = both(YV[:3]), both(YV[1:]), both(YV[:3], requires_grad=False)
    same_error(lambda: call(minigrad, mx, my, mc), lambda: call(torch, tx, ty, tc))


def test_grad_writes_no_dot_grad():
    (mx, tx), (my, ty) = both(XV), both(YV)
    close_all(minigrad.autograd.grad((mx * my).exp().sum(), mx), torch.autograd.grad((tx * ty).exp().sum(), tx))
    close_all(minigrad.autograd.grad((mx * my).exp().sum(), mx, create_graph=True),
              torch.autograd.grad((tx * ty).exp().sum(), tx, create_graph=True))
    assert mx.grad is None and my.grad is None
    assert tx.grad is None and ty.grad is None


def test_grad_of_non_leaf_inputs():
    (mx, tx) = both(XV)
    mh, th = mx.sin(), tx.sin()
    mo, to = (mh * mh.exp()).sum() + mx.sum(), (th * th.exp()).sum() + tx.sum()
    mine = minigrad.autograd.grad(mo, [mh, mx], create_graph=True)
    theirs = torch.autograd.grad(to, [th, tx], create_graph=True)
    close_all(mine, theirs)
    close_all(minigrad.autograd.grad(mine[0].sum() + mine[1].sum(), [mx, mh], allow_unused=True),
              torch.autograd.grad(theirs[0].sum() + theirs[1].sum(), [tx, th], allow_unused=True))
    assert mh.grad is None


def test_backward_create_graph_into_dot_grad_then_accumulate():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns about the reference cycle through .grad
        (mx, tx), (my, ty) = both(XV), both(YV)
        v = RNG.standard_normal((3, 4))
        for x, y in ((mx, my), (tx, ty)):
            ((x * y).sin() * x).sum().backward(create_graph=True)
        close_all([mx.grad, my.grad], [tx.grad, ty.grad])
        assert mx.grad.requires_grad and tx.grad.requires_grad
        for lib, x in ((minigrad, mx), (torch, tx)):
            (x.grad * lib.tensor(v)).sum().backward(retain_graph=True)  # adds into x.grad and y.grad
        close_all([mx.grad, my.grad], [tx.grad, ty.grad])
        for lib, x in ((minigrad, mx), (torch, tx)):
            lib.autograd.backward([x.grad.sum()], inputs=[x])  # the sum's history is still there
        close_all([mx.grad, my.grad], [tx.grad, ty.grad])


def test_autograd_backward_create_graph_and_inputs():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (mx, tx), (my, ty) = both(XV), both(YV)
        for lib, x, y in ((minigrad, mx, my), (torch, tx, ty)):
            out = (x * y).exp()
            lib.autograd.backward([out], [lib.tensor(WV)], create_graph=True, inputs=[x])
        assert my.grad is None and ty.grad is None
        close_all([mx.grad], [tx.grad])
        close_all(minigrad.autograd.grad(mx.grad.sum(), [mx, my]), torch.autograd.grad(tx.grad.sum(), [tx, ty]))


def test_grad_output_with_history():
    """A grad_output that itself requires grad takes part in the recorded backward."""
    (mx, tx), (mw, tw) = both(XV), both(WV)
    mg = minigrad.autograd.grad(mx.sin(), mx, mw, create_graph=True)[0]
    tg = torch.autograd.grad(tx.sin(), tx, tw, create_graph=True)[0]
    close_all([mg], [tg])
    close_all(minigrad.autograd.grad((mg * mg).sum(), [mx, mw]), torch.autograd.grad((tg * tg).sum(), [tx, tw]))


# -- 4. a gradient-penalty (WGAN-GP) training loop ------------------------------------------------------------------


def _critic_pair():
    torch.manual_seed(0)
    tc = torch.nn.Sequential(torch.nn.Linear(3, 16), torch.nn.Tanh(), torch.nn.Linear(16, 8), torch.nn.Tanh(),
                             torch.nn.Linear(8, 1)).double()
    mc = minigrad.nn.Sequential(minigrad.nn.Linear(3, 16, dtype=minigrad.float64), minigrad.nn.Tanh(),
                                minigrad.nn.Linear(16, 8, dtype=minigrad.float64), minigrad.nn.Tanh(),
                                minigrad.nn.Linear(8, 1, dtype=minigrad.float64))
    with minigrad.no_grad():
        for mp, tp in zip(mc.parameters(), tc.parameters()):
            mp.copy_(minigrad.tensor(tp.detach().numpy().copy()))
    return mc, tc


def test_gradient_penalty_training_loop():
    mc, tc = _critic_pair()
    mopt = minigrad.optim.SGD(mc.parameters(), lr=0.05)
    topt = torch.optim.SGD(tc.parameters(), lr=0.05)
    rng = np.random.default_rng(3)
    lam = 10.0
    for _ in range(10):
        real, fake = rng.standard_normal((8, 3)) + 1.0, rng.standard_normal((8, 3))
        eps = rng.uniform(size=(8, 1))
        losses = []
        for lib, critic, opt in ((minigrad, mc, mopt), (torch, tc, topt)):
            x_real, x_fake = lib.tensor(real), lib.tensor(fake)
            x_hat = (lib.tensor(eps) * x_real + (1 - lib.tensor(eps)) * x_fake).requires_grad_()
            (grad_x,) = lib.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
            norm = ((grad_x * grad_x).sum(1) + 1e-12).sqrt()
            loss = critic(x_fake).mean() - critic(x_real).mean() + lam * ((norm - 1) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss)
        assert_close(*losses)
    for mp, tp in zip(mc.parameters(), tc.parameters()):
        assert_close(mp, tp)


# -- 5. a Hessian-vector product ------------------------------------------------------------------------------------


def test_hessian_vector_product_of_mlp_loss():
    mc, tc = _critic_pair()
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((6, 3)), rng.standard_normal((6, 1))
    vs = [rng.standard_normal(tuple(p.shape)) for p in tc.parameters()]
    results = []
    for lib, model in ((minigrad, mc), (torch, tc)):
        params = list(model.parameters())
        loss = lib.nn.functional.mse_loss(model(lib.tensor(x)), lib.tensor(y))
        grads = lib.autograd.grad(loss, params, create_graph=True)
        dot = sum((g * lib.tensor(v)).sum() for g, v in zip(grads, vs))
        results.append((grads, lib.autograd.grad(dot, params)))
        assert all(p.grad is None for p in params)
    close_all(results[0][0], results[1][0])
    close_all(results[0][1], results[1][1])


def test_hessian_vector_product_cross_entropy_relu():
    torch.manual_seed(1)
    tm = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 3), torch.nn.Tanh(),
                             torch.nn.Linear(3, 3)).double()
    mm = minigrad.nn.Sequential(minigrad.nn.Linear(4, 6, dtype=minigrad.float64), minigrad.nn.ReLU(),
                                minigrad.nn.Linear(6, 3, dtype=minigrad.float64), minigrad.nn.Tanh(),
                                minigrad.nn.Linear(3, 3, dtype=minigrad.float64))
    with minigrad.no_grad():
        for mp, tp in zip(mm.parameters(), tm.parameters()):
            mp.copy_(minigrad.tensor(tp.detach().numpy().copy()))
    rng = np.random.default_rng(6)
    x, y = rng.standard_normal((7, 4)), rng.integers(0, 3, 7)
    vs = [rng.standard_normal(tuple(p.shape)) for p in tm.parameters()]
    results = []
    for lib, model in ((minigrad, mm), (torch, tm)):
        params = list(model.parameters())
        loss = lib.nn.functional.cross_entropy(model(lib.tensor(x)), lib.tensor(y))
        grads = lib.autograd.grad(loss, params, create_graph=True)
        dot = sum((g * lib.tensor(v)).sum() for g, v in zip(grads, vs))
        results.append(lib.autograd.grad(dot, params))
    close_all(results[0], results[1])


# -- 6. memory: nothing of a backward pass outlives it --------------------------------------------------------------


class no_cycle_collector:
    def __enter__(self):
        gc.collect()
        self.was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc):
        if self.was_enabled:
            gc.enable()


def _graph_nodes(*tensors):
    """Every node (not AccumulateGrad) reachable from the grad_fn of ``tensors``."""
    nodes, stack = [], [t.grad_fn for t in tensors]
    while stack:
        node = stack.pop()
        if node is not None and type(node) is not AccumulateGrad and all(node is not n for n in nodes):
            nodes.append(node)
            stack.extend(next_node for next_node, _ in node.next_functions)
    return nodes


def live_nodes():
    return sum(issubclass(type(o), Node) and type(o) is not AccumulateGrad for o in gc.get_objects())


@pytest.mark.parametrize("entry", ["backward", "grad"])
def test_first_order_backward_leaves_nothing_alive(entry):
    with no_cycle_collector():
        x = minigrad.randn(3, 4, dtype=minigrad.float64, requires_grad=True)
        w = minigrad.randn(4, dtype=minigrad.float64, requires_grad=True)
        before = live_nodes()
        out = ((x * w).tanh() @ w).exp().sum()
        refs = [weakref.ref(n) for n in _graph_nodes(out)]
        if entry == "backward":
            out.backward()
            grads = [x.grad, w.grad]
        else:
            grads = list(minigrad.autograd.grad(out, [x, w]))
        assert all(g.grad_fn is None and not g.requires_grad for g in grads)
        del out
        assert [r() for r in refs if r() is not None] == []
        assert live_nodes() == before


def test_recorded_graph_is_freed_with_its_gradients():
    with no_cycle_collector():
        x = minigrad.randn(3, 4, dtype=minigrad.float64, requires_grad=True)
        w = minigrad.randn(4, dtype=minigrad.float64, requires_grad=True)
        before = live_nodes()
        out = ((x * w).tanh() @ w).exp().sum() + (x.softmax(1) * x).sum()
        forward_refs = [weakref.ref(n) for n in _graph_nodes(out)]
        gx, gw = minigrad.autograd.grad(out, [x, w], create_graph=True)
        assert gx.grad_fn is not None
        g_ref = weakref.ref(gx.grad_fn)
        backward_refs = [weakref.ref(n) for n in _graph_nodes(gx, gw)]
        hx, hw = minigrad.autograd.grad((gx * gx).sum() + gw.sum(), [x, w], create_graph=True)
        second_refs = [weakref.ref(n) for n in _graph_nodes(hx, hw)]
        assert len(backward_refs) > len(forward_refs) > 5
        del out, gx, gw
        assert g_ref() is not None  # the second-order gradients still need the first backward's graph
        del hx, hw
        assert g_ref() is None
        assert [r() for r in forward_refs + backward_refs + second_refs if r() is not None] == []
        assert live_nodes() == before


def test_dot_grad_with_history_is_freed():
    """backward(create_graph=True) makes .grad hold the recorded graph; clearing .grad frees it (torch would keep
    a reference cycle through the leaf here; minigrad's AccumulateGrad refers to its leaf weakly)."""
    with no_cycle_collector():
        x = minigrad.randn(3, 4, dtype=minigrad.float64, requires_grad=True)
        before = live_nodes()
        loss = (x.exp() * x.sin()).sum()
        loss.backward(create_graph=True)
        refs = [weakref.ref(n) for n in _graph_nodes(x.grad)]
        assert refs
        (x.grad * x.grad).sum().backward()  # accumulates into x.grad, out of place
        refs += [weakref.ref(n) for n in _graph_nodes(x.grad)]
        del loss
        x.grad = None
        assert [r() for r in refs if r() is not None] == []
        assert live_nodes() == before
        x_ref = weakref.ref(x)
        del x
        assert x_ref() is None


def test_recorded_graphs_do_not_accumulate_over_steps():
    with no_cycle_collector():
        mc, _ = _critic_pair()
        opt = minigrad.optim.SGD(mc.parameters(), lr=0.01)
        x = minigrad.randn(8, 3, dtype=minigrad.float64)

        def step():
            xh = x.detach().requires_grad_()
            (g,) = minigrad.autograd.grad(mc(xh).sum(), xh, create_graph=True)
            loss = mc(x).mean() + ((g * g).sum(1) - 1).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()

        for _ in range(5):
            step()
        before = live_nodes(), sum(issubclass(type(o), minigrad.Tensor) for o in gc.get_objects())
        for _ in range(30):
            step()
        assert (live_nodes(), sum(issubclass(type(o), minigrad.Tensor) for o in gc.get_objects())) == before


# -- 7. a user Function whose backward is written in tensor ops -----------------------------------------------------


def _cube_function(lib):
    class Cube(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x * x

    return Cube


def _mul_function(lib):
    class MulSin(lib.autograd.Function):
        """``x * sin(y)``: two inputs, saved inputs used in each gradient."""

        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x, y)
            return x * y.sin()

        @staticmethod
        def backward(ctx, grad):
            x, y = ctx.saved_tensors
            return grad * y.sin(), grad * x * y.cos()

    return MulSin


@pytest.mark.parametrize("compose", [False, True])
def test_custom_function_twice_differentiable(compose):
    def fn(lib, a):
        out = _cube_function(lib).apply(a)
        return out.sin() if compose else out

    check_case(Case("cube", fn, N(3, 4)))


def test_custom_function_two_inputs():
    check_case(Case("mul_sin", lambda lib, a, b: _mul_function(lib).apply(a.exp(), b) * a, N(3, 4), N(4)))


def test_custom_function_hessian_diagonal():
    (mx, tx) = both(YV)
    mg = minigrad.autograd.grad(_cube_function(minigrad).apply(mx).sum(), mx, create_graph=True)[0]
    tg = torch.autograd.grad(_cube_function(torch).apply(tx).sum(), tx, create_graph=True)[0]
    close_all([mg], [tg])
    assert mg.requires_grad
    close_all(minigrad.autograd.grad(mg.sum(), mx, create_graph=True),
              torch.autograd.grad(tg.sum(), tx, create_graph=True))
    assert_close(minigrad.autograd.grad(mg.sum(), mx)[0], 6 * to_np(tx))
