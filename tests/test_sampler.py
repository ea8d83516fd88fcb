"""Samplers, ``DataLoader(sampler=..., batch_sampler=...)`` and ``DistributedSampler`` against torch's."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest
import torch
import torch.utils.data as tdata
import torch.utils.data.distributed as tdist

import minigrad
from minigrad.utils import data
from minigrad.utils.data.distributed import DistributedSampler

SIZES = [0, 1, 5, 8, 9, 10, 11, 12, 13]


def _parts(cls, n: int, replicas: int, **kwargs) -> list[list[int]]:
    return [list(cls(range(n), num_replicas=replicas, rank=r, **kwargs)) for r in range(replicas)]


@pytest.mark.parametrize("replicas", [2, 3, 4])
@pytest.mark.parametrize("drop_last", [False, True])
def test_unshuffled_partitions_and_lengths_are_torchs(replicas, drop_last):
    for n in SIZES:
        for r in range(replicas):
            ours = DistributedSampler(range(n), num_replicas=replicas, rank=r, shuffle=False, drop_last=drop_last)
            ref = tdist.DistributedSampler(range(n), num_replicas=replicas, rank=r, shuffle=False, drop_last=drop_last)
            assert list(ours) == list(ref), (n, r)
            assert len(ours) == len(ref) == len(list(ours))
            assert (ours.num_samples, ours.total_size) == (ref.num_samples, ref.total_size)


def test_padding_repeats_the_list_when_it_is_shorter_than_the_padding():
    for n in [1, 2]:
        assert _parts(DistributedSampler, n, 5, shuffle=False) == _parts(tdist.DistributedSampler, n, 5, shuffle=False)


@pytest.mark.parametrize("replicas", [2, 3, 4])
def test_shuffled_parts_are_disjoint_and_cover_the_dataset(replicas):
    n = 12  # divides by every replica count: no padding, so the parts must not overlap
    parts = _parts(DistributedSampler, n, replicas, seed=3)
    assert sorted(i for part in parts for i in part) == list(range(n))
    padded = _parts(DistributedSampler, 13, replicas, seed=3)  # 13 does not divide: padded, still covering
    assert set(i for part in padded for i in part) == set(range(13))
    assert [len(p) for p in padded] == [len(tdist.DistributedSampler(range(13), replicas, 0)) for _ in padded]


def test_shuffle_is_a_function_of_seed_and_epoch():
    def order(seed: int, epoch: int) -> list[int]:
        sampler = DistributedSampler(range(50), num_replicas=1, rank=0, seed=seed)
        sampler.set_epoch(epoch)
        return list(sampler)

    assert order(0, 0) == order(0, 0) == np.random.default_rng(0).permutation(50).tolist()
    assert order(0, 1) != order(0, 0)
    assert order(0, 1) == order(1, 0)  # seed + epoch, as torch seeds its generator
    sampler = DistributedSampler(range(50), num_replicas=2, rank=1)
    first = list(sampler)
    assert list(sampler) == first  # no set_epoch: the same order again
    sampler.set_epoch(1)
    assert list(sampler) != first


def test_shuffled_split_is_torchs_split_of_the_permutation():
    for n, replicas, drop_last in [(10, 3, False), (10, 3, True), (7, 4, False)]:
        perm = np.random.default_rng(5).permutation(n).tolist()
        for r in range(replicas):
            ours = list(DistributedSampler(range(n), num_replicas=replicas, rank=r, seed=5, drop_last=drop_last))
            plain = tdist.DistributedSampler(range(n), num_replicas=replicas, rank=r, shuffle=False,
                                             drop_last=drop_last)
            assert ours == [perm[i] for i in plain]


@pytest.mark.parametrize("batch_size,drop_last", [(2, False), (3, False), (3, True)])
def test_loader_with_a_distributed_sampler_batches_like_torch(batch_size, drop_last):
    x = np.arange(22, dtype=np.float32).reshape(11, 2)
    y = np.arange(11)
    for r in range(3):
        loader = data.DataLoader(data.TensorDataset(minigrad.tensor(x), minigrad.tensor(y)), batch_size=batch_size,
                                 drop_last=drop_last,
                                 sampler=DistributedSampler(range(11), num_replicas=3, rank=r, shuffle=False))
        ref = tdata.DataLoader(tdata.TensorDataset(torch.tensor(x), torch.tensor(y)), batch_size=batch_size,
                               drop_last=drop_last,
                               sampler=tdist.DistributedSampler(range(11), num_replicas=3, rank=r, shuffle=False))
        assert len(loader) == len(ref)
        ours, theirs = list(loader), list(ref)
        assert len(ours) == len(theirs)
        for (xb, yb), (xr, yr) in zip(ours, theirs):
            np.testing.assert_array_equal(xb.numpy(), xr.numpy())
            np.testing.assert_array_equal(yb.numpy(), yr.numpy())
    # Any dataset (collated sample by sample), and no batching at all.
    samples = [(float(i), i) for i in range(7)]
    sampler = DistributedSampler(samples, num_replicas=2, rank=1, shuffle=False)
    batches = [[b[0].tolist(), b[1].tolist()] for b in data.DataLoader(samples, batch_size=2, sampler=sampler)]
    assert batches == [[b[0].tolist(), b[1].tolist()] for b in tdata.DataLoader(
        samples, batch_size=2, sampler=tdist.DistributedSampler(samples, num_replicas=2, rank=1, shuffle=False))]
    assert list(data.DataLoader(samples, batch_size=None, sampler=sampler)) == [samples[i] for i in (1, 3, 5, 0)]


def test_sequential_and_batch_samplers_are_torchs():
    for n in [0, 1, 7, 10]:
        assert list(data.SequentialSampler(range(n))) == list(tdata.SequentialSampler(range(n)))
        assert len(data.SequentialSampler(range(n))) == n
        for batch_size in [1, 3, 5, 12]:
            for drop_last in [False, True]:
                ours = data.BatchSampler(data.SequentialSampler(range(n)), batch_size, drop_last)
                ref = tdata.BatchSampler(tdata.SequentialSampler(range(n)), batch_size, drop_last)
                assert list(ours) == list(ref) and len(ours) == len(ref)
    assert list(data.BatchSampler(iter(range(5)), 2, False)) == [[0, 1], [2, 3], [4]]  # any iterable


def test_random_sampler_draws_permutations_and_follows_manual_seed():
    minigrad.manual_seed(0)
    first = list(data.RandomSampler(range(20)))
    assert sorted(first) == list(range(20)) and len(data.RandomSampler(range(20))) == 20
    minigrad.manual_seed(0)
    assert list(data.RandomSampler(range(20))) == first
    chained = list(data.RandomSampler(range(5), num_samples=12))  # whole permutations, then a part of one
    assert len(chained) == 12 and sorted(chained[:5]) == sorted(chained[5:10]) == list(range(5))
    drawn = list(data.RandomSampler(range(3), replacement=True, num_samples=50))
    assert len(drawn) == 50 and set(drawn) <= {0, 1, 2}
    gen = list(data.RandomSampler(range(9), generator=np.random.default_rng(4)))
    assert gen == np.random.default_rng(4).permutation(9).tolist()
    # shuffle=True is a RandomSampler on the host generator: the same order as before samplers existed
    minigrad.manual_seed(1)
    order = [int(i) for (i,) in data.DataLoader([(i,) for i in range(10)], batch_size=None, shuffle=True)]
    assert order == np.random.default_rng(1).permutation(10).tolist()


def test_loader_with_samplers_is_torchs():
    ds = list(range(10))
    sampler = data.SequentialSampler(ds)
    ours = data.DataLoader(ds, batch_sampler=data.BatchSampler(sampler, 4, False))
    ref = tdata.DataLoader(ds, batch_sampler=tdata.BatchSampler(tdata.SequentialSampler(ds), 4, False))
    assert [b.tolist() for b in ours] == [b.tolist() for b in ref] and len(ours) == len(ref) == 3
    assert len(data.DataLoader(ds, batch_size=3, sampler=data.RandomSampler(ds, True, 7))) == 3
    assert len(data.DataLoader(ds, batch_size=None, sampler=sampler)) == 10
    assert isinstance(DistributedSampler(ds, 2, 0), data.Sampler) and data.DistributedSampler is DistributedSampler
    loader = data.DataLoader(ds)
    assert isinstance(loader.sampler, data.SequentialSampler) and isinstance(loader.batch_sampler, data.BatchSampler)


def _error(fn) -> tuple[type, str]:
    with pytest.raises(Exception) as info:
        fn()
    return info.type, str(info.value).replace("torch.", "minigrad.")


@pytest.mark.parametrize("case", [
    lambda lib, ds: lib.DataLoader(ds, sampler=lib.SequentialSampler(ds), shuffle=True),
    lambda lib, ds: lib.DataLoader(ds, batch_sampler=lib.BatchSampler(ds, 2, False), batch_size=2),
    lambda lib, ds: lib.DataLoader(ds, batch_sampler=lib.BatchSampler(ds, 2, False), batch_size=None),
    lambda lib, ds: lib.DataLoader(ds, batch_sampler=lib.BatchSampler(ds, 2, False), shuffle=True),
    lambda lib, ds: lib.DataLoader(ds, batch_sampler=lib.BatchSampler(ds, 2, False), sampler=lib.SequentialSampler(ds)),
    lambda lib, ds: lib.DataLoader(ds, batch_sampler=lib.BatchSampler(ds, 2, False), drop_last=True),
    lambda lib, ds: lib.DataLoader(ds, batch_size=None, drop_last=True),
    lambda lib, ds: lib.DataLoader(ds, batch_size=0, sampler=lib.SequentialSampler(ds)),
    lambda lib, ds: lib.DataLoader(ds, batch_size=2, drop_last=1),
    lambda lib, ds: lib.BatchSampler(ds, True, False),
    lambda lib, ds: lib.RandomSampler([]),
    lambda lib, ds: lib.RandomSampler(ds, replacement=1),
    lambda lib, ds: lib.RandomSampler(ds, num_samples=-2),
    lambda lib, ds: lib.DistributedSampler(ds, num_replicas=2, rank=2),
    lambda lib, ds: lib.DistributedSampler(ds, num_replicas=3, rank=-1),
], ids=lambda case: str(case.__code__.co_firstlineno))
def test_error_messages_are_torchs(case):
    assert _error(lambda: case(data, list(range(6)))) == _error(lambda: case(tdata, list(range(6))))


def _fake_dist(monkeypatch, module: types.ModuleType | None) -> None:
    """Stand in for minigrad.distributed (None: not importable)."""
    monkeypatch.setitem(sys.modules, "minigrad.distributed", module)
    if module is None:
        monkeypatch.delattr(minigrad, "distributed", raising=False)
    else:
        monkeypatch.setattr(minigrad, "distributed", module, raising=False)


def test_world_size_and_rank_come_from_minigrad_distributed(monkeypatch):
    fake = types.SimpleNamespace(is_initialized=lambda: True, get_world_size=lambda: 3, get_rank=lambda: 2)
    _fake_dist(monkeypatch, fake)  # type: ignore[arg-type]
    sampler = DistributedSampler(range(10), shuffle=False)
    assert (sampler.num_replicas, sampler.rank, list(sampler)) == (3, 2, [2, 5, 8, 1])
    assert DistributedSampler(range(10), num_replicas=5).rank == 2
    assert DistributedSampler(range(10), rank=0).num_replicas == 3


@pytest.mark.parametrize("kwargs", [{}, {"num_replicas": 2}, {"rank": 0}])
@pytest.mark.parametrize("initialized", [None, False])
def test_without_a_process_group_the_error_is_torchs(monkeypatch, initialized, kwargs):
    """torch raises ValueError here (its get_world_size does), not RuntimeError."""
    fake = None if initialized is None else types.SimpleNamespace(is_initialized=lambda: False)
    _fake_dist(monkeypatch, fake)  # type: ignore[arg-type]
    ours = _error(lambda: DistributedSampler(range(10), **kwargs))
    assert ours == _error(lambda: tdist.DistributedSampler(range(10), **kwargs))
    assert ours[0] is ValueError
