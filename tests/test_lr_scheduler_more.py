"""MultiplicativeLR, LinearLR, PolynomialLR, SequentialLR, ChainedScheduler, CyclicLR and OneCycleLR equal torch 2.13.

Every step is compared exactly: the lr of each of three param groups, the momentum (SGD, RMSprop)
or ``betas`` (Adam) where the scheduler cycles it, ``get_last_lr()``, ``last_epoch`` and the whole
state dict; then state-dict round trips, warnings and errors, with torch's wording.
"""

from __future__ import annotations

import types
import warnings
from collections import Counter

import pytest
import torch

import minigrad

STEPS = 60


def optimizer(lib, name: str = "SGD", **options):
    a, b, c = (lib.zeros(n, requires_grad=True) for n in (2, 3, 1))
    if name in ("SGD", "RMSprop"):
        options.setdefault("momentum", 0.9)
    groups = [{"params": [a]}, {"params": [b], "lr": 0.5}, {"params": [c], "lr": 0.02}]
    return getattr(lib.optim, name)(groups, lr=0.1, **options)


# name -> (optimizer, make(lr_scheduler module, optimizer))
SCHEDULERS = {
    "MultiplicativeLR": ("SGD", lambda s, o: s.MultiplicativeLR(o, lambda e: 0.95)),
    "MultiplicativeLR-per-group": ("SGD", lambda s, o: s.MultiplicativeLR(
        o, [lambda e: 0.9, lambda e: 1 - 1 / (e + 3), lambda e: 1.01 if e % 2 else 0.97])),
    "LinearLR": ("SGD", lambda s, o: s.LinearLR(o)),
    "LinearLR-up": ("SGD", lambda s, o: s.LinearLR(o, start_factor=0.05, end_factor=0.9, total_iters=40)),
    "LinearLR-down": ("SGD", lambda s, o: s.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=17)),
    "PolynomialLR": ("SGD", lambda s, o: s.PolynomialLR(o, total_iters=45, power=0.9)),
    "PolynomialLR-default": ("SGD", lambda s, o: s.PolynomialLR(o)),
    "PolynomialLR-square": ("SGD", lambda s, o: s.PolynomialLR(o, total_iters=30, power=2.0)),
    "SequentialLR": ("SGD", lambda s, o: s.SequentialLR(
        o, [s.LinearLR(o, start_factor=0.1, total_iters=10), s.ExponentialLR(o, gamma=0.9)], milestones=[10])),
    "SequentialLR-three": ("SGD", lambda s, o: s.SequentialLR(
        o, [s.MultiplicativeLR(o, lambda e: 1.1), s.StepLR(o, step_size=4, gamma=0.5),
            s.CosineAnnealingLR(o, T_max=12, eta_min=0.001)], milestones=[6, 25])),
    "SequentialLR-one": ("SGD", lambda s, o: s.SequentialLR(o, [s.PolynomialLR(o, total_iters=30)], [])),
    "ChainedScheduler": ("SGD", lambda s, o: s.ChainedScheduler(
        [s.LinearLR(o, start_factor=0.2, total_iters=15), s.ExponentialLR(o, gamma=0.97)])),
    "ChainedScheduler-optimizer": ("SGD", lambda s, o: s.ChainedScheduler(
        [s.MultiStepLR(o, milestones=[10, 30], gamma=0.5), s.PolynomialLR(o, total_iters=50, power=1.5),
         s.MultiplicativeLR(o, lambda e: 0.99)], optimizer=o)),
    "ChainedScheduler-of-SequentialLR": ("SGD", lambda s, o: s.ChainedScheduler([
        s.SequentialLR(o, [s.LinearLR(o, start_factor=0.5, total_iters=5), s.StepLR(o, 7, 0.8)], [5]),
        s.ExponentialLR(o, gamma=0.98)])),
    "CyclicLR": ("SGD", lambda s, o: s.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=7)),
    "CyclicLR-triangular2": ("SGD", lambda s, o: s.CyclicLR(
        o, base_lr=[0.01, 0.05, 0.001], max_lr=[0.1, 0.4, 0.02], step_size_up=5, step_size_down=9,
        mode="triangular2", base_momentum=[0.7, 0.8, 0.85], max_momentum=[0.95, 0.9, 0.99])),
    "CyclicLR-exp_range-Adam": ("Adam", lambda s, o: s.CyclicLR(
        o, base_lr=0.001, max_lr=0.01, step_size_up=6, mode="exp_range", gamma=0.97)),
    "CyclicLR-scale_fn-iterations": ("RMSprop", lambda s, o: s.CyclicLR(
        o, 0.002, 0.02, step_size_up=4, step_size_down=3, scale_fn=lambda x: 1 / (1 + 0.05 * x),
        scale_mode="iterations", base_momentum=0.5, max_momentum=0.6)),
    "CyclicLR-scale_fn-cycle": ("SGD", lambda s, o: s.CyclicLR(
        o, 0.01, 0.1, step_size_up=3, scale_fn=lambda x: 0.8 ** x)),
    "CyclicLR-no-momentum": ("Adagrad", lambda s, o: s.CyclicLR(
        o, 0.01, 0.1, step_size_up=8, mode="triangular2", cycle_momentum=False)),
    "OneCycleLR": ("SGD", lambda s, o: s.OneCycleLR(o, max_lr=1.0, total_steps=STEPS)),
    "OneCycleLR-linear": ("SGD", lambda s, o: s.OneCycleLR(
        o, max_lr=[1.0, 0.3, 2.0], total_steps=STEPS, anneal_strategy="linear", pct_start=0.25)),
    "OneCycleLR-three_phase": ("SGD", lambda s, o: s.OneCycleLR(
        o, max_lr=0.5, total_steps=STEPS, three_phase=True, div_factor=10.0, final_div_factor=100.0,
        base_momentum=[0.8, 0.7, 0.85], max_momentum=[0.9, 0.95, 0.99])),
    "OneCycleLR-Adam-epochs": ("Adam", lambda s, o: s.OneCycleLR(
        o, max_lr=0.01, epochs=6, steps_per_epoch=10, pct_start=0.4)),
    "OneCycleLR-three_phase-linear-Adam": ("Adam", lambda s, o: s.OneCycleLR(
        o, max_lr=0.01, total_steps=STEPS, three_phase=True, anneal_strategy="linear")),
    "OneCycleLR-no-momentum": ("Adagrad", lambda s, o: s.OneCycleLR(
        o, max_lr=0.2, total_steps=STEPS, cycle_momentum=False, div_factor=5.0)),
}


def comparable(state):
    """A state dict with functions and Counters made comparable across the two libraries."""
    if isinstance(state, dict):
        return {key: comparable(value) for key, value in state.items()}
    if isinstance(state, list | tuple):
        return type(state)(comparable(v) for v in state)
    if isinstance(state, types.FunctionType):
        return "function"
    if isinstance(state, Counter):
        return dict(state)
    return state


def groups_of(opt):
    return [(g["lr"], g.get("momentum"), g.get("betas"), g.get("initial_lr")) for g in opt.param_groups]


def run(lib, kind, steps=STEPS):
    name, make = SCHEDULERS[kind]
    opt = optimizer(lib, name)
    scheduler = make(lib.optim.lr_scheduler, opt)
    out = [(groups_of(opt), scheduler.get_last_lr())]
    for _ in range(steps):
        opt.step()
        scheduler.step()
        out.append((groups_of(opt), scheduler.get_last_lr(), getattr(scheduler, "last_epoch", None)))
    return out, comparable(scheduler.state_dict())


@pytest.mark.parametrize("kind", SCHEDULERS)
def test_every_step_equals_torch(kind):
    ours, theirs = run(minigrad, kind), run(torch, kind)
    assert ours[0] == theirs[0]
    assert ours[1] == theirs[1]
    assert len({tuple(g[0] for g in step[0]) for step in ours[0]}) > 5  # the lrs really change
    if SCHEDULERS[kind][0] in ("SGD", "RMSprop", "Adam") and kind.startswith(("CyclicLR", "OneCycleLR")):
        assert len({tuple(str(g[1:3]) for g in step[0]) for step in ours[0]}) > 5  # so does the momentum


@pytest.mark.parametrize("kind", ["LinearLR-up", "LinearLR-down", "PolynomialLR", "PolynomialLR-square"])
def test_closed_form_with_an_epoch_argument_equals_torch(kind):
    def go(lib):
        name, make = SCHEDULERS[kind]
        opt = optimizer(lib, name)
        scheduler = make(lib.optim.lr_scheduler, opt)
        out = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for epoch in [3, 4, 9, 15, 2, 21, 50, 0]:
                opt.step()
                scheduler.step(epoch)
                out.append(scheduler.get_last_lr())
        return out, sorted({str(w.message) for w in caught})

    ours = go(minigrad)
    assert ours == go(torch) and len(ours[1]) == 1


@pytest.mark.parametrize("kind", SCHEDULERS)
def test_state_dict_round_trip(kind):
    name, make = SCHEDULERS[kind]

    def train(opt, scheduler, steps):
        out = []
        for _ in range(steps):
            opt.step()
            scheduler.step()
            out.append((scheduler.get_last_lr(), groups_of(opt)))
        return out

    opt = optimizer(minigrad, name)
    full = train(opt, make(minigrad.optim.lr_scheduler, opt), STEPS)

    opt = optimizer(minigrad, name)
    scheduler = make(minigrad.optim.lr_scheduler, opt)
    first = train(opt, scheduler, 23)
    saved_opt, saved_sched = opt.state_dict(), scheduler.state_dict()
    assert "optimizer" not in saved_sched

    # As torch advises: the scheduler is made before the optimizer's state is loaded.
    opt2 = optimizer(minigrad, name)
    scheduler2 = make(minigrad.optim.lr_scheduler, opt2)
    opt2.load_state_dict(saved_opt)
    scheduler2.load_state_dict(saved_sched)
    assert first + train(opt2, scheduler2, STEPS - 23) == full


def test_callable_objects_are_saved_functions_are_not():
    class Factor:
        def __init__(self) -> None:
            self.rate = 0.9

        def __call__(self, x: float) -> float:
            return self.rate

    def go(lib):
        s = lib.optim.lr_scheduler
        out = []
        for make in [lambda o, f: s.MultiplicativeLR(o, [f, lambda e: 1.0, f]),
                     lambda o, f: s.CyclicLR(o, 0.01, 0.1, step_size_up=3, scale_fn=f)]:
            opt, factor = optimizer(lib), Factor()
            scheduler = make(opt, factor)
            sd = scheduler.state_dict()
            key = "lr_lambdas" if "lr_lambdas" in sd else "_scale_fn_custom"
            saved = sd[key]  # (read first: torch's CyclicLR.load_state_dict pops it from the dict)
            factor.rate = 0.1
            scheduler.load_state_dict(sd)
            out.append((saved, factor.rate))
        cyclic = s.CyclicLR(optimizer(lib), 0.01, 0.1, scale_fn=lambda x: 1.0)
        out.append(cyclic.state_dict()["_scale_fn_custom"])
        return out

    assert go(minigrad) == go(torch) == [([{"rate": 0.9}, None, {"rate": 0.9}], 0.9), ({"rate": 0.9}, 0.9), None]


def test_one_cycle_raises_past_total_steps_like_torch():
    def go(lib):
        opt = optimizer(lib)
        scheduler = lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10)
        for _ in range(10):
            opt.step()
            scheduler.step()
        with pytest.raises(ValueError) as info:
            opt.step()
            scheduler.step()
        return str(info.value), scheduler.last_epoch

    assert go(minigrad) == go(torch) == ("Tried to step 11 times. The specified number of total steps is 10", 11)


@pytest.mark.parametrize("kind", SCHEDULERS)
def test_warns_like_torch_when_stepped_before_the_optimizer(kind):
    def go(lib):
        name, make = SCHEDULERS[kind]
        opt = optimizer(lib, name)
        scheduler = make(lib.optim.lr_scheduler, opt)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            scheduler.step()
            if "Sequential" not in kind and "Chained" not in kind:
                scheduler.get_lr()  # outside step(): use get_last_lr()
        return [(w.category, str(w.message)) for w in caught]

    ours = go(minigrad)
    assert ours == go(torch)
    assert any("before `optimizer.step()`" in message for _, message in ours)


def make_other_optimizer(lib):
    return lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.3)


BAD = [
    lambda s, o: s.MultiplicativeLR(o, [lambda e: 1.0]),
    lambda s, o: s.MultiplicativeLR(o, 0.9),
    lambda s, o: s.MultiplicativeLR(o, [lambda e: 1.0, 2, lambda e: 1.0]),
    lambda s, o: s.LinearLR(o, start_factor=0),
    lambda s, o: s.LinearLR(o, start_factor=1.5),
    lambda s, o: s.LinearLR(o, end_factor=-0.1),
    lambda s, o: s.LinearLR(o, end_factor=1.1),
    lambda s, o: s.PolynomialLR(o, last_epoch=3),
    lambda s, o: s.OneCycleLR(o, max_lr=0.1),
    lambda s, o: s.OneCycleLR(o, max_lr=0.1, epochs=3),
    lambda s, o: s.OneCycleLR(o, max_lr=0.1, total_steps=0),
    lambda s, o: s.OneCycleLR(o, max_lr=0.1, total_steps=10.0),
    lambda s, o: s.OneCycleLR(o, max_lr=0.1, epochs=0, steps_per_epoch=3),
    lambda s, o: s.OneCycleLR(o, max_lr=0.1, epochs=2, steps_per_epoch=1.5),
    lambda s, o: s.OneCycleLR(o, max_lr=0.1, total_steps=10, pct_start=1),
    lambda s, o: s.OneCycleLR(o, max_lr=0.1, total_steps=10, pct_start=1.5),
    lambda s, o: s.OneCycleLR(o, max_lr=0.1, total_steps=10, anneal_strategy="sin"),
    lambda s, o: s.OneCycleLR(o, max_lr=[0.1, 0.2], total_steps=10),
    lambda s, o: s.OneCycleLR(o, max_lr=0.1, total_steps=10, max_momentum=[0.9]),
    lambda s, o: s.OneCycleLR(object(), max_lr=0.1, total_steps=10),
    lambda s, o: s.CyclicLR(o, 0.01, 0.1, mode="square"),
    lambda s, o: s.CyclicLR(o, [0.01, 0.02], 0.1),
    lambda s, o: s.CyclicLR(o, 0.01, [0.1]),
    lambda s, o: s.CyclicLR(o, 0.01, 0.1, base_momentum=[0.8, 0.8]),
    lambda s, o: s.CyclicLR(object(), 0.01, 0.1),
    lambda s, o: s.SequentialLR(o, [], []),
    lambda s, o: s.SequentialLR(o, [s.StepLR(o, 3), s.StepLR(o, 4)], [2, 5]),
    lambda s, o: s.SequentialLR(o, [s.StepLR(o, 3), s.ReduceLROnPlateau(o)], [2]),
    lambda s, o: s.SequentialLR(o, [s.StepLR(o, 3), s.StepLR(make_other_optimizer(torch if s is torch.optim.
                                                                                  lr_scheduler else minigrad), 3)],
                                [2]),
    lambda s, o: s.SequentialLR(o, [s.StepLR(o, 3), object()], [2]),
    lambda s, o: s.ChainedScheduler([]),
    lambda s, o: s.ChainedScheduler([s.ReduceLROnPlateau(o)], optimizer=o),
    lambda s, o: s.ChainedScheduler([s.StepLR(o, 3), object()]),
    lambda s, o: s.ChainedScheduler([s.StepLR(o, 3)], optimizer=make_other_optimizer(
        torch if s is torch.optim.lr_scheduler else minigrad)),
]


@pytest.mark.parametrize("index", range(len(BAD)))
def test_bad_arguments_raise_like_torch(index):
    def error(lib, optimizer_name):
        with pytest.raises(Exception) as info:
            BAD[index](lib.optim.lr_scheduler, optimizer(lib, optimizer_name))
        return type(info.value), str(info.value)

    assert error(minigrad, "SGD") == error(torch, "SGD")


@pytest.mark.parametrize("make", [lambda s, o: s.CyclicLR(o, 0.01, 0.1),
                                  lambda s, o: s.OneCycleLR(o, max_lr=0.1, total_steps=10)])
def test_cycle_momentum_needs_momentum_or_betas(make):
    def error(lib):
        with pytest.raises(ValueError) as info:
            make(lib.optim.lr_scheduler, optimizer(lib, "Adagrad"))
        return str(info.value)

    assert error(minigrad) == error(torch) == ("optimizer must support momentum or beta1 with `cycle_momentum` "
                                               "option enabled")


@pytest.mark.parametrize("name, make", [
    ("SGD", lambda s, o: s.OneCycleLR(o, max_lr=0.5, total_steps=25, three_phase=True)),
    ("Adam", lambda s, o: s.OneCycleLR(o, max_lr=0.05, total_steps=25, anneal_strategy="linear")),
    ("SGD", lambda s, o: s.CyclicLR(o, 0.01, 0.2, step_size_up=4, mode="triangular2")),
    ("Adam", lambda s, o: s.CyclicLR(o, 0.001, 0.05, step_size_up=3, mode="exp_range", gamma=0.95)),
    ("SGD", lambda s, o: s.SequentialLR(o, [s.LinearLR(o, 0.1, total_iters=5), s.PolynomialLR(o, 20)], [5])),
])
def test_schedules_drive_the_optimizer_like_torch(name, make):
    # The scheduled lr and momentum/beta1 are what the next step uses: whole runs, float64.
    def go(lib):
        p = lib.tensor([1.0, -2.0, 3.0], dtype=lib.float64, requires_grad=True)
        opt = getattr(lib.optim, name)([p], lr=0.1, **({"momentum": 0.9} if name == "SGD" else {}))
        scheduler = make(lib.optim.lr_scheduler, opt)
        for _ in range(25):
            opt.zero_grad()
            (p * p).sum().backward()
            opt.step()
            scheduler.step()
        return p.detach().numpy().tolist()

    ours, theirs = go(minigrad), go(torch)
    assert all(abs(v) < 10 for v in ours) and ours != [1.0, -2.0, 3.0]
    assert ours == pytest.approx(theirs, rel=1e-12)
