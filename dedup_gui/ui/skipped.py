"""Files the scan could not use, with the reason for each, so a person can fix or ignore them."""

from __future__ import annotations

from collections import Counter
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QHeaderView, QLabel, QTableView, QVBoxLayout, QWidget

from dedup_gui.core.model import Skipped
from dedup_gui.ui.accessible import named

_HEADERS = ("File", "Reason")


class SkippedModel(QAbstractTableModel):
    """Two columns, path and reason; a model because a big folder can skip thousands of files."""

    def __init__(self) -> None:
        super().__init__()
        self._items: list[Skipped] = []

    def set_items(self, items: list[Skipped]) -> None:
        self.beginResetModel()
        self._items = items
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._items)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(_HEADERS)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        item = self._items[index.row()]
        return str(item.path) if index.column() == 0 else item.reason

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal and section < 2:
            return _HEADERS[section]
        return None


def summary(items: list[Skipped]) -> str:
    """ "3 skipped: 2 not an image, 1 permission denied" (reasons cut at their first colon)."""
    if not items:
        return "No files skipped."
    reasons = Counter(item.reason.split(":")[0] for item in items)
    return f"{len(items):,} skipped: " + "; ".join(f"{n:,} {reason}" for reason, n in reasons.most_common(4))


class SkippedPanel(QWidget):
    """A summary line above the table of skipped files."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = SkippedModel()
        self._summary = QLabel(summary([]), wordWrap=True)
        table = named(QTableView(), "Skipped files")
        table.setModel(self.model)
        table.verticalHeader().hide()
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        table.horizontalHeader().setStretchLastSection(True)
        table.setColumnWidth(0, 420)
        table.setWordWrap(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._summary)
        layout.addWidget(table, 1)

    def set_items(self, items: list[Skipped]) -> None:
        self.model.set_items(items)
        self._summary.setText(summary(items))
