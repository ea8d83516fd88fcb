"""minigrad.memory: parameter sizes, activations kept for backward, optimizer state, measured peaks.

The expected numbers come from outside the code under test: the course's worked examples
(computed by hand below), torch's real optimizer state, hand counts derived from what each
op's backward needs, and tracemalloc measurements of real training steps.
"""

from __future__ import annotations

import os
import pathlib
import tracemalloc
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.memory import measure, param_bytes, param_count, saved_bytes, summary

GOLDEN = pathlib.Path(__file__).parent / "golden"


def mlp(*sizes: int, act: type = nn.ReLU, bias: bool = True) -> nn.Sequential:
    layers: list = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(n_in, n_out, bias=bias), act()]
    return nn.Sequential(*layers[:-1])


# -- the course's worked examples -------------------------------------------------------------


def test_course_linear_8_4_without_bias_is_128_bytes_in_float32():
    # 8 x 4 weights x sizeof(float32) = 128 B: what the course computes for "one layer, no bias".
    model = nn.Linear(8, 4, bias=False)
    assert param_count(model) == 32
    assert param_bytes(model) == 8 * 4 * 4 == 128


def test_course_linear_8_4_as_written_has_a_bias_144_bytes():
    # The course's code is Linear(8, 4), whose bias is on by default: 36 values, 144 B.
    assert param_count(nn.Linear(8, 4)) == 36
    assert param_bytes(nn.Linear(8, 4)) == (8 * 4 + 4) * 4 == 144


def test_course_linear_8_4_with_bias_is_288_bytes_only_in_float64():
    # 8 x 4 x 8 + 4 x 8 = 288 B needs float64; the course's line gives float32.
    assert param_bytes(nn.Linear(8, 4, bias=True, dtype=minigrad.float64)) == 288
    assert param_bytes(nn.Linear(8, 4, bias=True).double()) == 288
    assert param_bytes(nn.Linear(8, 4, bias=True)) == 144


def test_course_two_layers_are_40_params_160_bytes_only_without_the_second_bias():
    course = nn.Sequential(nn.Linear(8, 4, bias=True), nn.Linear(4, 1, bias=False))
    assert param_count(course) == 8 * 4 + 4 + 4 * 1 == 40
    assert param_bytes(course) == 144 + 16 == 160
    as_written = nn.Sequential(nn.Linear(8, 4, bias=True), nn.Linear(4, 1))
    assert param_count(as_written) == 41
    assert param_bytes(as_written) == 164


def test_course_5_8_4_2_network_is_94_params_376_bytes_whatever_the_batch():
    model = nn.Sequential(nn.Linear(5, 8), nn.Linear(8, 4), nn.Linear(4, 2))
    assert param_count(model) == 5 * 8 + 8 + 8 * 4 + 4 + 4 * 2 + 2 == 94
    assert param_bytes(model) == 94 * 4 == 376
    one, hundred = summary(model, (1, 5)), summary(model, (100, 5))
    # Parameters do not grow with the batch (the course's "376 x 100 = 37600 B" does not happen)...
    assert one.param_bytes == hundred.param_bytes == 376
    # ...activations do: each Linear keeps its input for the weight gradient, B x (5 + 8 + 4) floats.
    assert one.activation_bytes == 1 * (5 + 8 + 4) * 4 == 68
    assert hundred.activation_bytes == 100 * (5 + 8 + 4) * 4 == 6800


def test_param_count_and_bytes_of_tensors_and_shared_weights():
    w = minigrad.zeros(3, 5, dtype=minigrad.float64)
    assert param_count(w) == 15 and param_bytes(w) == 120
    assert param_bytes([w, w, minigrad.zeros(2)]) == 128  # a tensor listed twice is one tensor
    tied = nn.Sequential(nn.Linear(4, 4, bias=False), nn.Linear(4, 4, bias=False))
    tied[1].weight = tied[0].weight
    assert param_count(tied) == 16


# -- activations: hand counts from the op definitions -------------------------------------------


def test_activation_bytes_of_a_small_mlp_equal_a_hand_count():
    B = 32
    model = nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 8), nn.Tanh(), nn.Linear(8, 3))
    target = minigrad.randint(0, 3, (B,))
    report = summary(model, (B, 20), loss_fn=lambda out: F.cross_entropy(out, target))
    # What each op keeps for its backward (minigrad/ops, minigrad/nn/_loss_functions.py):
    expected = {
        "0": B * 20 * 4,  # Linear: its input x, for grad W = g.T @ x (W is not kept: x needs no gradient)
        "1": B * 16 * 4,  # ReLU: its output, for the mask out > 0
        "2": 0,           # Linear: its input is ReLU's output (counted there) and W (a parameter)
        "3": B * 8 * 4,   # Tanh: its output, for 1 - out**2
        "4": 0,           # Linear: Tanh's output (counted there) and W
    }
    assert {row.name: row.activation_bytes for row in report.rows if row.name} == expected
    # cross_entropy of (B, 3) logits is one op: it keeps the softmax probabilities (B x 3 floats)
    # and the target classes (B int64) for its gradient softmax - one_hot(target).
    assert report.loss_activation_bytes == B * 3 * 4 + B * 8
    assert report.activation_bytes == sum(expected.values()) + B * 3 * 4 + B * 8


def test_dropout_keeps_only_its_mask_and_the_next_layer_its_output():
    B = 10
    model = nn.Sequential(nn.Linear(6, 5), nn.Dropout(0.5), nn.Linear(5, 2))
    rows = {row.name: row.activation_bytes for row in summary(model, (B, 6)).rows}
    assert rows["1"] == B * 5 * 1  # a bool mask: one byte per element
    assert rows["2"] == B * 5 * 4  # Dropout's (new) output, kept by the Linear after it
    model.eval()  # no dropout at inference: no mask, and Linear 2 keeps Linear 0's output
    rows = {row.name: row.activation_bytes for row in summary(model, (B, 6)).rows}
    assert rows["1"] == 0 and rows["2"] == B * 5 * 4


class _TwoViews(nn.Module):
    """Keeps tanh's output, then multiplies two views of it: one buffer behind three saved arrays."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(4, 6)

    def forward(self, x):
        y = self.lin(x).tanh()
        return y[:, :3] * y[:, 3:]


def test_views_and_arrays_saved_twice_are_counted_once():
    B = 7
    report = summary(_TwoViews(), (B, 4))
    rows = {row.name: row.activation_bytes for row in report.rows}
    assert rows["lin"] == B * 4 * 4
    # tanh keeps y; Mul keeps y[:, :3] and y[:, 3:], views of y: the buffer is counted once, at
    # the module that ran those ops (the parent, whose forward they are in).
    assert rows[""] == B * 6 * 4
    assert report.activation_bytes == B * 4 * 4 + B * 6 * 4


def test_saved_bytes_skips_parameters_and_follows_views():
    w = minigrad.randn(5, 5, requires_grad=True)
    x = minigrad.randn(3, 5, requires_grad=True)
    y = (x @ w).tanh()
    loss = (y.reshape(15)[:10] * 2).sum()
    # MatMul keeps w (for x's grad) and x (for w's grad); tanh keeps y; Mul by a number keeps nothing.
    assert saved_bytes(loss) == 5 * 5 * 4 + 3 * 5 * 4 + 3 * 5 * 4
    assert saved_bytes(loss, exclude=[w]) == 3 * 5 * 4 + 3 * 5 * 4


def test_activations_grow_with_the_batch_parameters_do_not():
    model = mlp(12, 9, 4)
    small, large = summary(model, (3, 12)), summary(model, (300, 12))
    assert large.activation_bytes == 100 * small.activation_bytes
    assert large.param_bytes == small.param_bytes


# -- errors -------------------------------------------------------------------------------------


def test_summary_of_a_model_without_parameters_is_an_error():
    with pytest.raises(ValueError, match="ReLU has no parameters"):
        summary(nn.ReLU(), (4, 3))


def test_summary_with_a_batch_of_zero_is_an_error():
    with pytest.raises(ValueError, match="batch size is 0"):
        summary(nn.Linear(3, 2), (0, 3))
    with pytest.raises(ValueError, match="batch size is 0"):
        summary(nn.Linear(3, 2), (3, 0), batch_dim=1)


def test_summary_with_a_wrong_input_size_names_the_layer():
    model = nn.Sequential(nn.Linear(784, 10), nn.ReLU())
    with pytest.raises(RuntimeError, match=r"input of size \[64, 785\] failed in module '0' \(Linear\)"):
        summary(model, (64, 785))
    with pytest.raises(ValueError, match="input_size"):
        summary(model, [])
    with pytest.raises(ValueError, match="input_size"):
        summary(model, (64, 7.5))
    # The hooks are gone afterwards: the model runs as before.
    assert not model[0]._forward_hooks and model(minigrad.ones(2, 784)).shape == (2, 10)


def test_summary_leaves_the_random_stream_alone():
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout())
    minigrad.manual_seed(3)
    expected = minigrad.rand(5)
    minigrad.manual_seed(3)
    summary(model, (8, 4))
    assert minigrad.equal(minigrad.rand(5), expected)


# -- measure() ----------------------------------------------------------------------------------


def test_measure_counts_numpy_arrays_made_inside():
    with measure() as m:
        a = np.ones(1_000_000)  # 8 MB
        b = np.ones(500_000)
        del b  # freed: in the peak, not in the end result
    assert m.array_current == 8_000_000
    assert 12_000_000 <= m.peak < 12_000_000 + 50_000  # a few Python objects besides the arrays
    assert 8_000_000 <= m.current < 8_000_000 + 50_000
    del a


def test_measure_counts_only_what_the_block_allocates():
    if tracemalloc.is_tracing():
        pytest.skip("tracemalloc already traced the array made before the block")
    a = np.ones(1_000_000)
    with measure() as m:
        b = a + 1  # 8 MB, new
        del a  # allocated before the block: tracemalloc never saw it, so its release is not seen either
    assert m.array_current == 8_000_000
    assert m.peak < 8_000_000 + 50_000
    del b


def test_measure_nests_and_keeps_tracemalloc_as_it_was():
    was_tracing = tracemalloc.is_tracing()
    with measure() as outer:
        x = minigrad.zeros(1000, 1000)  # 4 MB of float32
        with measure() as inner:
            y = minigrad.zeros(2000, 1000)
            del y
        z = minigrad.zeros(10)
    assert inner.peak >= 8_000_000 and inner.array_current == 0
    assert outer.peak >= 12_000_000  # the inner block's 8 MB on top of x's 4 MB
    assert outer.array_current == 4_000_000 + 40
    assert tracemalloc.is_tracing() == was_tracing
    del x, z


def test_inference_peak_matches_a_measured_forward_under_no_grad():
    B = 256
    model = mlp(300, 200, 100, 10)
    report = summary(model, (B, 300))
    x = minigrad.randn(B, 300)
    with minigrad.no_grad():
        with measure() as m:
            out = model(x)
    # The batch existed before the block: compare what the block added.
    predicted = report.inference_activation_peak - report.input_bytes
    assert predicted == B * (200 + 200) * 4  # Linear 0's output and ReLU's, alive together
    assert abs(m.peak - predicted) <= 0.10 * predicted
    del out


# -- optimizer state: predicted from state_specs(), against minigrad's and torch's real state ------

# (optimizer, options, the course's multiplier or None where it says nothing)
OPTIMIZERS = [
    ("SGD", {}, 2),
    ("SGD", {"momentum": 0.9}, 3),
    ("SGD", {"momentum": 0.9, "nesterov": True}, 3),
    ("Rprop", {}, None),  # the course says "at least triple"; torch keeps prev and step_size: 4x
    ("Rprop", {"packed_signs": True}, None),  # minigrad only: signs as bits
    ("Adagrad", {}, 3),
    ("RMSprop", {}, 3),
    ("RMSprop", {"momentum": 0.9}, None),
    ("RMSprop", {"centered": True}, None),
    ("RMSprop", {"momentum": 0.9, "centered": True}, None),
    ("Adam", {}, 4),
    ("Adam", {"amsgrad": True}, None),
    ("AdamW", {}, None),
    ("AdamW", {"amsgrad": True}, None),
    ("NAdam", {}, 4),
    ("Adadelta", {}, 4),
    ("Adamax", {}, None),
    ("RAdam", {}, None),
]
IDS = [name + "".join(f"-{k}" for k in options) for name, options, _ in OPTIMIZERS]
PATHS = pytest.mark.parametrize("foreach", [False, True], ids=["reference", "foreach"])


def _one_step(optimizer, model, x, y) -> None:
    optimizer.zero_grad()
    ((model(x) - y) ** 2).mean().backward()
    optimizer.step()


def _torch_state_after_a_step(name: str, options: dict, shapes: list[tuple], foreach: bool) -> list[dict]:
    """Per parameter, {state name: bytes} of torch's optimizer after one step."""
    import torch

    params = [torch.nn.Parameter(torch.randn(*s)) for s in shapes]
    opt = getattr(torch.optim, name)(params, foreach=foreach, **options)
    sum(p.sum() for p in params).backward()
    opt.step()
    return [{k: v.nbytes for k, v in opt.state[p].items() if isinstance(v, torch.Tensor)} for p in params
            if opt.state[p]]


@PATHS
@pytest.mark.parametrize(("name", "options", "course"), OPTIMIZERS, ids=IDS)
def test_predicted_state_equals_the_state_after_a_step_and_torchs(name, options, course, foreach):
    from minigrad.memory import measure_state, predict_state

    model = mlp(7, 5, 3)
    opt = getattr(minigrad.optim, name)(model.parameters(), lr=0.01, foreach=foreach, **options)
    predicted = predict_state(opt)
    _one_step(opt, model, minigrad.randn(4, 7), minigrad.randn(4, 3))
    measured = measure_state(opt)
    assert [(id(p), d) for p, d in predicted] == [(id(p), d) for p, d in measured]
    if "packed_signs" not in options:
        shapes = [tuple(p.shape) for p in model.parameters()]
        assert [d for _, d in predicted] == _torch_state_after_a_step(name, options, shapes, foreach)
    report = summary(model, (4, 7), optimizer=opt)
    assert (report.state_bytes_measured or 0) == report.state_bytes == sum(sum(d.values()) for _, d in predicted)


@pytest.mark.parametrize(("name", "options", "course"), OPTIMIZERS, ids=IDS)
def test_multiplier_is_the_course_and_torch(name, options, course):
    import torch

    model = mlp(7, 5, 3)
    opt = getattr(minigrad.optim, name)(model.parameters(), lr=0.01, **options)
    report = summary(model, (4, 7), optimizer=opt)
    full = (report.param_bytes + report.grad_bytes + report.state_full_size_bytes) / report.param_bytes
    if course is not None:
        assert full == course
    if "packed_signs" not in options:
        shapes = [tuple(p.shape) for p in model.parameters()]
        params = [torch.nn.Parameter(torch.randn(*s)) for s in shapes]
        topt = getattr(torch.optim, name)(params, **options)
        sum(p.sum() for p in params).backward()
        topt.step()
        assert report.state_full_size_bytes == sum(v.nbytes for p in params for v in topt.state[p].values()
                                                   if isinstance(v, torch.Tensor) and v.shape == p.shape)
    # The 0-dim counters: 4 bytes per parameter tensor (float32 default), none for SGD.
    scalars = report.state_bytes - report.state_full_size_bytes
    n_tensors = len(list(model.parameters()))
    if options.get("packed_signs"):
        scalars -= 2 * sum(-(-p.numel() // 8) for p in model.parameters())  # the two bit planes
    assert scalars == {"SGD": 0, "NAdam": 2 * 4 * n_tensors}.get(name, 4 * n_tensors)


def test_rprop_packed_signs_is_about_three_times_the_parameters():
    model = nn.Linear(784, 128)
    report = summary(model, (1, 784), optimizer=minigrad.optim.Rprop(model.parameters(), packed_signs=True))
    # step_size (32 bits per value) plus two one-bit planes: 3 + 2/32 = 3.0625x, plus the step counters
    assert report.multiplier == pytest.approx(3 + 2 / 32, abs=1e-3)


def test_step_counters_are_8_bytes_under_a_float64_default(float64_default):
    import torch

    from minigrad.memory import predict_state

    model = nn.Linear(3, 2)
    opt = minigrad.optim.Adam(model.parameters())
    assert [d["step"] for _, d in predict_state(opt)] == [8, 8]
    _one_step(opt, model, minigrad.randn(4, 3), minigrad.randn(4, 2))
    steps = [st["step"].nbytes for st in opt.state.values()]
    assert steps == [8, 8]
    t = torch.nn.Linear(3, 2)
    topt = torch.optim.Adam(t.parameters())
    t(torch.randn(4, 3)).sum().backward()
    topt.step()
    assert [st["step"].nbytes for st in topt.state.values()] == steps


@PATHS
def test_adagrad_state_exists_before_the_first_step_even_for_frozen_parameters(foreach):
    model = mlp(6, 4)
    model[0].bias.requires_grad_(False)  # torch's Adagrad makes its state in __init__, for every parameter
    report = summary(model, (2, 6), optimizer=minigrad.optim.Adagrad(model.parameters(), foreach=foreach))
    assert report.state_bytes_measured == report.state_bytes == (6 * 4 + 4) * 4 + 2 * 4
    assert report.first_step_peak is None  # nothing left for the first step to make


@PATHS
def test_state_arrays_hold_the_state_plus_the_foreach_padding(foreach):
    from minigrad.memory import measure_state
    from minigrad.memory.optimizer_state import allocated_state_bytes, total

    model = mlp(7, 5, 3)  # tensors of 35, 5, 15 and 3 elements
    opt = minigrad.optim.Adam(model.parameters(), foreach=foreach)
    _one_step(opt, model, minigrad.randn(4, 7), minigrad.randn(4, 3))
    assert total(measure_state(opt)) == 2 * (35 + 5 + 15 + 3) * 4 + 4 * 4
    # The reference step gives every entry an array of its own. The multi-tensor step keeps the two
    # moments of the tensors it stepped together in one flat array each, every tensor starting at a
    # multiple of 8 elements (40 + 8 + 16 + 8), and each state tensor is a view into it; the step
    # counters are arrays of their own.
    moments = 2 * (35 + 5 + 15 + 3) * 4 if not foreach else 2 * (40 + 8 + 16 + 8) * 4
    assert allocated_state_bytes(opt) == moments + 4 * 4
    report = summary(model, (4, 7), optimizer=opt)
    assert report.state_bytes_allocated == allocated_state_bytes(opt)
    assert ("in arrays of" in str(report)) == foreach


# -- a user's optimizer ------------------------------------------------------------------------


class _OwnStep(minigrad.optim.Optimizer):
    """Written as many tutorials write one: its own step(), state made in it, and no state_specs()."""

    def __init__(self, params, lr=0.1):
        super().__init__(params, {"lr": lr})

    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["velocity"] = minigrad.zeros_like(p)
                    state["history"] = [minigrad.zeros_like(p), minigrad.zeros_like(p)]
                    state["calls"] = 0  # a Python number: no array memory
                state["calls"] += 1
                state["velocity"].mul_(0.9).add_(p.grad)
                p.data.sub_(group["lr"] * state["velocity"])


class _Rule(minigrad.optim.Optimizer):
    """Written the minigrad way: the state it needs described, the update rule on arrays."""

    def __init__(self, params, lr=0.1, foreach=None):
        super().__init__(params, {"lr": lr, "foreach": foreach})

    def state_specs(self, group):
        from minigrad.optim.optimizer import STEP, ZEROS

        return {"step": STEP, "velocity": ZEROS}

    def _param_step(self, group, param, grad, state, first):
        state["step"] += 1
        state["velocity"] *= 0.9
        state["velocity"] += grad
        param -= group["lr"] * state["velocity"]


def test_a_users_own_step_is_measured_and_the_report_says_it_is_not_predicted():
    model = mlp(7, 5, 3)  # 35 + 5 + 15 + 3 values
    opt = _OwnStep(model.parameters())
    before = summary(model, (4, 7), optimizer=opt)  # no state yet, and nothing says what it will be
    assert not before.state_predicted and before.state_bytes == 0 and before.state_bytes_measured is None
    assert before.scratch_bytes is None
    text = str(before)
    assert "not predicted: _OwnStep has its own step() and no state_specs(); step it to measure" in text
    assert "not predicted: _OwnStep has its own step()" in text.split("Optimizer scratch per step")[1]

    _one_step(opt, model, minigrad.randn(4, 7), minigrad.randn(4, 3))
    after = summary(model, (4, 7), optimizer=opt)
    # velocity and the two arrays of history: three arrays of each parameter's size; "calls" is a number.
    assert after.state_bytes_measured == 3 * after.param_bytes == 3 * (35 + 5 + 15 + 3) * 4
    assert after.state_in_totals == after.state_bytes_measured and after.state_full_size_bytes == 3 * after.param_bytes
    assert after.multiplier == 5
    assert sum(row.state_bytes or 0 for row in after.rows) == after.state_bytes_measured
    assert after.step_peak > after.param_bytes + after.grad_bytes + after.state_bytes_measured
    assert "measured (not predicted: _OwnStep has its own step() and no state_specs())" in str(after)


@PATHS
def test_a_users_update_rule_is_predicted_from_its_state_specs(foreach):
    from minigrad.memory import measure_state, predict_state

    model = mlp(7, 5, 3)
    opt = _Rule(model.parameters(), foreach=foreach)
    predicted = predict_state(opt)
    assert [d for _, d in predicted] == [{"step": 4, "velocity": p.nbytes} for p in model.parameters()]
    _one_step(opt, model, minigrad.randn(4, 7), minigrad.randn(4, 3))
    assert measure_state(opt) == predicted
    report = summary(model, (4, 7), optimizer=opt)
    assert report.state_predicted and report.scratch_bytes == opt.scratch_bytes() > 0


# -- the optimizer's scratch: what one step() allocates and frees again, against tracemalloc -------

# Options chosen for the temporaries they add: weight decay and maximize make a new gradient array,
# Nesterov one more sum, centered RMSprop and amsgrad their own terms, packed_signs the unpacking.
SCRATCH_CASES = [
    ("SGD", {}), ("SGD", {"momentum": 0.9}), ("SGD", {"momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    ("SGD", {"maximize": True, "weight_decay": 0.1}),
    ("Rprop", {}), ("Rprop", {"packed_signs": True, "maximize": True}),
    ("Adagrad", {}), ("Adagrad", {"weight_decay": 0.1, "maximize": True}),
    ("RMSprop", {}), ("RMSprop", {"momentum": 0.9}), ("RMSprop", {"centered": True, "weight_decay": 0.1}),
    ("Adam", {}), ("Adam", {"amsgrad": True, "weight_decay": 0.1}),
    ("AdamW", {}), ("AdamW", {"maximize": True}),
    ("NAdam", {}), ("NAdam", {"weight_decay": 0.1}),
    ("Adadelta", {}), ("Adadelta", {"weight_decay": 0.1, "maximize": True}),
]
SCRATCH_IDS = [name + "".join(f"-{k}" for k in options) for name, options in SCRATCH_CASES]
# Parameter tensors of different sizes. "small": every array below NumPy's 256 kB threshold for reusing
# temporaries in place, and 15.7k elements in all (the multi-tensor step runs them as one piece);
# "large": the 400 x 400 weight is above it, and on the reference path only.
SCRATCH_MODELS = {"small": [(120, 100), (100,), (30, 120), (7,)], "large": [(400, 400), (400,), (100, 400), (13,)]}
# tracemalloc's peak also counts the Python objects a step makes (a few small dicts and floats).
PYTHON_OBJECTS = 8 * 1024


def _scratch_measured(opt, params) -> int:
    """Peak bytes allocated during opt.step(), above what was allocated before it (the second step:
    the first one also makes the state, which is kept)."""
    def new_grads():
        for p in params:
            p.grad = minigrad.randn(*p.shape)

    new_grads()
    opt.step()
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        new_grads()
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        opt.step()
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        if not was_tracing:
            tracemalloc.stop()


@pytest.mark.parametrize(("model", "foreach"), [("small", False), ("small", True), ("large", False)])
@pytest.mark.parametrize(("name", "options"), SCRATCH_CASES, ids=SCRATCH_IDS)
def test_optimizer_scratch_is_an_upper_bound_within_two_arrays(name, options, model, foreach):
    """``scratch_bytes()`` against the peak tracemalloc sees inside ``step()``.

    The unit is one array of the largest parameter (reference path: the rule runs on one parameter
    at a time) or of the whole run (multi-tensor path: the parameters and gradients are gathered
    into flat arrays, and the rule runs on those). The prediction is ``temporaries`` units, plus the
    two gathered arrays on the multi-tensor path. ``temporaries`` is one number per class, so it is
    the most any option of that class needs: options that need fewer (plain SGD holds one array,
    Nesterov with weight decay three), and arrays large enough for NumPy to reuse a temporary in
    place, are over-predicted, by two units at most.
    """
    params = [minigrad.randn(*s, requires_grad=True) for s in SCRATCH_MODELS[model]]
    opt = getattr(minigrad.optim, name)(params, foreach=foreach, **options)
    assert opt.uses_multi_tensor(opt.param_groups[0]) == foreach
    unit = (sum(-(-p.numel() // 8) * 8 for p in params) if foreach else max(p.numel() for p in params)) * 4
    measured = _scratch_measured(opt, params)
    predicted = opt.scratch_bytes()
    assert measured - PYTHON_OBJECTS <= predicted <= measured + 2 * unit, (measured / unit, predicted / unit)


# -- the peak of a training step: predicted against tracemalloc ------------------------------------

STEP_CASES = [
    ((784, 256, 128, 10), 1, nn.ReLU),
    ((784, 256, 128, 10), 256, nn.ReLU),
    ((100, 400, 400, 10), 1024, nn.ReLU),
    ((300, 200, 10), 64, nn.Tanh),
]
STEP_OPTIMIZERS = [("SGD", {}), ("SGD", {"momentum": 0.9}), ("Adam", {})]


@dataclass
class _Step:
    """Peaks of one training step, predicted and measured, in absolute bytes, phase by phase."""

    backward: int  # measured: zero_grad(), forward, loss and backward
    update: int  # measured: optimizer.step()
    largest_param: int
    report: Any = field(repr=False)
    optimizer: Any = field(repr=False)

    @property
    def measured(self) -> int:
        return max(self.backward, self.update)

    @property
    def predicted_backward(self) -> int:
        r = self.report
        state_before = r.state_in_totals if r.first_step_peak is None else (r.state_bytes_measured or 0)
        return r.param_bytes + state_before + r.backward_peak


def _measured_step(sizes, batch, act, name, options, first: bool) -> _Step:
    """The parameters, the state and the batch exist before the measured step (their bytes, measured
    by the same trace, are added to what each phase allocates, so that both sides are absolute)."""
    target = minigrad.randint(0, sizes[-1], (batch,))

    def loss_fn(out):
        return F.cross_entropy(out, target)

    with measure():  # one trace throughout, so that the step sees the frees of earlier arrays
        with measure() as setup:
            model = mlp(*sizes, act=act)
            opt = getattr(minigrad.optim, name)(model.parameters(), lr=0.01, **options)
            x = minigrad.randn(batch, sizes[0])
            if not first:
                _one_step_ce(opt, model, x, loss_fn)
        report = summary(model, (batch, sizes[0]), optimizer=opt, loss_fn=loss_fn)
        with measure() as backward:
            opt.zero_grad()
            out = model(x)
            loss = loss_fn(out)
            loss.backward()
        with measure() as update:  # the output and the loss still held, as in a training loop
            opt.step()
        del out, loss
    base = setup.array_current
    largest = max(p.nbytes for p in model.parameters())
    return _Step(base + backward.peak, base + backward.array_current + update.peak, largest, report, opt)


def _one_step_ce(opt, model, x, loss_fn) -> None:
    opt.zero_grad()
    loss_fn(model(x)).backward()
    opt.step()


def _check_step(step: _Step, predicted: int, slack: int = 0) -> None:
    """The backward phase within 10%; step() as bounded by the scratch test: its prediction is at most
    two arrays of the largest parameter (plus ``slack``) above the measurement, never below (but for a
    few kB of Python objects, which tracemalloc counts too)."""
    over = 2 * step.largest_param + slack
    assert abs(step.backward - step.predicted_backward) <= 0.10 * step.backward, (step.predicted_backward, step)
    assert step.update - PYTHON_OBJECTS <= step.report.update_peak <= step.update + over, \
        (step.report.update_peak, step)
    assert predicted == max(step.predicted_backward, step.report.update_peak)
    assert 0.9 * step.measured <= predicted <= 1.1 * step.measured + over


@pytest.mark.parametrize(("sizes", "batch", "act"), STEP_CASES,
                         ids=["-".join(map(str, s)) + f"-B{b}-{a.__name__}" for s, b, a in STEP_CASES])
@pytest.mark.parametrize(("name", "options"), STEP_OPTIMIZERS, ids=["SGD", "momentum", "Adam"])
def test_predicted_step_peak_matches_the_measured_one(sizes, batch, act, name, options):
    step = _measured_step(sizes, batch, act, name, options, first=False)
    assert step.report.first_step_peak is None  # the state exists already
    _check_step(step, step.report.step_peak)


@pytest.mark.parametrize(("name", "options"), STEP_OPTIMIZERS, ids=["SGD", "momentum", "Adam"])
def test_predicted_first_step_peak_matches_the_measured_one(name, options):
    from minigrad.memory import predict_state

    step = _measured_step((784, 256, 128, 10), 512, nn.ReLU, name, options, first=True)
    # Plain SGD keeps no state: its first step is like any other.
    assert (step.report.first_step_peak is None) == (name == "SGD" and not options)
    # The first step makes each parameter's state just before its update: when the largest parameter
    # is updated (the first here), the others' state does not exist yet. The prediction counts it all.
    later = sum(sum(d.values()) for _, d in predict_state(step.optimizer)[1:])
    _check_step(step, step.report.first_step_peak or step.report.step_peak, slack=later)


def test_the_course_sum_misses_what_backward_allocates():
    # params + grads + state + saved activations is not the peak: backward also holds the
    # gradient of each activation (as large as the activation), which the sum leaves out.
    step = _measured_step((100, 400, 400, 10), 1024, nn.ReLU, "SGD", {}, first=False)
    assert step.backward > 1.3 * step.report.training_total


def test_the_course_sum_also_counts_what_backward_has_freed():
    # Nor is the sum a floor: backward frees each layer's saved arrays as it goes, so by the time the
    # first layer's large weight gets its gradient, the wide layer's 512 kB of activations are gone.
    step = _measured_step((4000, 64, 4096, 10), 32, nn.ReLU, "SGD", {}, first=False)
    assert step.backward < step.report.training_total - 400_000  # far more than the Python objects
    assert abs(step.backward - step.predicted_backward) <= 0.02 * step.backward
    # Without an optimizer the step is its backward: the predicted peak is then below the sum too.
    target = minigrad.randint(0, 10, (32,))
    report = summary(mlp(4000, 64, 4096, 10), (32, 4000), loss_fn=lambda out: F.cross_entropy(out, target))
    assert report.step_peak < report.training_total


def test_step_peak_below_the_training_total_for_the_course_network_and_the_table_says_why():
    net = nn.Sequential(nn.Linear(5, 8), nn.Linear(8, 4), nn.Linear(4, 2))
    target = minigrad.zeros(1, 2)
    report = summary(net, (1, 5), loss_fn=lambda out: F.mse_loss(out, target))
    # The course's sum by hand: 94 parameters and their gradients, each Linear's input (5, 8 and 4
    # floats) and mse_loss's difference (2 floats).
    assert report.training_total == 376 + 376 + 4 * (5 + 8 + 4) + 4 * 2 == 828
    # The step peak is backward's: the first layer's gradients are made after the loss's and the
    # later layers' saved arrays are freed.
    assert report.step_peak == report.param_bytes + report.backward_peak == 820
    text = str(report)
    assert "Training step peak (alive at once)  820 B" in text and "Training total" in text
    assert "Step peak < training total is expected here" in text
    assert "backward frees each layer's saved arrays before the first layers' grads exist" in text
    bigger = summary(net, (100, 5), loss_fn=lambda out: F.mse_loss(out, minigrad.zeros(100, 2)))
    assert bigger.step_peak > bigger.training_total and "Step peak <" not in str(bigger)


# -- the printed table ----------------------------------------------------------------------------


def _golden_report():
    model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 4), nn.Tanh(), nn.Linear(4, 2))
    target = minigrad.tensor([0, 1] * 50)
    return summary(model, (100, 5), optimizer=minigrad.optim.Adam(model.parameters()),
                   loss_fn=lambda out: F.cross_entropy(out, target))


def test_printed_summary_matches_the_golden_file():
    """The table for a fixed model; MINIGRAD_REGEN_GOLDEN=1 rewrites the file after a deliberate change."""
    text = str(_golden_report()) + "\n"
    path = GOLDEN / "memory_summary_5_8_4_2_adam.txt"
    if os.environ.get("MINIGRAD_REGEN_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    assert text == path.read_text()


def test_summary_numbers_and_dict_agree_with_the_table():
    report = _golden_report()
    d = report.to_dict()
    assert d["param_bytes"] == 376 and d["param_count"] == 94 and d["grad_bytes"] == 376
    # Adam: exp_avg and exp_avg_sq per parameter tensor, and a 4-byte step for each of the 6 tensors.
    assert d["state_bytes"] == 2 * 376 + 6 * 4
    assert d["multiplier"] == (376 + 376 + 776) / 376
    assert d["training_total"] == 376 + 376 + 776 + d["activation_bytes"]
    assert [row["name"] for row in d["rows"]] == ["", "0", "1", "2", "3", "4"]
    assert [row["output_shape"] for row in d["rows"]][1:] == [[100, 8], [100, 8], [100, 4], [100, 4], [100, 2]]
    text = str(report)
    assert "Training vs bare parameters: 4.06x (params 1x + grads 1x + state 2.06x)" in text


def test_the_table_says_every_linear_counts_its_bias_and_where_the_course_leaves_one_out():
    course = summary(nn.Sequential(nn.Linear(8, 4, bias=True), nn.Linear(4, 1)), (1, 8))
    assert (course.param_count, course.param_bytes) == (8 * 4 + 4 + 4 * 1 + 1, 164)
    text = str(course)
    assert "Param #: a Linear(n, k) counts its bias too, n x k + k values, as torch does" in text
    assert "the course counts this model as 40 params (160 B): it leaves out the second Linear's bias" in text
    as_the_course = summary(nn.Sequential(nn.Linear(8, 4, bias=True), nn.Linear(4, 1, bias=False)), (1, 8))
    assert (as_the_course.param_count, as_the_course.param_bytes) == (40, 160)
    assert "Param #: a Linear(n, k)" in str(as_the_course) and "the course counts" not in str(as_the_course)
    no_bias = str(summary(nn.Sequential(nn.Linear(8, 4, bias=False)), (1, 8)))
    assert "counts its bias" not in no_bias


def test_the_tables_pointer_leads_to_the_explanation_in_an_installed_package():
    # docs/ is not installed with the package; the docstring is, and help() shows it.
    text = str(summary(nn.Sequential(nn.Linear(8, 4), nn.Linear(4, 1)), (1, 8)))
    assert "docs/memory.md" not in text
    assert "help(minigrad.memory.summary)" in text
    doc = minigrad.memory.summary.__doc__
    for figure in ("Param #", "n x k + k", "40 parameters, 160 B", "Training total", "Training step peak",
                   "can be lower", "First step peak", "Training vs bare parameters"):
        assert figure in doc, figure


def test_the_docstring_examples_of_the_summary_module_run():
    import doctest
    import sys

    result = doctest.testmod(sys.modules["minigrad.memory.summary"])
    assert result.attempted >= 10 and result.failed == 0


# -- the walkthrough example --------------------------------------------------------------------


def test_memory_walkthrough_example_shows_the_course_figures(capsys):
    import importlib.util

    path = pathlib.Path(__file__).resolve().parent.parent / "examples" / "memory_walkthrough.py"
    spec = importlib.util.spec_from_file_location("memory_walkthrough", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    results = module.main(fast=True)
    capsys.readouterr()
    layers = results["layers"]
    assert layers["Linear(8, 4, bias=False)"] == (32, 128)
    assert layers["Linear(8, 4, bias=True, dtype=float64)"] == (36, 288)
    assert layers["Sequential(Linear(8, 4), Linear(4, 1, bias=False))"] == (40, 160)
    assert [results["network"][b].activation_bytes for b in (1, 100)] == [68, 6800]
    full = {name: f for name, (f, _) in results["multipliers"].items()}
    assert (full["SGD"], full["SGD momentum=0.9"], full["Adagrad"], full["RMSprop"]) == (2, 3, 3, 3)
    assert (full["Adam"], full["NAdam"], full["Adadelta"], full["Rprop"]) == (4, 4, 4, 4)
    assert full["Rprop packed_signs=True"] == 3 and full["Adam amsgrad=True"] == 5
    assert results["activations"]["kept"] < results["activations"]["torchinfo"]
    for row in results["steps"]:
        (backward, measured_backward), (update, measured_update) = row["backward"], row["update"]
        assert abs(measured_backward - backward) <= 0.10 * measured_backward
        # step(): an upper bound, by two arrays of the largest parameter at most (see the scratch test)
        assert measured_update - PYTHON_OBJECTS <= update <= measured_update + 2 * row["largest_param"]
        assert row["course_sum"] < row["step"][1] <= row["step"][0] + PYTHON_OBJECTS


# -- measure() on a GPU ---------------------------------------------------------------------------


class _FakeHookBase:
    """The part of cupy.cuda.MemoryHook that measure() relies on: registration by ``with``."""

    active: list = []

    def __enter__(self):
        _FakeHookBase.active.append(self)
        return self

    def __exit__(self, *exc):
        _FakeHookBase.active.remove(self)


class _FakeCuPy:
    """Just enough of CuPy for measure(): a pool that reports to hooks as CuPy's does (rounded sizes)."""

    class cuda:
        MemoryHook = _FakeHookBase

        class Device:
            def __init__(self, index=0):
                pass

            def synchronize(self):
                pass

    @staticmethod
    def malloc(nbytes, device_id=0):
        size = -(-nbytes // 512) * 512
        for hook in _FakeHookBase.active:
            hook.malloc_postprocess(device_id=device_id, size=nbytes, mem_size=size, mem_ptr=1, pmem_id=1)
        return size

    @staticmethod
    def free(size, device_id=0):
        for hook in _FakeHookBase.active:
            hook.free_postprocess(device_id=device_id, mem_size=size, mem_ptr=1, pmem_id=1)


def test_measure_on_cuda_follows_the_memory_pool_hooks(monkeypatch):
    from minigrad import _backend

    monkeypatch.setattr(_backend, "_cupy", _FakeCuPy())
    monkeypatch.setattr(_backend, "_cupy_error", None)
    cp = _FakeCuPy
    with measure("cuda") as m:
        a = cp.malloc(1000)  # the pool hands out 1024 B
        b = cp.malloc(4096)
        cp.free(b)
        cp.malloc(100, device_id=1)  # another GPU: not this measurement's
    assert (m.peak, m.current) == (1024 + 4096, 1024)
    assert not _FakeHookBase.active  # the hook is unregistered afterwards
    cp.free(a)


@pytest.mark.cuda
def test_measure_on_a_real_gpu():
    if not minigrad.cuda.is_available():
        pytest.skip("needs CuPy and a CUDA GPU")
    with measure("cuda") as m:
        x = minigrad.zeros(1000, 1000, device="cuda")  # 4 MB of float32
        y = x + 1
        del y
    block = -(-4_000_000 // 512) * 512  # CuPy's pool rounds every block up to a multiple of 512 B
    assert m.current == block and m.peak == 2 * block
    model = mlp(784, 256, 10).to("cuda")
    opt = minigrad.optim.Adam(model.parameters())
    target = minigrad.randint(0, 10, (256,), device="cuda")
    x = minigrad.randn(256, 784, device="cuda")
    _one_step_ce(opt, model, x, lambda out: F.cross_entropy(out, target))
    report = summary(model, (256, 784), optimizer=opt, loss_fn=lambda out: F.cross_entropy(out, target))
    with measure("cuda") as step:
        _one_step_ce(opt, model, x, lambda out: F.cross_entropy(out, target))
    # Before the step: the parameters, the gradients of the first step, the state and the batch.
    before = report.param_bytes + report.grad_bytes + report.state_bytes_allocated + x.nbytes + target.nbytes
    measured = before + step.peak
    # A GPU takes the multi-tensor path, with the whole run as one piece: the scratch is over-predicted
    # by two arrays of the run at most (see the scratch test), and CuPy rounds blocks up to 512 B.
    run = sum(-(-p.numel() // 8) * 8 for p in model.parameters()) * 4
    assert 0.9 * measured <= report.step_peak <= 1.1 * measured + 2 * run


# -- a user's optimizer that describes nothing: a torch.optim.Optimizer subclass, or a plain class --------


class _TorchStyleMomentum(minigrad.optim.Optimizer):
    """torch's tutorial way: momentum in self.state[p], its own step(), no state_specs()."""

    def __init__(self, params, lr=0.1, beta=0.9):
        super().__init__(params, {"lr": lr, "beta": beta})

    @minigrad.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    buf = self.state[p].setdefault("momentum", minigrad.zeros_like(p))
                    buf.mul_(group["beta"]).add_(p.grad)
                    p.sub_(group["lr"] * buf)


class _PlainMomentum:
    """No base class at all: a list of parameters and a ``state`` dict of bare buffers."""

    def __init__(self, params, lr=0.1):
        self.params, self.lr, self.state = list(params), lr, {}

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    @minigrad.no_grad()
    def step(self):
        for p in self.params:
            if p.grad is not None:
                buf = self.state.setdefault(p, minigrad.zeros_like(p))
                buf.mul_(0.9).add_(p.grad)
                p.sub_(self.lr * buf)


class _PlainAdamLike:
    """No ``state`` dict: its buffers are attributes, two lists of arrays as large as the parameters."""

    def __init__(self, params, lr=0.01):
        self.params, self.lr = list(params), lr
        self.m = [minigrad.zeros_like(p) for p in self.params]
        self.v = [minigrad.zeros_like(p) for p in self.params]
        self.t = 0

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    @minigrad.no_grad()
    def step(self):
        self.t += 1
        for p, m, v in zip(self.params, self.m, self.v):
            m.mul_(0.9).add_(0.1 * p.grad)
            v.mul_(0.999).add_(0.001 * p.grad * p.grad)
            p.sub_(self.lr * m / (v.sqrt() + 1e-8))


@pytest.mark.parametrize("make", [_TorchStyleMomentum, _PlainMomentum])
def test_a_users_optimizer_with_state_per_parameter_is_measured(make):
    model = mlp(7, 5, 3)
    opt = make(model.parameters())
    before = summary(model, (4, 7), optimizer=opt)  # no TypeError: nothing to predict, nothing made yet
    assert not before.state_predicted and before.state_bytes_measured is None and before.scratch_bytes is None
    assert f"not predicted: {make.__name__} has its own step() and no state_specs(); step it to measure" in str(before)
    _one_step(opt, model, minigrad.randn(4, 7), minigrad.randn(4, 3))
    after = summary(model, (4, 7), optimizer=opt)
    assert after.state_bytes_measured == after.state_in_totals == after.param_bytes  # one momentum buffer each
    assert after.state_full_size_bytes == after.param_bytes and after.multiplier == 3
    assert sum(row.state_bytes or 0 for row in after.rows) == after.param_bytes  # filed under each parameter
    assert after.training_total == 3 * after.param_bytes + after.activation_bytes
    assert f"measured (not predicted: {make.__name__} has its own step()" in str(after)


def test_a_users_optimizer_keeping_its_state_in_attributes_is_measured_without_its_parameters():
    from minigrad.memory import measure_state

    model = mlp(7, 5, 3)
    opt = _PlainAdamLike(model.parameters())
    report = summary(model, (4, 7), optimizer=opt)  # the buffers exist from the constructor on
    assert report.state_bytes_measured == 2 * report.param_bytes  # m and v; self.params and self.t are not state
    assert report.state_full_size_bytes == 2 * report.param_bytes and report.multiplier == 4
    assert measure_state(opt) == [(None, {"m": report.param_bytes, "v": report.param_bytes})]
    _one_step(opt, model, minigrad.randn(4, 7), minigrad.randn(4, 3))
    assert summary(model, (4, 7), optimizer=opt).state_bytes_measured == 2 * report.param_bytes
