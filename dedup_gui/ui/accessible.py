"""Accessible names for controls, set in one expression where a widget is built.

Screen readers announce a control by its accessible name; a slider or an unlabelled list has no other.
PySide6 accepts ``accessibleName=`` as a constructor keyword, but its type stubs do not, so this keeps the
code type-checked.
"""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtWidgets import QWidget

W = TypeVar("W", bound=QWidget)


def named(widget: W, name: str) -> W:
    widget.setAccessibleName(name)
    return widget
