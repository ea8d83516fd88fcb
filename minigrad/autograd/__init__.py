"""Reverse-mode automatic differentiation: ``Function``, ``backward`` and ``grad``, ``gradcheck``."""

from . import functional
from .api import backward, grad
from .function import Function
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .graph import Node

FunctionCtx = Node

__all__ = ["Function", "FunctionCtx", "GradcheckError", "Node", "backward", "functional", "grad", "gradcheck",
           "gradgradcheck"]
