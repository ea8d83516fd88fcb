"""Convolution and pooling over images, made of im2col: ``conv2d``, ``max_pool2d``, ``avg_pool2d``,
``adaptive_avg_pool2d``, ``unfold`` and ``fold``.

``Im2Col`` copies every window of an image (N, C, H, W) into a column: its output (N, C*kh*kw, L) has
one column per output position (L of them), as torch's ``unfold``. A convolution is then one matrix
product, ``weight (O, C*kh*kw) @ columns``, and average pooling a sum over each column. ``Col2Im``
(torch's ``fold``) goes the other way: it adds each column back into the window it came from. The two
are each other's backward, so a recorded backward of either is the other op, and gradients of any order
follow; ``conv2d`` needs no backward of its own (matmul, reshape and add have theirs).

Max pooling is one op: its forward keeps, for each output, the position of the maximum in the input;
its backward puts the gradient there (``IndexPut``, whose own backward reads it back).
"""

from __future__ import annotations

from typing import Any

import numpy

from .. import _autocast, _dtype
from .._backend import xp_of
from ..autograd.graph import TensorBase, named
from ._base import Op, run
from .indexing import GetItem, IndexPut
from .linalg import _autocast_inputs, matmul

# The geometry of a sliding window over (H, W), shared by the ops below:
# (kernel, dilation, padding, stride, out_size), each a pair (rows, columns).


def _padded_size(size: int, k: int, d: int, p: int, s: int, out: int) -> int:
    """The rows (or columns) of the padded image the windows read: ``p`` on each side, more on the far
    side where a window of ceil mode or of ``padding='same'`` reaches past it."""
    return max(size + 2 * p, (out - 1) * s + d * (k - 1) + 1)


def _padded(x: Any, geometry: tuple, fill: float) -> Any:
    """``x`` (N, C, H, W) inside a border of ``fill``; ``x`` itself when no border is needed."""
    (kh, kw), (dh, dw), (ph, pw), (sh, sw), (oh, ow) = geometry
    n, c, h, w = x.shape
    hp, wp = _padded_size(h, kh, dh, ph, sh, oh), _padded_size(w, kw, dw, pw, sw, ow)
    if (hp, wp) == (h, w):
        return x
    xp = xp_of(x)
    out = xp.full((n, c, hp, wp), fill, dtype=x.dtype)
    out[:, :, ph:ph + h, pw:pw + w] = x
    return out


def _window(geometry: tuple, i: int, j: int) -> tuple:
    """The index of the image's elements at kernel position (i, j), for every output position."""
    _, (dh, dw), _, (sh, sw), (oh, ow) = geometry
    return (slice(None), slice(None), slice(i * dh, i * dh + sh * (oh - 1) + 1, sh),
            slice(j * dw, j * dw + sw * (ow - 1) + 1, sw))


class Im2Col(Op):
    """Every window of ``x`` (N, C, H, W) as a column: (N, C*kh*kw, oh*ow), zeros where it reads padding."""

    @staticmethod
    def forward(ctx, x, geometry):
        ctx.geometry, ctx.in_size = geometry, x.shape[2:]
        (kh, kw), _, _, _, (oh, ow) = geometry
        n, c = x.shape[:2]
        padded = _padded(x, geometry, 0)
        cols = xp_of(x).empty((n, c, kh, kw, oh, ow), dtype=x.dtype)
        for i in range(kh):
            for j in range(kw):
                cols[:, :, i, j] = padded[_window(geometry, i, j)]
        return cols.reshape(n, c * kh * kw, oh * ow)

    @staticmethod
    def backward(ctx, g):
        return run(Col2Im, g, ctx.in_size, ctx.geometry), None


class Col2Im(Op):
    """Each column of ``cols`` (N, C*kh*kw, oh*ow) added back into its window of an (N, C, H, W) image."""

    @staticmethod
    def forward(ctx, cols, in_size, geometry):
        ctx.geometry = geometry
        (kh, kw), (dh, dw), (ph, pw), (sh, sw), (oh, ow) = geometry
        h, w = in_size
        n = cols.shape[0]
        c = cols.shape[1] // (kh * kw)
        xp = xp_of(cols)
        size = (n, c, _padded_size(h, kh, dh, ph, sh, oh), _padded_size(w, kw, dw, pw, sw, ow))
        padded = xp.zeros(size, dtype=cols.dtype)
        windows = cols.reshape(n, c, kh, kw, oh, ow)
        for i in range(kh):
            for j in range(kw):
                padded[_window(geometry, i, j)] += windows[:, :, i, j]
        if padded.shape[2:] == (h, w):
            return padded
        return xp.ascontiguousarray(padded[:, :, ph:ph + h, pw:pw + w])

    @staticmethod
    def backward(ctx, g):
        return run(Im2Col, g, ctx.geometry), None, None


class MaxPool2d(Op):
    """The maximum of each window of ``x`` (N, C, H, W), and (a second output, without gradient) its position
    ``row * W + column`` in the input, as torch's ``return_indices``. Of equal values the first is taken."""

    @staticmethod
    def forward(ctx, x, geometry):
        (kh, kw), (dh, dw), (ph, pw), (sh, sw), (oh, ow) = geometry
        n, c, h, w = x.shape
        xp = xp_of(x)
        low = -numpy.inf if x.dtype.kind == "f" else numpy.iinfo(x.dtype).min
        padded = _padded(x, geometry, low)
        best = padded[_window(geometry, 0, 0)].copy()
        arg = xp.zeros(best.shape, dtype=numpy.int64)
        nan = x.dtype.kind == "f" and bool(xp.isnan(x).any())
        for k in range(1, kh * kw):
            values = padded[_window(geometry, k // kw, k % kw)]
            better = values > best
            if nan:
                better |= xp.isnan(values) & ~xp.isnan(best)  # NaN wins, as in torch
            xp.copyto(best, values, where=better)
            xp.copyto(arg, k, where=better)
        rows = xp.arange(oh).reshape(oh, 1) * sh - ph + (arg // kw) * dh
        cols = xp.arange(ow) * sw - pw + (arg % kw) * dw
        index = rows * w + cols
        ctx.in_shape = x.shape
        ctx.overlap = sh < dh * (kh - 1) + 1 or sw < dw * (kw - 1) + 1  # may two windows pick one element?
        ctx.save_for_backward(index if ctx.needs_input_grad[0] else None)
        ctx.mark_non_differentiable(index)
        return best, index

    @staticmethod
    def backward(ctx, g, g_index=None):
        (index,) = ctx.saved_tensors
        index = getattr(index, "_data", index)  # a constant, also in a recorded backward
        n, c, h, w = ctx.in_shape
        xp = xp_of(index)
        where = (xp.arange(n).reshape(n, 1, 1, 1), xp.arange(c).reshape(1, c, 1, 1), index)
        return run(IndexPut, g, (n, c, h * w), where, ctx.overlap).reshape(n, c, h, w), None


# -- argument checks ------------------------------------------------------------------------


def _pair(value: Any, name: str) -> tuple:
    """An int or a sequence of one or two ints as a pair, refusing others in torch's words."""
    if isinstance(value, (list, tuple)):
        if len(value) == 1:
            return (int(value[0]),) * 2
        if len(value) != 2:
            raise RuntimeError(f"expected {name} to be a single integer value or a list of 2 values to match the "
                               f"convolution dimensions, but got {name}={list(value)}")
        return int(value[0]), int(value[1])
    return int(value), int(value)


def _pool_pair(value: Any, name: str) -> tuple:
    if isinstance(value, (list, tuple)):
        if len(value) not in (1, 2):
            raise RuntimeError(f"max_pool2d: {name} must either be a single int, or a tuple of two ints")
        return (int(value[0]),) * 2 if len(value) == 1 else (int(value[0]), int(value[1]))
    return int(value), int(value)


def _batched(input: TensorBase) -> tuple:
    """``input`` as (N, C, H, W), and whether it came without the batch dim."""
    if input._data.ndim == 3:
        return input.unsqueeze(0), True
    return input, False


def _pool_out(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """torch's pooling output size: windows start inside the input or its left padding."""
    out = (size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


# -- convolution ------------------------------------------------------------------------------


def conv2d(input: TensorBase, weight: TensorBase, bias: TensorBase | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> TensorBase:
    """A 2-D cross-correlation, as torch.nn.functional.conv2d: im2col, then one matrix product per group."""
    if input._data.ndim not in (3, 4):
        raise RuntimeError("Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: "
                           f"{list(input._data.shape)}")
    if weight._data.ndim != 4:
        raise RuntimeError(f"expected stride to be a single integer value or a list of {weight._data.ndim - 2} values "
                           f"to match the convolution dimensions, but got stride={list(_pair(stride, 'stride'))}")
    autocast = _autocast.state.get()
    if autocast is not None:
        input, weight, bias = _autocast_inputs(autocast, input, weight, bias)
    x, unbatched = _batched(input)
    st, dil = _pair(stride, "stride"), _pair(dilation, "dilation")
    out_c, per_group, kh, kw = weight._data.shape
    n, c, h, w = x._data.shape
    same = isinstance(padding, str) and padding == "same"
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise RuntimeError(f"Invalid padding string: '{padding}'")
        if same and st != (1, 1):
            raise RuntimeError("padding='same' is not supported for strided convolutions")
        # 'same': the (d*(k-1)) padded elements split in two, the odd one at the end (as torch)
        pad = (dil[0] * (kh - 1) // 2, dil[1] * (kw - 1) // 2) if same else (0, 0)
    else:
        pad = _pair(padding, "padding")
    if min(st) <= 0:
        raise RuntimeError("non-positive stride is not supported")
    if min(pad) < 0:
        raise RuntimeError("negative padding is not supported")
    if min(dil) <= 0:
        raise RuntimeError("non-positive dilation is not supported")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if out_c % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
                           f"but got weight of size [{list(weight._data.shape)}] instead")
    if c != per_group * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {list(weight._data.shape)}, expected "
                           f"input{list(x._data.shape)} to have {per_group * groups} channels, but got {c} channels "
                           "instead")
    if bias is not None and (bias._data.ndim != 1 or bias._data.shape[0] != out_c):
        raise RuntimeError(f"Given weight of size {list(weight._data.shape)}, expected bias to be 1-dimensional with "
                           f"{out_c} elements, but got bias of size {list(bias._data.shape)} instead")
    span = (dil[0] * (kh - 1) + 1, dil[1] * (kw - 1) + 1)
    size = (h + 2 * pad[0] + (span[0] - 1) % 2 * same, w + 2 * pad[1] + (span[1] - 1) % 2 * same)
    if span[0] > size[0] or span[1] > size[1]:
        raise RuntimeError(f"Calculated padded input size per channel: ({size[0]} x {size[1]}). Kernel size: "
                           f"({span[0]} x {span[1]}). Kernel size can't be greater than actual input size")
    if x._data.dtype != weight._data.dtype:
        names = _dtype.SCALAR_TYPE_NAMES
        raise RuntimeError(f"expected scalar type {names[x.dtype.name]} but found {names[weight.dtype.name]}")
    oh, ow = (size[0] - span[0]) // st[0] + 1, (size[1] - span[1]) // st[1] + 1
    cols = Im2Col.apply(x, ((kh, kw), dil, pad, st, (oh, ow)))  # (N, C*kh*kw, oh*ow)
    if groups == 1:
        out = matmul(weight.reshape(out_c, per_group * kh * kw), cols)
    else:
        out = matmul(weight.reshape(groups, out_c // groups, per_group * kh * kw),
                     cols.reshape(n, groups, per_group * kh * kw, oh * ow))
    out = out.reshape(n, out_c, oh, ow)
    if bias is not None:
        out = out + bias.reshape(out_c, 1, 1)
    out = named(out, "ConvolutionBackward0")
    return out.squeeze(0) if unbatched else out


def pad_by_index(input: TensorBase, pad: tuple, mode: str) -> TensorBase:
    """``input`` (..., H, W) with ``pad`` = (left, right, top, bottom) elements added by ``mode``: 'reflect'
    (mirrored, the edge not repeated), 'replicate' (the edge repeated) or 'circular' (wrapped around). One
    indexing op, so its backward adds each padded element's gradient into the element it copies."""
    left, right, top, bottom = pad
    h, w = input._data.shape[-2:]
    xp = xp_of(input._data)

    def positions(lo: int, hi: int, size: int) -> Any:
        i = numpy.arange(-lo, size + hi)
        if mode == "reflect":
            if lo >= size or hi >= size:
                raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input dimension, "
                                   f"but got: padding ({lo}, {hi}) at dimension {input._data.ndim - 1} of input "
                                   f"{list(input._data.shape)}")
            i = numpy.abs(i)
            i = numpy.where(i >= size, 2 * (size - 1) - i, i)
        elif mode == "replicate":
            i = numpy.clip(i, 0, size - 1)
        else:
            i = i % size
        return xp.asarray(i)

    rows, cols = positions(top, bottom, h), positions(left, right, w)
    out = GetItem.apply(input, (Ellipsis, rows[:, None], cols[None, :]))
    name = {"reflect": "ReflectionPad2DBackward0", "replicate": "ReplicationPad2DBackward0"}.get(mode, "IndexBackward0")
    return named(out, name)


# -- pooling ----------------------------------------------------------------------------------


def _pool_geometry(x: TensorBase, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
                   ceil_mode: bool, name: str) -> tuple:
    """The window geometry of a pooling call, checked as torch checks it."""
    k = _pool_pair(kernel_size, "kernel_size")
    s = k if stride is None or (isinstance(stride, (list, tuple)) and not stride) else _pool_pair(stride, "stride")
    p, d = _pool_pair(padding, "padding"), _pool_pair(dilation, "dilation")
    if s[0] == 0 or s[1] == 0:
        raise RuntimeError("stride should not be zero")
    if k[0] <= 0 or k[1] <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {k[0]} kW: {k[1]}")
    if d[0] <= 0 or d[1] <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilationH: {d[0]} dilationW: {d[1]}")
    c, h, w = x._data.shape[1:]
    out = []
    for size, kk, ss, pp, dd in zip((h, w), k, s, p, d):
        if pp < 0:
            raise RuntimeError("pad must be non-negative")
        if pp > ((kk - 1) * dd + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={pp}, "
                               f"kernel_size={kk} and dilation={dd}")
        out.append(_pool_out(size, kk, ss, pp, dd, ceil_mode))
    if name == "max_pool2d" and (p[1] > k[1] // 2 or p[0] > k[0] // 2):
        raise RuntimeError(f"pad should be smaller than or equal to half of kernel size, but got padW = {p[1]}, "
                           f"padH = {p[0]}, kW = {k[1]}, kH = {k[0]}")
    if out[0] < 1 or out[1] < 1:
        raise RuntimeError(f"Given input size: ({c}x{h}x{w}). Calculated output size: ({c}x{out[0]}x{out[1]}). "
                           "Output size is too small")
    return k, d, p, s, tuple(out)


def max_pool2d(input: TensorBase, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """The maximum of each window, as torch.nn.functional.max_pool2d; with ``return_indices`` also its position
    in the flattened (H, W) input."""
    if input._data.ndim not in (3, 4) or input._data.size == 0:
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    x, unbatched = _batched(input)
    geometry = _pool_geometry(x, kernel_size, stride, padding, dilation, ceil_mode, "max_pool2d")
    out, index = MaxPool2d.apply(x, geometry)
    if unbatched:
        out, index = out.squeeze(0), index.squeeze(0)
    out = named(out, "MaxPool2DWithIndicesBackward0")
    return (out, index) if return_indices else out


def _divisor(size: int, k: int, s: int, p: int, out: int, include_pad: bool) -> Any:
    """Per output position along one dim: how many of its window's elements torch's average divides by."""
    start = numpy.arange(out) * s - p
    end = numpy.minimum(start + k, size + p)
    if include_pad:
        return end - start
    return numpy.minimum(end, size) - numpy.maximum(start, 0)


def avg_pool2d(input: TensorBase, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> TensorBase:
    """The mean of each window, as torch.nn.functional.avg_pool2d: im2col, a sum over each column, a division."""
    ndim = input._data.ndim
    if ndim < 3:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-max(ndim, 1)}, {max(ndim, 1) - 1}], "
                         "but got -3)")
    if ndim != 4 and ndim != 3:
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    x, unbatched = _batched(input)
    geometry = _pool_geometry(x, kernel_size, stride, padding, 1, ceil_mode, "avg_pool2d")
    (kh, kw), _, (ph, pw), (sh, sw), (oh, ow) = geometry
    n, c, h, w = x._data.shape
    sums = Im2Col.apply(x, geometry).reshape(n, c, kh * kw, oh, ow).sum(2)
    if divisor_override is not None:
        out = sums / divisor_override
    else:
        rows = _divisor(h, kh, sh, ph, oh, count_include_pad)
        cols = _divisor(w, kw, sw, pw, ow, count_include_pad)
        divisor = rows[:, None] * cols[None, :]
        if (divisor == divisor.flat[0]).all():
            out = sums / int(divisor.flat[0])
        else:
            out = sums / x._wrap(xp_of(x._data).asarray(divisor.astype(x._data.dtype)))
    return named(out.squeeze(0) if unbatched else out, "AvgPool2DBackward0")


def _adaptive_matrix(size: int, out: int, like: TensorBase) -> TensorBase:
    """(out, size): row i averages torch's bin i, elements floor(i*size/out) to ceil((i+1)*size/out)."""
    m = numpy.zeros((out, size))
    for i in range(out):
        start, end = i * size // out, -(-(i + 1) * size // out)
        m[i, start:end] = 1.0 / (end - start)
    return like._wrap(xp_of(like._data).asarray(m.astype(like._data.dtype)))


def adaptive_avg_pool2d(input: TensorBase, output_size: Any) -> TensorBase:
    """The mean over each of (oh, ow) bins that tile the image, as torch: bins along a dim are averaged by one
    matrix product, rows then columns."""
    if input._data.ndim not in (3, 4):
        raise RuntimeError(f"adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got {list(input._data.shape)}")
    if isinstance(output_size, (list, tuple)):
        if len(output_size) != 2:
            raise RuntimeError("adaptive_avg_pool2d: output_size must be 2")
        size = tuple(output_size)
    else:
        size = (output_size, output_size)
    h, w = input._data.shape[-2:]
    oh = h if size[0] is None else int(size[0])
    ow = w if size[1] is None else int(size[1])
    out = input
    if oh != h:
        out = matmul(_adaptive_matrix(h, oh, input), out)
    if ow != w:
        out = matmul(out, _adaptive_matrix(w, ow, input).t())
    if out is input:
        out = input * 1  # a new tensor, as torch's
    return named(out, "AdaptiveAvgPool2DBackward0")


# -- unfold and fold --------------------------------------------------------------------------


def unfold(input: TensorBase, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> TensorBase:
    """Every window of an (N, C, H, W) or (C, H, W) image as a column, as torch.nn.functional.unfold (im2col)."""
    if input._data.ndim not in (3, 4):
        raise NotImplementedError(f"Input Error: Only 3D or 4D input Tensors are supported (got {input._data.ndim}D)")
    x, unbatched = _batched(input)
    k, d, p, s = (_pair(v, name) for v, name in ((kernel_size, "kernel_size"), (dilation, "dilation"),
                                                   (padding, "padding"), (stride, "stride")))
    h, w = x._data.shape[2:]
    out = ((h + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1, (w + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1)
    if out[0] < 1 or out[1] < 1:
        raise RuntimeError(f"Given input with spatial size ({h}, {w}), kernel_size=({k[0]}, {k[1]}), "
                           f"dilation=({d[0]}, {d[1]}), padding=({p[0]}, {p[1]}), calculated shape of the array of "
                           f"sliding blocks as ({out[0]}, {out[1]}), but its components must be at least one.")
    cols = Im2Col.apply(x, (k, d, p, s, out))
    return named(cols.squeeze(0) if unbatched else cols, "Im2ColBackward0")


def fold(input: TensorBase, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
         stride: Any = 1) -> TensorBase:
    """Columns added back into an image of ``output_size``, as torch.nn.functional.fold (col2im)."""
    if input._data.ndim not in (2, 3):
        raise NotImplementedError(f"Input Error: Only unbatched (2D) or batched (3D) input Tensors are supported "
                                  f"(got {input._data.ndim}D)")
    unbatched = input._data.ndim == 2
    cols = input.unsqueeze(0) if unbatched else input
    size, k, d, p, s = (_pair(v, name) for v, name in ((output_size, "output_size"), (kernel_size, "kernel_size"),
                                                         (dilation, "dilation"), (padding, "padding"),
                                                         (stride, "stride")))
    out = ((size[0] + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1,
           (size[1] + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1)
    n, rows, length = cols._data.shape
    if rows % (k[0] * k[1]):
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product of kernel_size, but "
                           f"got input.size(1)={rows} and kernel_size=({k[0]}, {k[1]})")
    if length != out[0] * out[1]:
        raise RuntimeError(f"Given output_size=({size[0]}, {size[1]}), kernel_size=({k[0]}, {k[1]}), "
                           f"dilation=({d[0]}, {d[1]}), padding=({p[0]}, {p[1]}), stride=({s[0]}, {s[1]}), expected "
                           f"size of input's dimension 2 to match the calculated number of sliding blocks "
                           f"{out[0]} * {out[1]} = {out[0] * out[1]}, but got input.size(2)={length}.")
    image = Col2Im.apply(cols, size, (k, d, p, s, out))
    return named(image.squeeze(0) if unbatched else image, "Col2ImBackward0")
