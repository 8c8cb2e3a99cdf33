"""How numbers and file facts read in the window; shared so the list, compare view and dialogs agree."""

from __future__ import annotations

import time

from dedup_gui.core.model import ScannedFile
from dedup_gui.core.units import human_bytes


def duration(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"


def local_time(mtime_ns: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(mtime_ns / 1e9))


FIELDS = ("Name", "Folder", "Dimensions", "File size", "Format", "Date taken", "Modified", "Camera")
"""Facts shown for every image of a group, in this order."""

COMPARED_FIELDS = frozenset(FIELDS) - {"Name"}
"""Fields highlighted where they differ inside a group; names nearly always differ, so that would be noise."""


def file_facts(file: ScannedFile) -> dict[str, str]:
    """The displayed value of each of ``FIELDS``; "—" where the scan did not learn it."""
    info = file.info
    facts = {
        "Name": file.ref.path.name,
        "Folder": str(file.ref.path.parent),
        "Dimensions": "—",
        "File size": human_bytes(file.ref.size),
        "Format": info.format if info else file.ref.path.suffix.lstrip(".").upper() or "—",
        "Date taken": (info.date_taken if info else None) or "—",
        "Modified": local_time(file.ref.mtime_ns),
        "Camera": (info.camera if info else None) or "—",
    }
    if info is not None:
        megapixels = info.width * info.height / 1e6
        size = f"{megapixels:.{1 if megapixels >= 1 else 2}f}" if megapixels >= 0.005 else "< 0.01"
        facts["Dimensions"] = f"{info.width} × {info.height} ({size} MP)"
    return facts


def differing_fields(facts: list[dict[str, str]]) -> set[str]:
    """Compared fields whose value is not the same for every image."""
    return {name for name in COMPARED_FIELDS if len({f[name] for f in facts}) > 1}
