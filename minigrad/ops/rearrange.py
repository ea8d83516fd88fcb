"""Shape and indexing ops torch has besides the basic ones: split and its kin, flip, roll, repeat, masked and
scattered writes, index_select. Most are compositions of indexing, reshape, expand and where, whose backwards
are already written (so every order of derivative works); ``Flip`` and ``Roll`` are ops of their own, whose
backward is the same op run the other way."""

from __future__ import annotations

import math
from typing import Any

import numpy

from .._backend import xp_of
from ..autograd.graph import TensorBase, named
from ._base import Op, as_tensor_like, run
from .elementwise import Where
from .indexing import GetItem, IndexPut, along_axis
from .shape import Expand, Reshape, _dim, _shape_arg, reshape


def array_module(x: Any) -> Any:
    """NumPy or CuPy for an array or a tensor (never the recorded namespace): for making constants."""
    return xp_of(getattr(x, "_data", x))


def const_like(like: Any, array: Any) -> Any:
    """``array`` as a constant next to ``like``: a tensor in a recorded backward, else the array itself."""
    return like._wrap(array) if isinstance(like, TensorBase) else array


class Flip(Op):
    """The elements in reverse order along ``axes`` (a copy, as torch's)."""

    grad_kinds = ("new",)

    @staticmethod
    def forward(ctx, a, axes):
        ctx.axes = axes
        return xp_of(a).flip(a, axes).copy()

    @staticmethod
    def backward(ctx, g):
        return run(Flip, g, ctx.axes)


class Roll(Op):
    """The elements shifted along ``axes`` by ``shifts``, wrapping around (``axes`` None: the flattened tensor)."""

    grad_kinds = ("new",)

    @staticmethod
    def forward(ctx, a, shifts, axes):
        ctx.args = (shifts, axes)
        return xp_of(a).roll(a, shifts, axes)

    @staticmethod
    def backward(ctx, g):
        shifts, axes = ctx.args
        back = -shifts if isinstance(shifts, int) else tuple(-s for s in shifts)
        return run(Roll, g, back, axes)


def flip(input: TensorBase, *args: Any, dims: Any = None) -> TensorBase:
    dims = _shape_arg(args, dims, "dims")
    n = input._data.ndim
    axes = tuple(_dim(d, max(n, 1)) for d in dims)
    if len(set(axes)) != len(axes):
        repeated = next(ax for ax in axes if axes.count(ax) > 1)
        raise RuntimeError(f"dim {repeated} appears multiple times in the list of dims")
    if n == 0:
        return named(Flip.apply(input, ()), "FlipBackward0")
    return named(Flip.apply(input, axes), "FlipBackward0")


def roll(input: TensorBase, shifts: Any, dims: Any = None) -> TensorBase:
    n = input._data.ndim
    if dims is None:
        if isinstance(shifts, (tuple, list)):
            if len(shifts) != 1:
                raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
            shifts = shifts[0]
        return named(Roll.apply(input, int(shifts), None), "RollBackward0")
    shifts_t = tuple(shifts) if isinstance(shifts, (tuple, list)) else (shifts,)
    dims_t = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    if len(shifts_t) != len(dims_t):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts_t)}, dims:{len(dims_t)}")
    axes = tuple(_dim(d, max(n, 1)) for d in dims_t)
    if n == 0:
        return named(Roll.apply(input, 0, None), "RollBackward0")
    return named(Roll.apply(input, tuple(int(s) for s in shifts_t), axes), "RollBackward0")


# -- pieces of a tensor: views along one dim -----------------------------------------------------------------------
def _slice_along(a: TensorBase, axis: int, start: int, stop: int) -> TensorBase:
    return a[(slice(None),) * axis + (slice(start, stop),)]


def split(tensor: TensorBase, split_size_or_sections: Any, dim: int = 0) -> tuple:
    n = tensor._data.ndim
    axis = _dim(dim, max(n, 1))
    if n == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    size = tensor._data.shape[axis]
    if isinstance(split_size_or_sections, (int, numpy.integer)) or (
            isinstance(split_size_or_sections, TensorBase) and split_size_or_sections._data.ndim == 0):
        step = int(split_size_or_sections)
        if step < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got split_size={step}")
        if step == 0:
            if size != 0:
                raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of "
                                   f"{size}")
            return (_slice_along(tensor, axis, 0, 0),)
        return tuple(_slice_along(tensor, axis, lo, min(lo + step, size)) for lo in range(0, max(size, 1), step))
    sizes = [int(s) for s in split_size_or_sections]
    if sum(sizes) != size or any(s < 0 for s in sizes):
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's size at "
                           f"dimension {axis}), but got split_sizes={sizes}")
    out, lo = [], 0
    for s in sizes:
        out.append(_slice_along(tensor, axis, lo, lo + s))
        lo += s
    return tuple(out)


def split_method(a: TensorBase, split_size: Any, dim: int = 0) -> tuple:
    return split(a, split_size, dim)


def chunk(input: TensorBase, chunks: int, dim: int = 0) -> tuple:
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    if input._data.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    size = input._data.shape[_dim(dim, input._data.ndim)]
    return split(input, -(-size // chunks), dim)


def unbind(input: TensorBase, dim: int = 0) -> tuple:
    n = input._data.ndim
    if n == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    axis = _dim(dim, n)
    return tuple(input[(slice(None),) * axis + (i,)] for i in range(input._data.shape[axis]))


def narrow(input: TensorBase, dim: int, start: Any, length: int) -> TensorBase:
    n = input._data.ndim
    if n == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    axis = _dim(dim, n)
    size = input._data.shape[axis]
    start = int(start)
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], but got {start})")
    if start < 0:
        start += size
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return _slice_along(input, axis, start, start + length)


def unflatten(input: TensorBase, dim: int, sizes: Any) -> TensorBase:
    shape = input._data.shape
    axis = _dim(dim, max(len(shape), 1))
    sizes = [int(s) for s in sizes]
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    if sizes.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = math.prod(s for s in sizes if s != -1)
    if -1 in sizes:
        if known == 0 or shape[axis] % known:
            raise RuntimeError(f"shape '{sizes}' is invalid for input of size {shape[axis]}")
        sizes[sizes.index(-1)] = shape[axis] // known
    elif known != shape[axis]:
        raise RuntimeError(f"unflatten: Provided sizes {sizes} don't multiply up to the size of dim {axis} "
                           f"({shape[axis]}) in the input tensor")
    return named(reshape(input, shape[:axis] + tuple(sizes) + shape[axis + 1:]), "ViewBackward0")


# -- repeating -----------------------------------------------------------------------------------------------------
def repeat(a: TensorBase, *args: Any, repeats: Any = None) -> TensorBase:
    sizes = tuple(int(s) for s in _shape_arg(args, repeats, "repeats"))
    shape = a._data.shape
    if len(sizes) < len(shape):
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of "
                           "tensor")
    for s in sizes:
        if s < 0:
            target = [r * n for r, n in zip(sizes, (1,) * (len(sizes) - len(shape)) + shape)]
            raise RuntimeError(f"Trying to create tensor with negative dimension {min(target)}: {target}")
    full = (1,) * (len(sizes) - len(shape)) + shape
    interleaved = tuple(x for n in full for x in (1, n))
    expanded = tuple(x for r, n in zip(sizes, full) for x in (r, n))
    out = Expand.apply(Reshape.apply(a, interleaved), expanded)
    return named(Reshape.apply(out, tuple(r * n for r, n in zip(sizes, full))), "RepeatBackward0")


def tile(input: TensorBase, dims: Any, *more: Any) -> TensorBase:
    dims = tuple(int(d) for d in ((dims,) + more if more or isinstance(dims, int) else dims))
    n = input._data.ndim
    if len(dims) < n:
        dims = (1,) * (n - len(dims)) + dims
    return repeat(input, dims)


def repeat_interleave(input: TensorBase, repeats: Any = None, dim: int | None = None, *,
                      output_size: int | None = None) -> TensorBase:
    xp = xp_of(input._data)
    if repeats is None:  # torch.repeat_interleave(counts): each index as often as its count
        counts = input._data
        if counts.ndim != 1:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        return input._wrap(xp.repeat(xp.arange(counts.shape[0]), counts))
    if dim is None:
        input, axis = input.reshape(-1), 0
    else:
        axis = _dim(dim, max(input._data.ndim, 1))
        if input._data.ndim == 0:
            input = input.reshape(1)
    n = input._data.shape[axis]
    if isinstance(repeats, TensorBase):
        reps = repeats._data
        if reps.ndim > 1:
            raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
        if reps.ndim == 1 and reps.shape[0] not in (1, n):
            raise RuntimeError(f"repeats must have the same size as input along dim, but got repeats.size(0) = "
                               f"{reps.shape[0]} and input.size({axis}) = {n}")
        reps = reps.reshape(-1)
        if reps.shape[0] == 1:
            reps = int(reps[0])
    else:
        reps = int(repeats)
    if bool((xp.asarray(reps) < 0).any()):
        raise RuntimeError("repeats can not be negative")
    idx = xp.repeat(xp.arange(n), reps)
    return named(GetItem.apply(input, (slice(None),) * axis + (idx,)), "IndexSelectBackward0")


# -- selecting and writing with masks and indices ------------------------------------------------------------------
def _torch_type_name(t: TensorBase) -> str:
    names = {"float64": "double", "float32": "float", "float16": "c10::Half", "int64": "long int", "int32": "int",
             "int16": "short int", "int8": "signed char", "uint8": "unsigned char", "bool": "bool"}
    return names.get(t._data.dtype.name, t._data.dtype.name)


def masked_fill(a: TensorBase, mask: TensorBase, value: Any) -> TensorBase:
    if not isinstance(mask, TensorBase):
        raise TypeError(f"masked_fill(): argument 'mask' (position 1) must be Tensor, not {type(mask).__name__}")
    if mask._data.dtype != numpy.bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{_torch_type_name(mask).replace('double', 'double').replace('long int', 'long int')}")
    if isinstance(value, TensorBase):
        if value._data.ndim != 0:
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value._data.ndim} dimension(s).")
        if value._data.dtype != a._data.dtype:
            value = value.to(a.dtype)
    else:
        value = as_tensor_like(numpy.asarray(value).astype(a._data.dtype), a)
    shape = numpy.broadcast_shapes(a._data.shape, mask._data.shape)
    if shape != a._data.shape:
        raise RuntimeError(f"The size of tensor a ({a._data.shape[-1] if a._data.ndim else 1}) must match the size "
                           f"of tensor b ({mask._data.shape[-1]}) at non-singleton dimension "
                           f"{len(shape) - 1}")
    return named(Where.apply(mask, value, a), "MaskedFillBackward0")


def masked_select(input: TensorBase, mask: TensorBase) -> TensorBase:
    if not isinstance(mask, TensorBase):
        raise TypeError(f"masked_select(): argument 'mask' (position 1) must be Tensor, not {type(mask).__name__}")
    if mask._data.dtype != numpy.bool_:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    shape = numpy.broadcast_shapes(input._data.shape, mask._data.shape)
    if shape != input._data.shape:
        input = Expand.apply(input, shape)
    m = xp_of(mask._data).broadcast_to(mask._data, shape)
    return named(GetItem.apply(input, m), "MaskedSelectBackward0")


def _index_arg(index: Any, name: str) -> Any:
    if not isinstance(index, TensorBase):
        raise TypeError(f"{name}(): argument 'index' must be Tensor, not {type(index).__name__}")
    idx = index._data
    if idx.dtype.kind != "i" or idx.dtype.itemsize < 4:
        raise RuntimeError(f"{name}(): Expected dtype int64 for index" if name != "index_select" else
                           "index_select(): Expected dtype int32 or int64 for index")
    return idx


def index_select(input: TensorBase, dim: int, index: TensorBase) -> TensorBase:
    idx = _index_arg(index, "index_select")
    if idx.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    n = input._data.ndim
    axis = _dim(dim, max(n, 1))
    if n == 0:
        if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= 1):
            raise IndexError("index out of range in self")
        return named(GetItem.apply(input.reshape(1), idx.reshape(-1)).reshape(idx.shape), "IndexSelectBackward0")
    size = input._data.shape[axis]
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= size):
        raise IndexError("index out of range in self")
    return named(GetItem.apply(input, (slice(None),) * axis + (idx.reshape(-1),)), "IndexSelectBackward0")


def take_along_dim(input: TensorBase, indices: TensorBase, dim: int | None = None) -> TensorBase:
    idx = _index_arg(indices, "take_along_dim")
    if dim is None:
        flat = input.reshape(-1)
        i = idx.reshape(-1)
        if i.size and (int(i.min()) < -flat._data.shape[0] or int(i.max()) >= flat._data.shape[0]):
            raise IndexError("index out of range in self")
        return named(GetItem.apply(flat, i % max(flat._data.shape[0], 1)), "TakeAlongDimBackward0")
    n = input._data.ndim
    if idx.ndim != n:
        raise RuntimeError("torch.take_along_dim(): input and indices should have the same number of dimensions, "
                           f"but got {n} dimensions for input, and {idx.ndim} dimensions for indices")
    axis = _dim(dim, max(n, 1))
    xp = xp_of(idx)
    a_shape, i_shape = list(input._data.shape), list(idx.shape)
    a_shape[axis] = i_shape[axis] = 1
    common = numpy.broadcast_shapes(tuple(a_shape), tuple(i_shape))
    target_a = tuple(input._data.shape[axis] if d == axis else s for d, s in enumerate(common))
    target_i = tuple(idx.shape[axis] if d == axis else s for d, s in enumerate(common))
    if target_a != input._data.shape:
        input = Expand.apply(input, target_a)
    idx = xp.broadcast_to(idx, target_i)
    size = target_a[axis]
    if idx.size and (int(idx.min()) < -size or int(idx.max()) >= size):
        raise RuntimeError(f"index {int(idx.max())} is out of bounds for dimension {axis} with size {size}")
    return named(GetItem.apply(input, along_axis(idx % max(size, 1), axis)), "TakeAlongDimBackward0")


def _scatter_parts(a: TensorBase, dim: int, index: Any, src: Any, name: str) -> tuple:
    """The positions ``index`` addresses in ``a`` and the values of ``src`` written there (``src``'s leading
    block of ``index``'s shape), with torch's checks."""
    idx = _index_arg(index, name)
    n = a._data.ndim
    axis = _dim(dim, max(n, 1))
    if idx.ndim != n and not (n <= 1 and idx.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    shape = a._data.shape or (1,)
    idx = idx.reshape(-1) if n == 0 else idx
    for d in range(n):
        if d != axis and idx.shape[d] > shape[d]:
            raise RuntimeError(f"Expected index {list(idx.shape)} to be no larger than self {list(a._data.shape)} "
                               f"apart from dimension {axis}")
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= shape[axis]):
        flat = idx.reshape(-1)
        bad = int(flat[((flat < 0) | (flat >= shape[axis])).argmax()])
        raise RuntimeError(f"index {bad} is out of bounds for dimension {axis} with size {shape[axis]}")
    if isinstance(src, TensorBase):
        if src._data.dtype != a._data.dtype:
            raise RuntimeError(f"{name}(): Expected self.dtype to be equal to src.dtype")
        s = src.reshape(-1) if src._data.ndim == 0 else src
        if s._data.ndim != idx.ndim:
            raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
        for d in range(idx.ndim):
            if idx.shape[d] > s._data.shape[d]:
                raise RuntimeError(f"Expected index {list(idx.shape)} to be no larger than src "
                                   f"{list(s._data.shape)} apart from dimension {axis}" if d != axis else
                                   f"Expected index {list(idx.shape)} to be no larger than src "
                                   f"{list(s._data.shape)}")
        if s._data.shape != idx.shape:
            s = s[tuple(slice(0, k) for k in idx.shape)]
    else:
        s = as_tensor_like(xp_of(a._data).full(idx.shape, src, dtype=a._data.dtype), a)
    flat_a = a.reshape(-1) if n == 0 else a
    return flat_a, along_axis(idx, axis), s


def scatter(input: TensorBase, dim: int, index: TensorBase, src: Any = None, *, value: Any = None,
            reduce: str | None = None) -> TensorBase:
    """A copy of ``input`` with ``src`` (or ``value``) written at ``index`` along ``dim``, as torch.scatter.

    Differs from torch: ``reduce="multiply"`` raises NotImplementedError; ``reduce="add"`` works.
    """
    if src is None:
        src = value
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise RuntimeError(f"reduce argument must be either add or multiply. Got {reduce}")
        if reduce == "add":
            if not isinstance(src, TensorBase):
                src = as_tensor_like(xp_of(input._data).full(index._data.shape, src, dtype=input._data.dtype), input)
            return scatter_add(input, dim, index, src)
        raise NotImplementedError("minigrad's scatter has no reduce='multiply'")
    target, positions, s = _scatter_parts(input, dim, index, src, "scatter")
    xp = xp_of(input._data)
    mask = xp.zeros(target._data.shape, dtype=bool)
    mask[positions] = True
    put = IndexPut.apply(s, target._data.shape, positions, False)
    out = Where.apply(as_tensor_like(mask, input), put, target)
    return named(out.reshape(input._data.shape) if input._data.ndim == 0 else out,
                 "ScatterBackward0" if isinstance(src, TensorBase) else "ScatterBackward1")


def scatter_add(input: TensorBase, dim: int, index: TensorBase, src: TensorBase) -> TensorBase:
    if not isinstance(src, TensorBase):
        raise TypeError(f"scatter_add(): argument 'src' (position 3) must be Tensor, not {type(src).__name__}")
    target, positions, s = _scatter_parts(input, dim, index, src, "scatter_add")
    out = target + IndexPut.apply(s, target._data.shape, positions, True)
    return named(out.reshape(input._data.shape) if input._data.ndim == 0 else out, "ScatterAddBackward0")
