"""The Tensor API outside autograd: factories, dtypes, metadata, conversions, printing and errors, against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import assert_close, to_np, torch_dtype

import minigrad


def both(fn):
    return fn(minigrad), fn(torch)


def same_dtype(mg, th) -> bool:
    return mg.dtype.name == str(th.dtype).removeprefix("torch.")


def raises_like_torch(fn):
    """Same exception type and message (with minigrad's names) in both libraries."""
    with pytest.raises(Exception) as th:
        fn(torch)
    with pytest.raises(type(th.value)) as mg:
        fn(minigrad)
    assert str(mg.value) == str(th.value).replace("torch.", "minigrad.")


# -- factories -----------------------------------------------------------------------------------------------------

FACTORIES = {
    "tensor_floats": lambda m: m.tensor([1.0, 2.5]),
    "tensor_ints": lambda m: m.tensor([[1, 2], [3, 4]]),
    "tensor_bools": lambda m: m.tensor([True, False]),
    "tensor_mixed_int_float": lambda m: m.tensor([1, 2.5]),
    "tensor_0d_float": lambda m: m.tensor(3.5),
    "tensor_0d_int": lambda m: m.tensor(3),
    "tensor_empty": lambda m: m.tensor([]),
    "tensor_dtype": lambda m: m.tensor([1, 2], dtype=m.float64),
    "tensor_dtype_float_to_int": lambda m: m.tensor([1.7, -2.2], dtype=m.int32),
    "tensor_float16": lambda m: m.tensor([0.1, 1000.0], dtype=m.float16),
    "tensor_numpy_int32": lambda m: m.tensor(np.array([1, 2], dtype=np.int32)),
    "tensor_numpy_float64": lambda m: m.tensor(np.array([0.1, 0.2])),
    "tensor_of_0d_tensors": lambda m: m.tensor([m.tensor(1.5), m.tensor(2.0)]),
    "zeros": lambda m: m.zeros(2, 3),
    "zeros_tuple": lambda m: m.zeros((2, 3)),
    "zeros_0d": lambda m: m.zeros(()),
    "zeros_int": lambda m: m.zeros(2, dtype=m.int64),
    "ones": lambda m: m.ones(3, 1),
    "ones_list": lambda m: m.ones([2, 2], dtype=m.float64),
    "ones_bool": lambda m: m.ones(2, dtype=m.bool),
    "full_float": lambda m: m.full((2, 2), 1.5),
    "full_int": lambda m: m.full((3,), 7),
    "full_bool": lambda m: m.full((2,), True),
    "full_dtype": lambda m: m.full([2], 3, dtype=m.float64),
    "arange_int": lambda m: m.arange(5),
    "arange_start_end": lambda m: m.arange(2, 7),
    "arange_step": lambda m: m.arange(1, 10, 3),
    "arange_neg_step": lambda m: m.arange(5, -5, -2),
    "arange_float": lambda m: m.arange(0.0, 1.0, 0.25),
    "arange_float_end": lambda m: m.arange(4.0),
    "arange_dtype": lambda m: m.arange(4, dtype=m.float64),
    "linspace": lambda m: m.linspace(0, 1, 5),
    "linspace_neg": lambda m: m.linspace(-2.0, 3.0, steps=11),
    "linspace_one": lambda m: m.linspace(2.0, 3.0, 1),
    "linspace_dtype": lambda m: m.linspace(0, 1, 4, dtype=m.float64),
    "zeros_like": lambda m: m.zeros_like(m.tensor([[1, 2, 3]], dtype=m.int32)),
    "ones_like": lambda m: m.ones_like(m.tensor([1.0, 2.0], dtype=m.float64)),
    "ones_like_dtype": lambda m: m.ones_like(m.tensor([1, 2]), dtype=m.float32),
}


@pytest.mark.parametrize("name", list(FACTORIES))
def test_factories_vs_torch(name):
    mg, th = both(FACTORIES[name])
    assert same_dtype(mg, th), f"{mg.dtype} vs {th.dtype}"
    assert tuple(mg.shape) == tuple(th.shape)
    assert_close(mg, th, rtol=1e-6, atol=1e-7, check_dtype=False)
    assert not mg.requires_grad and mg.is_leaf


def test_float64_values_from_python_floats_are_not_rounded():
    assert minigrad.tensor([0.1], dtype=minigrad.float64).item() == 0.1
    assert minigrad.tensor(0.1, dtype=minigrad.float64).item() == torch.tensor(0.1, dtype=torch.float64).item()


@pytest.mark.parametrize("name", ["empty", "rand", "randn"])
def test_shape_dtype_factories(name):
    fn = getattr(minigrad, name)
    for args, shape in [((2, 3), (2, 3)), (((4,),), (4,)), (([1, 2, 1],), (1, 2, 1)), ((), ())]:
        t = fn(*args)
        assert tuple(t.shape) == shape and t.dtype == minigrad.float32
    assert fn(2, dtype=minigrad.float64).dtype == minigrad.float64
    t = fn(2, 2, requires_grad=True)
    assert t.requires_grad and t.is_leaf and t.grad is None


def test_random_values():
    minigrad.manual_seed(0)
    u = minigrad.rand(4000)
    assert 0.0 <= u.min().item() and u.max().item() < 1.0
    assert abs(u.mean().item() - 0.5) < 0.03
    n = minigrad.randn(4000, dtype=minigrad.float64)
    assert abs(n.mean().item()) < 0.1 and abs(n.std().item() - 1.0) < 0.1
    like = minigrad.randn_like(minigrad.zeros(2, 3, dtype=minigrad.float64))
    assert tuple(like.shape) == (2, 3) and like.dtype == minigrad.float64


def test_manual_seed_makes_random_factories_reproducible():
    minigrad.manual_seed(42)
    a = (minigrad.rand(3).tolist(), minigrad.randn(2, 2).tolist(), minigrad.randn_like(minigrad.ones(2)).tolist())
    minigrad.manual_seed(42)
    b = (minigrad.rand(3).tolist(), minigrad.randn(2, 2).tolist(), minigrad.randn_like(minigrad.ones(2)).tolist())
    assert a == b
    minigrad.manual_seed(43)
    assert minigrad.rand(3).tolist() != a[0]


def test_factories_with_requires_grad():
    for t in (minigrad.tensor([1.0], requires_grad=True), minigrad.zeros(2, requires_grad=True),
              minigrad.ones(2, requires_grad=True), minigrad.full((2,), 1.0, requires_grad=True),
              minigrad.arange(3.0, requires_grad=True), minigrad.linspace(0, 1, 3, requires_grad=True),
              minigrad.zeros_like(minigrad.ones(2), requires_grad=True)):
        assert t.requires_grad and t.is_leaf and t.grad_fn is None


def test_default_dtype_switching(float64_default):
    assert minigrad.get_default_dtype() == minigrad.float64
    for name in ["tensor_floats", "tensor_mixed_int_float", "tensor_ints", "zeros", "full_float", "full_int",
                 "arange_float", "arange_int", "linspace"]:
        mg, th = both(FACTORIES[name])
        assert same_dtype(mg, th), name
    assert minigrad.rand(2).dtype == minigrad.randn(2).dtype == minigrad.empty(1).dtype == minigrad.float64
    assert (minigrad.tensor([1, 2]) * 0.5).dtype == minigrad.float64
    assert (minigrad.tensor([1.0], dtype=minigrad.float32) * 0.5).dtype == minigrad.float32


def test_set_default_dtype_rejects_non_float():
    with pytest.raises(TypeError):
        minigrad.set_default_dtype(minigrad.int64)
    assert minigrad.get_default_dtype() == minigrad.float32


def test_from_numpy_shares_memory():
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    t = minigrad.from_numpy(a)
    assert t.dtype == minigrad.float64  # keeps the array's dtype, whatever the default
    a[0, 0] = 10.0
    assert t[0, 0].item() == 10.0
    t[1, 1] = -1.0
    assert a[1, 1] == -1.0
    t.add_(1.0)
    assert a[0, 1] == 3.0
    assert np.shares_memory(t.numpy(), a)
    assert minigrad.from_numpy(np.arange(3, dtype=np.int32)).dtype == minigrad.int32
    with pytest.raises(TypeError):
        minigrad.from_numpy([1.0, 2.0])


def test_tensor_copies_its_input():
    a = np.array([1.0, 2.0])
    t = minigrad.tensor(a)
    a[0] = 5.0
    assert t[0].item() == 1.0
    u = minigrad.tensor(t)
    t.add_(1.0)
    assert u.tolist() == [1.0, 2.0]


# -- dtypes --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["float16", "float32", "float64", "int32", "int64", "bool"])
def test_dtype_metadata(name):
    mg, th = both(lambda m: m.zeros(2, 3, dtype=getattr(m, name)))
    assert mg.dtype == getattr(minigrad, name)
    assert repr(mg.dtype) == repr(th.dtype).replace("torch.", "minigrad.")
    assert mg.element_size() == th.element_size()
    assert mg.nbytes == th.nbytes
    assert mg.dtype.is_floating_point == th.dtype.is_floating_point
    assert mg.is_floating_point() == th.is_floating_point()


def test_dtype_aliases():
    assert minigrad.float is minigrad.float32 and minigrad.double is minigrad.float64
    assert minigrad.half is minigrad.float16 and minigrad.long is minigrad.int64 and minigrad.int is minigrad.int32


# -- metadata and methods ---------------------------------------------------------------------------------------


def test_metadata_vs_torch():
    def run(m):
        t = m.zeros(2, 3, 4)
        return (tuple(t.shape), tuple(t.size()), t.size(1), t.size(-1), t.ndim, t.dim(), t.numel(),
                t.element_size(), t.nbytes, len(t), t.shape[0], t.is_leaf, t.requires_grad,
                str(t.device), t.device.type, m.numel(t), m.is_tensor(t))

    mg, th = both(run)
    assert mg == th


def test_size_repr_and_equality():
    s = minigrad.zeros(2, 3).shape
    assert repr(s) == repr(torch.zeros(2, 3).shape).replace("torch.", "minigrad.")
    assert s == (2, 3) and s.numel() == 6 and isinstance(s, tuple)


def test_T_matches_torch():
    x = np.arange(6.0).reshape(2, 3)
    assert_close(minigrad.tensor(x).T, torch.tensor(x).T)


def test_item_and_tolist():
    def run(m):
        return (m.tensor([2.5]).item(), m.tensor(3).item(), m.tensor(True).item(), m.tensor([[1, 2], [3, 4]]).tolist(),
                m.tensor([1.5, 2.0]).tolist(), m.tensor(1.5).tolist(), m.tensor([True]).tolist())

    mg, th = both(run)
    assert mg == th
    for a, b in zip(mg, th):
        assert type(a) is type(b)
    raises_like_torch(lambda m: m.tensor([1.0, 2.0]).item())


def test_numpy_shares_memory_and_refuses_grad():
    t = minigrad.tensor([1.0, 2.0])
    a = t.numpy()
    a[0] = 7.0
    assert t[0].item() == 7.0
    p = minigrad.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="Use tensor.detach"):
        p.numpy()
    assert p.detach().numpy().tolist() == [1.0]


def test_detach_and_data_share_storage_without_history():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    for d in (y.detach(), y.data):
        assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    d = x.detach()
    d.zero_()
    assert x.tolist() == [0.0, 0.0]  # same storage, as torch
    x.data.add_(3.0)  # .data bypasses the in-place check on a leaf
    assert x.tolist() == [3.0, 3.0] and x.requires_grad


def test_requires_grad_():
    t = minigrad.zeros(2)
    assert t.requires_grad_() is t and t.requires_grad
    t.requires_grad_(False)
    assert not t.requires_grad


def test_zero_fill_copy_vs_torch():
    def run(m):
        t = m.ones(2, 3)
        out = [t.zero_().clone()]
        out.append(t.fill_(2.5).clone())
        out.append(t.copy_(m.tensor([1.0, 2.0, 3.0])).clone())  # broadcasts
        out.append(t.copy_(m.tensor([[1, 2, 3], [4, 5, 6]])).clone())  # casts
        i = m.zeros(2, dtype=m.int64)
        out.append(i.copy_(m.tensor([1.7, -2.2])).clone())
        return out

    for a, b in zip(*both(run)):
        assert_close(a, b)


def test_clone_is_independent_and_differentiable():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    c = x.clone()
    assert c.grad_fn is not None and not c.is_leaf
    (c * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    d = x.detach().clone()
    d.add_(1.0)
    assert x.tolist() == [1.0, 2.0]


@pytest.mark.parametrize("conv", ["float", "double", "to_float64", "to_int32", "to_like", "half", "long", "bool"])
def test_conversions_vs_torch(conv):
    def run(m):
        t = m.tensor([[1.5, -2.0], [0.0, 3.25]])
        return {"float": lambda: t.double().float(), "double": lambda: t.double(),
                "to_float64": lambda: t.to(m.float64), "to_int32": lambda: t.to(m.int32),
                "to_like": lambda: t.to(m.zeros(1, dtype=m.float16)), "half": lambda: t.half(),
                "long": lambda: t.long(), "bool": lambda: t.bool()}[conv]()

    mg, th = both(run)
    assert same_dtype(mg, th)
    assert_close(mg, th, check_dtype=False)


def test_conversion_gradient_flows_back_in_source_dtype():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    y = x.double()
    assert y.dtype == minigrad.float64 and y.requires_grad
    (y * y).sum().backward()
    assert x.grad.dtype == minigrad.float32 and x.grad.tolist() == [2.0, 4.0]
    assert x.to(minigrad.float32) is x  # no change, no copy (as torch)
    assert x.float() is x


# -- printing ------------------------------------------------------------------------------------------------------

REPRS = {
    "floats": lambda m: m.tensor([1.0, 2.5]),
    "whole_floats": lambda m: m.tensor([1.0, 2.0]),
    "padded_whole_floats": lambda m: m.tensor([2.0, 6.0, 12.0]),
    "padded_negative": lambda m: m.tensor([0.1, -2.5]),
    "ints": lambda m: m.tensor([1, 10, -3]),
    "int_matrix": lambda m: m.tensor([[-1, 200], [3, -4]]),
    "bools": lambda m: m.tensor([True, False]),
    "scalar_float": lambda m: m.tensor(3.0),
    "scalar_frac": lambda m: m.tensor(-0.5),
    "scalar_int": lambda m: m.tensor(3),
    "scalar_bool": lambda m: m.tensor(True),
    "nonfinite": lambda m: m.tensor([1.5, float("nan"), float("inf"), -float("inf")]),
    "only_nan": lambda m: m.tensor([float("nan")]),
    "zeros_1d": lambda m: m.tensor([0.0, 0.0]),
    "negative_zero": lambda m: m.tensor([-0.0, 1.0]),
    "sci_small": lambda m: m.tensor([1e-5, 1.0]),
    "sci_large": lambda m: m.tensor([1e9, 1.0]),
    "sci_ratio": lambda m: m.tensor([1.0, 10000.0]),
    "wide_fixed": lambda m: m.tensor([123456.789, 1.5]),
    "matrix": lambda m: m.tensor([[1.0, 2.0], [3.0, 4.0]]),
    "cube": lambda m: m.zeros(2, 3, 4),
    "long_row_wraps": lambda m: m.arange(30.0),
    "long_fractions_wrap": lambda m: m.arange(100.0) / 3,
    "wide_matrix": lambda m: (m.arange(60.0) * 1.37).reshape(3, 20),
    "summarized_1d": lambda m: m.arange(2000),
    "summarized_2d": lambda m: m.arange(3000.0).reshape(30, 100),
    "summarized_3d": lambda m: m.arange(2000).reshape(10, 10, 20),
    "float64": lambda m: m.tensor([1.0, 2.0], dtype=m.float64),
    "float16": lambda m: m.tensor([0.1, 2.0], dtype=m.float16),
    "int32": lambda m: m.tensor([[1, 2], [3, 4]], dtype=m.int32),
    "empty": lambda m: m.tensor([]),
    "empty_int": lambda m: m.tensor([], dtype=m.int64),
    "empty_float64": lambda m: m.zeros(0, dtype=m.float64),
    "empty_2d": lambda m: m.zeros(0, 3),
    "requires_grad": lambda m: m.tensor([1.0, 2.0], requires_grad=True),
    "requires_grad_float64": lambda m: m.ones(3, dtype=m.float64, requires_grad=True),
    "grad_fn_mul": lambda m: m.tensor([1.0, 2.0], requires_grad=True) * 2,
    "grad_fn_sum": lambda m: m.tensor([[1.5, 2.0], [3.0, 4.0]], requires_grad=True).sum(),
    "grad_fn_float64_mul": lambda m: m.ones(3, dtype=m.float64, requires_grad=True) * 1,
    "grad_fn_long_line": lambda m: m.arange(1.0, 21.0, requires_grad=True).exp(),
    "no_grad_result": lambda m: m.tensor([1.0], requires_grad=True).detach() * 2,
}


@pytest.mark.parametrize("name", list(REPRS))
def test_repr_matches_torch(name):
    mg, th = both(REPRS[name])
    assert repr(mg) == repr(th).replace("torch.", "minigrad.")


def test_repr_with_float64_default(float64_default):
    for fn in (REPRS["floats"], REPRS["float64"], lambda m: m.tensor([1.0, 2.0], dtype=m.float32),
               REPRS["empty"], lambda m: m.tensor([], dtype=m.float32)):
        mg, th = both(fn)
        assert repr(mg) == repr(th).replace("torch.", "minigrad.")


def test_repr_of_random_values_matches_torch(rng):
    values = rng.standard_normal((4, 5)).astype(np.float32)
    assert repr(minigrad.from_numpy(values)) == repr(torch.from_numpy(values))
    assert str(minigrad.from_numpy(values)) == str(torch.from_numpy(values))


# -- bad inputs: torch's exception types and messages --------------------------------------------------------------

ERRORS = {
    "matmul_2d": lambda m: m.ones(2, 3) @ m.ones(4, 5),
    "matmul_fn": lambda m: m.matmul(m.ones(3, 2), m.ones(3, 2)),
    "matmul_vec_mat": lambda m: m.ones(3) @ m.ones(4, 5),
    "matmul_mat_vec": lambda m: m.ones(2, 3) @ m.ones(4),
    "matmul_vec_vec": lambda m: m.ones(3) @ m.ones(4),
    "matmul_batch_mat": lambda m: m.ones(5, 2, 3) @ m.ones(4, 5),
    "matmul_batch_vec": lambda m: m.ones(2, 5, 3) @ m.ones(4),
    "matmul_mat_batch": lambda m: m.ones(2, 3) @ m.ones(2, 4, 5),
    "matmul_batch_batch": lambda m: m.ones(3, 1, 2, 3) @ m.ones(2, 4, 5),
    "matmul_batch_broadcast": lambda m: m.ones(2, 2, 3) @ m.ones(3, 3, 4),
    "matmul_0d": lambda m: m.tensor(1.0) @ m.ones(3),
    "broadcast": lambda m: m.ones(2, 3) + m.ones(2, 2),
    "broadcast_mul": lambda m: m.ones(3) * m.ones(4),
    "broadcast_python_rsub": lambda m: 1.0 - m.ones(2, 3) / m.ones(3, 1, 2),
    "inplace_int_add_float": lambda m: m.tensor([1, 2]).__iadd__(1.5),
    "inplace_int_div": lambda m: m.tensor([1, 2]).__itruediv__(2),
    "inplace_int32_mul_float_tensor": lambda m: m.tensor([1], dtype=m.int32).mul_(m.tensor([1.5], dtype=m.float64)),
    "inplace_bool_add": lambda m: m.tensor([True]).add_(1),
    "inplace_output_shape": lambda m: m.ones(3).add_(m.ones(2, 3)),
    "inplace_not_broadcastable": lambda m: m.ones(3).sub_(m.ones(2)),
    "reshape_invalid": lambda m: m.ones(2, 3).reshape(4, 2),
    "view_two_inferred": lambda m: m.ones(2, 3).view(-1, -1),
    "sum_dim_out_of_range": lambda m: m.ones(2, 3).sum(2),
    "softmax_dim_out_of_range": lambda m: m.ones(2, 3).softmax(-3),
    "transpose_dim_out_of_range": lambda m: m.ones(2, 3).transpose(0, 2),
    "sum_repeated_dim": lambda m: m.ones(2, 3).sum((0, 0)),
    "permute_repeated_dim": lambda m: m.ones(2, 3).permute(0, 0),
    "index_out_of_range": lambda m: m.ones(2, 3)[2],
    "index_out_of_range_dim1": lambda m: m.ones(2, 3)[:, 5],
    "cat_sizes": lambda m: m.cat([m.ones(2, 3), m.ones(2, 2)]),
    "cat_ndims": lambda m: m.cat([m.ones(2, 3), m.ones(3)]),
    "cat_empty_list": lambda m: m.cat([]),
    "stack_sizes": lambda m: m.stack([m.ones(2), m.ones(3)]),
    "item_many": lambda m: m.ones(3).item(),
    "mean_of_ints": lambda m: m.tensor([1, 2]).mean(),
    "bool_of_many": lambda m: bool(m.ones(2)),
    "clamp_no_bounds": lambda m: m.clamp(m.ones(2)),
    "linear_dtypes": lambda m: m.nn.functional.linear(m.ones(2, 3), m.ones(4, 3, dtype=m.float64)),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_like_torch(name):
    raises_like_torch(ERRORS[name])


def test_matmul_error_names_both_shapes():
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)"):
        minigrad.ones(2, 3) @ minigrad.ones(4, 5)


def test_inputs_untouched_by_ops():
    x = np.arange(6.0).reshape(2, 3)
    t = minigrad.tensor(x, requires_grad=True)
    for fn in (lambda a: a * 2, lambda a: a.T, lambda a: a[0], lambda a: a.reshape(3, 2), lambda a: a.sum(0),
               lambda a: a.softmax(1), lambda a: a.clamp(0, 1), lambda a: a.relu()):
        fn(t).sum().backward()
    np.testing.assert_array_equal(to_np(t), x)
    assert torch_dtype(t.dtype) == torch.float64
