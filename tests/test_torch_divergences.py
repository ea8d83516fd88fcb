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
    if isinstance(x, (tuple, list)):  # Size and torch's named tuples of values and indices as tuples
        return "list" if isinstance(x, list) else "tuple", [_plain(v) for v in x]
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


# -- 4. Dtypes and argument checks ---------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [[np.float64(1.5)], [np.float64(1.5), 2.0], [np.int32(1)], [np.int32(1), 2],
                                  [np.float32(1), np.float64(2)], [np.float16(1), 2.0], [np.uint8(1), np.int8(2)],
                                  [np.uint8(200)], [True, np.int8(2)], [np.array([1.0, 2.0]), np.array([3.0, 4.0])],
                                  np.float64(2.0)],
                         ids=repr)
@pytest.mark.filterwarnings("ignore:Creating a tensor from a list of numpy.ndarrays")
def test_numpy_scalars_in_a_list_keep_their_dtype(data):
    same(lambda lib: lib.tensor(data))


def test_scalar_tensors_in_a_list_keep_their_dtype():
    same(lambda lib: lib.tensor([lib.tensor(1.0, dtype=lib.float64), lib.tensor(2.0, dtype=lib.float64)]))
    same(lambda lib: lib.tensor([lib.tensor(1, dtype=lib.int32), 2]))


@pytest.mark.parametrize("data", [[2**70], [-(2**70)], [2**63], [[1], [2**70]], 2**70], ids=repr)
def test_ints_beyond_int64_overflow(data):
    same(lambda lib: lib.tensor(data), "Overflow when unpacking long long")


def test_ints_beyond_int64_among_floats_are_floats():
    same(lambda lib: (lib.tensor([2**70, 1.0]), lib.tensor([2**70], dtype=lib.float32)))


@pytest.mark.parametrize("args", [(np.int64(4),), (np.float64(4),), (np.float32(2.5),), ((4,),), ((4.0,),),
                                  (0, 5, 2), (5, 0, -1), (0, 0), (0, 2.5, 1.5), (0.5, 4.5), (-1.5, 2)], ids=repr)
def test_arange_dtype_as_torch(args):
    def program(lib):
        values = [lib.tensor(a[0]) if isinstance(a, tuple) else a for a in args]
        return lib.arange(*values), lib.arange(*values, dtype=lib.int64), lib.arange(*values, dtype=lib.float64)

    same(program)


@pytest.mark.parametrize("case", [
    ("0, 2.5, 0.5, dtype=int64", ValueError, "step must be nonzero"),
    ("0, 5, 0", RuntimeError, "step must be nonzero"),
    ("0, 5, 0.0", RuntimeError, "step must be nonzero"),
    ("5, step=0", TypeError, "arange() received an invalid combination of arguments"),
    ("5, step=1", TypeError, "arange() received an invalid combination of arguments"),
    ("0, 5, -1", RuntimeError, "upper bound and lower bound inconsistent with step sign"),
    ("0, 5, -0.5, dtype=int64", RuntimeError, "upper bound and lower bound inconsistent with step sign"),
    ("-3", RuntimeError, "upper bound and lower bound inconsistent with step sign"),
    ("0, float('inf')", RuntimeError, "unsupported range: 0 -> inf"),
    ("0, float('nan')", RuntimeError, "unsupported range: 0 -> nan"),
    ("lib.tensor([4])", TypeError, "arange(): argument 'end' (position 1) must be Number, not Tensor"),
], ids=lambda c: c[0])
def test_arange_refuses_as_torch(case):
    call, _, words = case
    error = same(lambda lib: eval(f"lib.arange({call.replace('int64', 'lib.int64')})", {"lib": lib}), words)
    assert type(error) is case[1]


def test_arange_by_keyword():
    same(lambda lib: (lib.arange(end=5), lib.arange(start=1, end=5), lib.arange(0, 5, step=2)))


@pytest.mark.parametrize("case", [
    ((3,), (-1, 3), "The expanded size of the tensor (-1) isn't allowed in a leading, non-existing dimension 0"),
    ((3,), (2,), "must match the existing size (3) at non-singleton dimension 0.  Target sizes: [2].  Tensor "
                 "sizes: [3]"),
    ((2, 3), (3,), "the number of sizes provided (1) must be greater or equal to the number of dimensions in the "
                   "tensor (2)"),
    ((3,), (2, -2), "The expanded size of the tensor (-2) must match the existing size (3) at non-singleton "
                    "dimension 1"),
    ((3,), (-2, 3), "numel: integer multiplication overflow"),
    ((3,), (2, -1), None), ((1, 3), (0, 3), None), ((2, 1), (4, -1, 3), None), ((1, 3), ((2, 3),), None),
], ids=lambda c: f"{c[0]}->{c[1]}")
def test_expand_checks_sizes_as_torch(case):
    shape, sizes, words = case
    same(lambda lib: lib.ones(*shape).expand(*sizes), *((words,) if words else ()))


@pytest.mark.parametrize("case", [
    ((4,), (-2, 2), "invalid shape dimension -2 at index 0 of shape [-2, 2]"),
    ((4,), (2, -3), "invalid shape dimension -3 at index 1 of shape [2, -3]"),
    ((0,), (0, -1), "the unspecified dimension size -1 can be any value and is ambiguous"),
    ((4,), (-1, -1), "only one dimension can be inferred"),
    ((0, 2), (2, -1), None),
], ids=lambda c: f"{c[0]}->{c[1]}")
@pytest.mark.parametrize("method", ["reshape", "view"])
def test_reshape_checks_sizes_as_torch(case, method):
    shape, sizes, words = case
    same(lambda lib: getattr(lib.ones(*shape), method)(*sizes), *((words,) if words else ()))


def test_requires_grad_on_an_integer_tensor_is_refused():
    same(lambda lib: lib.tensor([1, 2], requires_grad=True), "Only Tensors of floating point and complex dtype")
    same(lambda lib: lib.tensor([1, 2]).requires_grad_(), "only Tensors of floating point dtype can require gradients")
    same(lambda lib: lib.tensor([True]).requires_grad_(), "only Tensors of floating point dtype can require gradients")


@pytest.mark.parametrize("case", [
    ((3,), (3, 2), "self must be a matrix"), ((2, 3), (3,), "mat2 must be a matrix"),
    ((2, 2, 3), (3, 2), "self must be a matrix"),
    ((2, 3), (2, 2), "mat1 and mat2 shapes cannot be multiplied (2x3 and 2x2)"),
    ((2, 3), (3, 2), None),
], ids=lambda c: f"{c[0]}@{c[1]}")
def test_mm_takes_matrices_only(case):
    sa, sb, words = case
    same(lambda lib: lib.ones(*sa).mm(lib.ones(*sb)), *((words,) if words else ()))


def test_mm_and_dot_check_dtypes_and_dims_as_torch():
    same(lambda lib: lib.ones(2, 2).mm(lib.ones(2, 2, dtype=lib.float64)), "expected m1 and m2 to have the same dtype, "
         "but got: float != double")
    same(lambda lib: lib.ones(2, 2, dtype=lib.int64).mm(lib.ones(2, 2)), "but got: long int != float")
    same(lambda lib: lib.ones(2, 3).dot(lib.ones(3)), "1D tensors expected, but got 2D and 1D tensors")
    same(lambda lib: lib.ones(2).dot(lib.ones(2, dtype=lib.float64)), "dot : expected both vectors to have same dtype, "
         "but found Float and Double")
    same(lambda lib: lib.ones(2).dot(lib.ones(3)), "inconsistent tensor size, expected tensor [2] and src [3]")
    same(lambda lib: lib.arange(3.0).dot(lib.arange(3.0)))


def test_a_bool_tensor_to_an_integer_power_is_int64():
    same(lambda lib: (lib.tensor([True, False]) ** 2, lib.tensor([True, False]) ** 2.0))


def test_sum_over_no_dims_sums_everything():
    same(lambda lib: (lib.ones(2, 3).sum(dim=[]), lib.ones(2, 3).sum(dim=())))


@pytest.mark.filterwarnings("ignore:Using a non-tuple sequence")
@pytest.mark.parametrize("index", [[[0, 1], [1, 2]], [[0, 1]], [0, [1, 2]], [slice(None), 1], [None], [...], [0, 1]],
                         ids=repr)
def test_a_list_holding_sequences_indexes_like_a_tuple(index):
    def program(lib):
        x = lib.arange(9).reshape(3, 3)
        y = lib.zeros(3, 3)
        y[index] = 1.0
        return x[index], y

    same(program)


def test_a_list_index_used_as_a_tuple_warns_as_torch():
    for lib in (torch, minigrad):
        with pytest.warns(UserWarning, match="Using a non-tuple sequence for multidimensional indexing is deprecated"):
            lib.arange(9).reshape(3, 3)[[[0, 1], [1, 2]]]


@pytest.mark.filterwarnings("ignore:indexing with dtype")
@pytest.mark.parametrize("mask", [[1, 0, 1], [[1, 0, 1], [0, 1, 1], [1, 1, 1]], 1], ids=repr)
def test_a_uint8_index_is_a_mask(mask):
    same(lambda lib: lib.arange(9).reshape(3, 3)[lib.tensor(mask, dtype=lib.uint8)])


def test_a_uint8_mask_warns_and_refuses_to_fill_a_scalar():
    for lib in (torch, minigrad):
        with pytest.warns(UserWarning, match="indexing with dtype .*uint8 is now deprecated"):
            lib.arange(3)[lib.tensor([1, 0, 1], dtype=lib.uint8)]

    def fill(value):
        def program(lib):
            y = lib.zeros(3)
            y[lib.tensor([1, 0, 1], dtype=lib.uint8)] = value(lib)
            return y
        return program

    with pytest.warns(UserWarning):
        same(fill(lambda lib: lib.tensor([2.0, 3.0])))
    same(fill(lambda lib: 1.0), "masked_fill_ only supports boolean masks, but got mask with dtype unsigned char")


@pytest.mark.parametrize("dtype", ["int8", "int16", "float32"])
def test_index_tensors_of_other_dtypes_are_refused(dtype):
    same(lambda lib: lib.arange(3)[lib.tensor([1, 0], dtype=getattr(lib, dtype))],
         "tensors used as indices must be long, int, byte or bool tensors")
    same(lambda lib: lib.arange(3)[lib.tensor([1, 0], dtype=lib.int32)])


def test_comparing_a_tensor_with_none_in_an_if():
    def program(lib):
        t = lib.tensor([1.0, 2.0])
        return "none" if t == None else "tensor"  # noqa: E711 - the comparison under test

    same(program)


@pytest.mark.parametrize("index", ["::-1", ":, ::-1", "::-2, 0"])
def test_a_negative_step_is_refused(index):
    same(lambda lib: eval(f"x[{index}]", {"x": lib.arange(9).reshape(3, 3)}), "step must be greater than zero")

    def write(lib):
        x = lib.zeros(3, 3)
        exec(f"x[{index}] = 1", {"x": x})

    same(write, "step must be greater than zero")


@pytest.mark.parametrize("case", [
    (1, [[0, -1], [1, 2]], RuntimeError, "index -1 is out of bounds for dimension 1 with size 3"),
    (1, [[0, 3], [1, 2]], RuntimeError, "index 3 is out of bounds for dimension 1 with size 3"),
    (0, [[1, -3, 0]], RuntimeError, "index -3 is out of bounds for dimension 0 with size 2"),
    (1, [[0.0]], RuntimeError, "gather(): Expected dtype int32/int64 for index"),
    (1, [0, 1], RuntimeError, "Index tensor must have the same number of dimensions as input tensor"),
    (2, [[0]], IndexError, "Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
    (1, [[0], [0], [0]], RuntimeError, "Size does not match at dimension 0 expected index [3, 1] to be no larger than "
                                       "self [2, 3] apart from dimension 1"),
], ids=lambda c: f"dim{c[0]}-{c[1]}")
def test_gather_checks_its_index_as_torch(case):
    dim, index, kind, words = case
    error = same(lambda lib: lib.gather(lib.arange(6.0).reshape(2, 3), dim, lib.tensor(index)), words)
    assert type(error) is kind


def test_gather_of_valid_indices_and_its_gradient():
    def program(lib):
        g = lib.arange(6.0).reshape(2, 3).requires_grad_()
        out = lib.gather(g, -1, lib.tensor([[2, 2], [0, 1]], dtype=lib.int32))
        out.sum().backward()
        w = lib.tensor(5.0, requires_grad=True)
        lib.gather(w, 0, lib.tensor([0, 0])).sum().backward()
        return out, g.grad, w.grad, lib.gather(lib.tensor([5.0, 6.0]), 0, lib.tensor(1))

    same(program)


# -- 5. Assigning .grad ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", [
    (lambda lib: lib.ones(2), RuntimeError, "attempting to assign a gradient of size '[2]' to a tensor of size '[3]'"),
    (lambda lib: lib.ones(3, 1), RuntimeError, "of size '[3, 1]' to a tensor of size '[3]'"),
    (lambda lib: lib.ones(3, dtype=lib.float64), RuntimeError,
     "attempting to assign a gradient with dtype 'double' to a tensor with grad_dtype 'Float'"),
    (lambda lib: lib.ones(2, dtype=lib.int64), RuntimeError,
     "with dtype 'long int' to a tensor with grad_dtype 'Float'"),
    (lambda lib: np.ones(3), TypeError,
     "assigned grad expected to be a Tensor or None but got grad of type numpy.ndarray"),
    (lambda lib: [1.0, 2.0, 3.0], TypeError, "but got grad of type list"),
    (lambda lib: 1.0, TypeError, "but got grad of type float"),
], ids=["size", "size-2d", "dtype", "dtype-and-size", "ndarray", "list", "float"])
def test_assigning_a_gradient_that_does_not_fit_is_refused(case):
    value, kind, words = case

    def program(lib):
        p = lib.ones(3, requires_grad=True)
        p.grad = value(lib)

    assert type(same(program, words)) is kind


def test_assigning_a_tensor_as_its_own_gradient_is_refused():
    def program(lib):
        p = lib.ones(3, requires_grad=True)
        p.grad = p

    same(program, "can't assign Variable as its own grad")


def test_assigning_fitting_gradients():
    def program(lib):
        p = lib.ones(3, requires_grad=True)
        p.grad = lib.full((3,), 2.0)
        first = p.grad
        (p * 3).sum().backward()
        p.grad = None
        none = p.grad
        p.grad = p.detach() * 5
        p.grad.data = lib.ones(2)  # torch checks the assignment only, not .data
        q = lib.ones(2)
        q.grad = lib.ones(2)
        return first, none, p.grad, q.grad

    same(program)


def test_assigning_a_gradient_on_another_device_is_refused(cuda):
    p = minigrad.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="attempting to assign a gradient with device type 'cuda' to a tensor with "
                                           "device type 'cpu'. Please ensure that the gradient and the tensor are on "
                                           "the same device"):
        p.grad = minigrad.ones(3, device="cuda")


# -- 6. Errors worded as torch's ------------------------------------------------------------------------------------


@pytest.mark.parametrize("call", ["module", "functional", "weight"])
def test_linear_of_a_0_dim_tensor(call):
    def program(lib):
        if call == "module":
            return lib.nn.Linear(1, 2)(lib.tensor(1.0))
        if call == "functional":
            return lib.nn.functional.linear(lib.tensor(1.0), lib.ones(2, 3))
        return lib.nn.functional.linear(lib.ones(3), lib.tensor(1.0))

    same(program, "both arguments to linear need to be at least 1D, but they are")


@pytest.mark.parametrize("reduction", ["max", "min", "argmax"])
def test_reducing_an_empty_dim(reduction):
    error = same(lambda lib: getattr(lib.ones(0, 3), reduction)(dim=0), f"{reduction}(): Expected reduction dim 0 to "
                 "have non-zero size")
    assert type(error) is IndexError
    same(lambda lib: getattr(lib.ones(0, 3), reduction)(dim=1))


@pytest.mark.parametrize("write", ["add_", "iadd", "mul_", "sub_", "div_", "copy_", "clamp_", "relu_", "uniform_",
                                   "column", "ellipsis"])
def test_an_in_place_write_into_an_expanded_tensor(write):
    def program(lib):
        x = lib.ones(3).expand(2, 3)
        if write == "iadd":
            x += 1
        elif write == "copy_":
            x.copy_(lib.zeros(2, 3))
        elif write == "clamp_":
            x.clamp_(0, 0.5)
        elif write == "column":
            x[:, 0] = 5.0
        elif write == "ellipsis":
            x[...] = 5.0
        elif write in ("relu_", "uniform_"):
            getattr(x, write)()
        else:
            getattr(x, write)(2)
        return x

    same(program, "unsupported operation: more than one element of the written-to tensor refers to a single memory "
                  "location. Please clone() the tensor before performing the operation.")


def test_a_recorded_in_place_write_into_an_expanded_tensor():
    def program(lib):
        w = lib.ones(3, requires_grad=True)
        x = (w * 2).expand(2, 3)
        x.add_(1)

    same(program, "more than one element of the written-to tensor refers to a single memory location")


@pytest.mark.parametrize("value", [[[1.0, 2.0], [3.0]], [[1.0, 2.0], [3.0, 4.0]], np.ones((2, 2))], ids=repr)
def test_load_state_dict_of_a_value_that_is_not_a_tensor(value):
    def program(lib):
        lib.nn.Linear(2, 2).load_state_dict({"weight": value, "bias": lib.zeros(2)})

    same(program, "While copying the parameter named \"weight\", expected", "Tensor or Tensor-like object from "
         "checkpoint but received")


@pytest.mark.parametrize("write", ["fill_", "zero_", "setitem", "add_", "add_ unexpanded"])
def test_writes_into_an_expanded_tensor_as_torch(write):
    # torch writes values through an expanded tensor (every element sharing a location gets the value) but
    # refuses arithmetic in place there; an expand that broadcasts nothing is an ordinary view.
    def program(lib):
        x = lib.ones(2, 3).expand(2, 3) if write == "add_ unexpanded" else lib.ones(3).expand(2, 3)
        if write == "fill_":
            x.fill_(2.0)
        elif write == "zero_":
            x.zero_()
        elif write == "setitem":
            x[0] = lib.tensor([5.0, 6.0, 7.0])
        else:
            x.add_(1)
        return x.tolist()

    try:
        expected = program(torch)
    except RuntimeError as exc:
        with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
            program(minigrad)
        assert "more than one element" in str(exc)
        return
    assert program(minigrad) == expected
