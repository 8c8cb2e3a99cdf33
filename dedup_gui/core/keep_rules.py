"""Which file of a duplicate group to keep: an ordered list of criteria, the first that tells the files apart
decides and later ones break ties.

The rules work on a plain ``FileRecord`` (what a result file carries), so the window, which holds
``ScannedFile`` objects, and ``dedup-gui apply``, which reads JSON, choose the same file for the same group.
Whatever the rules say, every group keeps at least one file and files in reference folders are always kept.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any

from dedup_gui.core.formats import RAW_EXTENSIONS
from dedup_gui.core.model import ScannedFile
from dedup_gui.core.units import human_bytes


@dataclass(frozen=True)
class FileRecord:
    """The facts about one file that keep rules and safe actions need; ``dev``/``ino`` only when known."""

    path: Path
    size: int
    mtime_ns: int
    digest: str | None
    width: int | None = None
    height: int | None = None
    date_taken: str | None = None
    dev: int | None = None
    ino: int | None = None
    border: float = 0.0

    @classmethod
    def from_scanned(cls, file: ScannedFile) -> FileRecord:
        info = file.info
        return cls(
            path=file.ref.path,
            size=file.ref.size,
            mtime_ns=file.ref.mtime_ns,
            digest=file.digest,
            width=info.width if info else None,
            height=info.height if info else None,
            date_taken=info.date_taken if info else None,
            dev=file.ref.dev,
            ino=file.ref.ino,
            border=info.border if info else 0.0,
        )

    @classmethod
    def from_json(cls, member: dict[str, Any]) -> FileRecord:
        """A group member of ``report.to_json``; raises ``KeyError``/``TypeError``/``ValueError`` if malformed."""
        return cls(
            path=Path(str(member["path"])),
            size=int(member["size"]),
            mtime_ns=int(member["mtime_ns"]),
            digest=str(member["digest"]) if member.get("digest") else None,
            width=_optional_int(member.get("width")),
            height=_optional_int(member.get("height")),
            date_taken=str(member["date_taken"]) if member.get("date_taken") else None,
            border=float(member.get("border") or 0.0),
        )


FileLike = FileRecord | ScannedFile


def as_record(file: FileLike) -> FileRecord:
    return file if isinstance(file, FileRecord) else FileRecord.from_scanned(file)


def _optional_int(value: object) -> int | None:
    return None if value is None else int(value)  # type: ignore[call-overload]


class Criterion(Enum):
    """One way of telling a group's files apart; the value is what settings and the CLI store."""

    REFERENCE_FOLDER = "reference-folder"
    CAMERA_RAW = "raw"
    HIGHEST_RESOLUTION = "resolution"
    NO_ADDED_BORDER = "no-border"
    LARGEST_FILE = "size"
    OLDEST_DATE = "oldest-date"
    EARLIEST_MODIFIED = "earliest-modified"
    PREFERRED_FOLDER = "preferred-folder"
    NO_COPY_MARKER = "no-copy-marker"
    SHORTEST_PATH = "shortest-path"


@dataclass(frozen=True)
class Rule:
    """A criterion, whether it is used, and (for the preferred or reference folder) the folder it names."""

    criterion: Criterion
    enabled: bool = True
    folder: Path | None = None


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule(Criterion.REFERENCE_FOLDER),
    Rule(Criterion.CAMERA_RAW),
    Rule(Criterion.HIGHEST_RESOLUTION),
    Rule(Criterion.OLDEST_DATE),
    Rule(Criterion.EARLIEST_MODIFIED),
    Rule(Criterion.NO_ADDED_BORDER),
    Rule(Criterion.LARGEST_FILE),
    Rule(Criterion.PREFERRED_FOLDER, enabled=False),
    Rule(Criterion.NO_COPY_MARKER, enabled=False),
    Rule(Criterion.SHORTEST_PATH),
)
"""Every criterion, in the default order; the unchecked ones need a choice (a folder) or are a matter of taste.

A camera RAW file comes before its JPEG: the RAW holds the sensor's data, which no JPEG of it can give back.
Resolution counts the picture without added white or black bands, and sizes within ``RESOLUTION_TOLERANCE``
of each other count as equal, so a copy padded to a square is not kept for its extra pixels; after the dates,
a later rule prefers the copy without bands. Files of the same pixel size (either way up) have the same
resolution whatever their bands: a watermark printed over a product's white background narrows what looks like
bands.
File size compares files of one format only.
Dates come before file size: at the same resolution, a mirrored, rotated or re-saved copy is made after its
original and often weighs more (a PNG of a JPEG always does), so size alone would keep the edit."""

_DESCRIPTIONS = {
    Criterion.REFERENCE_FOLDER: "Keep files in reference folders",
    Criterion.CAMERA_RAW: "Keep camera RAW files",
    Criterion.HIGHEST_RESOLUTION: "Keep the highest resolution",
    Criterion.NO_ADDED_BORDER: "Keep pictures without added borders",
    Criterion.LARGEST_FILE: "Keep the largest file",
    Criterion.OLDEST_DATE: "Keep the oldest date taken",
    Criterion.EARLIEST_MODIFIED: "Keep the earliest modified file",
    Criterion.PREFERRED_FOLDER: "Keep files in the preferred folder",
    Criterion.NO_COPY_MARKER: "Keep names without copy markers (copy, (1), -edited)",
    Criterion.SHORTEST_PATH: "Keep the shortest path",
}


def describe(rule: Rule) -> str:
    """The rule as a person reads it in a list."""
    text = _DESCRIPTIONS[rule.criterion]
    if rule.criterion is Criterion.PREFERRED_FOLDER:
        text += f": {rule.folder}" if rule.folder else " (choose a folder)"
    elif rule.criterion is Criterion.REFERENCE_FOLDER and rule.folder:
        text += f" and {rule.folder}"
    return text


@dataclass(frozen=True)
class Verdict:
    """Whether one file is kept, and why (shown under its image, printed by ``apply``)."""

    keep: bool
    reason: str
    chosen: bool = False
    """The file the rules chose (other kept files are in reference folders)."""
    why: str = ""
    """For a removed file, the reason without the kept file's name."""


@dataclass(frozen=True)
class Choice:
    """The one file a group keeps by the rules, its index in the group, and the reason."""

    index: int
    file: FileRecord
    reason: str


# Scoring -------------------------------------------------------------------------------------------------

Score = tuple[float, ...] | None
"""Higher is better; None means the criterion knows nothing about the file (ranks below every known score)."""


@dataclass(frozen=True)
class _Scorer:
    score: Callable[[FileRecord], Score]
    best: Callable[[FileRecord], str]
    worse: Callable[[FileRecord], str]
    tolerance: float = 0.0
    """Scores (one number) this close to the best, as a share of it, count as the best."""
    kind: Callable[[FileRecord], str] | None = None
    """When given, the rule only tells apart files of one kind: among mixed kinds it says nothing."""
    alike: Callable[[FileRecord], object] | None = None
    """When given, files with the same value are never told apart: each scores as the best of them."""


RESOLUTION_TOLERANCE = 0.03
"""Picture sizes within 3 % count as equal: added bands are measured to about 2 % of the area (JPEG ringing
blurs their inner edge), and a copy that lost 1 % of its pixels to a re-export is no reason to prefer the
original by size alone."""


COPY_MARKER = re.compile(
    r"(?:^|[\s_.\-(])copy(?:$|[\s_.\-)\d])"  # "copy", "_copy", " - Copy", "Copy of", "name copy 2"
    r"|\(\d+\)"  # "(1)"
    r"|[\s_\-]edited(?:$|[\s_.\-(])",  # "-edited", "_edited"
    re.IGNORECASE,
)


def copy_marker(path: Path) -> str | None:
    """The copy marker in the file name (without extension), or None."""
    match = COPY_MARKER.search(path.stem)
    return match.group(0).strip(" _.-") if match else None


MODIFIED_RESOLUTION_NS = 2 * 10**9
"""Modification times are compared in steps of 2 s: FAT and exFAT keep no finer times, and files written
together by one copy or export are no older than each other in any sense that matters."""


def modified_text(mtime_ns: int) -> str:
    """A modification time as people read it, in local time to the second (files written by one export
    differ by seconds, and the rule tells them apart)."""
    return datetime.fromtimestamp(mtime_ns / 1e9).strftime("%Y-%m-%d %H:%M:%S")


_DATE = re.compile(r"(\d{4})[:\-/.](\d{1,2})[:\-/.](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?")


def date_key(date_taken: str | None) -> tuple[int, ...] | None:
    """An EXIF-style date ("2021:07:04 12:00:00") as a sortable tuple; None when absent or a placeholder."""
    match = _DATE.match(date_taken.strip()) if date_taken else None
    if match is None:
        return None
    parts = tuple(int(p) if p else 0 for p in match.groups())
    year, month, day = parts[:3]
    if year < 1800 or not 1 <= month <= 12 or not 1 <= day <= 31:
        return None
    return parts


def in_folders(path: Path, folders: Sequence[Path]) -> bool:
    """Whether the path lies in one of the folders, comparing absolute, symlink-free paths."""
    if not folders:
        return False  # resolving links costs a system call per path component; skip it when it cannot matter
    real = Path(os.path.realpath(path))
    return any(real.is_relative_to(os.path.realpath(folder)) or path.is_relative_to(folder) for folder in folders)


def _resolution(file: FileRecord) -> str:
    text = f"{file.width}x{file.height}"
    if file.border and file.width and file.height:  # what was compared: the picture inside the bands
        text += f" ({file.width * file.height * (1 - file.border) / 1e6:.2f} MP inside added bands)"
    return text


_SAME_FORMAT = {".jpeg": ".jpg", ".jpe": ".jpg", ".tif": ".tiff"}


def _file_format(file: FileRecord) -> str:
    suffix = file.path.suffix.lower()
    return _SAME_FORMAT.get(suffix, suffix)


def _scorer(rule: Rule, references: Sequence[Path]) -> _Scorer | None:
    """How a rule scores files; None for a rule that cannot decide anything (a folder rule without a folder)."""
    criterion = rule.criterion
    if criterion is Criterion.REFERENCE_FOLDER:
        folders = tuple(references) + ((rule.folder,) if rule.folder else ())
        if not folders:
            return None
        return _Scorer(
            lambda f: (float(in_folders(f.path, folders)),),
            lambda f: "in a reference folder",
            lambda f: "not in a reference folder",
        )
    if criterion is Criterion.CAMERA_RAW:
        return _Scorer(
            lambda f: (float(f.path.suffix.lower() in RAW_EXTENSIONS),),
            lambda f: f"camera RAW file ({f.path.suffix.lstrip('.').upper()})",
            lambda f: "not a camera RAW file",
        )
    if criterion is Criterion.HIGHEST_RESOLUTION:
        return _Scorer(
            lambda f: (f.width * f.height * (1.0 - f.border),) if f.width and f.height else None,
            lambda f: f"largest resolution {_resolution(f)}",
            lambda f: f"lower resolution {_resolution(f)}" if f.width else "resolution unknown",
            tolerance=RESOLUTION_TOLERANCE,
            alike=lambda f: tuple(sorted((f.width, f.height))) if f.width and f.height else f.path,
        )
    if criterion is Criterion.NO_ADDED_BORDER:
        return _Scorer(
            lambda f: (1.0 - f.border,),  # the share that is picture; shares within 3 % count as equal
            lambda f: "no added border" if not f.border else f"least added border ({f.border:.0%})",
            lambda f: f"{f.border:.0%} of it is added border",
            tolerance=RESOLUTION_TOLERANCE,
        )
    if criterion is Criterion.LARGEST_FILE:
        return _Scorer(
            lambda f: (float(f.size),),
            lambda f: f"largest file {human_bytes(f.size)}",
            lambda f: f"smaller file {human_bytes(f.size)}",
            kind=_file_format,  # a PNG of a JPEG weighs more and shows no more
        )
    if criterion is Criterion.OLDEST_DATE:
        return _Scorer(
            lambda f: tuple(-float(p) for p in key) if (key := date_key(f.date_taken)) else None,
            lambda f: f"oldest date taken {f.date_taken}",
            lambda f: f"later date taken {f.date_taken}" if date_key(f.date_taken) else "no date taken",
        )
    if criterion is Criterion.EARLIEST_MODIFIED:
        return _Scorer(
            lambda f: (-float(f.mtime_ns // MODIFIED_RESOLUTION_NS),),
            lambda f: f"modified earliest, {modified_text(f.mtime_ns)}",
            lambda f: f"modified later, {modified_text(f.mtime_ns)}",
        )
    if criterion is Criterion.PREFERRED_FOLDER:
        if rule.folder is None:
            return None
        folder = rule.folder
        return _Scorer(
            lambda f: (float(in_folders(f.path, (folder,))),),
            lambda f: f"in the preferred folder {folder}",
            lambda f: "outside the preferred folder",
        )
    if criterion is Criterion.NO_COPY_MARKER:
        return _Scorer(
            lambda f: (0.0 if copy_marker(f.path) else 1.0,),
            lambda f: "name without a copy marker",
            lambda f: f"name marks a copy ({copy_marker(f.path)})",
        )
    return _Scorer(
        lambda f: (-float(len(str(f.path))), -float(len(f.path.parts))),
        lambda f: "shortest path",
        lambda f: "longer path",
    )


def _rank(score: Score) -> tuple[int, tuple[float, ...]]:
    return (0, ()) if score is None else (1, score)


# Deciding ------------------------------------------------------------------------------------------------


def choose(files: Sequence[FileLike], rules: Sequence[Rule] = DEFAULT_RULES, references: Sequence[Path] = ()) -> Choice:
    """The file the rules keep, and why. Enabled rules narrow the candidates in order; a tie after the last
    rule goes to the first path in sort order, so the same group always gives the same answer."""
    records = [as_record(f) for f in files]
    if not records:
        raise ValueError("a group without files has nothing to keep")
    winner, reasons, _ = _narrow(records, rules, references)
    kept = records[winner]
    return Choice(winner, kept, "; ".join(reasons) if reasons else "first by name (the rules do not tell them apart)")


def decide(
    files: Sequence[FileLike], rules: Sequence[Rule] = DEFAULT_RULES, references: Sequence[Path] = ()
) -> list[Verdict]:
    """A verdict per file (same order): the chosen file and every file in a reference folder are kept; the
    others say which rule ruled them out. At least one file is always kept."""
    records = [as_record(f) for f in files]
    if not records:
        return []
    winner, reasons, lost = _narrow(records, rules, references)
    kept_reason = "; ".join(reasons) if reasons else "first by name (the rules do not tell them apart)"
    verdicts = []
    for index, record in enumerate(records):
        if index == winner:
            verdicts.append(Verdict(True, kept_reason, chosen=True))
        elif references and in_folders(record.path, references):
            verdicts.append(Verdict(True, "in a reference folder"))
        else:
            why = lost.get(index, "same as the kept file by every rule")
            verdicts.append(Verdict(False, f"{why}; keeping {records[winner].path.name}", why=why))
    return verdicts


def _narrow(
    records: list[FileRecord], rules: Sequence[Rule], references: Sequence[Path]
) -> tuple[int, list[str], dict[int, str]]:
    """Apply the enabled rules in order; returns the winner, the reasons it won, and why each other file lost."""
    candidates = sorted(range(len(records)), key=lambda i: os.fsencode(records[i].path))
    reasons: list[str] = []
    lost: dict[int, str] = {}
    for rule in rules:
        if len(candidates) == 1:
            break
        scorer = _scorer(rule, references) if rule.enabled else None
        if scorer is None:
            continue
        ranks = {i: _rank(scorer.score(records[i])) for i in candidates}
        if scorer.alike:
            alike = {i: scorer.alike(records[i]) for i in candidates}
            best_alike = {key: max(r for i, r in ranks.items() if alike[i] == key) for key in set(alike.values())}
            ranks = {i: best_alike[alike[i]] for i in candidates}
        if scorer.kind:  # a file only loses to a better one of its own kind: the best of each kind stay
            kinds = {i: scorer.kind(records[i]) for i in candidates}
            best_of = {k: max(r for i, r in ranks.items() if kinds[i] == k) for k in set(kinds.values())}
            ranks = {i: (2, ()) if rank == best_of[kinds[i]] else rank for i, rank in ranks.items()}
        best = max(ranks.values())
        if scorer.tolerance and best[0]:  # known scores close enough to the best count as the best
            floor = best[1][0] * (1.0 - scorer.tolerance)
            ranks = {i: best if rank[0] and rank[1][0] >= floor else rank for i, rank in ranks.items()}
        if all(rank == best for rank in ranks.values()):
            continue
        for i in candidates:
            if ranks[i] != best:
                lost[i] = scorer.worse(records[i])
        candidates = [i for i in candidates if ranks[i] == best]
        reasons.append(scorer.best(records[candidates[0]]))
    return candidates[0], reasons, lost
