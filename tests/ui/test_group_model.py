"""The groups list model: Qt's model checks, sorting, folder filter, lazy thumbnails."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from dedup_gui.ui.group_model import Column, GroupTableModel, short_folder
from dedup_gui.ui.images import ImageLoader
from dedup_gui.ui.session import ReviewSession


def _model(review: ReviewSession | None) -> GroupTableModel:
    model = GroupTableModel(ImageLoader(48))
    model.set_session(review)
    return model


def _column(model: GroupTableModel, column: Column) -> list[str]:
    return [model.index(row, column).data() for row in range(model.rowCount())]


def test_model_passes_qt_checks_through_resets(qtmodeltester: ModelTester, review: ReviewSession) -> None:
    model = _model(None)
    qtmodeltester.check(model, force_py=True)
    model.set_session(review)
    model.sort(Column.FILES, Qt.SortOrder.AscendingOrder)
    model.set_folder(review.result.options.roots[0] / "copies")
    model.marks_changed(0)
    assert model.rowCount() == 3


def test_sorting_by_each_column(review: ReviewSession) -> None:
    model = _model(review)
    freed = [
        sum(f.ref.size for f in review.files(g) if not review.mark(review.result.files.index(f)).keep)
        for g in review.groups
    ]
    assert [freed[model.group_number(r)] for r in range(3)] == sorted(freed, reverse=True)  # the default order
    model.sort(Column.FILES, Qt.SortOrder.DescendingOrder)
    assert _column(model, Column.FILES) == ["3", "2", "2"]
    model.sort(Column.MATCH, Qt.SortOrder.AscendingOrder)
    assert _column(model, Column.MATCH) == ["identical", "hash 0", "hash 6"]
    model.sort(Column.GROUP, Qt.SortOrder.DescendingOrder)
    folder_then_name = [tuple(reversed(text.splitlines())) for text in _column(model, Column.GROUP)]
    assert folder_then_name == sorted(folder_then_name, reverse=True) and len(set(folder_then_name)) == 3


def test_folder_filter_and_row_lookup(review: ReviewSession, photo_tree: Path) -> None:
    model = _model(review)
    model.set_folder(photo_tree / "copies")
    assert model.rowCount() == 3
    model.set_folder(photo_tree / "nowhere")
    assert model.rowCount() == 0
    assert model.row_of(0) is None
    model.set_folder(None)
    assert {model.group_number(r) for r in range(3)} == {0, 1, 2}
    assert all(model.row_of(model.group_number(r)) == r for r in range(3))


def test_thumbnails_load_off_thread_then_show(qtbot: QtBot, review: ReviewSession) -> None:
    loader = ImageLoader(48)
    model = GroupTableModel(loader)
    model.set_session(review)
    index = model.index(0, Column.GROUP)
    assert index.data(Qt.ItemDataRole.DecorationRole) is None  # queued, not decoded here
    with qtbot.waitSignal(model.dataChanged, timeout=10_000):
        pass
    pixmap = index.data(Qt.ItemDataRole.DecorationRole)
    assert isinstance(pixmap, QPixmap) and max(pixmap.width(), pixmap.height()) == 48
    loader.shutdown()


def test_a_group_that_keeps_more_than_one_file_says_so(review: ReviewSession) -> None:
    model = _model(review)
    row = next(r for r in range(model.rowCount()) if model.index(r, Column.FILES).data() == "3")
    number = model.group_number(row)
    removed = next(m for m in review.groups[number].members if not review.mark(m).keep)
    assert "kept)" not in model.index(row, Column.GROUP).data()
    review.set_keep(removed, True)
    model.marks_changed(number)
    assert model.index(row, Column.GROUP).data().splitlines()[0].endswith("  (+1 kept)")


def test_totals_follow_marks_and_the_folder_filter(review: ReviewSession, photo_tree: Path) -> None:
    model = _model(review)
    marked = review.marked_for_removal()
    assert model.totals() == (3, len(marked), sum(review.result.files[m].ref.size for m in marked))
    kept_again = marked[0]
    review.set_keep(kept_again, True)
    model.marks_changed(review.group_of(kept_again))
    assert model.totals()[1] == len(marked) - 1
    model.set_folder(photo_tree / "nowhere")
    assert model.totals() == (0, 0, 0)


def test_folders_are_named_from_their_innermost_root() -> None:
    roots = [Path("/p"), Path("/p/copies"), Path("/")]
    assert short_folder(Path("/p/copies/2019"), roots) == "copies/2019"
    assert short_folder(Path("/p/other"), roots) == "p/other"
    assert short_folder(Path("/srv/x"), roots) == "/srv/x"  # under the file system's root: its whole path
