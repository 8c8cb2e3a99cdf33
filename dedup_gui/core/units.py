"""Byte counts as people read them, the same in the window, the CLI and the keep rules' reasons."""

from __future__ import annotations


def human_bytes(count: int) -> str:
    """Decimal units, as file managers show them: 1.5 MB, 312.0 kB, 20 B."""
    units = ("B", "kB", "MB", "GB", "TB")
    value, unit = float(count), 0
    while abs(value) >= 1000 and unit < len(units) - 1:
        value /= 1000
        unit += 1
    return f"{count} B" if unit == 0 else f"{value:.1f} {units[unit]}"
