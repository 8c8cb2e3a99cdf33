"""The worker pool survives decoders that crash or hang: only the guilty file is skipped."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from dedup_gui.core import workers
from dedup_gui.core.analysis import AnalysisRequest
from dedup_gui.core.discovery import DiscoveryOptions, discover
from dedup_gui.core.model import FileRef
from dedup_gui.core.progress import CancelToken
from tests.core.misbehaving import crash_on_bad, hang_on_bad


def _requests(make_image: Callable[..., Path], tmp_path: Path) -> list[AnalysisRequest]:
    for index in range(10):
        make_image(f"good{index}.png", index, size=(64, 48))
    make_image("bad.png", 99, size=(64, 48))
    refs = [item for item in discover(DiscoveryOptions((tmp_path,))) if isinstance(item, FileRef)]
    return [AnalysisRequest(ref) for ref in refs]


@pytest.mark.parametrize(
    ("analyser", "reason"), [(crash_on_bad, "crashed"), (hang_on_bad, "longer than")], ids=["crash", "hang"]
)
def test_only_the_misbehaving_file_is_skipped(
    analyser: Callable[[AnalysisRequest], object],
    reason: str,
    make_image: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(workers, "FILE_TIMEOUT_S", 3.0)
    results = list(workers.analyse_all(_requests(make_image, tmp_path), 2, CancelToken(), analyser))  # type: ignore[arg-type]
    by_name = {r.ref.path.name: r for r in results}
    assert len(results) == 11 and len(by_name) == 11
    assert reason in (by_name["bad.png"].error or "")
    assert all(r.error is None and r.hashes is not None for name, r in by_name.items() if name != "bad.png")


def test_cancel_stops_before_all_files(make_image: Callable[..., Path], tmp_path: Path) -> None:
    cancel = CancelToken()
    cancel.cancel()
    assert list(workers.analyse_all(_requests(make_image, tmp_path), 2, cancel)) == []
