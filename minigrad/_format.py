"""torch-style printing of tensors: ``tensor([1.0000, 2.5000], requires_grad=True)``."""

from __future__ import annotations

from typing import Any

import numpy

from . import _backend, _dtype


def _format_array(a: numpy.ndarray) -> str:
    kwargs: dict[str, Any] = {"separator": ", ", "prefix": "tensor(", "threshold": 1000, "edgeitems": 3}
    if a.dtype.kind == "f":
        finite = a[numpy.isfinite(a)]
        whole = finite.size == 0 or bool(numpy.all(finite == numpy.round(finite)))
        big = finite.size and (numpy.abs(finite).max() >= 1e8 or 0 < numpy.abs(finite[finite != 0]).min(initial=1) < 1e-4)
        if whole and not big:
            kwargs["formatter"] = {"float_kind": lambda x: f"{x:.0f}." if numpy.isfinite(x) else str(x)}
        elif big:
            kwargs["formatter"] = {"float_kind": lambda x: f"{x:.4e}"}
        else:
            kwargs["formatter"] = {"float_kind": lambda x: f"{x:.4f}" if numpy.isfinite(x) else str(x)}
    elif a.dtype.kind == "b":
        kwargs["formatter"] = {"bool": lambda x: "True" if x else "False"}
    return numpy.array2string(a, **kwargs)


def tensor_repr(t: Any) -> str:
    a = _backend.to_host(t._data)
    body = _format_array(a)
    extras = []
    if t.device.type != "cpu":
        extras.append(f"device='{t.device}'")
    default_kinds = {_dtype.get_default_dtype().np, numpy.dtype(numpy.int64), numpy.dtype(numpy.bool_)}
    if a.dtype not in default_kinds or a.size == 0:
        extras.append(f"dtype={t.dtype!r}")
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        extras.append("requires_grad=True")
    return "tensor(" + body + "".join(", " + e for e in extras) + ")"
