"""torch.backends' availability checks, for code that probes them before choosing a device."""

from . import mps

__all__ = ["mps"]
