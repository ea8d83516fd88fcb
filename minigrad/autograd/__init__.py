"""Reverse-mode automatic differentiation: ``Function``, ``backward`` and ``grad``, ``gradcheck``, and ``trace`` (watch
backward run node by node)."""

from . import functional
from .api import backward, grad
from .function import Function
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .graph import Node
from .trace import Trace, trace

FunctionCtx = Node

__all__ = ["Function", "FunctionCtx", "GradcheckError", "Node", "Trace", "backward", "functional", "grad", "gradcheck",
           "gradgradcheck", "trace"]
