"""The compare view: one pane per image, differing facts highlighted, shared zoom, swap and flicker."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QGuiApplication, QWheelEvent
from pytestqt.qtbot import QtBot

from dedup_gui.core.model import FileRef, ImageInfo, ScannedFile
from dedup_gui.ui import compare, file_actions
from dedup_gui.ui.compare import CompareView
from dedup_gui.ui.formatting import file_facts
from dedup_gui.ui.images import ImageLoader, read_image
from dedup_gui.ui.session import ReviewSession


def _view(qtbot: QtBot) -> CompareView:
    view = CompareView(ImageLoader(256), ImageLoader(0))
    qtbot.addWidget(view)
    view.resize(1200, 700)
    view.show()
    return view


def _group_with(review: ReviewSession, name: str) -> int:
    return next(n for n, g in enumerate(review.groups) if any(f.ref.path.name == name for f in review.files(g)))


def test_panes_facts_and_reasons(qtbot: QtBot, review: ReviewSession) -> None:
    view = _view(qtbot)
    view.show_group(review, _group_with(review, "a.jpg"))
    panes = view.panes()
    assert len(panes) == 3
    assert panes[0]._values["Dimensions"].autoFillBackground()  # 640 vs 320 wide: highlighted
    assert not panes[0]._values["Camera"].autoFillBackground()  # "—" for all: not highlighted
    assert "hash distance 0 (mirrored)" in view._reasons.text()
    badges = [p._badge.text() for p in panes]
    assert sorted(badges) == ["✓ Kept", "✗ To trash", "✗ To trash"]
    canvas = panes[0].canvas
    qtbot.waitUntil(lambda: canvas._preview is not None, timeout=10_000)
    view.show_group(review, _group_with(review, "c.jpg"))
    shown = [w for w in view.findChildren(type(panes[0])) if w.isVisible()]
    assert len(shown) == 2 and {p._title.text().split()[-1] for p in shown} == {"c.jpg", "copy.jpg"}


def test_the_images_of_a_group_line_up_whatever_their_texts(qtbot: QtBot, review: ReviewSession) -> None:
    view = _view(qtbot)
    view.resize(700, 700)  # narrow panes: names, folders and reasons wrap to different line counts
    view.show_group(review, _group_with(review, "a.jpg"))
    canvases = [pane.canvas for pane in view.panes()]

    def level() -> bool:
        tops = {canvas.mapTo(view, QPoint(0, 0)).y() for canvas in canvases}
        return len(tops) == 1 and len({canvas.height() for canvas in canvases}) == 1

    qtbot.waitUntil(level, timeout=5000)
    heads = {pane.head.height() for pane in view.panes()}
    assert len(heads) == 1 and heads.pop() >= max(pane.natural_heights()[0] for pane in view.panes())


def test_zoom_is_shared_and_relative_to_each_image(qtbot: QtBot, review: ReviewSession) -> None:
    view = _view(qtbot)
    view.show_group(review, _group_with(review, "a.jpg"))
    canvases = [p.canvas for p in view.panes()]
    assert view.zoom.fit
    view.actions_["actual"].trigger()
    assert [c.scale() for c in canvases] == [1.0, 1.0, 1.0]
    assert view._zoom_label.text() == "Zoom: 100 %"
    first = canvases[0]
    centre = QPointF(first.width() / 2, first.height() / 2)
    wheel = QWheelEvent(
        centre,
        first.mapToGlobal(centre),
        QPoint(),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    first.wheelEvent(wheel)
    assert all(abs(c.scale() - 1.25) < 1e-9 for c in canvases)
    view.zoom.set_view(2.0, QPointF(0.25, 0.5))
    view.actions_["fit"].trigger()
    assert view.zoom.fit and view.zoom.centre == QPointF(0.5, 0.5)


def test_swap_and_flicker_show_one_image_at_a_time(qtbot: QtBot, review: ReviewSession) -> None:
    view = _view(qtbot)
    view.show_group(review, _group_with(review, "c.jpg"))
    view.actions_["swap"].trigger()
    visible = [not p.isHidden() for p in view.panes()]
    assert visible == [True, False] and view._page_label.text() == "Image 1 of 2"  # says which one is shown
    view.actions_["next"].trigger()
    assert [not p.isHidden() for p in view.panes()] == [False, True] and view._page_label.text() == "Image 2 of 2"
    view._flicker.setInterval(20)
    view.actions_["flicker"].trigger()
    assert view._flicker.isActive()
    with qtbot.waitSignal(view._flicker.timeout, timeout=2000):
        pass
    assert [not p.isHidden() for p in view.panes()] == [True, False]
    view.actions_["swap"].trigger()
    assert not view._flicker.isActive() and all(not p.isHidden() for p in view.panes())
    assert view._page_label.text() == ""  # side by side again: nothing to say for a group on one page


def test_badge_click_asks_to_toggle(qtbot: QtBot, review: ReviewSession) -> None:
    view = _view(qtbot)
    view.show_group(review, 0)
    pane = view.panes()[1]
    with qtbot.waitSignal(view.toggle_requested) as asked:
        pane._badge.click()
    assert asked.args == [review.groups[0].members[1]]


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    path = tmp_path / "portrait.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # stored turned left: shown after a quarter turn right
    Image.new("RGB", (40, 30), "red").save(path, exif=exif)
    assert read_image(path).size().toTuple() == (30, 40)
    assert read_image(path, 20).size().toTuple() == (15, 20)


def test_a_page_holds_the_images_that_fit_and_keys_bring_theirs_into_sight(qtbot: QtBot, review: ReviewSession) -> None:
    view = _view(qtbot)
    view.resize(2 * compare.PANE_MIN_WIDTH + 50, 700)  # room for two images
    number = _group_with(review, "a.jpg")
    view.show_group(review, number)
    order = view._order
    assert view.shown_members() == order[:2] and view._page_label.text() == "Images 1–2 of 3"
    assert not view.actions_["previous_page"].isEnabled()
    view.actions_["next_page"].trigger()
    assert view.shown_members() == order[2:] and view._page_label.text() == "Image 3 of 3"  # pages never overlap
    assert [p._title.text()[0] for p in view.panes()] == ["3"]  # numbers stay those of the group
    assert "3" in view._reasons.text() and "1–2" not in view._reasons.text()  # the pairs of the image shown
    assert view.member_at(0) == order[0] and view.shown_members() == order[:2]  # key 1: image 1 turned into sight
    view.resize(1200, 700)
    qtbot.waitUntil(lambda: len(view.panes()) == 3)  # wider: the whole group on one page
    assert view._page_label.text() == "" and view.member_at(5) is None


def test_the_rules_choice_comes_first_and_numbers_stay_put_when_marks_change(
    qtbot: QtBot, review: ReviewSession
) -> None:
    view = _view(qtbot)
    number = _group_with(review, "a.jpg")
    picked = review.rules_pick(review.groups[number])
    other = next(m for m in review.groups[number].members if m != picked)
    view.show_group(review, number)
    assert view.shown_members()[0] == picked and view.panes()[0]._title.text().startswith("1  ")
    assert view._reasons.text().startswith("Why they match: 1–")
    assert review.set_keep(other, True) is None and review.set_keep(picked, False) is None  # another kept by hand
    view.show_group(review, _group_with(review, "c.jpg"))
    view.show_group(review, number)  # back again
    assert view.shown_members()[0] == picked


def test_a_selected_name_copies_without_its_wrap_points(qtbot: QtBot) -> None:
    label = compare.WrappedText()
    qtbot.addWidget(label)
    name = "vacation_photo_" + "x" * 40 + "final.jpg"
    label.setText(compare._breakable(name))
    label.show()
    label.setSelection(0, len(label.text()))
    qtbot.keyClick(label, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == name
    label.setSelection(0, 0)
    QGuiApplication.clipboard().setText("before")
    qtbot.keyClick(label, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)  # nothing selected: nothing copied
    assert QGuiApplication.clipboard().text() == "before"


def test_long_names_can_wrap_everywhere_and_tiny_images_say_so() -> None:
    name = "vacation_photo_" + "x" * 40 + "final.jpg"
    pieces = compare._breakable(name).split("\u200b")
    assert "".join(pieces) == name and max(len(p) for p in pieces) <= compare.UNBROKEN_RUN
    assert compare._breakable("IMG_0001.jpg") == "IMG_\u200b0001.\u200bjpg"  # short parts are left whole
    accented = "e\u0301" * 30  # decomposed accents, as macOS stores names
    assert "\u200b\u0301" not in compare._breakable(accented) and "\u200b" in compare._breakable(accented)
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467" * 8  # emoji joined into one picture
    assert "\u200d\u200b" not in compare._breakable(family) and "\u200b\u200d" not in compare._breakable(family)
    tiny = ScannedFile(FileRef(Path("/p/t.png"), 9, 0, 0, 1), "d", ImageInfo(16, 16, "PNG"))
    assert file_facts(tiny)["Dimensions"] == "16 × 16 (< 0.01 MP)"


def test_a_right_click_opens_the_image_or_its_folder_or_copies_its_path(
    qtbot: QtBot, review: ReviewSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    monkeypatch.setattr(file_actions.QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()))
    view = _view(qtbot)
    view.show_group(review, _group_with(review, "a.jpg"))
    pane = view.panes()[0]
    path = review.result.files[pane.file_index].ref.path
    actions = {action.text(): action for action in pane.actions()}
    actions["Open image"].trigger()
    actions["Show in folder"].trigger()
    assert opened == [str(path), str(path.parent)]
    actions["Copy path"].trigger()
    assert QGuiApplication.clipboard().text() == str(path)
