"""The error for a torch name minigrad does not have, pointing at the page that lists what it has."""

from __future__ import annotations

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
