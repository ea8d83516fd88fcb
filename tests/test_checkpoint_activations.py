"""Activation checkpointing (minigrad/utils/checkpoint.py) against three independent truths: the plain run of
the same network (bit for bit, Dropout included), torch's torch.utils.checkpoint, and finite differences; and
its memory against the formula in the module's docstring."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import minigrad as mg
from minigrad.memory import measure
from minigrad.utils.checkpoint import CheckpointError, checkpoint, checkpoint_sequential

WIDTH = 8


def mlp(depth: int, dtype: mg.dtype, dropout: float = 0.0) -> mg.nn.Sequential:
    layers: list = []
    for _ in range(depth):
        layers += [mg.nn.Linear(WIDTH, WIDTH), mg.nn.Tanh()]
        if dropout:
            layers.append(mg.nn.Dropout(dropout))
    return mg.nn.Sequential(*layers).to(dtype)


def grads(model: mg.nn.Module, *extra: mg.Tensor) -> list:
    return [p.grad._data.copy() for p in model.parameters()] + [t.grad._data.copy() for t in extra]


def run(model: mg.nn.Sequential, x: mg.Tensor, forward: object) -> tuple:
    """Loss and gradients of one step, with the generator seeded the same way before it."""
    model.zero_grad()
    x.grad = None
    mg.manual_seed(7)
    loss = (forward() ** 2).sum()
    loss.backward()
    return loss.item(), grads(model, x)


@pytest.mark.parametrize("dtype", [mg.float64, mg.float32])
def test_bit_identical_to_the_plain_run_with_dropout(dtype):
    mg.manual_seed(0)
    model = mlp(6, dtype, dropout=0.3)  # training mode: each Dropout draws a mask
    x = mg.randn(5, WIDTH, dtype=dtype, requires_grad=True)
    loss, expected = run(model, x, lambda: model(x))
    variants = [lambda: checkpoint(model, x, use_reentrant=False),
                lambda: checkpoint(model, x, use_reentrant=True)]
    variants += [lambda s=s: checkpoint_sequential(model, s, x, use_reentrant=False) for s in (1, 2, 3, 4, 6, 18)]
    for forward in variants:
        got_loss, got = run(model, x, forward)
        assert got_loss == loss
        for a, b in zip(got, expected):
            np.testing.assert_array_equal(a, b)


def test_bit_identical_with_dropout_on_a_gpu_generator(cuda):
    """Tensors on the (stand-in) GPU: the recomputation puts that GPU's default generator back too."""
    mg.manual_seed(0)
    model = mlp(3, mg.float32, dropout=0.5).to(cuda)
    x = mg.randn(5, WIDTH, requires_grad=True, device=cuda)
    loss, expected = run(model, x, lambda: model(x))
    _, without = run(model, x, lambda: checkpoint(model, x, use_reentrant=False, preserve_rng_state=False))
    assert any(not np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(without, expected))
    got_loss, got = run(model, x, lambda: checkpoint(model, x, use_reentrant=False))
    assert got_loss == loss
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_without_preserved_rng_the_masks_differ():
    """The check above is not vacuous: recomputing with the generator where it is gives other masks."""
    mg.manual_seed(0)
    model = mlp(3, mg.float64, dropout=0.5)
    x = mg.randn(5, WIDTH, dtype=mg.float64, requires_grad=True)
    _, expected = run(model, x, lambda: model(x))
    _, got = run(model, x, lambda: checkpoint(model, x, use_reentrant=False, preserve_rng_state=False))
    assert any(not np.array_equal(a, b) for a, b in zip(got, expected))


def torch_copy(model: mg.nn.Sequential) -> torch.nn.Sequential:
    layers: list = []
    for m in model:
        if isinstance(m, mg.nn.Linear):
            t = torch.nn.Linear(WIDTH, WIDTH).double()
            with torch.no_grad():
                t.weight.copy_(torch.from_numpy(m.weight._data))
                t.bias.copy_(torch.from_numpy(m.bias._data))
            layers.append(t)
        else:
            layers.append(torch.nn.Tanh())
    return torch.nn.Sequential(*layers)


@pytest.mark.parametrize("segments", [None, 2, 3])
def test_gradients_match_torch_checkpoint(segments):
    mg.manual_seed(1)
    model = mlp(5, mg.float64)
    tmodel = torch_copy(model)
    x = mg.randn(4, WIDTH, dtype=mg.float64, requires_grad=True)
    tx = torch.from_numpy(x._data.copy()).requires_grad_()
    if segments is None:
        y = checkpoint(model, x, use_reentrant=False)
        ty = torch.utils.checkpoint.checkpoint(tmodel, tx, use_reentrant=False)
    else:
        y = checkpoint_sequential(model, segments, x, use_reentrant=False)
        ty = torch.utils.checkpoint.checkpoint_sequential(tmodel, segments, tx, use_reentrant=False)
    (y ** 2).sum().backward()
    (ty ** 2).sum().backward()
    ours = grads(model, x)
    theirs = [p.grad.numpy() for p in tmodel.parameters()] + [tx.grad.numpy()]
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def gradient_penalty(model: mg.nn.Module | torch.nn.Module, x: object, forward: object, lib: object) -> list:
    """d/dθ of ||d loss/dx||²: a second derivative through the (checkpointed) block."""
    loss = (forward() ** 2).sum()
    (g,) = lib.autograd.grad(loss, x, create_graph=True)
    (g ** 2).sum().backward()
    return [p.grad.numpy() if lib is torch else p.grad._data.copy() for p in model.parameters()]


def test_create_graph_through_a_checkpointed_block():
    mg.manual_seed(2)
    model = mlp(3, mg.float64)
    tmodel = torch_copy(model)
    x = mg.randn(4, WIDTH, dtype=mg.float64, requires_grad=True)
    tx = torch.from_numpy(x._data.copy()).requires_grad_()
    plain = gradient_penalty(model, x, lambda: model(x), mg)
    model.zero_grad()
    ours = gradient_penalty(model, x, lambda: checkpoint_sequential(model, 2, x, use_reentrant=False), mg)
    theirs = gradient_penalty(tmodel, tx, lambda: torch.utils.checkpoint.checkpoint(tmodel, tx,
                                                                                      use_reentrant=False), torch)
    for a, b, c in zip(ours, plain, theirs):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(a, c, rtol=1e-10, atol=1e-12)


def test_hessian_of_a_checkpointed_function_matches_finite_differences():
    x = mg.tensor([0.3, -0.7, 1.1], dtype=mg.float64, requires_grad=True)

    def f(t):
        return checkpoint(lambda a: (a.tanh() * a.sin()).sum(), t, use_reentrant=False)

    assert mg.autograd.gradcheck(f, (x,))
    assert mg.autograd.gradgradcheck(f, (x,))


def test_grad_of_parameters_inside_and_backward_inputs():
    mg.manual_seed(3)
    model = mlp(3, mg.float64)
    x = mg.randn(4, WIDTH, dtype=mg.float64, requires_grad=True)
    weight = model[2].weight
    expected = mg.autograd.grad(model(x).sum(), [weight, x])
    got = mg.autograd.grad(checkpoint(model, x, use_reentrant=False).sum(), [weight, x])
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a._data, b._data)
    assert weight.grad is None  # grad() writes no .grad
    checkpoint(model, x, use_reentrant=False).sum().backward(inputs=[weight])
    np.testing.assert_array_equal(weight.grad._data, expected[0]._data)
    assert x.grad is None and model[0].weight.grad is None  # only the listed input accumulates


def test_hooks_see_the_same_gradients():
    mg.manual_seed(4)
    model = mlp(2, mg.float64)
    x = mg.randn(3, WIDTH, dtype=mg.float64, requires_grad=True)
    seen: list = []
    handle = model[0].weight.register_hook(lambda g: seen.append(g._data.copy()))
    model(x).sum().backward()
    y = checkpoint(model, x, use_reentrant=False)
    y.register_hook(lambda g: g * 2)  # a hook on the output, run before the block's recomputation
    y.sum().backward()
    handle.remove()
    np.testing.assert_array_equal(seen[1], 2 * seen[0])


def test_tuples_non_tensor_arguments_and_keywords():
    x = mg.tensor([1.0, 2.0, 3.0], dtype=mg.float64, requires_grad=True)
    w = mg.tensor([0.5, -1.0, 2.0], dtype=mg.float64, requires_grad=True)  # a leaf it captures

    def f(a, scale, name, power=2):
        assert name == "label"
        return (a * w) ** power * scale, (a.exp() * w).sum(), 7

    y, s, seven = checkpoint(f, x, 3.0, "label", use_reentrant=False, power=3)
    assert seven == 7
    (y.sum() + s).backward()
    ex = mg.tensor([1.0, 2.0, 3.0], dtype=mg.float64, requires_grad=True)
    ew = mg.tensor([0.5, -1.0, 2.0], dtype=mg.float64, requires_grad=True)
    ((ex * ew) ** 3 * 3.0).sum().add((ex.exp() * ew).sum()).backward()
    np.testing.assert_array_equal(x.grad._data, ex.grad._data)
    np.testing.assert_array_equal(w.grad._data, ew.grad._data)


def test_an_input_that_does_not_require_grad():
    mg.manual_seed(5)
    model = mlp(2, mg.float64)
    x = mg.randn(3, WIDTH, dtype=mg.float64)  # data: only the parameters need gradients
    model(x).sum().backward()
    expected = grads(model)
    model.zero_grad()
    y = checkpoint(model, x, use_reentrant=False)
    assert y.requires_grad  # torch's non-reentrant variant: the parameters inside make it so
    y.sum().backward()
    for a, b in zip(grads(model), expected):
        np.testing.assert_array_equal(a, b)
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
        y = checkpoint(model, x, use_reentrant=True)  # torch's reentrant variant: no gradient at all
    assert not y.requires_grad


def test_use_reentrant_must_be_passed_and_torch_errors():
    x = mg.ones(2, requires_grad=True)
    with pytest.warns(UserWarning, match="use_reentrant parameter should be passed explicitly"):
        checkpoint(mg.sin, x)
    with pytest.warns(UserWarning, match="checkpoint_sequential: the use_reentrant parameter"):
        checkpoint_sequential([mg.sin, mg.cos], 2, x)
    with pytest.raises(ValueError, match="Unexpected keyword arguments: k"):
        checkpoint(lambda a, k=1: a * k, x, use_reentrant=True, k=2)
    with pytest.raises(ValueError, match="only supported when use_reentrant=False"):
        checkpoint(mg.sin, x, use_reentrant=True, debug=True)
    with pytest.raises(ValueError, match="determinism_check should be one of"):
        checkpoint(mg.sin, x, use_reentrant=False, determinism_check="x")
    with pytest.raises(ValueError, match="Unexpected keyword arguments: foo"):
        checkpoint_sequential([mg.sin], 1, x, use_reentrant=False, foo=1)
    with pytest.raises(ZeroDivisionError):  # torch: len // segments
        checkpoint_sequential([mg.sin, mg.cos], 0, x, use_reentrant=False)
    with pytest.raises(ValueError, match="must not be zero"):  # torch: more segments than functions
        checkpoint_sequential([mg.sin, mg.cos], 3, x, use_reentrant=False)
    with mg.no_grad():
        assert not checkpoint(mg.sin, x, use_reentrant=False).requires_grad


def test_checkpoint_sequential_leaves_the_last_segment_plain():
    mg.manual_seed(6)
    model = mlp(4, mg.float64)  # 8 modules; 4 segments of 2: three checkpointed, the last plain
    x = mg.randn(2, WIDTH, dtype=mg.float64, requires_grad=True)
    y = checkpoint_sequential(model, 4, x, use_reentrant=False)
    tanh = y.grad_fn
    assert tanh.name() == "TanhBackward0" and tanh.saved  # plain: keeps its output
    linear = tanh.next_functions[0][0]
    previous_tanh = next(n for n, _ in linear.next_functions if n is not None and n.name() == "TanhBackward0")
    assert previous_tanh.saved == ()  # checkpointed: emptied until backward recomputes it


def test_errors_that_protect_the_gradients():
    x = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)
    h = x * 3  # a tensor with a history, captured instead of passed
    y = checkpoint(lambda a: (a * h).exp(), x, use_reentrant=False)
    with pytest.raises(CheckpointError, match="Pass every tensor that is not a leaf as an argument"):
        y.sum().backward()
    z = x * 1
    y = checkpoint(lambda a: a.sin(), z, use_reentrant=False)  # Sin saves its input
    z.mul_(2)  # the input changed after the forward: torch's version check
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    calls = []

    def changing(a):
        calls.append(1)
        return a.exp() if len(calls) == 1 else a.sin()

    y = checkpoint(changing, x, use_reentrant=False)
    with pytest.raises(CheckpointError):
        y.sum().backward()


# -- memory: the formula of minigrad/utils/checkpoint.py's docstring against tracemalloc ----------------------


def test_peak_memory_follows_the_formula():
    n, w, b = 32, 256, 64
    mg.manual_seed(0)
    layers: list = []
    for _ in range(n):
        layers += [mg.nn.Linear(w, w), mg.nn.Tanh()]
    model = mg.nn.Sequential(*layers)  # float32
    x = mg.randn(b, w)

    def step(segments: int | None) -> None:
        y = model(x) if segments is None else checkpoint_sequential(model, segments, x, use_reentrant=False)
        y.sum().backward()  # .grad exists after the warm-up: gradients are added into it in place

    step(None)
    a = b * w * 4  # one activation (Tanh's output, the next Linear's input): batch x width x 4 bytes
    # the transient of one layer's backward: its weight gradient, Tanh's gradient and the input's gradient
    c = w * w * 4 + 2 * a
    peaks, predicted = {}, {}
    for s in (None, 1, 2, 4, 8, 16, 32):
        with measure() as m:
            step(s)
        peaks[s] = m.peak
        if s is None:
            predicted[s] = n * a + c
        else:
            k = (2 * n // s) // 2  # layers per segment (each layer is two modules)
            predicted[s] = (s - 1) * a + max(n - (s - 1) * k, k) * a + c
        assert abs(peaks[s] - predicted[s]) <= 0.1 * predicted[s], (s, peaks[s], predicted[s])
    assert abs(peaks[1] - peaks[None]) < 0.01 * peaks[None]  # torch checkpoints nothing with one segment
    assert peaks[4] < peaks[2] < peaks[None] and peaks[8] < peaks[16] < peaks[32]
    assert min(peaks.values()) in (peaks[4], peaks[8])  # near sqrt(32)
    assert peaks[4] < 0.5 * peaks[None]


def test_the_recomputation_runs_under_the_forwards_autocast():
    minigrad, nn = mg, mg.nn
    # backward runs outside the autocast region; the recomputation must cast as the forward did (torch saves the
    # autocast state too), or the saved arrays would come back float32 and the gradients differ
    def grads(segments):
        minigrad.manual_seed(0)
        model = nn.Sequential(*[m for _ in range(4) for m in (nn.Linear(16, 16), nn.Tanh())])
        x = minigrad.randn(8, 16)
        with minigrad.autocast("cpu", dtype=minigrad.float16):
            out = model(x) if segments is None else checkpoint_sequential(model, segments, x, use_reentrant=False)
            loss = out.float().pow(2).sum()
        loss.backward()
        return out.dtype, [p.grad.numpy().copy() for p in model.parameters()]

    plain_dtype, plain = grads(None)
    checkpointed_dtype, checkpointed = grads(2)
    assert plain_dtype == checkpointed_dtype == minigrad.float16
    for a, b in zip(plain, checkpointed, strict=True):
        np.testing.assert_array_equal(a, b)
