"""Random draws from given probabilities: ``bernoulli`` (0/1 with probability ``p``) and ``multinomial``
(category indices drawn with given weights; also what ``WeightedRandomSampler`` draws with).

The numbers come from ``generator`` or minigrad's generator of the input's device (NumPy's, CuPy's on a
GPU), so a seed gives other values than torch's. A draw's gradient is zero, as torch's.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy

from .. import _backend, _dtype
from ..autograd.graph import TensorBase, named
from ._base import Op

P_RANGE_MESSAGE = ("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error message be "
                   "improved?  If so, please report an enhancement request to PyTorch.)")


class Bernoulli(Op):
    """A 0/1 draw with probability ``p``; its gradient is zero (torch's ``BernoulliBackward0``)."""

    @staticmethod
    def forward(ctx, p, generator=None):
        return bernoulli_draw(p, p.shape, p.dtype, generator)

    @staticmethod
    def backward(ctx, g):
        return _backend.xp_of(g).zeros_like(g)


def bernoulli_draw(p: Any, shape: tuple, dtype: Any, generator: Any = None) -> Any:
    """An array of ``shape`` and ``dtype`` holding 1 with probability ``p`` (an array that broadcasts, or a
    number), else 0, drawn from ``generator`` or minigrad's generator of ``p``'s device."""
    xp = _backend.xp_of(p) if not isinstance(p, (builtins.int, builtins.float)) else numpy
    d = _backend.device_of(p) if xp is not numpy else _backend.CPU
    u = _backend.rng(d, generator).random(shape)
    return (u < p).astype(dtype)


def bernoulli(input: TensorBase, *, generator: Any = None) -> TensorBase:
    """1 with probability ``input`` (a floating tensor of probabilities in [0, 1]), else 0, in ``input``'s dtype.

    Differs from torch: the numbers come from minigrad's NumPy generator (CuPy's on a GPU), so a seed gives
    other values than torch's.
    """
    data = input._data
    if data.dtype.kind != "f":
        raise NotImplementedError(f'"bernoulli_tensor_{"cpu" if input.device.type == "cpu" else "cuda"}_p_" not '
                                  f"implemented for '{_dtype.SCALAR_TYPE_NAMES[input.dtype.name]}'")
    if data.size and not builtins.bool(((data >= 0) & (data <= 1)).all()):
        raise RuntimeError(P_RANGE_MESSAGE)
    return named(Bernoulli.apply(input, generator=generator), "BernoulliBackward0")


def multinomial_rows(rows: Any, num_samples: int, replacement: bool, rng: Any) -> Any:
    """``num_samples`` category indices (int64) for each row of non-negative weights ``rows`` (2-D), drawn from
    ``rng`` (a NumPy or CuPy generator), with torch's checks.

    With replacement: the weights' distribution function inverted at uniform draws. Without: the exponential-keys
    method (the largest ``weight / Exp(1)`` first), so that a zero-weight category comes only after every positive
    one.
    """
    xp = _backend.xp_of(rows)
    n = rows.shape[-1]
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if not replacement and num_samples > n:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    if rows.size and not builtins.bool((xp.isfinite(rows) & (rows >= 0)).all()):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    totals = rows.sum(axis=1)
    if builtins.bool((totals <= 0).any()):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    if replacement:
        cdf = xp.cumsum(rows, axis=1) / totals[:, None]
        cdf[:, -1] = 1.0
        u = rng.random((rows.shape[0], num_samples))
        out = xp.stack([xp.searchsorted(cdf[i], u[i], side="right") for i in range(rows.shape[0])])
        out = xp.minimum(out, n - 1)
    else:
        with numpy.errstate(divide="ignore"):
            keys = rows / rng.standard_exponential(rows.shape)
        out = xp.argsort(-keys, axis=1, kind="stable")[:, :num_samples]
    return out.astype(numpy.int64)


def multinomial(input: TensorBase, num_samples: int, replacement: bool = False, *,
                generator: Any = None) -> TensorBase:
    """``num_samples`` category indices per row of ``input`` (1-D or 2-D non-negative weights, not necessarily
    summing to 1), int64; without replacement each category comes at most once (``multinomial_rows``).

    Differs from torch: the numbers come from minigrad's NumPy generator (CuPy's on a GPU), so a seed gives
    other values than torch's.
    """
    data = input._data
    if not 1 <= data.ndim <= 2:
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if data.dtype.kind != "f":
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{_dtype.SCALAR_TYPE_NAMES[input.dtype.name]}")
    rows = (data if data.ndim == 2 else data[None, :]).astype(numpy.float64)
    out = multinomial_rows(rows, num_samples, replacement, _backend.rng(input.device, generator))
    return input._wrap(out.reshape(num_samples) if data.ndim == 1 else out)


__all__ = ["Bernoulli", "bernoulli", "bernoulli_draw", "multinomial", "multinomial_rows"]
