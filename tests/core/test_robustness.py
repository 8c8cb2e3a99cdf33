"""A killed scan keeps its committed work; two processes share one cache without corrupting it."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dedup_gui.core import pipeline
from dedup_gui.core.model import Method
from dedup_gui.core.pipeline import ScanOptions, scan


def _write_images(folder: Path, count: int, size: tuple[int, int] = (640, 480)) -> None:
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    for index in range(count):
        cells = (rng.random((6, 8, 3)) * 255).astype(np.uint8)
        image = Image.fromarray(cells).resize(size, Image.Resampling.BICUBIC)
        image.save(folder / f"{index:04d}.jpg", quality=90)


def _scan_process(folder: Path, cache: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "dedup_gui", "scan", str(folder), "--cache", str(cache), "--workers", "1"]
    command += ["--method", "hash", "-q", "-o", os.devnull]
    return subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _committed(cache: Path) -> int:
    try:
        with sqlite3.connect(cache, timeout=5) as db:
            return db.execute("SELECT count(*) FROM files").fetchone()[0]
    except sqlite3.OperationalError:
        return 0  # not created yet


@pytest.mark.slow
def test_sigkill_mid_scan_loses_only_the_uncommitted_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder, cache = tmp_path / "photos", tmp_path / "cache.sqlite3"
    _write_images(folder, 1000)
    process = _scan_process(folder, cache)
    deadline = time.monotonic() + 120
    while _committed(cache) == 0 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)  # the scan and its decoding worker, mid-batch
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the scan finished before it could be killed"
    committed = _committed(cache)
    assert 0 < committed < 1000

    analysed: list[int] = []
    real = pipeline.analyse_all

    def counting(requests, *args):  # type: ignore[no-untyped-def]
        analysed.append(len(requests))
        return real(requests, *args)

    monkeypatch.setattr(pipeline, "analyse_all", counting)
    result = scan(ScanOptions(roots=(folder,), cache_path=cache, workers=0, method=Method.HASH))
    assert analysed == [1000 - committed]
    assert result.stats.from_cache == committed and len(result.files) == 1000


@pytest.mark.slow
def test_two_processes_share_one_cache(tmp_path: Path) -> None:
    cache = tmp_path / "cache.sqlite3"
    _write_images(tmp_path / "a", 150, size=(160, 120))
    _write_images(tmp_path / "b", 150, size=(160, 120))
    first, second = _scan_process(tmp_path / "a", cache), _scan_process(tmp_path / "b", cache)
    assert first.wait(timeout=300) == 0, first.stderr.read() if first.stderr else ""
    assert second.wait(timeout=300) == 0, second.stderr.read() if second.stderr else ""
    with sqlite3.connect(cache) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT count(*) FROM files").fetchone()[0] == 300
