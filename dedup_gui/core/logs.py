"""Logging to a rotating file in the user log folder, so a user can send what happened with a bug report.

Messages at INFO and above go to the file; warnings also go to stderr for the command line. The file is
capped (a few rotated files of 1 MB each), so a long-lived install never fills the disk.
"""

from __future__ import annotations

import logging
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path
from types import TracebackType

from dedup_gui import __version__
from dedup_gui.core import paths

MAX_BYTES = 1_000_000
BACKUP_COUNT = 3
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_HANDLER_NAME = "dedup-gui-file"

log = logging.getLogger("dedup_gui")


def setup_logging(console_level: int = logging.WARNING) -> Path | None:
    """Attach the rotating file handler (once) and a stderr handler; returns the log file, or None when the
    log folder cannot be written (the app then runs without a log file rather than failing)."""
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    path = paths.log_path()
    for handler in list(root.handlers):
        if handler.get_name() == _HANDLER_NAME and isinstance(handler, logging.FileHandler):
            if Path(handler.baseFilename) == path.absolute():
                return path
            root.removeHandler(handler)  # the log folder changed (tests, a new environment): follow it
            handler.close()
    if not any(isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler) for h in root.handlers):
        console = logging.StreamHandler(sys.stderr)
        console.setLevel(console_level)
        console.setFormatter(logging.Formatter("dedup-gui: %(message)s"))
        root.addHandler(console)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        file_handler = RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8")
    except OSError as error:
        log.warning("no log file (%s)", error)
        return None
    file_handler.set_name(_HANDLER_NAME)
    file_handler.setLevel(logging.INFO)
    file_handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(file_handler)
    log.info("dedup-gui %s, Python %s, on %s", __version__, sys.version.split()[0], sys.platform)
    return path


def log_uncaught(kind: type[BaseException], error: BaseException, trace: TracebackType | None) -> None:
    """``sys.excepthook`` for the window: an unexpected error is written to the log instead of vanishing."""
    log.critical("unexpected error", exc_info=(kind, error, trace))


def tail(path: Path, max_bytes: int = 200_000) -> str:
    """The end of a log file as text ('' when there is none yet)."""
    try:
        with path.open("rb") as file:
            size = file.seek(0, 2)
            file.seek(max(0, size - max_bytes))
            data = file.read()
    except OSError:
        return ""
    text = data.decode("utf-8", errors="replace")
    return text if len(data) < max_bytes else text.partition("\n")[2]
