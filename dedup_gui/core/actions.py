"""Removing duplicates safely: plan, check every file again, act, journal, and undo.

People hand this app their only copies of their photos, so every action here can be taken back and none of
them deletes: files go to the system trash or to a folder the person chose (never permanent deletion, not even
when the trash fails). Before touching a file its size, modification time and content digest are compared
with the scan; a file that changed, vanished or was replaced is refused. A file is removed only while another
copy of its group (not being removed, checked the same way) still exists, and files in reference folders are
never touched. Every action is in the journal before it runs and after, so undo and crash recovery know exactly
which files moved and where.
"""

from __future__ import annotations

import errno
import hashlib
import os
import secrets
import shutil
import stat
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from dedup_gui.core import trash
from dedup_gui.core.journal import (
    DONE,
    PENDING,
    PLANNED,
    RESTORING,
    Batch,
    Entry,
    Journal,
    Planned,
    process_alive,
)
from dedup_gui.core.keep_rules import FileLike, FileRecord, as_record, in_folders

__all__ = [
    "ActionResult",
    "Batch",
    "BatchBusy",
    "Mode",
    "Outcome",
    "Plan",
    "Request",
    "Resolution",
    "Status",
    "Step",
    "TransferFailed",
    "TrashRequest",
    "UnknownBatch",
    "batches",
    "changed_since_scan",
    "execute",
    "file_digest",
    "incomplete_batches",
    "move_to_folder",
    "move_to_trash",
    "plan",
    "resolve",
    "same_device",
    "transfer",
    "undo",
]

_CHUNK = 1 << 20


class Mode(Enum):
    """Where removed files go."""

    TRASH = "trash"
    MOVE = "move"


class Status(Enum):
    """What happened to one file."""

    DONE = "done"
    WOULD = "would"
    """Dry run: the checks passed and this would be done."""
    REFUSED = "refused"
    """A check said no; the file was left as it was."""
    FAILED = "failed"
    """The action was tried and did not work; the message says where the file is."""


class Resolution(Enum):
    """What to do with a batch that was cut short."""

    FINISH = "finish"
    ROLLBACK = "rollback"


class UnknownBatch(LookupError):
    """No batch has this id."""


class BatchBusy(RuntimeError):
    """Another running process is still working on this batch."""


class TransferFailed(Exception):
    """A move could not be completed; the message says where the file is."""


@dataclass(frozen=True)
class Request:
    """One file to remove and the files of its group that stay (at least one of them must still exist)."""

    file: FileLike
    kept: tuple[FileLike, ...]


TrashRequest = Request


@dataclass(frozen=True)
class Step:
    """One planned action: ``link_to`` is the kept file a hard link to it replaces the removed one with."""

    file: FileRecord
    kept: tuple[FileRecord, ...]
    mode: Mode
    destination: Path | None = None
    link_to: Path | None = None


@dataclass(frozen=True)
class ActionResult:
    """The outcome for one file, in words a person can act on."""

    path: Path
    status: Status
    message: str
    destination: Path | None = None


@dataclass(frozen=True)
class Plan:
    """Checked actions to run, and the requests refused while planning (with their reasons)."""

    mode: Mode
    steps: tuple[Step, ...]
    refused: tuple[ActionResult, ...] = ()
    references: tuple[Path, ...] = ()
    destination: Path | None = None


@dataclass
class Outcome:
    """What a command did, file by file; ``batch`` is the journal's batch (None when nothing was journaled)."""

    batch: Batch | None
    items: list[ActionResult] = field(default_factory=list)
    dry_run: bool = False

    def _with(self, status: Status) -> list[ActionResult]:
        return [item for item in self.items if item.status is status]

    @property
    def done(self) -> list[Path]:
        return [item.path for item in self._with(Status.DONE)]

    @property
    def would(self) -> list[Path]:
        return [item.path for item in self._with(Status.WOULD)]

    @property
    def refused(self) -> list[tuple[Path, str]]:
        return [(item.path, item.message) for item in self._with(Status.REFUSED)]

    @property
    def errors(self) -> list[tuple[Path, str]]:
        return [(item.path, item.message) for item in self._with(Status.FAILED)]

    @property
    def failed(self) -> list[tuple[Path, str]]:
        """Every file not done, with why: refused and failed alike (what the window lists as left in place)."""
        return [(item.path, item.message) for item in self.items if item.status in (Status.REFUSED, Status.FAILED)]

    @property
    def ok(self) -> bool:
        """True when everything was done or refused safely; False when an action failed."""
        return not self.errors


# Public entry points ---------------------------------------------------------------------------------------


def move_to_trash(
    requests: Sequence[Request],
    *,
    references: Sequence[Path] = (),
    hard_link: bool = False,
    dry_run: bool = False,
    journal: Journal | None = None,
) -> Outcome:
    """Check and move files to the system trash, as one journaled batch."""
    checked = plan(requests, Mode.TRASH, references=references, hard_link=hard_link)
    return execute(checked, dry_run=dry_run, journal=journal)


def move_to_folder(
    requests: Sequence[Request],
    destination: Path,
    *,
    roots: Sequence[Path] = (),
    references: Sequence[Path] = (),
    hard_link: bool = False,
    dry_run: bool = False,
    journal: Journal | None = None,
) -> Outcome:
    """Check and move files under ``destination``, keeping their paths relative to the scan's common root."""
    checked = plan(
        requests, Mode.MOVE, destination=destination, roots=roots, references=references, hard_link=hard_link
    )
    return execute(checked, dry_run=dry_run, journal=journal)


def batches(limit: int = 50, journal: Journal | None = None) -> list[Batch]:
    """The most recent batches, newest first (for an undo list)."""
    with _journal(journal) as j:
        return j.batches(limit)


def incomplete_batches(journal: Journal | None = None) -> list[Batch]:
    """Batches cut short by a crash, to offer ``resolve`` at start-up."""
    with _journal(journal) as j:
        return j.incomplete_batches()


def undo(batch: Batch | int | None = None, *, journal: Journal | None = None) -> Outcome:
    """Put back every file a batch moved (None: the newest batch with something to undo). Never replaces a file
    that now exists at the original path. A batch cut short is rolled back the same way."""
    with _journal(journal) as j:
        target = _target_batch(j, batch)
        if target is None:
            return Outcome(None)
        items = _rollback(j, target)
        return Outcome(j.batch(target.id), items)


def resolve(batch: Batch | int, how: Resolution | str, *, journal: Journal | None = None) -> Outcome:
    """Settle a batch cut short: ``finish`` runs what it had not done yet (with every check again),
    ``rollback`` puts back what it had done. A pending action whose file is gone from its path and found in
    the trash (or destination) counts as done."""
    how = Resolution(how)
    with _journal(journal) as j:
        target = _target_batch(j, batch)
        assert target is not None
        items = _rollback(j, target) if how is Resolution.ROLLBACK else _finish(j, target)
        return Outcome(j.batch(target.id), items)


# Planning ------------------------------------------------------------------------------------------------


def plan(
    requests: Sequence[Request],
    mode: Mode = Mode.TRASH,
    *,
    destination: Path | None = None,
    roots: Sequence[Path] = (),
    references: Sequence[Path] = (),
    hard_link: bool = False,
) -> Plan:
    """Check the requests without changing anything: refuse files in reference folders, files whose group
    would keep nothing, destinations that exist; the rest become steps. Contents are checked at run time."""
    if mode is Mode.MOVE and destination is None:
        raise ValueError("moving needs a destination folder")
    records = [(as_record(r.file), tuple(as_record(k) for k in r.kept)) for r in requests]
    removing = {_key(file.path) for file, _ in records}
    base = _common_base(roots, [file.path for file, _ in records]) if mode is Mode.MOVE else None
    steps: list[Step] = []
    refused: list[ActionResult] = []
    claimed: set[str] = set()
    for file, kept in records:
        target = _destination(file.path, destination, base) if destination is not None and base is not None else None
        reason = _plan_refusal(file, kept, target, references, removing, claimed)
        link_to = None
        if reason is None and hard_link:
            link_to, reason = _link_target(file, kept, removing)
        if reason is not None:
            refused.append(ActionResult(file.path, Status.REFUSED, reason))
            continue
        claimed.add(_key(file.path))
        if target is not None:
            claimed.add(_key(target))
        steps.append(Step(file, kept, mode, target, link_to))
    return Plan(mode, tuple(steps), tuple(refused), tuple(references), destination)


def _plan_refusal(
    file: FileRecord,
    kept: tuple[FileRecord, ...],
    target: Path | None,
    references: Sequence[Path],
    removing: set[str],
    claimed: set[str],
) -> str | None:
    if references and in_folders(file.path, references):
        return "in a reference folder: never touched"
    if not file.digest:
        return "the scan recorded no content digest, so it cannot be checked: scan again"
    if _key(file.path) in claimed:
        return "listed twice"
    problem = _keeper_problem(file, kept, removing, verify_content=False)
    if problem is not None:
        return problem
    if target is not None:
        if _key(target) in claimed:
            return f"another file is moved to {target} too"
        if os.path.lexists(target):
            return f"{target} already exists: not overwritten"
    return None


def _link_target(file: FileRecord, kept: tuple[FileRecord, ...], removing: set[str]) -> tuple[Path | None, str | None]:
    """The kept file a hard link can replace ``file`` with: identical bytes, same file system."""
    for keeper in kept:
        if keeper.digest != file.digest or _keeper_issue(file, keeper, removing, verify_content=False):
            continue
        try:
            if os.stat(keeper.path).st_dev == os.lstat(file.path).st_dev:
                return keeper.path, None
        except OSError:
            continue
    return None, "no identical kept copy on the same file system to replace it with a hard link"


def _common_base(roots: Sequence[Path], files: Sequence[Path]) -> Path:
    """The folder moved files keep their paths relative to: the scan roots' common folder, else the files'."""
    folders = [os.path.abspath(r) for r in roots] or [os.path.dirname(os.path.abspath(f)) for f in files]
    try:
        return Path(os.path.commonpath(folders)) if folders else Path(os.sep)
    except ValueError:  # different drives (Windows)
        return Path(os.sep)


def _destination(path: Path, destination: Path, base: Path) -> Path:
    absolute = Path(os.path.abspath(path))
    relative = absolute.relative_to(base) if absolute.is_relative_to(base) else Path(*absolute.parts[1:])
    return destination / relative


def _key(path: Path) -> str:
    """One spelling per file location (symlinked folders resolved), to compare paths."""
    return os.path.realpath(path)


# Checking ------------------------------------------------------------------------------------------------


def file_digest(path: Path) -> str:
    """Same as ``analysis.content_digest`` of the file's bytes, read in chunks."""
    digest = hashlib.blake2b(digest_size=20)
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def changed_since_scan(file: FileRecord, verify_content: bool = True) -> str | None:
    """Why the file is no longer the one the scan saw (vanished, replaced, modified), or None if it is."""
    try:
        before = os.lstat(file.path)
    except FileNotFoundError:
        return "vanished since the scan"
    except OSError as exc:
        return f"cannot be checked: {exc.strerror or exc}"
    problem = _stat_problem(file, before)
    if problem is not None or not verify_content or not file.digest:
        return problem
    try:
        digest = file_digest(file.path)
        after = os.lstat(file.path)
    except OSError as exc:
        return f"cannot be read to check it: {exc.strerror or exc}"
    if digest != file.digest:
        return "its content changed since the scan"
    if (after.st_ino, after.st_dev, after.st_size, after.st_mtime_ns) != (
        before.st_ino,
        before.st_dev,
        before.st_size,
        before.st_mtime_ns,
    ):
        return "it changed while being checked"
    return None


def _stat_problem(file: FileRecord, st: os.stat_result) -> str | None:
    if stat.S_ISLNK(st.st_mode):
        return "it is now a symbolic link"
    if not stat.S_ISREG(st.st_mode):
        return "it is no longer a regular file"
    if file.ino is not None and file.dev is not None and (st.st_ino, st.st_dev) != (file.ino, file.dev):
        return "it was replaced by a different file since the scan"
    if st.st_size != file.size:
        return f"it changed since the scan (size {file.size:,} -> {st.st_size:,} bytes)"
    if st.st_mtime_ns != file.mtime_ns:
        return "it changed since the scan (modification time differs)"
    return None


def _keeper_issue(file: FileRecord, keeper: FileRecord, removing: set[str], verify_content: bool) -> str | None:
    """Why ``keeper`` cannot count as the copy that stays when ``file`` goes, or None."""
    if _key(keeper.path) == _key(file.path):
        return "is the same file"
    if _key(keeper.path) in removing:
        return "is being removed too"
    return changed_since_scan(keeper, verify_content)


def _keeper_problem(
    file: FileRecord, kept: tuple[FileRecord, ...], removing: set[str], verify_content: bool
) -> str | None:
    """None if some kept file of the group still exists unchanged; else why the group would keep nothing."""
    issues = []
    for keeper in kept:
        issue = _keeper_issue(file, keeper, removing, verify_content)
        if issue is None:
            return None
        issues.append(f"{keeper.path.name} {issue}")
    detail = f" ({'; '.join(issues)})" if issues else " (no file of the group is marked to keep)"
    return "it is the last copy of its group" + detail


def _matches(path: Path, size: int, digest: str | None) -> bool:
    """Whether the file at ``path`` has this size and content (used to recognise a moved or trashed file)."""
    try:
        st = os.lstat(path)
        return stat.S_ISREG(st.st_mode) and st.st_size == size and (digest is None or file_digest(path) == digest)
    except OSError:
        return False


# Running -------------------------------------------------------------------------------------------------


def execute(plan: Plan, *, dry_run: bool = False, journal: Journal | None = None) -> Outcome:
    """Run a plan, checking each file again right before it is touched. A dry run checks and reports only."""
    items = list(plan.refused)
    flagged = list(_flag_last_of_group(plan.steps))
    context = _Context(plan.references, {_key(s.file.path) for s in plan.steps})
    if dry_run:
        items += [_dry_run(step, context.references, context.removing, last) for step, last in flagged]
        return Outcome(None, items, dry_run=True)
    if not plan.steps:
        return Outcome(None, items)
    options = {
        "references": [os.fsdecode(p) for p in plan.references],
        "destination": os.fsdecode(plan.destination) if plan.destination else None,
    }
    planned = [Planned(s.mode.value, s.file, s.kept, s.destination, s.link_to) for s in plan.steps]
    with _journal(journal) as j:
        batch_id, entry_ids = j.begin_batch(plan.mode.value, options, planned)
        for (step, last), entry_id in zip(flagged, entry_ids, strict=True):
            items.append(_run(j, entry_id, step, context, last))
        return Outcome(j.batch(batch_id), items)


@dataclass(frozen=True)
class _Context:
    """What every step of a batch is checked against."""

    references: tuple[Path, ...]
    removing: set[str]


def _flag_last_of_group(steps: Sequence[Step]) -> Iterator[tuple[Step, bool]]:
    """Each step, and whether it is the last removal of its group (when the kept copy gets a full check)."""
    remaining = Counter(_group(s) for s in steps)
    for step in steps:
        remaining[_group(step)] -= 1
        yield step, remaining[_group(step)] == 0


def _group(step: Step) -> frozenset[str]:
    return frozenset(_key(k.path) for k in step.kept)


def _check_now(step: Step, references: Sequence[Path], removing: set[str], last_of_group: bool) -> str | None:
    """Every check again, right before acting: reference folders, the file itself, a kept copy that stays
    (not one this batch removes, whether already or later; its content is read for the group's last removal)."""
    if references and in_folders(step.file.path, references):
        return "in a reference folder: never touched"
    problem = changed_since_scan(step.file)
    if problem is not None:
        return problem
    problem = _keeper_problem(step.file, step.kept, removing, verify_content=last_of_group)
    if problem is None and step.link_to is not None:
        keeper = next((k for k in step.kept if k.path == step.link_to), None)
        issue = "is not in the group" if keeper is None else changed_since_scan(keeper)
        problem = f"the kept copy to link to, {step.link_to.name}, {issue}" if issue else None
    if problem is None and step.destination is not None and os.path.lexists(step.destination):
        problem = f"{step.destination} already exists: not overwritten"
    return problem


def _dry_run(step: Step, references: Sequence[Path], removing: set[str], last_of_group: bool) -> ActionResult:
    problem = _check_now(step, references, removing, last_of_group)
    if problem is not None:
        return ActionResult(step.file.path, Status.REFUSED, problem)
    what = "would move to the trash" if step.mode is Mode.TRASH else f"would move to {step.destination}"
    if step.link_to is not None:
        what += f" and leave a hard link to {step.link_to}"
    return ActionResult(step.file.path, Status.WOULD, what, step.destination)


def _run(j: Journal, entry_id: int, step: Step, context: _Context, last_of_group: bool) -> ActionResult:
    """Check, journal as pending, act, journal the outcome. Journal errors propagate: no unrecorded action."""
    path = step.file.path
    problem = _check_now(step, context.references, context.removing, last_of_group)
    if problem is not None:
        j.mark_refused(entry_id, problem)
        return ActionResult(path, Status.REFUSED, problem)
    j.mark_pending(entry_id, step.destination)
    try:
        where = _act(step)
    except (trash.TrashFailed, TransferFailed, OSError) as exc:
        message = _failure(path, exc)
        j.mark_failed(entry_id, message)
        return ActionResult(path, Status.FAILED, message)
    message = "moved to the trash" if step.mode is Mode.TRASH else f"moved to {where}"
    if step.link_to is not None:
        message += _replace_with_link(path, step.link_to)
    j.mark_done(entry_id, message, where)
    return ActionResult(path, Status.DONE, message, where)


def _act(step: Step) -> Path | None:
    if step.mode is Mode.TRASH:
        return trash.send(step.file.path)
    assert step.destination is not None
    transfer(step.file.path, step.destination, step.file.size, step.file.digest)
    return step.destination


def _failure(path: Path, exc: BaseException) -> str:
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    if os.path.lexists(path):
        return f"{text}; the file was left in place"
    return f"{text}; the file is no longer at its path: look in the trash or the destination folder"


def _replace_with_link(path: Path, keeper: Path) -> str:
    try:
        os.link(keeper, path)
    except OSError as exc:
        return f"; no hard link was made ({exc.strerror or exc})"
    return f"; replaced by a hard link to {keeper}"


# Moving files ----------------------------------------------------------------------------------------------


def same_device(path: Path, folder: Path) -> bool:
    """Whether a rename from ``path`` into ``folder`` stays on one file system."""
    return os.lstat(path).st_dev == os.stat(folder).st_dev


def transfer(source: Path, target: Path, size: int, digest: str | None) -> None:
    """Move a file to ``target`` (which must not exist). Within one file system a rename; across file systems a
    copy that is synced and compared (size and digest) with what the scan saw before the source is removed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if os.path.lexists(target):
        raise FileExistsError(errno.EEXIST, f"{target} already exists: not overwritten", os.fspath(target))
    if same_device(source, target.parent):
        try:
            trash.rename_no_replace(source, target)
        except OSError as exc:
            if exc.errno != errno.EXDEV:  # EXDEV: one file system mounted twice (bind mount)
                raise
        else:
            trash.fsync_dir(target.parent)
            trash.fsync_dir(source.parent)
            return
    _copy_verify_remove(source, target, size, digest)


def _copy_verify_remove(source: Path, target: Path, size: int, digest: str | None) -> None:
    before = os.stat(source)
    partial = target.with_name(f".{target.name}.dedup-partial-{secrets.token_hex(4)}")
    try:
        with open(source, "rb") as src, open(partial, "xb") as dst:
            shutil.copyfileobj(src, dst, _CHUNK)
            dst.flush()
            os.fsync(dst.fileno())
        shutil.copystat(source, partial)
        if not _matches(partial, size, digest):
            raise TransferFailed(f"the copy made in {target.parent} did not match the original, which was kept")
        trash.rename_no_replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)  # only our own unfinished copy; the source is untouched
        raise
    trash.fsync_dir(target.parent)
    after = os.stat(source)
    if (after.st_size, after.st_mtime_ns, after.st_ino) != (before.st_size, before.st_mtime_ns, before.st_ino):
        raise TransferFailed(f"it changed while being copied: the original was kept and a copy is at {target}")
    os.unlink(source)  # the verified copy is durable at ``target``
    trash.fsync_dir(source.parent)


# Undo and recovery -----------------------------------------------------------------------------------------


@contextmanager
def _journal(journal: Journal | None) -> Iterator[Journal]:
    if journal is not None:
        yield journal
        return
    with Journal() as opened:
        yield opened


def _target_batch(j: Journal, batch: Batch | int | None) -> Batch | None:
    """The batch to work on (None: the newest with something to undo); refuses one another process runs."""
    if batch is None:
        found = j.last_undoable()
    else:
        batch_id = batch if isinstance(batch, int) else batch.id
        found = j.batch(batch_id)
        if found is None:
            raise UnknownBatch(f"there is no batch {batch_id}")
    if found is not None and found.incomplete and process_alive(found.pid, found.host):
        raise BatchBusy(f"batch {found.id} is still being run by process {found.pid}")
    return found


@dataclass(frozen=True)
class _Found:
    """Where a moved file is now (``entry`` set when it is in a trash with a ``.trashinfo``)."""

    path: Path
    entry: trash.TrashEntry | None = None


def _locate(e: Entry) -> tuple[_Found | None, str]:
    """Where the file of a done (or interrupted) action is now, or why it cannot be found."""
    size, digest = e.file.size, e.file.digest
    if e.kind == Mode.MOVE.value:
        if e.destination is not None and _matches(e.destination, size, digest):
            return _Found(e.destination), ""
        return None, f"it is no longer at {e.destination} (or was changed there)"
    if not trash.can_read_back() and e.destination is None:
        return None, f"this system's trash cannot be read back: restore {e.path.name} from the trash by hand"
    since = e.started_at or e.planned_at
    found = trash.find(e.path, since, lambda p: _matches(p, size, digest), hint=e.destination)
    if found is None:
        return None, "it was not found in the trash (emptied, or restored by hand?)"
    return _Found(found.file, found), ""


def _linked_here(e: Entry) -> bool:
    """Whether the original path holds the hard link this action left (another name of the kept file)."""
    if e.link_to is None:
        return False
    try:
        here, kept = os.lstat(e.path), os.stat(e.link_to)
    except OSError:
        return False
    return stat.S_ISREG(here.st_mode) and (here.st_ino, here.st_dev) == (kept.st_ino, kept.st_dev)


def _restore(j: Journal, e: Entry) -> ActionResult:
    """Put one file back where it was; never over another file."""
    found, problem = _locate(e)
    if found is None:
        j.note(e.id, DONE, f"undo failed: {problem}")
        return ActionResult(e.path, Status.FAILED, f"not restored: {problem}")
    linked = _linked_here(e)
    if os.path.lexists(e.path) and not linked:
        reason = f"a file now exists at its original path: not overwritten (the moved copy is at {found.path})"
        j.note(e.id, DONE, f"undo refused: {reason}")
        return ActionResult(e.path, Status.REFUSED, reason, found.path)
    j.mark_restoring(e.id)
    try:
        if linked:
            os.unlink(e.path)  # only a second name of the kept file, which stays
        transfer(found.path, e.path, e.file.size, e.file.digest)
    except (OSError, TransferFailed) as exc:
        if linked and e.link_to is not None and not os.path.lexists(e.path):
            _replace_with_link(e.path, e.link_to)
        message = f"not restored: {exc.strerror if isinstance(exc, OSError) and exc.strerror else exc}"
        j.note(e.id, DONE, f"undo failed: {message}")
        return ActionResult(e.path, Status.FAILED, f"{message} (the file is at {found.path})", found.path)
    if found.entry is not None:
        trash.forget(found.entry)
    message = "restored from the trash" if e.kind == Mode.TRASH.value else f"moved back from {found.path}"
    j.mark_restored(e.id, message)
    return ActionResult(e.path, Status.DONE, message, found.path)


class _Settled(Enum):
    MOVED = "moved"
    NOT_MOVED = "not moved"
    COPIED = "copied"
    """Cut short between copying across file systems and removing the source: both exist, identical."""
    UNKNOWN = "unknown"


def _settle(e: Entry) -> tuple[_Settled, _Found | None, str]:
    """What really happened to a pending action (the process died while it ran). A file still in place had not
    gone to the trash: what the trash had begun for it is removed."""
    if os.path.lexists(e.path) and not _linked_here(e):
        if changed_since_scan(e.file) is not None:
            return _Settled.UNKNOWN, None, "the file at its path changed after the interruption: check it by hand"
        if (
            e.kind == Mode.MOVE.value
            and e.destination is not None
            and _matches(e.destination, e.file.size, e.file.digest)
        ):
            return _Settled.COPIED, _Found(e.destination), ""
        if e.kind == Mode.TRASH.value and e.started_at is not None:
            trash.drop_unfinished(e.path, e.started_at)
        return _Settled.NOT_MOVED, None, ""
    found, problem = _locate(e)
    if found is None:
        return _Settled.UNKNOWN, None, f"interrupted; it is not at its path and {problem}"
    return _Settled.MOVED, found, ""


def _rollback(j: Journal, batch: Batch) -> list[ActionResult]:
    """Undo a batch: settle what was cut short, cancel what never ran, restore what moved (newest first)."""
    items: list[ActionResult] = []
    for e in j.entries(batch.id):
        if e.state == PLANNED:
            j.mark_cancelled(e.id, "not run: the batch was rolled back")
        elif e.state == PENDING:
            items += _settle_for_rollback(j, e)
        elif e.state == RESTORING:
            _settle_restoring(j, e)
    for e in reversed(j.entries(batch.id)):
        if e.state == DONE:
            items.append(_restore(j, e))
    return items


def _settle_for_rollback(j: Journal, e: Entry) -> list[ActionResult]:
    settled, found, problem = _settle(e)
    if settled is _Settled.MOVED and found is not None:
        j.mark_done(e.id, "found moved after an interruption", found.path)  # restored below with the rest
        return []
    if settled is _Settled.UNKNOWN:
        j.mark_failed(e.id, problem)
        return [ActionResult(e.path, Status.FAILED, problem)]
    note = "not moved: the batch was rolled back"
    if settled is _Settled.COPIED:
        note += f"; an identical copy was left at {e.destination}"
    j.mark_cancelled(e.id, note)
    return [ActionResult(e.path, Status.DONE, note)] if settled is _Settled.COPIED else []


def _settle_restoring(j: Journal, e: Entry) -> None:
    """An undo cut short: restored if the file is back at its path and nowhere else, else still to restore."""
    found, _ = _locate(e)
    if found is None and _matches(e.path, e.file.size, e.file.digest):
        j.mark_restored(e.id, "restored (found after an interruption)")
    else:
        j.note(e.id, DONE, "undo was interrupted")


def _finish(j: Journal, batch: Batch) -> list[ActionResult]:
    """Complete a batch cut short: an interrupted undo is completed, pending actions that happened are recorded,
    and the rest run with every check."""
    entries = j.entries(batch.id)
    context = _Context(tuple(Path(p) for p in batch.options.get("references", [])), {_key(e.path) for e in entries})
    items: list[ActionResult] = []
    to_run: list[tuple[Entry, Step]] = []
    for e in entries:
        if e.state == RESTORING:
            _settle_restoring(j, e)
            items += [_restore(j, again) for again in j.entries(batch.id) if again.id == e.id and again.state == DONE]
        elif e.state == PENDING and (item := _settle_for_finish(j, e)) is not None:
            items.append(item)
        elif e.state in (PLANNED, PENDING):
            to_run.append((e, Step(e.file, e.keepers, Mode(e.kind), e.destination, e.link_to)))
    flagged = _flag_last_of_group([step for _, step in to_run])
    for (e, _), (step, last) in zip(to_run, flagged, strict=True):
        items.append(_run(j, e.id, step, context, last))
    return items


def _settle_for_finish(j: Journal, e: Entry) -> ActionResult | None:
    """The result for a pending action already settled, or None when it still has to run."""
    settled, found, problem = _settle(e)
    if settled is _Settled.NOT_MOVED:
        return None
    if settled is _Settled.UNKNOWN:
        j.mark_failed(e.id, problem)
        return ActionResult(e.path, Status.FAILED, problem)
    assert found is not None
    if settled is _Settled.COPIED:
        try:
            os.unlink(e.path)  # verified unchanged above, and an identical copy is at the destination
        except OSError as exc:
            message = f"could not finish the move: {exc.strerror or exc}; the file was left in place"
            j.mark_failed(e.id, message)
            return ActionResult(e.path, Status.FAILED, message)
    message = (
        "found moved to the trash after an interruption" if e.kind == Mode.TRASH.value else f"moved to {found.path}"
    )
    j.mark_done(e.id, message, found.path)
    return ActionResult(e.path, Status.DONE, message, found.path)
