"""Run the per-file analysis in a process pool: parallel on every platform, and crash-contained.

Processes (started with "spawn" everywhere, as macOS and Windows require and a Qt app with threads wants)
give true parallelism for the Python parts of decoding and hashing. If a decoder crashes its process, or
hangs past ``FILE_TIMEOUT_S`` (the pool's workers are then terminated), the files that were in flight are
retried one at a time, so only the file that crashes or hangs again is skipped, with that reason.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from dedup_gui.core.analysis import Analysis, AnalysisRequest, analyse
from dedup_gui.core.progress import CancelToken

INLINE_BELOW = 8
"""Fewer files than this are analysed in the calling process: starting workers would cost more."""

FILE_TIMEOUT_S = 120.0
"""A file still being decoded after this long is taken to hang its decoder (a 250 MP image takes ~10 s)."""


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def analyse_all(
    requests: list[AnalysisRequest],
    workers: int | None,
    cancel: CancelToken,
    analyser: Callable[[AnalysisRequest], Analysis] = analyse,
) -> Iterator[Analysis]:
    """Yield one ``Analysis`` per request, in completion order, until done or cancelled.

    On cancel, files already being decoded finish and are yielded; the rest are dropped.
    """
    count = default_workers() if workers is None else workers
    if count == 0 or len(requests) < INLINE_BELOW:
        for request in requests:
            if cancel.cancelled:
                return
            yield analyser(request)
        return
    remaining = requests
    while remaining and not cancel.cancelled:
        suspects: list[AnalysisRequest] = []
        leftover: list[AnalysisRequest] = []
        try:
            yield from _pooled(remaining, count, cancel, analyser, suspects, leftover)
        except PoolUnavailable:
            # Workers cannot start here (e.g. the main script cannot be re-imported): work in this process.
            yield from analyse_all(remaining, 0, cancel, analyser)
            return
        for request in suspects:  # alone in a fresh worker, a crash or hang names its file
            if cancel.cancelled:
                return
            failed: list[AnalysisRequest] = []
            hung: list[AnalysisRequest] = []
            yield from _pooled([request], 1, cancel, analyser, failed, [], hung)
            if hung:
                reason = f"decoding took longer than {FILE_TIMEOUT_S:g} s (stopped)"
                yield Analysis(request.ref, error=reason, lasting=False)
            elif failed:
                yield Analysis(request.ref, error="the image decoder crashed on this file", lasting=False)
        remaining = leftover


class PoolUnavailable(Exception):
    """Worker processes die before doing any work, so no file could be analysed in them."""


def _pooled(
    requests: list[AnalysisRequest],
    workers: int,
    cancel: CancelToken,
    analyser: Callable[[AnalysisRequest], Analysis],
    crashed: list[AnalysisRequest],
    leftover: list[AnalysisRequest],
    hung: list[AnalysisRequest] | None = None,
) -> Iterator[Analysis]:
    """Run requests in one pool until done, cancelled, or a crashed or hung worker ends the pool.

    Then the requests that were in flight go to ``crashed`` (those past the time limit also to ``hung``)
    and the unstarted ones to ``leftover``.
    """
    context = multiprocessing.get_context("spawn")
    queue = iter(requests)
    in_flight: dict[Future[Analysis], AnalysisRequest] = {}
    running_since: dict[Future[Analysis], float] = {}
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        try:
            pool.submit(os.getpid).result()
        except BrokenProcessPool:
            raise PoolUnavailable from None
        try:
            _fill(pool, queue, in_flight, workers * 4, analyser)
            while in_flight:
                done, _ = wait(in_flight, timeout=0.2, return_when=FIRST_COMPLETED)
                for future in done:
                    request = in_flight.pop(future)
                    running_since.pop(future, None)
                    try:
                        yield future.result()
                    except BrokenProcessPool:
                        crashed.append(request)
                if crashed:
                    raise BrokenProcessPool("a worker process ended abruptly")
                overdue = _overdue(in_flight, running_since)
                if overdue:
                    if hung is not None:
                        hung.extend(in_flight[f] for f in overdue)
                    _terminate_workers(pool)
                    raise BrokenProcessPool("a decoder hung")
                if cancel.cancelled:
                    for future in list(in_flight):
                        if future.cancel():
                            del in_flight[future]
                    continue
                _fill(pool, queue, in_flight, workers * 4, analyser)
        except BrokenProcessPool:
            crashed.extend(in_flight.values())
            leftover.extend(queue)


def _overdue(in_flight: dict[Future[Analysis], AnalysisRequest], since: dict[Future[Analysis], float]) -> list:
    """Futures running for longer than the time limit (a queued one may count as running a little early)."""
    now = time.monotonic()
    for future in in_flight:
        if future.running():
            since.setdefault(future, now)
    return [f for f, start in since.items() if f in in_flight and now - start > FILE_TIMEOUT_S]


def _terminate_workers(pool: ProcessPoolExecutor) -> None:
    """Stop every worker of the pool: a running task cannot be cancelled any other way before Python 3.14."""
    for process in list(getattr(pool, "_processes", {}).values()):
        process.terminate()


def _fill(
    pool: ProcessPoolExecutor,
    queue: Iterator[AnalysisRequest],
    in_flight: dict[Future[Analysis], AnalysisRequest],
    limit: int,
    analyser: Callable[[AnalysisRequest], Analysis],
) -> None:
    while len(in_flight) < limit:
        request = next(queue, None)
        if request is None:
            return
        in_flight[pool.submit(analyser, request)] = request
