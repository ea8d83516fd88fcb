"""Reverse-mode automatic differentiation: ``Function``, the backward engine and ``gradcheck``."""

from .function import Function, Node
from .gradcheck import GradcheckError, gradcheck

FunctionCtx = Node

__all__ = ["Function", "FunctionCtx", "GradcheckError", "Node", "gradcheck"]
