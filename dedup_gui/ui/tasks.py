"""Plain functions run on a background thread, results delivered to the GUI thread by signal.

Regrouping 50,000 groups or moving a thousand files to the trash takes long enough to freeze a window;
each kind of work gets its own ``TaskRunner`` so one never waits behind the other.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)


class _Signals(QObject):
    done = Signal(int, object)
    failed = Signal(int, str)


class _Task(QRunnable):
    def __init__(self, ticket: int, work: Callable[[], object], signals: _Signals) -> None:
        super().__init__()
        self._ticket, self._work, self._signals = ticket, work, signals

    def run(self) -> None:
        try:
            result = self._work()
        except Exception as exc:  # reported to the window, which shows it; never lost in a thread
            log.exception("background task failed")
            self._signals.failed.emit(self._ticket, str(exc) or repr(exc))
        else:
            self._signals.done.emit(self._ticket, result)


class TaskRunner(QObject):
    """Runs submitted functions one at a time, in order, on its own thread.

    Signals:
        done(int, object): the ticket returned by ``submit`` and the function's result.
        failed(int, str): the ticket and the exception's message.
    """

    done = Signal(int, object)
    failed = Signal(int, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._signals = _Signals()
        self._signals.done.connect(self._on_done)
        self._signals.failed.connect(self._on_failed)
        self._ticket = 0
        self._pending = 0

    @property
    def latest(self) -> int:
        """The ticket of the last submitted function: results with an older ticket are stale."""
        return self._ticket

    def submit(self, work: Callable[[], object]) -> int:
        self._ticket += 1
        self._pending += 1
        self._pool.start(_Task(self._ticket, work, self._signals))
        return self._ticket

    def busy(self) -> bool:
        """Whether a submitted function has not reported yet."""
        return self._pending > 0

    def _on_done(self, ticket: int, result: object) -> None:
        self._pending -= 1
        self.done.emit(ticket, result)

    def _on_failed(self, ticket: int, message: str) -> None:
        self._pending -= 1
        self.failed.emit(ticket, message)

    def shutdown(self) -> None:
        """Drop queued work and wait for the running function (call before the application quits)."""
        self._pool.clear()
        self._pool.waitForDone()
