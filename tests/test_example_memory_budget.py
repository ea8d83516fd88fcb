"""examples/memory_budget.py in its fast mode, and what it claims checked against independent numbers.

The example trains one deep MLP plain, checkpointed and under float16 autocast, and reports each
variant's predicted and measured step peak. Checked here: checkpointing and autocast lower the
measured peak; autocast's activations really are float16 (read from the graph's saved arrays);
checkpointed gradients are the plain ones bit for bit (one step computed both ways here, outside the
example's numbers); the losses are finite and fall; the PNG is written; summary()'s predicted peaks
are within 10% of the measured ones.
"""

import contextlib
import importlib.util
import io
import math
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad as torch
import minigrad.nn.functional as F
from minigrad.memory import saved_bytes
from minigrad.utils.checkpoint import checkpoint_sequential

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "memory_budget.py"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def load_example():
    """Import examples/memory_budget.py as a module (examples/ is not a package)."""
    spec = importlib.util.spec_from_file_location("example_memory_budget", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def example():
    return load_example()


@pytest.fixture(scope="module")
def results(example, tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("memory_budget")
    with contextlib.redirect_stdout(io.StringIO()):
        return example.main(str(out_dir), fast=True)


def batch(example, seed=0):
    rng = np.random.default_rng(seed)
    x = torch.tensor(rng.random((example.BATCH, 64), dtype=np.float32))
    y = torch.tensor(rng.integers(0, 10, example.BATCH))
    return x, y


def saved_arrays(output):
    """Every array the graph behind ``output`` keeps for backward, each buffer once."""
    seen, arrays, stack, visited = set(), [], [output.grad_fn], set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in visited:
            continue
        visited.add(id(node))
        for value in node.saved:
            array = getattr(value, "_data", value)
            if isinstance(array, np.ndarray):
                while isinstance(array.base, np.ndarray):
                    array = array.base
                if id(array) not in seen:
                    seen.add(id(array))
                    arrays.append(array)
        stack.extend(next_node for next_node, _ in node.next_functions)
    return arrays


# ---- the example's own numbers ----------------------------------------------------------------------------

def test_every_variant_is_reported(results, example):
    assert set(example.VARIANTS) == {"plain", "checkpointed", "autocast"}
    for name in example.VARIANTS:
        r = results[name]
        assert r["measured"] > 0 and r["predicted"] > 0 and r["activations"] > 0
        assert r["step_ms"] > 0 and 0.0 <= r["test_accuracy"] <= 1.0


def test_checkpointing_lowers_the_measured_peak(results):
    assert results["checkpointed"]["measured"] < results["plain"]["measured"]


def test_autocast_lowers_the_measured_peak(results):
    assert results["autocast"]["measured"] < results["plain"]["measured"]


def test_losses_are_finite_and_fall(results, example):
    for name in example.VARIANTS:
        losses = np.array(results[name]["losses"])
        assert len(losses) == len(results["plain"]["losses"]) > 6  # the same number of steps for the three
        assert np.isfinite(losses).all(), name
        assert losses[-3:].mean() < losses[:3].mean() - 0.1, name
        assert math.isfinite(results[name]["final_loss"])


def test_checkpointed_training_is_the_plain_training(results):
    # Same weights, same batches, gradients equal bit for bit: the same losses, step after step.
    assert results["checkpointed"]["losses"] == results["plain"]["losses"]
    assert results["checkpointed"]["test_accuracy"] == results["plain"]["test_accuracy"]


def test_the_png_is_written(results):
    path = Path(results["png"])
    assert path.name == "memory_budget.png"
    assert path.read_bytes()[:8] == PNG_MAGIC


def test_predicted_peaks_within_10_percent_of_measured(results, example):
    for name in example.VARIANTS:
        r = results[name]
        assert abs(r["predicted"] - r["measured"]) <= 0.10 * r["measured"], (name, r["predicted"], r["measured"])


# ---- independent checks: one step computed here ----------------------------------------------------------

def test_checkpointed_gradients_equal_plain_bit_for_bit(example):
    x, y = batch(example)
    plain, checkpointed = example.make_model("plain"), example.make_model("checkpointed")
    assert checkpointed.segments > 1
    for p, q in zip(plain.parameters(), checkpointed.parameters()):
        assert np.array_equal(p.detach().numpy(), q.detach().numpy())

    out_plain = plain(x)
    # Checkpointing really dropped the activations (else the equality below would say nothing).
    out_checkpointed = checkpointed(x)
    assert saved_bytes(out_checkpointed) < 0.5 * saved_bytes(out_plain)
    F.cross_entropy(out_plain, y).backward()
    F.cross_entropy(out_checkpointed, y).backward()
    params = list(plain.parameters())
    assert len(params) == 2 * (example.DEPTH + 1)
    for p, q in zip(params, checkpointed.parameters()):
        assert p.grad is not None and p.grad.dtype == torch.float32
        assert np.array_equal(p.grad.numpy(), q.grad.numpy())


def test_checkpoint_sequential_called_directly_gives_the_same_gradients(example):
    # The same comparison without the example's forward: checkpoint_sequential on the blocks, here.
    x, y = batch(example, seed=1)
    grads = []
    for segments in (1, example.SEGMENTS):
        model = example.make_model("plain")
        hidden = checkpoint_sequential(model.blocks, segments, x, use_reentrant=False)
        F.cross_entropy(model.head(hidden), y).backward()
        grads.append([p.grad.numpy().copy() for p in model.parameters()])
    assert all(np.array_equal(a, b) for a, b in zip(*grads))


def test_autocast_keeps_float16_activations(example):
    x, _ = batch(example)
    kept = {}
    for variant in ("plain", "autocast"):
        logits = example.make_model(variant)(x)
        per_sample = [a for a in saved_arrays(logits) if a.ndim == 2 and a.shape[0] == example.BATCH]
        assert len(per_sample) >= example.DEPTH  # each layer's input (= the Tanh output before it)
        kept[variant] = per_sample
        if variant == "autocast":
            assert logits.dtype == torch.float16
    assert {a.dtype for a in kept["plain"]} == {np.dtype(np.float32)}
    assert {a.dtype for a in kept["autocast"]} == {np.dtype(np.float16)}
    batch_bytes = {v: sum(a.nbytes for a in arrays) for v, arrays in kept.items()}
    assert batch_bytes["autocast"] * 2 == batch_bytes["plain"]
    # The parameters stay float32 (master weights), and get float32 gradients.
    model = example.make_model("autocast")
    example.loss_of(model(x), torch.tensor(np.zeros(example.BATCH, dtype=np.int64))).backward()
    assert all(p.dtype == torch.float32 and p.grad.dtype == torch.float32 for p in model.parameters())
