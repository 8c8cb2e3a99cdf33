"""Progress events and cancellation shared by the CLI and the GUI, which drive the same pipeline."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum


class Stage(Enum):
    """The pipeline's steps, in the order they run."""

    DISCOVER = "finding files"
    ANALYSE = "reading images"
    EMBED = "computing embeddings"
    SEARCH = "comparing"
    GROUP = "grouping"


@dataclass(frozen=True)
class ProgressEvent:
    """One progress report; ``total`` is None while it is unknown (discovery)."""

    stage: Stage
    done: int
    total: int | None = None
    eta_s: float | None = None
    current: str = ""
    finished: bool = False

    @property
    def empty(self) -> bool:
        """The stage has nothing to do (a rescan whose files all come from the cache reads no image)."""
        return self.total == 0


ProgressCallback = Callable[[ProgressEvent], None]


class CancelToken:
    """Set from any thread to ask a running scan to stop; the scan keeps what it computed."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


class StageMeter:
    """Emits events for one stage at most every ``interval`` seconds, with an ETA from the rate so far."""

    def __init__(
        self, callback: ProgressCallback | None, stage: Stage, total: int | None, interval: float = 0.1
    ) -> None:
        self._callback = callback
        self._stage = stage
        self._total = total
        self._interval = interval
        self._start = time.monotonic()
        self._last = 0.0
        self.done = 0

    def advance(self, n: int = 1, current: str = "") -> None:
        self.done += n
        now = time.monotonic()
        if self._callback is not None and (now - self._last >= self._interval or self.done == self._total):
            self._last = now
            self._callback(ProgressEvent(self._stage, self.done, self._total, self._eta(now), current))

    def finish(self) -> None:
        if self._callback is not None:
            self._callback(ProgressEvent(self._stage, self.done, self._total, None, finished=True))

    def _eta(self, now: float) -> float | None:
        if not self._total or self.done == 0:
            return None
        elapsed = now - self._start
        return elapsed / self.done * max(self._total - self.done, 0)
