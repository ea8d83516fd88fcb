"""The error for a torch name minigrad does not have, pointing at the page that lists what it has."""

from __future__ import annotations

from ._torch_names import TORCH_TENSOR_NAMES

_TORCH_NAMES = {"minigrad": "torch"}


def missing_attribute(module_name: str, name: str) -> AttributeError:
    """``AttributeError`` for ``module_name.name``, worded as Python's (and torch's) for a module, plus
    the torch name and where the supported API is listed.

    Use as a module's ``__getattr__``: ``def __getattr__(name): raise missing_attribute(__name__, name)``.
    """
    torch_module = _TORCH_NAMES.get(module_name)
    if torch_module is None:
        torch_module = "torch" + module_name[len("minigrad"):] if module_name.startswith("minigrad.") else module_name
    error = AttributeError(f"module {module_name!r} has no attribute {name!r}; minigrad has no {name!r} "
                           f"({torch_module}.{name}); see docs/api.md")
    error.name = name
    return error


class MissingTorchName:
    """A ``torch.Tensor`` name minigrad lacks, set on ``Tensor``: reading it raises the error that names
    torch's method and the page of supported names, where Python would raise a bare ``AttributeError``.

    A non-data descriptor per missing name rather than a ``Tensor.__getattr__``: CPython stops
    specializing attribute reads on a class with ``__getattr__``, which slows every ``t._data`` of a
    training step by a few percent; a class attribute costs the names that exist nothing.
    """

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, instance: object, owner: type | None = None) -> None:
        where = f"type object {owner.__name__!r}" if instance is None else f"{type(instance).__name__!r} object"
        error = AttributeError(f"{where} has no attribute {self.name!r}; minigrad has no {self.name!r} "
                               f"(torch.Tensor.{self.name}); see docs/api.md")
        error.name, error.obj = self.name, owner if instance is None else instance
        raise error


def mark_missing_tensor_names(cls: type) -> type:
    """Class decorator: a ``MissingTorchName`` for each public ``torch.Tensor`` name ``cls`` lacks."""
    for name in TORCH_TENSOR_NAMES:
        if not hasattr(cls, name):
            setattr(cls, name, MissingTorchName(name))
    return cls


def is_missing(obj: object) -> bool:
    """Whether a class attribute (as ``inspect.getattr_static`` finds it) stands for a name minigrad lacks."""
    return isinstance(obj, MissingTorchName)
