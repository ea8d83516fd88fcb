"""Byte counts written for people: decimal units (1 kB = 1000 B), as torchinfo and disk makers use."""

from __future__ import annotations

_UNITS = ("B", "kB", "MB", "GB", "TB")


def format_bytes(n: int | float) -> str:
    """``format_bytes(376) == '376 B'``, ``format_bytes(37_600) == '37.60 kB'``.

    The unit is the largest one that keeps the number at least 1; bytes are shown
    whole, larger units with two decimals.
    """
    sign = "-" if n < 0 else ""
    n = abs(n)
    unit = 0
    while n >= 1000 and unit < len(_UNITS) - 1:
        n /= 1000
        unit += 1
    if unit == 0:
        return f"{sign}{int(n)} B"
    return f"{sign}{n:.2f} {_UNITS[unit]}"
