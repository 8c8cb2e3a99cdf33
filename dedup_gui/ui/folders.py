"""The folders to scan: added by dialog or by dropping them, each optionally a reference folder.

A reference folder holds the copies to keep (an archive, the camera import): its files are never marked
for removal. Exclude patterns are globs matched against names and full paths, as the CLI's ``--exclude``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QMimeData, Qt, Signal, Slot
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from dedup_gui.ui import style
from dedup_gui.ui.accessible import named

REFERENCE_TIP = "Checked: a reference folder. Its files are always kept, never marked for removal."


def dropped_folders(mime: QMimeData) -> list[Path]:
    """Local folders among dropped URLs (files are ignored: the app scans folders)."""
    folders = (Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile())
    return [folder for folder in folders if folder.is_dir()]


def split_patterns(text: str) -> list[str]:
    return [part.strip() for part in text.split(";") if part.strip()]


class FolderPanel(QWidget):
    """List of folders with a reference check box each, Add/Remove buttons and the exclude patterns.

    Signals:
        changed(): folders, reference marks or patterns changed.
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        self._list = named(QListWidget(), "Folders to scan")
        self._list.setToolTip(f"Folders to scan; drop folders here. {REFERENCE_TIP}")
        self._list.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        self._list.itemChanged.connect(self.changed)
        add = named(QPushButton("Add folder…"), "Add folder")
        add.clicked.connect(self.choose_folder)
        self._remove = named(QPushButton("Remove"), "Remove selected folders")
        self._remove.clicked.connect(self.remove_selected)
        self._exclude = named(QLineEdit(), "Exclude patterns")
        self._exclude.setPlaceholderText("Exclude, e.g. *.gif; */thumbnails/*")
        self._exclude.setToolTip("Glob patterns separated by ';', matched against file names and full paths")
        self._exclude.editingFinished.connect(self.changed)
        buttons = QHBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(self._remove)
        buttons.addStretch(1)
        hint = style.mute(QLabel("☑ reference folder: always kept"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Folders:"))
        layout.addWidget(self._list, 1)
        layout.addWidget(hint)
        layout.addLayout(buttons)
        layout.addWidget(self._exclude)

    def roots(self) -> list[Path]:
        return [Path(self._list.item(i).text()) for i in range(self._list.count())]

    def references(self) -> list[Path]:
        items = (self._list.item(i) for i in range(self._list.count()))
        return [Path(item.text()) for item in items if item.checkState() == Qt.CheckState.Checked]

    def excludes(self) -> list[str]:
        return split_patterns(self._exclude.text())

    def set_folders(self, roots: Iterable[Path], references: Iterable[Path] = (), excludes: Iterable[str] = ()) -> None:
        """Replace the whole content (restored settings, command line); emits ``changed`` once."""
        self._list.blockSignals(True)
        self._list.clear()
        self._list.blockSignals(False)
        self.add_folders(roots, references, notify=False)
        self._exclude.setText("; ".join(excludes))
        self.changed.emit()

    def add_folders(self, folders: Iterable[Path], references: Iterable[Path] = (), notify: bool = True) -> None:
        present = set(self.roots())
        marked = {Path(p).absolute() for p in references}
        self._list.blockSignals(True)
        for folder in (Path(f).absolute() for f in folders):
            if folder in present:
                continue
            present.add(folder)
            item = QListWidgetItem(str(folder))
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if folder in marked else Qt.CheckState.Unchecked)
            item.setToolTip(REFERENCE_TIP)
            self._list.addItem(item)
        self._list.blockSignals(False)
        if notify:
            self.changed.emit()

    @Slot()
    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder to scan")
        if folder:
            self.add_folders([Path(folder)])

    @Slot()
    def remove_selected(self) -> None:
        for item in self._list.selectedItems():
            self._list.takeItem(self._list.row(item))
        self.changed.emit()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_folders(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        self.add_folders(dropped_folders(event.mimeData()))
        event.acceptProposedAction()
