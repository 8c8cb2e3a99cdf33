"""The log file: written in the user log folder, rotated, readable from its end, never a reason to fail."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from dedup_gui.core import logs, paths
from dedup_gui.core.cli import main as cli_main


def _detach_file_handler() -> None:
    for handler in list(logging.getLogger().handlers):
        if handler.get_name() == logs._HANDLER_NAME:
            logging.getLogger().removeHandler(handler)
            handler.close()


@pytest.fixture(autouse=True)
def fresh_handlers() -> None:
    _detach_file_handler()
    yield
    _detach_file_handler()


def test_cli_writes_its_run_to_the_log_file(tmp_path: Path) -> None:
    (tmp_path / "photos").mkdir()
    assert cli_main(["scan", str(tmp_path / "photos"), "--quiet"]) == 0
    text = paths.log_path().read_text()
    assert "dedup-gui 0." in text and "Python" in text


def test_setup_follows_a_changed_log_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = logs.setup_logging()
    monkeypatch.setenv("DEDUP_GUI_LOG_DIR", str(tmp_path / "elsewhere"))
    second = logs.setup_logging()
    assert first != second and second == tmp_path / "elsewhere" / "dedup-gui.log"
    named = [h for h in logging.getLogger().handlers if h.get_name() == logs._HANDLER_NAME]
    assert len(named) == 1


def test_log_rotates_at_its_size_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs, "MAX_BYTES", 2_000)
    path = logs.setup_logging()
    assert path is not None
    for number in range(200):
        logging.getLogger("dedup_gui.test").info("line %d %s", number, "x" * 40)
    rotated = sorted(p.name for p in path.parent.iterdir())
    assert rotated == ["dedup-gui.log", "dedup-gui.log.1", "dedup-gui.log.2", "dedup-gui.log.3"]
    assert all(p.stat().st_size <= 2_100 for p in path.parent.iterdir())
    assert "line 199" in logs.tail(path)


def test_unwritable_log_folder_gives_no_file_and_no_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("DEDUP_GUI_LOG_DIR", str(blocker / "log"))
    assert logs.setup_logging() is None


def test_uncaught_errors_are_logged_with_their_traceback() -> None:
    path = logs.setup_logging()
    assert path is not None
    try:
        raise ValueError("boom in a slot")
    except ValueError as error:
        logs.log_uncaught(ValueError, error, error.__traceback__)
    text = path.read_text()
    assert "unexpected error" in text and "ValueError: boom in a slot" in text and "Traceback" in text


def test_tail_keeps_whole_lines_and_handles_a_missing_file(tmp_path: Path) -> None:
    log_file = tmp_path / "a.log"
    log_file.write_text("".join(f"line {n}\n" for n in range(1000)))
    end = logs.tail(log_file, max_bytes=100)
    assert end.endswith("line 999\n") and end.startswith("line ") and len(end) <= 100
    assert logs.tail(tmp_path / "missing.log") == ""
