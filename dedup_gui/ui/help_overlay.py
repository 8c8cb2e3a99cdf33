"""A sheet over the window listing every keyboard shortcut, built from the menus so it cannot go stale."""

from __future__ import annotations

import html

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QColor, QKeyEvent, QKeySequence, QMouseEvent, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QFrame, QLabel, QMenu, QVBoxLayout, QWidget


def _keys(action: QAction) -> str:
    return ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts())


def shortcut_rows(menus: list[QMenu]) -> list[tuple[str, list[tuple[str, str]]]]:
    """(menu title, [(action text, shortcuts)]) for every action that has a shortcut; a submenu (such as
    "Image 1" … "Image 9") is one row naming its first and last shortcut."""
    sections = []
    for menu in menus:
        rows = []
        for action in menu.actions():
            submenu = action.menu()
            if isinstance(submenu, QMenu):
                keyed = [a for a in submenu.actions() if a.shortcuts()]
                if keyed:
                    rows.append((submenu.title(), f"{_keys(keyed[0])} … {_keys(keyed[-1])}"))
            elif action.shortcuts():
                rows.append((action.text(), _keys(action)))
        if rows:
            sections.append((menu.title().replace("&", ""), [(text.replace("&", ""), keys) for text, keys in rows]))
    return sections


WIDE = 1200
"""From this window width on, every menu's shortcuts sit side by side."""


class HelpOverlay(QWidget):
    """Covers its parent; any key or click closes it."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self._parent = parent
        self.setAccessibleName("Keyboard shortcuts")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._text = QLabel(textFormat=Qt.TextFormat.RichText)
        panel = QFrame()
        panel.setFrameShape(QFrame.Shape.StyledPanel)
        panel.setAutoFillBackground(True)
        inner = QVBoxLayout(panel)
        inner.addWidget(self._text)
        layout = QVBoxLayout(self)
        layout.addWidget(panel, 0, Qt.AlignmentFlag.AlignCenter)
        parent.installEventFilter(self)
        self.hide()

    def show_for(self, menus: list[QMenu]) -> None:
        columns = []
        for title, rows in shortcut_rows(menus):
            cells = "".join(
                f"<tr><td style='padding-right:16px'>{html.escape(text)}</td><td><b>{html.escape(keys)}</b></td></tr>"
                for text, keys in rows
            )
            columns.append(f"<h3>{html.escape(title)}</h3><table>{cells}</table>")
        per_row = len(columns) if self._parent.width() >= WIDE else 2  # a narrow window: two menus a row
        rows = [columns[i : i + per_row] for i in range(0, len(columns), per_row)]
        body = "".join(
            "<tr>" + "".join(f"<td valign='top' style='padding:0 18px'>{c}</td>" for c in row) + "</tr>" for row in rows
        )
        self._text.setText(f"<h2>Keyboard shortcuts</h2><table>{body}</table><p>Press any key or click to close.</p>")
        self.setGeometry(self._parent.rect())
        self.raise_()
        self.show()
        self.setFocus()

    def paintEvent(self, event: QPaintEvent) -> None:
        shade = QColor(self.palette().color(QPalette.ColorRole.Shadow))
        shade.setAlpha(140)
        QPainter(self).fillRect(self.rect(), shade)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        self.hide()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.hide()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and self.isVisible():
            self.setGeometry(self._parent.rect())
        return False
