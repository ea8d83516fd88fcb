"""How many BLAS threads a model's matrix products should use, and a context manager that sets it.

NumPy hands every matrix product (``@``, ``nn.Linear``) to its BLAS (OpenBLAS in the NumPy
wheels), which splits any product above a small size over one thread per core. For the small
MLPs of the course that is a loss: waking and joining the threads costs more than they save,
and on a machine where other programs also use the cores each product waits until *all* its
threads get a core. One thread is then faster::

    from minigrad.utils.threads import limit_blas_threads

    with limit_blas_threads(model, batch_size=64):
        for epoch in range(epochs):
            ...

The rule (``blas_threads_for``): one thread when the largest matrix product of a training step
is below ``SMALL_PRODUCT`` (4 * 10**6) multiply-adds, else every core this process may use.

Why 4 * 10**6: a full training step (forward, cross entropy, backward, Adam) of 3-layer MLPs
with one and with two threads, on this project's 2-vCPU AMD EPYC (KVM, NumPy 2.4.6 with
scipy-openblas 0.3.31, float32), median of 15 interleaved rounds of best-of-3 blocks, three
runs while other jobs kept the load average at 2-4 (the time with 1 thread over the time with
2 threads: below 1, one thread is faster)::

    batch, MLP                largest product   ms per step, 1 thread   1 thread / 2 threads
    64, 64-128-128-10         1.0e6             0.25 - 0.39             0.49, 0.52, 0.86
    20, 64-256-256-10         1.3e6             0.34 - 0.69             0.51, 0.63, 0.96
    32, 64-256-256-10         2.1e6             0.39 - 0.69             0.62, 0.72, 0.75
    48, 64-256-256-10         3.1e6             0.45 - 0.91             0.54, 1.04
    64, 64-256-256-10         4.2e6             0.53 - 1.09             1.17, 1.24, 1.84
    128, 64-256-256-10        8.4e6             0.80 - 0.83             1.33, 1.33, 1.35

Up to 2.1 * 10**6 the second thread made the step slower in every run (up to 2x); at 3.1 * 10**6
it was a toss-up; from 4.2 * 10**6 on it made the step faster in every run. (A single product
alone was a toss-up around 1-2 * 10**6 already, but a training step also runs products whose
inner dimension is the batch, and elementwise work that uses one thread anyway.) Larger models
won or lost with two threads from run to run on this shared machine; where a core is free they
win, as BLAS threads are meant to.

Whole examples, same machine, other jobs running (load average 2.7-3.4), ``main()`` timed in
one process; before: the BLAS's default (2 threads), after: inside ``limit_blas_threads``,
which picked 1 (three runs each, in the order run):

* ``examples/compare_optimizers.py`` (64-128-10 MLP, batches of 64, 10 optimizers x 20 epochs):
  before 1.4 s, 5.1 s, 11.5 s; after 0.8 s, 1.0 s, 1.0 s;
* ``examples/dropout_demo.py`` (64-256-256-10 MLP, batches of 20, 5 seeds x 2 x 100 epochs):
  before 46.1 s, 14.8 s, 39.7 s; after 12.8 s, 8.4 s, 8.5 s.

compare_optimizers printed the same table either way. Why it is that bad when busy: a product
split over two threads waits for the slower one, and with another program on the second core
that one may not run for a whole time slice.

threadpoolctl (``pip install -e ".[examples]"``) does the limiting; minigrad itself does not
need it, so it is imported only when ``limit_blas_threads`` is entered.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any

from .._settings import cpu_count
from ..nn import Linear, Module

SMALL_PRODUCT = 4_000_000
"""Multiply-adds per matrix product below which one BLAS thread is faster (see the module's docstring)."""


def largest_product(model_or_sizes: Any, batch_size: int | None = None) -> int:
    """Multiply-adds of the largest matrix product in one forward pass.

    ``model_or_sizes`` is either an ``nn.Module``, whose ``nn.Linear`` layers each multiply a
    ``(batch_size, in_features)`` input by an ``(in_features, out_features)`` weight (the
    backward products have the same count), or an iterable of ``(m, k, n)`` shapes, one per
    product of an ``(m, k)`` and a ``(k, n)`` matrix.
    """
    if isinstance(model_or_sizes, Module):
        if batch_size is None:
            raise TypeError("largest_product(model, batch_size=...) needs the batch size: it sets the products' "
                            "size as much as the layers do")
        shapes = [(batch_size, m.in_features, m.out_features) for m in model_or_sizes.modules()
                  if isinstance(m, Linear)]
    else:
        shapes = [tuple(s) for s in model_or_sizes]
        for s in shapes:
            if len(s) != 3:
                raise ValueError(f"a matrix product's size is (m, k, n) for an (m, k) @ (k, n) product, got {s}")
    return max((m * k * n for m, k, n in shapes), default=0)


def blas_threads_for(model_or_sizes: Module | Iterable[tuple[int, int, int]], batch_size: int | None = None,
                     *, threshold: int = SMALL_PRODUCT) -> int:
    """1 when the largest matrix product is below ``threshold`` multiply-adds, else the number of cores.

    >>> from minigrad import nn
    >>> blas_threads_for(nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10)), batch_size=64)
    1
    >>> blas_threads_for([(256, 784, 1024)]) == cpu_count()
    True
    """
    return 1 if largest_product(model_or_sizes, batch_size) < threshold else cpu_count()


@contextlib.contextmanager
def limit_blas_threads(model_or_sizes: Module | Iterable[tuple[int, int, int]], batch_size: int | None = None,
                       *, threshold: int = SMALL_PRODUCT) -> Iterator[int]:
    """Within the block, NumPy's BLAS uses ``blas_threads_for(model_or_sizes, batch_size)`` threads.

    Yields that number. Where it is the number of cores the BLAS is left as it is (so a limit
    already set, e.g. by ``OPENBLAS_NUM_THREADS``, is never raised). On leaving the block the
    previous limits come back. Only the BLAS is limited, not OpenMP pools of other libraries.
    """
    threads = blas_threads_for(model_or_sizes, batch_size, threshold=threshold)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError as exc:
        raise ImportError('limit_blas_threads needs threadpoolctl: pip install -e ".[examples]" '
                          '(or pip install threadpoolctl)') from exc
    with threadpool_limits(limits=threads if threads < cpu_count() else None, user_api="blas"):
        yield threads
