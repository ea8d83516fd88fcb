"""Utilities: ``minigrad.utils.data`` (datasets and loaders, with torch's names) and
``minigrad.utils.threads`` (BLAS threads sized to a model's matrix products)."""

from . import data, threads

__all__ = ["data", "threads"]
