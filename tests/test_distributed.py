"""minigrad.distributed and DistributedDataParallel, run for real: ``mpiexec -n 2`` jobs of the workers in tests/mpi/.

Each job runs once per module (a fixture) and does several checks; the workers write what each rank
saw into a temporary folder, and the tests here compare it with truths computed without MPI: NumPy
for the collectives, plain single-process minigrad training on the global batch for DDP, and torch
(in this process, a gloo group of one) for the error messages and state_dict keys.

The single-process checks run ``tests/mpi/single_worker.py`` as a plain subprocess (MPI's singleton
init, world size 1), so that MPI is never initialized inside the pytest process.

Skipped when mpi4py or an ``mpiexec`` (next to this Python first, then on PATH) is missing.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import minigrad
import minigrad.nn as nn
import minigrad.nn.functional as F
import minigrad.optim as optim

ROOT = Path(__file__).resolve().parent.parent
MPI_DIR = Path(__file__).resolve().parent / "mpi"
JOB_TIMEOUT = 60  # seconds for a job that should finish in about one

_spec = importlib.util.spec_from_file_location("_mpi_common", MPI_DIR / "_common.py")
common = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(common)


def _find_mpiexec() -> str | None:
    beside = Path(sys.executable).parent / "mpiexec"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("mpiexec")


MPIEXEC = _find_mpiexec()
_HAS_MPI4PY = importlib.util.find_spec("mpi4py") is not None  # not imported: that would initialize MPI here

needs_mpi4py = pytest.mark.skipif(not _HAS_MPI4PY, reason="needs mpi4py (pip install \"minigrad[distributed]\")")
needs_mpiexec = pytest.mark.skipif(
    not _HAS_MPI4PY or MPIEXEC is None,
    reason="needs mpi4py and an mpiexec (next to sys.executable or on PATH): pip install \"minigrad[distributed]\"")


@dataclasses.dataclass
class Job:
    returncode: int | None  # None: killed at the timeout
    output: str  # stdout and stderr of all ranks, interleaved
    seconds: float

    @property
    def timed_out(self) -> bool:
        return self.returncode is None


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return env


def run_job(worker: str, *args: str, timeout: float = JOB_TIMEOUT, nprocs: int | None = 2) -> Job:
    """``mpiexec -n nprocs python tests/mpi/worker args`` (plain ``python`` when nprocs is None).

    On timeout the whole process group (mpiexec, its proxies and the ranks) is terminated, then killed.
    """
    cmd = [sys.executable, str(MPI_DIR / worker), *args]
    if nprocs is not None:
        cmd = [MPIEXEC, "-n", str(nprocs), *cmd]
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
                            env=_env(), start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=timeout)
        return Job(proc.returncode, output, time.monotonic() - start)
    except subprocess.TimeoutExpired:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                output, _ = proc.communicate(timeout=3)
                break
            except subprocess.TimeoutExpired:
                output = ""
        return Job(None, output, time.monotonic() - start)


def _check_ok(job: Job, what: str) -> None:
    assert not job.timed_out, f"{what} hung (killed after {job.seconds:.0f} s):\n{job.output}"
    assert job.returncode == 0, f"{what} failed with exit status {job.returncode}:\n{job.output}"


def _load_ranks(out: Path, stem: str) -> list:
    return [dict(np.load(out / f"{stem}_rank{r}.npz")) for r in range(2)]


# ---------------------------------------------------------------------------------------------------
# The jobs, once per module each.


@pytest.fixture(scope="module")
def collectives(tmp_path_factory):
    out = tmp_path_factory.mktemp("collectives")
    _check_ok(run_job("collectives_worker.py", str(out)), "collectives_worker.py")
    return [(dict(np.load(out / f"collectives_rank{r}.npz")),
             json.loads((out / f"collectives_rank{r}.json").read_text())) for r in range(2)]


@pytest.fixture(scope="module")
def training(tmp_path_factory):
    out = tmp_path_factory.mktemp("train")
    _check_ok(run_job("train_worker.py", str(out)), "train_worker.py")
    return _load_ranks(out, "train")


@pytest.fixture(scope="module")
def unused(tmp_path_factory):
    """The results of unused_worker.py's parts (a part missing only when the job failed before it), and the job."""
    out = tmp_path_factory.mktemp("unused")
    job = run_job("unused_worker.py", str(out))
    parts = {part: _load_ranks(out, f"unused_{part}") for part in ("one", "error", "small")
             if all((out / f"unused_{part}_rank{r}.npz").exists() for r in range(2))}
    return parts, job


@pytest.fixture(scope="module")
def single():
    job = run_job("single_worker.py", nprocs=None)
    _check_ok(job, "single_worker.py")
    return json.loads(job.output.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------------------
# 2. Collectives against NumPy.

OPS = {"sum": lambda a, b: a + b, "max": np.maximum, "min": np.minimum, "product": lambda a, b: a * b}


@needs_mpiexec
@pytest.mark.parametrize("kind", ["f64", "i64"])
@pytest.mark.parametrize("op", ["sum", "avg", "max", "min", "product"])
def test_all_reduce(collectives, op, kind):
    x0, x1 = (common.collective_inputs(r)[kind] for r in range(2))
    if op == "avg":
        expected = (x0 + x1) / 2 if kind == "f64" else (x0 + x1) // 2  # i64 sums are even: exact
    else:
        expected = OPS[op](x0, x1)
    for rank, (arrays, info) in enumerate(collectives):
        got = arrays[f"all_reduce_{op}_{kind}"]
        assert got.dtype == expected.dtype, (rank, got.dtype)
        np.testing.assert_array_equal(got, expected, err_msg=f"rank {rank}")
        assert info[f"all_reduce_{op}_{kind}_returned"] == "None"  # async_op=False returns None, as torch's


@needs_mpiexec
def test_all_reduce_default_is_sum_in_place_and_async_work(collectives):
    expected = common.collective_inputs(0)["f64"] + common.collective_inputs(1)["f64"]
    for arrays, info in collectives:
        np.testing.assert_array_equal(arrays["all_reduce_default_f64"], expected)
        np.testing.assert_array_equal(arrays["all_reduce_async_f64"], expected)
        assert info["async_wait"] is True and info["async_is_completed"] is True
        assert info["barrier_async_wait"] is True and info["broadcast_async_wait"] is True


@needs_mpiexec
@pytest.mark.parametrize("kind", ["f64", "i64"])
def test_broadcast_all_gather_reduce(collectives, kind):
    inputs = [common.collective_inputs(r)[kind] for r in range(2)]
    for rank, (arrays, _) in enumerate(collectives):
        for src in (0, 1):
            np.testing.assert_array_equal(arrays[f"broadcast_{src}_{kind}"], inputs[src], err_msg=f"rank {rank}")
        np.testing.assert_array_equal(arrays[f"all_gather_{kind}"], np.stack(inputs), err_msg=f"rank {rank}")
    # reduce(dst=1): rank 1 holds the result; rank 0's tensor is left as it was (torch leaves it unspecified)
    arrays1 = collectives[1][0]
    np.testing.assert_array_equal(arrays1[f"reduce_sum_{kind}"], inputs[0] + inputs[1])
    np.testing.assert_array_equal(arrays1[f"reduce_max_{kind}"], np.maximum(inputs[0], inputs[1]))


@needs_mpiexec
def test_group_facts(collectives):
    for rank, (_, info) in enumerate(collectives):
        assert (info["rank"], info["size"], info["initialized"]) == (rank, 2, True)
        assert info["backend"] == "mpi"  # "gloo" was asked for: minigrad runs it on MPI
        assert info["initialized_after_destroy"] is False


# ---------------------------------------------------------------------------------------------------
# 1. and 4. DDP training equals single-process training on the global batch; rank 0's weights everywhere.


def _padded_rank_indices() -> list[list[int]]:
    """torch's DistributedSampler(shuffle=False) rule, by hand: pad from the start, rank r takes [r::2]."""
    total = 2 * -(-common.N_SAMPLES // 2)
    indices = list(range(common.N_SAMPLES))
    indices += indices[:total - len(indices)]
    return [indices[r::2] for r in range(2)]


def _set_params(model, arrays) -> None:
    with minigrad.no_grad():
        for p, a in zip(model.parameters(), arrays, strict=True):
            p.copy_(minigrad.tensor(a))


def _reference_training(name: str, init: list[np.ndarray], model_and_optimizer: list | None = None
                        ) -> list[list[np.ndarray]]:
    """Plain minigrad, one process, global batches of 2 * BATCH: rank 0's batch then rank 1's (the model and
    optimizer go into ``model_and_optimizer`` when given)."""
    X, y = common.data()
    model = common.mlp(nn)
    _set_params(model, init)
    opt = common.optimizer(optim, name, model.parameters())
    per_rank = _padded_rank_indices()
    B = common.BATCH
    steps = []
    for _ in range(common.EPOCHS):
        for start in range(0, len(per_rank[0]), B):
            idx = per_rank[0][start:start + B] + per_rank[1][start:start + B]
            opt.zero_grad()
            F.cross_entropy(model(minigrad.tensor(X[idx])), minigrad.tensor(y[idx])).backward()
            opt.step()
            steps.append([p.detach().numpy().copy() for p in model.parameters()])
    if model_and_optimizer is not None:
        model_and_optimizer += [model, opt]
    return steps


CONFIGS = [common.config_name(n, c) for n, c in common.TRAIN_CONFIGS]


@needs_mpiexec
@pytest.mark.parametrize("key", CONFIGS)
def test_sampler_gives_torchs_indices(training, key):
    X, _ = common.data()
    for rank, res in enumerate(training):
        expected = list(torch.utils.data.DistributedSampler(range(common.N_SAMPLES), num_replicas=2, rank=rank,
                                                            shuffle=False))
        assert expected == _padded_rank_indices()[rank]
        for epoch in range(common.EPOCHS):
            assert res[f"{key}_indices_{epoch}"].tolist() == expected
        # the DataLoader's batches are those rows, in that order, epoch after epoch
        np.testing.assert_array_equal(res[f"{key}_batches"], np.concatenate([X[expected]] * common.EPOCHS))


@needs_mpiexec
@pytest.mark.parametrize("key", CONFIGS)
def test_rank0_initial_weights_reach_every_rank(training, key):
    n = len(list(common.mlp(nn).parameters()))
    pre = [[training[r][f"{key}_pre_{i}"] for i in range(n)] for r in range(2)]
    assert any(not np.array_equal(a, b) for a, b in zip(*pre)), "the ranks were meant to start different"
    for rank in range(2):
        for i in range(n):
            np.testing.assert_array_equal(training[rank][f"{key}_post_{i}"], pre[0][i], err_msg=f"rank {rank} #{i}")


@needs_mpiexec
@pytest.mark.parametrize("key", CONFIGS)
def test_ddp_training_equals_single_process_global_batch(training, key, float64_default):
    name = key.split("_")[0]
    n = len(list(common.mlp(nn).parameters()))
    assert int(training[0][f"{key}_nbuckets"]) == (1 if key.endswith("one") else 3)
    init = [training[0][f"{key}_pre_{i}"] for i in range(n)]
    reference = _reference_training(name, init)
    nsteps = int(training[0][f"{key}_nsteps"])
    assert nsteps == len(reference) == 6
    for step in range(nsteps):
        for i in range(n):
            got0, got1 = (training[r][f"{key}_steps_{i}"][step] for r in range(2))
            np.testing.assert_array_equal(got0, got1, err_msg=f"replicas differ after step {step}, param {i}")
            np.testing.assert_allclose(got0, reference[step][i], rtol=1e-12, atol=1e-15,
                                       err_msg=f"{key}: step {step}, param {i}")
    # and training moved the weights: the comparison is not of untouched initial values
    assert not np.allclose(reference[-1][0], init[0])


# ---------------------------------------------------------------------------------------------------
# 3. no_sync: accumulation without averaging, then one averaging of the total.


def _grads(rows_list: list, init: list[np.ndarray], scale: float) -> list[np.ndarray]:
    X, y = common.data()
    model = common.mlp(nn)
    _set_params(model, init)
    for rows in rows_list:
        (F.cross_entropy(model(minigrad.tensor(X[rows])), minigrad.tensor(y[rows])) * scale).backward()
    return [p.grad.numpy().copy() for p in model.parameters()]


@needs_mpiexec
def test_no_sync_accumulation_equals_larger_batch(training, float64_default):
    n = len(list(common.mlp(nn).parameters()))
    init = [training[0][f"nosync_init_{i}"] for i in range(n)]
    for i in range(n):
        np.testing.assert_array_equal(training[1][f"nosync_init_{i}"], init[i])
    # inside no_sync: each rank only its own two micro-batches (scaled by 1/3), not averaged
    for rank in range(2):
        local = _grads([common.nosync_rows(rank, m) for m in (0, 1)], init, 1 / 3)
        for i in range(n):
            np.testing.assert_allclose(training[rank][f"nosync_inside_{i}"], local[i], rtol=1e-12, atol=1e-15)
    assert not np.allclose(training[0]["nosync_inside_0"], training[1]["nosync_inside_0"])
    # after the third backward, outside: the gradient of the mean loss over all 18 samples, on both ranks
    everything = np.arange(6 * common.NOSYNC_BATCH)
    expected = _grads([everything], init, 1.0)
    for rank in range(2):
        for i in range(n):
            np.testing.assert_allclose(training[rank][f"nosync_after_{i}"], expected[i], rtol=1e-12, atol=1e-15,
                                       err_msg=f"rank {rank}, param {i}")


@needs_mpiexec
def test_buffers_follow_rank0(training):
    assert training[1]["buffer_pre"].tolist() == [2.0, 2.0, 2.0]
    for rank in range(2):
        assert training[rank]["buffer_post"].tolist() == [1.0, 1.0, 1.0]  # at construction
        assert training[rank]["buffer_after_forward"].tolist() == [1.0, 1.0, 1.0]  # each forward (broadcast_buffers)
        assert training[rank]["state_dict_keys"].tolist() == ["module.stat", "module.lin.weight", "module.lin.bias"]


# ---------------------------------------------------------------------------------------------------
# 6. find_unused_parameters.


def _expected_unused_grads(init: dict, step: int) -> dict:
    """Single process: rank 0's gradients (b used) and rank 1's (b unused: zero), averaged."""
    total: dict = {}
    for rank in range(2):
        model = common.skip_model(nn)
        with minigrad.no_grad():
            for name, p in model.named_parameters():
                p.copy_(minigrad.tensor(init[name]))
        model(minigrad.tensor(common.skip_input(rank, step)), use_b=(rank == 0)).pow(2).mean().backward()
        for name, p in model.named_parameters():
            g = np.zeros_like(init[name]) if p.grad is None else p.grad.numpy()
            total[name] = total.get(name, 0) + g / 2
    return total


def _check_unused(results: list) -> None:
    names = [n for n, _ in common.skip_model(nn).named_parameters()]
    init = {n: results[0][f"init_{n}"] for n in names}
    for step in range(2):
        expected = _expected_unused_grads(init, step)
        for name in names:
            g0, g1 = (results[r][f"grad{step}_{name}"] for r in range(2))
            np.testing.assert_array_equal(g0, g1, err_msg=f"ranks disagree on {name}.grad, iteration {step}")
            np.testing.assert_allclose(g0, expected[name], rtol=1e-12, atol=1e-15,
                                       err_msg=f"{name}.grad, iteration {step}")


@needs_mpiexec
def test_find_unused_parameters_one_bucket(unused, float64_default):
    parts, job = unused
    assert "one" in parts, f"unused_worker.py failed before its first part:\n{job.output}"
    assert int(parts["one"][0]["nbuckets"]) == 1
    _check_unused(parts["one"])


@needs_mpiexec
def test_find_unused_parameters_several_buckets(unused, float64_default):
    """One bucket per parameter: the rank that skips ``b`` finds its buckets ready during forward."""
    parts, job = unused
    assert "small" in parts, f"unused_worker.py failed before its last part:\n{job.output}"
    assert int(parts["small"][0]["nbuckets"]) == 6
    _check_unused(parts["small"])


@needs_mpiexec
def test_unused_parameter_without_flag_raises_on_next_forward(unused):
    parts, job = unused
    assert "error" in parts, f"unused_worker.py failed before its second part:\n{job.output}"
    for rank in range(2):
        kind, message = str(parts["error"][rank]["kind"]), str(parts["error"][rank]["message"])
        assert kind == "RuntimeError", (rank, kind, message)
        assert message.startswith("Expected to have finished reduction in the prior iteration before starting a "
                                  "new one."), message
        assert "find_unused_parameters=True" in message


@needs_mpiexec
def test_unused_worker_exits_cleanly(unused):
    _check_ok(unused[1], "unused_worker.py")


# ---------------------------------------------------------------------------------------------------
# 5. One failing rank ends the job.


@needs_mpiexec
def test_rank_that_raises_ends_the_job_with_its_traceback():
    job = run_job("fail_worker.py", "raise", timeout=30)
    assert not job.timed_out, f"the job hung after rank 1 raised (killed after {job.seconds:.0f} s):\n{job.output}"
    assert job.returncode != 0, job.output
    assert "Traceback (most recent call last)" in job.output, job.output
    assert "RuntimeError: rank 1 fails on purpose before all_reduce" in job.output, job.output
    assert "RANK0-PASSED-ALL_REDUCE" not in job.output, job.output
    assert job.seconds < 15, f"took {job.seconds:.1f} s"


@needs_mpiexec
@pytest.mark.xfail(strict=True, reason="sys.exit(3) on one rank skips sys.excepthook, so minigrad.distributed "
                                       "does not abort the job: rank 0 waits in all_reduce until killed")
def test_rank_that_exits_nonzero_ends_the_job():
    job = run_job("fail_worker.py", "exit", timeout=6)  # short: today this hangs, bounded by the timeout
    assert not job.timed_out, f"the job hung after rank 1 called sys.exit(3) (killed after {job.seconds:.0f} s)"
    assert job.returncode != 0, job.output
    assert "RANK0-PASSED-ALL_REDUCE" not in job.output, job.output


# ---------------------------------------------------------------------------------------------------
# 7. One process (no mpiexec): errors and state_dict keys, against torch.distributed's.


@pytest.fixture(scope="module")
def torch_facts(tmp_path_factory):
    """What torch.distributed says in the same situations (a gloo group of one process, in this process)."""
    import torch.distributed as td

    if not td.is_available() or not td.is_gloo_available():
        pytest.skip("torch.distributed with gloo is not available")
    assert not td.is_initialized()

    def error_of(fn):
        try:
            fn()
        except Exception as exc:  # noqa: BLE001
            return [type(exc).__name__, str(exc)]
        return None

    store = tmp_path_factory.mktemp("torch_store")
    facts = {"get_rank_before": error_of(td.get_rank), "get_world_size_before": error_of(td.get_world_size),
             "all_reduce_before": error_of(lambda: td.all_reduce(torch.zeros(1)))}
    td.init_process_group("gloo", init_method=f"file://{store / 'a'}", rank=0, world_size=1)
    try:
        facts["init_twice"] = error_of(lambda: td.init_process_group(
            "gloo", init_method=f"file://{store / 'b'}", rank=0, world_size=1))
        tnn = torch.nn
        model = tnn.Sequential(tnn.Linear(common.N_IN, common.N_HIDDEN), tnn.Tanh(),
                               tnn.Linear(common.N_HIDDEN, common.N_CLASSES))
        facts["state_dict_keys"] = list(tnn.parallel.DistributedDataParallel(model).state_dict())
    finally:
        td.destroy_process_group()
    return facts


@needs_mpi4py
@pytest.mark.parametrize("what", ["get_rank_before", "get_world_size_before", "all_reduce_before", "init_twice"])
def test_errors_like_torch(single, torch_facts, what):
    assert single[what] == torch_facts[what]
    assert single[what][0] == "ValueError"


@needs_mpi4py
def test_messages_are_torchs_text(single):
    assert single["get_rank_before"] == [
        "ValueError", "Default process group has not been initialized, please make sure to call init_process_group."]
    assert single["init_twice"] == ["ValueError", "trying to initialize the default process group twice!"]


@needs_mpi4py
def test_single_process_group(single):
    assert single["initialized_before"] is False
    assert (single["rank"], single["size"], single["initialized"]) == (0, 1, True)
    assert single["initialized_after_destroy"] is False
    assert single["reinit_rank"] == 0


@needs_mpi4py
def test_ddp_state_dict_keys_like_torch(single, torch_facts):
    assert single["state_dict_keys"] == torch_facts["state_dict_keys"]
    assert single["state_dict_keys"] == ["module." + k for k in single["module_state_dict_keys"]]


# ---------------------------------------------------------------------------------------------------
# Buckets are averaged in the same order on every rank, whatever order backward finishes them in.


@needs_mpiexec
def test_buckets_are_averaged_in_the_same_order_when_the_ranks_run_their_layers_in_different_orders(tmp_path):
    job = run_job("order_worker.py", str(tmp_path))
    _check_ok(job, "order_worker.py")
    ranks = [dict(np.load(tmp_path / f"order_rank{r}.npz")) for r in range(2)]
    # Each rank's own gradients, by plain single-process minigrad, averaged: the truth for both ranks.
    expected = {"a": 0.0, "b": 0.0}
    for rank in range(2):
        a = nn.Linear(2, 2, bias=False).double()
        b = nn.Linear(2, 2, bias=False).double()
        with minigrad.no_grad():
            a.weight.fill_(1.0)
            b.weight.fill_(2.0)
        x = minigrad.ones(1, 2, dtype=minigrad.float64) * (rank + 1)
        (b(a(x)) if rank == 0 else a(b(x))).sum().backward()
        expected["a"] = expected["a"] + a.weight.grad.numpy() / 2
        expected["b"] = expected["b"] + b.weight.grad.numpy() / 2
    for r in ranks:
        assert int(r["nbuckets"]) == 2
        np.testing.assert_allclose(r["a"], expected["a"], rtol=1e-14)
        np.testing.assert_allclose(r["b"], expected["b"], rtol=1e-14)


# ---------------------------------------------------------------------------------------------------
# The example of the README.


@needs_mpiexec
def test_ddp_digits_example_on_two_processes():
    cmd = [MPIEXEC, "-n", "2", sys.executable, str(ROOT / "examples" / "ddp_digits.py"), "--epochs", "5"]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=_env(), timeout=JOB_TIMEOUT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "2 process(es), batch 32 each (64 per step)" in out
    assert out.count("on its part of the test set") == 2  # rank 0 prints every rank's accuracy, once
    accuracy = float(out.split("test accuracy ")[-1].split("%")[0])
    assert accuracy > 90  # 5 epochs of the digits MLP: about 96% (98% after the default 30)
    sent = int(out.split("sends ")[1].split(" bytes")[0].replace(",", ""))
    assert sent == 9_610 * 4  # 2 (N-1)/N = 1 times the float32 gradient bytes of the 64-128-10 MLP


# ---------------------------------------------------------------------------------------------------
# The NCCL backend, on a real GPU (one process: NCCL refuses two processes on one GPU).


@pytest.mark.cuda
@needs_mpiexec
def test_nccl_backend_on_a_gpu(tmp_path):
    try:
        import cupy  # noqa: F401
        from cupy.cuda import nccl  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"needs CuPy with NCCL and a CUDA GPU: {exc}")
    if not minigrad.cuda.is_available():
        pytest.skip("needs a CUDA GPU")
    job = run_job("nccl_worker.py", str(tmp_path), nprocs=1)
    _check_ok(job, "nccl_worker.py")
    got = dict(np.load(tmp_path / "nccl.npz"))
    assert bool(got["backend"])
    np.testing.assert_array_equal(got["collectives"], [1.0, -2.0, 3.0])  # one process: MAX, then copies
    # One process: DDP's averaging divides by 1, so training equals plain training on the same data.
    default = minigrad.get_default_dtype()
    minigrad.set_default_dtype(minigrad.float64)
    try:
        minigrad.manual_seed(0)
        model = common.mlp(nn)
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        x, y = (minigrad.tensor(a) for a in common.data())
        for _ in range(3):
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()
    finally:
        minigrad.set_default_dtype(default)
    for name, p in model.named_parameters():
        np.testing.assert_allclose(got[f"param_{name}"], p.detach().numpy(), rtol=1e-10, atol=1e-12)


@needs_mpiexec
def test_state_dicts_saved_by_rank0_load_into_a_plain_model_and_continue_training(training, tmp_path_factory,
                                                                                 float64_default):
    # the training fixture's job wrote rank 0's checkpoint into its output folder
    out = next(p for p in tmp_path_factory.getbasetemp().rglob("checkpoint.pt"))
    checkpoint = minigrad.load(out)
    model = common.mlp(nn)
    model.load_state_dict(checkpoint["model"])  # the wrapped module's keys: no "module." prefix
    opt = common.optimizer(optim, "adam", model.parameters())
    opt.load_state_dict(checkpoint["optimizer"])
    n = len(list(model.parameters()))
    init = [training[0][f"adam_one_pre_{i}"] for i in range(n)]
    reference: list = []
    _reference_training("adam", init, reference)
    ref_model, ref_opt = reference
    X, y = common.data()
    for m, o in ((model, opt), (ref_model, ref_opt)):  # one more step, the same for both
        o.zero_grad()
        F.cross_entropy(m(minigrad.tensor(X[:8])), minigrad.tensor(y[:8])).backward()
        o.step()
    for p, q in zip(model.parameters(), ref_model.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-12, atol=1e-15)
