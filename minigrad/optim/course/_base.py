"""What every course optimizer shares: the list of weights and ``zero_grad()``."""

from __future__ import annotations

from typing import Any


class CourseOptimizer:
    """Holds the weights ``w`` (minigrad tensors with ``requires_grad=True``); subclasses add ``step()``."""

    def __init__(self, params: Any) -> None:
        self.params = list(params)  # a generator such as model.parameters() can be read only once
        if not self.params:
            raise ValueError("optimizer got an empty parameter list")

    def zero_grad(self) -> None:
        """Forget the gradients before the next ``backward()``. The course says they are "zeroed";
        torch 2.x sets them to None (the memory is freed), and so does this."""
        for w in self.params:
            w.grad = None
