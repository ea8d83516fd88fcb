"""Anomaly detection (minigrad.autograd.detect_anomaly) against torch's: the same switches, the same error for
a NaN gradient naming the node and which of its gradients, the same warning pointing at the forward call."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import minigrad

LIBS = [torch, minigrad]


def run_catching(lib, forward, check_nan=True, create_graph=False):
    """(error text or None, warnings' texts, the gradient) of ``forward(x).backward()`` in anomaly mode."""
    x = lib.tensor([0.0, 1.0, 4.0], dtype=lib.float64, requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with lib.autograd.detect_anomaly(check_nan=check_nan):
            y = forward(lib, x)
            try:
                y.backward(create_graph=create_graph)
                error = None
            except RuntimeError as e:
                error = str(e)
    texts = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    grad = None if x.grad is None else x.grad.detach().numpy()
    return error, texts, grad


CASES = {
    "div": lambda lib, x: (x / x).sum(),  # d/d(divisor) of 0/0 is NaN: the node's second gradient
    "sqrt": lambda lib, x: lib.sqrt(x - 1).sum(),  # sqrt of negatives: NaN forward and backward
    "log_mul": lambda lib, x: (lib.log(x) * x).sum(),  # 0 * -inf
}


@pytest.mark.parametrize("case", CASES)
def test_a_nan_gradient_raises_torchs_error_after_a_warning_naming_the_forward_line(case):
    (t_error, t_warnings, _), (m_error, m_warnings, _) = (run_catching(lib, CASES[case]) for lib in LIBS)
    assert t_error is not None and m_error == t_error
    enabled = "Anomaly Detection has been enabled. This mode will increase the runtime and should only be enabled " \
              "for debugging."
    assert m_warnings[0] == t_warnings[0] == enabled
    t_detected = next(w for w in t_warnings if w.startswith("Error detected in"))
    m_detected = next(w for w in m_warnings if w.startswith("Error detected in"))
    assert m_detected.splitlines()[0] == t_detected.splitlines()[0]
    assert "y = forward(lib, x)" in m_detected  # the user's line, not minigrad's own frames
    assert "minigrad/" not in m_detected


@pytest.mark.parametrize("case", CASES)
def test_without_check_nan_the_nan_gradients_come_through_as_torchs(case):
    (t_error, _, t_grad), (m_error, _, m_grad) = (run_catching(lib, CASES[case], check_nan=False) for lib in LIBS)
    assert t_error is None and m_error is None
    np.testing.assert_array_equal(m_grad, t_grad)


def test_clean_gradients_are_unchanged_also_with_create_graph():
    def forward(lib, x):
        return (lib.tanh(x) * x).sum()

    for create_graph in (False, True):
        (t_error, t_warnings, t_grad), (m_error, m_warnings, m_grad) = (
            run_catching(lib, forward, create_graph=create_graph) for lib in LIBS)
        assert t_error is None and m_error is None
        assert not any(w.startswith("Error detected") for w in t_warnings + m_warnings)
        np.testing.assert_allclose(m_grad, t_grad, rtol=1e-15)


def test_an_error_in_a_backward_is_reraised_after_the_warning():
    def make(lib):
        class Fails(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                raise ValueError("broken backward")

        return Fails

    for lib in LIBS:
        x = lib.ones(2, requires_grad=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with lib.autograd.detect_anomaly(), pytest.raises(ValueError, match="broken backward"):
                make(lib).apply(x).sum().backward()
        assert any(str(w.message).startswith("Error detected in FailsBackward") for w in caught), lib.__name__


def test_switches_and_their_restoration_as_torchs():
    for lib in LIBS:
        states = []
        states.append((lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled()))
        with lib.autograd.set_detect_anomaly(True, check_nan=False):
            states.append((lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled()))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with lib.autograd.detect_anomaly():
                    states.append((lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled()))
            states.append((lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled()))
        states.append((lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled()))
        lib.autograd.set_detect_anomaly(True)  # a plain call stays on
        states.append(lib.is_anomaly_enabled())
        lib.autograd.set_detect_anomaly(False)
        states.append(lib.is_anomaly_enabled())
        if lib is torch:
            expected = states
        else:
            assert states == expected


def test_off_nothing_is_kept_per_op():
    x = minigrad.ones(2, requires_grad=True)
    assert (x * 2).grad_fn.forward_stack is None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with minigrad.autograd.detect_anomaly():
            assert (x * 2).grad_fn.forward_stack
