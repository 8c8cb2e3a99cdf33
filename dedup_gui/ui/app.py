"""Start the window: ``dedup-gui`` restores the last review, ``dedup-gui PATH...`` scans those folders,
``dedup-gui --demo`` scans a folder of sample photos and their edited copies."""

from __future__ import annotations

import argparse
import difflib
import logging
import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication

from dedup_gui.core.logs import log_uncaught, setup_logging
from dedup_gui.ui.demo import build_demo_folder, demo_roots
from dedup_gui.ui.main_window import MainWindow
from dedup_gui.ui.settings import configure_application

log = logging.getLogger(__name__)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="dedup-gui",
        description="Review duplicate images. Commands scan, apply, undo and evaluate run without a window"
        " (dedup-gui scan --help).",
    )
    parser.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="folders to scan at once")
    parser.add_argument("--demo", action="store_true", help="scan a small folder of sample photos and edited copies")
    return parser.parse_args(argv)


def _command_hint(word: str) -> str:
    """ " (did you mean ...?)" when a folder that is not there reads like a mistyped command."""
    from dedup_gui.__main__ import COMMANDS

    close = difflib.get_close_matches(word, sorted(COMMANDS), n=1, cutoff=0.6)
    return f" (did you mean `dedup-gui {close[0]}`?)" if close else ""


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    missing = [str(p) for p in args.paths if not p.is_dir()]
    if missing:
        print(f"dedup-gui: not a folder: {', '.join(missing)}{_command_hint(missing[0])}", file=sys.stderr)
        return 2
    setup_logging()
    sys.excepthook = log_uncaught
    app = QApplication.instance() or QApplication([sys.argv[0]])
    assert isinstance(app, QApplication)
    configure_application(app)
    window = MainWindow()
    window.show()
    log.info("window open on the %s platform", app.platformName())
    if args.demo:
        window.open_folders(*demo_roots(build_demo_folder()))
    elif args.paths:
        window.open_folders(args.paths)
    else:
        window.restore_last_review()
    return app.exec()
