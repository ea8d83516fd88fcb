"""What the MPI workers in this folder and tests/test_distributed.py share: the data and the model's shape.

Imported by the workers (their folder is on ``sys.path``) and loaded by path from the test file.
Nothing here talks to MPI.
"""

from __future__ import annotations

import numpy as np

N_SAMPLES = 23  # odd: DistributedSampler pads with index 0 to 24, 12 per rank
N_IN, N_HIDDEN, N_CLASSES = 5, 16, 3
BATCH = 4  # per rank; the single-process reference trains on 2 * BATCH
EPOCHS = 2  # 3 steps per epoch per rank, 6 steps in all
SGD = {"lr": 0.1, "momentum": 0.9}
ADAM = {"lr": 0.01}
# 0.0004 MB = 419 bytes: the MLP's gradients (640 + 128 + 384 + 24 bytes, float64) make 3 buckets
SMALL_BUCKET_MB = 0.0004
# every course optimizer, with the default bucket; SGD and Adam with several buckets too
OTHERS = {"rprop": {"lr": 0.01}, "adagrad": {"lr": 0.1}, "rmsprop": {"lr": 0.01, "momentum": 0.5},
          "nadam": {"lr": 0.01}, "adadelta": {"lr": 1.0}, "adamw": {"lr": 0.01, "weight_decay": 0.1}}
TRAIN_CONFIGS = [("sgd", None), ("sgd", SMALL_BUCKET_MB), ("adam", None), ("adam", SMALL_BUCKET_MB),
                 *((name, None) for name in OTHERS)]


def data() -> tuple[np.ndarray, np.ndarray]:
    """Inputs (float64) and class labels (int64) of the training set, the same in every process."""
    rng = np.random.default_rng(2024)
    return rng.standard_normal((N_SAMPLES, N_IN)), rng.integers(0, N_CLASSES, N_SAMPLES)


def mlp(nn):
    """The model, built with ``nn`` (minigrad.nn); its initial weights come from the current seed."""
    return nn.Sequential(nn.Linear(N_IN, N_HIDDEN), nn.Tanh(), nn.Linear(N_HIDDEN, N_CLASSES))


def optimizer(optim, name: str, params):
    if name in OTHERS:
        classes = {"rprop": optim.Rprop, "adagrad": optim.Adagrad, "rmsprop": optim.RMSprop, "nadam": optim.NAdam,
                   "adadelta": optim.Adadelta, "adamw": optim.AdamW}
        return classes[name](params, **OTHERS[name])
    return optim.SGD(params, **SGD) if name == "sgd" else optim.Adam(params, **ADAM)


def config_name(name: str, cap: float | None) -> str:
    return f"{name}_{'one' if cap is None else 'small'}"


def collective_inputs(rank: int) -> dict[str, np.ndarray]:
    """The known per-rank inputs of the collectives checks."""
    rng = np.random.default_rng(10 + rank)
    return {
        "f64": rng.standard_normal((3, 4)),
        # small non-zero integers: the product cannot overflow; rank 0 odd, rank 1 odd -> sums even,
        # so an integer AVG is exact whatever the rounding rule
        "i64": (2 * rng.integers(-3, 3, size=(2, 5)) + 1).astype(np.int64),
    }


NOSYNC_BATCH = 3  # per micro-batch; 2 inside no_sync, 1 outside, on each of the 2 ranks: 18 samples in all


def nosync_rows(rank: int, micro: int) -> slice:
    """The rows of ``data()`` in micro-batch ``micro`` (0, 1: inside no_sync; 2: outside) of ``rank``."""
    start = (2 * micro + rank) * NOSYNC_BATCH
    return slice(start, start + NOSYNC_BATCH)


SKIP_WIDTH = 4  # a, b, c: Linear(4, 4) each, so gradients mixed up between them still have matching sizes


def skip_model(nn):
    """``c(a(x) + b(x))``, or ``c(a(x))`` with ``use_b=False``: then ``b`` gets no gradient."""

    class Skip(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = nn.Linear(SKIP_WIDTH, SKIP_WIDTH)
            self.b = nn.Linear(SKIP_WIDTH, SKIP_WIDTH)
            self.c = nn.Linear(SKIP_WIDTH, SKIP_WIDTH)

        def forward(self, x, use_b: bool = True):
            h = self.a(x)
            if use_b:
                h = h + self.b(x)
            return self.c(h.tanh())

    return Skip()


def skip_input(rank: int, step: int) -> np.ndarray:
    return np.random.default_rng(100 * step + rank).standard_normal((3, SKIP_WIDTH))
