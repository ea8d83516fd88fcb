"""Anomaly detection, as torch's ``torch.autograd.detect_anomaly``: a debugging mode for NaN gradients.

While it is on, every recorded op keeps the stack of the forward call that made it, and backward
checks what each node returns: a node whose gradients hold a NaN raises ``RuntimeError: Function
'DivBackward0' returned nan values in its 1th output.``, and any error inside a node's backward is
preceded by a warning that shows where that node's forward was called::

    with minigrad.autograd.detect_anomaly():
        loss = model(x).sum()
        loss.backward()   # names the op whose backward made the first NaN, and the line that ran it

The switch is process-wide, as torch's. Off, it costs one flag read per op recorded and one per
backward call; on, it is slow (a stack per op, a NaN scan per gradient), so it is for debugging only.
"""

from __future__ import annotations

import os
import traceback
import warnings
from collections.abc import Callable
from typing import Any

enabled = False  # read directly by Function.apply and the engine: a plain flag costs the least
check_nan = True

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # minigrad/: its frames are left out


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on."""
    return enabled


def is_anomaly_check_nan_enabled() -> bool:
    """Whether anomaly detection, when on, checks the gradients for NaN."""
    return check_nan


def _set(mode: bool, nan: bool) -> None:
    global enabled, check_nan
    enabled, check_nan = bool(mode), bool(nan)


class set_detect_anomaly:
    """Switch anomaly detection on or off: as a call (``set_detect_anomaly(True)``) it stays so, as a context
    manager (``with set_detect_anomaly(True):``) it is put back on leaving the block."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self.prev = (enabled, is_anomaly_check_nan_enabled())  # (the parameter hides the module's flag)
        _set(mode, check_nan)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: Any) -> None:
        _set(*self.prev)


class detect_anomaly:
    """Within the block, anomaly detection is on (see the module's docstring); it warns that it is slow."""

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime and should only be "
                      "enabled for debugging.", UserWarning, stacklevel=2)

    def __enter__(self) -> None:
        self.prev = (enabled, check_nan)
        _set(True, self.check_nan)

    def __exit__(self, *exc: Any) -> None:
        _set(*self.prev)


def forward_stack() -> list[str]:
    """The frames of the current call stack outside minigrad: where the user called the op being recorded."""
    frames = [f for f in traceback.extract_stack() if not os.path.abspath(f.filename).startswith(_PACKAGE + os.sep)]
    return traceback.format_list(frames)


def _has_nan(g: Any) -> bool:
    array = getattr(g, "_data", g)  # a tensor under create_graph
    return array.dtype.kind in "fc" and bool((array != array).any())


def checked(run_node: Callable) -> Callable:
    """``run_node`` (the engine's step that runs one node's backward) with anomaly detection's checks."""
    nan = check_nan

    def run(node: Any, *args: Any) -> tuple:
        try:
            grads, out = run_node(node, *args)
            if nan:
                for i, g in enumerate(out):
                    if g is not None and _has_nan(g):
                        raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.")
        except Exception:
            if node.forward_stack is not None:
                warnings.warn(f"Error detected in {node.name()}. Traceback of forward call that caused the error:\n"
                              + "".join(node.forward_stack), UserWarning, stacklevel=2)
            raise
        return grads, out

    return run
