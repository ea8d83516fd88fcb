"""Datasets and mini-batches: ``Dataset``, ``TensorDataset``, ``Subset``, ``random_split``, ``DataLoader``,
and torch's samplers (``Sampler``, ``SequentialSampler``, ``RandomSampler``, ``BatchSampler``,
``DistributedSampler``).

A dataset answers ``len(ds)`` and ``ds[i]``; a sampler says which indices to read, in which order;
a ``DataLoader`` walks them in batches and stacks the samples of each batch into tensors.
"""

from __future__ import annotations

import bisect
import itertools
import math
import multiprocessing
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence, Sized
from typing import Any

import numpy

from ... import _backend
from ..._dtype import float64
from ..._factories import as_tensor
from ...ops.sampling import multinomial_rows
from ...random import Generator, default_generator
from ...tensor import Tensor
from ..idx import load_idx  # noqa: F401  (MNIST files: minigrad.utils.data.load_idx)
from .distributed import DistributedSampler, Sampler

__all__ = ["BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset", "DistributedSampler",
           "IterableDataset", "RandomSampler", "Sampler", "SequentialSampler", "Subset", "SubsetRandomSampler",
           "TensorDataset", "WeightedRandomSampler", "default_collate", "get_worker_info", "load_idx", "random_split"]


class Dataset:
    """Base class: subclasses define ``__getitem__`` (and usually ``__len__``)."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A dataset that is a stream: subclasses define ``__iter__`` (and may define ``__len__``).

    ``DataLoader`` reads it in order, batching consecutive samples; it takes no sampler and no
    ``shuffle``, as in torch. ``a + b`` chains two of them (``ChainDataset``).
    """

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError("Subclasses of IterableDataset should implement __iter__.")

    def __add__(self, other: Dataset) -> ChainDataset:  # type: ignore[override]
        return ChainDataset([self, other])


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


class ConcatDataset(Dataset):
    """The samples of several datasets one after the other: ``ConcatDataset([a, b])[len(a)]`` is ``b[0]``.

    A negative index counts from the end, as in torch; ``cumulative_sizes`` holds the running lengths.
    """

    @staticmethod
    def cumsum(sequence: Iterable[Sized]) -> list[int]:
        return list(itertools.accumulate(len(e) for e in sequence))

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = list(datasets)
        if len(self.datasets) == 0:
            raise AssertionError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise AssertionError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = self.cumsum(self.datasets)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int) -> Any:
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx = len(self) + idx
        dataset_idx = bisect.bisect_right(self.cumulative_sizes, idx)
        sample_idx = idx if dataset_idx == 0 else idx - self.cumulative_sizes[dataset_idx - 1]
        return self.datasets[dataset_idx][sample_idx]


class ChainDataset(IterableDataset):
    """Several ``IterableDataset`` streams read one after the other (chained lazily, as in torch)."""

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = datasets

    def _streams(self) -> Iterator[IterableDataset]:
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            yield d

    def __iter__(self) -> Iterator[Any]:
        for d in self._streams():
            yield from d

    def __len__(self) -> int:
        return sum(len(d) for d in self._streams())  # type: ignore[arg-type]


def get_worker_info() -> None:
    """torch's information about the current loading worker: None, since minigrad loads in the main process
    (where torch's gives None too)."""
    return None


def _numpy_rng(generator: Any) -> numpy.random.Generator:
    """What a sampler draws from: a ``minigrad.Generator`` (a host one), a ``numpy.random.Generator``, or
    minigrad's host generator when None (looked up per pass: ``manual_seed`` replaces it)."""
    if isinstance(generator, numpy.random.Generator):
        return generator
    return _backend.rng(_backend.CPU, generator)


def random_split(dataset: Any, lengths: Sequence[int | float],
                 generator: Generator | None = default_generator) -> list[Subset]:
    """Split into non-overlapping random subsets of the given lengths (or fractions that sum to 1).

    Differs from torch: the permutation comes from minigrad's NumPy generator (seeded by ``minigrad.manual_seed``),
    so the subsets are not torch's for the same seed.
    """
    n = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
        counts = [int(math.floor(n * frac)) for frac in lengths]
        for i in range(n - sum(counts)):  # the remainder goes round-robin, as in torch
            counts[i % len(counts)] += 1
        lengths = counts
        for i, length in enumerate(lengths):
            if length == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an empty dataset.",
                              stacklevel=2)
    if sum(lengths) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    order = _numpy_rng(generator).permutation(n).tolist()
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
    if isinstance(elem, numpy.generic):  # NumPy scalars keep their dtype, as torch's as_tensor keeps it
        return Tensor._wrap(numpy.array(batch))
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
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a namedtuple stays one, with batched fields
        return type(elem)(*(default_collate(list(samples)) for samples in zip(*batch)))
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
    ``minigrad.Generator``; by default minigrad's default generator, so ``minigrad.manual_seed``
    makes the order reproducible (``DataLoader(shuffle=True)`` uses this sampler).

    Differs from torch: the orders come from NumPy's generator (``generator`` may also be a
    ``numpy.random.Generator``), so they are not torch's for the same seed.
    """

    def __init__(self, data_source: Sized, replacement: bool = False, num_samples: int | None = None,
                 generator: Generator | numpy.random.Generator | None = None) -> None:
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
        rng = _numpy_rng(self.generator)
        if self.replacement:
            yield from rng.integers(0, n, size=self.num_samples).tolist()
            return
        for _ in range(self.num_samples // n):
            yield from rng.permutation(n).tolist()
        if self.num_samples % n:  # torch draws a last permutation even when nothing of it is used
            yield from rng.permutation(n)[:self.num_samples % n].tolist()

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler[int]):
    """The elements of ``indices`` in a new random order each pass (from ``generator``, else minigrad's host
    generator)."""

    def __init__(self, indices: Sequence[int], generator: Generator | None = None) -> None:
        self.indices = indices
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        for i in _numpy_rng(self.generator).permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler[int]):
    """``num_samples`` indices of ``weights`` drawn with probabilities proportional to the weights.

    With ``replacement=False`` an index comes at most once (``num_samples <= len(weights)``), as
    torch's ``multinomial`` draws it: indices of weight 0 only after all the others. ``weights``
    is kept as a float64 tensor; a bad distribution raises torch's errors when iterated.
    """

    def __init__(self, weights: Sequence[float], num_samples: int, replacement: bool = True,
                 generator: Generator | None = None) -> None:
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got replacement={replacement}")
        weights_tensor = as_tensor(weights, dtype=float64)
        if len(weights_tensor.shape) != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape "
                             f"{tuple(weights_tensor.shape)}")
        self.weights = weights_tensor
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        weights = _backend.to_host(self.weights._data)[None, :]
        rows = multinomial_rows(weights, self.num_samples, self.replacement, _numpy_rng(self.generator))
        yield from rows[0].tolist()  # torch's sampler draws with torch.multinomial too

    def __len__(self) -> int:
        return self.num_samples


class _InfiniteConstantSampler(Sampler[None]):
    """``None`` forever: the sampler of a ``DataLoader`` over an ``IterableDataset`` (as torch's)."""

    def __iter__(self) -> Iterator[None]:
        return itertools.repeat(None)


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
    Loading always happens in the main process.

    Differs from torch: ``num_workers`` and ``pin_memory`` are accepted and ignored (no worker processes, no
    pinned memory), and ``shuffle=True`` orders come from minigrad's NumPy generator, not torch's.
    The worker options (``timeout``, ``worker_init_fn``, ``multiprocessing_context``,
    ``prefetch_factor``, ``persistent_workers``, ``pin_memory_device``, ``in_order``) are checked
    with torch's errors and kept as attributes, and otherwise have no effect: ``worker_init_fn``
    is never called, since no worker starts (and ``get_worker_info()`` is None), and batches
    always come in order. ``generator`` (a ``minigrad.Generator``) draws the ``shuffle=True``
    orders, but the loader draws no base seed from it per pass as torch's does.
    """

    def __init__(self, dataset: Any, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Sampler | Iterable | None = None, batch_sampler: Sampler[list] | Iterable[list] | None = None,
                 num_workers: int = 0, collate_fn: Callable[[list], Any] | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0, worker_init_fn: Callable[[int], None] | None = None,
                 multiprocessing_context: Any = None, generator: Generator | None = None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False, pin_memory_device: str = "",
                 in_order: bool = True) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable "
                             "multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 "
                             "to enable multiprocessing, otherwise set prefetch_factor to None.")
        elif num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        self.num_workers = num_workers
        self.multiprocessing_context = _checked_context(multiprocessing_context, num_workers)
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:  # a stream: no sampler to choose, no order to shuffle (torch's errors)
            if shuffle not in {False, None}:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, but got "
                                 f"shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, but got "
                                 f"sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified batch_sampler option, but got "
                                 f"batch_sampler={batch_sampler}")
            sampler = _InfiniteConstantSampler()
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
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)  # checks batch_size and drop_last
        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.collate_fn = collate_fn
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.generator = generator
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self.pin_memory_device = pin_memory_device
        self.in_order = in_order

    def __len__(self) -> int:
        if self._iterable:  # the dataset's length (it must have one), in batches
            length = len(self.dataset)
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last else math.ceil(length / self.batch_size)
            return length
        return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[Any]:
        if self._iterable:
            yield from self._iter_stream()
            return
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

    def _iter_stream(self) -> Iterator[Any]:
        """An ``IterableDataset``'s samples in order: one by one, or in batches of consecutive samples."""
        samples = iter(self.dataset)
        if self.batch_size is None:
            for sample in samples:
                yield sample if self.collate_fn is None else self.collate_fn(sample)
            return
        collate = self.collate_fn or default_collate
        while batch := list(itertools.islice(samples, self.batch_size)):
            if self.drop_last and len(batch) < self.batch_size:
                return
            yield collate(batch)


def _checked_context(context: Any, num_workers: int) -> Any:
    """DataLoader's ``multiprocessing_context``, checked as torch checks it (a start method's name becomes its
    context), though no worker process is started."""
    if context is None:
        return None
    if num_workers <= 0:
        raise ValueError(f"multiprocessing_context can only be used with multi-process loading (num_workers > 0), "
                         f"but got num_workers={num_workers}")
    if isinstance(context, str):
        methods = multiprocessing.get_all_start_methods()
        if context not in methods:
            raise ValueError(f"multiprocessing_context option should specify a valid start method in {methods!r}, "
                             f"but got multiprocessing_context={context!r}")
        context = multiprocessing.get_context(context)
    if not isinstance(context, multiprocessing.context.BaseContext):
        raise TypeError(f"multiprocessing_context option should be a valid context object or a string specifying "
                        f"the start method, but got multiprocessing_context={context}")
    return context
