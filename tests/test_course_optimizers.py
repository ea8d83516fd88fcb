"""Every optimizer line of the course (course-7-optimizers) runs unchanged with ``minigrad`` as ``torch``.

Each line trains a Linear(4, 1) on a small regression problem for 100 steps with MSE: the
loss must go down, and follow torch's (float32, so to 1e-4 relative). The course's
constructor signatures with ``params`` get ``model.parameters()``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import minigrad

# The lines as the course writes them (trailing commas included).
COURSE_LINES = [
    "torch.optim.SGD(model.parameters(), lr=0.01)",
    "torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)",
    "torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.99)",
    "torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.99, dampening=0.25)",
    "torch.optim.SGD(params, lr=0.01, momentum=0.9, dampening=0, nesterov=True)",
    "torch.optim.Rprop(params, etas=(0.5, 1.2))",
    "torch.optim.Rprop(model.parameters(), etas=(0.75, 1.1))",
    "torch.optim.Adagrad(params, lr=0.01, initial_accumulator_value=0, eps=1e-10)",
    "torch.optim.Adagrad(model.parameters(), lr=0.2)",
    "torch.optim.RMSprop(model.parameters(), lr=0.01, alpha=0.9)",
    "torch.optim.Adam(params, lr=0.001, betas=(0.9, 0.999), eps=1e-08,)",
    "torch.optim.Adam(model.parameters())",
    "torch.optim.NAdam(params, lr=0.002, betas=(0.9, 0.999), eps=1e-08, momentum_decay=0.004,)",
    "torch.optim.NAdam(model.parameters())",
    "torch.optim.Adadelta(params, rho=0.9, eps=1e-08,)",
    "torch.optim.Adadelta(model.parameters())",
]


def regression(lib, line: str, steps: int = 100) -> list:
    """Losses of ``steps`` training steps of Linear(4, 1) with the optimizer ``line`` makes."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((64, 4)).astype(np.float32)
    noise = 0.2 * rng.standard_normal((64, 1))  # the best loss is about 0.04, not 0
    y = (x @ np.array([[0.5], [-1.0], [2.0], [0.3]]) + 0.7 + noise).astype(np.float32)
    model = lib.nn.Linear(4, 1)
    with lib.no_grad():
        model.weight.copy_(lib.tensor(np.array([[0.1, 0.2, -0.3, 0.4]], dtype=np.float32)))
        model.bias.copy_(lib.tensor(np.array([-0.2], dtype=np.float32)))
    optimizer = eval(line, {"torch": lib, "model": model, "params": model.parameters()})
    loss_function = lib.nn.MSELoss()
    inputs, labels = lib.tensor(x), lib.tensor(y)
    losses = []
    for _ in range(steps):
        loss = loss_function(model(inputs), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("line", COURSE_LINES)
def test_course_line_lowers_the_loss_like_torch(line):
    ours, theirs = regression(minigrad, line), regression(torch, line)
    assert ours[-1] < ours[0]
    np.testing.assert_allclose(ours, theirs, rtol=1e-4)


def test_course_rmsprop_line_raises_type_error_like_torch():
    line = "torch.optim.RMSprop(params, lr=0.01, initial_accumulator_value=0, eps=1e-10, alpha=0.99)"

    def error(lib):
        with pytest.raises(TypeError) as info:
            regression(lib, line, steps=1)
        return str(info.value)

    assert error(minigrad) == error(torch) == \
        "RMSprop.__init__() got an unexpected keyword argument 'initial_accumulator_value'"


def test_course_nesterov_with_dampening_is_refused_like_torch():
    # The course says dampening can be used with Nesterov; torch 2.13 refuses it.
    line = "torch.optim.SGD(params, lr=0.01, momentum=0.9, dampening=0.25, nesterov=True)"

    def error(lib):
        with pytest.raises(ValueError) as info:
            regression(lib, line, steps=1)
        return str(info.value)

    assert error(minigrad) == error(torch) == "Nesterov momentum requires a momentum and zero dampening"


def test_course_one_step_sgd_example():
    # The course's memory example: one training iteration; the weights move by exactly -lr * grad.
    torch = minigrad  # the course's code, unchanged below
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 1, bias=True)
    loss_function = torch.nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    inputs = torch.randn(64, 4)
    labels = torch.randn(64, 1)
    weight, bias = model.weight.detach().numpy().copy(), model.bias.detach().numpy().copy()

    outputs = model(inputs)
    loss = loss_function(outputs, labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

    lr = np.float32(0.01)
    assert model.weight.grad.shape == (1, 4) and model.bias.grad.shape == (1,)
    np.testing.assert_array_equal(model.weight.detach().numpy(), weight - lr * model.weight.grad.numpy())
    np.testing.assert_array_equal(model.bias.detach().numpy(), bias - lr * model.bias.grad.numpy())
    # The gradient itself is the MSE gradient, computed by hand.
    x, y = inputs.numpy(), labels.numpy()
    residual = x @ weight.T + bias - y
    np.testing.assert_allclose(model.weight.grad.numpy(), 2 * residual.T @ x / 64, rtol=1e-5)
    np.testing.assert_allclose(model.bias.grad.numpy(), 2 * residual.sum(0) / 64, rtol=1e-5)


def test_course_zero_grad_frees_gradients_in_torch_2():
    # "The gradients ... are cleaned (zeroed) whenever optimizer.zero_grad() is called": since
    # torch 2.0 they are set to None (freed); zeros need set_to_none=False.
    model = minigrad.nn.Linear(4, 1)
    optimizer = minigrad.optim.SGD(model.parameters(), lr=0.01)
    model(minigrad.randn(8, 4)).sum().backward()
    optimizer.zero_grad()
    assert model.weight.grad is None
    model(minigrad.randn(8, 4)).sum().backward()
    optimizer.zero_grad(set_to_none=False)
    assert (model.weight.grad.numpy() == 0).all()
