"""minigrad.utils.threads: the rule that picks BLAS threads, and the limit it sets through threadpoolctl."""

import builtins
import subprocess
import sys

import numpy as np
import pytest

import minigrad
from minigrad import nn
from minigrad.utils.threads import SMALL_PRODUCT, blas_threads_for, cpu_count, largest_product, limit_blas_threads

threadpoolctl = pytest.importorskip("threadpoolctl")


def blas_limits() -> set[int]:
    """The thread counts NumPy's BLAS libraries report now."""
    np.ones((2, 2)) @ np.ones((2, 2))  # the BLAS is loaded with NumPy; make sure it is
    return {info["num_threads"] for info in threadpoolctl.threadpool_info() if info["user_api"] == "blas"}


def mlp(*widths: int) -> nn.Sequential:
    layers = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def test_largest_product_of_a_model_is_batch_times_the_largest_layer():
    model = mlp(64, 256, 128, 10)
    assert largest_product(model, batch_size=20) == 20 * 256 * 128  # the middle layer
    nested = nn.Sequential(nn.Flatten(), nn.Sequential(nn.Linear(784, 100), nn.ReLU()), nn.Linear(100, 10))
    assert largest_product(nested, batch_size=3) == 3 * 784 * 100
    assert largest_product(nn.Sequential(nn.ReLU()), batch_size=64) == 0  # no matrix products at all


def test_largest_product_of_sizes():
    assert largest_product([(2, 3, 4), (10, 10, 10), (1, 5, 1)]) == 1000
    assert largest_product(iter([(2, 3, 4)])) == 24
    with pytest.raises(ValueError, match=r"\(m, k, n\)"):
        largest_product([(2, 3)])


def test_a_model_needs_its_batch_size():
    with pytest.raises(TypeError, match="batch_size"):
        blas_threads_for(mlp(64, 10))


def test_one_thread_below_the_threshold_all_cores_from_it():
    assert blas_threads_for([(SMALL_PRODUCT - 1, 1, 1)]) == 1
    assert blas_threads_for([(SMALL_PRODUCT, 1, 1)]) == cpu_count()
    # the course's digits MLP on batches of 64: 64 * 64 * 128 = 524,288 multiply-adds
    assert blas_threads_for(mlp(64, 128, 10), batch_size=64) == 1
    # an MNIST-sized MLP on batches of 256: 256 * 784 * 1024 = 2.1e8
    assert blas_threads_for(mlp(784, 1024, 1024, 10), batch_size=256) == cpu_count()
    assert blas_threads_for([(100, 100, 100)], threshold=10**6) == cpu_count()  # the threshold is a parameter


def test_limit_blas_threads_sets_one_thread_inside_and_restores_it():
    before = blas_limits()
    assert before, "NumPy's BLAS is visible to threadpoolctl"
    with limit_blas_threads(mlp(64, 128, 10), batch_size=32) as n:
        assert n == 1
        assert blas_limits() == {1}
        # and minigrad's matrix products still run and agree with NumPy's
        a, b = minigrad.randn(32, 64), minigrad.randn(64, 128)
        np.testing.assert_allclose((a @ b).numpy(), a.numpy() @ b.numpy(), rtol=1e-5)
    assert blas_limits() == before


def test_limit_blas_threads_never_raises_a_limit_for_large_products():
    large = [(4096, 4096, 4096)]
    with threadpoolctl.threadpool_limits(1, user_api="blas"):  # as if OPENBLAS_NUM_THREADS=1 had been set
        with limit_blas_threads(large) as n:
            assert n == cpu_count()
            assert blas_limits() == {1}
    before = blas_limits()
    with limit_blas_threads(large):
        assert blas_limits() == before


def test_without_threadpoolctl_the_error_says_what_to_install(monkeypatch):
    real_import = builtins.__import__

    def no_threadpoolctl(name, *args, **kwargs):
        if name == "threadpoolctl":
            raise ModuleNotFoundError("No module named 'threadpoolctl'")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "threadpoolctl", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_threadpoolctl)
    with pytest.raises(ImportError, match=r'pip install -e "\.\[examples\]"'):
        with limit_blas_threads([(1, 1, 1)]):
            pass
    # the rule itself needs nothing but minigrad
    assert blas_threads_for([(1, 1, 1)]) == 1


def test_importing_minigrad_does_not_import_threadpoolctl():
    # threadpoolctl is an extra of the examples, not a dependency of minigrad
    code = "import sys, minigrad, minigrad.utils.threads; print('threadpoolctl' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
