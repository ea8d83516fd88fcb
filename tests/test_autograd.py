"""Autograd semantics, each checked against torch's behaviour: accumulation, retained and freed graphs, grad mode,
hooks, errors (same type and message), deep graphs without recursion, dtype promotion."""

from __future__ import annotations

import gc
import sys
import threading

import numpy as np
import pytest
import torch
from conftest import assert_close

import minigrad


def both(fn):
    """Run ``fn(lib)`` with minigrad and with torch."""
    return fn(minigrad), fn(torch)


def raises_like_torch(fn, match_message: bool = True):
    """``fn(lib)`` raises in both libraries, the same exception type and (by default) the same message."""
    with pytest.raises(Exception) as th:
        fn(torch)
    with pytest.raises(type(th.value)) as mg:
        fn(minigrad)
    if match_message:
        assert str(mg.value) == str(th.value).replace("torch.", "minigrad.")
    return mg.value, th.value


# -- accumulation and the shape of the graph ---------------------------------------------------------------------


def test_gradients_accumulate_across_backward_calls():
    def run(m):
        x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        (x * x).sum().backward()
        first = x.grad.clone()
        (x * 3).sum().backward()
        return first, x.grad

    (mg_first, mg_grad), (th_first, th_grad) = both(run)
    assert_close(mg_first, th_first)
    assert_close(mg_grad, th_grad)
    assert mg_grad.tolist() == [5.0, 7.0, 9.0]


def test_zero_grad_then_backward_again():
    def run(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        (x * x).sum().backward()
        x.grad.zero_()
        (x * 5).sum().backward()
        return x.grad

    mg, th = both(run)
    assert_close(mg, th)


def test_zero_dim_results_are_tensors_with_writable_data():
    # 0-d arithmetic must not degrade to NumPy scalars: grads of 0-d leaves can be zeroed in place
    def run(m):
        a = m.tensor(2.0, requires_grad=True)
        b = m.tensor(3.0)
        c = a * b + a.exp()
        c.backward()
        g = a.grad.clone()
        a.grad.zero_()
        (a * b).backward()
        d = c.detach()
        d.add_(1.0)
        return g, a.grad, d, c.detach().numpy().shape

    (mg_g, mg_grad, mg_d, mg_shape), (th_g, th_grad, th_d, th_shape) = both(run)
    assert_close(mg_g, th_g, rtol=1e-6)
    assert_close(mg_grad, th_grad)
    assert_close(mg_d, th_d, rtol=1e-6)
    assert mg_shape == th_shape == ()
    assert isinstance(minigrad.tensor(2.0).numpy(), np.ndarray)


def test_tensor_used_twice_gets_summed_gradient():
    def run(m):
        a = m.tensor([1.0, -2.0, 0.5], requires_grad=True)
        b = a + a
        c = b * b
        c.sum().backward()
        return a.grad

    mg, th = both(run)
    assert_close(mg, th)
    assert mg.tolist() == [8.0, -16.0, 4.0]  # d/da (2a)^2 = 8a


@pytest.mark.parametrize("shape", [(), (3,)], ids=["0-dim", "vector"])
def test_three_gradients_arriving_at_one_node_are_all_summed(shape):
    # x * x + x: x's node gets the root gradient (borrowed) and then two fresh ones, added in place.
    # For a 0-dim x NumPy gives scalars back from `+`, which must not lose the third gradient.
    def run(m):
        p = m.tensor(np.linspace(1.0, 3.0, 3), dtype=m.float64, requires_grad=True)
        x = p[0] if shape == () else p * 1
        ((x * x + x) * 1 + (1 - x) ** 2).sum().backward()
        return p.grad

    mg, th = both(run)
    assert_close(mg, th)


def test_diamond_graph():
    def run(m):
        x = m.tensor([0.3, -1.2], dtype=m.float64, requires_grad=True)
        top = x.exp()
        left, right = top * 2, top.sigmoid()
        left2 = left.tanh()
        out = (left2 * right + top).sum()
        out.backward()
        return x.grad

    mg, th = both(run)
    assert_close(mg, th)


def test_unused_input_grad_stays_none_and_non_requiring_input_gets_none():
    def run(m):
        a = m.tensor([1.0], requires_grad=True)
        b = m.tensor([2.0], requires_grad=True)
        c = m.tensor([3.0])
        (a * c).sum().backward()
        return a.grad, b.grad, c.grad

    (mga, mgb, mgc), (tha, thb, thc) = both(run)
    assert_close(mga, tha)
    assert mgb is None and thb is None
    assert mgc is None and thc is None


def test_requires_grad_propagation_and_is_leaf():
    def run(m):
        a = m.tensor([1.0], requires_grad=True)
        b = m.tensor([2.0])
        c = a * b
        d = b * 2
        return [(t.requires_grad, t.is_leaf, t.grad_fn is None) for t in (a, b, c, d, c.detach())]

    mg, th = both(run)
    assert mg == th


# -- non-leaf gradients, hooks ---------------------------------------------------------------------------------


def test_non_leaf_grad_is_none_unless_retained():
    def run(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        z = y * y
        z.retain_grad()
        w = z.sum()
        w.backward()
        return y.grad, z.grad, x.grad

    with pytest.warns(UserWarning):  # torch warns when a non-leaf's .grad is read
        (mgy, mgz, mgx), (thy, thz, thx) = both(run)
    assert mgy is None and thy is None
    assert_close(mgz, thz)
    assert_close(mgx, thx)


def test_retain_grad_accumulates_and_root_can_retain():
    def run(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x * x
        y.retain_grad()
        s = y.sum()
        s.retain_grad()
        s.backward(retain_graph=True)
        s.backward()
        return y.grad, s.grad, x.grad

    mg, th = both(run)
    for a, b in zip(mg, th):
        assert_close(a, b)


def test_hooks_on_leaf_and_non_leaf():
    def run(m):
        seen = []
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        y.register_hook(lambda g: seen.append(("y", g.tolist())))
        y.register_hook(lambda g: g * 10)  # replaces the gradient flowing on
        x.register_hook(lambda g: seen.append(("x", g.tolist())))
        (y * y).sum().backward()
        return seen, x.grad

    (mg_seen, mg_grad), (th_seen, th_grad) = both(run)
    assert mg_seen == th_seen
    assert_close(mg_grad, th_grad)


def test_leaf_hook_replaces_gradient():
    def run(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        x.register_hook(lambda g: g * 2)
        (x * x).sum().backward()
        return x.grad

    mg, th = both(run)
    assert_close(mg, th)


def test_retained_grad_sees_hook_changes_whatever_the_order():
    # torch runs the retain_grad hook last, after every other hook of the tensor
    def run(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x * 1
        y.retain_grad()
        y.register_hook(lambda g: g * 10)
        y.sum().backward()
        return y.grad, x.grad

    (mgy, mgx), (thy, thx) = both(run)
    assert_close(mgy, thy)
    assert_close(mgx, thx)


def test_hook_handle_remove():
    def run(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x * 1
        h1 = x.register_hook(lambda g: g * 2)
        h2 = y.register_hook(lambda g: g * 3)
        h1.remove()
        h2.remove()
        y.sum().backward()
        return x.grad

    mg, th = both(run)
    assert_close(mg, th)


def test_hook_and_retain_grad_errors():
    raises_like_torch(lambda m: m.ones(2).retain_grad())
    raises_like_torch(lambda m: m.ones(2).register_hook(lambda g: g))


# -- freed graphs, retain_graph ---------------------------------------------------------------------------------


@pytest.mark.parametrize("op", ["exp", "mul", "sigmoid", "matmul", "tanh"])
def test_second_backward_raises_like_torch(op):
    def run(m):
        x = m.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        y = {"exp": lambda: x.exp(), "mul": lambda: x * x, "sigmoid": lambda: x.sigmoid(),
             "matmul": lambda: x @ x, "tanh": lambda: x.tanh()}[op]().sum()
        y.backward()
        y.backward()

    raises_like_torch(run)


def test_retain_graph_allows_second_backward_and_accumulates():
    def run(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = (x.exp() * x).sum()
        y.backward(retain_graph=True)
        y.backward(retain_graph=True)
        y.backward()
        return x.grad

    mg, th = both(run)
    assert_close(mg, th, rtol=1e-6)


def test_saved_arrays_are_released_after_backward():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    assert y.grad_fn.saved
    y.sum().backward(retain_graph=True)
    assert y.grad_fn.saved  # retained
    y.sum().backward()
    assert not y.grad_fn.saved  # freed


# -- errors ----------------------------------------------------------------------------------------------------


def test_backward_of_non_scalar_without_gradient_raises():
    raises_like_torch(lambda m: (m.ones(2, 3, requires_grad=True) * 2).backward())


def test_backward_gradient_shape_mismatch_raises():
    raises_like_torch(lambda m: (m.ones(2, 3, requires_grad=True) * 2).backward(m.ones(3)))


def test_backward_with_gradient_for_non_scalar():
    def run(m):
        x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        (x * x).backward(m.tensor([1.0, 0.5, -1.0]))
        return x.grad

    mg, th = both(run)
    assert_close(mg, th)


def test_backward_of_tensor_without_grad_raises():
    raises_like_torch(lambda m: m.ones(1).backward())
    raises_like_torch(lambda m: (m.ones(1) * 2).sum().backward())


@pytest.mark.parametrize("name", ["add_", "sub_", "mul_", "div_", "fill_", "zero_", "copy_", "iadd", "imul",
                                  "setitem"])
def test_inplace_on_leaf_requiring_grad_raises(name):
    def run(m):
        x = m.ones(2, 3, requires_grad=True)
        if name == "zero_":
            x.zero_()
        elif name == "copy_":
            x.copy_(m.zeros(2, 3))
        elif name == "iadd":
            x += 1
        elif name == "imul":
            x *= 2
        elif name == "setitem":
            x[0] = 1.0
        else:
            getattr(x, name)(2.0)

    mg, th = raises_like_torch(run, match_message=False)
    assert "leaf Variable that requires grad is being used in an in-place operation" in str(mg)
    if name != "setitem":  # torch names the view there
        assert str(mg) == str(th)


def test_inplace_on_leaf_allowed_under_no_grad():
    def run(m):
        x = m.ones(2, requires_grad=True)
        with m.no_grad():
            x.add_(1)
            x *= 3
            x[0] = 0.5
        return x, x.requires_grad, x.is_leaf

    (mg, *mg_flags), (th, *th_flags) = both(run)
    assert_close(mg, th)
    assert mg_flags == th_flags


def test_requires_grad_errors():
    raises_like_torch(lambda m: m.tensor([1, 2], requires_grad=True))
    raises_like_torch(lambda m: m.tensor([1, 2]).requires_grad_())
    raises_like_torch(lambda m: (m.ones(2, requires_grad=True) * 2).requires_grad_(False))


def test_numpy_of_tensor_requiring_grad_raises():
    raises_like_torch(lambda m: m.ones(2, requires_grad=True).numpy())


# -- grad mode ---------------------------------------------------------------------------------------------------


def test_no_grad_records_nothing():
    def run(m):
        x = m.ones(2, requires_grad=True)
        with m.no_grad():
            y = x * 2
            flags = [m.is_grad_enabled()]
            with m.enable_grad():
                z = x * 2
                flags.append(m.is_grad_enabled())
            flags.append(m.is_grad_enabled())
        flags.append(m.is_grad_enabled())
        return flags, (y.requires_grad, y.grad_fn is None, y.is_leaf), (z.requires_grad, z.grad_fn is None)

    mg, th = both(run)
    assert mg == th
    assert mg[0] == [False, True, False, True]


def test_no_grad_as_decorator():
    def run(m):
        x = m.ones(2, requires_grad=True)

        @m.no_grad()
        def f():
            return x * 2, m.is_grad_enabled()

        @m.no_grad
        def g():
            return x * 2

        @m.enable_grad()
        def h():
            return x * 2

        y, enabled = f()
        with m.no_grad():
            w = h()
        return y.requires_grad, enabled, g().requires_grad, w.requires_grad, m.is_grad_enabled()

    mg, th = both(run)
    assert mg == th


def test_set_grad_enabled():
    def run(m):
        x = m.ones(2, requires_grad=True)
        with m.set_grad_enabled(False):
            y = x * 2
        m.set_grad_enabled(False)
        z = x * 2
        m.set_grad_enabled(True)
        return y.requires_grad, z.requires_grad, m.is_grad_enabled()

    mg, th = both(run)
    assert mg == th


def test_grad_mode_is_isolated_between_threads():
    inside = threading.Event()
    checked = threading.Event()
    results = {}

    def worker_no_grad():
        with minigrad.no_grad():
            inside.set()
            checked.wait(5)
            x = minigrad.ones(2, requires_grad=True)
            results["worker_records"] = (x * 2).requires_grad
            results["worker_enabled"] = minigrad.is_grad_enabled()

    t = threading.Thread(target=worker_no_grad)
    t.start()
    assert inside.wait(5)
    # the other thread is inside no_grad; this one is not affected
    results["main_enabled"] = minigrad.is_grad_enabled()
    results["main_records"] = (minigrad.ones(2, requires_grad=True) * 2).requires_grad
    other = {}
    t2 = threading.Thread(target=lambda: other.setdefault("enabled", minigrad.is_grad_enabled()))
    t2.start()
    t2.join()
    checked.set()
    t.join(5)
    assert results == {"main_enabled": True, "main_records": True, "worker_records": False,
                       "worker_enabled": False}
    assert other["enabled"] is True  # a new thread starts with grad enabled, as in torch


# -- deep graphs: no recursion -----------------------------------------------------------------------------------


def _depth() -> int:
    f, n = sys._getframe(), 0
    while f is not None:
        f, n = f.f_back, n + 1
    return n


def test_chain_of_100000_ops_backpropagates_without_recursion():
    x = minigrad.tensor([1.0, 2.0], dtype=minigrad.float64, requires_grad=True)
    y = x
    n = 100_000
    for _ in range(n):
        y = y * 1.00001
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(_depth() + 60)  # far below the graph's depth
    try:
        y.sum().backward()
    finally:
        sys.setrecursionlimit(old)
    np.testing.assert_allclose(x.grad.numpy(), np.full(2, 1.00001**n), rtol=1e-9)
    del y
    gc.collect()


def test_deep_chain_mixed_ops_and_freeing():
    x = minigrad.tensor([0.5], dtype=minigrad.float64, requires_grad=True)
    y = x
    for i in range(20_000):
        y = (y + 0.001) if i % 2 else y.tanh()
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(_depth() + 60)
    try:
        y.backward()
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            y.backward()
    finally:
        sys.setrecursionlimit(old)
    # the same chain in torch gives the same gradient
    tx = torch.tensor([0.5], dtype=torch.float64, requires_grad=True)
    ty = tx
    for i in range(20_000):
        ty = (ty + 0.001) if i % 2 else ty.tanh()
    ty.backward()
    assert_close(x.grad, tx.grad)


# -- dtypes --------------------------------------------------------------------------------------------------------

PROMOTION = {
    "f32_mul_pyfloat": lambda m: m.tensor([1.0, 2.0]) * 2.5,
    "f32_mul_pyint": lambda m: m.tensor([1.0, 2.0]) * 2,
    "int_mul_pyfloat": lambda m: m.tensor([1, 2]) * 2.5,
    "pyfloat_mul_int": lambda m: 2.5 * m.tensor([1, 2]),
    "int_div_int": lambda m: m.tensor([1, 2]) / m.tensor([2, 3]),
    "int32_div_pyint": lambda m: m.tensor([1, 2], dtype=m.int32) / 2,
    "pyint_div_int": lambda m: 2 / m.tensor([1, 2]),
    "int_mul_int": lambda m: m.tensor([1, 2]) * m.tensor([2, 3]),
    "int32_add_int64": lambda m: m.tensor([1, 2], dtype=m.int32) + m.tensor([1, 2]),
    "int32_add_int64_0d": lambda m: m.tensor([1, 2], dtype=m.int32) + m.tensor(3),
    "int32_add_pyint": lambda m: m.tensor([1, 2], dtype=m.int32) + 3,
    "f32_add_f64_0d": lambda m: m.tensor([1.0, 2.0]) + m.tensor(3.0, dtype=m.float64),
    "f32_add_f64": lambda m: m.tensor([1.0, 2.0]) + m.tensor([3.0, 4.0], dtype=m.float64),
    "f16_add_f32": lambda m: m.tensor([1.0], dtype=m.float16) + m.tensor([2.0]),
    "f16_mul_pyfloat": lambda m: m.tensor([1.0, 2.0], dtype=m.float16) * 2.5,
    "int_add_f32": lambda m: m.tensor([1, 2]) + m.tensor([0.5, 1.5]),
    "int_add_f64_0d": lambda m: m.tensor([1, 2]) + m.tensor(1.5, dtype=m.float64),
    "int_mul_f32_0d": lambda m: m.tensor([1, 2]) * m.tensor(1.5),
    "bool_add_pyint": lambda m: m.tensor([True, False]) + 1,
    "bool_mul_pyfloat": lambda m: m.tensor([True, False]) * 2.5,
    "bool_add_bool": lambda m: m.tensor([True, False]) + m.tensor([True, True]),
    "int_pow_pyint": lambda m: m.tensor([1, 2]) ** 2,
    "int_pow_pyfloat": lambda m: m.tensor([1, 2]) ** 0.5,
    "pyint_pow_int": lambda m: 2 ** m.tensor([1, 2]),
    "pyfloat_pow_int": lambda m: 2.0 ** m.tensor([1, 2]),
    "int_exp": lambda m: m.exp(m.tensor([1, 2])),
    "int_log": lambda m: m.tensor([1, 2]).log(),
    "int_sqrt": lambda m: m.tensor([1, 2]).sqrt(),
    "int_tanh": lambda m: m.tensor([1, 2]).tanh(),
    "int_sigmoid": lambda m: m.tensor([1, 2]).sigmoid(),
    "int_neg_abs_relu": lambda m: (-m.tensor([1, -2])).abs().relu(),
    "int_clamp_pyfloat": lambda m: m.tensor([1, 2]).clamp(0.5),
    "int32_clamp_pyint": lambda m: m.tensor([1, 5], dtype=m.int32).clamp(0, 3),
    "int_maximum_f32": lambda m: m.maximum(m.tensor([1, 2]), m.tensor([1.5, 0.0])),
    "where_int_pyfloat": lambda m: m.where(m.tensor([True, False]), m.tensor([1, 2]), 1.5),
    "where_f32_pyfloat": lambda m: m.where(m.tensor([True, False]), m.tensor([1.0, 2.0]), 0.0),
    "int_sum": lambda m: m.tensor([1, 2], dtype=m.int32).sum(),
    "bool_sum": lambda m: m.tensor([True, False, True]).sum(),
    "f32_sum_dim": lambda m: m.ones(2, 3).sum(1),
    "f16_mean": lambda m: m.tensor([1.0, 2.0], dtype=m.float16).mean(),
    "cat_int_f32": lambda m: m.cat([m.tensor([1, 2]), m.tensor([1.5])]),
    "cat_f32_f64": lambda m: m.cat([m.tensor([1.0, 2.0]), m.tensor([1.5], dtype=m.float64)]),
    "cat_int32_int64": lambda m: m.cat([m.tensor([1], dtype=m.int32), m.tensor([2])]),
    "stack_int_f32": lambda m: m.stack([m.tensor([1, 2]), m.tensor([1.5, 2.0])]),
    "matmul_int": lambda m: m.tensor([[1, 2]]) @ m.tensor([[1], [2]]),
    "compare_int_pyfloat": lambda m: m.tensor([1, 2]) < 1.5,
    "argmax": lambda m: m.tensor([1.0, 3.0]).argmax(),
    "softmax_f16": lambda m: m.tensor([1.0, 2.0], dtype=m.float16).softmax(0),
}


@pytest.mark.parametrize("name", list(PROMOTION))
def test_dtype_promotion_like_torch(name):
    mg, th = both(PROMOTION[name])
    assert mg.dtype.name == str(th.dtype).removeprefix("torch."), f"{mg.dtype} vs {th.dtype}"
    assert_close(mg, th, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("name", ["int_mul_pyfloat", "int_div_int", "int_exp", "cat_int_f32"])
def test_dtype_promotion_follows_default_dtype(name, float64_default):
    mg, th = both(PROMOTION[name])
    assert mg.dtype == minigrad.float64 and th.dtype == torch.float64


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_grad_dtype_equals_param_dtype(dtype):
    def run(m):
        p = m.tensor([1.0, 2.0], dtype=getattr(m, dtype), requires_grad=True)
        q = m.tensor([0.5, 0.25], dtype=m.float64, requires_grad=True)
        scale = m.tensor(3.0, dtype=m.float64)  # a 0-d float64 does not widen p
        out = (p * scale).sum() + (p * q).sum()
        out.backward()
        return (p * scale).dtype, p.grad, q.grad

    (mg_dt, mg_p, mg_q), (th_dt, th_p, th_q) = both(run)
    assert mg_dt.name == str(th_dt).removeprefix("torch.")
    assert_close(mg_p, th_p, rtol=1e-3)
    assert_close(mg_q, th_q, rtol=1e-3)


def test_grad_of_float32_leaf_through_float64_op_is_float32():
    def run(m):
        p = m.tensor([1.0, 2.0], requires_grad=True)
        (p.double() * 2).sum().backward()
        return p.grad

    mg, th = both(run)
    assert_close(mg, th)


# -- grad_fn names --------------------------------------------------------------------------------------------

GRAD_FN = {
    "add": lambda x: x + 1, "sub": lambda x: x - x, "mul": lambda x: x * 2, "div": lambda x: x / 2,
    "neg": lambda x: -x, "exp": lambda x: x.exp(), "log": lambda x: x.log(), "sqrt": lambda x: x.sqrt(),
    "abs": lambda x: x.abs(), "tanh": lambda x: x.tanh(), "sigmoid": lambda x: x.sigmoid(),
    "relu": lambda x: x.relu(), "maximum": lambda x: x.maximum(x), "minimum": lambda x: x.minimum(x),
    "where": lambda x: x.where(x > 0, x), "sum": lambda x: x.sum(), "mean": lambda x: x.mean(),
    "permute": lambda x: x.permute(1, 0), "cat": lambda x: minigrad_or_torch(x).cat([x, x]),
    "stack": lambda x: minigrad_or_torch(x).stack([x, x]), "softmax": lambda x: x.softmax(0),
    "log_softmax": lambda x: x.log_softmax(0), "clone": lambda x: x.clone(),
}


def minigrad_or_torch(x):
    return torch if isinstance(x, torch.Tensor) else minigrad


@pytest.mark.parametrize("name", list(GRAD_FN))
def test_grad_fn_names_match_torch(name):
    def run(m):
        return GRAD_FN[name](m.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True))

    mg, th = both(run)
    assert mg.grad_fn.name() == type(th.grad_fn).__name__
    assert repr(mg).endswith(f"grad_fn=<{type(th.grad_fn).__name__}>)")


# -- more graph shapes ---------------------------------------------------------------------------------------------


def test_more_graph_semantics_like_torch():
    def run(m):
        out = []
        w = m.tensor(3.0, requires_grad=True)
        w.backward()  # a leaf is its own root
        out.append(w.grad.item())
        w2 = m.tensor([1.0, 2.0], requires_grad=True)
        w2.backward(m.tensor([3.0, 4.0]))
        out.append(w2.grad.tolist())
        a = m.tensor([1.0], requires_grad=True)
        b = (a + a).sum()
        b.backward()
        b.backward()  # nothing was saved: a second pass is allowed, as in torch
        out.append(a.grad.tolist())
        x = m.tensor([1.0, 2.0], requires_grad=True)
        (x * x).sum().backward()
        g0 = x.grad
        (x * 3).sum().backward()
        out.append((g0 is x.grad, x.grad.tolist()))  # accumulated in place
        r = m.tensor([[1.0, 5.0], [7.0, 2.0]], requires_grad=True)
        v, i = r.max(1)  # only one output of a two-output op is used
        (v * 2).sum().backward()
        out.append((r.grad.tolist(), i.tolist(), i.requires_grad))
        with m.no_grad():
            s = r * 2
        s.requires_grad_()  # made under no_grad: a leaf that may start requiring grad
        (s * s).sum().backward()
        out.append((s.is_leaf, s.grad.tolist(), r.grad.tolist()))
        return out

    mg, th = both(run)
    assert mg == th


def test_hook_called_once_per_backward_with_summed_gradient():
    def run(m):
        calls = []
        x = m.tensor([1.0, 2.0], requires_grad=True)
        x.register_hook(lambda g: calls.append(("x", g.tolist())))
        y = x * x + x
        y.register_hook(lambda g: calls.append(("y", g.tolist())))
        (y * 2 + y).sum().backward()
        return calls

    mg, th = both(run)
    assert mg == th and len(mg) == 2


def test_accumulation_never_writes_into_arrays_it_does_not_own():
    def run(m):
        class ReturnsSaved(m.autograd.Function):
            """A legal if odd backward: the gradient it returns is the saved input itself."""

            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * 2

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return x

        b = m.tensor([1.0, 2.0], requires_grad=True)
        ReturnsSaved.apply(b).sum().backward()
        (b * 1).sum().backward()  # accumulates into b.grad: must not write into b itself
        up = m.tensor([1.0, 2.0, 3.0])
        x = m.tensor([0.5, 0.5, 0.5], requires_grad=True)
        x.backward(up)  # the leaf's grad must be a copy of `up`
        y = x.clone()
        y.retain_grad()
        (y + y).backward(up)
        z = x.expand(2, 3)
        z.retain_grad()
        z.backward(m.ones(2, 3))
        return b, b.grad, up, x.grad, y.grad, z.grad

    for a, t in zip(*both(run)):
        assert_close(a, t)


# -- who owns a gradient array: the engine writes only into arrays it made --------------------------------------


def shares(t, u) -> bool:
    """Whether two tensors (or a tensor and an array) of either library share memory."""
    arrays = [x.detach().numpy() if hasattr(x, "detach") else x for x in (t, u)]
    return bool(np.shares_memory(*arrays))


PASS_THROUGH = {  # ops whose backward hands on the incoming gradient itself, or a view of it (and x * 1)
    "add_zero": lambda m, x: x + 0,
    "sub_zero": lambda m, x: x - 0,
    "mul_one": lambda m, x: x * 1,
    "clone": lambda m, x: x.clone(),
    "reshape": lambda m, x: x.reshape(3, 2),
    "permute": lambda m, x: x.permute(1, 0),
    "to_same_dtype": lambda m, x: x.to(m.float64),
    "expand": lambda m, x: x.unsqueeze(0).expand(2, 2, 3)[0],
    "cat_half": lambda m, x: m.cat([x, x * 2])[:2],
}


@pytest.mark.parametrize("op", list(PASS_THROUGH))
def test_pass_through_gradients_are_never_written_nor_shared(op):
    f = PASS_THROUGH[op]
    av, bv = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], [[0.5, 0.5, 0.5], [-1.0, -1.0, -1.0]]

    def leaves(m):
        return (m.tensor(av, dtype=m.float64, requires_grad=True), m.tensor(bv, dtype=m.float64, requires_grad=True))

    def gradient(m, a):
        return m.arange(1.0, 7.0, dtype=m.float64).reshape(*f(m, a).shape)

    a, b = leaves(minigrad)
    g = gradient(minigrad, a)
    (f(minigrad, a) + f(minigrad, b)).backward(g)  # the Add hands g on to both branches
    first = a.grad.clone()
    (f(minigrad, a) + f(minigrad, a) + f(minigrad, b)).backward(g)  # two gradients meet at a

    # torch's reference values, one torch.autograd.grad call per backward: torch's own .grad accumulation
    # keeps a view of the incoming gradient as .grad when it can (here after reshape and permute), so that
    # a.grad, b.grad and g share storage there and the second backward changes all three.
    ta, tb = leaves(torch)
    tg = gradient(torch, ta)
    ga1, gb1 = torch.autograd.grad(f(torch, ta) + f(torch, tb), (ta, tb), tg)
    ga2, gb2 = torch.autograd.grad(f(torch, ta) + f(torch, ta) + f(torch, tb), (ta, tb), tg)
    assert_close(first, ga1)
    assert_close(a.grad, ga1 + ga2)
    assert_close(b.grad, gb1 + gb2)
    assert_close(g, tg)
    assert not shares(a.grad, b.grad) and not shares(a.grad, g) and not shares(b.grad, g)


def test_the_gradient_given_to_backward_is_never_modified_nor_becomes_a_grad():
    def run(m):
        g = m.tensor([1.0, -2.0, 3.0])
        x = m.tensor([0.5, 0.5, 0.5], requires_grad=True)
        x.backward(g)  # a leaf is its own root
        x.backward(g)
        y = m.tensor([1.0, 1.0, 1.0], requires_grad=True)
        y.clone().backward(g)
        y.clone().backward(g)
        z = m.tensor([2.0, 2.0, 2.0], requires_grad=True)
        (z + z).backward(g)  # g meets itself at z
        with m.no_grad():
            x.grad.mul_(10)  # the user may write into .grad: g must not change
            y.grad.add_(1)
        return (g, x.grad, y.grad, z.grad, x.grad is g, y.grad is g, shares(x.grad, g), shares(y.grad, g),
                shares(z.grad, g))

    mg, th = both(run)
    for a, b in zip(mg[:4], th[:4]):
        assert_close(a, b)
    assert mg[0].tolist() == [1.0, -2.0, 3.0]
    assert mg[4:] == th[4:] == (False,) * 5


def test_two_leaves_fed_one_gradient_get_distinct_grads():
    def run(m):
        a = m.tensor([1.0, 2.0], requires_grad=True)
        b = m.tensor([3.0, 4.0], requires_grad=True)
        c = m.tensor([5.0, 6.0], requires_grad=True)
        ((a + b) * 2 + c).sum().backward()  # the new array from * 2 goes to a and b alike
        with m.no_grad():
            a.grad.add_(100)
        return a.grad, b.grad, c.grad, shares(a.grad, b.grad), shares(b.grad, c.grad)

    mg, th = both(run)
    for x, y in zip(mg[:3], th[:3]):
        assert_close(x, y)
    assert mg[3:] == th[3:] == (False, False)


def test_hooks_returning_a_kept_tensor_never_see_it_written():
    def run(m):
        kept_leaf = m.tensor([1.0, 2.0])
        kept_mid = m.tensor([10.0, 20.0])
        x = m.tensor([0.5, -0.5], requires_grad=True)
        w = m.tensor([3.0, 4.0], requires_grad=True)
        x.register_hook(lambda g: kept_leaf)
        mid = w + 0
        mid.register_hook(lambda g: kept_mid)  # the Add passes kept_mid on, where a second gradient meets it
        for _ in range(2):
            ((x * 3).sum() + (mid + w).sum()).backward()
        return (kept_leaf, kept_mid, x.grad, w.grad, shares(x.grad, kept_leaf), shares(w.grad, kept_mid))

    mg, th = both(run)
    for a, b in zip(mg[:4], th[:4]):
        assert_close(a, b)
    assert mg[0].tolist() == [1.0, 2.0] and mg[1].tolist() == [10.0, 20.0]
    assert mg[4:] == th[4:] == (False, False)


@pytest.mark.parametrize("order", ["hook_path_first", "hook_path_last", "hook_path_only"])
def test_gradients_seen_by_a_hook_keep_their_values(order):
    # y's hook keeps the array it saw; y's Add hands that array on to x, where it may meet another gradient
    # (or become x.grad, which the second backward adds into).
    def run(m):
        seen = []
        x = m.tensor([1.0, 2.0], requires_grad=True)
        for _ in range(2):
            y = x + 0
            y.register_hook(seen.append)
            through_y, direct = (y * 2).sum() + (y * y).sum(), (x * 5).sum()
            if order == "hook_path_first":
                through_y = through_y + direct
            elif order == "hook_path_last":
                through_y = direct + through_y
            through_y.backward()
        return seen[0], seen[1], x.grad

    mg, th = both(run)
    for a, b in zip(mg, th):
        assert_close(a, b)


def test_summed_gradients_of_a_leaf_reach_its_hook_once_and_become_its_grad():
    def run(m):
        calls = []
        x = m.tensor([1.0, 2.0], dtype=m.float64, requires_grad=True)
        x.register_hook(lambda g: calls.append(g.tolist()))
        (x * 2 + x * x + x.exp()).sum().backward()
        return calls, x.grad

    (mg_calls, mg_grad), (th_calls, th_grad) = both(run)
    assert len(mg_calls) == 1
    np.testing.assert_allclose(mg_calls, th_calls, rtol=1e-12)
    assert_close(mg_grad, th_grad)


def test_gradient_of_a_saved_input_returned_by_a_function_is_copied():
    def run(m):
        class Identityish(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x.clone()

            @staticmethod
            def backward(ctx, g):
                return g  # handed back unchanged: the engine must not keep or write this array

        a = m.tensor([1.0, 2.0], requires_grad=True)
        g = m.tensor([3.0, 4.0])
        Identityish.apply(a).backward(g)
        Identityish.apply(a).backward(g)
        return g, a.grad, shares(a.grad, g)

    mg, th = both(run)
    assert_close(mg[0], th[0])
    assert_close(mg[1], th[1])
    assert mg[2] is th[2] is False
