"""``Conv1d`` and ``Conv2d``: convolution layers with torch's arguments, parameters, initialisation and repr."""

from __future__ import annotations

import math
from typing import Any

from .. import _factories
from ..ops.conv import conv2d, pad_by_index
from ..tensor import Tensor
from . import init
from .functional import conv1d
from .module import Module
from .parameter import Parameter

_PADDING_MODES = {"zeros", "reflect", "replicate", "circular"}
_PADDING_STRINGS = {"same", "valid"}  # printed as sets in the errors, as torch prints them


def _single(value: Any) -> tuple:
    return (value[0],) if isinstance(value, (list, tuple)) else (value,)


def _pair(value: Any) -> tuple:
    if isinstance(value, (list, tuple)):
        return tuple(value) if len(value) != 1 else (value[0], value[0])
    return value, value


class _ConvNd(Module):
    """What the convolution layers share: arguments, parameters, initialisation and repr."""

    _n_tuple: Any = None  # the subclass's: one value per spatial dim

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 dilation: Any = 1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        n_tuple = self._n_tuple
        kernel_size, stride, dilation = n_tuple(kernel_size), n_tuple(stride), n_tuple(dilation)
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of {_PADDING_STRINGS}")
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
        else:
            padding = n_tuple(padding)
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {_PADDING_MODES}, but got padding_mode={padding_mode!r}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.transposed = False
        self.output_padding = (0,) * len(kernel_size)
        self.groups = groups
        self.padding_mode = padding_mode
        # (left, right, top, bottom): what padding_mode adds before a convolution without padding
        if padding == "same":
            pads: list = []
            for d, k in zip(reversed(dilation), reversed(kernel_size)):
                total = d * (k - 1)
                pads += [total // 2, total - total // 2]
            self._reversed_padding_repeated_twice = pads
        elif padding == "valid":
            self._reversed_padding_repeated_twice = [0, 0] * len(kernel_size)
        else:
            self._reversed_padding_repeated_twice = tuple(p for p in reversed(padding) for _ in range(2))
        self.weight = Parameter(_factories.empty(out_channels, in_channels // groups, *kernel_size, device=device,
                                                 dtype=dtype))
        if bias:
            self.bias = Parameter(_factories.empty(out_channels, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's default: weight and bias uniform in ±1/sqrt(fan_in), fan_in = in_channels / groups times the
        kernel's size."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        params = self._parameters
        return self._conv_forward(input, params["weight"], params["bias"])

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * len(self.padding):
            s += f", padding={self.padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv2d(_ConvNd):
    """``out[n, o] = bias[o] + sum over c, i, j of weight[o, c, i, j] * input[n, c, y*s + i*d, x*s + j*d]``, with
    ``weight`` shaped (out_channels, in_channels // groups, kh, kw), as torch.

    Differs from torch: the initial weights are drawn as torch draws them but from minigrad's NumPy generator,
    so a seed gives other values than torch's.
    """

    _n_tuple = staticmethod(_pair)

    def _conv_forward(self, input: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        if self.padding_mode != "zeros":
            padded = pad_by_index(input, tuple(self._reversed_padding_repeated_twice), self.padding_mode)
            return conv2d(padded, weight, bias, self.stride, (0, 0), self.dilation, self.groups)
        return conv2d(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)


class Conv1d(_ConvNd):
    """``out[n, o, x] = bias[o] + sum over c, i of weight[o, c, i] * input[n, c, x*s + i*d]``, with ``weight``
    shaped (out_channels, in_channels // groups, k), as torch.

    Differs from torch: the initial weights are drawn as torch draws them but from minigrad's NumPy generator,
    so a seed gives other values than torch's.
    """

    _n_tuple = staticmethod(_single)

    def _conv_forward(self, input: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        if self.padding_mode != "zeros":
            left, right = self._reversed_padding_repeated_twice
            padded = pad_by_index(input.unsqueeze(-2), (left, right, 0, 0), self.padding_mode).squeeze(-2)
            return conv1d(padded, weight, bias, self.stride, 0, self.dilation, self.groups)
        return conv1d(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)
