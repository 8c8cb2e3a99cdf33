"""The file ``scan -o`` writes: checked before the scan starts, never written over anything but an earlier result
(a mistyped name must not cost a photo), and replaced whole, so a failed write leaves the old file as it was."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from dedup_gui.core.report import CSV_HEADER

_JSON_RESULT_START = re.compile(rb'\A\{\s*"version": \d+,\s*"roots": \[')
_HEAD_BYTES = 256


class OutputError(Exception):
    """The result cannot be written there; the message says why, in one line."""


def check_output(path: Path) -> None:
    """Raise ``OutputError`` unless ``path`` is a new file in a writable folder, an earlier result, or a device
    such as /dev/null (a link counts as what it points to)."""
    target = Path(os.path.realpath(path))
    if target.is_dir():
        raise OutputError(f"{path} is a folder: name a file to write the result to")
    folder = target.parent
    if not folder.is_dir():
        raise OutputError(f"cannot write {path}: the folder {folder} does not exist")
    if target.exists():
        if target.is_file() and not _is_result(target):
            raise OutputError(
                f"{path} exists and is not a dedup-gui result (JSON or CSV); refusing to write over it:"
                " choose another name or remove it first"
            )
        if not os.access(target, os.W_OK):
            raise OutputError(f"cannot write {path}: permission denied")
    elif not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write in {folder}: permission denied")


def write_output(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it over ``path`` (a device such as
    /dev/null is written directly); raises ``OSError``."""
    target = Path(os.path.realpath(path))
    if target.exists() and not target.is_file():
        with target.open("w", encoding="utf-8", errors="surrogateescape") as out:
            out.write(text)
        return
    mode = target.stat().st_mode & 0o777 if target.is_file() else 0o666 & ~_umask()
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", errors="surrogateescape") as out:
            out.write(text)
        os.chmod(temporary, mode)  # mkstemp makes it private; the result gets the permissions a plain write would
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


def _is_result(path: Path) -> bool:
    """Whether the file starts the way this app's JSON or CSV result does (imagededup's format, a bare
    ``{file: [duplicates]}`` map, cannot be told from a ground-truth file, so it is never written over)."""
    try:
        with path.open("rb") as file:
            head = file.read(_HEAD_BYTES)
    except OSError:
        return False
    return bool(_JSON_RESULT_START.match(head)) or head.startswith(CSV_HEADER.encode() + b"\n")
