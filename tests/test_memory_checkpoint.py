"""minigrad.memory with activation checkpointing: the summary counts what a checkpointed model keeps, and its
predicted backward peak (one recomputed block at a time) matches the peak tracemalloc measures.

A 32-layer MLP (Linear 256 -> 256, Tanh), batch 512, float32, trained with checkpoint_sequential at 1, 4 and 32
segments and without: each layer keeps one 512 x 256 array (0.5 MB; Tanh's output is the next Linear's
input), so the plain forward keeps 32 of them; with s segments of k = 32 // s layers, torch's rule keeps the
s - 1 segment inputs and the last segment's layers, and backward recomputes one segment at a time.
"""

from __future__ import annotations

import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.memory import measure, summary
from minigrad.utils.checkpoint import checkpoint_sequential

N_LAYERS, WIDTH, BATCH = 32, 256, 512
ACTIVATION = BATCH * WIDTH * 4  # one layer's saved array


class Deep(nn.Module):
    def __init__(self, segments: int | None) -> None:
        super().__init__()
        self.layers = nn.Sequential(*[m for _ in range(N_LAYERS) for m in (nn.Linear(WIDTH, WIDTH), nn.Tanh())])
        self.segments = segments

    def forward(self, x: minigrad.Tensor) -> minigrad.Tensor:
        if self.segments is None:
            return self.layers(x)
        return checkpoint_sequential(self.layers, self.segments, x, use_reentrant=False)


def _kept_arrays(segments: int | None) -> int:
    """Arrays of one layer's output size the forward keeps, by torch's rule for checkpoint_sequential (see
    utils/checkpoint.py): each segment's input (the first one is the batch), and the outputs of the layers of
    the last segment, which runs plainly. Without checkpointing: the batch and every layer's output."""
    s = segments or 1
    k = N_LAYERS // s
    return s + (N_LAYERS - (s - 1) * k)


def _predicted_and_measured(segments: int | None) -> tuple:
    minigrad.manual_seed(0)
    target = minigrad.randint(0, WIDTH, (BATCH,))

    def loss_fn(out):
        return F.cross_entropy(out, target)

    with measure():  # one trace throughout, so that the step sees the frees of earlier arrays
        with measure() as setup:
            model = Deep(segments)
            opt = minigrad.optim.SGD(model.parameters(), lr=0.01)
            x = minigrad.randn(BATCH, WIDTH)
        report = summary(model, (BATCH, WIDTH), optimizer=opt, loss_fn=loss_fn)
        with measure() as backward:
            opt.zero_grad()
            loss = loss_fn(model(x))
            loss.backward()
        del loss
    return report, report.param_bytes + report.backward_peak, setup.array_current + backward.peak


@pytest.mark.parametrize("segments", [None, 1, 4, 32])
def test_predicted_backward_peak_within_10_percent_of_measured(segments):
    report, predicted, measured = _predicted_and_measured(segments)
    assert abs(predicted - measured) <= 0.10 * measured, (predicted, measured)


@pytest.mark.parametrize("segments", [None, 1, 4, 8, 32])
def test_the_activation_column_counts_what_the_checkpointed_forward_keeps(segments):
    minigrad.manual_seed(0)
    report = summary(Deep(segments), (BATCH, WIDTH))
    layer_outputs = sum(r.activation_bytes for r in report.rows if r.type == "Tanh")
    linear_inputs = sum(r.activation_bytes for r in report.rows if r.type == "Linear")
    assert layer_outputs + linear_inputs == _kept_arrays(segments) * ACTIVATION


def test_checkpointing_with_sqrt_n_segments_lowers_the_measured_peak():
    _, _, plain = _predicted_and_measured(None)
    _, _, four = _predicted_and_measured(4)
    _, _, every_layer = _predicted_and_measured(32)
    assert four < 0.85 * plain  # 12 arrays kept instead of 33, one segment of 8 recomputed at a time
    assert abs(every_layer - plain) < 0.05 * plain  # every layer's input kept as a segment input: no saving


# -- autocast: what is float16 and what is not ------------------------------------------------------------------


def test_under_autocast_the_summary_counts_activations_by_dtype():
    # Linear(64, 256) saves its input cast to float16; Tanh its float16 output; Linear(256, 10) its input (Tanh's
    # output, counted once) and its weight cast to float16; cross entropy, a float32 op under autocast, keeps
    # float32 probabilities and the targets' int64 positions.
    model = nn.Sequential(nn.Linear(64, 256), nn.Tanh(), nn.Linear(256, 10))
    target = minigrad.randint(0, 10, (128,))
    with minigrad.autocast("cpu", dtype=minigrad.float16):
        report = summary(model, (128, 64), loss_fn=lambda out: F.cross_entropy(out, target))
    assert report.activation_bytes_by_dtype == {"float16": 128 * 64 * 2 + 128 * 256 * 2 + 10 * 256 * 2,
                                                "float32": 128 * 10 * 4, "int64": 128 * 8}
    assert "of which float16" in str(report)
    plain = summary(model, (128, 64), loss_fn=lambda out: F.cross_entropy(out, target))
    assert plain.activation_bytes_by_dtype == {"float32": 128 * 64 * 4 + 128 * 256 * 4 + 128 * 10 * 4,
                                               "int64": 128 * 8}
    assert "of which float" not in str(plain)  # one floating dtype: nothing to tell apart


def test_under_autocast_the_predicted_backward_peak_matches_the_measured_one():
    BATCH = 128  # noqa: N806
    target = minigrad.randint(0, WIDTH, (BATCH,))

    def loss_fn(out):
        return F.cross_entropy(out, target)

    with measure():
        with measure() as setup:
            # NumPy's float16 matmul has no BLAS behind it: a smaller model keeps the test quick
            model = nn.Sequential(*[m for _ in range(8) for m in (nn.Linear(WIDTH, WIDTH), nn.Tanh())])
            opt = minigrad.optim.SGD(model.parameters(), lr=0.01)
            x = minigrad.randn(BATCH, WIDTH)
        with minigrad.autocast("cpu", dtype=minigrad.float16):
            report = summary(model, (BATCH, WIDTH), optimizer=opt, loss_fn=loss_fn)
        with measure() as backward:
            opt.zero_grad()
            with minigrad.autocast("cpu", dtype=minigrad.float16):
                loss = loss_fn(model(x))
            loss.backward()
        del loss
    predicted, measured = report.param_bytes + report.backward_peak, setup.array_current + backward.peak
    assert abs(predicted - measured) <= 0.10 * measured, (predicted, measured)
    assert report.activation_bytes_by_dtype["float16"] > 0.9 * report.activation_bytes
