"""What a desktop install relies on: the icon renders, the desktop entry is valid, Help > Show log shows the log."""

from __future__ import annotations

import configparser
import logging

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QDialogButtonBox
from pytestqt.qtbot import QtBot

from dedup_gui.core import logs, paths
from dedup_gui.ui.log_viewer import LogDialog
from dedup_gui.ui.main_window import MainWindow
from dedup_gui.ui.settings import APPLICATION


def test_application_icon_is_the_bundled_svg_and_renders(qapp: QApplication) -> None:
    icon = qapp.windowIcon()
    assert not icon.isNull()
    image = icon.pixmap(64, 64).toImage()
    assert image.width() == 64
    colours = {image.pixelColor(x, y).name() for x in range(0, 64, 4) for y in range(0, 64, 4)}
    assert len(colours) > 4  # drawn, not a blank square


def test_desktop_entry_runs_the_command_with_the_icon_name() -> None:
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # keys are case-sensitive
    entry.read(paths.resources_dir() / "dedup-gui.desktop", encoding="utf-8")
    section = entry["Desktop Entry"]
    assert section["Type"] == "Application" and section["Exec"].split()[0] == "dedup-gui"
    assert section["Icon"] == APPLICATION and section["StartupWMClass"] == APPLICATION
    assert (paths.resources_dir() / "icons" / f"{section['Icon']}.svg").is_file()
    assert section["Categories"].endswith(";")


def test_show_log_lists_the_newest_lines_and_copies_them(qtbot: QtBot) -> None:
    logs.setup_logging()
    logging.getLogger("dedup_gui.test").warning("a line the user must see")
    dialog = LogDialog()
    qtbot.addWidget(dialog)
    assert "a line the user must see" in dialog.text.toPlainText()
    assert dialog.text.isReadOnly()
    buttons = dialog.findChild(QDialogButtonBox)
    copy = next(b for b in buttons.buttons() if b.text() == "&Copy all")
    copy.click()
    assert "a line the user must see" in QGuiApplication.clipboard().text()


def test_help_menu_has_show_log(qtbot: QtBot) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    help_menu = window.menus[-1]
    assert "Show &log" in [action.text() for action in help_menu.actions()]
