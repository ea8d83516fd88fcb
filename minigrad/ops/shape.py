"""Ops that only rearrange elements: their backward rearranges the gradient the other way."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy

from .. import _dtype
from .._backend import xp_of
from ..autograd.graph import TensorBase, named
from ._base import Op
from .indexing import _address
from .reduction import UNSET, dim_alias


def _shape_arg(args: tuple, keyword: Any = None, name: str = "shape") -> tuple:
    """Sizes or dims as torch takes them: ``view(2, 3)``, ``view((2, 3))``, or by keyword (``view(size=(2, 3))``)."""
    if keyword is not None:
        if args:
            raise TypeError(f"got multiple values for argument '{name}'")
        args = (keyword,)
    return tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else tuple(args)


class Reshape(Op):
    grad_kinds = ("view",)
    returns_view = True

    @staticmethod
    def forward(ctx, a, shape):
        ctx.source_shape = a.shape
        try:
            return a.reshape(shape)
        except ValueError:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {a.size}") from None

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.source_shape)


class Permute(Op):
    grad_kinds = ("view",)
    returns_view = True

    @staticmethod
    def forward(ctx, a, axes):
        ctx.axes = axes
        return a.transpose(axes)

    @staticmethod
    def backward(ctx, g):
        inverse = [0] * len(ctx.axes)
        for i, ax in enumerate(ctx.axes):
            inverse[ax] = i
        return xp_of(g).transpose(g, inverse)


class Expand(Op):
    grad_kinds = ("pass",)
    returns_view = True

    @staticmethod
    def forward(ctx, a, shape):
        if tuple(shape) == a.shape:  # nothing to broadcast: a plain (writable) view, as torch's
            return a.view()
        return xp_of(a).broadcast_to(a, shape)

    @staticmethod
    def backward(ctx, g):
        return g  # the autograd base sums it back to the input's shape


class Cat(Op):
    @staticmethod
    def forward(ctx, axis, *arrays):
        ctx.axis = axis
        ctx.sizes = [a.shape[axis] for a in arrays]
        return xp_of(arrays[0]).concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, g):
        bounds = list(itertools.accumulate(ctx.sizes[:-1]))  # where each input starts, computed on the host
        return (None, *xp_of(g).split(g, bounds, axis=ctx.axis))


class Stack(Op):
    @staticmethod
    def forward(ctx, axis, *arrays):
        ctx.axis = axis
        return xp_of(arrays[0]).stack(arrays, axis=axis)

    @staticmethod
    def backward(ctx, g):
        xp = xp_of(g)
        return (None, *(xp.take(g, i, axis=ctx.axis) for i in range(g.shape[ctx.axis])))


def _dim(d: int, ndim: int) -> int:
    if not -ndim <= d < ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but got {d})")
    return d % ndim


def reshape(input: TensorBase, *sizes: Any, shape: Any = None) -> TensorBase:
    return named(Reshape.apply(input, _infer(_shape_arg(sizes, shape), input._data.size)), "ViewBackward0")


def _infer(shape: tuple, size: int) -> tuple:
    shape = tuple(int(s) for s in shape)
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    for i, s in enumerate(shape):
        if s < -1:
            raise RuntimeError(f"invalid shape dimension {s} at index {i} of shape {list(shape)}")
    if size == 0 and -1 in shape and 0 in shape:
        raise RuntimeError(f"cannot reshape tensor of 0 elements into shape {list(shape)} because the unspecified "
                           "dimension size -1 can be any value and is ambiguous")
    return shape


def view(a: TensorBase, *sizes: Any, size: Any = None, dtype: Any = None) -> TensorBase:
    if dtype is not None or (len(sizes) == 1 and type(sizes[0]) is _dtype.dtype):
        return view_dtype(a, sizes, dtype)
    shape = _shape_arg(sizes, size, "size")
    data = a._data
    if not data.flags.c_contiguous:
        shape = _infer(shape, data.size)
        if not _viewable(data, shape):
            raise RuntimeError("view size is not compatible with input tensor's size and stride (at least one "
                               "dimension spans across two contiguous subspaces). Use .reshape(...) instead.")
        return named(Reshape.apply(a, shape), "ViewBackward0")
    return reshape(a, shape)


def view_dtype(a: TensorBase, sizes: tuple, dtype: Any = None) -> TensorBase:
    """``a.view(dtype)``: ``a``'s bytes read as ``dtype``, in the same memory, as torch's. With a different element
    size the last dim (which must be contiguous) grows or shrinks by the ratio of the sizes. As in torch, the
    result never requires grad and is not a view for autograd (no ``_base``), but it shares ``a``'s version
    counter: a write through either is seen in both and counted in both."""
    if dtype is not None and (sizes or not isinstance(dtype, _dtype.dtype)) or len(sizes) > 1:
        got = ", ".join(type(v).__name__ for v in sizes) or type(dtype).__name__
        raise TypeError(f"view() received an invalid combination of arguments - got ({got}), but expected one of:\n"
                        " * (torch.dtype dtype)\n * (tuple of ints size)\n")
    new = sizes[0] if dtype is None else dtype
    data = a._data
    old_size, new_size = data.dtype.itemsize, new.itemsize
    if old_size != new_size:
        names = _dtype.SCALAR_TYPE_NAMES
        how = f"to view {names[a.dtype.name]} as {names[new.name]} (different element sizes)"
        if data.ndim == 0:
            raise RuntimeError(f"self.dim() cannot be 0 {how}")
        strides = a.stride()
        if strides[-1] != 1:
            raise RuntimeError(f"self.stride(-1) must be 1 {how}, but got {strides[-1]}")
        if new_size > old_size:
            ratio = new_size // old_size
            if data.shape[-1] % ratio:
                raise RuntimeError(f"self.size(-1) must be divisible by {ratio} {how}, but got {data.shape[-1]}")
            offset = a.storage_offset()
            if offset % ratio:
                raise RuntimeError(f"self.storage_offset() must be divisible by {ratio} {how}, but got {offset}")
            for i in range(data.ndim - 1):
                if strides[i] % ratio:
                    raise RuntimeError(f"self.stride({i}) must be divisible by {ratio} {how}, but got {strides[i]}")
        if data.size == 0:
            shape = data.shape[:-1] + (data.shape[-1] * old_size // new_size,)
            out = xp_of(data).empty(shape, dtype=new.np)
        else:
            out = data.view(new.np)
    else:
        out = data.view(new.np)
    t = a._wrap(out)
    t._vc = a._version_counter()
    return t


def _viewable(data: Any, shape: tuple) -> bool:
    """Whether ``data`` takes ``shape`` without a copy (a shape that does not fit is left to Reshape's error)."""
    try:
        out = data.reshape(shape)
    except ValueError:
        return True
    return out.size == 0 or _address(out) == _address(data) and out.base is not None


def flatten(input: TensorBase, start_dim: int = 0, end_dim: int = -1) -> TensorBase:
    shape = input._data.shape
    if not shape:
        return reshape(input, 1)
    s, e = _dim(start_dim, len(shape)), _dim(end_dim, len(shape))
    n = 1
    for k in shape[s:e + 1]:
        n *= k
    return reshape(input, shape[:s] + (n,) + shape[e + 1:])


def permute(input: TensorBase, *args: Any, dims: Any = None) -> TensorBase:
    dims = _shape_arg(args, dims, "dims")
    if len(dims) != input._data.ndim:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
                           f"length of the desired ordering of dimensions i.e. input.dim() = {input._data.ndim} is "
                           f"not equal to len(dims) = {len(dims)}")
    axes = tuple(_dim(d, input._data.ndim) for d in dims)
    if len(set(axes)) != len(axes):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return Permute.apply(input, axes)


def transpose(input: TensorBase, dim0: int, dim1: int) -> TensorBase:
    n = input._data.ndim
    if n == 0:  # torch accepts dims 0 and -1 on a 0-dim tensor
        _dim(dim0, 1)
        _dim(dim1, 1)
        return Permute.apply(input, ())
    axes = list(range(n))
    d0, d1 = _dim(dim0, n), _dim(dim1, n)
    axes[d0], axes[d1] = axes[d1], axes[d0]
    return named(Permute.apply(input, tuple(axes)), "TransposeBackward0")


def t(input: TensorBase) -> TensorBase:
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input._data.ndim}D")
    return input if input._data.ndim < 2 else named(transpose(input, 0, 1), "TBackward0")


def unsqueeze(input: TensorBase, dim: Any = UNSET, *, axis: Any = UNSET) -> TensorBase:
    dim = dim_alias("unsqueeze", dim, axis, UNSET)
    if dim is UNSET:
        raise TypeError('unsqueeze() missing 1 required positional arguments: "dim"')
    d = _dim(dim, input._data.ndim + 1)
    shape = input._data.shape
    return named(reshape(input, shape[:d] + (1,) + shape[d:]), "UnsqueezeBackward0")


def squeeze(input: TensorBase, dim: Any = None, *, axis: Any = UNSET) -> TensorBase:
    dim = dim_alias("squeeze", dim, axis)
    shape = input._data.shape
    if dim is None:
        return named(reshape(input, tuple(s for s in shape if s != 1)), "SqueezeBackward0")
    dims = {_dim(d, max(len(shape), 1)) for d in ((dim,) if isinstance(dim, int) else dim)}
    squeezed = reshape(input, tuple(s for i, s in enumerate(shape) if not (i in dims and s == 1)))
    return named(squeezed, "SqueezeBackward1" if isinstance(dim, int) else "SqueezeBackward2")


def expand(a: TensorBase, *sizes: Any, size: Any = None) -> TensorBase:
    shape = _shape_arg(sizes, size, "size")
    source = a._data.shape
    lead = len(shape) - len(source)
    if lead < 0:
        raise RuntimeError(f"expand(minigrad.{_dtype.SCALAR_TYPE_NAMES[a.dtype.name]}Tensor{{{list(source)}}}, "
                           f"size={list(shape)}): the number of sizes provided ({len(shape)}) must be greater or "
                           f"equal to the number of dimensions in the tensor ({len(source)})")
    full = []
    for i, s in enumerate(shape):
        if i < lead:
            if s < 0:  # torch: -1 is not allowed there; other negatives overflow its element count
                raise RuntimeError(f"The expanded size of the tensor ({s}) isn't allowed in a leading, non-existing "
                                   f"dimension {i}" if s == -1 else "numel: integer multiplication overflow")
        elif s == -1:
            s = source[i - lead]
        elif s != source[i - lead] and source[i - lead] != 1:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing size "
                               f"({source[i - lead]}) at non-singleton dimension {i}.  Target sizes: {list(shape)}.  "
                               f"Tensor sizes: {list(source)}")
        elif s < 0:
            raise RuntimeError("numel: integer multiplication overflow")
        full.append(s)
    return Expand.apply(a, tuple(full))


def _common_dtype(tensors: list) -> list:
    """torch's cat and stack promote mixed dtypes: a float dtype wins over integers, then the widest one."""
    dtypes = {t._data.dtype for t in tensors}
    if len(dtypes) == 1:
        return tensors
    floats = [d for d in dtypes if d.kind == "f"]
    target = _dtype.from_numpy_dtype(numpy.result_type(*(floats or dtypes)))  # dtypes only, no tensor data
    return [t.to(target) for t in tensors]


def cat(tensors: Sequence[TensorBase], dim: int = 0, *, axis: Any = UNSET) -> TensorBase:
    dim = dim_alias("cat", dim, axis, 0)
    tensors = list(tensors)
    if not tensors:
        raise ValueError("minigrad.cat(): expected a non-empty list of Tensors")  # torch's type and text
    first = tensors[0]._data.shape
    axis = _dim(dim, len(first))
    for i, t_ in enumerate(tensors):  # torch's errors, not NumPy's ValueError
        shape = t_._data.shape
        if len(shape) != len(first):
            raise RuntimeError(f"Tensors must have same number of dimensions: got {len(first)} and {len(shape)}")
        for d, (s0, s) in enumerate(zip(first, shape)):
            if d != axis and s != s0:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {axis}. Expected size {s0} "
                                   f"but got size {s} for tensor number {i} in the list.")
    return Cat.apply(axis, *_common_dtype(tensors))


def stack(tensors: Sequence[TensorBase], dim: int = 0, *, axis: Any = UNSET) -> TensorBase:
    dim = dim_alias("stack", dim, axis, 0)
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    first = tensors[0]._data.shape
    for i, t_ in enumerate(tensors):
        if t_._data.shape != first:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(first)} at entry 0 and "
                               f"{list(t_._data.shape)} at entry {i}")
    return Stack.apply(_dim(dim, len(first) + 1), *_common_dtype(tensors))
