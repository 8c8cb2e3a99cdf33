"""Keep rules: an ordered list of criteria from ``core.keep_rules``, edited in a dialog and applied to every
group. The first criterion that tells a group's files apart picks the file to keep; later ones break ties.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from dedup_gui.core import keep_rules
from dedup_gui.core.model import ScannedFile
from dedup_gui.ui.accessible import named
from dedup_gui.ui.session import Decider, Mark
from dedup_gui.ui.settings import Settings


def rules_to_settings(rules: Sequence[keep_rules.Rule]) -> list[dict[str, Any]]:
    return [{"criterion": r.criterion.value, "enabled": r.enabled, "folder": str(r.folder or "")} for r in rules]


def rules_from_settings(records: list[dict[str, Any]] | None) -> list[keep_rules.Rule]:
    """Stored rules in their order; criteria unknown to this version are dropped, and new ones go where the
    defaults have them: after the stored rules that precede them there."""
    if not records:
        return list(keep_rules.DEFAULT_RULES)
    known = {c.value: c for c in keep_rules.Criterion}
    rules = [
        keep_rules.Rule(
            known[r["criterion"]], bool(r.get("enabled", True)), Path(r["folder"]) if r.get("folder") else None
        )
        for r in records
        if isinstance(r, dict) and r.get("criterion") in known
    ]
    present = {r.criterion for r in rules}
    for index, default in enumerate(keep_rules.DEFAULT_RULES):
        if default.criterion not in present:
            earlier = {r.criterion for r in keep_rules.DEFAULT_RULES[:index]}
            rules.insert(max((i + 1 for i, r in enumerate(rules) if r.criterion in earlier), default=0), default)
    return rules


def make_decider(rules: Sequence[keep_rules.Rule], references: Sequence[Path]) -> Decider:
    """Marks for one group from the core's verdicts (the core skips unchecked rules)."""
    rules, references = tuple(rules), tuple(references)

    def decide(files: Sequence[ScannedFile]) -> list[Mark]:
        return [Mark(v.keep, v.reason, chosen=v.chosen, why=v.why) for v in keep_rules.decide(files, rules, references)]

    return decide


class RulesController(QObject):
    """The current rules, remembered in the settings.

    Signals:
        changed(): the rules were edited; every group should be marked again.
    """

    changed = Signal()

    def __init__(self, settings: Settings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        self.rules = rules_from_settings(settings.rules())

    def decider(self, references: Sequence[Path]) -> Decider:
        return make_decider(self.rules, references)

    def set_rules(self, rules: list[keep_rules.Rule]) -> None:
        self.rules = rules
        self._settings.set_rules(rules_to_settings(rules))
        self.changed.emit()

    @Slot()
    def edit(self) -> None:
        parent = self.parent()
        dialog = RulesDialog(self.rules, parent if isinstance(parent, QWidget) else None)
        dialog.accepted.connect(lambda: self.set_rules(dialog.rules()))
        dialog.open()


class RulesDialog(QDialog):
    """Check the criteria to use and drag them (or use Up/Down) into order."""

    def __init__(self, rules: Sequence[keep_rules.Rule], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keep rules")
        self._list = named(QListWidget(), "Keep rules, first decides")
        self._list.setDragDropMode(QListWidget.DragDropMode.InternalMove)
        self._list.currentRowChanged.connect(self._on_current)
        explanation = QLabel(
            "For every group, the first checked rule that tells its files apart picks the file to keep; the"
            " rules below it only break ties. Files in reference folders are always kept, and you can change"
            " any mark by hand.",
            wordWrap=True,
        )
        self._up = named(QPushButton("Up"), "Move rule up")
        self._up.clicked.connect(lambda: self._move(-1))
        self._down = named(QPushButton("Down"), "Move rule down")
        self._down.clicked.connect(lambda: self._move(1))
        self._folder = named(QPushButton("Choose folder…"), "Choose the preferred folder")
        self._folder.clicked.connect(self._choose_folder)
        reset = named(QPushButton("Defaults"), "Reset the rules to the defaults")
        reset.clicked.connect(lambda: self._fill(keep_rules.DEFAULT_RULES))
        side = QVBoxLayout()
        for button in (self._up, self._down, self._folder, reset):
            side.addWidget(button)
        side.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(self._list, 1)
        row.addLayout(side)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(explanation)
        layout.addLayout(row, 1)
        layout.addWidget(buttons)
        self._fill(rules)
        self.resize(520, 380)

    def _fill(self, rules: Sequence[keep_rules.Rule]) -> None:
        self._list.clear()
        for rule in rules:
            item = QListWidgetItem()
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsDragEnabled)
            item.setCheckState(Qt.CheckState.Checked if rule.enabled else Qt.CheckState.Unchecked)
            item.setData(Qt.ItemDataRole.UserRole, rule)
            self._label(item)
            self._list.addItem(item)
        self._list.setCurrentRow(0)

    @staticmethod
    def _label(item: QListWidgetItem) -> None:
        rule: keep_rules.Rule = item.data(Qt.ItemDataRole.UserRole)
        text = keep_rules.describe(rule)
        item.setText(text)
        item.setToolTip(text)

    def rules(self) -> list[keep_rules.Rule]:
        out = []
        for row in range(self._list.count()):
            item = self._list.item(row)
            rule: keep_rules.Rule = item.data(Qt.ItemDataRole.UserRole)
            out.append(keep_rules.Rule(rule.criterion, item.checkState() == Qt.CheckState.Checked, rule.folder))
        return out

    def _move(self, delta: int) -> None:
        row = self._list.currentRow()
        target = row + delta
        if row < 0 or not 0 <= target < self._list.count():
            return
        item = self._list.takeItem(row)
        self._list.insertItem(target, item)
        self._list.setCurrentRow(target)

    def _on_current(self, row: int) -> None:
        item = self._list.item(row) if row >= 0 else None
        rule = item.data(Qt.ItemDataRole.UserRole) if item else None
        self._folder.setEnabled(rule is not None and rule.criterion is keep_rules.Criterion.PREFERRED_FOLDER)

    def _choose_folder(self) -> None:
        item = self._list.currentItem()
        if item is None:
            return
        folder = QFileDialog.getExistingDirectory(self, "Preferred folder: its copies are kept")
        if folder:
            rule: keep_rules.Rule = item.data(Qt.ItemDataRole.UserRole)
            item.setData(Qt.ItemDataRole.UserRole, keep_rules.Rule(rule.criterion, True, Path(folder)))
            item.setCheckState(Qt.CheckState.Checked)
            self._label(item)
