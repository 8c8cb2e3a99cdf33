"""The system trash: move a file into it, and find it there again so undo can put it back.

On Linux and other freedesktop systems a file on the same file system as the home trash
(``$XDG_DATA_HOME/Trash``) is trashed here, by the trash specification: reserve ``info/NAME.trashinfo``
exclusively, write and sync it, then rename the file to ``files/NAME`` without replacing anything. That is what
``send2trash`` does too, but send2trash 2.2 reads ``XDG_DATA_HOME`` once, at import, and picks the home trash by
the device of ``~``; doing it here lets the journal record exactly where the file went. Every other file (other
mounts, macOS, Windows) goes through ``send2trash``. A trash that fails raises ``TrashFailed``: nothing here ever
deletes a file.
"""

from __future__ import annotations

import errno
import os
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote, unquote_to_bytes

INFO_SUFFIX = ".trashinfo"
_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"
_CLOCK_SLACK_S = 2.0
"""DeletionDate has whole seconds and is written after the journal's start time: allow for rounding."""


class TrashFailed(Exception):
    """The file could not be moved to the trash; it was not deleted either."""


class _CrossDevice(Exception):
    """The home trash looked like the file's file system, but a rename between them is not possible."""


@dataclass(frozen=True)
class TrashEntry:
    """A file in a trash: where it lies, its ``.trashinfo`` (if the platform has one) and where it came from."""

    file: Path
    info: Path | None
    original: Path
    deleted: datetime | None = None


def freedesktop() -> bool:
    """Whether the trash follows the freedesktop.org specification (Linux, the BSDs), so it can be read back."""
    return os.name == "posix" and sys.platform != "darwin"


def can_read_back() -> bool:
    """Whether undo can find trashed files by itself (freedesktop fully, macOS by name, Windows not at all)."""
    return freedesktop() or sys.platform == "darwin"


def home_trash() -> Path:
    """``$XDG_DATA_HOME/Trash``, read now (not cached), so tests and the app agree on where it is."""
    data_home = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(data_home) / "Trash"


# Sending -------------------------------------------------------------------------------------------------


def send(path: Path) -> Path | None:
    """Move one file to the trash; returns where it went when known. Raises ``TrashFailed``; never deletes."""
    if freedesktop():
        trash = home_trash()
        if on_device_of(path, trash):
            try:
                return _send_freedesktop(path, trash)
            except _CrossDevice:
                pass  # same device number, different mount (a bind mount): send2trash knows that case
    started = datetime.now().timestamp()
    try:
        _system_send2trash(path)
    except Exception as exc:  # send2trash raises OSError and its own errors; either way the file stays
        raise TrashFailed(_describe(exc)) from exc
    entry = find(path, started) if freedesktop() else None
    return entry.file if entry else None


def _system_send2trash(path: Path) -> None:
    """send2trash, imported on first use so that it reads the environment of the time of use."""
    import send2trash

    send2trash.send2trash(os.fspath(path))


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return f"the trash refused it: {exc.strerror}"
    return f"the trash refused it: {exc}" if str(exc) else f"the trash refused it ({type(exc).__name__})"


def on_device_of(path: Path, folder: Path) -> bool:
    """Whether ``path`` is on the file system of ``folder`` (or of its nearest existing parent)."""
    existing = folder
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    try:
        return os.lstat(path).st_dev == os.stat(existing).st_dev
    except OSError:
        return False


def _send_freedesktop(path: Path, trash: Path) -> Path:
    files, info = trash / "files", trash / "info"
    try:
        for folder in (trash, files, info):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info_path, target = _reserve(path.name, files, info)
    except OSError as exc:
        raise TrashFailed(f"the trash folder {trash} cannot be used: {exc.strerror or exc}") from exc
    try:
        _write_info(info_path, path)
        rename_no_replace(path, target)
    except OSError as exc:
        info_path.unlink(missing_ok=True)  # our own reservation; the file was not moved
        if exc.errno == errno.EXDEV:
            raise _CrossDevice from exc
        raise TrashFailed(f"could not be moved to the trash: {exc.strerror or exc}") from exc
    fsync_dir(files)
    fsync_dir(path.parent)
    return target


def _reserve(name: str, files: Path, info: Path) -> tuple[Path, Path]:
    """Create ``info/NAME.trashinfo`` exclusively for a name free in ``files``; returns (info file, target)."""
    stem, suffix = os.path.splitext(name)
    for counter in range(1, 100_000):
        candidate = name if counter == 1 else f"{stem}.{counter}{suffix}"
        target = files / candidate
        if os.path.lexists(target):
            continue
        info_path = info / (candidate + INFO_SUFFIX)
        try:
            os.close(os.open(info_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            continue
        return info_path, target
    raise OSError(errno.EEXIST, "no free name in the trash")


def _write_info(info_path: Path, original: Path) -> None:
    text = (
        "[Trash Info]\n"
        f"Path={quote(os.fsencode(os.path.abspath(original)), safe='/')}\n"
        f"DeletionDate={datetime.now().strftime(_DATE_FORMAT)}\n"
    )
    with open(info_path, "w", encoding="ascii") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


# Moving without replacing ----------------------------------------------------------------------------------


def rename_no_replace(source: Path, target: Path) -> None:
    """Rename within one file system, refusing (``FileExistsError``) if ``target`` exists: ``os.rename``
    silently replaces on POSIX, which could destroy the file there. A hard link then unlink is atomic about
    that; file systems without hard links fall back to check-then-rename."""
    try:
        os.link(source, target)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS, errno.EMLINK, errno.EINVAL):
            raise
        if os.path.lexists(target):
            raise FileExistsError(errno.EEXIST, "already exists", os.fspath(target)) from exc
        os.rename(source, target)
        return
    try:
        os.unlink(source)  # ``target`` is now a second name of the same file, so this removes only a name
    except OSError:
        os.unlink(target)  # undo our second name; the file stays at ``source``
        raise


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable; best effort (not possible on Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# Finding -------------------------------------------------------------------------------------------------


def find(
    original: Path,
    since: float,
    matches: Callable[[Path], bool] | None = None,
    hint: Path | None = None,
) -> TrashEntry | None:
    """The trashed copy of ``original``: at ``hint`` (the location the journal recorded) if it is there and
    ``matches``; else the entry whose Path is ``original``, deleted at or after ``since`` (a Unix time), that
    ``matches``, the earliest such. None when not found or the platform's trash cannot be read."""
    if hint is not None and os.path.lexists(hint) and (matches is None or matches(hint)):
        return TrashEntry(hint, _info_of(hint), original)
    if freedesktop():
        return _find_freedesktop(original, since, matches)
    if sys.platform == "darwin":
        return _find_macos(original, matches)
    return None


def forget(entry: TrashEntry) -> None:
    """Drop the ``.trashinfo`` of an entry whose file was restored (metadata only)."""
    if entry.info is not None:
        entry.info.unlink(missing_ok=True)


def drop_unfinished(original: Path, since: float) -> None:
    """Remove what a ``send`` of ``original`` cut short at or after ``since`` (a Unix time) left in a trash: a
    ``.trashinfo`` (still empty, or naming ``original``) whose file never arrived, which a trash would list as
    an entry without a file. ``original`` must still be at its path."""
    if not freedesktop():
        return
    wanted = os.fsencode(os.path.abspath(original))
    earliest = since - _CLOCK_SLACK_S
    for trash, topdir in trash_dirs(original):
        for info in _infos(trash, original.stem):
            file = trash / "files" / info.name[: -len(INFO_SUFFIX)]
            if os.path.lexists(file):
                continue
            try:
                facts = info.stat()
            except OSError:
                continue
            if facts.st_mtime < earliest:
                continue
            parsed = _parse_info(info)
            reserved_only = parsed is None and facts.st_size == 0 and _reserved_for(info.name, original.name)
            if reserved_only or (parsed is not None and _absolute(parsed[0], topdir) == wanted):
                info.unlink(missing_ok=True)


def _reserved_for(info_name: str, name: str) -> bool:
    """Whether ``_reserve`` may have made this ``.trashinfo`` for a file called ``name`` ("a.jpg.trashinfo",
    "a.2.jpg.trashinfo"), not for another file whose name merely starts alike."""
    stem, suffix = os.path.splitext(name)
    numbered = re.fullmatch(re.escape(stem) + r"\.\d+" + re.escape(suffix) + re.escape(INFO_SUFFIX), info_name)
    return info_name == name + INFO_SUFFIX or numbered is not None


def _info_of(file: Path) -> Path | None:
    info = file.parent.parent / "info" / (file.name + INFO_SUFFIX)
    return info if file.parent.name == "files" and info.exists() else None


def _find_freedesktop(original: Path, since: float, matches: Callable[[Path], bool] | None) -> TrashEntry | None:
    wanted = os.fsencode(os.path.abspath(original))
    earliest = datetime.fromtimestamp(since - _CLOCK_SLACK_S).replace(microsecond=0)
    found: list[TrashEntry] = []
    for trash, topdir in trash_dirs(original):
        for entry in _entries(trash, topdir, original.stem):
            if os.fsencode(entry.original) != wanted or entry.deleted is None or entry.deleted < earliest:
                continue
            if os.path.lexists(entry.file) and (matches is None or matches(entry.file)):
                found.append(entry)
    found.sort(key=lambda e: e.deleted or datetime.min)
    return found[0] if found else None


def trash_dirs(original: Path) -> list[tuple[Path, Path]]:
    """Every trash a file may have gone to, with the folder its relative ``Path=`` values start from: the home
    trash, send2trash's idea of it, and the trashes at the top of the file's mount."""
    candidates = [(home_trash(), home_trash().parent)]
    plat_other = sys.modules.get("send2trash.plat_other")
    if plat_other is not None:
        candidates.append((Path(plat_other.HOMETRASH), Path(os.fsdecode(plat_other.XDG_DATA_HOME))))
    top = _mount_point(original.parent)
    candidates.append((top / ".Trash" / str(os.getuid()), top))
    candidates.append((top / f".Trash-{os.getuid()}", top))
    unique: dict[str, tuple[Path, Path]] = {}
    for trash, topdir in candidates:
        unique.setdefault(os.path.realpath(trash), (trash, topdir))
    return [pair for pair in unique.values() if (pair[0] / "info").is_dir()]


def _mount_point(folder: Path) -> Path:
    path = Path(os.path.realpath(folder))
    while not path.exists() and path.parent != path:
        path = path.parent
    while not os.path.ismount(path) and path.parent != path:
        path = path.parent
    return path


def _entries(trash: Path, topdir: Path, stem: str) -> Iterator[TrashEntry]:
    """The entries of one trash whose name starts like the file's (trash names keep the original stem)."""
    for info in _infos(trash, stem):
        parsed = _parse_info(info)
        if parsed is None:
            continue
        path, deleted = parsed
        original = Path(os.fsdecode(_absolute(path, topdir)))
        yield TrashEntry(trash / "files" / info.name[: -len(INFO_SUFFIX)], info, original, deleted)


def _infos(trash: Path, stem: str) -> list[Path]:
    """The ``.trashinfo`` files of one trash whose name starts with ``stem``."""
    prefix = os.fsencode(stem)
    try:
        names = os.listdir(os.fsencode(trash / "info"))
    except OSError:
        return []
    return [trash / "info" / os.fsdecode(n) for n in names if n.startswith(prefix) and n.endswith(INFO_SUFFIX.encode())]


def _absolute(path: bytes, topdir: Path) -> bytes:
    """A ``Path=`` value made absolute: relative ones start from the trash's top folder."""
    return path if path.startswith(b"/") else os.path.join(os.fsencode(topdir), path)


def _parse_info(info: Path) -> tuple[bytes, datetime | None] | None:
    try:
        lines = info.read_bytes().decode("utf-8", "replace").splitlines()
    except OSError:
        return None
    values = dict(line.split("=", 1) for line in lines if "=" in line)
    if "Path" not in values:
        return None
    try:
        deleted: datetime | None = datetime.strptime(values.get("DeletionDate", "").strip(), _DATE_FORMAT)
    except ValueError:
        deleted = None
    return unquote_to_bytes(values["Path"].strip()), deleted


def _find_macos(original: Path, matches: Callable[[Path], bool] | None) -> TrashEntry | None:
    """Best effort: ``~/.Trash`` has no record of origins, so look for a same-named file with the same content."""
    trash = Path.home() / ".Trash"
    try:
        names = sorted(n for n in os.listdir(trash) if n.startswith(original.stem))
    except OSError:
        return None
    for name in names:
        candidate = trash / name
        if candidate.is_file() and matches is not None and matches(candidate):
            return TrashEntry(candidate, None, original)
    return None
