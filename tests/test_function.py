"""Custom ops with minigrad.autograd.Function, checked against finite differences and torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import minigrad
from minigrad.autograd import Function, gradcheck


class Legendre3(Function):
    """P3(x) = (5x^3 - 3x) / 2, as in torch's "Learning PyTorch with Examples"."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return 0.5 * (5 * x**3 - 3 * x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * 1.5 * (5 * x**2 - 1)


class TorchLegendre3(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return 0.5 * (5 * x**3 - 3 * x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * 1.5 * (5 * x**2 - 1)


class ScaledMul(Function):
    """a * b * scale: two tensor inputs and one plain number that gets no gradient."""

    @staticmethod
    def forward(ctx, a, b, scale):
        ctx.save_for_backward(a, b)
        ctx.scale = scale
        return a * b * scale

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = g * b * ctx.scale if ctx.needs_input_grad[0] else None
        gb = g * a * ctx.scale if ctx.needs_input_grad[1] else None
        return ga, gb, None


class TorchScaledMul(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b, scale):
        ctx.save_for_backward(a, b)
        ctx.scale = scale
        return a * b * scale

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return g * b * ctx.scale, g * a * ctx.scale, None


def _pair(shape, rng, requires_grad=True):
    a = rng.standard_normal(shape)
    return (minigrad.tensor(a, dtype=minigrad.float64, requires_grad=requires_grad),
            torch.tensor(a, dtype=torch.float64, requires_grad=requires_grad))


def test_legendre_gradcheck():
    x = minigrad.tensor(np.linspace(-1, 1, 7), dtype=minigrad.float64, requires_grad=True)
    assert gradcheck(Legendre3.apply, (x,))


def test_legendre_matches_torch():
    rng = np.random.default_rng(0)
    x, tx = _pair((5, 3), rng)
    up = rng.standard_normal((5, 3))
    y = Legendre3.apply(x * 2 + 1)
    ty = TorchLegendre3.apply(tx * 2 + 1)
    y.backward(minigrad.tensor(up, dtype=minigrad.float64))
    ty.backward(torch.tensor(up))
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


def test_grad_fn_is_named_after_the_function():
    x = minigrad.tensor([0.5], requires_grad=True)
    y = Legendre3.apply(x)
    assert y.grad_fn.name() == "Legendre3Backward"
    assert "grad_fn=<Legendre3Backward>" in repr(y)
    assert type(TorchLegendre3.apply(torch.tensor([0.5], requires_grad=True)).grad_fn).__name__ == \
        "TorchLegendre3Backward"


def test_non_tensor_argument_and_broadcast_gradient_match_torch():
    rng = np.random.default_rng(1)
    a, ta = _pair((4, 3), rng)
    b, tb = _pair((3,), rng)  # broadcast: the gradient is summed back to (3,)
    ScaledMul.apply(a, b, 2.5).sum().backward()
    TorchScaledMul.apply(ta, tb, 2.5).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy(), rtol=1e-12)
    fresh = (a.detach().requires_grad_(), b.detach().requires_grad_())
    assert gradcheck(lambda a, b: ScaledMul.apply(a, b, 2.5), fresh)


def test_needs_input_grad_and_no_graph_inside_forward():
    seen = {}

    class Probe(Function):
        @staticmethod
        def forward(ctx, a, b):
            seen["grad_enabled"] = minigrad.is_grad_enabled()
            seen["a_requires_grad"] = a.requires_grad
            return a + b

        @staticmethod
        def backward(ctx, g):
            seen["needs"] = ctx.needs_input_grad
            return g, None

    a = minigrad.tensor([1.0, 2.0], requires_grad=True)
    b = minigrad.tensor([3.0, 4.0])
    Probe.apply(a, b).sum().backward()
    assert seen == {"grad_enabled": False, "a_requires_grad": False, "needs": (True, False)}
    assert a.grad.tolist() == [1.0, 1.0]


def test_mark_non_differentiable_output():
    class SortWithIndex(Function):
        @staticmethod
        def forward(ctx, x):
            order = minigrad.tensor(np.argsort(x.numpy()))
            ctx.mark_non_differentiable(order)
            ctx.save_for_backward(order)
            return x[order], order

        @staticmethod
        def backward(ctx, g, _g_order):
            (order,) = ctx.saved_tensors
            out = minigrad.zeros_like(g)
            out[order] = g
            return out

    x = minigrad.tensor([3.0, 1.0, 2.0], requires_grad=True)
    values, order = SortWithIndex.apply(x)
    assert values.requires_grad and not order.requires_grad
    (values * minigrad.tensor([1.0, 10.0, 100.0])).sum().backward()
    assert x.grad.tolist() == [100.0, 1.0, 10.0]


def test_wrong_number_of_gradients_names_the_function():
    class TooFew(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, g):
            return g

    a = minigrad.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"function TooFewBackward returned an incorrect number of gradients "
                                           r"\(expected 2, got 1\)"):
        TooFew.apply(a, a).sum().backward()


def test_wrong_gradient_shape_names_the_function():
    class BadShape(Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return g[:2]

    a = minigrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Function BadShapeBackward returned an invalid gradient at index 0 - "
                                           r"got \[2\] but expected shape compatible with \[3\]"):
        BadShape.apply(a).sum().backward()


def test_saved_tensors_are_freed_after_backward():
    x = minigrad.tensor([0.3, 0.4], requires_grad=True)
    y = Legendre3.apply(x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.backward()
    y2 = Legendre3.apply(x).sum()
    y2.backward(retain_graph=True)
    y2.backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * 1.5 * (5 * np.array([0.3, 0.4]) ** 2 - 1), rtol=1e-6)


def test_builtin_and_custom_ops_share_one_node_type():
    x = minigrad.tensor([1.0], requires_grad=True)
    assert type((x * 2).grad_fn) is type(Legendre3.apply(x).grad_fn)


def test_draw_graph_draws_a_custom_op_like_a_builtin_one():
    from minigrad.viz import draw_graph

    x = minigrad.tensor([0.5, 1.0], requires_grad=True)
    source = draw_graph((Legendre3.apply(x) * 2).sum(), params={"x": x}).source
    assert "Legendre3Backward" in source and "MulBackward0" in source and "SumBackward0" in source


def test_graphs_and_leaves_are_freed_without_the_cyclic_garbage_collector():
    import gc
    import weakref

    gc.disable()
    try:
        x = minigrad.tensor([1.0, 2.0], requires_grad=True)
        y = Legendre3.apply(x * 3).sum()
        y.backward()
        leaf, node = weakref.ref(x), weakref.ref(y.grad_fn)
        del x, y
        assert leaf() is None and node() is None  # freed by reference counting alone: no cycles
    finally:
        gc.enable()
