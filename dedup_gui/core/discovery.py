"""Walk the chosen folders and yield the image files to look at, or the reason a path was left out."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

from dedup_gui.core.formats import IMAGE_EXTENSIONS, SNIFF_BYTES, sniff
from dedup_gui.core.model import FileRef, SameFile, Skipped


@dataclass(frozen=True)
class DiscoveryOptions:
    """What to walk and what to leave out."""

    roots: tuple[Path, ...]
    exclude: tuple[str, ...] = ()
    include_hidden: bool = False
    follow_symlinks: bool = False
    min_size: int = 0
    files: tuple[Path, ...] = ()
    """Single files to take first, as named (no exclude patterns); one of them met again under a root is
    reported as the same file, as for two roots."""


def check_roots(roots: tuple[Path, ...]) -> None:
    """Raise ``NotADirectoryError``/``PermissionError`` with a clear message for an unusable root."""
    for root in roots:
        if not root.is_dir():
            raise NotADirectoryError(f"not a folder: {root}")
        if not os.access(root, os.R_OK | os.X_OK):
            raise PermissionError(f"folder cannot be read: {root}")


def discover(options: DiscoveryOptions) -> Iterator[FileRef | Skipped]:
    """Yield every candidate image under the roots once, in a stable order.

    Two paths to one inode (hard links, overlapping roots) yield the file once and report the other
    path, since removing a hard link frees nothing. Symlinked folders are only entered when asked,
    and each real folder is entered once so link loops end.
    """
    seen_files: dict[tuple[int, int], Path] = {}
    seen_dirs: set[tuple[int, int]] = set()
    for path in options.files:
        try:
            st = path.stat()
        except OSError as exc:
            yield Skipped(path, _stat_failure(exc, path.is_symlink()))
            continue
        if stat.S_ISREG(st.st_mode):
            yield from _consider_file(path, st, False, options, seen_files)
        else:
            yield Skipped(path, "not a regular file" if not stat.S_ISDIR(st.st_mode) else "a folder, not a file")
    for root in options.roots:
        root = root.absolute()
        try:
            st = root.stat()
        except OSError as exc:
            yield Skipped(root, f"folder cannot be read: {exc.strerror or exc}")
            continue
        if (st.st_dev, st.st_ino) in seen_dirs:  # a root given twice, or inside a root walked already
            continue
        seen_dirs.add((st.st_dev, st.st_ino))
        yield from _walk(root, options, seen_files, seen_dirs)


def _walk(
    folder: Path,
    options: DiscoveryOptions,
    seen_files: dict[tuple[int, int], Path],
    seen_dirs: set[tuple[int, int]],
) -> Iterator[FileRef | Skipped]:
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        yield Skipped(folder, f"folder cannot be read: {exc.strerror or exc}")
        return
    for entry in entries:
        path = Path(entry.path)
        if not options.include_hidden and entry.name.startswith("."):
            continue
        if any(fnmatch(entry.name, pat) or fnmatch(path.as_posix(), pat) for pat in options.exclude):
            continue
        is_link = entry.is_symlink()
        try:
            st = entry.stat(follow_symlinks=True)
        except OSError as exc:
            if path.suffix.lower() in IMAGE_EXTENSIONS or path.suffix == "":
                yield Skipped(path, _stat_failure(exc, is_link))
            continue
        if stat.S_ISDIR(st.st_mode):
            if is_link and not options.follow_symlinks:
                continue
            key = (st.st_dev, st.st_ino)
            if key in seen_dirs:
                if is_link:
                    yield Skipped(path, "symbolic link loop or folder already scanned")
                continue
            seen_dirs.add(key)
            yield from _walk(path, options, seen_files, seen_dirs)
        elif stat.S_ISREG(st.st_mode):
            yield from _consider_file(path, st, is_link, options, seen_files)
        elif path.suffix.lower() in IMAGE_EXTENSIONS:  # named like an image, but reading it could block or mislead
            yield Skipped(path, f"not a regular file ({_kind_of(st.st_mode)})")


def _consider_file(
    path: Path,
    st: os.stat_result,
    is_link: bool,
    options: DiscoveryOptions,
    seen_files: dict[tuple[int, int], Path],
) -> Iterator[FileRef | Skipped]:
    suffix = path.suffix.lower()
    if suffix not in IMAGE_EXTENSIONS and not (suffix == "" and _looks_like_image(path)):
        return
    if is_link and not options.follow_symlinks:
        yield Skipped(path, "symbolic link (not followed; enable following links to include it)")
        return
    key = (st.st_dev, st.st_ino)
    first = seen_files.get(key)
    if first is not None:
        if first != path:  # the very same path again (an image given beside its folder) is no news
            yield SameFile(path, f"same file as {first} (hard link); removing it would free no space", first)
        return
    seen_files[key] = path
    if st.st_size == 0:
        yield Skipped(path, "empty file (0 bytes)")
    elif st.st_size < options.min_size:
        yield Skipped(path, f"smaller than the minimum size ({st.st_size} < {options.min_size} bytes)")
    else:
        yield FileRef(path, st.st_size, st.st_mtime_ns, st.st_dev, st.st_ino)


def _kind_of(mode: int) -> str:
    kinds = ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"))
    return next((name for test, name in kinds if test(mode)), "a device")


def _stat_failure(exc: OSError, is_link: bool) -> str:
    if is_link and exc.errno == errno.ELOOP:
        return "symbolic link loop"
    if is_link:
        return "broken symbolic link (its target does not exist)"
    return f"cannot be read: {exc.strerror or exc}"


def _looks_like_image(path: Path) -> bool:
    """Files without an extension are included when their first bytes name an image type."""
    try:
        with open(path, "rb") as fh:
            return sniff(fh.read(SNIFF_BYTES)) is not None
    except OSError:
        return False
