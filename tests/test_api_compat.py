"""torch API spellings that everyday scripts use, run on minigrad and on torch with the same results.

NumPy's ``axis=`` / ``keepdims=`` for ``dim`` / ``keepdim``, ``format`` of tensors, print options,
device probes (``backends.mps``, ``accelerator``), ``inference_mode`` and ``compile``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch as real_torch

import minigrad

LIBS = (minigrad, real_torch)
X = np.random.default_rng(0).normal(size=(2, 3, 4))


def _run(program, *args):
    """The program's result with each library: a plain value, or the type of the exception it raised."""
    results = []
    for lib in LIBS:
        try:
            out = program(lib, lib.tensor(X), *args)
        except Exception as e:  # the exception type is the result compared
            out = type(e)
        if isinstance(out, tuple):
            out = tuple(np.asarray(o.detach().numpy()) for o in out)
        elif not isinstance(out, type):
            out = np.asarray(out.detach().numpy())
        results.append(out)
    return results


ALIASES = {
    "sum": lambda lib, x: lib.sum(x, axis=1, keepdims=True),
    "sum_method": lambda lib, x: x.sum(axis=(0, 2)),
    "mean": lambda lib, x: lib.mean(x, axis=-1, keepdims=True),
    "mean_method_keepdims": lambda lib, x: x.mean(0, keepdims=True),
    "max": lambda lib, x: tuple(lib.max(x, axis=1, keepdims=True)),
    "min_method": lambda lib, x: tuple(x.min(axis=2)),
    "argmax": lambda lib, x: lib.argmax(x, axis=1, keepdims=True),
    "argmin_method": lambda lib, x: x.argmin(axis=0),
    "softmax": lambda lib, x: lib.softmax(x, axis=1),
    "softmax_method": lambda lib, x: x.softmax(axis=-1),
    "log_softmax": lambda lib, x: lib.log_softmax(x, axis=0),
    "log_softmax_method": lambda lib, x: x.log_softmax(axis=2),
    "std": lambda lib, x: lib.std(x, axis=1, keepdims=True),
    "var_method": lambda lib, x: x.var(axis=(0, 1)),
    "squeeze": lambda lib, x: lib.squeeze(x[:1], axis=0),
    "unsqueeze_method": lambda lib, x: x.unsqueeze(axis=1),
    "cat": lambda lib, x: lib.cat([x, x], axis=1),
    "concat": lambda lib, x: lib.concat([x, x], axis=2),
    "stack": lambda lib, x: lib.stack([x, x], axis=-1),
    # torch refuses a dim given twice, and keepdim with keepdims, with a TypeError
    "sum_dim_and_axis": lambda lib, x: lib.sum(x, dim=0, axis=0),
    "max_keepdim_and_keepdims": lambda lib, x: x.max(0, True, keepdims=True),
    "softmax_method_no_dim": lambda lib, x: x.softmax(),
    "unsqueeze_no_dim": lambda lib, x: lib.unsqueeze(x),
    "unknown_keyword": lambda lib, x: lib.mean(x, axes=0),
}


@pytest.mark.parametrize("name", ALIASES)
def test_axis_and_keepdims_aliases_as_torch(name):
    ours, theirs = _run(ALIASES[name])
    if isinstance(theirs, type):
        assert ours is theirs
    elif isinstance(theirs, tuple):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    else:
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("spec", [".4f", "5.2f", ".2e", "", "+.3g", ">12.1%"])
def test_format_of_a_0_dim_tensor_is_its_number(spec):
    for value in (0.123456789, -1234.5, 3.0):
        ours = minigrad.tensor(value, dtype=minigrad.float64, requires_grad=True) * 1
        theirs = real_torch.tensor(value, dtype=real_torch.float64, requires_grad=True) * 1
        assert format(ours, spec) == format(theirs, spec)
        assert f"{ours.item():{spec}}" == f"{theirs.item():{spec}}"
    assert f"{minigrad.tensor(7)}" == f"{real_torch.tensor(7)}" == "7"


def test_format_of_a_larger_tensor_takes_only_the_empty_spec():
    ours, theirs = minigrad.tensor([1.5, 2.0]), real_torch.tensor([1.5, 2.0])
    assert f"{ours}" == str(ours) == f"{theirs}"
    for lib_tensor in (ours, theirs):
        with pytest.raises(TypeError, match="unsupported format string passed to Tensor.__format__"):
            format(lib_tensor, ".2f")


@pytest.fixture
def default_printoptions():
    yield
    for lib in LIBS:
        lib.set_printoptions(profile="default")


@pytest.mark.parametrize("options", [
    {"precision": 2},
    {"threshold": 5},
    {"edgeitems": 1, "threshold": 10},
    {"linewidth": 30},
    {"sci_mode": True},
    {"sci_mode": False, "precision": 6},
    {"profile": "short"},
    {"profile": "full"},
    {"profile": "full", "precision": 1},
])
def test_set_printoptions_as_torch(options, default_printoptions):
    values = np.random.default_rng(1).normal(scale=50.0, size=(40, 30)).astype(np.float32)
    samples = [values, values[:2, :7], values[0, :12] * 1e-6, np.arange(2000.0, dtype=np.float32), values[0, 0]]
    for lib in LIBS:
        lib.set_printoptions(**options)
    for a in samples:
        assert repr(minigrad.tensor(a)) == repr(real_torch.tensor(a))
    for lib in LIBS:
        lib.set_printoptions(profile="default")
    assert repr(minigrad.tensor(values)) == repr(real_torch.tensor(values))


def test_device_probes_without_a_gpu_or_mps():
    assert minigrad.backends.mps.is_available() is real_torch.backends.mps.is_available() is False
    assert minigrad.accelerator.is_available() is minigrad.cuda.is_available()
    expected = minigrad.device("cuda") if minigrad.cuda.is_available() else None
    assert minigrad.accelerator.current_accelerator() == expected
    if not real_torch.accelerator.is_available():
        assert real_torch.accelerator.current_accelerator() is None


@pytest.mark.parametrize("lib", LIBS, ids=["minigrad", "torch"])
def test_inference_mode_as_torch(lib):
    w = lib.ones(2, requires_grad=True)
    with lib.inference_mode():
        assert not lib.is_grad_enabled()
        assert not (w * 2).requires_grad
    with lib.no_grad(), lib.inference_mode(False):
        assert lib.is_grad_enabled()
    with lib.inference_mode(mode=False):
        assert lib.is_grad_enabled()

    @lib.inference_mode
    def bare():
        return lib.is_grad_enabled()

    @lib.inference_mode()
    def called():
        """kept"""
        return lib.is_grad_enabled()

    @lib.inference_mode(False)
    def off():
        return lib.is_grad_enabled()

    assert (bare(), called(), off()) == (False, False, True)
    assert called.__name__ == "called" and called.__doc__ == "kept"
    assert lib.is_grad_enabled()


def test_compile_gives_back_the_model_or_function():
    # torch wraps it in an OptimizedModule; minigrad has nothing to compile, so there is no torch to compare with
    model = minigrad.nn.Linear(3, 2)
    assert minigrad.compile(model) is model
    assert minigrad.compile(model, mode="max-autotune", fullgraph=True) is model

    def step(x):
        return x * 2

    assert minigrad.compile(step, dynamic=False) is step
    assert minigrad.compile(mode="reduce-overhead")(step) is step
