"""Joining tensors side by side (``hstack``, ``vstack``) and coordinate grids (``meshgrid``).

All three are compositions of reshape, cat and expand, as in torch, so their gradients (of every
order) are those ops'.
"""

from __future__ import annotations

import warnings
from typing import Any

from ..autograd.graph import TensorBase
from .shape import cat, expand


def _tensor_list(name: str, tensors: Any) -> list:
    if isinstance(tensors, TensorBase):
        raise TypeError(f"{name}(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor")
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError(f"{name} expects a non-empty TensorList")
    return tensors


def hstack(tensors: Any) -> TensorBase:
    """The tensors joined along dim 1, or along dim 0 when they are vectors (0-dim ones count as vectors)."""
    parts = [t.reshape(1) if t._data.ndim == 0 else t for t in _tensor_list("hstack", tensors)]
    return cat(parts, 0 if parts[0]._data.ndim == 1 else 1)


def vstack(tensors: Any) -> TensorBase:
    """The tensors joined along dim 0, each vector (or 0-dim tensor) first made a row ``(1, n)``."""
    parts = [t.reshape(1, -1) if t._data.ndim < 2 else t for t in _tensor_list("vstack", tensors)]
    return cat(parts, 0)


_warned_about_indexing = False


def meshgrid(*tensors: Any, indexing: str | None = None) -> tuple:
    """Coordinate grids of N vectors: output ``i`` holds ``tensors[i]`` repeated along the other dims.

    ``indexing="ij"`` gives grids of shape ``(len(t0), len(t1), ...)``; ``"xy"`` swaps the first two dims,
    ``(len(t1), len(t0), ...)`` (NumPy's default). Without ``indexing`` it is ``"ij"``, with torch's warning
    (once, as torch). The grids are expanded views of the inputs: write to a copy.
    """
    global _warned_about_indexing
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        if not _warned_about_indexing:
            _warned_about_indexing = True
            warnings.warn("minigrad.meshgrid: in an upcoming release, it will be required to pass the indexing "
                          "argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for a, b in zip(tensors, tensors[1:]):
        if a._data.dtype != b._data.dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
        if a.device != b.device:
            raise RuntimeError("meshgrid expects all tensors to have the same device")
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'minigrad.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    for t in tensors:
        if t._data.ndim > 1:
            raise RuntimeError(f"minigrad.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t}")
    swap = indexing == "xy" and len(tensors) >= 2
    tensors = list(tensors)
    if swap:
        tensors[0], tensors[1] = tensors[1], tensors[0]
    shape = tuple(t._data.size for t in tensors)
    grids = []
    for i, t in enumerate(tensors):
        view = [1] * len(tensors)
        view[i] = -1
        grids.append(expand(t.reshape(view), shape))
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


__all__ = ["hstack", "meshgrid", "vstack"]
