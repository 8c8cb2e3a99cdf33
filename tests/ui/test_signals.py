"""Emitting through ``signals.emit`` leaves ``True``'s reference count alone, whatever PySide6 does."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal

from dedup_gui.ui.signals import emit


class _Source(QObject):
    fired = Signal(int)


def test_many_emits_keep_true_alive() -> None:
    source = _Source()
    received: list[int] = []
    source.fired.connect(received.append)
    before = sys.getrefcount(True)
    for number in range(1000):
        emit(source.fired, number)
    assert len(received) == 1000
    assert sys.getrefcount(True) >= before - 5  # a few may be held or freed elsewhere meanwhile
