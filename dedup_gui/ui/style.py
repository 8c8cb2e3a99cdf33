"""The few colours the window adds to the system palette, chosen to read on light and dark themes alike."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QLabel


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def keep_colour(palette: QPalette) -> QColor:
    return QColor("#2e7d32") if not is_dark(palette) else QColor("#81c784")


def remove_colour(palette: QPalette) -> QColor:
    return QColor("#c62828") if not is_dark(palette) else QColor("#ef9a9a")


def difference_background(palette: QPalette) -> QColor:
    """Behind values that differ inside a group: a soft amber that keeps the text readable."""
    return QColor("#ffe9a8") if not is_dark(palette) else QColor("#5a4600")


def mute(label: QLabel) -> QLabel:
    """Grey a hint's text, halfway between the text and the background: quieter than a value, yet readable
    (the disabled palette's grey is too faint on most themes)."""
    palette = label.palette()
    text, window = palette.color(QPalette.ColorRole.WindowText), palette.color(QPalette.ColorRole.Window)
    mixed = QColor(*((a + b) // 2 for a, b in zip(text.getRgb()[:3], window.getRgb()[:3], strict=True)))
    palette.setColor(QPalette.ColorRole.WindowText, mixed.darker(115) if not is_dark(palette) else mixed.lighter(115))
    label.setPalette(palette)
    return label


def badge_style(keep: bool, palette: QPalette) -> str:
    """Style sheet for a keep/remove badge: coloured border and text on the normal button background."""
    colour = (keep_colour if keep else remove_colour)(palette).name()
    return (
        f"QToolButton {{ color: {colour}; border: 2px solid {colour}; border-radius: 4px; padding: 2px 8px;"
        " font-weight: bold; }"
    )
