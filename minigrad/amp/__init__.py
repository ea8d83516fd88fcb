"""Automatic mixed precision: ``autocast`` (float16 matrix products inside a region) and ``GradScaler``
(loss scaling, so that small float16 gradients do not flush to zero). minigrad/amp/autocast_mode.py and
minigrad/amp/grad_scaler.py say why each exists."""

from .autocast_mode import autocast, get_autocast_dtype, is_autocast_available, is_autocast_enabled
from .grad_scaler import GradScaler

__all__ = ["GradScaler", "autocast", "get_autocast_dtype", "is_autocast_available", "is_autocast_enabled"]
