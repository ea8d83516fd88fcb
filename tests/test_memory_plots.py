"""minigrad.memory's plots: what they draw equals summary()'s figures."""

import builtins
import sys

import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.memory import plot_batch_sizes, plot_step, summary
from minigrad.memory.plots import SEGMENTS

pytest.importorskip("matplotlib")


def model_and_loss():
    minigrad.manual_seed(0)
    model = nn.Sequential(nn.Linear(12, 16), nn.Tanh(), nn.Linear(16, 4))
    return model, lambda out: F.cross_entropy(out, minigrad.zeros(out.shape[0], dtype=minigrad.int64))


def test_bars_are_the_summary_figures_stacked():
    model, loss_fn = model_and_loss()
    sgd, adam = minigrad.optim.SGD(model.parameters(), lr=0.1), minigrad.optim.Adam(model.parameters())
    batches = [1, 32, 200]
    fig = plot_batch_sizes(model, (12,), batches, optimizers={"SGD": sgd, "Adam": adam}, loss_fn=loss_fn)
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == ["SGD", "Adam"]
    for ax, opt in zip(axes, (sgd, adam)):
        reports = [summary(model, (b, 12), optimizer=opt, loss_fn=loss_fn) for b in batches]
        assert [c.get_label() for c in ax.containers] == [label for label, _, _ in SEGMENTS]
        for container, (_, _, figure) in zip(ax.containers, SEGMENTS):
            assert [patch.get_height() for patch in container] == [figure(r) for r in reports]
        tops = [sum(c[i].get_height() for c in ax.containers) for i in range(len(batches))]
        assert tops == [r.training_total + r.scratch_bytes for r in reports]
        assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "32", "200"]
    # the figures behind the drawing, kept with it
    assert fig.memory_reports[("Adam", 32)].state_bytes == summary(model, (32, 12), optimizer=adam).state_bytes


def test_bars_without_an_optimizer_have_no_state_and_no_scratch():
    model, _ = model_and_loss()
    fig = plot_batch_sizes(model, (12,), [4, 8])
    (ax,) = fig.axes
    heights = {c.get_label(): [p.get_height() for p in c] for c in ax.containers}
    assert heights["optimizer state"] == heights["optimizer scratch"] == [0, 0]
    assert heights["activations"] == [summary(model, (b, 12)).activation_bytes for b in (4, 8)]


@pytest.mark.parametrize("make", [None, lambda p: minigrad.optim.SGD(p, lr=0.1, momentum=0.9), minigrad.optim.Adam])
@pytest.mark.parametrize("batch", [1, 64])
def test_step_plot_peaks_at_the_training_step_peak(make, batch):
    model, loss_fn = model_and_loss()
    opt = make(model.parameters()) if make is not None else None
    fig = plot_step(model, (batch, 12), optimizer=opt, loss_fn=loss_fn)
    report = summary(model, (batch, 12), optimizer=opt, loss_fn=loss_fn)
    (ax,) = fig.axes
    line = next(line for line in ax.get_lines() if line.get_label() == "alive (predicted)")
    values = list(line.get_ydata())
    assert max(values) == report.step_peak
    assert values[-1] == report.update_peak if opt is not None else values[-1] <= report.step_peak
    # before backward: parameters (and state), the saved activations, the batch, the output, the loss
    assert values[0] >= report.param_bytes + report.activation_bytes
    assert [t.get_text() for t in ax.get_xticklabels()][-1] == "step()"


def test_without_matplotlib_the_error_says_how_to_install_it(monkeypatch):
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    for name in [m for m in sys.modules if m.startswith("matplotlib")]:
        monkeypatch.delitem(sys.modules, name)
    model, _ = model_and_loss()
    with pytest.raises(ImportError, match="pip install matplotlib"):
        plot_step(model, (2, 12))
    assert "matplotlib" not in sys.modules  # importing minigrad.memory did not need it either


def test_report_html_is_a_table_of_the_same_figures():
    model, loss_fn = model_and_loss()
    report = summary(model, (8, 12), optimizer=minigrad.optim.Adam(model.parameters()), loss_fn=loss_fn)
    page = report._repr_html_()
    assert page.startswith('<div class="minigrad-memory-report"><table>') and page.endswith("</ul></div>")
    assert page.count("<tr>") == len(report.rows) + 1 + page.count("<tr><td style=\"text-align:left\">")
    for text in ("Layer (type)", "0 (Linear)", "1 (Tanh)", "Training step peak (alive at once)",
                 "Optimizer state (Adam)", "Training vs bare parameters"):
        assert text in page
    assert "&lt;" in summary(nn.Sequential(nn.Linear(5, 8), nn.Linear(8, 4), nn.Linear(4, 2)), (1, 5),
                             loss_fn=lambda out: F.mse_loss(out, minigrad.zeros(1, 2)))._repr_html_()  # "Step peak <"
