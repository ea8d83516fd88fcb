"""Random generators with torch's API: ``Generator``, ``manual_seed``, ``seed``, ``get_rng_state`` ...

A ``Generator`` is a random stream of its own: pass it as ``generator=`` to ``randn``, ``rand``,
``randint``, ``randperm``, ``normal``, ``rand_like``, ``randn_like``, ``Tensor.normal_``,
``Tensor.uniform_``, the ``nn.init`` functions, the samplers and ``DataLoader``, and it draws the
numbers instead of minigrad's default generators, which it leaves untouched::

    g = minigrad.Generator().manual_seed(0)
    a = minigrad.randn(3, generator=g)

``default_generator`` is the host's default generator (what the functions draw from without
``generator=``); ``minigrad.manual_seed`` seeds it and every GPU's.

Under the hood each generator holds a NumPy ``Generator`` (PCG64) on the host, a CuPy one (cuRAND's
XORWOW) on a GPU; ``get_state`` gives the bit generator's state as a uint8 tensor that ``set_state``
puts back, so that the stream continues exactly where it was.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any

import numpy

from . import _backend
from .tensor import Tensor

__all__ = ["Generator", "default_generator", "fork_rng", "get_rng_state", "initial_seed", "manual_seed", "seed",
           "set_rng_state"]

DEFAULT_SEED = 67280421310721
"""The initial seed of a new ``Generator`` (torch's: two new generators give the same stream)."""

_PCG64_STATE_SIZE = 40  # bytes: state (16), increment (16), has_uint32 (4), uinteger (4)


def _new_rng(d: _backend.device, seed: int) -> Any:
    """A NumPy generator for the host, a CuPy one for a GPU, seeded with ``seed``."""
    if d.type == "cpu":
        return numpy.random.default_rng(seed)
    cp = _backend._load_cupy()
    with cp.cuda.Device(d.index or 0):
        return cp.random.default_rng(seed)


def _state_bytes(rng: Any) -> numpy.ndarray:
    """The state of ``rng``'s bit generator as bytes (a uint8 array on the host)."""
    if isinstance(rng, numpy.random.Generator):
        state = rng.bit_generator.state
        if state["bit_generator"] != "PCG64":
            raise RuntimeError(f"a minigrad generator holds a PCG64 bit generator, not {state['bit_generator']}")
        raw = (state["state"]["state"].to_bytes(16, "little") + state["state"]["inc"].to_bytes(16, "little")
               + int(state["has_uint32"]).to_bytes(4, "little") + int(state["uinteger"]).to_bytes(4, "little"))
        return numpy.frombuffer(raw, dtype=numpy.uint8).copy()
    # CuPy: the state is one device array, the cuRAND states of its threads
    return numpy.ascontiguousarray(_backend.to_host(rng.bit_generator._state)).reshape(-1).view(numpy.uint8).copy()


def _load_state(rng: Any, state: numpy.ndarray) -> None:
    """Put the bytes of ``_state_bytes`` back into ``rng``'s bit generator."""
    if isinstance(rng, numpy.random.Generator):
        if state.size != _PCG64_STATE_SIZE:
            raise RuntimeError(f"Expected a PCG64 generator state of size {_PCG64_STATE_SIZE} but found the input "
                               f"RNG state size to be {state.size}")
        raw = state.tobytes()
        rng.bit_generator.state = {
            "bit_generator": "PCG64",
            "state": {"state": int.from_bytes(raw[:16], "little"), "inc": int.from_bytes(raw[16:32], "little")},
            "has_uint32": int.from_bytes(raw[32:36], "little"),
            "uinteger": int.from_bytes(raw[36:40], "little"),
        }
        return
    bits = rng.bit_generator
    if state.size != bits._state.nbytes:
        raise RuntimeError(f"Expected a cuRAND generator state of size {bits._state.nbytes} but found the input RNG "
                           f"state size to be {state.size}")
    values = state.view(bits._state.dtype).reshape(bits._state.shape)
    bits._state[...] = _backend.move(values, _backend.device_of(bits._state))  # into the array its kernels read


def _state_array(new_state: Any) -> numpy.ndarray:
    """The bytes of a state tensor, checked as torch checks them."""
    if not isinstance(new_state, Tensor):
        raise TypeError(f"expected a torch.ByteTensor, but got {type(new_state).__name__}")
    if new_state._data.dtype != numpy.uint8:
        raise TypeError("RNG state must be a torch.ByteTensor")
    return numpy.ascontiguousarray(_backend.to_host(new_state._data)).reshape(-1)


class Generator:
    """torch.Generator: a random stream of its own, on the host (``'cpu'``) or a GPU (``'cuda'``).

    ``manual_seed(seed)`` restarts it from ``seed`` (and returns it), ``seed()`` from a
    nondeterministic seed (and returns that seed), ``initial_seed()`` says the seed it last started
    from (``DEFAULT_SEED`` for a new one, as in torch), ``get_state()`` / ``set_state(state)`` save
    and restore where it is. Drawing for a tensor on the other device type raises torch's error.

    Differs from torch: the numbers are NumPy's (PCG64) on the host and CuPy's (XORWOW) on a GPU,
    not torch's, so a seed gives other numbers than in torch. ``get_state()`` is 40 bytes on the
    host (the PCG64 state), not torch's 5056, and a state of torch's size is refused.
    """

    def __init__(self, device: Any = "cpu") -> None:
        d = _backend.as_device(device)
        if d.type == "cuda":
            _backend._load_cupy()  # without a GPU, say so now rather than at the first draw
            d = _backend.device("cuda", d.index or 0)
        self._device = d
        self._seed = DEFAULT_SEED
        self._rng: Any = None  # made at the first draw

    @property
    def device(self) -> _backend.device:
        return self._device

    def _generator(self) -> Any:
        """The NumPy or CuPy generator that draws the numbers."""
        if self._rng is None:
            self._rng = _new_rng(self._device, self._seed)
        return self._rng

    def _restart(self, seed: int) -> None:
        self._seed = seed
        self._rng = None

    def _rng_for(self, d: _backend.device) -> Any:
        """The generator to draw from for a tensor on ``d`` (``generator=`` of the random functions)."""
        if d.type != self._device.type:
            raise RuntimeError(f"Expected a '{d.type}' device type for generator but found '{self._device.type}'")
        return self._generator()

    def manual_seed(self, seed: int) -> Generator:
        """Restart the stream from ``seed`` (an int; a negative one wraps to 64 bits, as in torch); returns self."""
        if isinstance(seed, bool) or not isinstance(seed, (int, numpy.integer)):
            raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
        self._restart(_backend.seed_value(seed))
        return self

    def seed(self) -> int:
        """Restart the stream from a nondeterministic seed, and return that seed."""
        seed = _backend.fresh_seed()
        self._restart(seed)
        return seed

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> Tensor:
        """Where the stream is, as a uint8 tensor on the host."""
        return Tensor._wrap(_state_bytes(self._generator()))

    def set_state(self, new_state: Tensor) -> Generator:
        """Continue the stream from ``new_state`` (from ``get_state``); returns self."""
        _load_state(self._generator(), _state_array(new_state))
        return self

    def __repr__(self) -> str:
        return f"<minigrad.Generator object at {id(self):#x}>"

    def __reduce__(self) -> tuple:
        return _rebuild, (str(self._device), self.initial_seed(), self.get_state()._data.tobytes())


def _rebuild(device: str, seed: int, state: bytes) -> Generator:
    g = Generator(device).manual_seed(seed)
    _load_state(g._generator(), numpy.frombuffer(state, dtype=numpy.uint8))
    return g


class _DefaultGenerator(Generator):
    """A device's default generator: its stream is the one minigrad's random functions draw from without
    ``generator=`` (kept in minigrad._backend, which ``manual_seed`` reseeds)."""

    def __init__(self, device: _backend.device) -> None:  # no GPU check: torch.cuda's are made lazily too
        self._device = device

    def _generator(self) -> Any:
        return _backend.rng(self._device)

    def _restart(self, seed: int) -> None:
        if self._device.type == "cpu":
            _backend.seed_host(seed)
        else:
            _backend.seed_gpu(self._device.index or 0, seed)

    def initial_seed(self) -> int:
        return _backend.initial_seed(self._device)


default_generator: Generator = _DefaultGenerator(_backend.CPU)
"""The host's default generator: what the random functions draw from without ``generator=``."""

_cuda_default_generators: dict[int, Generator] = {}


def cuda_default_generator(device: Any = "cuda") -> Generator:
    """The default generator of a GPU (``device``: ``'cuda'``, ``'cuda:1'``, an index); raises without a GPU."""
    d = _backend.as_device(device)
    if d.type != "cuda":
        raise ValueError(f"Expected a cuda device, but got: {d}")
    _backend._load_cupy()
    index = d.index or 0
    if index not in _cuda_default_generators:
        _cuda_default_generators[index] = _DefaultGenerator(_backend.device("cuda", index))
    return _cuda_default_generators[index]


def manual_seed(seed: int) -> Generator:
    """Seed the default generators of the host and of every GPU; returns ``default_generator``, as torch.

    ``seed`` is anything ``int()`` takes, as in torch; a negative one wraps to 64 bits.

    Differs from torch: the generators are NumPy's (CuPy's on a GPU), so a seed gives other numbers
    than torch's.
    """
    _backend.manual_seed(seed)
    return default_generator


def seed() -> int:
    """Seed the default generators of the host and of every GPU from a nondeterministic seed; returns it."""
    value = _backend.fresh_seed()
    _backend.manual_seed(value)
    return value


def initial_seed() -> int:
    """The seed the host's default generator last started from (a nondeterministic one until seeded)."""
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    """The state of the host's default generator, as a uint8 tensor (``default_generator.get_state()``)."""
    return default_generator.get_state()


def set_rng_state(new_state: Tensor) -> None:
    """Put back a state of the host's default generator from ``get_rng_state``."""
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices: Iterable[Any] | None = None, enabled: bool = True, _caller: str = "fork_rng",
             _devices_kw: str = "devices", device_type: str | None = None) -> Iterator[None]:
    """Within the block, draw freely: on leaving it the host's default generator and those of ``devices`` (GPU
    indices; every GPU when None) are put back where they were."""
    if not enabled:
        yield
        return
    if device_type not in (None, "cuda"):
        raise RuntimeError(f"{device_type} does not have a random generator in minigrad")
    if devices is None:
        devices = range(_backend.cuda_device_count())
    saved = [(g, g.get_state()) for g in [default_generator] + [cuda_default_generator(d) for d in devices]]
    try:
        yield
    finally:
        for g, state in saved:
            g.set_state(state)
