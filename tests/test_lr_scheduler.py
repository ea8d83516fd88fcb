"""Learning-rate schedulers give torch 2.13's lr sequences exactly (the same float operations)."""

from __future__ import annotations

import warnings

import pytest
import torch

import minigrad

EPOCHS = 30


def optimizer(lib, name: str = "SGD"):
    a, b = lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)
    return getattr(lib.optim, name)([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)


SCHEDULERS = {
    "StepLR": lambda s, opt: s.StepLR(opt, step_size=7, gamma=0.5),
    "MultiStepLR": lambda s, opt: s.MultiStepLR(opt, milestones=[3, 8, 8, 20], gamma=0.3),
    "ExponentialLR": lambda s, opt: s.ExponentialLR(opt, gamma=0.9),
    "CosineAnnealingLR": lambda s, opt: s.CosineAnnealingLR(opt, T_max=10, eta_min=0.01),
    "CosineAnnealingLR-no-min": lambda s, opt: s.CosineAnnealingLR(opt, T_max=7),
    "LambdaLR": lambda s, opt: s.LambdaLR(opt, lambda epoch: 0.95 ** epoch / (1 + epoch % 3)),
    "LambdaLR-per-group": lambda s, opt: s.LambdaLR(opt, [lambda e: 1 / (e + 1), lambda e: 0.9 ** e]),
}


def lr_sequence(lib, make, epochs: int = EPOCHS, name: str = "SGD") -> tuple:
    opt = optimizer(lib, name)
    scheduler = make(lib.optim.lr_scheduler, opt)
    lrs, last = [], []
    for _ in range(epochs):
        opt.step()
        scheduler.step()
        lrs.append([g["lr"] for g in opt.param_groups])
        last.append(scheduler.get_last_lr())
    return lrs, last, [g["initial_lr"] for g in opt.param_groups], scheduler.last_epoch


@pytest.mark.parametrize("kind", SCHEDULERS)
def test_lr_sequence_equals_torch(kind):
    ours = lr_sequence(minigrad, SCHEDULERS[kind])
    theirs = lr_sequence(torch, SCHEDULERS[kind])
    assert ours == theirs
    assert len({tuple(lrs) for lrs in ours[0]}) > 2  # the lr really changes


@pytest.mark.parametrize("kind", ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR"])
def test_closed_form_with_an_epoch_argument_equals_torch(kind):
    def run(lib):
        opt = optimizer(lib)
        scheduler = SCHEDULERS[kind](lib.optim.lr_scheduler, opt)
        out = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for epoch in [3, 4, 9, 15, 2, 21]:
                opt.step()
                scheduler.step(epoch)
                out.append(scheduler.get_last_lr())
        return out, sorted({str(w.message) for w in caught})

    ours, theirs = run(minigrad), run(torch)
    assert ours == theirs and len(ours[1]) == 1


@pytest.mark.parametrize("options", [
    {"patience": 2}, {"patience": 1, "cooldown": 2, "factor": 0.5}, {"mode": "max", "patience": 0},
    {"threshold_mode": "abs", "threshold": 0.05, "patience": 1}, {"mode": "max", "threshold_mode": "abs"},
    {"patience": 0, "min_lr": [0.02, 0.3], "factor": 0.5}, {"patience": 0, "factor": 0.999, "eps": 0.01},
])
def test_reduce_lr_on_plateau_equals_torch(options):
    losses = [1.0, 0.9, 0.95, 0.9, 0.91, 0.89, 0.8, 0.8, 0.8, 0.8, 0.81, 0.7, 0.7, 0.7, 0.7] * 2

    def run(lib):
        opt = optimizer(lib)
        scheduler = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **options)
        out = []
        for loss in losses:
            opt.step()
            scheduler.step(loss if options.get("mode") != "max" else -loss)
            out.append((scheduler.get_last_lr(), scheduler.num_bad_epochs, scheduler.cooldown_counter,
                        scheduler.best, scheduler.last_epoch))
        return out

    ours = run(minigrad)
    assert ours == run(torch)
    if "eps" in options:  # every reduction is smaller than eps: skipped
        assert ours[-1][0] == ours[0][0] == [0.1, 0.5]
    else:
        assert ours[-1][0] != ours[0][0]


@pytest.mark.parametrize("kind", list(SCHEDULERS) + ["ReduceLROnPlateau"])
def test_state_dict_round_trip(kind):
    make = SCHEDULERS.get(kind, lambda s, opt: s.ReduceLROnPlateau(opt, patience=1))
    losses = [1.0 / (1 + (k % 7)) for k in range(EPOCHS)]

    def train(opt, scheduler, epochs):
        out = []
        for k in epochs:
            opt.step()
            scheduler.step(losses[k]) if kind == "ReduceLROnPlateau" else scheduler.step()
            out.append(scheduler.get_last_lr())
        return out

    opt = optimizer(minigrad)
    scheduler = make(minigrad.optim.lr_scheduler, opt)
    full = train(opt, scheduler, range(EPOCHS))

    opt = optimizer(minigrad)
    scheduler = make(minigrad.optim.lr_scheduler, opt)
    first = train(opt, scheduler, range(12))
    saved_opt, saved_sched = opt.state_dict(), scheduler.state_dict()
    assert "optimizer" not in saved_sched

    opt2 = optimizer(minigrad)
    opt2.load_state_dict(saved_opt)
    scheduler2 = make(minigrad.optim.lr_scheduler, opt2)
    scheduler2.load_state_dict(saved_sched)
    assert first + train(opt2, scheduler2, range(12, EPOCHS)) == full

    torch_opt = optimizer(torch)
    torch_scheduler = make(torch.optim.lr_scheduler, torch_opt)
    train(torch_opt, torch_scheduler, range(3))
    assert set(scheduler.state_dict()) == set(torch_scheduler.state_dict())


def test_lambda_lr_saves_callable_objects_not_functions():
    class Decay:
        def __init__(self) -> None:
            self.rate = 0.5

        def __call__(self, epoch: int) -> float:
            return self.rate ** epoch

    def run(lib):
        opt = optimizer(lib)
        decay = Decay()
        scheduler = lib.optim.lr_scheduler.LambdaLR(opt, [decay, lambda e: 1.0])
        sd = scheduler.state_dict()
        decay.rate = 0.1
        scheduler.load_state_dict(sd)
        return sd["lr_lambdas"], decay.rate

    assert run(minigrad) == run(torch) == ([{"rate": 0.5}, None], 0.5)


def test_warnings_and_errors_like_torch():
    def step_before_optimizer(lib):
        opt = optimizer(lib)
        scheduler = lib.optim.lr_scheduler.StepLR(opt, 3)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            scheduler.step()
            scheduler.get_lr()
        return [(w.category, str(w.message)) for w in caught]

    assert step_before_optimizer(minigrad) == step_before_optimizer(torch)
    assert len(step_before_optimizer(minigrad)) == 2

    def error(fn):
        with pytest.raises(Exception) as info:
            fn()
        return type(info.value), str(info.value)

    for make in [lambda lib: lib.optim.lr_scheduler.StepLR(object(), 3),
                 lambda lib: lib.optim.lr_scheduler.StepLR(optimizer(lib), 3, last_epoch=5),
                 lambda lib: lib.optim.lr_scheduler.ReduceLROnPlateau(optimizer(lib), factor=1.0),
                 lambda lib: lib.optim.lr_scheduler.ReduceLROnPlateau(optimizer(lib), mode="up"),
                 lambda lib: lib.optim.lr_scheduler.ReduceLROnPlateau(optimizer(lib), min_lr=[0.1]),
                 lambda lib: lib.optim.lr_scheduler.LambdaLR(optimizer(lib), [lambda e: 1.0])]:
        assert error(lambda make=make: make(minigrad)) == error(lambda make=make: make(torch))


def test_scheduler_drives_every_optimizer():
    # The scheduled lr is what the next step uses: compare whole runs with torch (Adam, float64).
    def run(lib):
        p = lib.tensor([1.0, -2.0, 3.0], dtype=lib.float64, requires_grad=True)
        opt = lib.optim.Adam([p], lr=0.1)
        scheduler = lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=5)
        for _ in range(12):
            opt.zero_grad()
            (p * p).sum().backward()
            opt.step()
            scheduler.step()
        return p.detach().numpy().tolist()

    ours, theirs = run(minigrad), run(torch)
    assert ours == pytest.approx(theirs, rel=1e-12)
