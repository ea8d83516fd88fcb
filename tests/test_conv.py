"""conv2d, max_pool2d, avg_pool2d, adaptive_avg_pool2d, unfold and fold, and their modules, against torch: values,
gradients and second derivatives in float64 to 1e-10, torch's errors, reprs, and the MNIST CNN of pytorch/examples."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from conftest import assert_close, to_np

import minigrad
import minigrad.nn.functional as F
from minigrad import nn


def _compare(mg_fn, torch_fn, arrays, rng, second=True, outputs=1):
    """Forward, first and second derivatives of ``fn(*arrays)`` (all float64, all requiring grad) against torch.

    The second derivatives are those of ``sum(v_i * grad_i)`` with respect to every input and to the output's
    gradient, so the recorded backward of each op is differentiated along every path.
    """
    m_in = [minigrad.tensor(a, requires_grad=True) for a in arrays]
    t_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    m_out, t_out = mg_fn(*m_in), torch_fn(*t_in)
    assert_close(m_out, t_out)
    g = rng.standard_normal(tuple(t_out.shape))
    m_g, t_g = minigrad.tensor(g, requires_grad=True), torch.tensor(g, requires_grad=True)
    m_grads = minigrad.autograd.grad(m_out, m_in, m_g, create_graph=second)
    t_grads = torch.autograd.grad(t_out, t_in, t_g, create_graph=second)
    for a, b in zip(m_grads, t_grads):
        assert_close(a, b)
    if not second:
        return
    vs = [rng.standard_normal(a.shape) for a in arrays]
    m_s = sum((gr * minigrad.tensor(v)).sum() for gr, v in zip(m_grads, vs))
    t_s = sum((gr * torch.tensor(v)).sum() for gr, v in zip(t_grads, vs))
    if t_s.grad_fn is None:  # the gradients do not depend on anything (cannot happen with m_g requiring grad)
        return
    m_second = minigrad.autograd.grad(m_s, [*m_in, m_g], allow_unused=True, materialize_grads=True)
    t_second = torch.autograd.grad(t_s, [*t_in, t_g], allow_unused=True, materialize_grads=True)
    for a, b in zip(m_second, t_second):
        assert_close(a, b)


CONV_CASES = [
    # (N, C, H, W), out channels, kernel, stride, padding, dilation, groups, bias
    ((2, 3, 7, 6), 4, 3, 1, 0, 1, 1, True),
    ((2, 3, 7, 6), 4, 1, 1, 0, 1, 1, False),
    ((1, 2, 8, 9), 3, (2, 3), (2, 1), (1, 2), 1, 1, True),
    ((2, 4, 9, 9), 6, 3, 2, 1, 2, 2, True),
    ((2, 4, 10, 8), 4, (3, 2), 3, (2, 0), (1, 2), 4, False),
    ((3, 2, 5, 5), 2, 5, 1, 2, 1, 1, True),
    ((2, 3, 6, 7), 4, 3, 1, "same", 1, 1, True),
    ((2, 3, 6, 7), 4, (2, 4), 1, "same", (2, 1), 1, True),
    ((2, 3, 6, 7), 6, 3, 1, "valid", 1, 3, True),
    ((1, 1, 4, 4), 1, 4, 1, 0, 1, 1, True),
]


@pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")
@pytest.mark.parametrize("case", CONV_CASES)
def test_conv2d_values_gradients_and_second_derivatives(case, rng):
    shape, out_c, kernel, stride, padding, dilation, groups, bias = case
    k = kernel if isinstance(kernel, tuple) else (kernel, kernel)
    arrays = [rng.standard_normal(shape), rng.standard_normal((out_c, shape[1] // groups, *k))]
    if bias:
        arrays.append(rng.standard_normal(out_c))
    args = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    _compare(lambda *t: F.conv2d(*t, **args), lambda *t: TF.conv2d(*t, **args), arrays, rng)


def test_conv2d_through_a_nonlinearity_second_derivatives(rng):
    """tanh after the convolution: the second derivatives mix the input with itself and with the weight."""
    arrays = [rng.standard_normal((2, 2, 6, 5)), rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)]
    _compare(lambda x, w, b: F.conv2d(x, w, b, padding=1, stride=2).tanh(),
             lambda x, w, b: TF.conv2d(x, w, b, padding=1, stride=2).tanh(), arrays, rng)


def test_conv2d_unbatched_and_grad_fn(rng):
    arrays = [rng.standard_normal((3, 6, 6)), rng.standard_normal((2, 3, 3, 3)), rng.standard_normal(2)]
    _compare(lambda *t: F.conv2d(*t, padding=1), lambda *t: TF.conv2d(*t, padding=1), arrays, rng)
    out = F.conv2d(minigrad.tensor(arrays[0][None]), minigrad.tensor(arrays[1], requires_grad=True))
    assert out.grad_fn.name() == "ConvolutionBackward0"
    x = minigrad.tensor(arrays[0], requires_grad=True)
    names = [f(x).grad_fn.name() for f in (lambda t: F.avg_pool2d(t, 2), lambda t: F.adaptive_avg_pool2d(t, 2),
                                           lambda t: F.unfold(t, 2), lambda t: F.fold(F.unfold(t, 2), (6, 6), 2))]
    assert names == ["AvgPool2DBackward0", "AdaptiveAvgPool2DBackward0", "Im2ColBackward0", "Col2ImBackward0"]


def test_conv2d_float32_matches_torch(rng):
    x = rng.standard_normal((2, 3, 9, 9)).astype(np.float32)
    w = rng.standard_normal((5, 3, 3, 3)).astype(np.float32)
    out = F.conv2d(minigrad.tensor(x), minigrad.tensor(w), stride=2, padding=1)
    assert out.dtype == minigrad.float32
    assert_close(out, TF.conv2d(torch.tensor(x), torch.tensor(w), stride=2, padding=1), atol=1e-5, rtol=1e-5)


MAX_CASES = [
    # kernel, stride, padding, dilation, ceil_mode
    (2, None, 0, 1, False),
    (3, 1, 1, 1, False),
    ((2, 3), (1, 2), (1, 1), 1, False),
    (3, 2, 1, 2, False),
    (3, 2, 0, 1, True),
    (2, 2, 1, 1, True),
    ((3, 2), 3, (1, 0), (1, 2), True),
    (1, 1, 0, 1, False),
]


@pytest.mark.parametrize("case", MAX_CASES)
def test_max_pool2d_values_indices_and_derivatives(case, rng):
    kernel, stride, padding, dilation, ceil_mode = case
    x = rng.standard_normal((2, 3, 9, 8))  # continuous values: no ties
    args = dict(kernel_size=kernel, stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode)
    _compare(lambda t: F.max_pool2d(t, **args), lambda t: TF.max_pool2d(t, **args), [x], rng)
    m_out, m_idx = F.max_pool2d(minigrad.tensor(x), return_indices=True, **args)
    t_out, t_idx = TF.max_pool2d(torch.tensor(x), return_indices=True, **args)
    assert_close(m_idx, t_idx)
    assert m_idx.dtype == minigrad.int64 and not m_idx.requires_grad


def test_max_pool2d_unbatched_nonlinear_and_grad_fn(rng):
    x = rng.standard_normal((3, 6, 7))
    _compare(lambda t: F.max_pool2d(t * t, 2, 1), lambda t: TF.max_pool2d(t * t, 2, 1), [x], rng)
    out = F.max_pool2d(minigrad.tensor(x, requires_grad=True), 2)
    assert out.grad_fn.name() == "MaxPool2DWithIndicesBackward0"


AVG_CASES = [
    # kernel, stride, padding, ceil_mode, count_include_pad, divisor_override
    (2, None, 0, False, True, None),
    (3, 1, 1, False, True, None),
    (3, 1, 1, False, False, None),
    ((2, 3), (2, 1), (1, 1), True, True, None),
    ((2, 3), (2, 1), (1, 1), True, False, None),
    (3, 2, 1, True, True, None),
    (3, 2, 1, True, False, None),
    (3, 2, 0, True, True, None),
    (3, 2, 1, False, True, 5),
]


@pytest.mark.parametrize("case", AVG_CASES)
def test_avg_pool2d_values_and_derivatives(case, rng):
    kernel, stride, padding, ceil_mode, include, divisor = case
    x = rng.standard_normal((2, 3, 8, 9))
    args = dict(kernel_size=kernel, stride=stride, padding=padding, ceil_mode=ceil_mode, count_include_pad=include,
                divisor_override=divisor)
    _compare(lambda t: F.avg_pool2d(t, **args), lambda t: TF.avg_pool2d(t, **args), [x], rng)


def test_avg_pool2d_unbatched(rng):
    x = rng.standard_normal((3, 6, 7))
    _compare(lambda t: F.avg_pool2d(t.tanh(), 2), lambda t: TF.avg_pool2d(t.tanh(), 2), [x], rng)


@pytest.mark.parametrize(("shape", "size"), [((2, 3, 7, 5), (3, 2)), ((2, 3, 8, 6), 1), ((3, 7, 5), (None, 4)),
                                             ((1, 2, 6, 6), (3, 3)), ((1, 2, 5, 4), (5, 4))])
def test_adaptive_avg_pool2d(shape, size, rng):
    x = rng.standard_normal(shape)
    _compare(lambda t: F.adaptive_avg_pool2d(t, size), lambda t: TF.adaptive_avg_pool2d(t, size), [x], rng)
    assert_close(nn.AdaptiveAvgPool2d(size)(minigrad.tensor(x)), torch.nn.AdaptiveAvgPool2d(size)(torch.tensor(x)))


@pytest.mark.parametrize(("kernel", "dilation", "padding", "stride"), [(2, 1, 0, 1), ((2, 3), (2, 1), (1, 2), (2, 3))])
def test_unfold_and_fold(kernel, dilation, padding, stride, rng):
    x = rng.standard_normal((2, 3, 7, 8))
    args = dict(kernel_size=kernel, dilation=dilation, padding=padding, stride=stride)
    _compare(lambda t: F.unfold(t, **args), lambda t: TF.unfold(t, **args), [x], rng)
    cols = TF.unfold(torch.tensor(x), **args)
    c = cols.detach().numpy()
    _compare(lambda t: F.fold(t, (7, 8), **args), lambda t: TF.fold(t, (7, 8), **args), [c], rng)
    _compare(lambda t: F.fold(t, (7, 8), **args), lambda t: TF.fold(t, (7, 8), **args), [c[0]], rng)


# -- torch's errors ---------------------------------------------------------------------------

ERROR_CASES = [
    lambda F, T: F.conv2d(T(2, 3, 5, 5), T(4, 2, 3, 3)),
    lambda F, T: F.conv2d(T(3, 5), T(4, 3, 3, 3)),
    lambda F, T: F.conv2d(T(1, 2, 3, 3, 5), T(4, 3, 3, 3)),
    lambda F, T: F.conv2d(T(2, 3, 5, 5), T(4, 3, 7, 7)),
    lambda F, T: F.conv2d(T(2, 3, 5, 5), T(4, 3, 3, 3), T(3)),
    lambda F, T: F.conv2d(T(2, 3, 5, 5), T(4, 3, 3, 3), stride=2, padding="same"),
    lambda F, T: F.conv2d(T(2, 3, 5, 5), T(4, 3, 3, 3), padding="foo"),
    lambda F, T: F.conv2d(T(2, 3, 5, 5), T(4, 3, 3, 3), stride=0),
    lambda F, T: F.conv2d(T(2, 3, 5, 5), T(4, 3, 3, 3), padding=-1),
    lambda F, T: F.conv2d(T(2, 3, 5, 5), T(4, 3, 3, 3), dilation=0),
    lambda F, T: F.conv2d(T(2, 3, 5, 5), T(4, 1, 3, 3), groups=2),
    lambda F, T: F.conv2d(T(2, 3, 5, 5), T(4, 1, 3, 3), groups=3),
    lambda F, T: F.conv2d(T(2, 3, 5, 5), T(4, 3, 3, 3), groups=0),
    lambda F, T: F.conv2d(T(2, 3, 5, 5).double(), T(4, 3, 3, 3)),
    lambda F, T: F.conv2d(T(2, 3, 5, 5), T(4, 3, 3, 3), stride=(1, 2, 3)),
    lambda F, T: F.max_pool2d(T(2, 3, 5, 5), 2, padding=2),
    lambda F, T: F.max_pool2d(T(2, 3, 5, 5), 3, padding=2, dilation=2),
    lambda F, T: F.avg_pool2d(T(2, 3, 5, 5), 2, padding=2),
    lambda F, T: F.max_pool2d(T(2, 3, 5, 5), 7),
    lambda F, T: F.avg_pool2d(T(2, 3, 5, 5), 7),
    lambda F, T: F.max_pool2d(T(2, 3, 5, 5), 2, stride=0),
    lambda F, T: F.avg_pool2d(T(2, 3, 5, 5), 2, divisor_override=0),
    lambda F, T: F.max_pool2d(T(5, 5), 2),
    lambda F, T: F.max_pool2d(T(2, 3, 5, 5), 2, dilation=0),
    lambda F, T: F.adaptive_avg_pool2d(T(5, 5), 2),
    lambda F, T: F.adaptive_avg_pool2d(T(2, 3, 5, 5), (2, 3, 4)),
]


@pytest.mark.parametrize("case", range(len(ERROR_CASES)))
def test_errors_are_torchs(case):
    call = ERROR_CASES[case]
    with pytest.raises(Exception) as expected:
        call(TF, lambda *s: torch.zeros(s))
    with pytest.raises(type(expected.value)) as actual:
        call(F, lambda *s: minigrad.zeros(s))
    assert str(actual.value) == str(expected.value)


@pytest.mark.parametrize("kwargs", [dict(groups=2, in_channels=3), dict(groups=2, out_channels=3), dict(groups=0),
                                    dict(padding="foo"), dict(padding="same", stride=2), dict(padding_mode="foo")])
def test_conv2d_module_errors_are_torchs(kwargs):
    args = dict(in_channels=4, out_channels=4, kernel_size=3) | kwargs
    with pytest.raises(ValueError) as expected:
        torch.nn.Conv2d(**args)
    with pytest.raises(ValueError) as actual:
        nn.Conv2d(**args)

    def unordered(message):  # torch prints a set of names, whose order changes between runs
        return re.sub(r"\{[^}]*\}", lambda m: str(sorted(m.group(0)[1:-1].split(", "))), message)

    assert unordered(str(actual.value)) == unordered(str(expected.value))


# -- modules ----------------------------------------------------------------------------------

CONV_MODULES = [
    dict(in_channels=1, out_channels=32, kernel_size=3, stride=1),
    dict(in_channels=4, out_channels=8, kernel_size=(3, 5), stride=2, padding=(1, 2), dilation=2, groups=2,
         bias=False, padding_mode="reflect"),
    dict(in_channels=4, out_channels=8, kernel_size=3, padding="same"),
    dict(in_channels=4, out_channels=8, kernel_size=(2, 4), padding="same", dilation=(1, 2), padding_mode="circular"),
    dict(in_channels=4, out_channels=8, kernel_size=3, padding="valid", padding_mode="replicate"),
    dict(in_channels=2, out_channels=4, kernel_size=3, padding=2, padding_mode="replicate"),
]


@pytest.mark.parametrize("kwargs", CONV_MODULES)
def test_conv2d_module_matches_torch(kwargs, rng):
    m, t = nn.Conv2d(**kwargs), torch.nn.Conv2d(**kwargs).double()
    assert repr(m) == repr(t)
    assert list(m.state_dict()) == list(t.state_dict())
    assert [tuple(p.shape) for p in m.parameters()] == [tuple(p.shape) for p in t.parameters()]
    for name in ("kernel_size", "stride", "padding", "dilation", "groups", "padding_mode", "transposed",
                 "output_padding", "_reversed_padding_repeated_twice"):
        assert getattr(m, name) == getattr(t, name), name
    m.double().load_state_dict({k: minigrad.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    x = rng.standard_normal((2, kwargs["in_channels"], 9, 10))
    mx, tx = minigrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    mo, to = m(mx), t(tx)
    assert_close(mo, to)
    mo.square().sum().backward()
    to.square().sum().backward()
    assert_close(mx.grad, tx.grad)
    for (_name, p), q in zip(m.named_parameters(), t.parameters()):
        assert_close(p.grad, q.grad)


def test_conv2d_init_statistics():
    minigrad.manual_seed(0)
    m = nn.Conv2d(16, 64, 5)
    bound = 1 / math.sqrt(16 * 25)  # kaiming_uniform with a=sqrt(5): uniform in ±1/sqrt(fan_in)
    w, b = to_np(m.weight), to_np(m.bias)
    assert w.dtype == np.float32 and b.shape == (64,)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.mean()) < 0.02 * bound and abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound
    assert np.abs(b).max() <= bound and b.std() > 0.3 * bound
    grouped = nn.Conv2d(8, 8, 3, groups=4, bias=False)
    assert grouped.weight.shape == (8, 2, 3, 3) and grouped.bias is None
    assert np.abs(to_np(grouped.weight)).max() <= 1 / math.sqrt(2 * 9)


@pytest.mark.parametrize(("make", "kwargs"), [
    ("MaxPool2d", dict(kernel_size=2)),
    ("MaxPool2d", dict(kernel_size=(2, 3), stride=1, padding=1, dilation=2, return_indices=True, ceil_mode=True)),
    ("AvgPool2d", dict(kernel_size=2)),
    ("AvgPool2d", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False,
                       divisor_override=2)),
    ("AdaptiveAvgPool2d", dict(output_size=1)),
    ("AdaptiveAvgPool2d", dict(output_size=(None, 3))),
])
def test_pooling_modules_match_torch(make, kwargs, rng):
    m, t = getattr(nn, make)(**kwargs), getattr(torch.nn, make)(**kwargs)
    assert repr(m) == repr(t)
    assert list(m.state_dict()) == [] and list(m.parameters()) == []
    x = rng.standard_normal((2, 3, 9, 8))
    mo, to = m(minigrad.tensor(x)), t(torch.tensor(x))
    if isinstance(to, tuple):
        for a, b in zip(mo, to):
            assert_close(a, b)
    else:
        assert_close(mo, to)


def test_on_a_cuda_device_arrays_stay_on_it(device, rng):
    """The strict CuPy stand-in refuses host arrays: every constant the ops make lives on the device."""
    x = minigrad.tensor(rng.standard_normal((2, 2, 6, 6)), device=device, requires_grad=True)
    w = minigrad.tensor(rng.standard_normal((3, 2, 3, 3)), device=device, requires_grad=True)
    y = F.conv2d(x, w, padding=1)
    y = F.max_pool2d(y, 2, 1) + F.avg_pool2d(y, 2, 1, padding=1, count_include_pad=False)[..., :5, :5]
    y = F.adaptive_avg_pool2d(y.tanh(), (2, 3)).sum() + nn.Conv2d(2, 2, 3, padding=1, padding_mode="reflect",
                                                           device=device, dtype=minigrad.float64)(x).sum()
    (gx,) = minigrad.autograd.grad(y, [x], create_graph=True)
    (gx * gx).sum().backward()
    assert x.grad.device.type == "cuda" and w.grad.device.type == "cuda"


# -- the MNIST CNN of pytorch/examples --------------------------------------------------------


def _mnist_net(lib):
    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = lib.nn.Conv2d(1, 32, 3, 1)
            self.conv2 = lib.nn.Conv2d(32, 64, 3, 1)
            self.dropout1 = lib.nn.Dropout(0.25)
            self.dropout2 = lib.nn.Dropout(0.5)
            self.fc1 = lib.nn.Linear(9216, 128)
            self.fc2 = lib.nn.Linear(128, 10)

        def forward(self, x):
            f = lib.nn.functional
            x = f.relu(self.conv1(x))
            x = f.relu(self.conv2(x))
            x = f.max_pool2d(x, 2)
            x = self.dropout1(x)
            x = lib.flatten(x, 1)
            x = f.relu(self.fc1(x))
            x = self.dropout2(x)
            return f.log_softmax(self.fc2(x), dim=1)

    return Net()


def test_mnist_cnn_forward_and_sgd_step_match_torch(rng):
    torch.manual_seed(0)
    t_net, m_net = _mnist_net(torch), _mnist_net(minigrad)
    m_net.load_state_dict({k: minigrad.tensor(v.numpy()) for k, v in t_net.state_dict().items()})
    t_net.eval()
    m_net.eval()
    x = rng.standard_normal((4, 1, 28, 28)).astype(np.float32)
    target = rng.integers(0, 10, 4)
    t_out, m_out = t_net(torch.tensor(x)), m_net(minigrad.tensor(x))
    assert_close(m_out, t_out, atol=1e-5, rtol=1e-5)
    t_opt = torch.optim.SGD(t_net.parameters(), lr=0.1, momentum=0.9)
    m_opt = minigrad.optim.SGD(m_net.parameters(), lr=0.1, momentum=0.9)
    TF.nll_loss(t_out, torch.tensor(target)).backward()
    F.nll_loss(m_out, minigrad.tensor(target)).backward()
    for (_name, p), q in zip(m_net.named_parameters(), t_net.parameters()):
        assert_close(p.grad, q.grad, atol=1e-5, rtol=1e-4)
    t_opt.step()
    m_opt.step()
    for (_name, p), q in zip(m_net.named_parameters(), t_net.parameters()):
        assert_close(p, q, atol=1e-5, rtol=1e-5)
