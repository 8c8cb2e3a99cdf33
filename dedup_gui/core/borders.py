"""Plain white or black bands added around a picture (letterbox, padding to a square, a frame): how much of an
image they take, so that a padded copy is not kept for its larger size.

Only bands that are uniform across the whole width (or height), near white or near black, and at least
``MIN_BAND`` of the side count: the padding apps add. A picture's own bright sky or dark night is never that
even, and where it is, every copy of the picture has the same bands, so the comparison between copies holds.
"""

from __future__ import annotations

import numpy as np

MIN_BAND = 0.02
"""Bands thinner than this share of the side are ignored (a thin frame line, JPEG ringing)."""

SPREAD = 6
"""Largest difference between the lightest and darkest pixel of a band line."""

WHITE, BLACK = 252, 3
"""A band line is padding when all its pixels are at least ``WHITE`` or at most ``BLACK``: the flat 255 or 0
of padding, not a dark sky's noise."""


def border_share(grey: np.ndarray) -> float:
    """The share of the image's area (0-1) taken by padding bands on its four sides."""
    rows = _padding_lines(grey)
    columns = _padding_lines(grey.T)
    if rows.all() or columns.all():
        return 0.0  # a plain image is all "band": nothing is added around anything
    top, bottom = _band(rows), _band(rows[::-1])
    left, right = _band(columns), _band(columns[::-1])
    height, width = grey.shape
    picture = (height - top - bottom) * (width - left - right)
    return round(1.0 - picture / (height * width), 3)


def _padding_lines(grey: np.ndarray) -> np.ndarray:
    """Per row: whether it is one even near-white or near-black line."""
    low, high = grey.min(axis=1).astype(np.int16), grey.max(axis=1).astype(np.int16)
    return (high - low <= SPREAD) & ((low >= WHITE) | (high <= BLACK))


def _band(lines: np.ndarray) -> int:
    """Padding lines from the edge inwards; 0 when fewer than ``MIN_BAND`` of them."""
    count = int(np.argmin(lines)) if not lines.all() else len(lines)
    return count if count >= MIN_BAND * len(lines) else 0
