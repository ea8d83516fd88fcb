"""Utilities with torch's names: ``minigrad.utils.data`` (datasets and loaders)."""

from . import data

__all__ = ["data"]
