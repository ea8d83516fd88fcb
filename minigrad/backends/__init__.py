"""torch.backends' availability checks, for code that probes them before choosing a device.

Differs from torch: only ``backends.mps`` is here, and it always reports MPS as neither available nor built;
there are no cudnn, cuda or mkldnn flags to set.
"""

from . import mps

__all__ = ["mps"]
