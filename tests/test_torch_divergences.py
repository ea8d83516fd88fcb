"""Places where minigrad behaved differently from torch 2.13, each now compared with torch.

Every test runs ``program(lib)`` under torch first (the oracle) and then under minigrad, and compares what
comes back: tensors by values, dtype, shape and requires_grad; where torch raises, minigrad must raise the
same exception type, and the key words given must be in both messages.
"""

from __future__ import annotations

import operator

import numpy as np
import pytest
import torch

import minigrad

# torch's own __array_wrap__ takes the old signature
pytestmark = pytest.mark.filterwarnings("ignore:__array_wrap__ must accept context:DeprecationWarning")


def _plain(x):
    """What a program returned, in a form both libraries' results can be compared in."""
    if isinstance(x, (torch.Tensor, minigrad.Tensor)):
        return ("tensor", str(x.dtype).split(".")[-1], tuple(x.shape), bool(x.requires_grad),
                np.array(x.detach().numpy(), copy=True))
    if isinstance(x, (tuple, list)):
        return type(x).__name__, [_plain(v) for v in x]
    if isinstance(x, (torch.Size, minigrad.Size)):
        return tuple(x)
    return x


def _run(lib, program):
    try:
        return "ok", _plain(program(lib))
    except Exception as exc:  # noqa: BLE001 - the exception is the result being compared
        return "raised", exc


def _equal(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and np.allclose(a, b, rtol=1e-6, equal_nan=True)
    if isinstance(a, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def same(program, *words: str):
    """Run ``program`` under torch and minigrad; the outcomes must agree (see the module docstring)."""
    kind_t, th = _run(torch, program)
    kind_m, mg = _run(minigrad, program)
    if kind_t == "raised":
        assert kind_m == "raised", f"torch raised {type(th).__name__}: {th}; minigrad returned {mg}"
        assert type(mg) is type(th), f"torch raised {type(th).__name__}: {th}; minigrad {type(mg).__name__}: {mg}"
        for w in words:
            assert w in str(th), f"{w!r} is not in torch's message: {th}"
            assert w in str(mg), f"{w!r} is not in minigrad's message: {mg}"
        return th
    if kind_m == "raised":
        raise AssertionError(f"torch returned {th}; minigrad raised {type(mg).__name__}: {mg}") from mg
    assert not words, "torch did not raise"
    assert _equal(mg, th), f"torch: {th}\nminigrad: {mg}"
    return th


# -- 1. NumPy scalars and arrays next to a tensor ---------------------------------------------------------------

NUMPY_SCALARS = [np.float64(0.1), np.float32(2.5), np.int64(3)]
OPERATORS = [operator.add, operator.sub, operator.mul, operator.truediv, operator.pow,
             operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne]


@pytest.mark.parametrize("scalar", NUMPY_SCALARS, ids=lambda s: type(s).__name__)
@pytest.mark.parametrize("op", OPERATORS, ids=lambda op: op.__name__)
@pytest.mark.parametrize("side", ["left", "right"])
def test_a_numpy_scalar_on_either_side_keeps_the_graph(scalar, op, side):
    def program(lib):
        w = lib.tensor([0.5, 1.0, 2.0], requires_grad=True)
        out = op(scalar, w) if side == "left" else op(w, scalar)
        if not out.requires_grad:  # a comparison
            return out
        (out * lib.tensor([1.0, 2.0, 3.0])).sum().backward()
        return out, w.grad

    same(program)


def test_a_numpy_scalar_times_a_loss_can_be_backpropagated():
    def program(lib):
        w = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
        loss = np.logspace(-3, 0, 4)[1] * (w**2).sum() + np.sqrt(np.float64(4.0)) * w.sum()
        loss.backward()
        return type(loss).__name__, loss, w.grad

    same(program)


@pytest.mark.parametrize("op", [operator.add, operator.sub, operator.mul, operator.pow, operator.matmul,
                                operator.lt, operator.ge], ids=lambda op: op.__name__)
@pytest.mark.parametrize("requires_grad", [False, True])
def test_an_ndarray_on_the_left_is_refused_as_torch_refuses_it(op, requires_grad):
    # Python's own TypeError once both sides give up; for + it names NumPy's sequence concatenation
    words = ("not implemented for NumPy arrays",) if op is operator.add else ("numpy.ndarray", "Tensor")
    same(lambda lib: op(np.ones(3), lib.ones(3, requires_grad=requires_grad)), *words)


@pytest.mark.parametrize("op", [operator.add, operator.mul, operator.truediv, operator.pow, operator.matmul])
@pytest.mark.parametrize("dtypes", [("float32", "float64"), ("float32", "float32"), ("int64", "float32"),
                                    ("int64", "int64")], ids=str)
def test_a_tensor_with_an_ndarray_on_the_right_has_numpys_dtype(op, dtypes):
    if op is operator.truediv and dtypes == ("int64", "int64"):
        pytest.skip("torch divides integer tensors by integer arrays in float64 (through NumPy); minigrad in the "
                    "default float dtype")
    t_dtype, a_dtype = dtypes
    same(lambda lib: op(lib.tensor([1, 2, 3], dtype=getattr(lib, t_dtype)), np.array([3, 2, 1], dtype=a_dtype)))


@pytest.mark.parametrize("op", [operator.add, operator.mul, operator.truediv, operator.matmul])
def test_a_tensor_that_requires_grad_with_an_ndarray_is_refused(op):
    same(lambda lib: op(lib.ones(3, requires_grad=True), np.ones(3)), "Can't call numpy() on Tensor that requires grad")


def test_an_ndarray_divided_by_a_tensor_and_compared_with_one():
    same(lambda lib: (np.array([1.0, 2.0]) / lib.tensor([4.0, 8.0]), np.array([1.0, 2.0]) == lib.tensor([1.0, 3.0]),
                      lib.tensor([1.0, 3.0]) == np.array([1.0, 2.0])))
    same(lambda lib: np.array([1.0, 2.0]) / lib.ones(2, requires_grad=True), "Can't call numpy()")


def test_numpy_ufuncs_on_tensors_as_torch():
    same(lambda lib: np.exp(lib.tensor([0.0, 1.0])))  # a tensor, through __array_wrap__
    same(lambda lib: np.exp(lib.ones(2, requires_grad=True)), "Can't call numpy() on Tensor that requires grad")
    same(lambda lib: np.asarray(lib.ones(2, requires_grad=True)), "Can't call numpy() on Tensor that requires grad")
    same(lambda lib: type(np.asarray(lib.ones(2))).__name__)


def test_comparing_with_none():
    def program(lib):
        t = lib.tensor([1.0, 2.0])
        return t == None, t != None, None == t  # noqa: E711 - what `if t == None:` evaluates

    same(program)
    same(lambda lib: lib.tensor([1.0]).eq(None), "eq() received an invalid combination of arguments")


# -- 2. Contiguity, view and strides ---------------------------------------------------------------------------


def test_contiguous_of_a_transposed_tensor_is_a_copy():
    def program(lib):
        x = lib.arange(12.0).reshape(3, 4)
        c = x.t().contiguous()
        c[0, 1] = 100.0
        w = lib.ones(2, 3, requires_grad=True)
        (w.t().contiguous() * lib.arange(6.0).reshape(3, 2)).sum().backward()
        return x, c, c.is_contiguous(), x.t().is_contiguous(), x.contiguous() is x, w.grad

    same(program)


@pytest.mark.parametrize("case", ["t-12", "t-2x6", "t-4x3x1", "cols-6", "step-6", "rows-8", "rows-2x2x2",
                                  "expand-6", "expand-2x3x1", "t-bad-size"])
def test_view_of_a_non_contiguous_tensor(case):
    def program(lib):
        x = lib.arange(12.0).reshape(3, 4)
        source = {"t": x.t(), "cols": x[:, :2], "step": x[:, ::2], "rows": x[::2],
                  "expand": lib.ones(3).expand(2, 3)}[case.split("-")[0]]
        shape = [5] if case.endswith("bad-size") else [int(n) for n in case.split("-")[1].split("x")]
        return source.view(*shape)

    if case.endswith("bad-size"):
        same(program, "shape '[5]' is invalid for input of size 12")
    elif case in ("t-12", "t-2x6", "cols-6", "rows-8", "expand-6"):
        same(program, "view size is not compatible with input tensor's size and stride", "Use .reshape(...) instead")
    else:
        same(program)


def test_view_as_of_a_transposed_tensor_is_refused():
    same(lambda lib: lib.ones(2, 3).t().view_as(lib.ones(6)), "view size is not compatible")
    same(lambda lib: lib.ones(2, 3).t().reshape_as(lib.ones(6)))


def test_stride_and_is_contiguous():
    def program(lib):
        x = lib.arange(12.0).reshape(3, 4)
        views = [x, x.t(), x[:, 1:], x[1:], x[None], x.unsqueeze(1), x.expand(2, 3, 4), lib.zeros(0, 3),
                 lib.zeros(2, 0, 3), lib.zeros(3, 1).t(), lib.ones(3)[None, :, None], lib.ones(3).expand(1, 3),
                 lib.tensor(1.0)]
        return [(v.stride(), v.is_contiguous()) for v in views], x.stride(0), x.stride(-1), x.stride(dim=0)

    same(program)
    same(lambda lib: lib.ones(2, 3).stride(2), "Dimension out of range (expected to be in range of [-2, 1], but got 2)")
    same(lambda lib: lib.tensor(1.0).stride(0), "Dimension specified as 0 but tensor has no dimensions")


# -- 3. The legacy constructor Tensor(...) -----------------------------------------------------------------------


@pytest.mark.parametrize("args", [([[1, 2, 3]],), ([True, False],), ((2, 3),), (np.zeros(3),), (np.arange(3),),
                                  (np.ones(2, dtype=np.float32),), ()], ids=repr)
def test_the_legacy_constructor_copies_data_into_the_default_dtype(args):
    same(lambda lib: lib.Tensor(*args))


def test_the_legacy_constructor_copies_a_float64_array_and_shares_a_float32_one():
    def program(lib):
        a64, a32 = np.zeros(3), np.zeros(3, dtype=np.float32)
        t64, t32 = lib.Tensor(a64), lib.Tensor(a32)
        t64[0], t32[0] = 5.0, 5.0
        return t64, a64[0], a32[0]

    same(program)


def test_the_legacy_constructor_with_sizes_is_uninitialised():
    same(lambda lib: (lib.Tensor(2, 3).shape, lib.Tensor(2, 3).dtype == lib.float32, lib.Tensor(3).shape,
                      lib.Tensor(lib.Size([2, 3])).shape, lib.Tensor(size=(4,)).shape))
    same(lambda lib: lib.Tensor(2, 3.0), "new(): argument 'size' failed to unpack the object at pos 2")
    same(lambda lib: lib.Tensor(-1), "Trying to create tensor with negative dimension -1: [-1]")


def test_the_legacy_constructor_refuses_what_torch_refuses():
    same(lambda lib: lib.Tensor(3.5), "new(): data must be a sequence (got float)")
    same(lambda lib: lib.Tensor(np.float64(3.5)), "new(): data must be a sequence (got numpy.float64)")
    same(lambda lib: lib.Tensor("ab"), "new(): invalid data type 'str'")
    same(lambda lib: lib.Tensor([1.0], requires_grad=True), "new() received an invalid combination of arguments")
    same(lambda lib: lib.Tensor([[1, 2], [3]]), "expected sequence of length 2 at dim 1 (got 1)")


def test_the_legacy_constructor_of_a_tensor_is_an_alias():
    def program(lib):
        x = lib.tensor([1, 2])
        y = lib.Tensor(x)
        y[0] = 7
        w = lib.ones(2, requires_grad=True)
        a = lib.Tensor(w)
        (a * 3).sum().backward()
        return y is x, x, a.requires_grad, a._base is w, w.grad

    same(program)


def test_the_legacy_constructor_follows_the_default_dtype(float64_default):
    same(lambda lib: lib.Tensor([1, 2]))


@pytest.mark.parametrize("data", [[[1, 2], [3]], [[1, 2], 3], [1.0, [2.0, 3.0]], [[[1, 2], [3, 4]], [[1, 2], [3]]],
                                  [[1], []]], ids=repr)
def test_a_ragged_list_gives_torchs_error(data):
    error = same(lambda lib: lib.tensor(data))
    assert error is not None
    same(lambda lib: lib.tensor(data), str(error))
