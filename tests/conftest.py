"""Shared fixtures and helpers: conversions between minigrad and torch (the test oracle), default-dtype and RNG
fixtures."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from strict_cupy import StrictCuPy

import minigrad
from minigrad import _backend

TORCH_DTYPES = {
    minigrad.float16: torch.float16,
    minigrad.float32: torch.float32,
    minigrad.float64: torch.float64,
    minigrad.int32: torch.int32,
    minigrad.int64: torch.int64,
    minigrad.bool: torch.bool,
}


def torch_dtype(d: minigrad.dtype) -> torch.dtype:
    return TORCH_DTYPES[d]


def to_torch(t: minigrad.Tensor, requires_grad: bool | None = None) -> torch.Tensor:
    """An independent torch copy of ``t`` (same values, dtype and, unless given, requires_grad)."""
    out = torch.from_numpy(np.array(t.detach().numpy(), copy=True))
    if requires_grad is None:
        requires_grad = t.requires_grad
    return out.requires_grad_(requires_grad)


def to_np(t) -> np.ndarray:
    """The values of a minigrad or torch tensor (or anything array-like) as a NumPy array."""
    if isinstance(t, torch.Tensor):
        return t.detach().numpy()
    if isinstance(t, minigrad.Tensor):
        return np.asarray(t.detach().numpy())
    return np.asarray(t)


def assert_close(actual, expected, atol: float = 1e-10, rtol: float = 1e-10, check_dtype: bool = True) -> None:
    """Values (and dtype, and shape) of a minigrad tensor equal those of a torch tensor."""
    a, e = to_np(actual), to_np(expected)
    assert a.shape == e.shape, f"shape {a.shape} != {e.shape}"
    if check_dtype:
        assert a.dtype == e.dtype, f"dtype {a.dtype} != {e.dtype}"
    np.testing.assert_allclose(a.astype(np.float64) if a.dtype != bool else a,
                               e.astype(np.float64) if e.dtype != bool else e, atol=atol, rtol=rtol)


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded NumPy generator, so test inputs are reproducible."""
    return np.random.default_rng(1234)


@pytest.fixture
def float64_default():
    """Make float64 the default dtype in both libraries for the test, and restore the previous defaults."""
    old_mg, old_torch = minigrad.get_default_dtype(), torch.get_default_dtype()
    minigrad.set_default_dtype(minigrad.float64)
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        minigrad.set_default_dtype(old_mg)
        torch.set_default_dtype(old_torch)


@pytest.fixture(autouse=True)
def _restore_default_dtype():
    """No test leaks a changed default dtype into the next."""
    old_mg, old_torch = minigrad.get_default_dtype(), torch.get_default_dtype()
    yield
    minigrad.set_default_dtype(old_mg)
    torch.set_default_dtype(old_torch)


def use_strict_cupy(monkeypatch: pytest.MonkeyPatch) -> str:
    """Make the strict CuPy stand-in (tests/strict_cupy.py) minigrad's "cuda" device for one test."""
    monkeypatch.setattr(_backend, "_cupy", StrictCuPy())
    monkeypatch.setattr(_backend, "_cupy_error", None)
    monkeypatch.setattr(_backend, "_gpu_rngs", {})
    return "cuda"


@pytest.fixture
def cuda(monkeypatch: pytest.MonkeyPatch) -> str:
    """The strict CuPy stand-in as minigrad's "cuda" device: device arrays that refuse host arrays."""
    return use_strict_cupy(monkeypatch)


def _real_cuda_reason() -> str | None:
    """Why no real GPU can be used here (None when CuPy sees one)."""
    if minigrad.cuda.is_available():
        return None
    try:
        _backend._load_cupy()
    except RuntimeError as exc:
        return str(exc)
    return "no CUDA device"


@pytest.fixture(params=["strict", pytest.param("cuda", marks=pytest.mark.cuda)])
def device(request, monkeypatch) -> str:
    """"cuda" twice: the strict CuPy stand-in, then a real GPU where CuPy finds one (marked ``cuda``)."""
    if request.param == "strict":
        use_strict_cupy(monkeypatch)
    else:
        reason = _real_cuda_reason()
        if reason:
            pytest.skip(f"needs CuPy and a CUDA GPU: {reason}")
    return "cuda"
