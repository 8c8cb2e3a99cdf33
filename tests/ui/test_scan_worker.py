"""The scan runs on a worker thread, reports progress there, and a cancel keeps what was computed."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from dedup_gui.core.model import Method
from dedup_gui.core.pipeline import ScanOptions
from dedup_gui.core.progress import ProgressEvent, Stage
from dedup_gui.ui.scan_worker import UNEXPECTED_TEXT, ScanThread


def _options(root: Path) -> ScanOptions:
    return ScanOptions(roots=(root,), method=Method.HASH, workers=0)


def test_scan_reports_progress_and_result(qtbot: QtBot, photo_tree: Path) -> None:
    thread = ScanThread(_options(photo_tree))
    stages: list[Stage] = []
    thread.progress.connect(lambda event: stages.append(event.stage))
    with qtbot.waitSignal(thread.succeeded, timeout=30_000) as done:
        thread.start()
    thread.wait()
    result = done.args[0]
    assert len(result.groups) == 3 and not result.cancelled
    assert [s.reason for s in result.skipped] and result.skipped[0].path.name == "notes.jpg"
    assert Stage.DISCOVER in stages and Stage.ANALYSE in stages


def test_cancel_stops_the_scan_and_keeps_partial_results(qtbot: QtBot, photo_tree: Path) -> None:
    thread = ScanThread(_options(photo_tree))

    def cancel_on_first_file(event: ProgressEvent) -> None:
        if event.stage is Stage.ANALYSE and not event.finished:
            thread.cancel()  # runs on the scan thread (direct connection): the scan stops after this file

    thread.progress.connect(cancel_on_first_file, Qt.ConnectionType.DirectConnection)
    with qtbot.waitSignal(thread.succeeded, timeout=30_000) as done:
        thread.start()
    thread.wait()
    result = done.args[0]
    assert result.cancelled and thread.cancelled
    assert result.stats.analysed == 1 and len(result.files) == 1


def test_an_unusable_folder_fails_with_a_message(qtbot: QtBot, tmp_path: Path) -> None:
    thread = ScanThread(_options(tmp_path / "missing"))
    with qtbot.waitSignal(thread.failed, timeout=10_000) as failed:
        thread.start()
    thread.wait()
    assert "not a folder" in failed.args[0]


def test_a_bug_in_the_scan_ends_it_with_one_readable_line(
    qtbot: QtBot, photo_tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("first line\n        second line " + "x" * 400)

    monkeypatch.setattr("dedup_gui.ui.scan_worker.scan", broken)
    thread = ScanThread(_options(photo_tree))
    with qtbot.waitSignal(thread.failed, timeout=10_000) as failed:
        thread.start()
    thread.wait()
    message = failed.args[0]
    assert message.startswith("The scan failed unexpectedly (RuntimeError: first line second line xxx")
    assert "\n" not in message and "…" in message and message.endswith("Help → Show log.")
    assert len(message) < UNEXPECTED_TEXT + 120
