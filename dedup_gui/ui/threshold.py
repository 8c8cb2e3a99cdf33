"""The one place that turns the similarity slider into ``Thresholds``.

Each slider position is a hash distance (0-11) and a CNN similarity together, so one movement loosens or
tightens both tiers: the presets sit on the slider (strict at 4 with cosine 0.92, default at 8 with 0.75, loose
at 11 with 0.70) and positions between them interpolate the cosine. Regrouping itself is the caller's job
(``ScanResult.regroup`` from the stored graph); this widget only says which thresholds to use, debounced while
the handle moves, and shows the resulting count.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSizePolicy, QSlider, QWidget

from dedup_gui.core.graph import MAX_HASH_DISTANCE, PRESETS, Thresholds
from dedup_gui.core.report import counted
from dedup_gui.ui import style
from dedup_gui.ui.accessible import named

DEBOUNCE_MS = 120
"""Pause in the slider's movement after which the groups are recounted."""

_CUSTOM = "custom"


def hint(thresholds: Thresholds, uses_cnn: bool) -> str:
    """A short phrase on what a threshold lets through, from the graph's calibration notes."""
    distance = thresholds.hash_distance
    if distance == 0:
        meaning = "only re-saved or resized copies"
    elif distance <= 4:
        meaning = "strict: re-saves and resizes"
    elif distance <= 8:
        meaning = "re-saves, resizes and light edits"
    else:
        meaning = "loose: may also join different shots of one scene"
    text = f"Hash distance ≤ {distance} of 64 bits: {meaning}"
    if uses_cnn:
        text += f" (or CNN similarity ≥ {thresholds.cosine:.2f})"
    return text


STRICTEST_COSINE = 0.98
"""The cosine at the slider's strict end (hash distance 0): near-identical pictures only."""


def slider_thresholds(position: int) -> Thresholds:
    """The thresholds at a slider position: its hash distance, and a cosine through the presets' own."""
    anchors = sorted({0: STRICTEST_COSINE, **{t.hash_distance: t.cosine for t in PRESETS.values()}}.items())
    cosine = float(np.interp(position, [a for a, _ in anchors], [c for _, c in anchors]))
    return Thresholds(hash_distance=position, cosine=round(cosine, 2))


def preset_name(thresholds: Thresholds) -> str:
    return next((name for name, value in PRESETS.items() if value == thresholds), _CUSTOM)


class ThresholdControl(QWidget):
    """Preset menu, slider, group count and hint.

    Signals:
        changed(Thresholds): after the slider rests for ``DEBOUNCE_MS``, or at once for a preset.
    """

    changed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._thresholds = Thresholds()
        self._uses_cnn = False
        self.presets = named(QComboBox(), "Threshold preset")
        self.presets.addItems([*PRESETS, _CUSTOM])
        self.presets.setToolTip("Quick choices: strict finds fewer, surer groups; loose finds more")
        self.slider = named(QSlider(Qt.Orientation.Horizontal), "Similarity threshold")
        self.slider.setRange(0, MAX_HASH_DISTANCE)
        self.slider.setPageStep(2)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setToolTip(
            "Drag right to group less similar images (hash distance and CNN similarity together);"
            " groups update without a rescan"
        )
        self.count_label = named(QLabel(), "Groups at this threshold")
        self.hint_label = named(QLabel(), "Threshold meaning")
        style.mute(self.hint_label)  # a hint, not a value
        # Cut short in a narrow window (the whole text is its tooltip) rather than set the window's width.
        self.hint_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.debounce = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self.debounce.timeout.connect(self._emit)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Similarity:"))
        layout.addWidget(self.presets)
        layout.addWidget(style.mute(QLabel("strict")))  # the slider's ends say which way groups grow
        layout.addWidget(self.slider, 1)
        layout.addWidget(style.mute(QLabel("loose")))
        layout.addWidget(self.count_label)
        layout.addWidget(self.hint_label, 2)
        self._show(self._thresholds)
        self.slider.valueChanged.connect(self._on_slider)
        self.presets.currentTextChanged.connect(self._on_preset)

    @property
    def thresholds(self) -> Thresholds:
        return self._thresholds

    def set_thresholds(self, thresholds: Thresholds, uses_cnn: bool | None = None) -> None:
        """Show these thresholds without emitting ``changed`` (a scan's own settings)."""
        if uses_cnn is not None:
            self._uses_cnn = uses_cnn
        self._thresholds = thresholds
        self._show(thresholds)

    def set_group_count(self, count: int | None) -> None:
        self.count_label.setText("" if count is None else counted(count, "group"))

    @Slot(int)
    def _on_slider(self, value: int) -> None:
        self._thresholds = slider_thresholds(value)
        self._show(self._thresholds)
        self.debounce.start()

    @Slot(str)
    def _on_preset(self, name: str) -> None:
        if name in PRESETS and PRESETS[name] != self._thresholds:
            self._thresholds = PRESETS[name]
            self._show(self._thresholds)
            self.debounce.stop()
            self._emit()

    def _show(self, thresholds: Thresholds) -> None:
        for widget in (self.slider, self.presets):
            widget.blockSignals(True)
        self.slider.setValue(thresholds.hash_distance)
        self.presets.setCurrentText(preset_name(thresholds))
        for widget in (self.slider, self.presets):
            widget.blockSignals(False)
        self.hint_label.setText(hint(thresholds, self._uses_cnn))
        self.hint_label.setToolTip(self.hint_label.text())

    @Slot()
    def _emit(self) -> None:
        self.changed.emit(self._thresholds)
