"""Whether operations are recorded for backward: a context variable, so threads don't interfere."""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable
from typing import Any

_enabled = contextvars.ContextVar("minigrad_grad_enabled", default=True)


def is_grad_enabled() -> bool:
    return _enabled.get()


class _GradMode:
    """Base of no_grad / enable_grad / set_grad_enabled: a context manager and a decorator."""

    _mode = True

    def __new__(cls, *args: Any) -> Any:
        self = super().__new__(cls)
        if len(args) == 1 and callable(args[0]):  # used bare, as ``@no_grad`` (torch allows it)
            return self(args[0])
        return self

    def __enter__(self) -> None:
        self._token = _enabled.set(self._mode)

    def __exit__(self, *exc: Any) -> None:
        _enabled.reset(self._token)

    def __call__(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):
    """Record nothing inside: results have ``requires_grad=False``."""

    _mode = False


class enable_grad(_GradMode):
    _mode = True


class set_grad_enabled(_GradMode):
    def __init__(self, mode: bool) -> None:
        self._mode = bool(mode)
        self._token = _enabled.set(self._mode)  # like torch, it also works as a plain call

    def __enter__(self) -> None:
        pass

    def __call__(self, fn: Callable) -> Callable:
        mode = self._mode

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            token = _enabled.set(mode)
            try:
                return fn(*args, **kwargs)
            finally:
                _enabled.reset(token)

        return wrapper


class inference_mode(_GradMode):
    """torch's inference_mode, as no_grad: minigrad has no inference tensors, only grad mode to switch off.

    ``inference_mode(False)`` turns recording on, as torch's does (even inside ``no_grad``).

    Differs from torch: it only switches recording off, as ``no_grad`` does, so tensors made inside are ordinary
    tensors (no ``is_inference()``) that autograd may use later, where torch refuses inference tensors.
    """

    def __new__(cls, mode: bool = True) -> Any:
        self = object.__new__(cls)
        if not isinstance(mode, bool) and callable(mode):  # used bare, as ``@inference_mode``
            self._mode = False
            return self(mode)
        self._mode = not mode
        return self

    def __init__(self, mode: bool = True) -> None:
        pass

    def __call__(self, fn: Callable) -> Callable:
        grad = self._mode

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with set_grad_enabled(grad):
                return fn(*args, **kwargs)

        return wrapper
