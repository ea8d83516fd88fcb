"""Behaviours found to differ from torch's when the supported-API page was written, checked against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import minigrad


@pytest.mark.parametrize("requires_grad", [False, True])
def test_to_with_copy_true_gives_new_memory_even_when_nothing_converts(requires_grad):
    for lib in (torch, minigrad):
        x = lib.ones(3, requires_grad=requires_grad)
        y = x.to(lib.float32, copy=True)
        assert y is not x
        assert (y.grad_fn is None) == (not requires_grad)
        if requires_grad:
            assert y.grad_fn.name() == "ToCopyBackward0"
            y.sum().backward()
            np.testing.assert_array_equal(x.grad.numpy(), np.ones(3))
        else:
            y.add_(1)
            assert x.numpy().tolist() == [1.0, 1.0, 1.0]  # the copy's memory is its own
        assert x.to(lib.float32) is x  # without copy=True, nothing to do returns the tensor itself


def test_mT_of_one_dim_raises_torchs_error_and_of_zero_dims_warns_as_torch():
    with pytest.raises(RuntimeError) as expected:
        torch.ones(3).mT  # noqa: B018
    with pytest.raises(RuntimeError) as actual:
        minigrad.ones(3).mT  # noqa: B018
    assert str(actual.value) == str(expected.value)
    with pytest.warns(UserWarning, match="Tensor.mT is deprecated on 0-D tensors") as expected_warning:
        torch.tensor(2.0).mT  # noqa: B018
    with pytest.warns(UserWarning) as actual_warning:
        scalar = minigrad.tensor(2.0, requires_grad=True)
        same = scalar.mT
    assert str(expected_warning[0].message).startswith(str(actual_warning[0].message))  # torch adds its C++ line
    same.backward()
    assert same.item() == 2.0 and scalar.grad.item() == 1.0


def test_default_collate_keeps_namedtuples_and_numpy_scalar_dtypes():
    from collections import namedtuple

    from torch.utils.data import default_collate as torch_collate

    from minigrad.utils.data import default_collate

    Sample = namedtuple("Sample", "x y")
    batch = [Sample(np.float32(i), np.int16(i)) for i in range(3)]
    expected, actual = torch_collate(batch), default_collate(batch)
    assert type(actual) is Sample and actual._fields == expected._fields
    for e, a in zip(expected, actual):
        assert str(a.dtype).split(".")[1] == str(e.dtype).split(".")[1]
        np.testing.assert_array_equal(a.numpy(), e.numpy())


AMAX_CASES = [((3, 4), 1, False), ((3, 4), (0, 1), True), ((2, 3, 4), (0, 2), False), ((2, 3, 4), (), False),
              ((2, 3, 4), -1, True), ((), (), False), ((5,), 0, True)]


@pytest.mark.parametrize("name", ["amax", "amin"])
@pytest.mark.parametrize(("shape", "dim", "keepdim"), AMAX_CASES)
def test_amax_amin_values_and_gradients_shared_between_ties_as_torch(name, shape, dim, keepdim):
    rng = np.random.default_rng(0)
    data = rng.integers(0, 3, shape).astype(np.float64)  # few distinct values: many ties
    x_t = torch.tensor(data, requires_grad=True)
    x_m = minigrad.tensor(data, requires_grad=True)
    y_t, y_m = getattr(torch, name)(x_t, dim, keepdim), getattr(x_m, name)(dim, keepdim)
    assert y_m.shape == tuple(y_t.shape) and y_m.grad_fn.name() == y_t.grad_fn.name()
    np.testing.assert_array_equal(y_m.detach().numpy(), y_t.detach().numpy())
    weights = rng.standard_normal(tuple(y_t.shape))
    (g_t,) = torch.autograd.grad((y_t * torch.tensor(weights)).sum(), x_t, create_graph=True)
    (g_m,) = minigrad.autograd.grad((y_m * minigrad.tensor(weights)).sum(), x_m, create_graph=True)
    np.testing.assert_allclose(g_m.detach().numpy(), g_t.detach().numpy(), rtol=1e-12, atol=0)
    # the gradient is piecewise constant in x: recorded, it depends on nothing that requires grad, as torch's
    assert g_m.requires_grad == g_t.requires_grad
    distinct = minigrad.tensor(rng.permutation(max(1, int(np.prod(shape)))).reshape(shape) / 7.0, requires_grad=True)
    assert minigrad.autograd.gradcheck(lambda t: getattr(minigrad, name)(t, dim, keepdim), (distinct,))


def test_amax_of_a_slice_holding_nan_gives_nan_and_nan_gradients_as_torch():
    data = np.array([[1.0, 3.0, 3.0], [2.0, np.nan, 0.0]])
    x_t, x_m = torch.tensor(data, requires_grad=True), minigrad.tensor(data, requires_grad=True)
    torch.amax(x_t, 1).sum().backward()
    minigrad.amax(x_m, 1).sum().backward()
    np.testing.assert_array_equal(x_m.grad.numpy(), x_t.grad.numpy())  # NaNs in the same places


@pytest.mark.parametrize(("shape", "dim"), [((0, 3), 0), ((0, 3), ()), ((2, 3), (0, 0)), ((2, 3), 2)])
def test_amax_errors_as_torch(shape, dim):
    with pytest.raises(Exception) as expected:
        torch.amax(torch.ones(shape), dim)
    with pytest.raises(type(expected.value)) as actual:
        minigrad.amax(minigrad.ones(shape), dim)
    assert str(actual.value) == str(expected.value)
    assert tuple(minigrad.amax(minigrad.ones(0, 3), 1).shape) == tuple(torch.amax(torch.ones(0, 3), 1).shape)
