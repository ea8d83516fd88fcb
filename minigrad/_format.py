"""torch-style printing of tensors: ``tensor([1.0000, 2.5000], requires_grad=True)``.

This follows torch's ``_tensor_str`` with its print options (by default precision 4,
threshold 1000, edgeitems 3, linewidth 80; ``set_printoptions`` changes them): one formatter per tensor picks integer,
fixed or scientific notation from the finite nonzero values and pads every element to
a common width, so columns line up as in torch (``tensor([ 2.,  6., 12.])``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy

from . import _backend, _dtype

PRECISION = 4
THRESHOLD = 1000  # more elements than this: print only the edges
EDGEITEMS = 3
LINEWIDTH = 80
SCI_MODE = None  # None: the formatter chooses; True or False forces scientific notation on or off


def set_printoptions(precision: int | None = None, threshold: float | None = None, edgeitems: int | None = None,
                     linewidth: int | None = None, profile: str | None = None, sci_mode: bool | None = None) -> None:
    """torch's ``set_printoptions``: a profile first, then any option given; ``sci_mode`` is always set."""
    global PRECISION, THRESHOLD, EDGEITEMS, LINEWIDTH, SCI_MODE
    if profile is not None:
        # torch ignores a profile name it does not know
        if profile == "default":
            PRECISION, THRESHOLD, EDGEITEMS, LINEWIDTH = 4, 1000, 3, 80
        elif profile == "short":
            PRECISION, THRESHOLD, EDGEITEMS, LINEWIDTH = 2, 1000, 2, 80
        elif profile == "full":
            PRECISION, THRESHOLD, EDGEITEMS, LINEWIDTH = 4, math.inf, 3, 80
    if precision is not None:
        PRECISION = precision
    if threshold is not None:
        THRESHOLD = threshold
    if edgeitems is not None:
        EDGEITEMS = edgeitems
    if linewidth is not None:
        LINEWIDTH = linewidth
    SCI_MODE = sci_mode  # torch resets it to None on every call that does not pass it


class _Formatter:
    """How to print every element of one tensor: a notation and a common width."""

    def __init__(self, a: numpy.ndarray) -> None:
        self.floating = a.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = a.reshape(-1)
        if not self.floating:
            for value in flat.tolist():
                self.max_width = max(self.max_width, len(f"{value}"))
            return
        values = flat[numpy.isfinite(flat) & (flat != 0)]
        if values.size == 0:
            return
        magnitudes = numpy.abs(values).astype(numpy.float64)  # float16 overflows with 1e8
        lo, hi = magnitudes.min(), magnitudes.max()
        self.int_mode = bool((values == numpy.ceil(values)).all())
        self.sci_mode = bool(hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4) if SCI_MODE is None else SCI_MODE
        for value in values.tolist():
            if self.sci_mode:
                width = len(f"{value:.{PRECISION}e}")
            elif self.int_mode:
                width = len(f"{value:.0f}") + 1  # the trailing "." that marks a float
            else:
                width = len(f"{value:.{PRECISION}f}")
            self.max_width = max(self.max_width, width)

    def format(self, value: Any) -> str:
        if self.floating:
            if self.sci_mode:
                ret = f"{value:{self.max_width}.{PRECISION}e}"
            elif self.int_mode:
                ret = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    ret += "."
            else:
                ret = f"{value:.{PRECISION}f}"
        else:
            ret = f"{value}"
        return (self.max_width - len(ret)) * " " + ret


def _summarized(a: numpy.ndarray) -> numpy.ndarray:
    """The elements that will be printed once the middle of every long dim is replaced by '...'."""
    if a.ndim == 0:
        return a
    if a.ndim == 1:
        return numpy.concatenate((a[:EDGEITEMS], a[-EDGEITEMS:])) if a.shape[0] > 2 * EDGEITEMS else a
    rows = range(a.shape[0])
    if a.shape[0] > 2 * EDGEITEMS:
        rows = [*range(EDGEITEMS), *range(a.shape[0] - EDGEITEMS, a.shape[0])]
    return numpy.stack([_summarized(a[i]) for i in rows])


def _vector_str(a: numpy.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    element_length = fmt.max_width + 2  # with the ", " between elements
    per_line = max(1, math.floor((LINEWIDTH - indent) / element_length))
    if summarize and a.shape[0] > 2 * EDGEITEMS:
        data = ([fmt.format(v) for v in a[:EDGEITEMS].tolist()] + [" ..."]
                + [fmt.format(v) for v in a[-EDGEITEMS:].tolist()])
    else:
        data = [fmt.format(v) for v in a.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _array_str(a: numpy.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    # Recursion depth is the number of dims, not the size of any graph.
    if a.ndim == 0:
        return fmt.format(a.item())
    if a.ndim == 1:
        return _vector_str(a, indent, summarize, fmt)
    if summarize and a.shape[0] > 2 * EDGEITEMS:
        slices = ([_array_str(a[i], indent + 1, summarize, fmt) for i in range(EDGEITEMS)] + ["..."]
                  + [_array_str(a[i], indent + 1, summarize, fmt) for i in range(a.shape[0] - EDGEITEMS, a.shape[0])])
    else:
        slices = [_array_str(a[i], indent + 1, summarize, fmt) for i in range(a.shape[0])]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(slices) + "]"


def _add_suffixes(text: str, suffixes: list, indent: int) -> str:
    """Append ", suffix" items, starting a new line where the current one would pass the line width."""
    parts = [text]
    last_line_len = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > LINEWIDTH:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def tensor_repr(t: Any) -> str:
    prefix = "tensor("
    indent = len(prefix)
    a = _backend.to_host(t._data)
    suffixes = []
    if t.device.type != "cpu":
        suffixes.append(f"device='{t.device}'")
    default = _dtype.get_default_dtype().np
    if a.size == 0:
        if a.ndim != 1:
            suffixes.append(f"size={tuple(a.shape)}")
        if a.dtype != default:  # nothing to tell an int64 from a float tensor: always named
            suffixes.append(f"dtype={t.dtype!r}")
        body = "[]"
    else:
        if a.dtype not in (default, numpy.dtype(numpy.int64), numpy.dtype(numpy.bool_)):
            suffixes.append(f"dtype={t.dtype!r}")
        summarize = a.size > THRESHOLD
        fmt = _Formatter(_summarized(a) if summarize else a)
        body = _array_str(a, indent, summarize, fmt)
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, indent)


def tensor_format(t: Any, spec: str) -> str:
    """torch's ``Tensor.__format__``: a 0-dim tensor formats as its Python number, others only with no spec."""
    if t._data.ndim == 0:
        return format(t.detach().item(), spec)
    return object.__format__(t, spec)  # str(t) for "", torch's TypeError for any other spec
