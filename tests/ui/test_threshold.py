"""The similarity slider maps to Thresholds, debounces, and its presets come from the graph module."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from dedup_gui.core.graph import MAX_HASH_DISTANCE, PRESETS
from dedup_gui.ui.threshold import ThresholdControl, hint, slider_thresholds


def test_slider_emits_once_after_it_rests(qtbot: QtBot) -> None:
    control = ThresholdControl()
    qtbot.addWidget(control)
    assert control.slider.maximum() == MAX_HASH_DISTANCE
    with qtbot.waitSignal(control.changed, timeout=2000) as emitted:
        for value in (7, 6, 5, 4):
            control.slider.setValue(value)
    assert emitted.args == [PRESETS["strict"]]  # the strict preset sits at its hash distance on the slider
    assert "≤ 4" in control.hint_label.text() and control.presets.currentText() == "strict"


def test_each_slider_position_moves_both_tiers_through_the_presets() -> None:
    thresholds = [slider_thresholds(p) for p in range(MAX_HASH_DISTANCE + 1)]
    assert [t.hash_distance for t in thresholds] == list(range(MAX_HASH_DISTANCE + 1))
    cosines = [t.cosine for t in thresholds]
    assert cosines == sorted(cosines, reverse=True) and len(set(cosines)) == len(cosines)  # looser to the right
    for preset in PRESETS.values():
        assert slider_thresholds(preset.hash_distance) == preset


def test_presets_set_both_tiers_at_once(qtbot: QtBot) -> None:
    control = ThresholdControl()
    qtbot.addWidget(control)
    with qtbot.waitSignal(control.changed, timeout=1000) as emitted:
        control.presets.setCurrentText("strict")
    assert emitted.args == [PRESETS["strict"]]
    assert control.slider.value() == PRESETS["strict"].hash_distance
    control.slider.setValue(PRESETS["strict"].hash_distance + 1)
    assert control.presets.currentText() == "custom"


def test_showing_thresholds_does_not_emit(qtbot: QtBot) -> None:
    control = ThresholdControl()
    qtbot.addWidget(control)
    with qtbot.assertNotEmitted(control.changed):
        control.set_thresholds(PRESETS["loose"], uses_cnn=True)
    assert not control.debounce.isActive()
    assert control.presets.currentText() == "loose"
    assert "CNN similarity" in hint(control.thresholds, uses_cnn=True)
