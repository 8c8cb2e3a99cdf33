"""Safe actions: every file is checked again, the last copy and reference folders are never touched, nothing is
ever deleted, and undo puts back identical bytes at identical paths."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

import pytest

from dedup_gui.core import actions, journal, trash
from dedup_gui.core.actions import Request, file_digest
from dedup_gui.core.analysis import content_digest
from dedup_gui.core.keep_rules import FileRecord
from dedup_gui.core.model import Method
from dedup_gui.core.pipeline import ScanOptions, scan


@pytest.fixture(autouse=True)
def user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The trash and the journal in temporary folders: no test may touch the real ones."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "xdg"))
    monkeypatch.setenv("DEDUP_GUI_DATA_DIR", str(home / "data"))
    assert trash.home_trash() == home / "xdg" / "Trash"
    return home


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    (root / "sub").mkdir(parents=True)
    (root / "a.jpg").write_bytes(b"original bytes " * 100)
    (root / "a copy.jpg").write_bytes(b"original bytes " * 100)
    (root / "sub" / "a (1).jpg").write_bytes(b"original bytes " * 100)
    (root / "b.jpg").write_bytes(b"another picture " * 50)
    (root / "b-edited.jpg").write_bytes(b"another picture, smaller " * 10)
    return root


def record(path: Path) -> FileRecord:
    st = os.stat(path)
    return FileRecord(path, st.st_size, st.st_mtime_ns, file_digest(path), dev=st.st_dev, ino=st.st_ino)


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def trashed(user_dirs: Path) -> list[str]:
    files = user_dirs / "xdg" / "Trash" / "files"
    return sorted(os.listdir(files)) if files.exists() else []


def test_file_digest_is_the_scan_digest(photos: Path) -> None:
    path = photos / "a.jpg"
    assert file_digest(path) == content_digest(path.read_bytes())


def test_trash_and_undo_round_trip_restores_identical_bytes_and_paths(photos: Path, user_dirs: Path) -> None:
    before = snapshot(photos)
    mtimes = {p: p.stat().st_mtime_ns for p in photos.rglob("*.jpg")}
    keep = record(photos / "a.jpg")
    copies = [photos / "a copy.jpg", photos / "sub" / "a (1).jpg"]
    outcome = actions.move_to_trash([Request(record(p), (keep,)) for p in copies])
    assert outcome.ok and outcome.done == copies and not outcome.failed
    assert not any(p.exists() for p in copies) and (photos / "a.jpg").exists()
    assert trashed(user_dirs) == ["a (1).jpg", "a copy.jpg"]
    info = (user_dirs / "xdg" / "Trash" / "info" / "a copy.jpg.trashinfo").read_text()
    assert "Path=" + str(photos / "a copy.jpg").replace(" ", "%20") in info and "DeletionDate=" in info
    assert outcome.batch is not None and outcome.batch.counts == {journal.DONE: 2}

    undone = actions.undo()
    assert undone.ok and sorted(undone.done) == sorted(copies)
    assert snapshot(photos) == before
    assert {p: p.stat().st_mtime_ns for p in photos.rglob("*.jpg")} == mtimes
    assert trashed(user_dirs) == [] and os.listdir(user_dirs / "xdg" / "Trash" / "info") == []
    assert actions.undo().batch is None  # nothing left to undo


def test_undo_takes_a_listed_batch_not_only_the_last(photos: Path) -> None:
    keep = record(photos / "a.jpg")
    first = actions.move_to_trash([Request(record(photos / "a copy.jpg"), (keep,))])
    second = actions.move_to_trash([Request(record(photos / "sub" / "a (1).jpg"), (keep,))])
    assert first.batch and second.batch
    assert [b.id for b in actions.batches()] == [second.batch.id, first.batch.id]
    assert actions.undo(first.batch.id).done == [photos / "a copy.jpg"]
    assert not (photos / "sub" / "a (1).jpg").exists()
    assert actions.undo().done == [photos / "sub" / "a (1).jpg"]  # the last batch with something to undo


@pytest.mark.parametrize("change", ["append", "same size and time", "vanish", "replace"])
def test_a_file_changed_since_the_scan_is_refused(photos: Path, user_dirs: Path, change: str) -> None:
    target = photos / "a copy.jpg"
    scanned = record(target)
    if change == "append":
        with open(target, "ab") as handle:
            handle.write(b"edited")
    elif change == "same size and time":
        target.write_bytes(b"X" * scanned.size)
        os.utime(target, ns=(scanned.mtime_ns, scanned.mtime_ns))
    elif change == "vanish":
        target.unlink()
    else:
        replacement = photos / "replacement.tmp"  # same bytes and time, another file (saved by an editor)
        replacement.write_bytes(b"original bytes " * 100)
        os.utime(replacement, ns=(scanned.mtime_ns, scanned.mtime_ns))
        os.replace(replacement, target)
    outcome = actions.move_to_trash([Request(scanned, (record(photos / "a.jpg"),))])
    ((path, reason),) = outcome.refused
    assert path == target and outcome.ok and not outcome.done
    expected = {"append": "size", "same size and time": "content changed", "vanish": "vanished", "replace": "replaced"}
    assert expected[change] in reason
    assert trashed(user_dirs) == []


def test_the_last_copy_of_a_group_is_refused(photos: Path, user_dirs: Path) -> None:
    a, b = record(photos / "a.jpg"), record(photos / "a copy.jpg")
    both = actions.move_to_trash([Request(a, (b,)), Request(b, (a,))])
    assert len(both.refused) == 2 and all("last copy" in reason for _, reason in both.refused)
    nothing_kept = actions.move_to_trash([Request(b, ())])
    assert "no file of the group is marked to keep" in nothing_kept.refused[0][1]
    (photos / "a.jpg").unlink()
    keeper_gone = actions.move_to_trash([Request(b, (a,))])
    assert "last copy" in keeper_gone.refused[0][1] and "vanished" in keeper_gone.refused[0][1]
    assert (photos / "a copy.jpg").exists() and trashed(user_dirs) == []


def test_the_kept_copy_is_checked_again_right_before_the_last_removal(
    photos: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keep = record(photos / "a.jpg")
    copies = [photos / "a copy.jpg", photos / "sub" / "a (1).jpg"]
    checked = actions.plan([Request(record(p), (keep,)) for p in copies])
    assert len(checked.steps) == 2 and not checked.refused
    # The kept file is edited after planning, keeping size and time: only its content tells.
    (photos / "a.jpg").write_bytes(b"X" * keep.size)
    os.utime(photos / "a.jpg", ns=(keep.mtime_ns, keep.mtime_ns))
    outcome = actions.execute(checked)
    assert outcome.done == [copies[0]]  # not the last removal: a cheap check of the kept file
    ((path, reason),) = outcome.refused
    assert path == copies[1] and "last copy" in reason and "content changed" in reason
    assert copies[1].exists()


def test_a_kept_file_removed_earlier_in_the_same_batch_does_not_count(photos: Path) -> None:
    a, b, c = (record(photos / n) for n in ("a.jpg", "a copy.jpg", "sub/a (1).jpg"))
    # Inconsistent marks: b is kept for a's sake and removed itself, relying on c.
    outcome = actions.move_to_trash([Request(a, (b, c)), Request(b, (c,))])
    assert outcome.done == [a.path, b.path] and c.path.exists()
    # Same marks, but c is gone by the time it runs: b may not stand in for a, as b is going too.
    (photos / "a.jpg").write_bytes(a.path.name.encode())
    fresh = [record(photos / n) for n in ("a.jpg", "sub/a (1).jpg")]
    checked = actions.plan(
        [Request(fresh[0], (record(photos / "b.jpg"), fresh[1])), Request(record(photos / "b.jpg"), (fresh[1],))]
    )
    fresh[1].path.unlink()
    outcome = actions.execute(checked)
    assert outcome.done == [] and all("last copy" in reason for _, reason in outcome.refused)


def test_files_in_reference_folders_are_never_touched(photos: Path, user_dirs: Path) -> None:
    keep = record(photos / "a.jpg")
    outcome = actions.move_to_trash(
        [Request(record(photos / "sub" / "a (1).jpg"), (keep,))], references=[photos / "sub"]
    )
    ((path, reason),) = outcome.refused
    assert path == photos / "sub" / "a (1).jpg" and "reference folder" in reason
    assert path.exists() and trashed(user_dirs) == [] and outcome.batch is None


def test_dry_run_changes_nothing_and_reports(photos: Path, user_dirs: Path) -> None:
    before = snapshot(photos)
    keep = record(photos / "a.jpg")
    changed = record(photos / "sub" / "a (1).jpg")
    (photos / "sub" / "a (1).jpg").write_bytes(b"edited since")
    requests = [Request(record(photos / "a copy.jpg"), (keep,)), Request(changed, (keep,))]
    outcome = actions.move_to_trash(requests, dry_run=True)
    assert outcome.dry_run and outcome.would == [photos / "a copy.jpg"] and outcome.done == []
    assert [p for p, _ in outcome.refused] == [photos / "sub" / "a (1).jpg"]
    moved = actions.move_to_folder(requests[:1], photos.parent / "dups", roots=[photos], dry_run=True)
    assert moved.items[0].message == f"would move to {photos.parent / 'dups' / 'a copy.jpg'}"
    assert snapshot(photos) == {**before, "sub/a (1).jpg": b"edited since"}
    assert trashed(user_dirs) == [] and not (photos.parent / "dups").exists()
    assert actions.batches() == []  # not even journaled


def test_a_failing_trash_leaves_the_file_and_reports(photos: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """send2trash raising (no trash on a mount, say) must never lead to deleting the file instead."""
    import send2trash

    def no_trash(path: str) -> None:
        raise OSError(13, "Permission denied", path)

    monkeypatch.setattr(trash, "on_device_of", lambda path, folder: False)  # as if on another mount
    monkeypatch.setattr(send2trash, "send2trash", no_trash)
    target = photos / "a copy.jpg"
    before = target.read_bytes()
    outcome = actions.move_to_trash([Request(record(target), (record(photos / "a.jpg"),))])
    assert not outcome.ok and outcome.done == []
    ((path, reason),) = outcome.errors
    assert path == target and "Permission denied" in reason and "left in place" in reason
    assert target.read_bytes() == before
    assert outcome.batch is not None and outcome.batch.counts == {journal.FAILED: 1}


def test_an_unusable_home_trash_leaves_the_file_and_reports(photos: Path, user_dirs: Path) -> None:
    (user_dirs / "xdg").mkdir()
    (user_dirs / "xdg" / "Trash").write_text("a file where the trash folder should be")
    target = photos / "a copy.jpg"
    outcome = actions.move_to_trash([Request(record(target), (record(photos / "a.jpg"),))])
    ((path, reason),) = outcome.errors
    assert path == target and "cannot be used" in reason and target.exists()


def test_move_to_a_folder_keeps_relative_paths_and_undoes(photos: Path, tmp_path: Path) -> None:
    before = snapshot(photos)
    keep = record(photos / "a.jpg")
    dest = tmp_path / "duplicates"
    copies = [photos / "a copy.jpg", photos / "sub" / "a (1).jpg"]
    outcome = actions.move_to_folder([Request(record(p), (keep,)) for p in copies], dest, roots=[photos])
    assert outcome.ok and outcome.done == copies
    assert snapshot(dest) == {"a copy.jpg": before["a copy.jpg"], "sub/a (1).jpg": before["sub/a (1).jpg"]}
    assert outcome.items[1].destination == dest / "sub" / "a (1).jpg"
    assert actions.undo().ok
    assert snapshot(photos) == before and snapshot(dest) == {}


def test_move_refuses_to_overwrite_at_the_destination(photos: Path, tmp_path: Path) -> None:
    dest = tmp_path / "duplicates"
    dest.mkdir()
    (dest / "a copy.jpg").write_bytes(b"something else")
    outcome = actions.move_to_folder(
        [Request(record(photos / "a copy.jpg"), (record(photos / "a.jpg"),))], dest, roots=[photos]
    )
    assert "already exists" in outcome.refused[0][1]
    assert (dest / "a copy.jpg").read_bytes() == b"something else" and (photos / "a copy.jpg").exists()


def test_a_move_across_file_systems_is_verified_before_the_source_goes(
    photos: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(actions, "same_device", lambda path, folder: False)
    events: list[str] = []
    real_matches, real_unlink = actions._matches, os.unlink

    def matches(path: Path, size: int, digest: str | None) -> bool:
        events.append(f"verify {path.name}")
        return real_matches(path, size, digest)

    def unlink(path: os.PathLike[str] | str, *args: object, **kwargs: object) -> None:
        events.append(f"unlink {Path(path).name}")
        real_unlink(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(actions, "_matches", matches)
    monkeypatch.setattr(actions.os, "unlink", unlink)
    source = photos / "a copy.jpg"
    content, mtime = source.read_bytes(), source.stat().st_mtime_ns
    dest = tmp_path / "other-disk"
    outcome = actions.move_to_folder([Request(record(source), (record(photos / "a.jpg"),))], dest, roots=[photos])
    assert outcome.ok and outcome.done == [source] and not source.exists()
    assert (dest / "a copy.jpg").read_bytes() == content and (dest / "a copy.jpg").stat().st_mtime_ns == mtime
    verified = next(i for i, e in enumerate(events) if e.startswith("verify .a copy.jpg.dedup-partial"))
    assert events.index("unlink a copy.jpg") > verified
    assert [p.name for p in dest.iterdir()] == ["a copy.jpg"]  # no partial copy left behind


def test_a_bad_copy_across_file_systems_keeps_the_source(
    photos: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(actions, "same_device", lambda path, folder: False)

    def corrupt(src: object, dst: object, length: int = 0) -> None:
        dst.write(b"not the same bytes")  # type: ignore[attr-defined]

    monkeypatch.setattr(shutil, "copyfileobj", corrupt)
    source = photos / "a copy.jpg"
    before = source.read_bytes()
    dest = tmp_path / "other-disk"
    outcome = actions.move_to_folder([Request(record(source), (record(photos / "a.jpg"),))], dest, roots=[photos])
    ((path, reason),) = outcome.errors
    assert path == source and "did not match" in reason and "left in place" in reason
    assert source.read_bytes() == before and list(dest.iterdir()) == []


def test_replace_with_a_hard_link_and_undo(photos: Path) -> None:
    keep_path, copy = photos / "a.jpg", photos / "a copy.jpg"
    before = copy.read_bytes()
    outcome = actions.move_to_trash([Request(record(copy), (record(keep_path),))], hard_link=True)
    assert outcome.ok and "hard link" in outcome.items[0].message
    assert os.path.samefile(copy, keep_path) and keep_path.stat().st_nlink == 2
    assert actions.undo().ok
    assert not os.path.samefile(copy, keep_path) and copy.read_bytes() == before
    assert keep_path.stat().st_nlink == 1


def test_hard_links_only_replace_identical_copies(photos: Path) -> None:
    outcome = actions.move_to_trash(
        [Request(record(photos / "b-edited.jpg"), (record(photos / "b.jpg"),))], hard_link=True
    )
    assert "no identical kept copy" in outcome.refused[0][1] and (photos / "b-edited.jpg").exists()


def test_symbolic_links_are_refused(photos: Path) -> None:
    link = photos / "link.jpg"
    scanned = record(photos / "a copy.jpg")
    link.symlink_to(photos / "a copy.jpg")
    outcome = actions.move_to_trash(
        [Request(FileRecord(link, scanned.size, scanned.mtime_ns, scanned.digest), (record(photos / "a.jpg"),))]
    )
    assert "symbolic link" in outcome.refused[0][1] and link.is_symlink()


def test_undo_never_overwrites_a_file_now_at_the_original_path(photos: Path, user_dirs: Path) -> None:
    copy = photos / "a copy.jpg"
    actions.move_to_trash([Request(record(copy), (record(photos / "a.jpg"),))])
    copy.write_bytes(b"a new file with the old name")
    outcome = actions.undo()
    ((path, reason),) = outcome.refused
    assert path == copy and "not overwritten" in reason and outcome.ok
    assert copy.read_bytes() == b"a new file with the old name" and trashed(user_dirs) == ["a copy.jpg"]
    copy.unlink()
    assert actions.undo().done == [copy]  # still undoable once the path is free


def test_undo_reports_a_trash_that_cannot_be_read_back(
    photos: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows: send2trash works, but nothing tells where the file went."""
    import send2trash

    bin_dir = tmp_path / "RecycleBin"
    bin_dir.mkdir()
    monkeypatch.setattr(trash, "freedesktop", lambda: False)
    monkeypatch.setattr(trash, "can_read_back", lambda: False)
    monkeypatch.setattr(send2trash, "send2trash", lambda path: shutil.move(path, bin_dir / Path(path).name))
    copy = photos / "a copy.jpg"
    outcome = actions.move_to_trash([Request(record(copy), (record(photos / "a.jpg"),))])
    assert outcome.done == [copy] and outcome.items[0].destination is None
    undone = actions.undo()
    ((path, reason),) = undone.errors
    assert path == copy and "cannot be read back" in reason and "by hand" in reason


def test_the_window_api_takes_scanned_files(photos: Path, tmp_path: Path) -> None:
    result = scan(ScanOptions(roots=(photos,), cache_path=tmp_path / "c.sqlite", workers=0, method=Method.EXACT))
    (group,) = [g for g in result.groups if len(g.members) == 3]
    files = [result.files[m] for m in group.members]
    kept, removed = files[0], files[1:]
    outcome = actions.move_to_trash([actions.TrashRequest(f, (kept,)) for f in removed])
    assert outcome.done == [f.ref.path for f in removed] and outcome.failed == []
    assert outcome.batch is not None
    assert sorted(actions.undo(outcome.batch).done) == sorted(f.ref.path for f in removed)


def test_a_crash_mid_batch_leaves_pending_rows_that_tell_what_moved(
    photos: Path, user_dirs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(photos)
    keep = record(photos / "a.jpg")
    copies = [photos / "a copy.jpg", photos / "sub" / "a (1).jpg", photos / "b-edited.jpg"]
    requests = [Request(record(p), (keep,)) for p in copies[:2]] + [
        Request(record(copies[2]), (record(photos / "b.jpg"),))
    ]
    real_send = trash.send

    def send_then_crash(path: Path) -> Path | None:
        real_send(path)
        raise KeyboardInterrupt("power cut")  # after the first file moved, before the journal heard of it

    monkeypatch.setattr(trash, "send", send_then_crash)
    with pytest.raises(KeyboardInterrupt):
        actions.move_to_trash(requests)
    monkeypatch.setattr(trash, "send", real_send)

    (batch,) = actions.incomplete_batches()
    with journal.Journal() as j:
        states = {e.path: e.state for e in j.entries(batch.id)}
    assert states == {copies[0]: journal.PENDING, copies[1]: journal.PLANNED, copies[2]: journal.PLANNED}
    assert not copies[0].exists() and trashed(user_dirs) == ["a copy.jpg"]

    outcome = actions.resolve(batch, actions.Resolution.ROLLBACK)
    assert outcome.done == [copies[0]] and outcome.ok
    assert snapshot(photos) == before and trashed(user_dirs) == []
    assert actions.incomplete_batches() == []
    with journal.Journal() as j:
        assert [e.state for e in j.entries(batch.id)] == [journal.RESTORED, journal.CANCELLED, journal.CANCELLED]


def test_finishing_a_batch_cut_short_runs_the_rest_with_every_check(
    photos: Path, user_dirs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keep = record(photos / "a.jpg")
    copies = [photos / "a copy.jpg", photos / "sub" / "a (1).jpg", photos / "b-edited.jpg"]
    requests = [Request(record(p), (keep,)) for p in copies[:2]] + [
        Request(record(copies[2]), (record(photos / "b.jpg"),))
    ]
    calls = 0
    real_send = trash.send

    def crash_on_second(path: Path) -> Path | None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise SystemExit("killed")  # the second file never moved
        return real_send(path)

    monkeypatch.setattr(trash, "send", crash_on_second)
    with pytest.raises(SystemExit):
        actions.move_to_trash(requests)
    monkeypatch.setattr(trash, "send", real_send)
    copies[2].write_bytes(b"edited while the app was down")

    (batch,) = actions.incomplete_batches()
    outcome = actions.resolve(batch.id, "finish")
    assert outcome.done == [copies[1]]  # the pending one that had not moved, now moved
    assert [p for p, _ in outcome.refused] == [copies[2]]  # changed since the scan
    assert trashed(user_dirs) == ["a (1).jpg", "a copy.jpg"] and copies[2].exists()
    assert actions.incomplete_batches() == []
    assert sorted(actions.undo(batch.id).done) == sorted(copies[:2])


def test_a_pending_move_cut_between_copy_and_unlink_is_finished(
    photos: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(actions, "same_device", lambda path, folder: False)
    real_unlink = os.unlink

    def die_before_removing_source(path: os.PathLike[str] | str, *args: object, **kwargs: object) -> None:
        if Path(path) == photos / "a copy.jpg":
            raise KeyboardInterrupt
        real_unlink(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(actions.os, "unlink", die_before_removing_source)
    dest = tmp_path / "dups"
    with pytest.raises(KeyboardInterrupt):
        actions.move_to_folder(
            [Request(record(photos / "a copy.jpg"), (record(photos / "a.jpg"),))], dest, roots=[photos]
        )
    monkeypatch.setattr(actions.os, "unlink", real_unlink)
    assert (photos / "a copy.jpg").exists() and (dest / "a copy.jpg").exists()
    outcome = actions.resolve(actions.incomplete_batches()[0], "finish")
    assert outcome.done == [photos / "a copy.jpg"] and not (photos / "a copy.jpg").exists()


def test_a_batch_of_a_running_process_is_not_offered_for_recovery(photos: Path) -> None:
    with journal.Journal() as j:
        batch_id, _ = j.begin_batch("trash", {}, [journal.Planned("trash", record(photos / "a copy.jpg"), ())])
        j._db.execute("UPDATE batches SET pid = ? WHERE id = ?", (os.getppid(), batch_id))
    assert actions.incomplete_batches() == []
    with pytest.raises(actions.BatchBusy):
        actions.undo(batch_id)


def test_a_bind_mount_rename_falls_back_to_a_verified_copy(
    photos: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same device number, yet rename fails with EXDEV (one file system mounted twice)."""
    real = trash.rename_no_replace
    source = photos / "a copy.jpg"

    def rename(src: Path, dst: Path) -> None:
        if src == source:
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        real(src, dst)

    monkeypatch.setattr(trash, "rename_no_replace", rename)
    content = source.read_bytes()
    dest = tmp_path / "dups"
    outcome = actions.move_to_folder([Request(record(source), (record(photos / "a.jpg"),))], dest, roots=[photos])
    assert outcome.done == [source] and (dest / "a copy.jpg").read_bytes() == content and not source.exists()
