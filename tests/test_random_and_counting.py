"""Random sampling (bernoulli, multinomial, exponential_, random_), counting (bincount, histc, argwhere,
count_nonzero), diff, cross and ``Tensor.view(dtype)``, against torch or against statistics computed here."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import minigrad

N = 20000


def within(observed, expected, std_error, k=5.0):
    assert abs(observed - expected) <= k * std_error, (observed, expected, std_error)


def both(build):
    return build(torch), build(minigrad)


def same_error(call):
    """Run ``call(lib)`` for torch and minigrad: both raise, the same type and message."""
    with pytest.raises(Exception) as want:
        call(torch)
    with pytest.raises(type(want.value)) as got:
        call(minigrad)
    assert str(got.value) == str(want.value)


# -- bernoulli ---------------------------------------------------------------------------------------------

def test_bernoulli_frequencies_dtype_and_shape():
    minigrad.manual_seed(0)
    p = np.array([0.0, 0.1, 0.5, 0.9, 1.0])
    draws = minigrad.bernoulli(minigrad.tensor(np.tile(p, (N, 1)), dtype=minigrad.float64))
    assert draws.dtype == minigrad.float64 and draws.shape == (N, 5)
    freq = draws.numpy().mean(axis=0)
    for f, q in zip(freq, p):
        within(f, q, math.sqrt(q * (1 - q) / N) + 1e-12)
    assert set(np.unique(draws.numpy())) <= {0.0, 1.0}


def test_bernoulli_method_and_inplace():
    minigrad.manual_seed(1)
    x = minigrad.zeros(N)
    assert x.bernoulli_(0.25) is x
    within(x.numpy().mean(), 0.25, math.sqrt(0.25 * 0.75 / N))
    y = minigrad.zeros(2, N, dtype=minigrad.int64).bernoulli_(minigrad.tensor([[0.2], [0.7]]))
    assert y.dtype == minigrad.int64
    within(y.numpy()[0].mean(), 0.2, math.sqrt(0.16 / N))
    within(y.numpy()[1].mean(), 0.7, math.sqrt(0.21 / N))
    z = minigrad.full((N,), 0.6).bernoulli()
    within(z.numpy().mean(), 0.6, math.sqrt(0.24 / N))
    assert minigrad.zeros(3, dtype=minigrad.bool).bernoulli_(1.0).tolist() == [True] * 3


def test_bernoulli_gradient_is_zero_as_torch():
    for lib in (torch, minigrad):
        a = lib.tensor([0.3, 0.6], requires_grad=True)
        out = lib.bernoulli(a)
        assert out.requires_grad
        (out * 3).sum().backward()
        assert a.grad.tolist() == [0.0, 0.0]


@pytest.mark.parametrize("call", [
    lambda lib: lib.bernoulli(lib.tensor([1.5])),
    lambda lib: lib.bernoulli(lib.tensor([-0.5])),
    lambda lib: lib.bernoulli(lib.tensor([1, 0])),
    lambda lib: lib.zeros(3).bernoulli_(1.5),
    lambda lib: lib.zeros(3).bernoulli_(lib.tensor([2.0, 0, 1])),
    lambda lib: lib.zeros(3).bernoulli_(lib.tensor([1.0, 0])),
    lambda lib: lib.zeros(3, requires_grad=True).bernoulli_(),
])
def test_bernoulli_errors(call):
    same_error(call)


# -- multinomial -------------------------------------------------------------------------------------------

def test_multinomial_with_replacement_follows_the_weights():
    minigrad.manual_seed(2)
    w = np.array([1.0, 0.0, 3.0, 6.0])
    out = minigrad.multinomial(minigrad.tensor(w), N, replacement=True)
    assert out.dtype == minigrad.int64 and out.shape == (N,)
    counts = np.bincount(out.numpy(), minlength=4) / N
    p = w / w.sum()
    assert counts[1] == 0
    for c, q in zip(counts, p):
        within(c, q, math.sqrt(q * (1 - q) / N) + 1e-12)


def test_multinomial_without_replacement_first_draw_and_pairs():
    minigrad.manual_seed(3)
    w = np.array([1.0, 2.0, 7.0])
    rows = minigrad.tensor(np.tile(w, (N, 1)))
    out = minigrad.multinomial(rows, 2).numpy()
    assert out.shape == (N, 2) and (out[:, 0] != out[:, 1]).all()
    p = w / w.sum()
    first = np.bincount(out[:, 0], minlength=3) / N
    for c, q in zip(first, p):
        within(c, q, math.sqrt(q * (1 - q) / N))
    # the second draw, by the weights of the categories left: P(second = j) = sum_i p_i p_j / (1 - p_i)
    second = np.bincount(out[:, 1], minlength=3) / N
    for j in range(3):
        q = sum(p[i] * p[j] / (1 - p[i]) for i in range(3) if i != j)
        within(second[j], q, math.sqrt(q * (1 - q) / N))


def test_multinomial_zero_weights_come_last():
    minigrad.manual_seed(4)
    for _ in range(50):
        out = minigrad.multinomial(minigrad.tensor([0.0, 1.0, 0.0, 2.0, 0.0]), 5).tolist()
        assert sorted(out[:2]) == [1, 3] and sorted(out) == [0, 1, 2, 3, 4]
    assert sorted(minigrad.multinomial(minigrad.tensor([1.0, 0.0, 0.0]), 2).tolist())[0] == 0


def test_multinomial_shapes_as_torch():
    for shape, n, repl in [((2, 3), 2, False), ((4,), 6, True), ((3, 5), 5, False)]:
        t, m = (lib.multinomial(lib.ones(*shape, dtype=lib.float64), n, repl) for lib in (torch, minigrad))
        assert tuple(t.shape) == tuple(m.shape) and m.dtype == minigrad.int64


@pytest.mark.parametrize("call", [
    lambda lib: lib.multinomial(lib.tensor([1.0, -1]), 1),
    lambda lib: lib.multinomial(lib.tensor([0.0, 0]), 1),
    lambda lib: lib.multinomial(lib.tensor([[1.0, 0], [0, 0]]), 1),
    lambda lib: lib.multinomial(lib.tensor([1.0, 0]), 3),
    lambda lib: lib.multinomial(lib.tensor([1.0, float("inf")]), 1),
    lambda lib: lib.multinomial(lib.tensor([1.0, float("nan")]), 1),
    lambda lib: lib.multinomial(lib.tensor([1, 2]), 1),
    lambda lib: lib.multinomial(lib.tensor(1.0), 1),
    lambda lib: lib.multinomial(lib.ones(2, 2, 2), 1),
    lambda lib: lib.multinomial(lib.ones(2), 0),
    lambda lib: lib.multinomial(lib.ones(0), 1),
])
def test_multinomial_errors(call):
    same_error(call)


# -- exponential_ and random_ ------------------------------------------------------------------------------

def test_exponential_mean_and_variance():
    minigrad.manual_seed(5)
    x = minigrad.empty(N, dtype=minigrad.float64).exponential_(2.5)
    assert x.dtype == minigrad.float64 and (x.numpy() > 0).all()
    mean = 1 / 2.5
    within(x.numpy().mean(), mean, mean / math.sqrt(N))
    within(x.numpy().var(), mean ** 2, 3 * mean ** 2 / math.sqrt(N))


def test_random_ranges_and_uniformity():
    minigrad.manual_seed(6)
    x = minigrad.empty(N).random_(2, 7)
    values = x.numpy()
    assert x.dtype == minigrad.float32 and set(np.unique(values)) == {2, 3, 4, 5, 6}
    for v in range(2, 7):
        within((values == v).mean(), 0.2, math.sqrt(0.16 / N))
    assert set(np.unique(minigrad.empty(500, dtype=minigrad.int64).random_(3).numpy())) == {0, 1, 2}
    assert set(np.unique(minigrad.empty(500, dtype=minigrad.bool).random_().numpy())) == {False, True}
    u8 = minigrad.empty(N, dtype=minigrad.uint8).random_().numpy()
    within(u8.mean(), 127.5, math.sqrt((256 ** 2 - 1) / 12 / N))
    f = minigrad.empty(N).random_().numpy()
    assert f.min() >= 0 and f.max() <= 2 ** 24
    within(f.mean(), 2 ** 23, 2 ** 24 / math.sqrt(12 * N))
    k = minigrad.empty(N).random_(**{"from": 5, "to": 9}).numpy()
    assert set(np.unique(k)) == {5, 6, 7, 8}


@pytest.mark.parametrize("call", [
    lambda lib: lib.zeros(3).exponential_(-1),
    lambda lib: lib.zeros(3).exponential_(0),
    lambda lib: lib.zeros(3, dtype=lib.long).exponential_(),
    lambda lib: lib.zeros(3).random_(5, 2),
    lambda lib: lib.zeros(3).random_(0),
    lambda lib: lib.zeros(3, dtype=lib.uint8).random_(300),
    lambda lib: lib.zeros(3, dtype=lib.uint8).random_(-2, 5),
    lambda lib: lib.zeros(3, dtype=lib.float16).random_(70000),
    lambda lib: lib.zeros(3, requires_grad=True).random_(),
    lambda lib: lib.zeros(3, requires_grad=True).exponential_(),
])
def test_exponential_and_random_errors(call):
    same_error(call)


def test_random_inplace_on_a_tensor_in_a_graph_gives_zero_gradient_as_torch():
    for lib in (torch, minigrad):
        a = lib.ones(4, requires_grad=True)
        b = (a * 2).exponential_()
        c = (a * 2).bernoulli_(0.5)
        (b.sum() + c.sum()).backward()
        assert a.grad.tolist() == [0.0] * 4


# -- determinism and generators ----------------------------------------------------------------------------

SAMPLERS = {
    "bernoulli": lambda g: minigrad.bernoulli(minigrad.full((50,), 0.5), generator=g),
    "bernoulli_": lambda g: minigrad.zeros(50).bernoulli_(0.5, generator=g),
    "multinomial": lambda g: minigrad.multinomial(minigrad.ones(4, 10), 5, generator=g),
    "multinomial_repl": lambda g: minigrad.multinomial(minigrad.ones(10), 50, True, generator=g),
    "exponential_": lambda g: minigrad.zeros(50).exponential_(generator=g),
    "random_": lambda g: minigrad.zeros(50).random_(0, 1000, generator=g),
}


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_manual_seed_and_generators_repeat_draws(name):
    draw = SAMPLERS[name]
    minigrad.manual_seed(7)
    a = draw(None).tolist()
    minigrad.manual_seed(7)
    assert draw(None).tolist() == a
    assert draw(None).tolist() != a  # the stream moves on
    g1, g2 = minigrad.Generator().manual_seed(8), minigrad.Generator().manual_seed(8)
    minigrad.manual_seed(9)
    state = minigrad.get_rng_state()
    assert draw(g1).tolist() == draw(g2).tolist()
    assert minigrad.get_rng_state().tolist() == state.tolist()  # generator= leaves the default stream alone


# -- bincount, histc, argwhere, count_nonzero --------------------------------------------------------------

@pytest.mark.parametrize("build", [
    lambda lib: lib.bincount(lib.tensor([1, 1, 3, 0, 7])),
    lambda lib: lib.bincount(lib.tensor([1, 1, 3]), minlength=6),
    lambda lib: lib.bincount(lib.tensor([1, 1, 3]), lib.tensor([0.5, 1, 2])),
    lambda lib: lib.bincount(lib.tensor([1, 1, 3]), lib.tensor([0.5, 1, 2], dtype=lib.float64)),
    lambda lib: lib.bincount(lib.tensor([1, 1, 3]), lib.tensor([1, 1, 2])),
    lambda lib: lib.bincount(lib.tensor([1, 1, 3], dtype=lib.uint8)),
    lambda lib: lib.bincount(lib.tensor([1, 1, 3], dtype=lib.int32), lib.tensor([1.0, 1, 2], dtype=lib.float16)),
    lambda lib: lib.bincount(lib.tensor([], dtype=lib.long)),
    lambda lib: lib.bincount(lib.tensor([], dtype=lib.long), minlength=3),
    lambda lib: lib.tensor([2, 2, 0]).bincount(minlength=4),
    lambda lib: lib.histc(lib.tensor([1.0, 2, 1]), bins=4, min=0, max=3),
    lambda lib: lib.histc(lib.tensor([1.0, 2, 1, 3, 4, -1]), bins=4, min=0, max=3),
    lambda lib: lib.histc(lib.tensor([1.0, 2, 1, 3]), bins=4),
    lambda lib: lib.histc(lib.tensor([1.0, 1]), bins=4),
    lambda lib: lib.histc(lib.tensor([1.0, 2]), bins=3, min=2, max=2),
    lambda lib: lib.histc(lib.tensor([1.0, 2, 1], dtype=lib.float64), bins=4),
    lambda lib: lib.histc(lib.tensor([1.0, 2, float("nan")]), bins=3, min=0, max=3),
    lambda lib: lib.histc(lib.tensor([]), bins=3),
    lambda lib: lib.histc(lib.tensor([0.1, 0.2, 0.3, 0.7, 1.0]), bins=10, min=0, max=1),
    lambda lib: lib.histc(lib.linspace(-1, 1, 1001), bins=7, min=-0.6, max=0.9),
    lambda lib: lib.tensor([[1.0, 2], [3, 4]]).histc(3),
    lambda lib: lib.argwhere(lib.tensor([[1, 0], [0, 3]])),
    lambda lib: lib.argwhere(lib.tensor(3.0)),
    lambda lib: lib.argwhere(lib.tensor(0.0)),
    lambda lib: lib.tensor([[0.0, 2], [0, 0]]).argwhere(),
    lambda lib: lib.count_nonzero(lib.tensor([[1, 0], [0, 3]])),
    lambda lib: lib.count_nonzero(lib.tensor([[1, 0], [0, 3]]), dim=0),
    lambda lib: lib.count_nonzero(lib.tensor([[[1, 0], [0, 3]]]), dim=(0, 2)),
    lambda lib: lib.count_nonzero(lib.tensor([[1, 0], [0, 3]]), dim=[]),
    lambda lib: lib.count_nonzero(lib.tensor(3.0), dim=0),
    lambda lib: lib.tensor([1.0, float("nan"), 0]).count_nonzero(),
])
def test_counting_matches_torch(build):
    t, m = both(build)
    assert str(m.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    assert tuple(m.shape) == tuple(t.shape)
    assert m.tolist() == t.tolist()


def test_histc_of_random_floats_matches_torch():
    data = np.random.default_rng(0).standard_normal(5000)
    for dtype in ("float32", "float64"):
        t = torch.histc(torch.tensor(data, dtype=getattr(torch, dtype)), bins=37, min=-2, max=2.5)
        m = minigrad.histc(minigrad.tensor(data, dtype=getattr(minigrad, dtype)), bins=37, min=-2, max=2.5)
        assert m.tolist() == t.tolist()


@pytest.mark.parametrize("call", [
    lambda lib: lib.bincount(lib.tensor([True, False])),
    lambda lib: lib.bincount(lib.tensor([1, -1, 3])),
    lambda lib: lib.bincount(lib.tensor([1.0, 3])),
    lambda lib: lib.bincount(lib.tensor([[1, 3]])),
    lambda lib: lib.bincount(lib.tensor([1, 2]), minlength=-1),
    lambda lib: lib.bincount(lib.tensor([1, 2]), lib.tensor([1.0])),
    lambda lib: lib.histc(lib.tensor([1, 2, 1]), bins=4),
    lambda lib: lib.histc(lib.tensor([1.0, 2, 1]), bins=0),
    lambda lib: lib.histc(lib.tensor([1.0, 2, 1]), bins=3, min=3, max=1),
    lambda lib: lib.histc(lib.tensor([1.0, 2, float("inf")]), bins=3),
    lambda lib: lib.count_nonzero(lib.tensor([[1, 0], [0, 3]]), dim=(0, 0)),
    lambda lib: lib.count_nonzero(lib.tensor([[1, 0], [0, 3]]), dim=2),
])
def test_counting_errors(call):
    same_error(call)


# -- diff and cross ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("build", [
    lambda lib: lib.diff(lib.tensor([1, 3, 6, 10])),
    lambda lib: lib.diff(lib.tensor([1, 3, 6]), n=2),
    lambda lib: lib.diff(lib.tensor([1, 3, 6]), n=5),
    lambda lib: lib.diff(lib.tensor([1, 3, 6]), n=0),
    lambda lib: lib.diff(lib.tensor([True, False, False, True])),
    lambda lib: lib.diff(lib.tensor([1.0, 2]), prepend=lib.tensor([0])),
    lambda lib: lib.diff(lib.tensor([[1, 5], [2, 9]]), dim=0, append=lib.tensor([[0, 0]])),
    lambda lib: lib.tensor([[1.0, 4, 9], [2, 3, 5]]).diff(n=2, dim=1, prepend=lib.tensor([[7.0], [1.0]])),
    lambda lib: lib.cross(lib.tensor([[1, 2, 3], [4, 5, 6]]), lib.tensor([[7, 8, 9], [1, 0, 2]]), dim=1),
    lambda lib: lib.linalg.cross(lib.tensor([[1, 2, 3]]), lib.tensor([[7, 8, 9], [1, 0, 2]])),
    lambda lib: lib.tensor([[1, 2], [3, 4], [5, 6]]).cross(lib.tensor([[1, 0], [0, 1], [1, 1]]), dim=0),
])
def test_diff_and_cross_values(build):
    t, m = both(build)
    assert str(m.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    assert m.tolist() == t.tolist()


def test_cross_without_dim_takes_the_first_dim_of_size_3_with_torchs_warning():
    a, b = np.arange(6.0).reshape(3, 2), np.array([[1.0, 0], [2, 1], [0, 3]])
    with pytest.warns(UserWarning, match="without specifying the dim") as got:
        m = minigrad.cross(minigrad.tensor(a), minigrad.tensor(b))
    with warnings.catch_warnings(record=True) as want:
        warnings.simplefilter("always")
        t = torch.cross(torch.tensor(a), torch.tensor(b))
    assert str(want[0].message).startswith(str(got[0].message))  # torch adds where in its C++ it warned
    assert m.tolist() == t.tolist()


@pytest.mark.parametrize("call", [
    lambda lib: lib.diff(lib.tensor([1, 3, 6]), n=-1),
    lambda lib: lib.diff(lib.tensor(3.0)),
    lambda lib: lib.diff(lib.tensor([1.0, 2]), prepend=lib.tensor([[0]])),
    lambda lib: lib.diff(lib.tensor([[1.0, 2]]), dim=0, append=lib.tensor([[0.0]])),
    lambda lib: lib.diff(lib.tensor([[1.0, 2]]), dim=2),
    lambda lib: lib.diff(lib.tensor([1.0, 2]), prepend=0.0),
    lambda lib: lib.cross(lib.ones(2, 3), lib.ones(2, 4), dim=1),
    lambda lib: lib.cross(lib.ones(2, 3), lib.ones(2, 3), dim=0),
    lambda lib: lib.cross(lib.ones(3), lib.ones(2, 3), dim=-1),
    lambda lib: lib.cross(lib.ones(3), lib.ones(3, dtype=lib.float64), dim=0),
    lambda lib: lib.linalg.cross(lib.ones(3, 2), lib.ones(3, 2)),
    lambda lib: lib.linalg.cross(lib.ones(3), lib.ones(3), dim=1),
])
def test_diff_and_cross_errors(call):
    same_error(call)


DIFFERENTIABLE = {
    "diff": (lambda lib, x, y: lib.diff(x, n=2, dim=1, prepend=y[:, :1], append=y), (3, 5), (3, 2)),
    "diff_dim0": (lambda lib, x, y: lib.diff(x * y, dim=0), (4, 3), (4, 3)),
    "cross": (lambda lib, x, y: lib.cross(x, y, dim=1), (4, 3), (4, 3)),
    "cross_broadcast": (lambda lib, x, y: lib.linalg.cross(x, y), (1, 3), (5, 3)),
}


@pytest.mark.parametrize("name", sorted(DIFFERENTIABLE))
def test_gradients_and_second_derivatives_match_torch(name):
    fn, sx, sy = DIFFERENTIABLE[name]
    rng = np.random.default_rng(10)
    x0, y0, w0 = rng.standard_normal(sx), rng.standard_normal(sy), None
    results = []
    for lib in (torch, minigrad):
        x = lib.tensor(x0, requires_grad=True)
        y = lib.tensor(y0, requires_grad=True)
        out = fn(lib, x, y)
        if w0 is None:
            w0 = rng.standard_normal(tuple(out.shape))
        gx, gy = lib.autograd.grad((out * lib.tensor(w0)).pow(2).sum(), (x, y), create_graph=True)
        ggx, ggy = lib.autograd.grad((gx.sin().sum() + (gy * gy).sum()), (x, y))
        results.append([out.detach().numpy(), gx.detach().numpy(), gy.detach().numpy(), ggx.numpy(), ggy.numpy()])
    for t, m in zip(*results):
        np.testing.assert_allclose(m, t, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", sorted(DIFFERENTIABLE))
def test_gradcheck(name):
    fn, sx, sy = DIFFERENTIABLE[name]
    rng = np.random.default_rng(11)
    x = minigrad.tensor(rng.standard_normal(sx), requires_grad=True)
    y = minigrad.tensor(rng.standard_normal(sy), requires_grad=True)
    assert minigrad.autograd.gradcheck(lambda a, b: fn(minigrad, a, b), (x, y))
    assert minigrad.autograd.gradgradcheck(lambda a, b: fn(minigrad, a, b), (x, y))


# -- Tensor.view(dtype) and storage_offset -----------------------------------------------------------------

def _f32(lib):
    return lib.arange(8.0).reshape(2, 4)


@pytest.mark.parametrize("build", [
    lambda lib: _f32(lib).view(lib.int32),
    lambda lib: _f32(lib).view(lib.int16),
    lambda lib: _f32(lib).view(lib.float64),
    lambda lib: _f32(lib).view(lib.uint8),
    lambda lib: _f32(lib).view(lib.bool),
    lambda lib: _f32(lib).view(lib.float16),
    lambda lib: _f32(lib).view(dtype=lib.int32),
    lambda lib: _f32(lib).t().view(lib.int32),
    lambda lib: _f32(lib)[:, 1:].view(lib.int16),
    lambda lib: _f32(lib)[:, 2:].view(lib.float64),
    lambda lib: lib.arange(8.0)[2:6].view(lib.float64),
    lambda lib: lib.tensor(1.0).view(lib.int32),
    lambda lib: lib.ones(0).view(lib.float64),
    lambda lib: lib.arange(6, dtype=lib.int64).view(lib.float64),
    lambda lib: lib.arange(6, dtype=lib.int64).view(lib.int8),
    lambda lib: lib.tensor([1, 2, 3, 4], dtype=lib.int16).view(lib.int32),
])
def test_view_dtype_values_shapes_strides_offsets(build):
    t, m = both(build)
    assert str(m.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    assert tuple(m.shape) == tuple(t.shape) and m.stride() == t.stride()
    assert m.storage_offset() == t.storage_offset()
    assert np.array_equal(m.numpy(), t.numpy(), equal_nan=True)


@pytest.mark.parametrize("call", [
    lambda lib: lib.arange(6.0).reshape(2, 3).view(lib.float64),
    lambda lib: lib.arange(8.0).reshape(4, 2).t().view(lib.float64),
    lambda lib: lib.arange(8.0).reshape(4, 2).t().view(lib.int16),
    lambda lib: lib.arange(8.0).reshape(2, 4)[:, ::2].view(lib.float64),
    lambda lib: lib.arange(8.0).reshape(2, 4)[:, 1:3].view(lib.float64),
    lambda lib: lib.tensor(1.0).view(lib.float64),
    lambda lib: lib.tensor(1.0).view(lib.int16),
    lambda lib: lib.ones(2, 0).view(lib.float64),
])
def test_view_dtype_errors(call):
    same_error(call)


def test_view_dtype_shares_memory_and_version_counter():
    for lib in (torch, minigrad):
        x = lib.ones(4)
        y = x.view(lib.int32)
        y[0] = 0
        assert x[0].item() == 0.0
        x.add_(1)
        assert y[0].item() == 1065353216 and y._version == x._version == 2
        z = x.view(lib.int16)
        z.zero_()
        assert x.tolist() == [0.0] * 4 and x._version == 3


def test_view_dtype_does_not_require_grad_as_torch():
    for lib in (torch, minigrad):
        a = lib.ones(4, requires_grad=True)
        b = a * 2
        for out in (a.view(lib.float32), a.view(lib.int32), b.view(lib.float32), b.view(lib.float16)):
            assert not out.requires_grad and out.grad_fn is None and out._base is None


def test_view_shapes_still_work():
    x = minigrad.arange(12.0, requires_grad=True)
    assert x.view(3, 4).shape == (3, 4) and x.view((2, 6)).shape == (2, 6) and x.view(-1, 2).shape == (6, 2)
    assert x.view(size=(4, 3)).shape == (4, 3) and x.view(3, 4).grad_fn is not None


@pytest.mark.parametrize("build", [
    lambda lib: lib.arange(6.0).reshape(2, 3),
    lambda lib: lib.arange(6.0).reshape(2, 3)[1],
    lambda lib: lib.arange(6.0).reshape(2, 3)[1, 1:],
    lambda lib: lib.arange(6.0).reshape(2, 3).t()[1],
    lambda lib: lib.arange(8.0)[2:].view(3, 2)[1:],
])
def test_storage_offset_matches_torch(build):
    t, m = both(build)
    assert m.storage_offset() == t.storage_offset()


# -- names and signatures ----------------------------------------------------------------------------------

def test_method_signatures_use_torchs_names():
    import inspect

    for name, expected in [("bernoulli_", ["self", "p"]), ("exponential_", ["self", "lambd"]),
                           ("multinomial", ["self", "num_samples", "replacement"]),
                           ("bincount", ["input", "weights", "minlength"]), ("histc", ["input", "bins", "min", "max"]),
                           ("diff", ["input", "n", "dim", "prepend", "append"]), ("cross", ["input", "other", "dim"]),
                           ("count_nonzero", ["input", "dim"])]:
        params = [p.name for p in inspect.signature(getattr(minigrad.Tensor, name)).parameters.values()
                  if p.kind is p.POSITIONAL_OR_KEYWORD]
        assert params == expected, name
