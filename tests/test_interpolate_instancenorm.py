"""F.interpolate / nn.Upsample and F.instance_norm / nn.InstanceNorm1d, 2d against torch: values, first and second
derivatives, running statistics, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import assert_close, to_torch

import minigrad
import minigrad.nn as nn
import minigrad.nn.functional as F

# (input shape, keyword arguments): up, down, non-integer factors, per-dim factors, sizes, recomputed factors
CASES = [
    ((2, 3, 5), dict(scale_factor=2.0)),
    ((2, 3, 7), dict(scale_factor=0.5)),
    ((1, 2, 6), dict(scale_factor=1.7)),
    ((1, 2, 6), dict(scale_factor=1.1)),
    ((1, 2, 6), dict(scale_factor=0.37, recompute_scale_factor=True)),
    ((2, 2, 4), dict(size=9)),
    ((2, 2, 9), dict(size=[4])),
    ((2, 3, 4, 5), dict(scale_factor=2.0)),
    ((2, 3, 4, 5), dict(scale_factor=(1.5, 0.6))),
    ((1, 2, 5, 6), dict(scale_factor=2.3)),
    ((1, 2, 5, 6), dict(scale_factor=(2.1, 1.1))),
    ((1, 2, 7, 6), dict(scale_factor=(0.45, 2.6), recompute_scale_factor=True)),
    ((2, 1, 4, 4), dict(size=(7, 3))),
    ((2, 1, 6, 5), dict(size=(6, 10))),
    ((1, 1, 1, 3), dict(size=(3, 1))),
]


def _modes(shape: tuple) -> list:
    linear = "linear" if len(shape) == 3 else "bilinear"
    return [("nearest", None), ("nearest-exact", None), (linear, False), (linear, True)]


def _params() -> list:
    return [(shape, kw, mode, ac) for shape, kw in CASES for mode, ac in _modes(shape)]


def _torch_backward_inconsistent(shape: tuple, kw: dict, mode: str) -> bool:
    """torch's 1-d / 3-d 'nearest' backward takes an unchanged (or doubled) size for the identity (or dst // 2)
    where its forward, given a scale factor, reads other inputs."""
    if mode != "nearest" or len(shape) == 4 or kw.get("scale_factor") is None or kw.get("recompute_scale_factor"):
        return False
    for n in shape[2:]:
        out = int(n * kw["scale_factor"])
        forward = np.floor(np.arange(out, dtype=np.float32) * np.float32(1 / kw["scale_factor"]))
        if out in (n, 2 * n) and not np.array_equal(forward, np.arange(out) // (out // n)):
            return True
    return False


def _pair(shape: tuple, seed: int = 0) -> tuple:
    x = minigrad.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)
    return x, to_torch(x)


@pytest.mark.parametrize("shape,kw,mode,ac", _params())
def test_interpolate_values_and_derivatives(shape, kw, mode, ac):
    x, tx = _pair(shape)
    out = F.interpolate(x, mode=mode, align_corners=ac, **kw)
    tout = torch.nn.functional.interpolate(tx, mode=mode, align_corners=ac, **kw)
    assert_close(out, tout)
    # first derivative with a non-uniform output gradient, kept differentiable
    g = np.random.default_rng(1).standard_normal(tuple(tout.shape))
    gx = minigrad.tensor(g, requires_grad=True)
    tgx = to_torch(gx)
    (dx,) = minigrad.autograd.grad(out, x, gx, create_graph=True)
    (tdx,) = torch.autograd.grad(tout, tx, tgx, create_graph=True)
    if _torch_backward_inconsistent(shape, kw, mode):
        with pytest.raises(AssertionError):
            assert_close(dx, tdx)
        assert minigrad.autograd.gradcheck(lambda t: F.interpolate(t, mode=mode, **kw), (x,))
        return
    assert_close(dx, tdx)
    # second derivative: through the backward, with respect to the output gradient
    w = np.random.default_rng(2).standard_normal(shape)
    (ddg,) = minigrad.autograd.grad((dx * minigrad.tensor(w)).sum(), gx)
    (tddg,) = torch.autograd.grad((tdx * torch.tensor(w)).sum(), tgx)
    assert_close(ddg, tddg)


@pytest.mark.parametrize("shape,kw,mode,ac", _params()[::3])
def test_interpolate_second_derivative_of_nonlinear_loss(shape, kw, mode, ac):
    x, tx = _pair(shape, seed=3)
    if _torch_backward_inconsistent(shape, kw, mode):
        pytest.skip("torch's gradient disagrees with its forward here (see test_interpolate_values_and_derivatives)")
    (dx,) = minigrad.autograd.grad((F.interpolate(x, mode=mode, align_corners=ac, **kw) ** 3).sum(), x,
                                   create_graph=True)
    (tdx,) = torch.autograd.grad((torch.nn.functional.interpolate(tx, mode=mode, align_corners=ac, **kw) ** 3).sum(),
                                 tx, create_graph=True)
    assert_close(dx, tdx)
    (ddx,) = minigrad.autograd.grad((dx * dx).sum(), x)
    (tddx,) = torch.autograd.grad((tdx * tdx).sum(), tx)
    assert_close(ddx, tddx)


@pytest.mark.parametrize("mode,ac,shape", [("linear", False, (1, 2, 4)), ("linear", True, (1, 2, 4)),
                                           ("bilinear", False, (1, 1, 3, 3)), ("bilinear", True, (1, 1, 3, 3)),
                                           ("nearest", None, (1, 1, 3, 2))])
def test_interpolate_gradcheck(mode, ac, shape):
    x, _ = _pair(shape, seed=4)
    assert minigrad.autograd.gradcheck(lambda t: F.interpolate(t, scale_factor=1.7, mode=mode, align_corners=ac),
                                       (x,))
    assert minigrad.autograd.gradgradcheck(
        lambda t: F.interpolate(t, size=[5] * (len(shape) - 2), mode=mode, align_corners=ac) ** 2, (x,))


def test_interpolate_float32_and_trilinear():
    x = np.random.default_rng(5).standard_normal((1, 2, 5, 7)).astype(np.float32)
    for kw in (dict(scale_factor=1.3, mode="bilinear"), dict(size=(3, 11), mode="bilinear", align_corners=True),
               dict(scale_factor=0.7)):
        assert_close(F.interpolate(minigrad.tensor(x), **kw), torch.nn.functional.interpolate(torch.tensor(x), **kw),
                     atol=1e-6, rtol=1e-6)
    y = np.random.default_rng(6).standard_normal((1, 1, 3, 4, 2))
    for kw in (dict(scale_factor=1.6, mode="trilinear"), dict(size=(2, 7, 3), mode="trilinear", align_corners=True),
               dict(scale_factor=(1.2, 2.0, 0.6))):
        assert_close(F.interpolate(minigrad.tensor(y), **kw), torch.nn.functional.interpolate(torch.tensor(y), **kw))


def test_interpolate_area():
    x = np.random.default_rng(7).standard_normal((2, 3, 7, 6))
    for kw in (dict(size=(3, 4)), dict(scale_factor=0.5)):
        assert_close(F.interpolate(minigrad.tensor(x), mode="area", **kw),
                     torch.nn.functional.interpolate(torch.tensor(x), mode="area", **kw))


ERRORS = [
    ((2, 3, 4), dict(size=3, scale_factor=2.0)),
    ((2, 3, 4), dict()),
    ((2, 3, 4), dict(size=3, align_corners=True)),
    ((2, 3, 4), dict(size=3, mode="area", align_corners=False)),
    ((2, 3, 4), dict(size=(2, 2))),
    ((2, 3, 4), dict(scale_factor=(2.0, 2.0))),
    ((2, 3, 4), dict(size=3, recompute_scale_factor=True)),
    ((2, 3, 4), dict(size=3, mode="bilinear")),
    ((1, 1, 2, 2), dict(size=3, mode="linear")),
    ((1, 1, 2, 2), dict(size=3, mode="trilinear")),
    ((2, 3), dict(size=3)),
    ((2, 3, 4), dict(size=3, mode="bogus")),
    ((2, 3, 4), dict(size=3, antialias=True)),
    ((2, 3, 4), dict(scale_factor=0.2)),
    ((2, 3, 4), dict(size=0, mode="linear")),
    ((1, 1, 4, 5), dict(scale_factor=(0.2, 0.1))),
    ((1, 1, 4, 5), dict(size=(0, 1), mode="bilinear")),
]


@pytest.mark.parametrize("shape,kw", ERRORS)
def test_interpolate_errors(shape, kw):
    with pytest.raises(Exception) as expected:
        torch.nn.functional.interpolate(torch.zeros(shape), **kw)
    with pytest.raises(type(expected.value)) as actual:
        F.interpolate(minigrad.zeros(*shape), **kw)
    assert str(actual.value) == str(expected.value)


def test_interpolate_integer_input():
    x = np.arange(12).reshape(1, 2, 6)
    for mode in ("nearest", "linear", "nearest-exact"):
        with pytest.raises(NotImplementedError) as expected:
            torch.nn.functional.interpolate(torch.tensor(x), size=3, mode=mode)
        with pytest.raises(NotImplementedError) as actual:
            F.interpolate(minigrad.tensor(x), size=3, mode=mode)
        assert str(actual.value) == str(expected.value)


def test_interpolate_not_implemented():
    with pytest.raises(NotImplementedError, match="antialias=True"):
        F.interpolate(minigrad.zeros(1, 1, 4, 4), size=2, mode="bilinear", antialias=True)
    with pytest.raises(NotImplementedError, match="bicubic"):
        F.interpolate(minigrad.zeros(1, 1, 4, 4), size=2, mode="bicubic")


@pytest.mark.parametrize("make", [
    lambda m: m.Upsample(scale_factor=2),
    lambda m: m.Upsample(size=(3, 7), mode="bilinear"),
    lambda m: m.Upsample(scale_factor=(1.5, 0.7), mode="bilinear", align_corners=True),
    lambda m: m.Upsample(scale_factor=0.6, mode="nearest", recompute_scale_factor=True),
    lambda m: m.UpsamplingNearest2d(scale_factor=3),
    lambda m: m.UpsamplingNearest2d(size=5),
    lambda m: m.UpsamplingBilinear2d(scale_factor=1.5),
    lambda m: m.UpsamplingBilinear2d(size=(2, 9)),
])
def test_upsample_modules(make):
    module, tmodule = make(nn), make(torch.nn)
    assert repr(module) == repr(tmodule)
    x, tx = _pair((2, 3, 4, 5), seed=8)
    out, tout = module(x), tmodule(tx)
    assert_close(out, tout)
    out.sum().backward()
    tout.sum().backward()
    assert_close(x.grad, tx.grad)


# -- instance norm ------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(2, 3, 5), (4, 2, 3, 4), (1, 3, 2, 2)])
@pytest.mark.parametrize("affine", [False, True])
def test_instance_norm_functional(shape, affine):
    x, tx = _pair(shape, seed=9)
    c = shape[1]
    rng = np.random.default_rng(10)
    w = minigrad.tensor(rng.standard_normal(c), requires_grad=True) if affine else None
    b = minigrad.tensor(rng.standard_normal(c), requires_grad=True) if affine else None
    tw, tb = (to_torch(w), to_torch(b)) if affine else (None, None)
    out = F.instance_norm(x, weight=w, bias=b, eps=1e-3)
    tout = torch.nn.functional.instance_norm(tx, weight=tw, bias=tb, eps=1e-3)
    assert_close(out, tout)
    g = rng.standard_normal(shape)
    inputs, tinputs = [x] + ([w, b] if affine else []), [tx] + ([tw, tb] if affine else [])
    grads = minigrad.autograd.grad((out * minigrad.tensor(g)).sum(), inputs, create_graph=True)
    tgrads = torch.autograd.grad((tout * torch.tensor(g)).sum(), tinputs, create_graph=True)
    for a, e in zip(grads, tgrads):
        assert_close(a, e)
    second = minigrad.autograd.grad(sum((gr ** 2).sum() for gr in grads), inputs[:2])
    tsecond = torch.autograd.grad(sum((gr ** 2).sum() for gr in tgrads), tinputs[:2])
    for a, e in zip(second, tsecond):
        assert_close(a, e)


def test_instance_norm_running_stats_functional():
    rng = np.random.default_rng(11)
    x = rng.standard_normal((3, 2, 6))
    rm, rv = minigrad.tensor(rng.standard_normal(2)), minigrad.tensor(rng.random(2) + 0.5)
    trm, trv = to_torch(rm), to_torch(rv)
    out = F.instance_norm(minigrad.tensor(x), rm, rv, momentum=0.3)
    tout = torch.nn.functional.instance_norm(torch.tensor(x), trm, trv, momentum=0.3)
    assert_close(out, tout)
    assert_close(rm, trm)
    assert_close(rv, trv)
    out = F.instance_norm(minigrad.tensor(x), rm, rv, use_input_stats=False)
    tout = torch.nn.functional.instance_norm(torch.tensor(x), trm, trv, use_input_stats=False)
    assert_close(out, tout)


def test_instance_norm_gradcheck():
    rng = np.random.default_rng(12)
    x = minigrad.tensor(rng.standard_normal((2, 2, 4)), requires_grad=True)
    w = minigrad.tensor(rng.standard_normal(2), requires_grad=True)
    assert minigrad.autograd.gradcheck(lambda a, b: F.instance_norm(a, weight=b), (x, w))
    assert minigrad.autograd.gradgradcheck(lambda a, b: F.instance_norm(a, weight=b), (x, w))


@pytest.mark.parametrize("cls,shape,unbatched", [("InstanceNorm1d", (4, 3, 6), (3, 6)),
                                                 ("InstanceNorm2d", (2, 3, 4, 5), (3, 4, 5))])
@pytest.mark.parametrize("kw", [dict(), dict(affine=True), dict(track_running_stats=True),
                                dict(affine=True, track_running_stats=True, momentum=0.3, eps=1e-3),
                                dict(track_running_stats=True, momentum=None)])
def test_instance_norm_modules(cls, shape, unbatched, kw):
    module, tmodule = getattr(nn, cls)(3, dtype=minigrad.float64, **kw), getattr(torch.nn, cls)(3, **kw).double()
    assert repr(module) == repr(tmodule)
    assert list(module.state_dict()) == list(tmodule.state_dict())
    rng = np.random.default_rng(13)
    if module.affine:
        with minigrad.no_grad():
            module.weight.copy_(minigrad.tensor(rng.standard_normal(3)))
            module.bias.copy_(minigrad.tensor(rng.standard_normal(3)))
        tmodule.load_state_dict({k: to_torch(v) for k, v in module.state_dict().items()})
    for step in range(3):
        x, tx = _pair(shape if step != 1 else unbatched, seed=20 + step)
        out, tout = module(x), tmodule(tx)
        assert_close(out, tout)
        out.pow(2).sum().backward()
        tout.pow(2).sum().backward()
        assert_close(x.grad, tx.grad)
        for name, value in tmodule.state_dict().items():
            assert_close(module.state_dict()[name], value)
    if module.affine:
        assert_close(module.weight.grad, tmodule.weight.grad)
        assert_close(module.bias.grad, tmodule.bias.grad)
    module.eval()
    tmodule.eval()
    for s in (shape, unbatched):
        x, tx = _pair(s, seed=30)
        assert_close(module(x), tmodule(tx))
    for name, value in tmodule.state_dict().items():
        assert_close(module.state_dict()[name], value)


@pytest.mark.parametrize("call", [
    lambda m, t: m.nn.functional.instance_norm(t(2, 3, 4), use_input_stats=False),
    lambda m, t: m.nn.functional.instance_norm(t(2, 3, 4), weight=m.ones(4, dtype=m.float64)),
    lambda m, t: m.nn.functional.instance_norm(t(2, 3, 4), m.zeros(4, dtype=m.float64), m.ones(3, dtype=m.float64)),
    lambda m, t: m.nn.functional.instance_norm(t(2, 3, 1)),
    lambda m, t: m.nn.InstanceNorm1d(3, affine=True, dtype=m.float64)(t(2, 4, 5)),
    lambda m, t: m.nn.InstanceNorm1d(3)(t(2, 3, 5, 6)),
    lambda m, t: m.nn.InstanceNorm2d(3)(t(2, 3)),
    lambda m, t: m.nn.InstanceNorm2d(3)(t(2, 3, 1, 1)),
])
def test_instance_norm_errors(call):
    with pytest.raises(Exception) as expected:
        call(torch, lambda *s: torch.zeros(s, dtype=torch.float64))
    with pytest.raises(type(expected.value)) as actual:
        call(minigrad, lambda *s: minigrad.zeros(*s, dtype=minigrad.float64))
    assert str(actual.value).replace("minigrad.Size", "torch.Size") == str(expected.value)


def test_instance_norm_num_features_warning():
    with pytest.warns(UserWarning, match="does not match num_features"):
        nn.InstanceNorm1d(3)(minigrad.randn(2, 4, 5))
