"""``DistributedSampler``: each of ``num_replicas`` processes reads its own share of a dataset.

Also home of ``Sampler``, the base class of every sampler. torch keeps it in
``torch.utils.data.sampler``; it lives here so that ``minigrad.utils.data`` can import both
from this module, which imports nothing from its package (no import circle). As in torch,
``minigrad.utils.data.distributed.Sampler`` and ``minigrad.utils.data.Sampler`` are one class.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sized
from typing import Generic, TypeVar

import numpy

T_co = TypeVar("T_co", covariant=True)

_NOT_INITIALIZED = "Default process group has not been initialized, please make sure to call init_process_group."


class Sampler(Generic[T_co]):
    """Base class of samplers: an iterable of dataset indices (or of lists of them, for batch samplers).

    Subclasses define ``__iter__`` and usually ``__len__``; there is deliberately no default
    ``__len__`` (as in torch), so that ``list(sampler)`` still works for samplers without one.
    ``Sampler[int]`` subscripts like torch's generic class.
    """

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError


def _default_group() -> tuple[int, int]:
    """(world size, rank) of the default process group of ``minigrad.distributed``.

    Imported here, on first need, so that ``minigrad.utils.data`` loads without it. Like torch,
    an uninitialized group is a ValueError (torch's ``get_world_size`` raises that, not RuntimeError).
    """
    try:
        from ... import distributed as dist
    except ImportError:
        raise ValueError(_NOT_INITIALIZED) from None
    is_initialized = getattr(dist, "is_initialized", None)
    if is_initialized is not None and not is_initialized():
        raise ValueError(_NOT_INITIALIZED)
    return dist.get_world_size(), dist.get_rank()


class DistributedSampler(Sampler[int]):
    """The indices of ``dataset`` that belong to process ``rank`` of ``num_replicas``, as torch's.

    Every rank gets ``num_samples`` indices: without ``drop_last`` the index list is padded to
    ``total_size = num_samples * num_replicas`` by repeating indices from its start (so a few
    samples are seen twice per epoch); with ``drop_last`` its tail is cut to a multiple of
    ``num_replicas``. Rank ``r`` takes ``indices[r:total_size:num_replicas]``.

    ``num_replicas``/``rank`` left as None are read from ``minigrad.distributed``
    (``get_world_size()``/``get_rank()``); without an initialized process group that is torch's
    ValueError.

    ``shuffle=True`` permutes the indices once per epoch with
    ``numpy.random.default_rng(seed + epoch).permutation(len(dataset))``: the same order on every
    rank (each process computes it alone, no communication), a new one after ``set_epoch``. The
    order differs from torch's, which draws from torch's own generator (``torch.randperm``), a
    stream that cannot be reproduced without torch; the padding and the split are torch's.
    Call ``set_epoch(epoch)`` before each epoch: ``DataLoader`` does not call it (nor does torch's).

    Differs from torch: with ``shuffle=True`` the order is NumPy's permutation for ``seed + epoch``, not torch's,
    so each rank's indices differ from what torch's sampler gives for the same seed.
    """

    def __init__(self, dataset: Sized, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None or rank is None:
            world_size, own_rank = _default_group()
            num_replicas = world_size if num_replicas is None else num_replicas
            rank = own_rank if rank is None else rank
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            # The largest equal share: what does not divide is dropped (torch's formula, kept
            # exactly: it gives 0 when there are fewer samples than replicas).
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        if self.shuffle:
            indices = numpy.random.default_rng(self.seed + self.epoch).permutation(n).tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            padding_size = self.total_size - len(indices)
            if padding_size <= len(indices):
                indices += indices[:padding_size]
            else:  # fewer samples than needed even once over: repeat the whole list
                indices += (indices * math.ceil(padding_size / len(indices)))[:padding_size]
        else:
            indices = indices[:self.total_size]
        if len(indices) != self.total_size:  # the dataset changed length since __init__
            raise AssertionError(f"Number of indices ({len(indices)}) does not match total_size ({self.total_size})")
        own = indices[self.rank:self.total_size:self.num_replicas]
        if len(own) != self.num_samples:
            raise AssertionError(
                f"Number of subsampled indices ({len(own)}) does not match num_samples ({self.num_samples})")
        return iter(own)

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Use ``epoch`` for the next shuffle, so that each epoch has its own order (the same on all ranks)."""
        self.epoch = epoch
