"""Reverse-mode automatic differentiation: ``Function``, ``backward`` and ``grad``, ``gradcheck``, and ``trace`` (watch
backward run node by node)."""

from .._grad_mode import enable_grad, inference_mode, no_grad, set_grad_enabled
from . import anomaly_mode, functional
from .anomaly_mode import detect_anomaly, set_detect_anomaly
from .api import backward, grad
from .function import Function
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .graph import Node
from .trace import Trace, trace

FunctionCtx = Node

__all__ = ["Function", "FunctionCtx", "GradcheckError", "Node", "Trace", "anomaly_mode", "backward", "detect_anomaly",
           "enable_grad", "functional", "grad", "gradcheck", "gradgradcheck", "inference_mode", "no_grad",
           "set_detect_anomaly", "set_grad_enabled", "trace"]

