"""The multi-tensor step (``foreach=True`` / ``fused=True``) equals the reference step bit for bit.

The reference step runs each optimizer's update rule on one parameter at a time; the
multi-tensor step runs the same rule once over the parameters of a device and dtype laid end to
end. Both must give exactly the same parameters and state (``assert_array_equal``, not a
tolerance) for every optimizer and every option of the parity tests, in float32 and float64, with
a parameter listed twice, parameters at different steps, parameters without gradients, on NumPy
and on the strict CuPy stand-in. A meta-test makes sure no optimizer escapes this file.
"""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest
from test_optim_parity import CASES, case_id

import minigrad
from minigrad import _backend
from minigrad.optim import Optimizer

SHAPES = [(3, 5), (7,), (1,), (2, 3, 2), (9,)]


def _values(t) -> np.ndarray:
    return _backend.to_host(t.detach()._data).copy()


def run(name: str, kwargs: dict, foreach: bool, dtype=np.float64, device: str = "cpu", steps: int = 6,
        scenario: str = "plain") -> tuple[list, list]:
    """Train a few tensors of different shapes on a quartic; return parameters and state after ``steps``.

    Scenarios: ``plain``; ``skips`` (some parameters have no gradient at some steps, so their
    step counters drift apart); ``duplicate`` (one parameter listed twice, stepped twice);
    ``late`` (a second group joins after two steps).
    """
    rng = np.random.default_rng(11)
    tensors = [minigrad.tensor(rng.standard_normal(s).astype(dtype), device=device, requires_grad=True)
               for s in SHAPES]
    targets = [minigrad.tensor(rng.standard_normal(s).astype(dtype), device=device) for s in SHAPES]
    params = list(tensors)
    if scenario == "duplicate":
        params = [tensors[0], tensors[1], tensors[0], tensors[2], tensors[3], tensors[4]]
    if scenario == "late":
        params = tensors[:3]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the duplicate-parameter warning, as torch gives it
        opt = getattr(minigrad.optim, name)(params, **kwargs, foreach=foreach)
    for k in range(steps):
        if scenario == "late" and k == 2:
            opt.add_param_group({"params": tensors[3:], "lr": 0.03})
        opt.zero_grad()
        loss = sum(((t - c) ** 2 * (0.5 + 0.1 * i) + 0.05 * (t - c) ** 4).sum()
                   for i, (t, c) in enumerate(zip(tensors, targets)))
        (-loss if kwargs.get("maximize") else loss).backward()  # maximize -loss: both descend
        if scenario == "skips":
            for i, t in enumerate(tensors):
                if (i + k) % 3 == 0:
                    t.grad = None
        opt.step()
    state = [{key: _values(v) for key, v in st.items()} for st in (opt.state.get(t, {}) for t in tensors)]
    return [_values(t) for t in tensors], state


def assert_same(a: tuple, b: tuple) -> None:
    params_a, state_a = a
    params_b, state_b = b
    for x, y in zip(params_a, params_b):
        assert x.dtype == y.dtype
        np.testing.assert_array_equal(x, y)
    for sa, sb in zip(state_a, state_b):
        assert list(sa) == list(sb)  # the same entries, in the same order
        for key in sa:
            assert sa[key].dtype == sb[key].dtype, key
            np.testing.assert_array_equal(sa[key], sb[key], err_msg=key)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_multi_tensor_step_equals_reference_step_bit_for_bit(case, dtype):
    name, kwargs = case
    assert_same(run(name, kwargs, True, dtype), run(name, kwargs, False, dtype))


@pytest.mark.parametrize("scenario", ["skips", "duplicate", "late"])
@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_multi_tensor_step_equals_reference_step_in_awkward_groups(case, scenario):
    name, kwargs = case
    assert_same(run(name, kwargs, True, scenario=scenario), run(name, kwargs, False, scenario=scenario))


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_multi_tensor_step_on_a_device_equals_the_reference_step_on_the_host(case, device):
    name, kwargs = case
    assert_same(run(name, kwargs, True, device=device, scenario="skips"), run(name, kwargs, False, scenario="skips"))


def test_fused_selects_the_multi_tensor_step_and_equals_the_reference():
    for name in ("Adam", "AdamW", "Adagrad"):
        reference = run(name, {}, False)
        rng = np.random.default_rng(11)
        tensors = [minigrad.tensor(rng.standard_normal(s), requires_grad=True) for s in SHAPES]
        opt = getattr(minigrad.optim, name)(tensors, fused=True)
        assert all(opt.uses_multi_tensor(g) for g in opt.param_groups)
        fused = getattr(minigrad.optim, name)
        params = inspect.signature(fused).parameters
        assert "fused" in params
        assert_same(run(name, {"fused": True}, None), reference)


def test_default_path_is_reference_on_the_cpu_and_multi_tensor_on_a_device(cuda):
    host = minigrad.optim.Adam([minigrad.zeros(3, requires_grad=True)])
    device = minigrad.optim.Adam([minigrad.zeros(3, device=cuda, requires_grad=True)])
    assert not host.uses_multi_tensor(host.param_groups[0])
    assert device.uses_multi_tensor(device.param_groups[0])
    forced = minigrad.optim.Adam([minigrad.zeros(3, device=cuda, requires_grad=True)], foreach=False)
    assert not forced.uses_multi_tensor(forced.param_groups[0])


def test_state_of_the_multi_tensor_step_is_live_and_replaceable():
    # The flat state is read and written through the tensors in optimizer.state: a tensor the user
    # keeps changes with every step, and one the user replaces is what the next step uses.
    p = minigrad.tensor([1.0, -2.0, 3.0], requires_grad=True)
    q = minigrad.tensor([0.5, 0.25], requires_grad=True)
    opt = minigrad.optim.Adam([p, q], lr=0.1, foreach=True)
    ref_p = minigrad.tensor([1.0, -2.0, 3.0], requires_grad=True)
    ref_q = minigrad.tensor([0.5, 0.25], requires_grad=True)
    ref = minigrad.optim.Adam([ref_p, ref_q], lr=0.1, foreach=False)
    kept = None
    for k in range(5):
        for o, (a, b) in ((opt, (p, q)), (ref, (ref_p, ref_q))):
            o.zero_grad()
            ((a ** 2).sum() + (b ** 3).sum()).backward()
            o.step()
            if k == 2:
                o.state[a]["exp_avg"] = minigrad.zeros(3)
                o.state[b]["exp_avg_sq"].data = minigrad.ones(2)
        if k == 0:
            kept = opt.state[q]["exp_avg"]
            kept_values = _values(kept)
        if k == 1:
            assert not np.array_equal(_values(kept), kept_values)  # live: changed by the step
    np.testing.assert_array_equal(_values(p), _values(ref_p))
    np.testing.assert_array_equal(_values(q), _values(ref_q))
    for key in ("exp_avg", "exp_avg_sq"):
        np.testing.assert_array_equal(_values(opt.state[p][key]), _values(ref.state[ref_p][key]))
        np.testing.assert_array_equal(_values(opt.state[q][key]), _values(ref.state[ref_q][key]))


def test_a_failing_multi_tensor_step_changes_nothing():
    a = minigrad.tensor([1.0, 2.0], requires_grad=True)
    b = minigrad.tensor([3.0, 4.0, 5.0], requires_grad=True)
    opt = minigrad.optim.Adam([{"params": [a]}, {"params": [b]}], foreach=True)
    (a.sum() + b.sum()).backward()
    opt.step()
    before = (_values(a), _values(b), _values(opt.state[a]["exp_avg"]), float(opt.state[a]["step"]))
    b.grad.data = minigrad.ones(2)
    with pytest.raises(RuntimeError, match="parameter 0 of group 1 has a gradient of size"):
        opt.step()
    after = (_values(a), _values(b), _values(opt.state[a]["exp_avg"]), float(opt.state[a]["step"]))
    for x, y in zip(before, after):
        np.testing.assert_array_equal(x, y)


def _optimizer_classes() -> list[type]:
    return [cls for cls in vars(minigrad.optim).values()
            if isinstance(cls, type) and issubclass(cls, Optimizer) and cls is not Optimizer]


def test_every_optimizer_has_a_reference_rule_and_is_tested_on_both_paths():
    tested = {name for name, _ in CASES}
    for cls in _optimizer_classes():
        assert cls._param_step is not Optimizer._param_step, f"{cls.__name__} has no reference update rule"
        assert "foreach" in inspect.signature(cls).parameters, f"{cls.__name__} does not take foreach"
        assert cls.__name__ in tested, f"{cls.__name__} is not in the bit-for-bit tests of both paths"
