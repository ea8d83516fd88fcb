"""Datasets and mini-batches: ``Dataset``, ``TensorDataset``, ``Subset``, ``random_split``, ``DataLoader``,
and torch's samplers (``Sampler``, ``SequentialSampler``, ``RandomSampler``, ``BatchSampler``,
``DistributedSampler``).

A dataset answers ``len(ds)`` and ``ds[i]``; a sampler says which indices to read, in which order;
a ``DataLoader`` walks them in batches and stacks the samples of each batch into tensors.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Iterator, Sequence, Sized
from typing import Any

import numpy

from ... import _backend
from ...tensor import Tensor
from ..idx import load_idx  # noqa: F401  (MNIST files: minigrad.utils.data.load_idx)
from .distributed import DistributedSampler, Sampler

__all__ = ["BatchSampler", "DataLoader", "Dataset", "DistributedSampler", "RandomSampler", "Sampler",
           "SequentialSampler", "Subset", "TensorDataset", "default_collate", "load_idx", "random_split"]


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


class SequentialSampler(Sampler[int]):
    """The indices ``0, 1, ..., len(data_source) - 1`` in order (``DataLoader``'s default)."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler[int]):
    """Random indices of ``data_source``: a new permutation each pass, or draws with ``replacement``.

    ``num_samples`` (default ``len(data_source)``) indices per pass; without replacement more than
    ``len(data_source)`` chains whole permutations, as in torch. ``generator`` is a
    ``numpy.random.Generator``; by default minigrad's host generator, so ``minigrad.manual_seed``
    makes the order reproducible (``DataLoader(shuffle=True)`` uses this sampler). The orders are
    not torch's: its generator's stream cannot be reproduced without torch.
    """

    def __init__(self, data_source: Sized, replacement: bool = False, num_samples: int | None = None,
                 generator: numpy.random.Generator | None = None) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={self.replacement}")
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={self.num_samples}")

    @property
    def num_samples(self) -> int:
        """Indices per pass; follows the dataset's length when not given (it may change)."""
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        n = len(self.data_source)
        # Looked up per pass: manual_seed replaces the host generator.
        rng = self.generator if self.generator is not None else _backend.rng(_backend.CPU)
        if self.replacement:
            yield from rng.integers(0, n, size=self.num_samples).tolist()
            return
        for _ in range(self.num_samples // n):
            yield from rng.permutation(n).tolist()
        if self.num_samples % n:  # torch draws a last permutation even when nothing of it is used
            yield from rng.permutation(n)[:self.num_samples % n].tolist()

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler[list[int]]):
    """Groups the indices of ``sampler`` (any iterable) into lists of ``batch_size``.

    ``drop_last=True`` drops a last, shorter list. ``DataLoader`` builds one of these unless it is
    given a ``batch_sampler`` of its own.
    """

    def __init__(self, sampler: Sampler[int] | Iterable[int], batch_size: int, drop_last: bool) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        indices = iter(self.sampler)
        while batch := list(itertools.islice(indices, self.batch_size)):
            if self.drop_last and len(batch) < self.batch_size:
                return
            yield batch

    def __len__(self) -> int:
        """Needs ``len(sampler)``."""
        n = len(self.sampler)  # type: ignore[arg-type]
        return n // self.batch_size if self.drop_last else (n + self.batch_size - 1) // self.batch_size


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size`` samples, torch's arguments in torch's order.

    The indices come from ``sampler`` (default: ``SequentialSampler``, or ``RandomSampler`` with
    ``shuffle=True``, which draws a new order for every pass from minigrad's host generator, so
    ``minigrad.manual_seed`` makes it reproducible), grouped by ``batch_sampler`` (default:
    ``BatchSampler(sampler, batch_size, drop_last)``; ``drop_last=True`` skips a last, smaller
    batch). ``batch_size=None`` yields the samples one by one. The options that contradict each
    other raise torch's ValueErrors. ``len(loader)`` is the batch sampler's length (the sampler's
    without batching). A sampler's ``set_epoch`` is the caller's to call, as with torch.
    Loading always happens in the main process (``num_workers`` and ``pin_memory`` are accepted
    and ignored).
    """

    def __init__(self, dataset: Any, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Sampler | Iterable | None = None, batch_sampler: Sampler[list] | Iterable[list] | None = None,
                 num_workers: int = 0, collate_fn: Callable[[list], Any] | None = None, pin_memory: bool = False,
                 drop_last: bool = False) -> None:
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and "
                                 "drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")
        if sampler is None:
            sampler = RandomSampler(dataset) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)  # checks batch_size and drop_last
        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.collate_fn = collate_fn
        self.num_workers = num_workers
        self.pin_memory = pin_memory

    def __len__(self) -> int:
        return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[Any]:
        if self.batch_sampler is None:  # no batching: the samples one by one
            for i in self.sampler:
                sample = self.dataset[i]
                yield sample if self.collate_fn is None else self.collate_fn(sample)
            return
        for batch in self.batch_sampler:
            if isinstance(self.dataset, TensorDataset) and self.collate_fn is None:
                # One fancy-index per tensor instead of stacking samples one by one.
                indices = numpy.asarray(batch, dtype=numpy.int64)
                yield [Tensor._wrap(t._data[_backend.move(indices, t.device)]) for t in self.dataset.tensors]
            else:
                collate = self.collate_fn or default_collate
                yield collate([self.dataset[i] for i in batch])
