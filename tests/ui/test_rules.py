"""The keep-rules dialog edits the core's rules; the settings remember their order."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from dedup_gui.core.keep_rules import DEFAULT_RULES, Criterion, Rule
from dedup_gui.ui.rules import RulesController, RulesDialog, rules_from_settings, rules_to_settings
from dedup_gui.ui.settings import Settings


def test_dialog_reorders_and_checks_rules(qtbot: QtBot) -> None:
    dialog = RulesDialog(DEFAULT_RULES)
    qtbot.addWidget(dialog)
    dialog._list.setCurrentRow(len(DEFAULT_RULES) - 1)  # shortest path
    dialog._up.click()
    item = dialog._list.item(0)
    item.setCheckState(Qt.CheckState.Unchecked)
    rules = dialog.rules()
    assert rules[0] == Rule(DEFAULT_RULES[0].criterion, enabled=False)
    assert rules[-2].criterion is Criterion.SHORTEST_PATH and rules[-1].criterion is DEFAULT_RULES[-2].criterion
    assert not dialog._folder.isEnabled()
    dialog._list.setCurrentRow([r.criterion for r in rules].index(Criterion.PREFERRED_FOLDER))
    assert dialog._folder.isEnabled()


def test_rules_round_trip_through_the_settings(qtbot: QtBot, tmp_path: Path) -> None:
    rules = [Rule(Criterion.PREFERRED_FOLDER, True, tmp_path), *DEFAULT_RULES[:3]]
    restored = rules_from_settings(rules_to_settings(rules))
    assert restored[:4] == rules and {r.criterion for r in restored} == set(Criterion)
    controller = RulesController(Settings())
    with qtbot.waitSignal(controller.changed):
        controller.set_rules(rules)
    assert RulesController(Settings()).rules[:4] == rules
    assert rules_from_settings([{"criterion": "gone"}, {"nonsense": 1}]) == list(DEFAULT_RULES)


def test_a_criterion_new_to_stored_rules_goes_where_the_defaults_put_it() -> None:
    older = [r for r in DEFAULT_RULES if r.criterion is not Criterion.CAMERA_RAW]  # saved before RAW files were known
    shortest_first = [older[-1], *older[:-1]]  # and reordered by the person
    restored = rules_from_settings(rules_to_settings(shortest_first))
    criteria = [r.criterion for r in restored]
    assert criteria.index(Criterion.CAMERA_RAW) == criteria.index(Criterion.REFERENCE_FOLDER) + 1
    assert [r for r in restored if r.criterion is not Criterion.CAMERA_RAW] == shortest_first
