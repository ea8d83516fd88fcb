"""``RemovableHandle``: what registering a hook returns; ``handle.remove()`` unregisters it."""

from __future__ import annotations

import itertools
import weakref
from collections import OrderedDict
from typing import Any


class RemovableHandle:
    _ids = itertools.count()

    def __init__(self, hooks_dict: OrderedDict) -> None:
        # A weak reference: a handle kept by the user must not keep a deleted module's hooks alive.
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = next(RemovableHandle._ids)

    def remove(self) -> None:
        hooks_dict = self.hooks_dict_ref()
        if hooks_dict is not None and self.id in hooks_dict:
            del hooks_dict[self.id]

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()
