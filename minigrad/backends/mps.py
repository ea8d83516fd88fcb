"""Apple's Metal (MPS): minigrad runs on NumPy or CuPy only, so it is never there."""

from __future__ import annotations


def is_available() -> bool:
    return False


def is_built() -> bool:
    return False
