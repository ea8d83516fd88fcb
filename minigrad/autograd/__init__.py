"""Reverse-mode automatic differentiation: ``Function``, the backward engine and ``gradcheck``."""

from typing import Any

from .gradcheck import GradcheckError, gradcheck
from .graph import Node

FunctionCtx = Node

__all__ = ["Function", "FunctionCtx", "GradcheckError", "Node", "gradcheck"]


def __getattr__(name: str) -> Any:
    # minigrad/tensor.py imports the engine, which runs this file before Tensor exists; Function needs
    # Tensor, so it is imported on first use instead.
    if name == "Function":
        from .function import Function

        return Function
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
