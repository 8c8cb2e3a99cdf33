"""Progress events with ETA, cancellation tokens, and recognising image types by their first bytes."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from dedup_gui.core import progress
from dedup_gui.core.analysis import AnalysisRequest, analyse
from dedup_gui.core.formats import describe_content, sniff
from dedup_gui.core.model import FileRef
from dedup_gui.core.progress import CancelToken, ProgressEvent, Stage, StageMeter
from dedup_gui.core.report import counted


def test_meter_reports_eta_from_the_rate_so_far(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter([0.0, 1.0, 2.0, 3.0])
    monkeypatch.setattr(progress.time, "monotonic", lambda: next(clock))
    events: list[ProgressEvent] = []
    meter = StageMeter(events.append, Stage.ANALYSE, total=10, interval=0.0)
    meter.advance(current="a.jpg")  # t=1: 1 file in 1 s, 9 to go
    meter.advance()  # t=2: 2 files in 2 s, 8 to go
    meter.finish()
    assert [(e.done, e.total, e.eta_s) for e in events[:2]] == [(1, 10, 9.0), (2, 10, 8.0)]
    assert events[0].current == "a.jpg" and events[-1].finished and events[-1].eta_s is None


def test_cancel_token_is_shared_state() -> None:
    token = CancelToken()
    assert not token.cancelled
    token.cancel()
    assert token.cancelled


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "WEBP", "TIFF", "BMP"])
def test_sniff_names_the_real_type(fmt: str) -> None:
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, fmt)
    assert sniff(out.getvalue()[:32]) == fmt


def test_sniff_recognises_heif_avif_and_rejects_the_rest() -> None:
    assert sniff(b"\x00\x00\x00\x18ftypheic" + b"\x00" * 16) == "HEIF"
    assert sniff(b"\x00\x00\x00\x1cftypavif" + b"\x00" * 16) == "AVIF"
    assert sniff(b"%PDF-1.7\n") is None
    assert describe_content(b"") == "empty" and describe_content(b"plain words") == "text"
    assert describe_content(b"\0" * 64).startswith("zero bytes only")
    assert describe_content(b"ab\0cd") == "unknown binary data"


def test_permission_denied_is_a_reason_not_a_crash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Also under root, which can read anything: the read itself is refused here."""
    path = tmp_path / "locked.jpg"
    Image.new("RGB", (8, 8)).save(path)

    def refuse(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_bytes", refuse)
    st = path.stat()
    result = analyse(AnalysisRequest(FileRef(path, st.st_size, st.st_mtime_ns, st.st_dev, st.st_ino)))
    assert (result.error, result.lasting) == ("permission denied", False)


def test_counts_take_the_noun_in_the_right_number() -> None:
    assert [counted(n, "group") for n in (0, 1, 2)] == ["0 groups", "1 group", "2 groups"]
    assert counted(1024, "image") == "1,024 images"
