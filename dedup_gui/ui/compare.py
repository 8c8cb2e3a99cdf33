"""The selected group side by side: every image at one shared zoom and position, its facts, its mark.

Zoom is relative to each image's own pixels (100 % shows every image pixel for pixel) and the position is
shared in relative coordinates, so panning shows the same part of a full-size original and of its
half-size copy. Swap mode shows one image at a time in one large pane; flicker swaps on a timer, which
makes small differences jump out.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, QSize, QSizeF, Qt, QTimer, Signal, Slot
from PySide6.QtGui import (
    QAction,
    QClipboard,
    QContextMenuEvent,
    QGuiApplication,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPixmap,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMenu,
    QScrollArea,
    QSizePolicy,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from dedup_gui.core.graph import explain
from dedup_gui.core.model import ScannedFile
from dedup_gui.ui import style
from dedup_gui.ui.accessible import named
from dedup_gui.ui.file_actions import add_file_actions
from dedup_gui.ui.formatting import FIELDS, differing_fields, file_facts
from dedup_gui.ui.images import ImageLoader
from dedup_gui.ui.session import Mark, ReviewSession

MIN_ZOOM, MAX_ZOOM = 0.02, 32.0
WHEEL_STEP = 1.25
FLICKER_MS = 500
MAX_REASONS = 12
PANE_MIN_WIDTH = 200
PANE_SPACING = 12
"""Room a pane takes beside its minimum width (layout spacing and frame), for counting how many fit."""
WIDE_PANE = 360
"""From this width on, a pane shows the reason beside the keep/remove badge rather than under it."""
UNBROKEN_RUN = 8
"""Longest run of a name shown without a place to wrap: narrower than the facts' value column of the
narrowest pane."""
ZERO_WIDTH_JOINER = "\u200d"
ZERO_WIDTH_SPACE = "\u200b"
"""Where ``_breakable`` lets a line wrap; ``WrappedText`` copies without them."""
PAGE_SIZE = 8
"""Most images side by side at once (and keys 1-8); a larger group is paged, so a huge group never builds 50
panes."""


def number(position: int) -> str:
    """An image's name within its group: 1, 2, ... as the keys that toggle it (on the first page), used in
    the match reasons."""
    return str(position + 1)


class ZoomState(QObject):
    """Zoom and centre shared by every canvas of the compare view.

    Signals:
        changed(): any of ``fit``, ``zoom`` or ``centre`` changed.
    """

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.fit = True
        self.zoom = 1.0
        self.centre = QPointF(0.5, 0.5)

    def set_fit(self) -> None:
        self.fit, self.centre = True, QPointF(0.5, 0.5)
        self.changed.emit()

    def set_view(self, zoom: float, centre: QPointF | None = None) -> None:
        self.fit = False
        self.zoom = min(max(zoom, MIN_ZOOM), MAX_ZOOM)
        if centre is not None:
            self.centre = QPointF(min(max(centre.x(), 0.0), 1.0), min(max(centre.y(), 0.0), 1.0))
        self.changed.emit()

    def label(self) -> str:
        return "Fit" if self.fit else f"{self.zoom * 100:.0f} %"


class ImageCanvas(QWidget):
    """Paints one image at the shared zoom; the wheel zooms about the cursor, dragging pans every canvas.

    A screen-sized preview is shown first; the full image is loaded only when the zoom needs its pixels.
    """

    def __init__(self, zoom: ZoomState, preview: ImageLoader, full: ImageLoader, parent: QWidget | None = None):
        super().__init__(parent)
        self._zoom, self._preview_loader, self._full_loader = zoom, preview, full
        self._file: ScannedFile | None = None
        self._preview: QPixmap | None = None
        self._full: QPixmap | None = None
        self._scaled: tuple[int, QSize, QPixmap] | None = None  # cached downscale of the whole image
        self._drag: QPointF | None = None
        self.setMinimumSize(160, 120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setCursor(Qt.CursorShape.OpenHandCursor)
        zoom.changed.connect(self.update)
        preview.ready.connect(self._on_ready)
        full.ready.connect(self._on_ready)

    def set_file(self, file: ScannedFile | None) -> None:
        self._file = file
        self._full = self._scaled = None
        self._preview = None if file is None else self._preview_loader.pixmap(file.ref.path, file.ref.mtime_ns)
        self.setAccessibleName(f"Image {file.ref.path.name}" if file else "No image")
        self.update()

    def natural_size(self) -> QSizeF:
        """The image's own size, upright; known from the scan, else from the preview."""
        if self._file is not None and self._file.info is not None:
            return QSizeF(self._file.info.width, self._file.info.height)
        source = self._full or self._preview
        return QSizeF(source.size()) if source is not None and not source.isNull() else QSizeF()

    def scale(self) -> float:
        """Screen pixels per image pixel at the current zoom."""
        size = self.natural_size()
        if size.isEmpty():
            return 1.0
        if self._zoom.fit:
            return min(self.width() / size.width(), self.height() / size.height())
        return self._zoom.zoom

    def _image_rect(self) -> QRectF:
        """Where the image is drawn: the shared centre in the middle, except that an image smaller than the
        canvas on a side is centred on it, and a larger one never leaves an empty margin."""
        size = self.natural_size()
        scale = self.scale()
        shown = QSizeF(size.width() * scale, size.height() * scale)
        centre = (0.5, 0.5) if self._zoom.fit else (self._zoom.centre.x(), self._zoom.centre.y())
        left = _place(self.width(), shown.width(), centre[0])
        top = _place(self.height(), shown.height(), centre[1])
        return QRectF(QPointF(left, top), shown)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().color(QPalette.ColorRole.Window).darker(112))
        if self._file is None:
            return
        target = self._image_rect()
        source = self._source(target)
        if source is None or source.isNull():
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            text = "Loading…" if source is None else "This image cannot be displayed"
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, text)
            return
        whole = QRectF(self.rect()).contains(target)
        if whole and target.width() < source.width():
            painter.drawPixmap(target.topLeft(), self._downscaled(source, target.size().toSize()))
            return
        visible = target.intersected(QRectF(self.rect()))
        ratio = source.width() / target.width()
        cut = QRectF((visible.topLeft() - target.topLeft()) * ratio, visible.size() * ratio)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, ratio > 0.5)  # sharp pixels above 200 %
        painter.drawPixmap(visible, source, cut)

    def _source(self, target: QRectF) -> QPixmap | None:
        """The preview, or the full image once the zoom shows more pixels than the preview has."""
        if self._full is not None:
            return self._full
        preview = self._preview
        if preview is not None and not preview.isNull() and target.width() <= preview.width() * 1.05:
            return preview
        assert self._file is not None
        self._full = self._full_loader.pixmap(self._file.ref.path, self._file.ref.mtime_ns)
        return self._full or preview

    def _downscaled(self, source: QPixmap, size: QSize) -> QPixmap:
        key = source.cacheKey()
        if self._scaled is None or self._scaled[0] != key or self._scaled[1] != size:
            mode = Qt.TransformationMode.SmoothTransformation
            self._scaled = (key, size, source.scaled(size, Qt.AspectRatioMode.IgnoreAspectRatio, mode))
        return self._scaled[2]

    @Slot(str, QPixmap)
    def _on_ready(self, key: str, pixmap: QPixmap) -> None:
        if self._file is None:
            return
        ref = self._file.ref
        if key == self._preview_loader.key(ref.path, ref.mtime_ns):
            self._preview = pixmap
            self.update()
        elif key == self._full_loader.key(ref.path, ref.mtime_ns):
            self._full = pixmap
            self.update()

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120
        if steps:
            self.zoom_about(event.position(), WHEEL_STEP**steps)
        event.accept()

    def zoom_about(self, point: QPointF, factor: float) -> None:
        """Zoom by ``factor`` keeping the image point under ``point`` where it is."""
        target = self._image_rect()
        if target.isEmpty():
            return
        anchor = QPointF((point.x() - target.x()) / target.width(), (point.y() - target.y()) / target.height())
        zoom = min(max(self.scale() * factor, MIN_ZOOM), MAX_ZOOM)
        size = self.natural_size()
        shift = QPointF(
            (point.x() - self.width() / 2) / (size.width() * zoom),
            (point.y() - self.height() / 2) / (size.height() * zoom),
        )
        self._zoom.set_view(zoom, self._reachable(anchor - shift, zoom))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._drag = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag is None:
            return
        target = self._image_rect()
        delta = event.position() - self._drag
        self._drag = event.position()
        if self._zoom.fit or target.isEmpty():
            return  # the whole image is in view: nothing to pan
        centre = self._zoom.centre - QPointF(delta.x() / target.width(), delta.y() / target.height())
        self._zoom.set_view(self._zoom.zoom, self._reachable(centre, self._zoom.zoom))

    def _reachable(self, centre: QPointF, zoom: float) -> QPointF:
        """The nearest centre this canvas can show at ``zoom`` (so a drag back moves the image at once)."""
        size = self.natural_size()
        x = _reachable_centre(centre.x(), self.width(), size.width() * zoom)
        y = _reachable_centre(centre.y(), self.height(), size.height() * zoom)
        return QPointF(x, y)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._drag = None
        self.setCursor(Qt.CursorShape.OpenHandCursor)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self._zoom.fit:
            self.zoom_about(event.position(), 1.0 / self.scale())
        else:
            self._zoom.set_fit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._scaled = None
        super().resizeEvent(event)


def _place(room: float, length: float, centre: float) -> float:
    """Start of a ``length`` long image on a ``room`` long canvas with its relative point ``centre`` in the
    middle, clamped so the image covers the canvas when it can."""
    if length <= room:
        return (room - length) / 2
    start = room / 2 - centre * length
    return min(0.0, max(room - length, start))


def _reachable_centre(centre: float, room: float, length: float) -> float:
    if length <= room:
        return 0.5
    margin = room / (2 * length)
    return min(max(centre, margin), 1 - margin)


KEPT = "✓ Kept"
TO_TRASH = "✗ To trash"


def _breakable(text: str, separators: str = "/\\_-.") -> str:
    """Let a long name or path wrap after separators, and inside any long run without one (a zero-width space
    after each separator and every ``UNBROKEN_RUN`` characters of such a run), so nothing is cut off unseen;
    never inside one visible character (a letter and its accent, an emoji sequence)."""
    pieces, run = [], 0
    for index, char in enumerate(text):
        pieces.append(char)
        run = 0 if char.isspace() else run + 1
        following = text[index + 1 : index + 2]
        may_break = following and not following.isspace() and not _joined(char, following)
        if may_break and (char in separators or run >= UNBROKEN_RUN):
            pieces.append(ZERO_WIDTH_SPACE)
            run = 0
    return "".join(pieces)


class WrappedText(QLabel):
    """Selectable text with ``_breakable``'s wrap points, whose selection copies without them, so a copied
    name or folder can be pasted into a file manager or a terminal as it is."""

    def __init__(self) -> None:
        super().__init__(textInteractionFlags=Qt.TextInteractionFlag.TextSelectableByMouse, wordWrap=True)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def selection(self) -> str:
        return self.selectedText().replace(ZERO_WIDTH_SPACE, "")

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.StandardKey.Copy) and self.hasSelectedText():
            QGuiApplication.clipboard().setText(self.selection())
        else:
            super().keyPressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        super().mouseReleaseEvent(event)
        clipboard = QGuiApplication.clipboard()
        if self.hasSelectedText() and clipboard.supportsSelection():  # X11's middle-click paste
            clipboard.setText(self.selection(), QClipboard.Mode.Selection)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        """Copy the selection; with none, the pane's own menu (open, show in folder, copy path)."""
        if not self.hasSelectedText():
            event.ignore()
            return
        menu = QMenu(self)
        menu.addAction("Copy", lambda: QGuiApplication.clipboard().setText(self.selection()))
        menu.addAction("Select All", lambda: self.setSelection(0, len(self.text())))
        menu.exec(event.globalPos())


def _joined(char: str, following: str) -> bool:
    """Whether the two belong to one visible character: a combining mark, a variation selector or an emoji
    modifier follows, or a zero-width joiner links them."""
    return (
        unicodedata.category(following) in ("Mn", "Mc", "Me")
        or "\U0001f3fb" <= following <= "\U0001f3ff"
        or ZERO_WIDTH_JOINER in (char, following)
    )


def _height_at_width(block: QWidget) -> int:
    layout = block.layout()
    if layout is not None and layout.hasHeightForWidth():
        return layout.totalHeightForWidth(block.width())
    return block.sizeHint().height()


class ElidedLabel(QLabel):
    """A one-line label that shortens its text in the middle to fit (file names keep their extension)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def set_full_text(self, text: str) -> None:
        self._full = text
        self._elide()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        self.setText(self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideMiddle, max(self.width(), 40)))


class ImagePane(QFrame):
    """One image of the group: its number and name, keep/remove badge with the reason, canvas and facts.

    Signals:
        toggle_requested(int): the badge was clicked; carries the file's index in the scan.
    """

    toggle_requested = Signal(int)

    def __init__(self, zoom: ZoomState, preview: ImageLoader, full: ImageLoader, parent: QWidget | None = None):
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setMinimumWidth(PANE_MIN_WIDTH)
        self.file_index = -1
        self._mark: Mark | None = None
        self._title = ElidedLabel()
        font = self._title.font()
        font.setBold(True)
        self._title.setFont(font)
        self._badge = QToolButton()
        self._badge.clicked.connect(lambda: self.toggle_requested.emit(self.file_index))
        self._reason = QLabel(wordWrap=True)
        self._reason.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.canvas = ImageCanvas(zoom, preview, full)
        self._values: dict[str, WrappedText] = {}
        self.facts = QWidget()
        facts = QGridLayout(self.facts)
        facts.setContentsMargins(0, 0, 0, 0)
        facts.setHorizontalSpacing(8)
        facts.setVerticalSpacing(1)
        for row, name in enumerate(FIELDS):
            facts.addWidget(QLabel(f"{name}:"), row, 0, Qt.AlignmentFlag.AlignTop)
            value = WrappedText()
            value.setAccessibleName(name)
            self._values[name] = value
            facts.addWidget(value, row, 1)
        facts.setColumnStretch(1, 1)
        facts.setRowStretch(len(FIELDS), 1)
        self._colour_facts()
        # The name gets the pane's whole width; the badge sits beside the reason it gives, or above it in a
        # narrow pane, where a reason squeezed beside the badge would take five lines.
        self.head = QWidget()
        self._head = QGridLayout(self.head)
        self._head.setContentsMargins(0, 0, 0, 0)
        self._head.addWidget(self._title, 0, 0, 1, 2)
        self._head.addWidget(self._badge, 1, 0, Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self._reason_beside: bool | None = None
        self._place_reason(beside=True)
        self._head.setColumnStretch(1, 1)
        self._head.setRowStretch(3, 1)  # room given to level this pane with taller ones goes below, not between
        layout = QVBoxLayout(self)
        layout.addWidget(self.head)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.facts)
        self._path: Path | None = None
        add_file_actions(self, lambda: self._path)

    def _place_reason(self, beside: bool) -> None:
        if beside != self._reason_beside:
            self._reason_beside = beside
            self._head.removeWidget(self._reason)
            self._head.addWidget(self._reason, *((1, 1, 1, 1) if beside else (2, 0, 1, 2)))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._place_reason(beside=self.width() >= WIDE_PANE)

    def level_with(self, head_height: int, facts_height: int) -> None:
        """Give the blocks above and below the image these heights, the tallest of the group's panes, so that
        every image of the group starts at the same height and has the same room."""
        self.head.setFixedHeight(head_height)
        self.facts.setFixedHeight(facts_height)

    def natural_heights(self) -> tuple[int, int]:
        """The heights the name-and-verdict block and the facts block need at the pane's current width."""
        return _height_at_width(self.head), _height_at_width(self.facts)

    def show_file(self, position: int, file_index: int, file: ScannedFile, mark: Mark, differing: set[str]) -> None:
        """Show the group's ``position``-th image (shown as image ``position + 1``; keys 1-8 toggle 1-8)."""
        self.file_index = file_index
        self._path = file.ref.path
        self._title.set_full_text(f"{number(position)}  {file.ref.path.name}")
        self._title.setToolTip(str(file.ref.path))
        self.canvas.set_file(file)
        for name, value in file_facts(file).items():
            label = self._values[name]
            label.setText(_breakable(value) if name in ("Name", "Folder") else value)
            label.setToolTip(value)
            label.setAutoFillBackground(name in differing)  # a palette, not a style sheet: cheap to switch
        self.set_mark(mark, position)

    def set_mark(self, mark: Mark, position: int) -> None:
        self._mark = mark
        self._badge.setText(KEPT if mark.keep else TO_TRASH)  # states, not commands: the tooltip says what a click does
        self._style_badge()
        self._badge.setAccessibleName(f"Image {number(position)}: {'keep' if mark.keep else 'remove'}; click to change")
        self._badge.setToolTip(
            f"Click or press {number(position)} to mark it for {'removal' if mark.keep else 'keeping'}"
            if position < PAGE_SIZE
            else "Click to change"
        )
        self._reason.setText(_breakable(mark.reason, "/\\_."))  # not after hyphens: dates stay whole

    def _style_badge(self) -> None:
        """Style sheets are slow to apply (a re-polish each time): only when the look actually changes."""
        sheet = style.badge_style(self._mark is None or self._mark.keep, self.palette())
        if sheet != self._badge.styleSheet():
            self._badge.setStyleSheet(sheet)

    def _colour_facts(self) -> None:
        for label in self._values.values():
            palette = label.palette()
            palette.setColor(QPalette.ColorRole.Window, style.difference_background(self.palette()))
            label.setPalette(palette)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._style_badge()
            self._colour_facts()
        super().changeEvent(event)


class CompareView(QWidget):
    """The images of the selected group, with the reasons its pairs matched.

    Signals:
        toggle_requested(int): the person asked to flip keep/remove of this file (index into the scan).
    """

    toggle_requested = Signal(int)

    def __init__(self, preview: ImageLoader, full: ImageLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.zoom = ZoomState(self)
        self._loaders = (preview, full)
        self._session: ReviewSession | None = None
        self._group: int | None = None
        self._panes: list[ImagePane] = []  # a pool: the first ``_active`` show the current page
        self._active = 0
        self._first = 0  # position in the group of the first image shown
        self._shown_page = PAGE_SIZE  # the page size the current images were laid out for
        self._order: list[int] = []  # the group's members as shown: the kept file first
        self._swap_index = 0
        self._flicker = QTimer(self, interval=FLICKER_MS)
        self._flicker.timeout.connect(self.next_image)
        self._level = QTimer(self, singleShot=True, interval=0)  # once the event loop has laid the panes out
        self._level.timeout.connect(self._level_panes)
        self.actions_ = self._make_actions()
        self._zoom_label = named(QLabel("Zoom: Fit"), "Zoom level")
        self.zoom.changed.connect(lambda: self._zoom_label.setText(f"Zoom: {self.zoom.label()}"))
        bar = QToolBar("Compare")
        self._page_label = named(QLabel(), "Images shown")
        # Paging comes first, where a narrow window cannot push it out of sight; it shows only for large groups.
        bar.addAction(self.actions_["previous_page"])
        self._page_label_action = bar.addWidget(self._page_label)
        bar.addAction(self.actions_["next_page"])
        self._page_separator = bar.addSeparator()
        for name, action in self.actions_.items():
            if name == "swap":
                bar.addSeparator()
            if not name.endswith("_page"):
                bar.addAction(action)
        bar.addSeparator()
        bar.addWidget(self._zoom_label)
        self._row = QHBoxLayout()
        self._row.setContentsMargins(0, 0, 0, 0)
        strip = QWidget()
        strip.setLayout(self._row)
        self._scroll = QScrollArea(widgetResizable=True)
        self._scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._scroll.setWidget(strip)
        # Images keep at least the canvas's minimum height: facts that do not fit below them scroll into view.
        self._scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self._reasons = named(QLabel(wordWrap=True), "Why these images match")
        self._reasons.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._empty = QLabel("Select a group to compare its images.", alignment=Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(bar)
        layout.addWidget(self._empty, 1)
        layout.addWidget(self._scroll, 1)
        layout.addWidget(self._reasons)
        self._scroll.hide()

    def _make_actions(self) -> dict[str, QAction]:
        def action(name: str, text: str, keys: list[str], slot: object, checkable: bool = False) -> QAction:
            item = QAction(text, self, checkable=checkable)
            item.setShortcuts([QKeySequence(k) for k in keys])
            item.triggered.connect(slot)
            item.setToolTip(f"{text} ({', '.join(keys)})")
            return item

        return {
            "fit": action("fit", "Zoom to fit", ["F"], self.zoom.set_fit),
            "actual": action("actual", "Zoom 100 %", ["Z"], self.actual_size),
            "in": action("in", "Zoom in", ["+", "="], lambda: self.zoom_by(WHEEL_STEP)),
            "out": action("out", "Zoom out", ["-"], lambda: self.zoom_by(1 / WHEEL_STEP)),
            "swap": action("swap", "Swap mode", ["S"], self.set_swap_mode, checkable=True),
            "next": action("next", "Show next image", ["X"], self.next_image),
            "flicker": action("flicker", "Flicker", ["L"], self.set_flicker, checkable=True),
            "previous_page": action("previous_page", "Previous images", ["["], lambda: self.turn_page(-1)),
            "next_page": action("next_page", "Next images", ["]"], lambda: self.turn_page(1)),
        }

    # Content ----------------------------------------------------------------------------------------------

    def show_group(self, session: ReviewSession | None, group_number: int | None) -> None:
        """Show a group of the session (None: nothing). The zoom level stays; the position is re-centred."""
        new_group = (session, group_number) != (self._session, self._group)
        if new_group:
            self._first = 0
        self._session, self._group = session, group_number
        if session is None or group_number is None:
            self._set_panes(0)
            self._empty.show()
            self._scroll.hide()
            self._reasons.clear()
            self._show_page_controls(0)
            return
        group = session.groups[group_number]
        if new_group or sorted(self._order) != sorted(group.members):
            # The rules' choice leads, the others keep their order: the numbers (and keys) of a group stay put
            # whatever is toggled by hand.
            lead = session.rules_pick(group)
            self._order = [lead, *(m for m in group.members if m != lead)]
            self._first = 0  # another group under the same number (a regroup) starts at its first page
        files = [session.result.files[m] for m in self._order]
        page = self.page_size()
        self._first = min(self._first // page * page, (len(files) - 1) // page * page)
        shown = range(self._first, min(self._first + page, len(files)))
        self._shown_page = page
        self._set_panes(len(shown))
        differing = differing_fields([file_facts(f) for f in files])
        for pane, position in zip(self._panes, shown, strict=False):
            member = self._order[position]
            pane.show_file(position, member, files[position], session.mark(member), differing)
        self._empty.hide()
        self._scroll.show()
        self._swap_index = min(self._swap_index, len(shown) - 1)
        self._apply_swap()
        self._level.start()
        self._show_page_controls(len(files))
        if not self.zoom.fit:
            self.zoom.set_view(self.zoom.zoom, QPointF(0.5, 0.5))
        self._reasons.setText(self._reason_text(session, group_number, self._order, shown))

    def set_empty_text(self, text: str) -> None:
        """What the view says while it shows no group."""
        self._empty.setText(text)

    def page_size(self) -> int:
        """Images side by side at once: as many as fit at ``PANE_MIN_WIDTH`` (at least two, at most
        ``PAGE_SIZE``), so that every image a key can change is in sight."""
        room = self.width() - self._scroll.verticalScrollBar().sizeHint().width()
        return max(2, min(PAGE_SIZE, room // (PANE_MIN_WIDTH + PANE_SPACING)))

    def turn_page(self, step: int) -> None:
        """Show the next (+1) or previous (-1) images of a group larger than a page."""
        if self._session is None or self._group is None:
            return
        size, page = len(self._session.groups[self._group].members), self.page_size()
        first = min(max(self._first + step * page, 0), (size - 1) // page * page)
        if first != self._first:
            self._first = first
            self.show_group(self._session, self._group)

    def is_shown(self, position: int) -> bool:
        """Whether image ``position + 1`` is on the page shown."""
        return self._first <= position < self._first + self._active

    def member_at(self, position: int) -> int | None:
        """The file shown as image ``position + 1`` of the group, its page turned into sight (None: no such
        image)."""
        if self._session is None or self._group is None or position >= len(self._order):
            return None
        if not self.is_shown(position):
            self._first = position
            self.show_group(self._session, self._group)
        return self._order[position]

    def _show_page_controls(self, size: int) -> None:
        page = self.page_size()
        paged = size > page
        last = min(self._first + page, size)
        images = f"Image {last}" if last == self._first + 1 else f"Images {self._first + 1}–{last}"
        swapping = self.actions_["swap"].isChecked() and self._active > 0
        if swapping:  # one image in sight: which one
            images = f"Image {self._first + self._swap_index + 1}"
        self._page_label.setText(f"{images} of {size}" if paged or swapping else "")
        self.actions_["previous_page"].setEnabled(paged and self._first > 0)
        self.actions_["next_page"].setEnabled(paged and self._first + page < size)
        for action in (self.actions_["previous_page"], self.actions_["next_page"], self._page_separator):
            action.setVisible(paged)  # no clutter for the usual small group
        self._page_label_action.setVisible(paged or swapping)

    def refresh_marks(self) -> None:
        if self._session is None or self._group is None:
            return
        for offset, pane in enumerate(self.panes()):
            pane.set_mark(self._session.mark(pane.file_index), self._first + offset)
        self._level.start()

    def _level_panes(self) -> None:
        """Give every pane's name-and-verdict and facts blocks the tallest pane's heights (wrapped text makes
        them differ), so the images line up. Runs after layout has settled the panes' widths."""
        panes = [pane for pane in self.panes() if not pane.isHidden()]
        if not panes:
            return
        heights = [pane.natural_heights() for pane in panes]
        head, facts = max(h for h, _ in heights), max(f for _, f in heights)
        for pane in panes:
            pane.level_with(head, facts)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._session is not None and self._group is not None and self.page_size() != self._shown_page:
            self.show_group(self._session, self._group)  # more or fewer images fit now
        self._level.start()

    def panes(self) -> list[ImagePane]:
        """The panes showing the current page, left to right."""
        return self._panes[: self._active]

    def shown_members(self) -> list[int]:
        """File indices of the images on screen, in pane order."""
        return [pane.file_index for pane in self.panes()]

    def _set_panes(self, count: int) -> None:
        while len(self._panes) < count:
            pane = ImagePane(self.zoom, *self._loaders)
            pane.toggle_requested.connect(self.toggle_requested)
            self._row.addWidget(pane, 1)
            self._panes.append(pane)
        self._active = count
        for pane in self._panes[count:]:
            pane.hide()
            pane.canvas.set_file(None)

    @staticmethod
    def _reason_text(session: ReviewSession, group_number: int, order: list[int], shown: range) -> str:
        """Why the images on this page are in the group: each pair with an image shown, by image number."""
        group = session.groups[group_number]
        position = {m: i for i, m in enumerate(order)}
        pairs = session.result.graph.pairs_within(group, session.thresholds)
        ends = [(sorted((position[p.a], position[p.b])), p) for p in pairs]  # "1–3", never "3–1"
        ends = [(e, p) for e, p in ends if e[0] in shown or e[1] in shown]
        parts = [f"{number(x)}–{number(y)}: {explain(p)}" for (x, y), p in sorted(ends, key=lambda e: e[0])]
        if len(parts) > MAX_REASONS:
            parts = [*parts[:MAX_REASONS], f"and {len(parts) - MAX_REASONS} more pairs"]
        return "Why they match: " + ("; ".join(parts) if parts else "no direct pair at this threshold")

    # Zoom and swap ----------------------------------------------------------------------------------------

    def _canvas(self) -> ImageCanvas | None:
        visible = [p for p in self.panes() if not p.isHidden()]
        return visible[0].canvas if visible else None

    def actual_size(self) -> None:
        self.zoom.set_view(1.0, self.zoom.centre)

    def zoom_by(self, factor: float) -> None:
        canvas = self._canvas()
        if canvas is not None:
            self.zoom.set_view(canvas.scale() * factor, self.zoom.centre)

    @Slot(bool)
    def set_swap_mode(self, on: bool) -> None:
        self.actions_["swap"].setChecked(on)
        if not on:
            self.set_flicker(False)
        self._apply_swap()

    @Slot(bool)
    def set_flicker(self, on: bool) -> None:
        self.actions_["flicker"].setChecked(on)
        if on:
            self.set_swap_mode(True)
            self._flicker.start()
        else:
            self._flicker.stop()

    @Slot()
    def next_image(self) -> None:
        """In swap mode show the next image of the page in the single pane (with two: swap them)."""
        if self._active:
            self._swap_index = (self._swap_index + 1) % self._active
            if not self.actions_["swap"].isChecked():
                self.set_swap_mode(True)
            self._apply_swap()

    def _apply_swap(self) -> None:
        swapping = self.actions_["swap"].isChecked()
        for key, pane in enumerate(self.panes()):
            pane.setVisible(not swapping or key == self._swap_index)
        self._show_page_controls(len(self._order) if self._group is not None else 0)
        self._level.start()  # one wide pane needs less height for its wrapped texts than several narrow ones
