"""The elementwise math functions (log1p ... nan_to_num, ``//`` and ``%``) and the creation functions
(normal, the typed legacy constructors, ``new_*``) against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import assert_close, to_torch

import minigrad
from minigrad.autograd import gradcheck

SMOOTH = {
    # name: a function of the random standard-normal input giving an argument inside the domain
    "log1p": lambda x: np.abs(x),
    "expm1": lambda x: x,
    "rsqrt": lambda x: np.abs(x) + 0.5,
    "reciprocal": lambda x: np.abs(x) + 0.5,
    "erf": lambda x: x,
}
PIECEWISE = ["floor", "ceil", "trunc", "round", "sign"]


def _pair(data: np.ndarray) -> tuple:
    x = minigrad.tensor(data, requires_grad=True)
    return x, to_torch(x)


@pytest.mark.parametrize("name", list(SMOOTH))
@pytest.mark.parametrize("method", [False, True])
def test_smooth_values_and_gradients(name, method, rng):
    x, tx = _pair(SMOOTH[name](rng.standard_normal((3, 4))))
    g = rng.standard_normal((3, 4))
    out = getattr(x, name)() if method else getattr(minigrad, name)(x)
    expected = getattr(torch, name)(tx)
    assert_close(out, expected, atol=1e-15, rtol=1e-14)
    assert out.grad_fn.name() == expected.grad_fn.name()
    out.backward(minigrad.tensor(g))
    expected.backward(torch.from_numpy(g))
    assert_close(x.grad, tx.grad, atol=1e-14, rtol=1e-13)


@pytest.mark.parametrize("name", list(SMOOTH))
def test_smooth_gradcheck(name, rng):
    x = minigrad.tensor(SMOOTH[name](rng.standard_normal((2, 3))), requires_grad=True)
    assert gradcheck(getattr(minigrad, name), (x,))


@pytest.mark.parametrize("name", PIECEWISE)
def test_piecewise_values_and_zero_gradient(name, rng):
    # Values a quarter away from the jumps of every rounding function (and from 0 for sign).
    data = np.floor(rng.uniform(-5, 5, 20)) + rng.choice([0.25, 0.75], 20)
    x, tx = _pair(data)
    out, expected = getattr(minigrad, name)(x), getattr(torch, name)(tx)
    assert_close(out, expected, atol=0, rtol=0)
    assert out.grad_fn.name() == expected.grad_fn.name()
    out.sum().backward()
    expected.sum().backward()
    assert_close(x.grad, tx.grad, atol=0, rtol=0)


def test_round_half_to_even_and_decimals():
    data = np.array([0.5, 1.5, 2.5, -0.5, -1.5, 1234.5678, -0.125])
    x, tx = _pair(data)
    assert_close(minigrad.round(x), torch.round(tx), atol=0, rtol=0)
    for decimals in (1, 2, -2):
        out, expected = x.round(decimals=decimals), torch.round(tx, decimals=decimals)
        assert_close(out, expected, atol=1e-12, rtol=0)
        assert out.grad_fn.name() == expected.grad_fn.name() == "RoundBackward1"


def test_sign_of_nan_and_negative_zero():
    data = np.array([np.nan, -0.0, 0.0, -np.inf, 3.0])
    assert_close(minigrad.sign(minigrad.tensor(data)), torch.sign(torch.tensor(data)), atol=0, rtol=0)


@pytest.mark.parametrize("name", list(SMOOTH) + PIECEWISE + ["isnan", "isinf", "isfinite", "nan_to_num"])
@pytest.mark.parametrize("data", [[-3, 0, 5], [True, False]], ids=["int64", "bool"])
def test_dtypes_of_integer_and_bool_inputs(name, data):
    try:
        expected = getattr(torch, name)(torch.tensor(data))
    except NotImplementedError as exc:
        with pytest.raises(NotImplementedError, match=str(exc).split('"')[1].replace("_cpu", "")):
            getattr(minigrad, name)(minigrad.tensor(data))
        return
    with np.errstate(divide="ignore", invalid="ignore"):  # log1p(-3) is NaN, silently in torch
        out = getattr(minigrad, name)(minigrad.tensor(data))
    assert out.dtype.name == str(expected.dtype).removeprefix("torch.")
    assert_close(out, expected, atol=1e-7, rtol=1e-6)


def test_round_with_decimals_refuses_integers():
    with pytest.raises(NotImplementedError, match="round_cpu.*Long"):
        minigrad.round(minigrad.tensor([1, 2]), decimals=1)


@pytest.mark.parametrize("dtype", [np.float64, np.int64])
def test_floor_divide_and_remainder_sign_rules(dtype):
    a = np.array([-7, 7, -7, 7, 0, 6], dtype=dtype)
    b = np.array([2, -2, -2, 2, 3, -3], dtype=dtype)
    ma, mb, ta, tb = minigrad.tensor(a), minigrad.tensor(b), torch.tensor(a), torch.tensor(b)
    assert_close(ma // mb, ta // tb, atol=0, rtol=0)
    assert_close(ma % mb, ta % tb, atol=0, rtol=0)
    assert_close(minigrad.floor_divide(ma, mb), torch.floor_divide(ta, tb), atol=0, rtol=0)
    assert_close(minigrad.remainder(ma, mb), torch.remainder(ta, tb), atol=0, rtol=0)
    assert_close(ma.floor_divide(3), ta.floor_divide(3), atol=0, rtol=0)
    assert_close(ma.remainder(-3), ta.remainder(-3), atol=0, rtol=0)


@pytest.mark.parametrize("expr", [
    lambda m: m.tensor([5, 3]) // 2.0,
    lambda m: 5 // m.tensor([2, 3]),
    lambda m: 5.5 % m.tensor([2, 3]),
    lambda m: -7 % m.tensor([2.5, -3.0]),
    lambda m: m.tensor([7, -7], dtype=m.int32) % 3,
    lambda m: m.tensor([[1.5], [-2.5]]) // m.tensor([1.0, -2.0]),
    lambda m: m.tensor([1.0, -1.0, 0.0]) // 0.0,
    lambda m: m.tensor([1.0, -1.0]) % 0.0,
], ids=range(8))
def test_floor_divide_and_remainder_promotion_broadcasting(expr):
    assert_close(expr(minigrad), expr(torch), atol=0, rtol=0)


def test_integer_division_by_zero_and_bool_errors():
    for op in (lambda a, b: a // b, lambda a, b: a % b):
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            op(minigrad.tensor([1, 2]), minigrad.tensor([1, 0]))
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            op(minigrad.tensor([1, 2]), 0)
    with pytest.raises(NotImplementedError, match="div_floor.*Bool"):
        minigrad.tensor([True]) // minigrad.tensor([True])
    with pytest.raises(NotImplementedError, match="remainder.*Bool"):
        minigrad.tensor([True]) % minigrad.tensor([True])
    with pytest.raises(RuntimeError, match=r"size of tensor a \(2\) must match the size of tensor b \(3\)"):
        minigrad.ones(2) % minigrad.ones(3)


def test_remainder_gradients(rng):
    a = rng.uniform(-5, 5, (3, 4))
    b = rng.choice([-1, 1], (4,)) * rng.uniform(0.7, 2, (4,))
    x, tx = _pair(a)
    y, ty = _pair(b)
    g = rng.standard_normal((3, 4))
    out, expected = x % y, tx % ty
    assert out.grad_fn.name() == expected.grad_fn.name()
    out.backward(minigrad.tensor(g))
    expected.backward(torch.from_numpy(g))
    assert_close(x.grad, tx.grad)
    assert_close(y.grad, ty.grad)
    scalar, expected_scalar = x % 2.0, tx % 2.0
    assert scalar.grad_fn.name() == expected_scalar.grad_fn.name()
    assert gradcheck(lambda u, v: minigrad.remainder(u, v), (x, y))


def test_floor_divide_has_no_derivative():
    x = minigrad.tensor([3.0, 4.0], requires_grad=True)
    out = x // 2
    assert out.grad_fn.name() == (torch.tensor([3.0, 4.0], requires_grad=True) // 2).grad_fn.name()
    with pytest.raises(RuntimeError, match="derivative for 'floor_divide' is not implemented"):
        out.sum().backward()


def test_nan_inf_tests_and_nan_to_num(rng):
    data = np.array([np.nan, np.inf, -np.inf, 1.5, -0.0])
    x, tx = _pair(data)
    for name in ("isnan", "isinf", "isfinite"):
        out = getattr(x, name)()
        assert_close(out, getattr(torch, name)(tx), atol=0, rtol=0)
        assert not out.requires_grad
    for kwargs in ({}, {"nan": 2.0}, {"nan": 1.0, "posinf": 9.0, "neginf": -9.0}):
        out, expected = minigrad.nan_to_num(x, **kwargs), torch.nan_to_num(tx, **kwargs)
        assert_close(out, expected, atol=0, rtol=0)
        assert out.grad_fn.name() == expected.grad_fn.name()
    g = rng.standard_normal(5)
    x.nan_to_num().backward(minigrad.tensor(g))
    torch.nan_to_num(tx).backward(torch.from_numpy(g))
    assert_close(x.grad, tx.grad, atol=0, rtol=0)
    f32 = np.array([np.inf, -np.inf], dtype=np.float32)
    assert_close(minigrad.tensor(f32).nan_to_num(), torch.tensor(f32).nan_to_num(), atol=0, rtol=0)
    assert gradcheck(minigrad.nan_to_num, (minigrad.tensor(rng.standard_normal(4), requires_grad=True),))


def test_float32_default_inputs_keep_float32():
    x = minigrad.tensor([0.5, 2.0])
    for name in list(SMOOTH) + PIECEWISE + ["nan_to_num"]:
        assert getattr(minigrad, name)(x).dtype == minigrad.float32


# -- creation ----------------------------------------------------------------------------------


def test_normal_from_numbers():
    out = minigrad.normal(2.0, 3.0, (200, 50))
    assert out.shape == (200, 50) and out.dtype == minigrad.float32 and not out.requires_grad
    values = out.numpy()
    assert abs(values.mean() - 2.0) < 0.1 and abs(values.std() - 3.0) < 0.1
    assert minigrad.normal(0.0, 1.0, size=(3,), dtype=minigrad.float64).dtype == minigrad.float64
    assert minigrad.normal(0.0, 1.0, (2,), requires_grad=True).requires_grad
    with pytest.raises(RuntimeError, match="normal expects std >= 0.0"):
        minigrad.normal(0.0, -1.0, (2,))


def test_normal_from_tensors():
    mean = minigrad.full((100, 100), 5.0, requires_grad=True)
    out = minigrad.normal(mean, 0.5)
    assert out.shape == (100, 100) and out.dtype == minigrad.float32
    values = out.detach().numpy()
    assert abs(values.mean() - 5.0) < 0.05 and abs(values.std() - 0.5) < 0.05
    expected = torch.normal(torch.zeros(2, requires_grad=True), 0.5)
    assert out.grad_fn.name() == expected.grad_fn.name()
    out.sum().backward()
    assert_close(mean.grad, torch.zeros(100, 100), atol=0, rtol=0)
    std = minigrad.full((4, 1000), 2.0, dtype=minigrad.float64)
    out = minigrad.normal(0.0, std)
    assert out.dtype == minigrad.float64 and out.shape == (4, 1000) and abs(out.numpy().std() - 2.0) < 0.1
    out = minigrad.normal(minigrad.zeros(2, 3), minigrad.ones(3))
    assert out.shape == torch.normal(torch.zeros(2, 3), torch.ones(3)).shape
    with pytest.raises(RuntimeError, match=r"size of tensor a \(2\) must match the size of tensor b \(3\)"):
        minigrad.normal(minigrad.zeros(2), minigrad.ones(3))
    with pytest.raises(NotImplementedError, match="normal_kernel.*Long"):
        minigrad.normal(minigrad.zeros(2, dtype=minigrad.int64), 1.0)
    with pytest.raises(RuntimeError, match="normal expects all elements of std >= 0.0"):
        minigrad.normal(0.0, minigrad.tensor([1.0, -1.0]))


def test_random_creation():
    r = minigrad.randint(3, 10, (500,))
    assert r.dtype == minigrad.int64 and r.shape == (500,)
    assert r.numpy().min() >= 3 and r.numpy().max() <= 9
    assert minigrad.randint(4, (2, 3)).shape == (2, 3) and minigrad.randint(4, (2, 3)).numpy().max() < 4
    for r in (minigrad.randint(high=10, size=(3,)), minigrad.randint(10, size=(3,)),
              minigrad.randint(2, 10, size=(3,))):
        assert r.shape == (3,) and 0 <= r.numpy().min() and r.numpy().max() < 10
    with pytest.raises(RuntimeError, match="expects 'from' to be less than 'to', but got from=5 >= to=3"):
        minigrad.randint(5, 3, (2,))
    with pytest.raises(RuntimeError, match="negative dimension -1"):
        minigrad.randperm(-1)
    assert minigrad.randint(0, 10, (2,), dtype=minigrad.float32).dtype == minigrad.float32
    assert minigrad.randperm(5, dtype=minigrad.float64).dtype == minigrad.float64
    p = minigrad.randperm(10)
    assert p.dtype == minigrad.int64 and sorted(p.tolist()) == list(range(10))
    x = minigrad.zeros(2, 3, dtype=minigrad.float64)
    for fn in (minigrad.rand_like, minigrad.randn_like, minigrad.empty_like):
        out = fn(x)
        assert out.shape == (2, 3) and out.dtype == minigrad.float64
    assert minigrad.rand_like(x).numpy().min() >= 0 and minigrad.rand_like(x).numpy().max() < 1
    full = minigrad.full_like(x, 7)
    assert full.dtype == minigrad.float64 and full.tolist() == [[7.0] * 3] * 2


@pytest.mark.parametrize("name", ["FloatTensor", "DoubleTensor", "LongTensor"])
def test_legacy_typed_constructors(name):
    make, expected = getattr(minigrad, name), getattr(torch, name)
    for args in ([[1.7, -2.5]], [[[1, 2], [3, 4]]], [2, 3], [minigrad.Size([4])], []):
        targs = [torch.Size(a) if isinstance(a, minigrad.Size) else a for a in args]
        out, ref = make(*args), expected(*targs)
        assert tuple(out.shape) == tuple(ref.shape)
        assert out.dtype.name == str(ref.dtype).removeprefix("torch.")
        if args and isinstance(args[0], list):
            assert_close(out, ref, atol=0, rtol=0)
    with pytest.raises(RuntimeError, match="negative dimension"):
        make(2, -1)
    typed = make([1, 2])
    assert isinstance(typed, make) and isinstance(typed, minigrad.Tensor)
    assert np.shares_memory(make(typed)._data, typed._data)  # an alias, as torch's
    others = [n for n in ("FloatTensor", "DoubleTensor", "LongTensor") if n != name]
    assert not any(isinstance(typed, getattr(minigrad, n)) for n in others)
    with pytest.raises(TypeError):
        make(make([1]).to(minigrad.int32))


def test_legacy_typed_constructors_are_cpu_only(cuda):
    with pytest.raises(RuntimeError, match="legacy constructor expects device type: cpu but device type: cuda"):
        minigrad.FloatTensor(2, device=cuda)
    assert not isinstance(minigrad.zeros(2, device=cuda), minigrad.FloatTensor)


def test_new_factories_follow_the_tensor():
    for t, tt in ((minigrad.tensor([1, 2]), torch.tensor([1, 2])),
                  (minigrad.tensor([1.5], dtype=minigrad.float64), torch.tensor([1.5], dtype=torch.float64))):
        cases = [("new_zeros", (2, 3), {}), ("new_zeros", ((2, 3),), {}), ("new_ones", (4,), {}),
                 ("new_empty", (0,), {}), ("new_zeros", ((),), {}), ("new_full", ((2,), 1.5), {}),
                 ("new_tensor", ([1.7, 2],), {}), ("new_ones", (2,), {"dtype": minigrad.float32})]
        for name, args, kwargs in cases:
            out = getattr(t, name)(*args, **kwargs)
            targs = {k: torch.float32 for k in kwargs}
            ref = getattr(tt, name)(*args, **targs)
            assert tuple(out.shape) == tuple(ref.shape), name
            assert out.dtype.name == str(ref.dtype).removeprefix("torch."), name
            if name != "new_empty":
                assert_close(out, ref, atol=0, rtol=0)
    x = minigrad.tensor([1.5]).new_tensor([1, 2], requires_grad=True)
    assert x.requires_grad and x.dtype == minigrad.float32


def test_creation_on_the_device(cuda):
    x = minigrad.zeros(2, 3, device=cuda)
    for out in (x.new_zeros(2), x.new_ones(2), x.new_full((2,), 3.0), x.new_empty(2), x.new_tensor([1.0]),
                minigrad.normal(x, 1.0), minigrad.normal(0.0, x + 1), minigrad.normal(0.0, 1.0, (2,), device=cuda),
                minigrad.randint(0, 5, (3,), device=cuda), minigrad.randperm(4, device=cuda),
                minigrad.rand_like(x), minigrad.randn_like(x), minigrad.full_like(x, 2), minigrad.empty_like(x)):
        assert out.device.type == "cuda"
    assert x.new_zeros(2, device="cpu").device.type == "cpu"


def test_math_on_the_device(cuda, rng):
    data = rng.uniform(0.25, 3.0, (2, 3))
    x = minigrad.tensor(data, device=cuda, requires_grad=True)
    outs = [x.log1p(), x.expm1(), x.rsqrt(), x.reciprocal(), x.floor(), x.ceil(), x.trunc(), x.round(),
            x.round(decimals=1), x.sign(), x % 0.7, x.nan_to_num()]
    for out in outs:
        assert out.device.type == "cuda"
        out.sum().backward()
    assert x.grad.device.type == "cuda"
    for out in (x // 0.7, x.isnan(), x.isinf(), x.isfinite()):
        assert out.device.type == "cuda"


@pytest.mark.parametrize("name", list(SMOOTH) + PIECEWISE + ["nan_to_num"])
def test_zero_dim_input(name):
    x, tx = _pair(np.array(0.75))
    out, expected = getattr(minigrad, name)(x), getattr(torch, name)(tx)
    assert_close(out, expected, atol=1e-15, rtol=1e-15)
    out.backward()
    expected.backward()
    assert_close(x.grad, tx.grad, atol=1e-15, rtol=1e-15)


def test_remainder_of_a_number_has_no_derivative():
    x = minigrad.tensor([2.5, -3.0], requires_grad=True)
    out = -7 % x
    expected = -7 % torch.tensor([2.5, -3.0], requires_grad=True)
    assert_close(out, expected, atol=0, rtol=0)
    assert out.grad_fn.name() == expected.grad_fn.name()
    with pytest.raises(RuntimeError, match="derivative for aten::remainder is not implemented"):
        out.sum().backward()


def test_square_as_a_function_equals_torchs():
    values = np.array([-1.5, 0.0, 2.0])
    x, t = minigrad.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    y, u = minigrad.square(x), torch.square(t)
    assert y.grad_fn.name() == u.grad_fn.name() == "PowBackward0"
    y.sum().backward()
    u.sum().backward()
    np.testing.assert_array_equal(y.detach().numpy(), u.detach().numpy())
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())
