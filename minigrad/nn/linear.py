"""``Linear`` (``y = x @ W.T + b``), ``Bilinear`` (``y = x1 @ W @ x2 + b``) and ``Identity``."""

from __future__ import annotations

import math
from typing import Any

from .. import _factories
from ..ops.linalg import linear
from ..tensor import Tensor
from . import init
from .functional import bilinear
from .module import Module
from .parameter import Parameter


class Identity(Module):
    """Returns its input unchanged; any constructor arguments are ignored (a placeholder layer)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


def _check_sizes(out_features: Any, in_features: Any) -> None:
    """torch makes the weight with ``empty((out_features, in_features))``: its argument parser refuses
    what is not an integer (4.5 would otherwise become 4 here), with a message per position."""
    if isinstance(out_features, bool) or not hasattr(type(out_features), "__index__"):
        raise TypeError("empty(): argument 'size' (position 1) must be tuple of ints, but found element of type "
                        f"{type(out_features).__name__} at pos 0")
    if not hasattr(type(in_features), "__index__"):
        raise TypeError("empty(): argument 'size' failed to unpack the object at pos 2 with error \"type must be "
                        f"tuple of ints,but got {type(in_features).__name__}\"")


class Linear(Module):
    """``y = x @ weight.T + bias`` with ``weight`` shaped (out_features, in_features), as torch.

    Differs from torch: the initial weights are drawn as torch draws them but from minigrad's NumPy generator,
    so a seed gives other values than torch's.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        _check_sizes(out_features, in_features)
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(_factories.empty(out_features, in_features, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(_factories.empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's default: weight and bias uniform in ±1/sqrt(in_features)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        params = self._parameters  # read directly: attribute access would go through __getattr__
        return linear(input, params["weight"], params["bias"])

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Bilinear(Module):
    """``y[..., o] = x1 @ weight[o] @ x2 + bias[o]`` with ``weight`` shaped (out_features, in1_features,
    in2_features), as torch.

    Differs from torch: the initial weights are drawn as torch draws them but from minigrad's NumPy generator,
    so a seed gives other values than torch's.
    """

    def __init__(self, in1_features: int, in2_features: int, out_features: int, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = Parameter(_factories.empty(out_features, in1_features, in2_features, device=device,
                                                 dtype=dtype))
        if bias:
            self.bias = Parameter(_factories.empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's default: weight and bias uniform in ±1/sqrt(in1_features)."""
        if self.in1_features <= 0:
            raise ValueError(f"in1_features must be > 0, but got (in1_features={self.in1_features})")
        bound = 1 / math.sqrt(self.weight.size(1))
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        params = self._parameters  # read directly: attribute access would go through __getattr__
        return bilinear(input1, input2, params["weight"], params["bias"])

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
