"""Run a scan on a worker thread, so the window keeps painting and the Cancel button keeps working."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QThread, Signal

from dedup_gui.core.pipeline import ScanOptions, scan
from dedup_gui.core.progress import CancelToken, ProgressEvent

log = logging.getLogger(__name__)


class ScanThread(QThread):
    """One scan of ``options`` through ``core.pipeline.scan``.

    Signals (queued to the GUI thread, as the thread's object lives there):
        progress(ProgressEvent): at most ten a second, from the core's stage meters.
        succeeded(ScanResult): the result, partial with ``cancelled=True`` after ``cancel()``.
        failed(str): a message a person can act on (unusable folder, unexpected error).
    """

    progress = Signal(object)
    succeeded = Signal(object)
    failed = Signal(str)

    def __init__(self, options: ScanOptions, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.options = options
        self._cancel = CancelToken()

    def cancel(self) -> None:
        """Ask the scan to stop; it still delivers what it computed through ``succeeded``."""
        self._cancel.cancel()

    @property
    def cancelled(self) -> bool:
        return self._cancel.cancelled

    def run(self) -> None:
        try:
            result = scan(self.options, self._report, self._cancel)
        except (NotADirectoryError, PermissionError) as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # a bug must end the scan visibly, not leave the window waiting
            log.exception("scan failed")
            self.failed.emit(unexpected_failure(exc))
        else:
            self.succeeded.emit(result)

    def _report(self, event: ProgressEvent) -> None:
        self.progress.emit(event)


UNEXPECTED_TEXT = 240
"""Characters of an unexpected error's own text shown in the window; the log keeps all of it."""


def unexpected_failure(exc: BaseException) -> str:
    """One readable line for a scan that failed from a bug: the error's kind and text, whitespace collapsed and
    cut short, and where the whole story is."""
    text = " ".join(str(exc).split())
    if len(text) > UNEXPECTED_TEXT:
        text = text[: UNEXPECTED_TEXT - 1].rstrip() + "…"
    detail = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return f"The scan failed unexpectedly ({detail}). The log has the details: Help → Show log."
