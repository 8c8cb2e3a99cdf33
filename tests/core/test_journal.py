"""The journal and the trash it points into: rows before and after every action, file names that are not
UTF-8, crash recovery candidates, and finding a trashed file again by its .trashinfo."""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from dedup_gui.core import actions, journal, trash
from dedup_gui.core.actions import Request, file_digest
from dedup_gui.core.keep_rules import FileRecord


def record(path: Path) -> FileRecord:
    st = os.stat(path)
    return FileRecord(path, st.st_size, st.st_mtime_ns, file_digest(path))


def test_the_journal_lives_in_the_data_dir_in_wal_mode(isolated_user_dirs: Path) -> None:
    with journal.Journal() as j:
        assert j.path == isolated_user_dirs / "data" / "journal.sqlite3"
    db = sqlite3.connect(isolated_user_dirs / "data" / "journal.sqlite3")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()


def test_rows_go_planned_pending_done_with_times_and_destination(tmp_path: Path) -> None:
    file = tmp_path / "a.jpg"
    file.write_bytes(b"abc")
    keeper = tmp_path / "b.jpg"
    keeper.write_bytes(b"abc")
    with journal.Journal() as j:
        batch_id, (entry_id,) = j.begin_batch(
            "trash", {"references": []}, [journal.Planned("trash", record(file), (record(keeper),))]
        )
        (entry,) = j.entries(batch_id)
        assert entry.state == journal.PLANNED and entry.started_at is None
        assert entry.file == record(file) and entry.keepers == (record(keeper),)
        j.mark_pending(entry_id)
        assert j.entries(batch_id)[0].state == journal.PENDING and j.entries(batch_id)[0].started_at
        j.mark_done(entry_id, "moved to the trash", tmp_path / "Trash" / "files" / "a.jpg")
        (entry,) = j.entries(batch_id)
        assert (entry.state, entry.outcome) == (journal.DONE, "moved to the trash")
        assert entry.destination == tmp_path / "Trash" / "files" / "a.jpg" and entry.finished_at
        batch = j.batch(batch_id)
        assert batch is not None and batch.counts == {journal.DONE: 1} and batch.undoable and not batch.incomplete
        assert j.last_undoable() == batch


def test_every_action_is_journaled_before_it_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.jpg").write_bytes(b"same")
    (tmp_path / "b.jpg").write_bytes(b"same")
    seen: list[str] = []
    real_send = trash.send

    def send(path: Path) -> Path | None:
        with journal.Journal() as other:  # what a second process reading the journal sees at that moment
            (batch,) = other.batches()
            seen.extend(e.state for e in other.entries(batch.id))
        return real_send(path)

    monkeypatch.setattr(trash, "send", send)
    outcome = actions.move_to_trash([Request(record(tmp_path / "b.jpg"), (record(tmp_path / "a.jpg"),))])
    assert seen == [journal.PENDING] and outcome.batch is not None
    assert outcome.batch.counts == {journal.DONE: 1}


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS file systems insist on UTF-8 names")
def test_names_that_are_not_utf8_round_trip(tmp_path: Path, isolated_user_dirs: Path) -> None:
    odd = Path(os.fsdecode(os.fsencode(tmp_path) + b"/caf\xe9 copy.jpg"))
    odd.write_bytes(b"pixels")
    (tmp_path / "cafe.jpg").write_bytes(b"pixels")
    outcome = actions.move_to_trash([Request(record(odd), (record(tmp_path / "cafe.jpg"),))])
    assert outcome.done == [odd] and not odd.exists()
    with journal.Journal() as j:
        assert outcome.batch is not None and j.entries(outcome.batch.id)[0].path == odd
    assert actions.undo().done == [odd] and odd.read_bytes() == b"pixels"


def test_incomplete_batches_are_those_cut_short(tmp_path: Path) -> None:
    (tmp_path / "a.jpg").write_bytes(b"x")
    planned = [journal.Planned("trash", record(tmp_path / "a.jpg"), ())]
    with journal.Journal() as j:
        finished, (done_id,) = j.begin_batch("trash", {}, planned)
        j.mark_pending(done_id)
        j.mark_done(done_id, "moved")
        cut, (pending_id,) = j.begin_batch("trash", {}, planned)
        j.mark_pending(pending_id)
        assert [b.id for b in j.incomplete_batches()] == [cut]
        assert j.batch(finished) is not None and not j.batch(finished).incomplete  # type: ignore[union-attr]


def test_a_newer_journal_is_not_touched(isolated_user_dirs: Path) -> None:
    with journal.Journal():
        pass
    db = sqlite3.connect(isolated_user_dirs / "data" / "journal.sqlite3")
    db.execute("PRAGMA user_version=99")
    db.close()
    with pytest.raises(RuntimeError, match="newer version"):
        journal.Journal()


def _write_entry(trash_dir: Path, name: str, original: str, deleted: datetime, content: bytes) -> None:
    (trash_dir / "files").mkdir(parents=True, exist_ok=True)
    (trash_dir / "info").mkdir(parents=True, exist_ok=True)
    (trash_dir / "files" / name).write_bytes(content)
    (trash_dir / "info" / f"{name}.trashinfo").write_text(
        f"[Trash Info]\nPath={original}\nDeletionDate={deleted.strftime('%Y-%m-%dT%H:%M:%S')}\n"
    )


def test_find_wants_the_original_path_a_later_deletion_and_the_same_content(tmp_path: Path) -> None:
    home = trash.home_trash()
    original = tmp_path / "photos" / "a b.jpg"
    now = time.time()
    quoted = str(original).replace(" ", "%20")
    _write_entry(home, "a b.jpg", quoted, datetime.fromtimestamp(now - 3600), b"right bytes")  # an older deletion
    _write_entry(
        home, "a b.2.jpg", str(tmp_path / "elsewhere" / "a b.jpg"), datetime.fromtimestamp(now), b"right bytes"
    )
    _write_entry(home, "a b.3.jpg", quoted, datetime.fromtimestamp(now), b"other bytes")
    _write_entry(home, "a b.4.jpg", quoted, datetime.fromtimestamp(now + 1), b"right bytes")
    found = trash.find(original, now, lambda p: p.read_bytes() == b"right bytes")
    assert found is not None and found.file == home / "files" / "a b.4.jpg"
    assert found.info == home / "info" / "a b.4.jpg.trashinfo"
    assert trash.find(original, now + 3600, lambda p: True) is None


def test_find_reads_paths_relative_to_the_trash_top_folder(tmp_path: Path) -> None:
    """send2trash writes Path= relative to XDG_DATA_HOME for files under it."""
    home = trash.home_trash()
    original = home.parent / "pictures" / "x.jpg"
    _write_entry(home, "x.jpg", "pictures/x.jpg", datetime.now(), b"x")
    found = trash.find(original, time.time() - 1)
    assert found is not None and found.original == original


def test_trashing_never_replaces_an_entry_already_in_the_trash(tmp_path: Path) -> None:
    home = trash.home_trash()
    _write_entry(home, "a.jpg", "/somewhere/else/a.jpg", datetime.now(), b"trashed earlier")
    (tmp_path / "a.jpg").write_bytes(b"now")
    where = trash.send(tmp_path / "a.jpg")
    assert where == home / "files" / "a.2.jpg" and where.read_bytes() == b"now"
    assert (home / "files" / "a.jpg").read_bytes() == b"trashed earlier"
    assert "Path=" + str(tmp_path / "a.jpg") in (home / "info" / "a.2.jpg.trashinfo").read_text()


def test_rename_no_replace_refuses_an_existing_target(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"a")
    (tmp_path / "b").write_bytes(b"b")
    with pytest.raises(FileExistsError):
        trash.rename_no_replace(tmp_path / "a", tmp_path / "b")
    assert (tmp_path / "a").read_bytes() == b"a" and (tmp_path / "b").read_bytes() == b"b"
    trash.rename_no_replace(tmp_path / "a", tmp_path / "c")
    assert not (tmp_path / "a").exists() and (tmp_path / "c").read_bytes() == b"a"


def test_a_pending_row_whose_file_is_in_the_trash_counts_as_done(tmp_path: Path, isolated_user_dirs: Path) -> None:
    """The process died between the move and the "done" row: the trash entry proves the move happened."""
    (tmp_path / "a.jpg").write_bytes(b"same")
    (tmp_path / "b.jpg").write_bytes(b"same")
    scanned = record(tmp_path / "b.jpg")
    with journal.Journal() as j:
        batch_id, (entry_id,) = j.begin_batch(
            "trash", {}, [journal.Planned("trash", scanned, (record(tmp_path / "a.jpg"),))]
        )
        j.mark_pending(entry_id)
        trash.send(tmp_path / "b.jpg")
    outcome = actions.resolve(batch_id, actions.Resolution.FINISH)
    assert outcome.done == [tmp_path / "b.jpg"] and "found moved" in outcome.items[0].message
    with journal.Journal() as j:
        (entry,) = j.entries(batch_id)
    assert entry.state == journal.DONE and entry.destination == trash.home_trash() / "files" / "b.jpg"
    assert actions.undo(batch_id).done == [tmp_path / "b.jpg"] and (tmp_path / "b.jpg").read_bytes() == b"same"


@pytest.mark.parametrize("written", [False, True])
@pytest.mark.parametrize("how", list(actions.Resolution))
def test_a_trash_cut_short_before_the_move_leaves_no_entry_without_a_file(
    tmp_path: Path, isolated_user_dirs: Path, written: bool, how: actions.Resolution
) -> None:
    """The process died after the trash entry's .trashinfo was reserved (or written) and before the file moved:
    the file is still in place, and the trash must not list an entry whose file never arrived."""
    (tmp_path / "a.jpg").write_bytes(b"same")
    (tmp_path / "b.jpg").write_bytes(b"same")
    earlier = trash.home_trash() / "info" / "b.jpg.trashinfo"  # another b.jpg, trashed before this batch
    earlier.parent.mkdir(parents=True)
    elsewhere = trash.home_trash() / "info" / "backup.jpg.trashinfo"  # another program's, just reserved
    elsewhere.touch()
    earlier.write_text(f"[Trash Info]\nPath={tmp_path / 'b.jpg'}\nDeletionDate=2020-01-01T00:00:00\n")
    os.utime(earlier, (time.time() - 3600,) * 2)
    with journal.Journal() as j:
        batch_id, (entry_id,) = j.begin_batch(
            "trash", {}, [journal.Planned("trash", record(tmp_path / "b.jpg"), (record(tmp_path / "a.jpg"),))]
        )
        j.mark_pending(entry_id)

    def killed(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(trash, "rename_no_replace" if written else "_write_info", killed)
        mp.setattr(Path, "unlink", killed)  # as if the process died: nothing is cleaned up
        with pytest.raises(KeyboardInterrupt):
            trash.send(tmp_path / "b.jpg")
    elsewhere.unlink()
    left = sorted(p.name for p in (trash.home_trash() / "info").iterdir())
    assert left == ["b.2.jpg.trashinfo", "b.jpg.trashinfo"]
    elsewhere.touch()
    outcome = actions.resolve(batch_id, how)
    assert not outcome.errors
    assert elsewhere.exists()  # another file's reservation whose name starts alike is not touched
    elsewhere.unlink()
    remaining = {p.name for p in (trash.home_trash() / "info").iterdir()}
    files = {p.name for p in (trash.home_trash() / "files").iterdir()}
    assert {name.removesuffix(".trashinfo") for name in remaining} - {"b.jpg"} == files  # each entry has its file
    assert "b.jpg.trashinfo" in remaining  # nor is the earlier entry
    if how is actions.Resolution.ROLLBACK:
        assert (tmp_path / "b.jpg").read_bytes() == b"same" and files == set()
    else:
        assert not (tmp_path / "b.jpg").exists() and len(files) == 1


def test_a_pending_row_whose_file_is_nowhere_is_reported_not_guessed(tmp_path: Path) -> None:
    (tmp_path / "a.jpg").write_bytes(b"same")
    (tmp_path / "b.jpg").write_bytes(b"same")
    with journal.Journal() as j:
        batch_id, (entry_id,) = j.begin_batch(
            "trash", {}, [journal.Planned("trash", record(tmp_path / "b.jpg"), (record(tmp_path / "a.jpg"),))]
        )
        j.mark_pending(entry_id)
    (tmp_path / "b.jpg").rename(tmp_path / "moved-by-someone.jpg")
    outcome = actions.resolve(batch_id, "rollback")
    ((path, reason),) = outcome.errors
    assert path == tmp_path / "b.jpg" and "by hand" in reason
    assert (tmp_path / "moved-by-someone.jpg").exists()


def test_an_interrupted_undo_is_completed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.jpg").write_bytes(b"same")
    (tmp_path / "b.jpg").write_bytes(b"same")
    (tmp_path / "c.jpg").write_bytes(b"same")
    keep = record(tmp_path / "a.jpg")
    outcome = actions.move_to_trash([Request(record(tmp_path / n), (keep,)) for n in ("b.jpg", "c.jpg")])
    assert outcome.batch is not None
    real_transfer = actions.transfer
    calls = 0

    def crash_after_first_restore(*args: object) -> None:
        nonlocal calls
        calls += 1
        real_transfer(*args)  # type: ignore[arg-type]
        raise KeyboardInterrupt

    monkeypatch.setattr(actions, "transfer", crash_after_first_restore)
    with pytest.raises(KeyboardInterrupt):
        actions.undo(outcome.batch)
    monkeypatch.setattr(actions, "transfer", real_transfer)
    (batch,) = actions.incomplete_batches()
    again = actions.undo(batch)
    assert again.done == [tmp_path / "b.jpg"] and (tmp_path / "b.jpg").exists() and (tmp_path / "c.jpg").exists()
    with journal.Journal() as j:
        assert [e.state for e in j.entries(batch.id)] == [journal.RESTORED, journal.RESTORED]


def test_rename_no_replace_leaves_the_source_when_it_cannot_remove_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a").write_bytes(b"a")
    real_unlink = os.unlink

    def unlink(path: object, *args: object, **kwargs: object) -> None:
        if Path(path) == tmp_path / "a":  # type: ignore[arg-type]
            raise PermissionError(13, "Permission denied")
        real_unlink(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(trash.os, "unlink", unlink)
    with pytest.raises(PermissionError):
        trash.rename_no_replace(tmp_path / "a", tmp_path / "b")
    assert (tmp_path / "a").read_bytes() == b"a" and not (tmp_path / "b").exists()
