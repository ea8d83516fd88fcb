"""Utilities: ``minigrad.utils.data`` (datasets and loaders, with torch's names),
``minigrad.utils.threads`` (BLAS threads sized to a model's matrix products) and
``minigrad.utils.checkpoint`` (activation checkpointing: recompute a block's activations in backward
instead of keeping them)."""

from . import checkpoint, data, threads

__all__ = ["checkpoint", "data", "threads"]
