"""Asking for a GPU without one: every way in says that minigrad has no CUDA device and why (CuPy missing, no GPU
visible, a broken driver), never torch's "Torch not compiled with CUDA enabled", which points at the wrong fix."""

from __future__ import annotations

import re
import sys
import types

import pytest

import minigrad
from minigrad import _backend

NOT_INSTALLED = 'minigrad has no CUDA device: CuPy is not installed (pip install -e ".[cuda]" in the minigrad checkout)'


def fake_cupy(count=None, error=None) -> types.ModuleType:
    """A stand-in ``cupy`` module whose runtime reports ``count`` GPUs or raises ``error``."""

    def get_device_count():
        if error is not None:
            raise error
        return count

    runtime = types.SimpleNamespace(getDeviceCount=get_device_count)
    module = types.ModuleType("cupy")
    module.cuda = types.SimpleNamespace(runtime=runtime)
    return module


@pytest.fixture
def cupy_module(monkeypatch):
    """Forget what the backend learnt about CuPy and let a test choose what ``import cupy`` gives."""
    monkeypatch.setattr(_backend, "_cupy", None)
    monkeypatch.setattr(_backend, "_cupy_error", None)

    def install(module):
        monkeypatch.setitem(sys.modules, "cupy", module)  # None makes the import raise ImportError

    return install


GPU_REQUESTS = {
    "Tensor.cuda()": lambda: minigrad.ones(2).cuda(),
    "Tensor.to('cuda')": lambda: minigrad.ones(2).to("cuda"),
    "Tensor.to(device('cuda', 0))": lambda: minigrad.ones(2).to(minigrad.device("cuda", 0)),
    "ones(device='cuda')": lambda: minigrad.ones(2, device="cuda"),
    "tensor(device='cuda:0')": lambda: minigrad.tensor([1.0, 2.0], device="cuda:0"),
    "Module.cuda()": lambda: minigrad.nn.Linear(2, 2).cuda(),
    "Module.to('cuda')": lambda: minigrad.nn.Linear(2, 2).to("cuda"),
    "minigrad.cuda.synchronize()": lambda: minigrad.cuda.synchronize(),
}


@pytest.mark.parametrize("request_gpu", GPU_REQUESTS.values(), ids=GPU_REQUESTS.keys())
def test_without_cupy_every_gpu_request_names_minigrad_and_cupy(cupy_module, request_gpu):
    cupy_module(None)
    with pytest.raises(RuntimeError, match=re.escape(NOT_INSTALLED)) as err:
        request_gpu()
    assert "Torch not compiled" not in str(err.value)


@pytest.mark.parametrize(("module", "reason"), [
    (fake_cupy(count=0), "CuPy is installed but no CUDA GPU is visible"),
    (fake_cupy(error=OSError("libcuda.so.1: cannot open shared object file")),
     "CuPy could not reach a CUDA GPU: libcuda.so.1: cannot open shared object file"),
])
def test_cupy_without_a_gpu_says_which_part_is_missing(cupy_module, module, reason):
    cupy_module(module)
    with pytest.raises(RuntimeError, match=re.escape(f"minigrad has no CUDA device: {reason}")):
        minigrad.zeros(3, device="cuda")
    with pytest.raises(RuntimeError, match=re.escape(reason)):  # the reason is kept for later requests
        minigrad.cuda.synchronize()


def test_queries_answer_without_raising(cupy_module):
    cupy_module(None)
    assert minigrad.cuda.is_available() is False
    assert minigrad.cuda.device_count() == 0
    minigrad.cuda.manual_seed(0)  # as torch's: seeding a GPU that is not there is not an error
    minigrad.cuda.manual_seed_all(0)
    assert minigrad.device("cuda:1").index == 1  # naming a device needs no GPU
