"""Responsiveness of the review window: event-loop stalls while scanning, and a 50,000-group list.

    python -m tests.benchmarks.bench_gui [--images 2500] [--groups 50000] [--workdir DIR] [--json FILE]

1. Scan: the real window scans a folder of small generated photos (with duplicates) while a 10 ms QTimer
   heartbeat records how late each tick fires; the longest gap is the longest stall a person would feel
   (target: under 100 ms). Run twice: a first scan (every file decoded) and a rescan (answered by the cache).
2. List: a synthetic scan result with ``--groups`` groups of three files goes into the window's model and
   table. Timed apart: what the window's worker thread does (build the review with keep-rule marks for
   every group, compute the list columns, regroup at another threshold) and what blocks the GUI thread
   (show the list, scroll it page by page with every page painted, re-sort, swap in a regrouped list).

Qt runs offscreen unless a display is set. The cache, data and settings live in the work folder, never the
user's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QElapsedTimer, QSettings, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from dedup_gui.core.graph import PairGraph, Thresholds  # noqa: E402
from dedup_gui.core.model import FileRef, ImageInfo, Method, ScannedFile  # noqa: E402
from dedup_gui.core.pipeline import ScanOptions, ScanResult  # noqa: E402
from dedup_gui.core.review_state import ReviewState  # noqa: E402
from dedup_gui.ui.group_model import Column, GroupStats  # noqa: E402
from dedup_gui.ui.main_window import MainWindow  # noqa: E402
from dedup_gui.ui.session import Layout, ReviewSession  # noqa: E402
from dedup_gui.ui.settings import configure_application  # noqa: E402
from tests.benchmarks.photos import make_photo_folder  # noqa: E402

HEARTBEAT_MS = 10
STALL_TARGET_MS = 100


class Heartbeat:
    """A QTimer that records the gap between its ticks: a late tick means the event loop was blocked."""

    def __init__(self) -> None:
        self.gaps: list[float] = []
        self._clock = QElapsedTimer()
        self._timer = QTimer(interval=HEARTBEAT_MS, timerType=Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.gaps.clear()
        self._clock.start()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _tick(self) -> None:
        self.gaps.append(self._clock.restart() / 1.0)

    def report(self) -> dict[str, float]:
        gaps = sorted(self.gaps) or [0.0]
        return {
            "ticks": len(gaps),
            "longest_gap_ms": gaps[-1],
            "p99_gap_ms": gaps[min(len(gaps) - 1, int(len(gaps) * 0.99))],
            "median_gap_ms": statistics.median(gaps),
            "gaps_over_100ms": sum(g > STALL_TARGET_MS for g in gaps),
        }


def wait_until(app: QApplication, done: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not finish in time")
        app.processEvents()
        time.sleep(0.002)  # a benchmark driver, not a test: let the event loop and the scan thread run


def scan_in_window(app: QApplication, folder: Path) -> dict[str, float]:
    """Scan ``folder`` in a fresh window with the heartbeat running; returns the stall figures."""
    window = MainWindow()
    window.show()
    window.folders.set_folders([folder])
    settle = time.monotonic() + 0.5
    wait_until(app, lambda: time.monotonic() > settle, 5)  # first paint of a new window is not the scan's doing
    heartbeat = Heartbeat()
    heartbeat.start()
    started = time.monotonic()
    window.start_scan()
    wait_until(app, lambda: window.session is not None and window.scan_thread is None, 1800)
    elapsed = time.monotonic() - started
    heartbeat.stop()
    result = window.session.result if window.session else None
    figures = heartbeat.report()
    figures.update(
        seconds=elapsed,
        files=len(result.files) if result else 0,
        decoded=result.stats.analysed if result else 0,
        groups=len(window.session.groups) if window.session else 0,
    )
    window.close()
    window.deleteLater()
    app.processEvents()
    return figures


def synthetic_result(groups: int, root: Path) -> ScanResult:
    """``groups`` triples of near-duplicates (no files on disk): every graph edge inside a triple."""
    rng = np.random.default_rng(0)
    n = groups * 3
    files = []
    for i in range(n):
        ref = FileRef(
            root / f"folder{i // 3000:03d}" / f"IMG_{i:07d}.jpg",
            int(rng.integers(50_000, 5_000_000)),
            1_600_000_000 * 10**9 + i,
            1,
            i,
        )
        files.append(ScannedFile(ref, f"{i:040x}", ImageInfo(4032, 3024, "JPEG", None, None)))
    first = np.arange(0, n, 3)
    a = np.concatenate([first, first, first + 1])
    b = np.concatenate([first + 1, first + 2, first + 2])
    phash = rng.integers(0, 9, len(a)).astype(np.int16)
    graph = PairGraph.build(np.arange(n), a, b, phash, phash, np.zeros(len(a), dtype=np.int8), method=Method.HASH)
    options = ScanOptions(roots=(root,), method=Method.HASH)
    return ScanResult(options, files, [], graph, graph.groups_at(options.thresholds, options.policy))


def timed(work: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    value = work()
    return (time.perf_counter() - start) * 1000, value


def big_list(app: QApplication, groups: int, workdir: Path) -> dict[str, float]:
    """Show and scroll a list of ``groups`` groups in the real window; times in milliseconds. Work the window
    does on its worker thread (building the review, regrouping) is timed apart from the GUI thread's share."""
    result = synthetic_result(groups, workdir / "synthetic")
    window = MainWindow()
    window.show()
    app.processEvents()
    state = ReviewState(workdir / "bench-review.sqlite3")
    decide = window.rules.decider(())
    build_ms, session = timed(lambda: ReviewSession(result, state, decide))
    assert isinstance(session, ReviewSession)
    stats_ms, stats = timed(lambda: GroupStats.of(result, session.layout()))
    assert isinstance(stats, GroupStats)
    table = window.table

    def show() -> None:
        window.session = session
        window.model.set_session(session, stats)
        table.selectRow(0)
        table.viewport().repaint()

    show_ms, _ = timed(show)
    bar = table.verticalScrollBar()

    def scroll_to(value: int) -> None:
        bar.setValue(value)
        table.viewport().repaint()

    steps = [timed(partial(scroll_to, int(value)))[0] for value in np.linspace(0, bar.maximum(), 200)]

    def sort() -> None:
        window.model.sort(Column.MATCH, Qt.SortOrder.AscendingOrder)
        table.viewport().repaint()

    sort_ms, _ = timed(sort)
    regroup_ms, layout = timed(lambda: session.prepare(Thresholds(hash_distance=4)))
    assert isinstance(layout, Layout)
    new_stats = GroupStats.of(result, layout)

    def adopt() -> None:
        session.adopt(layout)
        window.model.set_session(session, new_stats)
        table.viewport().repaint()

    adopt_ms, _ = timed(adopt)
    window.close()
    state.close()
    return {
        "groups": groups,
        "worker_build_review_ms": build_ms,
        "worker_list_columns_ms": stats_ms,
        "gui_show_list_ms": show_ms,
        "gui_scroll_step_mean_ms": statistics.mean(steps),
        "gui_scroll_step_max_ms": max(steps),
        "gui_sort_ms": sort_ms,
        "worker_regroup_ms": regroup_ms,
        "regrouped_groups": len(layout.groups),
        "gui_adopt_regroup_ms": adopt_ms,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2500, help="originals to generate (30%% get a copy)")
    parser.add_argument("--groups", type=int, default=50_000)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "dedup-gui-bench-gui")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    workdir: Path = args.workdir
    os.environ["DEDUP_GUI_CACHE_DIR"] = str(workdir / "cache")
    os.environ["DEDUP_GUI_DATA_DIR"] = str(workdir / "data")
    app = QApplication([])
    configure_application(app)
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(workdir / "settings"))
    folder = workdir / f"photos-640-{args.images}"
    if not folder.exists():
        print(f"generating {args.images} originals in {folder} …", flush=True)
        make_photo_folder(folder, args.images, size=(640, 480))
    for cache in (workdir / "cache").glob("*"):
        cache.unlink()
    results: dict[str, dict[str, float]] = {}
    for label in ("first scan", "rescan"):
        results[label] = scan_in_window(app, folder)
        _print_figures(label, results[label])
    results["list"] = big_list(app, args.groups, workdir)
    _print_figures("list", results["list"])
    if args.json:
        args.json.write_text(json.dumps({"images": args.images, "groups": args.groups, **results}, indent=2))


def _print_figures(label: str, figures: dict[str, float]) -> None:
    print(f"{label}: " + ", ".join(f"{k} {v:.1f}" if isinstance(v, float) else f"{k} {v}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
