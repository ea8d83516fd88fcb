"""``Parameter``: a tensor that a ``Module`` registers as one of its learnable weights."""

from __future__ import annotations

from ..tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor that requires grad by default and shares the array of the tensor it wraps.

    Assigning a ``Parameter`` to an attribute of a ``Module`` registers it, so it shows up in
    ``module.parameters()`` and ``module.state_dict()``.
    """

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True) -> None:
        if data is None:
            from .._factories import empty

            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter(): argument 'data' must be Tensor, not {type(data).__name__}")
        super().__init__(data._data)  # no copy: the parameter and ``data`` share memory, as in torch
        self.requires_grad_(requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo: dict) -> Parameter:
        # As torch: a copy of the values, the same requires_grad, and no .grad.
        if id(self) not in memo:
            memo[id(self)] = Parameter(Tensor._wrap(self._data.copy()), self.requires_grad)
        return memo[id(self)]
