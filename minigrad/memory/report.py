"""``MemoryReport``: what ``summary()`` found, as numbers (``to_dict()``), a table (``str()``) and HTML (notebooks)."""

from __future__ import annotations

import html
import math
from dataclasses import asdict, dataclass, field

from .units import format_bytes


@dataclass
class ModuleRow:
    """One module of the summary. Byte counts are this module's own (not its children's)."""

    name: str
    type: str
    depth: int
    output_shape: list | None  # None when the forward pass did not call this module
    params: int
    param_bytes: int
    grad_bytes: int
    state_bytes: int | None  # optimizer state: predicted, or the real one for a state the optimizer does not describe
    activation_bytes: int
    has_children: bool = False


@dataclass
class MemoryReport:
    """What ``summary()`` returns: ``rows`` per module, totals, ``str()`` a table, ``to_dict()``."""

    model_type: str
    input_size: list
    batch_size: int
    dtype: str
    rows: list[ModuleRow]
    param_count: int
    trainable_count: int
    param_bytes: int
    grad_bytes: int
    activation_bytes: int  # everything the graph keeps for backward, the loss included
    loss_activation_bytes: int  # the part kept by loss_fn's ops
    input_bytes: int
    inference_activation_peak: int
    optimizer: str | None = None
    state_bytes: int | None = None  # predicted, from the optimizer's state_specs()
    # False for an optimizer with its own step() and no state_specs(): nothing describes its state, so
    # the totals count its real state (state_bytes_measured), once it has made it.
    state_predicted: bool = True
    state_full_size_bytes: int | None = None  # only the state tensors as large as their parameter
    state_bytes_measured: int | None = None  # from the optimizer's real state, when it has any
    state_bytes_allocated: int | None = None  # the arrays holding that state (foreach's flat arrays add padding)
    scratch_bytes: int | None = None  # temporary arrays of one step(), freed before it returns; None: not known
    backward_peak: int = 0  # besides parameters and state: see timeline.py
    held_bytes: int = 0  # what the caller holds through the step: the batch, the output, the loss
    update_peak: int | None = None  # predicted peak during optimizer.step(), everything included
    step_peak: int | None = None  # predicted peak of one training step (see summary()'s docstring)
    first_step_peak: int | None = None  # the first step, when the optimizer has not run yet
    linear_shapes: list = field(default_factory=list)  # (in_features, out_features, has a bias) per Linear
    activation_bytes_by_dtype: dict = field(default_factory=dict)  # dtype name -> bytes (autocast mixes them)

    # -- totals ---------------------------------------------------------------------------
    @property
    def state_in_totals(self) -> int:
        """The optimizer state the totals count: the prediction, or the real state where there is none."""
        if self.state_predicted:
            return self.state_bytes or 0
        return self.state_bytes_measured or 0

    @property
    def inference_total(self) -> int:
        """Parameters plus the most activation memory alive at once when each layer's input is freed after it."""
        return self.param_bytes + self.inference_activation_peak

    @property
    def training_total(self) -> int:
        """Parameters + gradients + optimizer state + every activation saved for backward, all at once."""
        return self.param_bytes + self.grad_bytes + self.state_in_totals + self.activation_bytes

    @property
    def multiplier(self) -> float:
        """(parameters + gradients + optimizer state) / parameters: the course's 2x, 3x, 4x."""
        return (self.param_bytes + self.grad_bytes + self.state_in_totals) / self.param_bytes

    def to_dict(self) -> dict:
        d = asdict(self)
        d.update(state_in_totals=self.state_in_totals, inference_total=self.inference_total,
                 training_total=self.training_total, multiplier=self.multiplier)
        return d

    def __str__(self) -> str:
        return _render(self)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        """The same table as ``str()``, in HTML: what Jupyter shows for a report at the end of a cell."""
        return _render_html(self)


# -- the table --------------------------------------------------------------------------------


_HEAD = ["Layer (type)", "Output shape", "Param #", "Params", "Grads", "Optim state", "Activations"]
# Named so that it does not read as a bound on the training total: it is the most alive at one moment.
STEP_PEAK_LABEL = "Training step peak (alive at once)"


def _module_cells(r: MemoryReport) -> list[list[str]]:
    """One row of cells per module, indented by depth; "--" where a figure does not apply."""
    body = []
    for row in r.rows:
        label = r.model_type if row.depth == 0 else f"{row.name} ({row.type})"
        no_params = row.params == 0  # parameter-free layers and containers (their children hold them)
        dash = "--"
        body.append([
            "  " * row.depth + label,
            dash if row.output_shape is None else str(row.output_shape),
            dash if no_params else f"{row.params:,}",
            dash if no_params else format_bytes(row.param_bytes),
            dash if no_params else format_bytes(row.grad_bytes),
            dash if no_params or row.state_bytes is None else format_bytes(row.state_bytes),
            dash if row.has_children and row.activation_bytes == 0 else format_bytes(row.activation_bytes),
        ])
    return body


def _total_items(r: MemoryReport) -> list[tuple[str, str, str]]:
    """(label, value, note) of each total under the table."""
    p = r.param_bytes
    items = [("Parameters", format_bytes(p), "1x"),
             ("Gradients", format_bytes(r.grad_bytes), _times(r.grad_bytes / p))]
    if r.optimizer is not None:
        state = r.state_in_totals
        note = _times(state / p)
        if not r.state_predicted:
            why = f"not predicted: {r.optimizer} has its own step() and no state_specs()"
            note += f", measured ({why})" if r.state_bytes_measured is not None else f" ({why}; step it to measure)"
        elif r.state_bytes_measured is not None:
            same = r.state_bytes_measured == r.state_bytes
            note += ", measured: " + ("the same" if same else f"{format_bytes(r.state_bytes_measured)} (differs)")
        if r.state_bytes_allocated is not None and r.state_bytes_allocated != r.state_bytes_measured:
            note += f", in arrays of {format_bytes(r.state_bytes_allocated)}"
        items.append((f"Optimizer state ({r.optimizer})", format_bytes(state), note))
    items.append(("Activations kept for backward", format_bytes(r.activation_bytes), f"batch of {r.batch_size}"))
    if r.loss_activation_bytes:
        items.append(("  of which by the loss", format_bytes(r.loss_activation_bytes), ""))
    if sum(name.startswith("float") for name in r.activation_bytes_by_dtype) > 1:  # autocast: float16 and float32
        for name, nbytes in sorted(r.activation_bytes_by_dtype.items()):
            items.append((f"  of which {name}", format_bytes(nbytes), ""))
    items.append(("Inference total", format_bytes(r.inference_total), "params + peak of live activations"))
    items.append(("Training total", format_bytes(r.training_total), "params + grads + state + activations"))
    if r.optimizer is not None:
        if r.scratch_bytes is None:
            items.append(("Optimizer scratch per step", "?", f"not predicted: {r.optimizer} has its own step()"))
        else:
            items.append(("Optimizer scratch per step", format_bytes(r.scratch_bytes), "during step() only"))
    if r.step_peak is not None:
        phases = "the larger of backward and step()" if r.optimizer is not None else "backward (no optimizer given)"
        items.append((STEP_PEAK_LABEL, format_bytes(r.step_peak), f"predicted: {phases}"))
    if r.first_step_peak is not None:
        items.append(("First step peak", format_bytes(r.first_step_peak), "predicted"))
    return items


def _footer(r: MemoryReport) -> list[str]:
    """The multiplier line and the notes."""
    p = r.param_bytes
    parts = f"params 1x + grads {_times(r.grad_bytes / p)}"
    if r.optimizer is not None:
        parts += f" + state {_times(r.state_in_totals / p)}"
    out = [f"Training vs bare parameters: {_times(r.multiplier)} ({parts}), activations on top"]
    if any(row.activation_bytes == 0 and row.params and not row.has_children for row in r.rows):
        out.append("Activations: a buffer kept by two layers is counted once, at the first (0 B: already counted)")
    out.extend(_notes(r))
    return out


def _render(r: MemoryReport) -> str:
    head, body = _HEAD, _module_cells(r)
    widths = [max(len(x) for x in col) for col in zip(head, *body)]

    def line(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(cells[1:], widths[1:])]
        return "  ".join([first, *rest]).rstrip()

    width = len(line(head))
    bar, thin = "=" * width, "-" * width
    out = [bar, line(head), bar, *(line(b) for b in body), bar]

    untrained = r.param_count - r.trainable_count
    out.append(f"Total params: {r.param_count:,}" + (f" ({untrained:,} not trainable)" if untrained else ""))
    out.append(f"Input: {r.input_size} {r.dtype} = {format_bytes(r.input_bytes)}")
    out.append(thin)
    items = _total_items(r)
    label_w = max(len(label) for label, _, _ in items)
    value_w = max(len(value) for _, value, _ in items)
    for label, value, note in items:
        out.append(f"{label.ljust(label_w)}  {value.rjust(value_w)}  {note}".rstrip())
    out.append(thin)
    out.extend(_footer(r))
    out.append(bar)
    return "\n".join(out)


def _render_html(r: MemoryReport) -> str:
    """Two HTML tables, modules then totals, and the notes: the text table's content, for notebooks."""
    esc = html.escape
    right = ' style="text-align:right"'
    rows = []
    for cells in _module_cells(r):
        indent = (len(cells[0]) - len(cells[0].lstrip(" "))) // 2
        first = f'<td style="text-align:left;padding-left:{1.5 * indent:g}em">{esc(cells[0].strip())}</td>'
        rows.append("<tr>" + first + "".join(f"<td{right}>{esc(c)}</td>" for c in cells[1:]) + "</tr>")
    head = "".join(f"<th{right if i else ''}>{esc(h)}</th>" for i, h in enumerate(_HEAD))
    untrained = r.param_count - r.trainable_count
    caption = (f"{esc(r.model_type)}: {r.param_count:,} params"
               + (f" ({untrained:,} not trainable)" if untrained else "")
               + f", input {esc(str(r.input_size))} {esc(r.dtype)} = {esc(format_bytes(r.input_bytes))}")
    modules = (f"<table><caption>{caption}</caption><thead><tr>{head}</tr></thead>"
               f"<tbody>{''.join(rows)}</tbody></table>")
    totals = "".join(
        f'<tr><td style="text-align:left">{"&emsp;" if label.startswith(" ") else ""}{esc(label.strip())}</td>'
        f'<td{right}><b>{esc(value)}</b></td><td style="text-align:left">{esc(note)}</td></tr>'
        for label, value, note in _total_items(r))
    lines: list[str] = []
    for line in _footer(r):  # an indented line goes on with the note above it
        if line.startswith("  ") and lines:
            lines[-1] += " " + line.strip()
        else:
            lines.append(line)
    notes = "".join(f"<li>{esc(line)}</li>" for line in lines)
    return (f'<div class="minigrad-memory-report">{modules}'
            f"<table><tbody>{totals}</tbody></table><ul>{notes}</ul></div>")


# The course's two-layer example, which leaves out the second layer's bias (40 parameters, 160 B).
_COURSE_TWO_LAYERS = [(8, 4, True), (4, 1, True)]


def _notes(r: MemoryReport) -> list[str]:
    """Where the table's figures part from the course's: they are surprises when met without a word."""
    notes = []
    if any(bias for _, _, bias in r.linear_shapes):
        notes.append("Param #: a Linear(n, k) counts its bias too, n x k + k values, as torch does")
    if r.linear_shapes == _COURSE_TWO_LAYERS:
        notes.append("  the course counts this model as 40 params (160 B): it leaves out the second Linear's "
                     "bias; Linear(4, 1, bias=False) is its model")
    if r.step_peak is not None and r.step_peak < r.training_total:
        notes.append("Step peak < training total is expected here: the total adds everything up as if all alive "
                     "at once; the peak")
        notes.append("  is the most alive at one moment: backward frees each layer's saved arrays before the first "
                     "layers' grads exist")
    notes.append("Each figure: help(minigrad.memory.summary)")
    return notes


def _times(x: float) -> str:
    return f"{round(x)}x" if math.isclose(x, round(x)) else f"{x:.2f}x"
