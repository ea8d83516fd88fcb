"""Datasets and mini-batches: ``Dataset``, ``TensorDataset``, ``Subset``, ``random_split``, ``DataLoader``.

A dataset answers ``len(ds)`` and ``ds[i]``; a ``DataLoader`` walks it in batches, in order
or shuffled, and stacks the samples of each batch into tensors.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy

from ... import _backend
from ...tensor import Tensor
from ..idx import load_idx  # noqa: F401  (MNIST files: minigrad.utils.data.load_idx)


class Dataset:
    """Base class: subclasses define ``__getitem__`` (and usually ``__len__``)."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")


class TensorDataset(Dataset):
    """Sample ``i`` is ``(t[i] for t in tensors)``: e.g. ``TensorDataset(inputs, labels)``."""

    def __init__(self, *tensors: Tensor) -> None:
        if any(t.shape[0] != tensors[0].shape[0] for t in tensors):
            raise AssertionError("Size mismatch between tensors")
        self.tensors = tensors

    def __getitem__(self, index: Any) -> tuple:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``."""

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx: int) -> Any:
        return self.dataset[self.indices[idx]]

    def __len__(self) -> int:
        return len(self.indices)


def random_split(dataset: Any, lengths: Sequence[int | float]) -> list[Subset]:
    """Split into non-overlapping random subsets of the given lengths (or fractions that sum to 1)."""
    n = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        counts = [int(math.floor(n * frac)) for frac in lengths]
        for i in range(n - sum(counts)):  # the remainder goes round-robin, as in torch
            counts[i % len(counts)] += 1
        lengths = counts
    if sum(lengths) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    order = _backend.rng(_backend.CPU).permutation(n).tolist()
    subsets, start = [], 0
    for length in lengths:
        subsets.append(Subset(dataset, order[start:start + length]))
        start += length
    return subsets


def default_collate(batch: list) -> Any:
    """Stack a list of samples into a batch: tensors and numbers into tensors, tuples element-wise."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        xp = _backend.xp_of(elem._data)
        return Tensor._wrap(xp.stack([s._data for s in batch]))
    if isinstance(elem, numpy.ndarray):
        return Tensor._wrap(numpy.stack(batch))
    if isinstance(elem, bool):
        return Tensor._wrap(numpy.array(batch, dtype=numpy.bool_))
    if isinstance(elem, int):
        return Tensor._wrap(numpy.array(batch, dtype=numpy.int64))
    if isinstance(elem, float):
        return Tensor._wrap(numpy.array(batch, dtype=numpy.float64))  # torch's collate also gives float64
    if isinstance(elem, str):
        return list(batch)
    if isinstance(elem, dict):
        return {key: default_collate([sample[key] for sample in batch]) for key in elem}
    if isinstance(elem, (tuple, list)):
        return [default_collate(list(samples)) for samples in zip(*batch)]
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
                    f"found {type(elem)}")


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size`` samples.

    ``shuffle=True`` draws a new order for every pass from minigrad's host generator, so
    ``minigrad.manual_seed`` makes it reproducible. ``drop_last=True`` skips a last, smaller batch.
    Loading always happens in the main process (``num_workers`` and ``pin_memory`` are accepted
    and ignored).
    """

    def __init__(self, dataset: Any, batch_size: int | None = 1, shuffle: bool | None = None,
                 collate_fn: Callable[[list], Any] | None = None, drop_last: bool = False, num_workers: int = 0,
                 pin_memory: bool = False) -> None:
        if batch_size is not None and (not isinstance(batch_size, int) or isinstance(batch_size, bool)
                                       or batch_size <= 0):
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = bool(shuffle)
        self.collate_fn = collate_fn
        self.drop_last = drop_last

    def __len__(self) -> int:
        n = len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def _order(self) -> numpy.ndarray:
        n = len(self.dataset)
        return _backend.rng(_backend.CPU).permutation(n) if self.shuffle else numpy.arange(n)

    def __iter__(self) -> Iterator[Any]:
        order = self._order()
        if self.batch_size is None:  # no batching: the samples one by one
            for i in order:
                yield self.dataset[int(i)]
            return
        stop = len(self) * self.batch_size
        for start in range(0, min(stop, len(order)), self.batch_size):
            indices = order[start:start + self.batch_size]
            if isinstance(self.dataset, TensorDataset) and self.collate_fn is None:
                # One fancy-index per tensor instead of stacking samples one by one.
                yield [Tensor._wrap(t._data[_backend.move(indices, t.device)]) for t in self.dataset.tensors]
            else:
                collate = self.collate_fn or default_collate
                yield collate([self.dataset[int(i)] for i in indices])
