"""Open a file, show its folder, copy its path: what a right-click on an image or a group offers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QMainWindow, QWidget


def add_file_actions(widget: QWidget, path: Callable[[], Path | None]) -> None:
    """Give ``widget`` a right-click menu acting on the file ``path()`` names at the time (None: nothing)."""

    def open_(target: Path | None) -> None:
        if target is None:
            return
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(target))):  # the desktop's own application
            window = widget.window()
            if isinstance(window, QMainWindow):
                window.statusBar().showMessage(f"No application on this desktop opens {target}", 8000)

    def copy(target: Path | None) -> None:
        if target is not None:
            QGuiApplication.clipboard().setText(str(target))

    for text, slot in (
        ("Open image", lambda: open_(path())),
        ("Show in folder", lambda: open_(None if (p := path()) is None else p.parent)),
        ("Copy path", lambda: copy(path())),
    ):
        action = QAction(text, widget)
        action.triggered.connect(slot)
        widget.addAction(action)
    widget.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
