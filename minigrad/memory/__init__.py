"""Memory introspection: what a network costs, per module, predicted and measured.

* ``param_count(model)``, ``param_bytes(model)``: the course's sizeof(type) x (n x k + k);
* ``summary(model, input_size, optimizer)``: a torchinfo-like table of parameters,
  gradients, optimizer state and the activations the graph really keeps for backward,
  and the predicted peak of a training step;
* ``measure()``: a context manager reporting the peak and current array memory of a block;
* ``plot_batch_sizes()``, ``plot_step()``: matplotlib figures of the summary's figures (matplotlib
  is imported only then).

docs/memory.md explains the figures and where the course's rules of thumb come from.
"""

from .activations import saved_bytes
from .measure import Measurement, measure
from .optimizer_state import measure_state, predict_state
from .plots import plot_batch_sizes, plot_step
from .report import MemoryReport, ModuleRow
from .summary import param_bytes, param_count, summary
from .units import format_bytes

__all__ = ["Measurement", "MemoryReport", "ModuleRow", "format_bytes", "measure", "measure_state", "param_bytes",
           "param_count", "plot_batch_sizes", "plot_step", "predict_state", "saved_bytes", "summary"]
