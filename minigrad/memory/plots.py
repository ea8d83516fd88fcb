"""Pictures of ``summary()``'s figures: memory against the batch size, and over one training step.

    fig = minigrad.memory.plot_batch_sizes(model, (784,), [16, 64, 256], optimizers={"SGD": sgd, "Adam": adam})
    fig.savefig("memory_vs_batch.png")
    fig = minigrad.memory.plot_step(model, (64, 784), optimizer=adam)

Both return a ``matplotlib.figure.Figure`` (draw nothing on screen by themselves). matplotlib is
an optional dependency: it is imported only when a plot is made, and its absence is an
``ImportError`` that says how to install it. Each figure keeps the reports it was drawn from in
``fig.memory_reports``, so that what you see can be checked against the numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .report import MemoryReport
from .summary import _summarize
from .units import format_bytes

__all__ = ["plot_batch_sizes", "plot_step"]

# What the stacked bars are made of, bottom to top: (label, colour, figure of a report).
SEGMENTS: list[tuple[str, str, Callable[[MemoryReport], int]]] = [
    ("parameters", "tab:blue", lambda r: r.param_bytes),
    ("gradients", "tab:orange", lambda r: r.grad_bytes),
    ("optimizer state", "tab:green", lambda r: r.state_in_totals),
    ("activations", "tab:red", lambda r: r.activation_bytes),
    ("optimizer scratch", "tab:gray", lambda r: r.scratch_bytes or 0),
]


def _figure_class() -> Any:
    """matplotlib's ``Figure``, imported now: the rest of minigrad.memory does not need matplotlib.

    A ``Figure`` made directly, not through pyplot, is not kept by pyplot's list of open figures:
    making many costs nothing once they are dropped. ``fig.savefig()`` writes it; a notebook shows it.
    """
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError("minigrad.memory's plots need matplotlib, an optional dependency: "
                          "pip install matplotlib") from exc
    return Figure


def _bytes_axis(ax: Any) -> None:
    """Label the y axis in kB / MB, as the summary table does."""
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: format_bytes(int(v)) if v >= 0 else ""))
    ax.set_ylabel("memory")


def _named_optimizers(optimizers: Any) -> list[tuple[str, Any]]:
    """``(name, optimizer or None)`` pairs from None, one optimizer, a list of them, or a ``{name: optimizer}`` dict."""
    if optimizers is None:
        return [("no optimizer", None)]
    if isinstance(optimizers, Mapping):
        return list(optimizers.items())
    if isinstance(optimizers, (list, tuple)):
        return [(type(opt).__name__ if opt is not None else "no optimizer", opt) for opt in optimizers]
    return [(type(optimizers).__name__, optimizers)]


def plot_batch_sizes(model: Any, input_size: Sequence[int], batch_sizes: Sequence[int], optimizers: Any = None,
                     loss_fn: Callable[[Any], Any] | None = None, dtype: Any = None) -> Any:
    """A stacked bar chart of a training step's memory against the batch size, one panel per optimizer.

    ``input_size``: one sample's size, without the batch (``(784,)``); each bar is ``summary(model,
    (batch, *input_size), optimizer, loss_fn=loss_fn)``, stacked bottom to top as the parameters,
    their gradients, the optimizer state, the activations kept for backward and the optimizer's
    scratch in ``step()`` (0 when it is not known). Without scratch the bar is the training total,
    the course's sum; the marker above it is the predicted training step peak.
    ``optimizers``: None, an optimizer, a list of them, or ``{"name": optimizer}``.
    ``loss_fn`` is called on the model's output for every batch size, so it must make its target to
    fit: ``lambda out: F.cross_entropy(out, minigrad.zeros(out.shape[0], dtype=minigrad.int64))``.

    Only the activations grow with the batch: parameters, gradients and state are the same in every bar.
    """
    Figure = _figure_class()
    named = _named_optimizers(optimizers)
    batch_sizes = list(batch_sizes)
    fig = Figure(figsize=(4.5 * len(named), 4))
    axes = fig.subplots(1, len(named), sharey=True, squeeze=False)
    fig.memory_reports = {}
    for ax, (name, opt) in zip(axes[0], named):
        reports = [_summarize(model, (b, *input_size), opt, dtype, 0, loss_fn) for b in batch_sizes]
        for b, r in zip(batch_sizes, reports):
            fig.memory_reports[(name, b)] = r
        x = list(range(len(batch_sizes)))
        bottom = [0] * len(x)
        for label, colour, figure in SEGMENTS:
            heights = [figure(r) for r in reports]
            ax.bar(x, heights, bottom=bottom, color=colour, label=label, width=0.6)
            bottom = [b + h for b, h in zip(bottom, heights)]
        peaks = [r.step_peak for r in reports]
        ax.scatter(x, peaks, marker="_", s=600, color="black", zorder=3, label="training step peak")
        ax.set_xticks(x, [str(b) for b in batch_sizes])
        ax.set_xlabel("batch size")
        ax.set_title(name)
        _bytes_axis(ax)
    axes[0][0].legend(loc="upper left", fontsize="small")
    fig.suptitle(f"{type(model).__name__}: memory of a training step against the batch size")
    fig.tight_layout()
    return fig


def plot_step(model: Any, input_size: Sequence[int] | Sequence[Sequence[int]], optimizer: Any = None,
              loss_fn: Callable[[Any], Any] | None = None, dtype: Any = None) -> Any:
    """Memory over one training step: backward replayed node by node, then ``optimizer.step()``.

    ``input_size`` includes the batch, as for ``summary()``. The line is the running total of
    ``summary()``'s replay (minigrad/memory/timeline.py): at each node of backward, the parameters
    and optimizer state (there all along), the saved arrays of the nodes that have not run yet,
    the gradients in flight and the parameters' gradients made so far; the last point is
    ``step()``: all the gradients, what the caller holds (batch, output, loss) and the update's
    scratch. Its highest point is ``summary()``'s training step peak; the dashed line is the
    training total, the course's sum, which need not be reached (or may be passed).
    """
    Figure = _figure_class()
    trace: list[tuple[str, int]] = []
    r = _summarize(model, input_size, optimizer, dtype, 0, loss_fn, trace)
    always = r.param_bytes + (r.state_in_totals if optimizer is not None else 0)
    labels = [name for name, _ in trace] + ["step()"]
    values = [always + alive for _, alive in trace]
    values.append(always + r.grad_bytes + r.held_bytes + (r.scratch_bytes or 0))
    x = list(range(len(values)))

    fig = Figure(figsize=(max(6.0, min(14.0, 0.35 * len(x))), 4))
    ax = fig.subplots()
    fig.memory_reports = {"step": r}
    ax.axhspan(0, always, color="tab:blue", alpha=0.15,
               label="parameters" + (" + optimizer state" if optimizer is not None else ""))
    ax.axvspan(len(x) - 1.5, len(x) - 0.5, color="tab:green", alpha=0.1, label="optimizer.step()")
    ax.step(x, values, where="mid", color="black", label="alive (predicted)")
    ax.plot(x, values, "o", color="black", markersize=3)
    top = max(range(len(values)), key=values.__getitem__)
    ax.annotate(f"peak {format_bytes(values[top])}", (top, values[top]), textcoords="offset points",
                xytext=(0, 6), ha="center", fontsize="small")
    total = r.training_total
    ax.axhline(total, color="tab:red", linestyle="--", label=f"training total {format_bytes(total)}")
    if len(x) <= 40:  # a name per point while they can be read
        ax.set_xticks(x, labels, rotation=60, ha="right", fontsize="x-small")
    ax.set_xlabel("backward, node by node (the order the engine runs them), then step()")
    ax.set_ylim(0, max(max(values), r.training_total) * 1.12)
    _bytes_axis(ax)
    ax.legend(loc="lower left", fontsize="small")
    what = r.optimizer or "no optimizer"
    ax.set_title(f"memory during one training step\n{r.model_type}, input {r.input_size}, {what}", fontsize="medium")
    fig.tight_layout()
    return fig
