"""Random generators (``Generator``, ``manual_seed``, ``get_rng_state`` ...), the ``generator=`` of every random
function, thread and determinism settings, and the data utilities torch programs use (``DataLoader``'s full
signature, ``IterableDataset``, ``ConcatDataset``, ``ChainDataset``, ``SubsetRandomSampler``,
``WeightedRandomSampler``, ``get_worker_info``), checked against torch wherever the result does not depend on
the random numbers themselves (minigrad's are NumPy's, not torch's)."""

from __future__ import annotations

import pickle
import random
import textwrap
import warnings

import numpy as np
import pytest
import torch
from conftest import use_strict_cupy

import minigrad
from minigrad import _backend

LIBS = {"torch": torch, "minigrad": minigrad}


@pytest.fixture(autouse=True)
def _keep_random_state():
    """The tests reseed the default generators and flip settings: put everything back afterwards."""
    state, seed = minigrad.get_rng_state(), minigrad.initial_seed()
    torch_state = torch.get_rng_state()
    gpu_seed, gpu_rngs, gpu_seeds = _backend._seed, dict(_backend._gpu_rngs), dict(_backend._gpu_seeds)
    threads = minigrad.get_num_threads()
    yield
    minigrad.manual_seed(seed)
    minigrad.set_rng_state(state)
    _backend._seed = gpu_seed
    _backend._gpu_rngs.clear()
    _backend._gpu_rngs.update(gpu_rngs)
    _backend._gpu_seeds.clear()
    _backend._gpu_seeds.update(gpu_seeds)
    torch.set_rng_state(torch_state)
    minigrad.set_num_threads(threads)
    for lib in LIBS.values():
        lib.use_deterministic_algorithms(False)


def raised(fn) -> tuple[type, str]:
    """The type and message of the exception ``fn()`` raises."""
    with pytest.raises(Exception) as info:
        fn()
    return type(info.value), str(info.value)


def values(t) -> list:
    return t.tolist()


# -- Generator ----------------------------------------------------------------------------------------------


def test_a_generator_reseeded_repeats_its_stream_and_another_seed_gives_another():
    g = minigrad.Generator()
    first = [values(minigrad.randn(5, generator=g.manual_seed(3))), values(minigrad.rand(4, generator=g))]
    again = [values(minigrad.randn(5, generator=g.manual_seed(3))), values(minigrad.rand(4, generator=g))]
    assert first == again
    assert values(minigrad.randn(5, generator=minigrad.Generator().manual_seed(4))) != first[0]
    # the stream goes on: a second draw differs from the first
    g.manual_seed(3)
    assert values(minigrad.randn(5, generator=g)) != values(minigrad.randn(5, generator=g))


def test_new_generators_start_from_torchs_default_seed_and_manual_seed_returns_the_generator():
    for lib in LIBS.values():
        g = lib.Generator()
        assert g.initial_seed() == 67280421310721
        assert g.manual_seed(5) is g and g.initial_seed() == 5
        assert str(g.device) == "cpu" and g.device == lib.device("cpu")
        assert lib.Generator(device="cpu").device.type == "cpu"
        assert lib.manual_seed(0) is lib.default_generator
        assert isinstance(lib.default_generator, lib.Generator)
        assert lib.default_generator.device.type == "cpu"
    a, b = minigrad.Generator(), minigrad.Generator()
    assert values(minigrad.randn(4, generator=a)) == values(minigrad.randn(4, generator=b))


def test_seeds_wrap_and_overflow_as_torchs():
    for seed in (-1, 2**64 - 1, -2**63, 12345):
        expected = torch.Generator().manual_seed(seed).initial_seed()
        assert minigrad.Generator().manual_seed(seed).initial_seed() == expected
        minigrad.manual_seed(seed)
        torch.manual_seed(seed)
        assert minigrad.initial_seed() == torch.initial_seed()
    for seed in (2**64, -2**63 - 1):
        assert raised(lambda s=seed: minigrad.manual_seed(s)) == raised(lambda s=seed: torch.manual_seed(s))
        assert raised(lambda s=seed: minigrad.Generator().manual_seed(s)) == \
            raised(lambda s=seed: torch.Generator().manual_seed(s))
    for seed in (1.5, "3", True):
        assert raised(lambda s=seed: minigrad.Generator().manual_seed(s)) == \
            raised(lambda s=seed: torch.Generator().manual_seed(s))
    for seed in (1.5, "3"):  # torch.manual_seed takes anything int() takes
        assert minigrad.manual_seed(seed).initial_seed() == torch.manual_seed(seed).initial_seed()


def test_get_state_and_set_state_restore_the_stream_exactly():
    g = minigrad.Generator().manual_seed(11)
    minigrad.rand(3, dtype=minigrad.float32, generator=g)  # an odd number of 32-bit draws: half a 64-bit word kept
    state = g.get_state()
    assert state.dtype == minigrad.uint8 and state.dim() == 1
    ahead = [values(minigrad.rand(5, dtype=minigrad.float32, generator=g)),
             values(minigrad.randn(3, dtype=minigrad.float64, generator=g)),
             values(minigrad.randint(0, 100, (6,), generator=g)), values(minigrad.randperm(7, generator=g))]
    assert g.set_state(state) is g
    again = [values(minigrad.rand(5, dtype=minigrad.float32, generator=g)),
             values(minigrad.randn(3, dtype=minigrad.float64, generator=g)),
             values(minigrad.randint(0, 100, (6,), generator=g)), values(minigrad.randperm(7, generator=g))]
    assert again == ahead
    # the state moves with the stream, and goes into another generator
    assert g.get_state().tolist() != state.tolist()
    other = minigrad.Generator().set_state(state)
    assert values(minigrad.rand(5, dtype=minigrad.float32, generator=other)) == ahead[0]
    assert other.initial_seed() == 67280421310721  # set_state moves the stream, not the seed


def test_set_state_refuses_what_torch_refuses():
    for lib in LIBS.values():
        g = lib.Generator()
        assert raised(lambda g=g: g.set_state([1, 2])) == (TypeError, "expected a torch.ByteTensor, but got list")
        assert raised(lambda g=g, lib=lib: g.set_state(lib.zeros(40))) == \
            (TypeError, "RNG state must be a torch.ByteTensor")
        kind, message = raised(lambda g=g, lib=lib: g.set_state(lib.zeros(3, dtype=lib.uint8)))
        assert kind is RuntimeError and message.endswith("but found the input RNG state size to be 3")
        assert raised(lambda lib=lib: lib.set_rng_state([1])) == \
            (TypeError, "expected a torch.ByteTensor, but got list")


def test_a_generator_of_its_own_leaves_the_default_stream_alone():
    minigrad.manual_seed(0)
    expected = values(minigrad.rand(6))
    minigrad.manual_seed(0)
    g = minigrad.Generator().manual_seed(0)
    state = minigrad.get_rng_state()
    minigrad.randn(100, generator=g)
    minigrad.ones(4).uniform_(generator=g)
    minigrad.nn.init.kaiming_uniform_(minigrad.empty(3, 4), generator=g)
    assert minigrad.get_rng_state().tolist() == state.tolist()
    assert values(minigrad.rand(6)) == expected


def test_manual_seed_keeps_its_numpy_stream():
    """Seeded runs give the numbers they always gave: NumPy's default_rng(seed), drawn in the tensor's dtype."""
    minigrad.manual_seed(7)
    expected = np.random.default_rng(7)
    np.testing.assert_array_equal(minigrad.rand(4).numpy(), expected.random(4, dtype=np.float32))
    np.testing.assert_array_equal(minigrad.randn(3, dtype=minigrad.float64).numpy(),
                                  expected.standard_normal(3, dtype=np.float64))
    np.testing.assert_array_equal(minigrad.randperm(6).numpy(), expected.permutation(6))
    g = minigrad.Generator().manual_seed(7)
    np.testing.assert_array_equal(minigrad.rand(4, generator=g).numpy(),
                                  np.random.default_rng(7).random(4, dtype=np.float32))


def test_global_seed_state_and_initial_seed():
    assert minigrad.manual_seed(21).initial_seed() == 21 == minigrad.initial_seed()
    state = minigrad.get_rng_state()
    assert state.tolist() == minigrad.default_generator.get_state().tolist()
    a = values(minigrad.randn(4))
    minigrad.set_rng_state(state)
    assert values(minigrad.randn(4)) == a
    seed = minigrad.seed()
    assert isinstance(seed, int) and 0 <= seed < 2**64 and minigrad.initial_seed() == seed
    assert minigrad.seed() != seed  # nondeterministic
    # the default generator's own methods act on the default stream
    minigrad.default_generator.manual_seed(21)
    assert minigrad.initial_seed() == 21 and values(minigrad.randn(4)) == a
    assert minigrad.random.initial_seed() == 21 and minigrad.random.manual_seed(3) is minigrad.default_generator


def test_a_generator_pickles_with_its_seed_and_place_in_the_stream():
    for lib in LIBS.values():
        g = lib.Generator().manual_seed(9)
        lib.rand(3, generator=g)
        copy = pickle.loads(pickle.dumps(g))
        assert copy.initial_seed() == 9
        assert values(lib.rand(4, generator=copy)) == values(lib.rand(4, generator=g))


def test_fork_rng_puts_the_default_stream_back():
    for lib in LIBS.values():
        lib.manual_seed(2)
        with lib.random.fork_rng():
            lib.rand(10)
        after = values(lib.rand(3))
        lib.manual_seed(2)
        assert values(lib.rand(3)) == after


RANDOM_CALLS = {
    "rand": lambda lib, g: lib.rand(2, 3, generator=g),
    "randn": lambda lib, g: lib.randn((4,), generator=g, dtype=lib.float64),
    "randint": lambda lib, g: lib.randint(0, 50, (5,), generator=g),
    "randint(high, size)": lambda lib, g: lib.randint(50, (5,), generator=g),
    "randperm": lambda lib, g: lib.randperm(8, generator=g),
    "normal(numbers)": lambda lib, g: lib.normal(2.0, 3.0, (4,), generator=g),
    "normal(tensors)": lambda lib, g: lib.normal(lib.zeros(4), lib.ones(4), generator=g),
    "normal(mean tensor)": lambda lib, g: lib.normal(lib.zeros(4), 2.0, generator=g),
    "rand_like": lambda lib, g: lib.rand_like(lib.zeros(3), generator=g),
    "randn_like": lambda lib, g: lib.randn_like(lib.zeros(3), generator=g),
    "Tensor.normal_": lambda lib, g: lib.zeros(5).normal_(1.0, 2.0, generator=g),
    "Tensor.uniform_": lambda lib, g: lib.zeros(5).uniform_(-1.0, 1.0, generator=g),
    "init.uniform_": lambda lib, g: lib.nn.init.uniform_(lib.zeros(5), generator=g),
    "init.normal_": lambda lib, g: lib.nn.init.normal_(lib.zeros(5), 0.0, 2.0, generator=g),
    "init.xavier_uniform_": lambda lib, g: lib.nn.init.xavier_uniform_(lib.zeros(3, 4), generator=g),
    "init.xavier_normal_": lambda lib, g: lib.nn.init.xavier_normal_(lib.zeros(3, 4), 1.0, g),
    "init.kaiming_uniform_": lambda lib, g: lib.nn.init.kaiming_uniform_(lib.zeros(3, 4), generator=g),
    "init.kaiming_normal_": lambda lib, g: lib.nn.init.kaiming_normal_(lib.zeros(3, 4), mode="fan_out",
                                                                       generator=g),
}


@pytest.mark.parametrize("name", list(RANDOM_CALLS))
def test_every_random_function_draws_from_its_generator(name):
    call = RANDOM_CALLS[name]
    expected = call(torch, torch.Generator().manual_seed(1))  # the call is torch's too
    first = call(minigrad, minigrad.Generator().manual_seed(1))
    assert tuple(first.shape) == tuple(expected.shape) and str(first.dtype)[9:] == str(expected.dtype)[6:]
    state = minigrad.get_rng_state()
    again = call(minigrad, minigrad.Generator().manual_seed(1))
    assert minigrad.get_rng_state().tolist() == state.tolist()  # the default stream did not move
    assert values(again) == values(first)
    assert values(call(minigrad, minigrad.Generator().manual_seed(2))) != values(first)
    # with generator=None, the default stream (as before)
    call(minigrad, None)
    assert minigrad.get_rng_state().tolist() != state.tolist()


def test_a_generator_of_the_wrong_kind_is_refused(monkeypatch):
    with pytest.raises(TypeError, match="generator must be a minigrad.Generator"):
        minigrad.randn(2, generator=np.random.default_rng(0))
    device = use_strict_cupy(monkeypatch)
    g = minigrad.Generator(device)
    assert g.device == minigrad.device("cuda", 0)
    assert raised(lambda: minigrad.randn(2, generator=g)) == \
        (RuntimeError, "Expected a 'cpu' device type for generator but found 'cuda'")
    with pytest.raises(RuntimeError, match="Expected a 'cuda' device type for generator but found 'cpu'"):
        minigrad.randn(2, device=device, generator=minigrad.Generator())
    a = minigrad.randn(3, device=device, generator=g.manual_seed(4))
    b = minigrad.randn(3, device=device, generator=minigrad.Generator(device).manual_seed(4))
    assert a.device.type == "cuda" and values(a.cpu()) == values(b.cpu())


def test_gpu_default_generators_follow_the_seeds(monkeypatch):
    device = use_strict_cupy(monkeypatch)
    minigrad.manual_seed(8)
    assert minigrad.cuda.initial_seed() == 8
    a = minigrad.randn(3, device=device)
    minigrad.manual_seed(8)
    assert values(minigrad.randn(3, device=device).cpu()) == values(a.cpu())
    minigrad.random.cuda_default_generator(0).manual_seed(12)
    assert minigrad.cuda.initial_seed() == 12 and minigrad.initial_seed() == 8  # the host's stays
    minigrad.cuda.seed()
    assert minigrad.cuda.initial_seed() != 12
    minigrad.cuda.seed_all()
    seeded = minigrad.cuda.initial_seed()
    assert minigrad.initial_seed() == 8 and seeded != 12
    assert minigrad.randn(2, device=device).device.type == "cuda"


def test_without_a_gpu_the_cuda_generators_raise_and_the_lazy_calls_do_nothing(monkeypatch):
    monkeypatch.setattr(_backend, "_cupy", None)
    monkeypatch.setattr(_backend, "_cupy_error", "CuPy is not installed")
    for fn in (lambda: minigrad.Generator("cuda"), minigrad.cuda.get_rng_state, minigrad.cuda.initial_seed,
               lambda: minigrad.cuda.set_rng_state(minigrad.get_rng_state())):
        assert raised(fn) == (RuntimeError, "minigrad has no CUDA device: CuPy is not installed")
    assert minigrad.cuda.get_rng_state_all() == []
    assert minigrad.cuda.seed() is None and minigrad.cuda.seed_all() is None
    with minigrad.random.fork_rng():  # the host's generator only
        minigrad.rand(2)


# -- threads and determinism ------------------------------------------------------------------------------


def test_set_num_threads_sets_numpys_blas():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    minigrad.set_num_threads(1)
    assert minigrad.get_num_threads() == 1

    def numpys_blas() -> list:  # other libraries (SciPy, torch) may have loaded BLAS libraries of their own
        return [m for m in threadpoolctl.threadpool_info()
                if m["internal_api"] == "openblas" and "numpy" in m["filepath"]]

    if not numpys_blas():
        pytest.skip("NumPy's BLAS is not the OpenBLAS of its wheel here")
    assert [m["num_threads"] for m in numpys_blas()] == [1]
    minigrad.set_num_threads(2)
    assert minigrad.get_num_threads() == 2 and [m["num_threads"] for m in numpys_blas()] == [2]


@pytest.mark.parametrize("n", [0, -1, 1.5, True])
def test_set_num_threads_refuses_what_torch_refuses(n):
    assert raised(lambda: minigrad.set_num_threads(n)) == raised(lambda: torch.set_num_threads(n))


def test_the_deterministic_switch_is_recorded_as_torchs():
    for lib in LIBS.values():
        assert not lib.are_deterministic_algorithms_enabled() and lib.get_deterministic_debug_mode() == 0
        assert lib.use_deterministic_algorithms(True) is None
        assert lib.are_deterministic_algorithms_enabled() and not lib.is_deterministic_algorithms_warn_only_enabled()
        assert lib.get_deterministic_debug_mode() == 2
        lib.use_deterministic_algorithms(True, warn_only=True)
        assert lib.is_deterministic_algorithms_warn_only_enabled() and lib.get_deterministic_debug_mode() == 1
        lib.set_deterministic_debug_mode("default")
        assert not lib.are_deterministic_algorithms_enabled()
        lib.set_deterministic_debug_mode("error")
        assert lib.are_deterministic_algorithms_enabled() and lib.get_deterministic_debug_mode() == 2
        lib.use_deterministic_algorithms(False)
    for call in (lambda lib: lib.use_deterministic_algorithms("yes"),
                 lambda lib: lib.use_deterministic_algorithms(True, warn_only=1),
                 lambda lib: lib.set_deterministic_debug_mode("loud"),
                 lambda lib: lib.set_deterministic_debug_mode(3),
                 lambda lib: lib.set_deterministic_debug_mode(1.0)):
        assert raised(lambda c=call: c(minigrad)) == raised(lambda c=call: c(torch))


# -- DataLoader's arguments -------------------------------------------------------------------------------


def dataset(lib, n: int = 10):
    return lib.utils.data.TensorDataset(lib.arange(n))


def batches(loader) -> list:
    out = []
    for b in loader:
        out.append(b[0].tolist() if isinstance(b, (list, tuple)) and hasattr(b[0], "tolist") else
                   b.tolist() if hasattr(b, "tolist") else b)
    return out


@pytest.mark.parametrize("kwargs", [
    {"num_workers": -1}, {"timeout": -1}, {"prefetch_factor": 2}, {"prefetch_factor": 0},
    {"persistent_workers": True}, {"num_workers": 2, "prefetch_factor": -1},
    {"multiprocessing_context": "spawn"}, {"num_workers": 2, "multiprocessing_context": "telepathy"},
    {"num_workers": 2, "multiprocessing_context": 5},
], ids=repr)
def test_dataloader_refuses_what_torch_refuses(kwargs):
    got = raised(lambda: minigrad.utils.data.DataLoader(dataset(minigrad), **kwargs))
    assert got == raised(lambda: torch.utils.data.DataLoader(dataset(torch), **kwargs))


def test_dataloader_keeps_the_worker_options_and_loads_in_order():
    def init(worker_id):
        raise AssertionError("no worker starts")

    kwargs = dict(batch_size=3, num_workers=2, timeout=5.0, worker_init_fn=init, multiprocessing_context="spawn",
                  persistent_workers=True, pin_memory_device="cuda", in_order=False, drop_last=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's warning about more workers than cores
        ours, theirs = (lib.utils.data.DataLoader(dataset(lib), **kwargs) for lib in (minigrad, torch))
    for name in ("num_workers", "timeout", "worker_init_fn", "persistent_workers", "pin_memory_device", "in_order",
                 "prefetch_factor", "generator", "drop_last", "batch_size"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert ours.multiprocessing_context.get_start_method() == theirs.multiprocessing_context.get_start_method()
    assert len(ours) == len(theirs) == 3
    assert batches(ours) == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    assert batches(ours) == batches(torch.utils.data.DataLoader(dataset(torch), batch_size=3, drop_last=True))
    assert minigrad.utils.data.DataLoader(dataset(minigrad), num_workers=1).prefetch_factor == 2


def test_dataloader_shuffles_with_its_generator():
    ds = dataset(minigrad, 12)

    def order(seed, global_seed):
        minigrad.manual_seed(global_seed)
        g = minigrad.Generator().manual_seed(seed)
        loader = minigrad.utils.data.DataLoader(ds, batch_size=5, shuffle=True, generator=g)
        return [batches(loader), batches(loader)]

    first = order(0, 1)
    assert first == order(0, 2)  # the generator, not the default stream, draws the order
    assert first != order(1, 1)
    assert first[0] != first[1]  # a new order each pass
    for epoch in first:
        assert sorted(sum(epoch, [])) == list(range(12)) and [len(b) for b in epoch] == [5, 5, 2]
    loader = minigrad.utils.data.DataLoader(ds, shuffle=True, generator=minigrad.Generator())
    assert loader.sampler.generator is loader.generator


REPRODUCIBLE = textwrap.dedent("""
    def seed_worker(worker_id):
        worker_seed = torch.initial_seed() % 2**32
        numpy.random.seed(worker_seed)
        random.seed(worker_seed)

    torch.manual_seed(0)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)

    g = torch.Generator()
    g.manual_seed(0)

    train = torch.utils.data.TensorDataset(torch.arange(20, dtype=torch.float32).reshape(10, 2), torch.arange(10))
    train_set, val_set = torch.utils.data.random_split(train, [0.8, 0.2], generator=torch.Generator().manual_seed(42))
    loader = torch.utils.data.DataLoader(train_set, batch_size=3, shuffle=True, num_workers=0,
                                         worker_init_fn=seed_worker, generator=g)
    model = torch.nn.Linear(2, 1)
    epochs = []
    for epoch in range(2):
        seen = []
        for x, y in loader:
            model(x).sum().backward()
            seen += y.tolist()
        epochs.append(seen)
    """)


def test_torchs_reproducibility_recipe_runs_unchanged():
    runs = {}
    for name, lib in LIBS.items():
        results = []
        for _ in range(2):
            scope = {"torch": lib, "numpy": np, "random": random}
            exec(REPRODUCIBLE, scope)
            results.append(scope["epochs"])
            assert sorted(scope["epochs"][0]) == sorted(scope["train_set"].indices)
            assert len(scope["train_set"]) == 8 and len(scope["val_set"]) == 2
        assert results[0] == results[1]  # the same order on every run
        runs[name] = results[0]
    assert [len(e) for e in runs["minigrad"]] == [len(e) for e in runs["torch"]] == [8, 8]


# -- IterableDataset and ChainDataset ------------------------------------------------------------------------


def stream_class(lib, n: int, with_len: bool = True):
    class Stream(lib.utils.data.IterableDataset):
        def __init__(self, start: int = 0):
            self.start = start

        def __iter__(self):
            assert lib.utils.data.get_worker_info() is None
            return iter(range(self.start, self.start + n))

    if with_len:
        Stream.__len__ = lambda self: n
    return Stream


@pytest.mark.parametrize(("batch_size", "drop_last"), [(1, False), (3, False), (3, True), (7, False), (7, True),
                                                       (10, True), (None, False)])
def test_dataloader_batches_an_iterable_dataset_as_torch(batch_size, drop_last):
    got, expected = (lib.utils.data.DataLoader(stream_class(lib, 7)(), batch_size=batch_size, drop_last=drop_last)
                     for lib in (minigrad, torch))
    assert batches(got) == batches(expected)
    assert len(got) == len(expected)
    assert type(got.sampler).__name__ == type(expected.sampler).__name__ == "_InfiniteConstantSampler"


def test_an_iterable_dataset_without_a_length_streams_but_has_no_len():
    got, expected = (lib.utils.data.DataLoader(stream_class(lib, 5, with_len=False)(), batch_size=2)
                     for lib in (minigrad, torch))
    assert batches(got) == batches(expected) == [[0, 1], [2, 3], [4]]
    assert raised(lambda: len(got)) == raised(lambda: len(expected))


def test_an_iterable_dataset_refuses_shuffle_and_samplers_as_torch():
    for kwargs in ({"shuffle": True}, {"shuffle": 1}):
        assert raised(lambda k=kwargs: minigrad.utils.data.DataLoader(stream_class(minigrad, 3)(), **k)) == \
            raised(lambda k=kwargs: torch.utils.data.DataLoader(stream_class(torch, 3)(), **k))
    for name in ("sampler", "batch_sampler"):
        kind, message = raised(lambda n=name: minigrad.utils.data.DataLoader(stream_class(minigrad, 3)(),
                                                                             **{n: [[0]]}))
        theirs = raised(lambda n=name: torch.utils.data.DataLoader(stream_class(torch, 3)(), **{n: [[0]]}))
        assert (kind, message) == theirs
    for lib in LIBS.values():  # shuffle=False is accepted
        assert batches(lib.utils.data.DataLoader(stream_class(lib, 3)(), shuffle=False)) == [[0], [1], [2]]
    with pytest.raises(NotImplementedError):
        iter(minigrad.utils.data.IterableDataset())


def test_chain_dataset_and_adding_streams():
    results = {}
    for name, lib in LIBS.items():
        stream = stream_class(lib, 3)
        chain = lib.utils.data.ChainDataset([stream(0), stream(10)])
        added = stream(0) + stream(100)
        assert isinstance(added, lib.utils.data.ChainDataset)
        bad = lib.utils.data.ChainDataset([stream(0), dataset(lib, 2)])
        results[name] = (list(chain), len(chain), list(added), batches(lib.utils.data.DataLoader(chain, batch_size=4)),
                         raised(lambda b=bad: list(b)), raised(lambda b=bad: len(b)))
    assert results["minigrad"] == results["torch"]
    assert results["minigrad"][0] == [0, 1, 2, 10, 11, 12]


# -- ConcatDataset ------------------------------------------------------------------------------------------


def test_concat_dataset_indexes_as_torch():
    parts = {name: [lib.utils.data.TensorDataset(lib.arange(n) + 100 * k) for k, n in enumerate((3, 0, 4, 1))]
             for name, lib in LIBS.items()}
    ours, theirs = (LIBS[name].utils.data.ConcatDataset(parts[name]) for name in ("minigrad", "torch"))
    assert len(ours) == len(theirs) == 8
    assert ours.cumulative_sizes == theirs.cumulative_sizes == [3, 3, 7, 8]
    for i in range(-8, 8):
        assert ours[i][0].item() == theirs[i][0].item(), i
    for i in (-9, 8, 20):
        assert raised(lambda i=i: ours[i]) == raised(lambda i=i: theirs[i])
    got, expected = (batches(LIBS[name].utils.data.DataLoader(d, batch_size=3)) for name, d in
                     (("minigrad", ours), ("torch", theirs)))
    assert got == expected
    added = dataset(minigrad, 2) + dataset(minigrad, 3)
    assert isinstance(added, minigrad.utils.data.ConcatDataset) and len(added) == 5 and added[2][0].item() == 0


def test_concat_dataset_refuses_what_torch_refuses():
    for make in (lambda lib: lib.utils.data.ConcatDataset([]),
                 lambda lib: lib.utils.data.ConcatDataset([dataset(lib), stream_class(lib, 2)()])):
        assert raised(lambda m=make: m(minigrad)) == raised(lambda m=make: m(torch))
    # any sized, indexable dataset, as in torch
    both = [lib.utils.data.ConcatDataset([range(2), [10, 11, 12]]) for lib in (minigrad, torch)]
    assert [both[0][i] for i in range(5)] == [both[1][i] for i in range(5)] == [0, 1, 10, 11, 12]


# -- samplers ---------------------------------------------------------------------------------------------


def test_subset_random_sampler():
    indices = [3, 8, 13, 21, 34]
    for lib in LIBS.values():
        s = lib.utils.data.SubsetRandomSampler(indices, generator=lib.Generator().manual_seed(0))
        assert len(s) == 5 and sorted(s) == indices
        assert list(lib.utils.data.SubsetRandomSampler([])) == []
    g = minigrad.Generator()
    s = minigrad.utils.data.SubsetRandomSampler(indices, generator=g)
    g.manual_seed(5)
    first = [list(s) for _ in range(4)]
    g.manual_seed(5)
    assert [list(s) for _ in range(4)] == first
    assert len({tuple(p) for p in first}) > 1  # a new order each pass
    loader = minigrad.utils.data.DataLoader(dataset(minigrad, 40), batch_size=2, sampler=s)
    assert sorted(sum(batches(loader), [])) == indices


@pytest.mark.parametrize("args", [([1.0, 2.0], 0), ([1.0, 2.0], 2.0), ([1.0, 2.0], True), ([1.0, 2.0], 2, 1),
                                  ([[1.0, 2.0]], 2), (5.0, 2)], ids=repr)
def test_weighted_random_sampler_refuses_what_torch_refuses(args):
    got = raised(lambda: minigrad.utils.data.WeightedRandomSampler(*args))
    assert got == raised(lambda: torch.utils.data.WeightedRandomSampler(*args))


@pytest.mark.parametrize(("weights", "num_samples", "replacement"), [
    ([1.0, -1.0], 1, True), ([1.0, float("nan")], 1, True), ([1.0, float("inf")], 1, True), ([0.0, 0.0], 1, True),
    ([], 2, True), ([1.0, 2.0], 3, False), ([-1.0, 1.0], 3, False), ([0.0, 0.0], 2, False),
], ids=repr)
def test_weighted_random_sampler_refuses_bad_distributions_when_drawing_as_torch(weights, num_samples, replacement):
    ours, theirs = (lib.utils.data.WeightedRandomSampler(weights, num_samples, replacement)
                    for lib in (minigrad, torch))
    assert raised(lambda: list(ours)) == raised(lambda: list(theirs))


def test_weighted_random_sampler_draws_in_proportion_to_the_weights():
    weights = [1.0, 0.0, 2.0, 3.0, 4.0]
    ours = minigrad.utils.data.WeightedRandomSampler(weights, 50_000, generator=minigrad.Generator().manual_seed(0))
    assert ours.weights.dtype == minigrad.float64 and ours.weights.tolist() == \
        torch.utils.data.WeightedRandomSampler(weights, 1).weights.tolist()
    assert len(ours) == 50_000
    draws = np.array(list(ours))
    counts = np.bincount(draws, minlength=5)
    assert counts[1] == 0
    np.testing.assert_allclose(counts / counts.sum(), np.array(weights) / 10, atol=0.01)
    # reproducible from the generator's seed, and the loader reads the drawn indices
    assert list(minigrad.utils.data.WeightedRandomSampler(weights, 30, generator=minigrad.Generator().manual_seed(0))) \
        == draws[:30].tolist()


def test_weighted_random_sampler_without_replacement_draws_each_index_once():
    weights = [5.0, 0.0, 1.0, 0.0, 3.0, 2.0]
    g = minigrad.Generator().manual_seed(1)
    for _ in range(50):
        drawn = list(minigrad.utils.data.WeightedRandomSampler(weights, 6, replacement=False, generator=g))
        assert sorted(drawn) == list(range(6))
        assert set(drawn[4:]) == {1, 3}  # weight 0 only after every other index, as torch's multinomial
    firsts = [list(minigrad.utils.data.WeightedRandomSampler(weights, 1, replacement=False, generator=g))[0]
              for _ in range(4000)]
    np.testing.assert_allclose(np.bincount(firsts, minlength=6) / 4000, np.array(weights) / 11, atol=0.03)
    theirs = list(torch.utils.data.WeightedRandomSampler(weights, 6, replacement=False))
    assert sorted(theirs) == list(range(6)) and set(theirs[4:]) == {1, 3}


def test_random_sampler_takes_a_generator():
    ds = range(9)
    s = minigrad.utils.data.RandomSampler(ds, generator=minigrad.Generator().manual_seed(3))
    t = minigrad.utils.data.RandomSampler(ds, generator=minigrad.Generator().manual_seed(3))
    assert list(s) == list(t) and sorted(s) == list(range(9))
    r = minigrad.utils.data.RandomSampler(ds, replacement=True, num_samples=40, generator=minigrad.Generator())
    assert len(list(r)) == 40 and set(r) <= set(range(9))
    # NumPy generators are still taken
    assert sorted(minigrad.utils.data.RandomSampler(ds, generator=np.random.default_rng(0))) == list(range(9))


def test_random_split_takes_a_generator_and_checks_fractions_as_torch():
    ds = range(10)
    split = minigrad.utils.data.random_split
    a = split(ds, [3, 7], generator=minigrad.Generator().manual_seed(1))
    b = split(ds, [3, 7], generator=minigrad.Generator().manual_seed(1))
    assert [s.indices for s in a] == [s.indices for s in b]
    assert sorted(a[0].indices + a[1].indices) == list(range(10))
    state = minigrad.get_rng_state()
    split(ds, [0.5, 0.5], generator=minigrad.Generator())
    assert minigrad.get_rng_state().tolist() == state.tolist()
    for lengths in ([0.3, 0.3, 0.4], [0.25, 0.75], [1.0]):
        assert [len(s) for s in split(ds, lengths)] == [len(s) for s in torch.utils.data.random_split(ds, lengths)]
    for lengths in ([1.2, -0.2], [0.5, 0.6], [3, 3]):
        assert raised(lambda x=lengths: split(ds, x)) == raised(lambda x=lengths: torch.utils.data.random_split(ds, x))
    for lib in LIBS.values():
        with pytest.warns(UserWarning, match="^Length of split at index 1 is 0. This might result in an empty "
                                             "dataset.$"):
            lib.utils.data.random_split(range(2), [0.9, 0.1])
    minigrad.manual_seed(4)
    default = [s.indices for s in split(ds, [5, 5])]
    minigrad.manual_seed(4)
    assert [s.indices for s in split(ds, [5, 5], generator=minigrad.default_generator)] == default


def test_get_worker_info_is_none_in_the_main_process():
    assert minigrad.utils.data.get_worker_info() is None is torch.utils.data.get_worker_info()
    for lib in LIBS.values():
        for name in ("ConcatDataset", "ChainDataset", "IterableDataset", "SubsetRandomSampler",
                     "WeightedRandomSampler", "get_worker_info"):
            assert hasattr(lib.utils.data, name)
