"""The whole window on a generated folder: scan through the worker, regroup, marks, trash and undo, cancel,
restart, keyboard."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, QSize, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QMessageBox, QStatusBar
from pytestqt.qtbot import QtBot

from dedup_gui.core import actions, keep_rules
from dedup_gui.core.journal import Journal, Planned
from dedup_gui.core.keep_rules import FileRecord
from dedup_gui.core.model import Method
from dedup_gui.core.progress import ProgressEvent, Stage
from dedup_gui.ui.group_model import Column
from dedup_gui.ui.main_window import GroupTable, MainWindow, _first_size


def _open(qtbot: QtBot) -> MainWindow:
    window = MainWindow()
    qtbot.addWidget(window)
    window.scan_workers = 0  # decode in the scan thread: no worker processes to start in tests
    window.method.setCurrentIndex(window.method.findData(Method.HASH.value))
    window.show()
    return window


def _scan(qtbot: QtBot, window: MainWindow, folders: list[Path] | None = None) -> None:
    if folders is not None:
        window.folders.set_folders(folders)
    window.start_scan()
    qtbot.waitUntil(lambda: window.scan_thread is None and window.session is not None, timeout=30_000)
    qtbot.waitUntil(lambda: not window.regrouper.busy(), timeout=10_000)


def _names(window: MainWindow) -> list[list[str]]:
    session = window.session
    assert session is not None
    return sorted(sorted(f.ref.path.name for f in session.files(g)) for g in session.groups)


@pytest.fixture
def window(qtbot: QtBot, photo_tree: Path) -> Iterator[MainWindow]:
    window = _open(qtbot)
    _scan(qtbot, window, [photo_tree])
    yield window
    window.close()


def test_scan_fills_the_list_through_the_worker(window: MainWindow) -> None:
    assert window.model.rowCount() == 3
    assert window.summary_label.text().startswith("3 groups · 4 files marked")
    assert window.table.currentIndex().row() == 0 and len(window.compare.panes()) >= 2
    assert window.skipped.model.rowCount() == 1 and window.skipped_dock.isHidden()  # listed, not pushed forward
    assert not window.skipped_link.isHidden() and ">1 file skipped<" in window.skipped_link.text()
    window.skipped_link.linkActivated.emit("skipped")
    assert not window.skipped_dock.isHidden()
    # notes.jpg: read, skipped
    assert window.stage_label.text().startswith("Scanned 9 files: 8 images, 1 skipped · 9 read")


def test_slider_regroups_from_the_graph_without_reading_files(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a file was read again")

    monkeypatch.setattr("dedup_gui.core.analysis.analyse", refuse)
    monkeypatch.setattr("dedup_gui.core.pipeline.scan", refuse)
    monkeypatch.setattr("dedup_gui.ui.scan_worker.scan", refuse)
    result = window.session.result if window.session else None
    decoded = result.stats.analysed if result else -1
    window.threshold.slider.setValue(4)
    qtbot.waitUntil(lambda: window.model.rowCount() == 2, timeout=5000)
    assert window.threshold.count_label.text() == "2 groups"
    window.threshold.slider.setValue(8)
    qtbot.waitUntil(lambda: window.model.rowCount() == 3, timeout=5000)
    assert window.session is not None and window.session.result is result and result.stats.analysed == decoded


def _kept(window: MainWindow) -> set[str]:
    session = window.session
    assert session is not None
    return {session.result.files[m].ref.path.name for g in session.groups for m in g.members if session.mark(m).keep}


def test_keep_rules_mark_the_expected_images(qtbot: QtBot, window: MainWindow, photo_tree: Path) -> None:
    # Defaults: highest resolution (a_small loses), largest file (b_bright, a_mirror lose), shortest path (c copy).
    assert _kept(window) == {"a.jpg", "b.png", "c.jpg"}
    session = window.session
    assert session is not None
    a_small = next(m for m in session.groups[0].members if session.result.files[m].ref.path.name == "a_small.jpg")
    assert session.mark(a_small).reason.startswith("lower resolution 320x240")
    preferred = keep_rules.Rule(keep_rules.Criterion.PREFERRED_FOLDER, True, photo_tree / "copies")
    window.rules.set_rules([preferred, *(r for r in keep_rules.DEFAULT_RULES if r.criterion != preferred.criterion)])
    qtbot.waitUntil(lambda: _kept(window) == {"a_mirror.jpg", "b_bright.jpg", "c copy.jpg"}, timeout=5000)


def test_reference_folder_keeps_its_files(qtbot: QtBot, window: MainWindow, photo_tree: Path) -> None:
    window.folders.set_folders([photo_tree, photo_tree / "copies"], references=[photo_tree / "copies"])
    qtbot.waitUntil(lambda: not window.regrouper.busy(), timeout=10_000)
    session = window.session
    assert session is not None
    for number, group in enumerate(session.groups):
        for member in group.members:
            if session.result.files[member].ref.path.is_relative_to(photo_tree / "copies"):
                assert session.mark(member).keep, number


def test_toggle_from_the_keyboard_and_never_empty(qtbot: QtBot, window: MainWindow) -> None:
    session = window.session
    assert session is not None
    group = session.groups[window.model.group_number(window.table.currentIndex().row())]
    position = next(i for i, m in enumerate(group.members) if not session.mark(m).keep)
    qtbot.keyClick(window.table, Qt.Key.Key_1 + position)
    assert session.mark(group.members[position]).keep
    for position in range(len(group.members)):  # try to mark all for removal: one always stays
        if session.mark(group.members[position]).keep:
            qtbot.keyClick(window.table, Qt.Key.Key_1 + position)
    assert any(session.mark(m).keep for m in group.members)


def test_next_previous_accept_and_help(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.keyClick(window.table, Qt.Key.Key_J)
    assert window.table.currentIndex().row() == 1
    qtbot.keyClick(window.table, Qt.Key.Key_K)
    assert window.table.currentIndex().row() == 0
    qtbot.keyClick(window.table, Qt.Key.Key_A)
    assert window.table.currentIndex().row() == 1
    assert window.model.index(0, 0).data().startswith("✓ ")
    qtbot.keyClick(window.table, Qt.Key.Key_F1)
    assert window._help.isVisible() and "Move marked to trash" in window._help._text.text()
    qtbot.keyClick(window._help, Qt.Key.Key_Escape)
    assert not window._help.isVisible()


def test_trash_moves_exactly_the_marked_files_and_undo_restores_them(
    qtbot: QtBot, window: MainWindow, photo_tree: Path, isolated_user_dirs: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="dedup_gui.ui.main_window")
    session = window.session
    assert session is not None
    marked = {session.result.files[m].ref.path for m in session.marked_for_removal()}
    everything = {p for p in photo_tree.rglob("*") if p.is_file()}
    assert len(marked) == 4
    window.trash_action.trigger()
    dialog = window.trash.dialog
    assert dialog is not None and "Move 4 marked files" in dialog.text()
    move = next(b for b in dialog.buttons() if dialog.buttonRole(b) == QMessageBox.ButtonRole.AcceptRole)
    with qtbot.waitSignal(window.trash.finished, timeout=20_000):
        move.click()
    assert {p for p in photo_tree.rglob("*") if p.is_file()} == everything - marked, window.statusBar().currentMessage()
    trashed = list((isolated_user_dirs / "xdg-data" / "Trash" / "files").iterdir())
    assert sorted(p.name for p in trashed) == sorted(p.name for p in marked)
    assert window.model.rowCount() == 0 and window.undo_action.isEnabled()
    with qtbot.waitSignal(window.trash.finished, timeout=20_000):
        window.undo_action.trigger()
    assert {p for p in photo_tree.rglob("*") if p.is_file()} == everything
    assert window.model.rowCount() == 3
    logged = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("Moved 4 files") for m in logged) and any(m.startswith("Restored 4") for m in logged)


def test_cancelling_the_confirmation_moves_nothing(qtbot: QtBot, window: MainWindow, photo_tree: Path) -> None:
    everything = {p for p in photo_tree.rglob("*") if p.is_file()}
    window.trash_action.trigger()
    assert window.trash.dialog is not None
    cancel = window.trash.dialog.button(QMessageBox.StandardButton.Cancel)
    assert window.trash.dialog.defaultButton() is cancel  # Enter does not move files
    cancel.click()
    assert window.trash.dialog is None and not window.trash.busy()
    assert {p for p in photo_tree.rglob("*") if p.is_file()} == everything


def test_not_duplicates_is_remembered_and_undoable(qtbot: QtBot, window: MainWindow) -> None:
    session = window.session
    assert session is not None
    row = window.model.row_of(_group_of(window, "b.png")) or 0
    assert row + 1 < window.model.rowCount()  # the fixture's groups sort with another one below b.png's
    window.table.selectRow(row)
    following = set(session.groups[window.model.group_number(row + 1)].members)
    qtbot.keyClick(window.table, Qt.Key.Key_D)
    assert ["b.png", "b_bright.jpg"] not in _names(window) and window.model.rowCount() == 2
    assert window.threshold.count_label.text().startswith("2 groups")  # the slider's count agrees
    assert window._current is not None and set(session.groups[window._current].members) == following  # next one
    window.undo_action.trigger()
    qtbot.waitUntil(lambda: window.model.rowCount() == 3, timeout=5000)
    assert ["b.png", "b_bright.jpg"] in _names(window)
    assert window._current == _group_of(window, "b.png")  # the group that came back is the one shown


def _group_of(window: MainWindow, name: str) -> int:
    session = window.session
    assert session is not None
    return next(n for n, g in enumerate(session.groups) if any(f.ref.path.name == name for f in session.files(g)))


def test_cancel_stops_the_scan_and_keeps_partial_results(qtbot: QtBot, photo_tree: Path) -> None:
    window = _open(qtbot)
    window.folders.set_folders([photo_tree])
    reached, resume = threading.Event(), threading.Event()

    def hold_first_file(event: ProgressEvent) -> None:  # on the scan thread: wait for the Cancel click
        if event.stage is Stage.ANALYSE and not reached.is_set():
            reached.set()
            resume.wait(10)

    window.start_scan()
    assert window.scan_thread is not None
    window.scan_thread.progress.connect(hold_first_file, Qt.ConnectionType.DirectConnection)
    qtbot.waitUntil(reached.is_set, timeout=10_000)
    qtbot.mouseClick(window.cancel_button, Qt.MouseButton.LeftButton)
    resume.set()
    qtbot.waitUntil(lambda: window.scan_thread is None and window.session is not None, timeout=20_000)
    assert window.session is not None and window.session.result.cancelled
    assert len(window.session.result.files) < 9
    assert window.stage_label.text().startswith("Scan cancelled")
    assert window.progress.value() < window.progress.maximum()  # not shown as complete
    window.close()


def test_review_comes_back_after_a_restart_without_decoding(qtbot: QtBot, photo_tree: Path) -> None:
    first = _open(qtbot)
    _scan(qtbot, first, [photo_tree])
    session = first.session
    assert session is not None
    toggled = session.groups[0].members[0]
    first.toggle_file(toggled)
    names, mark = _names(first), session.mark(toggled).keep
    first.threshold.slider.setValue(6)
    qtbot.waitUntil(lambda: not first.regrouper.busy(), timeout=5000)
    first.resize(660, 520)  # inside the offscreen screen, which clamps restored geometry
    first.close()

    second = _open(qtbot)
    assert second.folders.roots() == [photo_tree] and second.threshold.slider.value() == 6
    assert second.size().toTuple() == (660, 520)
    second.restore_last_review()
    qtbot.waitUntil(lambda: second.scan_thread is None and second.session is not None, timeout=30_000)
    qtbot.waitUntil(lambda: not second.regrouper.busy(), timeout=10_000)
    assert second.session is not None and second.session.result.stats.analysed == 0
    assert _names(second) == names and second.session.mark(toggled).keep == mark
    second.close()


def test_dropping_a_folder_adds_it(qtbot: QtBot, tmp_path: Path) -> None:
    window = _open(qtbot)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(tmp_path)), QUrl.fromLocalFile(os.devnull)])
    drop = QDropEvent(
        QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    window.dropEvent(drop)
    assert window.folders.roots() == [tmp_path]
    window.close()


def test_an_interrupted_trash_command_is_offered_for_recovery(qtbot: QtBot, photo_tree: Path) -> None:
    file = photo_tree / "d.jpg"
    record = FileRecord(file, file.stat().st_size, file.stat().st_mtime_ns, "0" * 40)
    with Journal() as log:
        log.begin_batch("trash", {}, [Planned("trash", record, ())])  # planned, never run: cut short
    window = _open(qtbot)
    qtbot.waitUntil(lambda: window.trash.dialog is not None, timeout=5000)
    dialog = window.trash.dialog
    assert dialog is not None and "interrupted" in dialog.text()
    put_back = next(b for b in dialog.buttons() if b.text() == "Put back")
    with qtbot.waitSignal(window.trash.finished, timeout=10_000):
        put_back.click()
    assert file.exists() and not actions.incomplete_batches()
    window.close()


def test_the_status_bar_is_there_from_the_start(qtbot: QtBot) -> None:
    window = _open(qtbot)
    assert window.findChild(QStatusBar) is not None and window.statusBar().isVisible()


def test_folder_filter_offers_the_folders_holding_duplicates(qtbot: QtBot, photo_tree: Path) -> None:
    (photo_tree / "more").mkdir()
    (photo_tree / "more/d copy.jpg").write_bytes((photo_tree / "d.jpg").read_bytes())
    (photo_tree / "alone").mkdir()
    (photo_tree / "alone/e.jpg").write_bytes((photo_tree / "notes.jpg").read_bytes())
    window = _open(qtbot)
    _scan(qtbot, window, [photo_tree])
    combo = window.folder_filter
    labels = [combo.itemText(i) for i in range(combo.count())]
    assert labels == ["All folders", "photos", "photos/copies", "photos/more"]  # not "alone": nothing grouped there
    combo.setCurrentIndex(labels.index("photos/more"))
    assert window.model.rowCount() == 1
    assert window.model.index(0, 0).data().splitlines() == ["d.jpg", "photos"]  # the kept file, then its folder
    _scan(qtbot, window)  # a rescan keeps the chosen folder
    assert combo.currentText() == "photos/more" and window.model.rowCount() == 1
    combo.setCurrentIndex(labels.index("photos/copies"))
    assert window.model.rowCount() == 3
    window.close()


def test_the_threshold_is_scored_against_accepted_groups(qtbot: QtBot, window: MainWindow) -> None:
    assert window.labels_label.isHidden()  # nothing decided yet
    for _ in range(window.model.rowCount()):
        qtbot.keyClick(window.table, Qt.Key.Key_A)  # accept every group, top to bottom
    assert not window.labels_label.isHidden()
    # a.jpg's two copies and b.png's one; c copy.jpg has c.jpg's very bytes, which says nothing of a threshold
    assert window.labels_label.text() == "At this threshold: 3 of 3 copies you confirmed are grouped"
    window.threshold.slider.setValue(2)  # strict enough to split b.png from b_bright.jpg (hash distance 6)
    qtbot.waitUntil(lambda: window.labels_label.text().startswith("At this threshold: 2 of 3"), timeout=5000)


def test_with_a_folder_chosen_the_summary_and_the_trash_cover_only_the_groups_shown(
    qtbot: QtBot, photo_tree: Path
) -> None:
    (photo_tree / "more").mkdir()
    (photo_tree / "more/d copy.jpg").write_bytes((photo_tree / "d.jpg").read_bytes())
    window = _open(qtbot)
    _scan(qtbot, window, [photo_tree])
    assert window.summary_label.text().startswith("4 groups · 5 files marked")
    window.folder_filter.setCurrentIndex(window.folder_filter.findText("photos/more"))
    assert window.summary_label.text().startswith("1 of 4 groups shown · 1 file marked")
    session = window.session
    assert session is not None
    shown = session.groups[window.model.group_number(0)]
    marked = [session.result.files[m].ref.path for m in session.marked_for_removal([shown])]
    hidden = {session.result.files[m].ref.path for m in session.marked_for_removal()} - set(marked)
    assert len(marked) == 1 and len(hidden) == 4
    window.trash_action.trigger()
    dialog = window.trash.dialog
    assert dialog is not None and dialog.text().startswith("Move 1 marked file (")
    assert dialog.text().endswith(") in the 1 group shown to the trash?")
    assert "outside" not in dialog.text()  # the one file marked lies in the folder chosen
    move = next(b for b in dialog.buttons() if dialog.buttonRole(b) == QMessageBox.ButtonRole.AcceptRole)
    with qtbot.waitSignal(window.trash.finished, timeout=20_000):
        move.click()
    assert not marked[0].exists() and all(p.exists() for p in hidden)  # marked, but hidden by the filter
    qtbot.waitUntil(lambda: window.model.rowCount() == 0, timeout=5000)
    assert window.compare._empty.text() == "No groups to show here."
    window.close()


def test_the_first_window_fits_a_small_screen() -> None:
    assert _first_size(QSize(1366, 745)) == QSize(1229, 670)  # a laptop's free area, below its panel
    assert _first_size(QSize(2560, 1400)) == QSize(1400, 860)


def test_the_selected_group_stays_selected_when_the_slider_regroups(qtbot: QtBot, window: MainWindow) -> None:
    session = window.session
    assert session is not None
    for name in ("c.jpg", "a.jpg"):
        window.table.selectRow(window.model.row_of(_group_of(window, name)) or 0)
        window.threshold.slider.setValue(4)  # b.png's group (hash distance 6) goes; the others renumber
        qtbot.waitUntil(lambda: window.model.rowCount() == 2, timeout=5000)
        assert window._current == _group_of(window, name)
        window.threshold.slider.setValue(8)
        qtbot.waitUntil(lambda: window.model.rowCount() == 3, timeout=5000)
        assert window._current == _group_of(window, name)


def test_a_narrow_list_hides_the_counts_to_leave_room_for_names(qtbot: QtBot, window: MainWindow) -> None:
    window.table.resize(GroupTable.NARROW + 100, 300)
    assert not window.table.isColumnHidden(Column.FILES)
    window.table.resize(GroupTable.NARROW - 100, 300)
    assert window.table.isColumnHidden(Column.FILES) and window.table.isColumnHidden(Column.MARKED)
    assert not window.table.isColumnHidden(Column.RECLAIM)


def test_the_trash_question_counts_marked_files_outside_the_folder_chosen(qtbot: QtBot, photo_tree: Path) -> None:
    (photo_tree / "more").mkdir()
    (photo_tree / "more/d copy.jpg").write_bytes((photo_tree / "d.jpg").read_bytes())
    window = _open(qtbot)
    _scan(qtbot, window, [photo_tree])
    window.folder_filter.setCurrentIndex(window.folder_filter.findText("photos/more"))
    session = window.session
    assert session is not None
    inside, outside = (_index_of(window, name) for name in ("d copy.jpg", "d.jpg"))
    session.set_keep(inside, True)
    session.set_keep(outside, False)  # keep the copy in the folder, trash the one outside it
    window.trash_action.trigger()
    dialog = window.trash.dialog
    assert dialog is not None and "in the 1 group shown, 1 of them outside photos/more" in dialog.text()
    dialog.reject()
    window.close()


def _index_of(window: MainWindow, name: str) -> int:
    session = window.session
    assert session is not None
    return next(i for i, f in enumerate(session.result.files) if f.ref.path.name == name)


def test_splitting_one_image_off_stays_with_the_rest_of_its_group(qtbot: QtBot, window: MainWindow) -> None:
    session = window.session
    assert session is not None
    window.table.selectRow(window.model.row_of(_group_of(window, "a.jpg")) or 0)
    assert window._current is not None
    second = window.compare.member_at(1)
    rest = set(session.groups[window._current].members) - {second}
    window.not_duplicates(1)  # Ctrl+2: image 2 is not a copy of the others, which still match image 1
    assert window._current is not None and set(session.groups[window._current].members) == rest


def test_a_right_click_on_the_list_acts_on_the_kept_file(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dedup_gui.ui import file_actions

    opened: list[str] = []
    monkeypatch.setattr(file_actions.QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()))
    session = window.session
    assert session is not None and window._current is not None
    kept = window.model.index(window.table.currentIndex().row(), 0).data().splitlines()[0]
    next(a for a in window.table.actions() if a.text() == "Open image").trigger()
    assert len(opened) == 1 and Path(opened[0]).name == kept.removeprefix("✓ ").split("  (")[0]
    monkeypatch.setattr(file_actions.QDesktopServices, "openUrl", lambda url: False)  # no application for it
    next(a for a in window.table.actions() if a.text() == "Show in folder").trigger()
    assert window.statusBar().currentMessage().startswith("No application on this desktop opens ")


def test_an_image_out_of_sight_is_shown_before_it_can_be_split_off(qtbot: QtBot, window: MainWindow) -> None:
    session = window.session
    assert session is not None
    window.table.selectRow(window.model.row_of(_group_of(window, "a.jpg")) or 0)
    window.compare.resize(2 * 212, 600)  # room for two of its three images
    qtbot.waitUntil(lambda: len(window.compare.panes()) == 2)
    members = set(session.groups[window._current or 0].members)
    window.not_duplicates(2)  # Ctrl+3: image 3 is on the next page
    assert window.compare.is_shown(2) and set(session.groups[window._current or 0].members) == members
    assert "press again" in window.statusBar().currentMessage()
    window.not_duplicates(2)  # now it is in sight: split off
    assert len(session.groups[window._current or 0].members) == len(members) - 1


def test_the_shortcut_sheet_stacks_its_menus_in_a_narrow_window(qtbot: QtBot, window: MainWindow) -> None:
    window.resize(900, 600)
    qtbot.keyClick(window.table, Qt.Key.Key_F1)
    narrow = window._help._text.text()
    qtbot.keyClick(window._help, Qt.Key.Key_Escape)
    assert narrow.count("<h3>") == 5 and narrow.count("<tr><td valign") == 3  # two menus a row
