"""``minigrad.nn.parallel``: data-parallel training over several processes (``DistributedDataParallel``)."""

from .distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
