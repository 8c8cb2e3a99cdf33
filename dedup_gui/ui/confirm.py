"""The question asked before anything leaves its folder: how many files, how many bytes, which ones."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QMessageBox, QWidget

from dedup_gui.core.units import human_bytes

LISTED = 200
"""Paths written into the dialog's details; the rest are counted."""


def trash_question(parent: QWidget, paths: list[Path], size: int, scope: str = "") -> QMessageBox:
    """A window-modal dialog (``open()`` it): "Move to trash" is accepted, Cancel or Esc rejected. ``scope``
    says which groups the files come from when not all of them (" of the 6 groups shown")."""
    count = len(paths)
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Move to trash")
    box.setText(f"Move {count:,} marked file{'s' if count != 1 else ''} ({human_bytes(size)}){scope} to the trash?")
    box.setInformativeText(
        "At least one copy of every group stays where it is. Each file is checked again just before it is"
        " moved, and a file that changed since the scan is left alone. Edit ▸ Undo puts the files back."
    )
    listed = [str(p) for p in paths[:LISTED]]
    if count > LISTED:
        listed.append(f"… and {count - LISTED:,} more")
    box.setDetailedText("\n".join(listed))
    move = box.addButton("&Move to trash", QMessageBox.ButtonRole.AcceptRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)  # Enter must not move files: the move is a deliberate click or Alt+M
    box.setEscapeButton(cancel)
    move.setAccessibleName(f"Move {count} files to the trash")
    return box
