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
