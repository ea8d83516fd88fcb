"""The examples run in their fast mode, and what they claim is checked against independent numbers."""

import contextlib
import gzip
import importlib.util
import io
import os
import re
import shutil
import struct
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def load_example(name: str):
    """Import examples/<name>.py as a module (examples/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is created
    spec.loader.exec_module(module)
    return module


def quietly(fn, *args, **kwargs):
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args, **kwargs)


# ---- backprop_by_hand -----------------------------------------------------------------------------

def test_backprop_by_hand_matches_minigrad_in_float64():
    diffs = quietly(load_example("backprop_by_hand").main, fast=True)
    # the parameters' gradients, and the intermediates' (retained with retain_grad())
    assert set(diffs) == {"loss", "W1", "b1", "W2", "b2", "out", "h", "z1"}
    assert max(diffs.values()) < 1e-12


def test_backprop_by_hand_intermediate_gradients_are_the_chain_rule():
    module = load_example("backprop_by_hand")
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    params = {"W1": rng.standard_normal((4, 3)), "b1": rng.standard_normal(4),
              "W2": rng.standard_normal((2, 4)), "b2": rng.standard_normal(2)}
    _, hand = module.forward_and_grads_by_hand(x, y, params)
    _, auto = module.forward_and_grads_by_minigrad(x, y, params)
    for name in ("out", "h", "z1"):
        assert auto[name].shape == hand[name].shape == ((5, 2) if name == "out" else (5, 4))
        np.testing.assert_allclose(auto[name], hand[name], rtol=0, atol=1e-15)
    # d z1 = d h * tanh'(z1): the step from one intermediate to the one before it
    h = np.tanh(x @ params["W1"].T + params["b1"])
    np.testing.assert_allclose(auto["z1"], auto["h"] * (1 - h ** 2), rtol=0, atol=1e-15)


# ---- draw_graph -----------------------------------------------------------------------------------

@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")
def test_draw_graph_writes_png_and_svg(tmp_path):
    paths = quietly(load_example("draw_graph").main, str(tmp_path / "out"), fast=True)
    assert sorted(Path(p).name for p in paths) == ["mlp_graph.png", "mlp_graph.svg"]
    png, svg = sorted(paths)
    assert Path(png).read_bytes()[:8] == PNG_MAGIC
    text = Path(svg).read_text()
    assert "<svg" in text and "AddmmBackward0" in text and "0.weight" in text


def test_draw_graph_without_dot_saves_the_dot_text(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no dot on the PATH
    paths = quietly(load_example("draw_graph").main, str(tmp_path / "out"), fast=True)
    assert [Path(p).name for p in paths] == ["mlp_graph.dot"]
    text = Path(paths[0]).read_text()
    assert text.startswith("digraph") and "AddmmBackward0" in text


# ---- optimizer_paths ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def optimizer_paths(tmp_path_factory):
    module = load_example("optimizer_paths")
    out = tmp_path_factory.mktemp("paths")
    return module, quietly(module.main, str(out), fast=True)


def test_optimizer_paths_writes_one_png_per_function_and_one_of_claims(optimizer_paths):
    module, results = optimizer_paths
    names = sorted(Path(p).name for p in results["files"])
    assert names == sorted([f"paths_{f}.png" for f in module.PROBLEMS] + ["optimizer_claims.png",
                                                                           "nesterov_stability.png"])
    for path in results["files"]:
        assert Path(path).read_bytes()[:8] == PNG_MAGIC


def test_every_course_optimizer_ran_on_every_function(optimizer_paths):
    module, results = optimizer_paths
    expected = {"SGD", "Momentum", "Nesterov", "Rprop", "Adagrad", "RMSprop", "Adam", "NAdam", "Adadelta"}
    for name, problem in module.PROBLEMS.items():
        paths = results["paths"][name]
        assert set(paths) == expected
        for path in paths.values():
            assert path.shape == (problem.steps // 3 + 1, 2) and np.isfinite(path).all()
    # on the quadratic every optimizer but Adadelta (which starts with ~3e-3 steps) at least halves f
    f = module.PROBLEMS["quadratic"].f
    start = f(*module.PROBLEMS["quadratic"].start)
    for opt, path in results["paths"]["quadratic"].items():
        assert f(*path[-1]) < (0.95 if opt == "Adadelta" else 0.5) * start, opt


def test_momentum_gets_further_than_sgd(optimizer_paths):
    module, results = optimizer_paths
    m = results["claims"]["momentum gets further than SGD along a consistent slope"]
    assert m["holds"] and m["momentum_progress"] > 2 * m["sgd_progress"]
    # SGD on 0.5 * x**2 multiplies x by (1 - lr) each step: 10 steps from x = -4 with lr 0.02
    assert m["sgd_progress"] == pytest.approx(4 * (1 - 0.98 ** 10), rel=1e-12)
    # heavy ball by hand: b = 0.9 b + g, x -= lr b (torch's first buffer is g itself, the same as b0 = 0)
    x, b = -4.0, 0.0
    for _ in range(10):
        b = 0.9 * b + x
        x -= 0.02 * b
    assert m["momentum_progress"] == pytest.approx(x + 4, rel=1e-12)


def test_nesterov_overshoots_less_than_momentum(optimizer_paths):
    module, results = optimizer_paths
    m = results["claims"]["Nesterov overshoots less than momentum"]
    assert m["holds"]
    assert m["momentum_overshoot"] > 1.5 * m["nesterov_overshoot"] > 0  # both overshoot; Nesterov by half as much
    assert m["momentum_path_length"] > 1.2 * m["nesterov_path_length"]


def test_adagrad_steps_shrink_until_it_nearly_stops(optimizer_paths):
    module, results = optimizer_paths
    m = results["claims"]["AdaGrad's steps shrink until it nearly stops"]
    assert m["holds"]
    # AdaGrad's first step is lr along each coordinate (g / sqrt(g**2)): lr * sqrt(2) in 2-D
    assert m["first_step"] == pytest.approx(module.PROBLEMS["rosenbrock"].step * np.sqrt(2), rel=1e-6)
    assert m["largest_late_step"] < 0.05 * m["first_step"]
    assert m["distance_to_minimum"] > 1.0
    assert m["rmsprop_largest_late_step"] > 2 * m["largest_late_step"]  # RMSprop keeps moving


def test_rprop_ignores_gradient_magnitude(optimizer_paths):
    module, results = optimizer_paths
    m = results["claims"]["Rprop's steps do not depend on the gradient's size"]
    assert m["holds"] and m["max_step_difference"] == 0.0
    assert m["sgd_first_step_ratio"] == pytest.approx(1000)
    # Rprop's first step is its lr along each coordinate, then grows by 1.2 while the sign holds
    lr = module.PROBLEMS["quadratic"].step
    assert m["rprop_steps"][0] == pytest.approx(lr * np.sqrt(2))
    assert np.array_equal(m["rprop_steps"], m["rprop_steps_scaled"])


def test_nesterov_is_more_stable_only_for_small_steps(optimizer_paths):
    module, results = optimizer_paths
    r = results["nesterov_regimes"]
    # the limits of the two linear recurrences, curvature 50, momentum 0.9
    assert r["momentum_max_lr"] == pytest.approx(2 * 1.9 / 50) and r["nesterov_max_lr"] == pytest.approx(3.8 / 140)
    small, large = r["small"], r["large"]
    assert small["lr"] == 0.01 < r["nesterov_max_lr"] < large["lr"] == 0.03 < r["momentum_max_lr"]
    # small steps: the claim holds: Nesterov overshoots half as much and converges faster
    assert small["holds"]
    assert small["nesterov_overshoot"] < 0.6 * small["momentum_overshoot"]
    assert small["nesterov_final_distance"] < 0.5 * small["momentum_final_distance"]
    assert small["nesterov_contraction"] < small["momentum_contraction"] < 1
    # lr 0.03: momentum converges, Nesterov diverges (its error grows ~1.3x per step)
    assert not large["holds"]
    assert large["momentum_contraction"] < 1 < large["nesterov_contraction"]
    assert large["momentum_final_distance"] < 0.05 and large["momentum_largest_y"] < 1.2
    assert large["nesterov_final_distance"] > 1e6
    # the claims table shows the same claim holding and failing
    verdicts = {k: v["holds"] for k, v in results["claims"].items() if k.startswith("Nesterov is more stable")}
    assert sorted(verdicts.values()) == [False, True]
    # independent check of the divergence: Nesterov by hand on y (curvature 50): b = 0.9 b + g; y -= lr (g + 0.9 b)
    for lr, diverges in ((0.01, False), (0.03, True)):
        for nesterov in (False, True):
            y, b = 1.0, 0.0
            for _ in range(100):
                g = 50 * y
                b = 0.9 * b + g
                y -= lr * (g + 0.9 * b if nesterov else b)
            assert (abs(y) > 1e6) == (diverges and nesterov), (lr, nesterov)
            path = small["paths"] if lr == 0.01 else large["paths"]
            assert path["Nesterov" if nesterov else "Momentum"][-1, 1] == pytest.approx(y, rel=1e-9)


def test_every_optimizer_figure_states_its_hyperparameters(optimizer_paths):
    module, _ = optimizer_paths
    for name, problem in module.PROBLEMS.items():
        opts = module.make_optimizers(problem)
        assert module.hyperparameters(opts["Momentum"]) == f"lr={problem.sgd_lr:g}, momentum=0.9", name
        assert module.hyperparameters(opts["Nesterov"]).endswith("nesterov=True")
        assert module.hyperparameters(opts["Adam"]) == f"lr={problem.step:g}, betas=(0.9, 0.999), eps=1e-08"
        assert "rho=0.9" in module.hyperparameters(opts["Adadelta"])


# ---- dropout_demo ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def dropout_demo(tmp_path_factory):
    module = load_example("dropout_demo")
    with contextlib.redirect_stderr(io.StringIO()):  # the progress bar
        return module, quietly(module.main, fast=True, out_dir=str(tmp_path_factory.mktemp("dropout")))


def test_dropout_demo_scaling(dropout_demo):
    scaling = dropout_demo[1]["scaling"]
    assert len(scaling["ratios"]) > 0 and np.all(scaling["ratios"] == 2.0)  # 1 / (1 - 0.5)
    assert scaling["eval_equal"]
    assert abs(scaling["zero_fraction"] - 0.5) < 0.01  # 100,000 draws: 6 standard deviations
    assert abs(scaling["mean"] - 1.0) < 0.02


def test_dropout_demo_overfits_and_dropout_narrows_the_loss_gap(dropout_demo):
    module, results = dropout_demo
    s = results["summary"]
    plain, drop = s["no dropout"], s["dropout p=0.5"]
    seeds, epochs = s["seeds"], s["epochs"]
    for name in module.RUNS:
        for metric in module.METRICS:
            assert results["curves"][name][metric].shape == (seeds, epochs)
    # the setting overfits: 200 digits learned by heart, the unseen ones well below that
    assert plain["train_acc"] == 1.0 and drop["train_acc"] >= 0.99
    assert plain["test_acc"] < 0.96 and drop["test_acc"] < 0.96
    assert 0.85 < plain["test_acc"] and 0.85 < drop["test_acc"]
    # without dropout the test loss passes its lowest point and climbs again
    assert plain["best_test_loss_epoch"] < epochs and plain["test_loss"] > 1.05 * plain["best_test_loss"]
    # The robust effect (20 of 20 seeds with the full settings, 10 of 10 with the fast ones): dropout has the
    # smaller test-minus-train loss gap and the lower test loss in every seed.
    assert s["smaller_loss_gap"] == seeds and s["lower_test_loss"] == seeds
    assert drop["loss_gap"] < 0.9 * plain["loss_gap"]
    # Test accuracy moves by well under the gap either way (+0.2 points on average over 20 seeds, lower in 4 of
    # them): the demo says so rather than claiming a win.
    assert abs(drop["test_acc"] - plain["test_acc"]) < 0.03
    text = results["text"]
    assert "overfitting" in text and f"{seeds} of {seeds} seeds" in text and "not guaranteed" in text


def test_dropout_demo_plots_per_epoch_curves(dropout_demo):
    results = dropout_demo[1]
    assert Path(results["file"]).read_bytes()[:8] == PNG_MAGIC
    fig = dropout_demo[0].plot(results["curves"], "title")
    acc_ax, gap_ax = fig.axes
    epochs = results["summary"]["epochs"]
    assert len(acc_ax.get_lines()) == 4 and len(gap_ax.get_lines()) == 2  # train and test; the loss gap
    for line in acc_ax.get_lines() + gap_ax.get_lines():
        assert len(line.get_xdata()) == epochs


# ---- mnist_idx ------------------------------------------------------------------------------------

def write_idx(path: Path, array: np.ndarray, compress: bool) -> None:
    """IDX bytes by hand: 0, 0, dtype code 0x08 (ubyte), number of dims, big-endian sizes, data."""
    raw = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    raw += array.astype(np.uint8).tobytes()
    if compress:
        path = path.with_name(path.name + ".gz")
        raw = gzip.compress(raw)
    path.write_bytes(raw)


def test_mnist_idx_trains_on_digits_written_as_mnist_files(tmp_path):
    # scikit-learn's 8x8 digits blown up to MNIST's 28x28 uint8 format: a stand-in with real labels
    images, labels = load_digits(return_X_y=True)
    big = np.kron(images.reshape(-1, 8, 8), np.ones((3, 3)))  # 24x24
    big = np.pad(big, ((0, 0), (2, 2), (2, 2))) * (255 / 16)
    write_idx(tmp_path / "train-images-idx3-ubyte", big[:1500], compress=True)
    write_idx(tmp_path / "train-labels-idx1-ubyte", labels[:1500], compress=False)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", big[1500:], compress=False)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", labels[1500:], compress=True)
    result = quietly(load_example("mnist_idx").main, str(tmp_path), fast=True)
    assert result["test_accuracy"] > 0.85
    assert result["train_accuracy"] > 0.9


def test_mnist_idx_explains_missing_files(tmp_path):
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"")
    with pytest.raises(FileNotFoundError) as info:
        load_example("mnist_idx").main(str(tmp_path), fast=True)
    message = str(info.value)
    first, rest = message.split("\n", 1)
    assert str(tmp_path) in first
    for missing in ("train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        assert missing in first
    assert "train-images-idx3-ubyte" not in first  # that one is present
    # all four names the script looks for, that .gz is accepted, and where to get them
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"):
        assert f"{name}[.gz]" in rest
        assert f"https://ossci-datasets.s3.amazonaws.com/mnist/{name}.gz" in rest
    assert "Download them from https://ossci-datasets.s3.amazonaws.com/mnist/" in rest


def test_mnist_idx_finds_plain_and_gz_files_as_the_message_says(tmp_path):
    module = load_example("mnist_idx")
    for i, name in enumerate(module.FILES.values()):
        (tmp_path / (name + (".gz" if i % 2 else ""))).write_bytes(b"")
    found = module.find_files(str(tmp_path))
    assert sorted(Path(p).name for p in found.values()) == sorted(
        ["train-images-idx3-ubyte", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte",
         "t10k-labels-idx1-ubyte.gz"])


# ---- docs: the examples on the pages run, quoted code matches the source, figures are generated ---

DOCS = EXAMPLES.parent / "docs"
FENCE = re.compile(r"```python\n(.*?)```", re.S)


def doc_pages():
    return sorted(DOCS.glob("*.md"))


def test_quoted_source_matches_the_code():
    # a code block that quotes a class (``class Mul(Op):``) must be in minigrad as written
    sources = "\n".join(p.read_text() for p in (EXAMPLES.parent / "minigrad").rglob("*.py"))
    quoted = [b for page in doc_pages() for b in FENCE.findall(page.read_text()) if b.startswith("class ")]
    assert quoted, "docs/autograd.md quotes the Mul op"
    for block in quoted:
        assert block in sources, block.splitlines()[0]


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")
def test_every_figure_in_the_docs_is_made_by_make_figures(tmp_path):
    spec = importlib.util.spec_from_file_location("make_figures", EXAMPLES.parent / "scripts" / "make_figures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    made = {Path(p).name for p in quietly(module.main, str(tmp_path), fast=True)}
    for path in made:
        assert (tmp_path / path).read_bytes()[:8] == PNG_MAGIC
    linked = {m for page in doc_pages() for m in re.findall(r"\(figures/([^)]+)\)", page.read_text())}
    assert linked, "the docs show figures"
    assert linked <= made, f"figures the docs link to but make_figures.py does not make: {linked - made}"


def test_compare_optimizers_trains_with_every_course_optimizer(tmp_path):
    compare = load_example("compare_optimizers")
    out = compare.main(str(tmp_path), fast=True)
    results, param_bytes = out["results"], out["param_bytes"]
    assert set(results) == set(compare.COURSE_OPTIMIZERS)
    assert os.path.getsize(out["file"]) > 0
    for name, r in results.items():
        assert all(np.isfinite(r["curve"])), name
    # The course's memory statements: plain SGD keeps nothing, momentum one buffer, Adam two;
    # the 0-dim `step` counters (4 bytes per parameter tensor) come on top.
    n_tensors = 4
    assert results["SGD"]["state_bytes"] == 0
    assert results["SGD momentum 0.9"]["state_bytes"] == param_bytes
    assert results["Adagrad"]["state_bytes"] == param_bytes + 4 * n_tensors
    assert results["Adam"]["state_bytes"] == 2 * param_bytes + 4 * n_tensors
    # Three epochs take the adaptive methods far past chance (10%).
    for name in ("Adam", "RMSprop", "Adagrad", "NAdam", "Adadelta"):
        assert results[name]["accuracy"] > 0.6, name


def test_compare_optimizers_plot_tells_every_curve_apart():
    compare = load_example("compare_optimizers")
    rng = np.random.default_rng(0)
    # 20 epochs of curves spanning two decades, two of them nearly equal (momentum 0.9 and Nesterov)
    curves = {name: np.exp(-np.linspace(0, 4, 20) * rng.uniform(0.2, 1.0)) for name in compare.COURSE_OPTIMIZERS}
    curves["Nesterov"] = curves["SGD momentum 0.9"] * 0.99
    fig = compare.plot_curves({name: {"curve": c} for name, c in curves.items()})
    (ax,) = fig.axes
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == list(compare.COURSE_OPTIMIZERS)
    styles = [(line.get_color(), line.get_linestyle(), line.get_marker()) for line in lines]
    assert len(set(styles)) == len(styles), styles  # no two curves drawn alike
    assert len({line.get_marker() for line in lines}) == len(lines)  # the markers alone tell them apart
    assert ax.get_yscale() == "log"
    fig.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    assert legend.x0 >= ax.get_window_extent().x1  # beside the axes: it hides no curve
    assert legend.x1 <= fig.bbox.x1  # and it is not cut off


def test_train_digits_reaches_95_percent_test_accuracy():
    result = load_example("train_digits").train(progress=False)
    assert result["test_accuracy"] >= 0.95
    assert result["final_loss"] < 0.05


def test_train_digits_shows_progress_and_ends_with_accuracy_and_total_time():
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        result = load_example("train_digits").main(["--epochs", "3"])
    assert "3/3" in err.getvalue() and "epoch" in err.getvalue()  # tqdm's bar, on stderr
    last = out.getvalue().strip().splitlines()[-1]
    assert f"test accuracy {result['test_accuracy']:.2%}" in last
    assert re.search(r"total time \d+\.\d\d s", last)
    assert result["total_seconds"] >= result["seconds"] > 0


def test_custom_function_example_fits_sin_with_the_legendre_op():
    custom = load_example("custom_function")
    short, longer = custom.fit(steps=10), custom.fit(steps=300)
    assert longer["loss"] < short["loss"]
    # The torch tutorial's fit: y ~ -2.2 P3(0.255 x) after 2000 steps; 300 steps are well on the way.
    assert longer["b"] < -1.5 and 0.2 < longer["d"] < 0.3
