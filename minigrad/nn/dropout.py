"""``Dropout``: during training, zero each element with probability ``p`` and scale the rest by 1/(1-p);
``AlphaDropout``, its variant for SELU networks."""

from __future__ import annotations

from ..tensor import Tensor
from . import functional as F
from .module import Module


class _DropoutNd(Module):
    """What the dropout layers share: ``p`` checked and kept, ``inplace``, and the repr (torch's ``_DropoutNd``)."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Active in training mode only: after ``model.eval()`` it returns its input unchanged.

    Differs from torch: the masks come from minigrad's NumPy generator (CuPy's on a GPU), so a seed gives
    other masks than torch's.
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training, self.inplace)


class AlphaDropout(_DropoutNd):
    """Dropout that keeps the zero mean and unit variance of SELU's output (``F.alpha_dropout``); active in
    training mode only.

    Differs from torch: the masks come from minigrad's NumPy generator (CuPy's on a GPU), so a seed gives
    other masks than torch's.
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.alpha_dropout(input, self.p, self.training)
