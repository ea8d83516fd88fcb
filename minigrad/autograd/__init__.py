"""Reverse-mode automatic differentiation: ``Function``, the backward engine and ``gradcheck``."""

from .function import Function
from .gradcheck import GradcheckError, gradcheck
from .graph import Node

FunctionCtx = Node

__all__ = ["Function", "FunctionCtx", "GradcheckError", "Node", "gradcheck"]
