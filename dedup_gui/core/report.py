"""Scan results as JSON, CSV or imagededup's ``{file: [duplicates]}`` map, for people and other tools."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dedup_gui.core import keep_rules
from dedup_gui.core.graph import explain
from dedup_gui.core.model import Group, ScannedFile
from dedup_gui.core.pipeline import ScanResult

REPORT_VERSION = 1


def _file_record(file: ScannedFile) -> dict[str, Any]:
    record: dict[str, Any] = {
        "path": str(file.ref.path),
        "size": file.ref.size,
        "mtime_ns": file.ref.mtime_ns,
        "digest": file.digest,
    }
    if file.info is not None:
        record.update(
            width=file.info.width,
            height=file.info.height,
            format=file.info.format,
            date_taken=file.info.date_taken,
            camera=file.info.camera,
            border=file.info.border,
        )
    return record


def reclaimable_bytes(result: ScanResult, group: Group) -> int:
    """Bytes freed by keeping only the file the default keep rules choose, as ``apply`` and the window do
    unless told otherwise."""
    files = [result.files[m] for m in group.members]
    return sum(f.ref.size for f in files) - keep_rules.choose(files).file.size


def reclaimable_per_group(result: ScanResult) -> list[int]:
    """``reclaimable_bytes`` of every group, in order: made once per output, as the keep rules are not free."""
    return [reclaimable_bytes(result, group) for group in result.groups]


def counted(count: int, noun: str) -> str:
    """ "1 group", "2 groups", "1,024 images": a count with its noun in the right number."""
    return f"{count:,} {noun if count == 1 else noun + 's'}"


def to_json(result: ScanResult, reclaimable: Sequence[int] | None = None) -> str:
    """Groups with members, file facts and the reason each pair matched; skipped files with reasons.
    ``reclaimable``: ``reclaimable_per_group``, where the caller has it already."""
    thresholds = result.options.thresholds
    reclaimable = reclaimable_per_group(result) if reclaimable is None else reclaimable
    groups = []
    for number, (group, freed) in enumerate(zip(result.groups, reclaimable, strict=True), start=1):
        pairs = result.graph.pairs_within(group, thresholds)
        groups.append(
            {
                "id": number,
                "reclaimable_bytes": freed,
                "members": [_file_record(result.files[m]) for m in group.members],
                "pairs": [
                    {
                        "a": str(result.files[p.a].ref.path),
                        "b": str(result.files[p.b].ref.path),
                        "same_bytes": p.same_bytes,
                        "hash_distance": p.hash_distance,
                        "dhash_distance": p.dhash_distance,
                        "transform": p.transform,
                        "cosine": p.cosine,
                        "lookalike": p.lookalike,
                        "crowding": round(p.crowding, 3),
                        "reason": explain(p),
                    }
                    for p in pairs
                ],
            }
        )
    document = {
        "version": REPORT_VERSION,
        "roots": [str(root) for root in result.options.roots],
        "method": result.options.method.value,
        "policy": result.options.policy.value,
        "thresholds": {"hash_distance": thresholds.hash_distance, "cosine": thresholds.cosine},
        "cancelled": result.cancelled,
        "summary": summary(result, reclaimable),
        "groups": groups,
        "skipped": [{"path": str(s.path), "reason": s.reason} for s in result.skipped],
    }
    return json.dumps(document, indent=2)


CSV_HEADER = "group,path,size,width,height,format,digest,date_taken"


def to_csv(result: ScanResult) -> str:
    """One row per grouped file, for spreadsheets."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER.split(","))
    for number, group in enumerate(result.groups, start=1):
        for m in group.members:
            file = result.files[m]
            info = file.info
            writer.writerow(
                [
                    number,
                    str(file.ref.path),
                    file.ref.size,
                    info.width if info else "",
                    info.height if info else "",
                    info.format if info else "",
                    file.digest or "",
                    (info.date_taken or "") if info else "",
                ]
            )
    return out.getvalue()


def duplicate_map(result: ScanResult) -> dict[str, list[str]]:
    """imagededup's map: every scanned file -> every other file of its group, relative to the roots' parent."""
    base = Path(os.path.commonpath([str(root.absolute()) for root in result.options.roots]))

    def name(index: int) -> str:
        return result.files[index].ref.path.relative_to(base).as_posix()

    mapping: dict[str, list[str]] = {name(i): [] for i in range(len(result.files))}
    for group in result.groups:
        for m in group.members:
            mapping[name(m)] = [name(o) for o in group.members if o != m]
    return mapping


def to_imagededup(result: ScanResult) -> str:
    return json.dumps(duplicate_map(result), indent=2, sort_keys=True)


def summary(result: ScanResult, reclaimable: Sequence[int] | None = None) -> dict[str, Any]:
    """The scan's counts; ``reclaimable``: ``reclaimable_per_group``, where the caller has it already."""
    reclaimable = reclaimable_per_group(result) if reclaimable is None else reclaimable
    return {
        "files": len(result.files),
        "groups": len(result.groups),
        "duplicates": sum(len(g.members) - 1 for g in result.groups),
        "reclaimable_bytes": sum(reclaimable),
        "skipped": len(result.skipped),
        "decoded": result.stats.analysed,
        "from_cache": result.stats.from_cache,
        "embedded": result.stats.embedded,
        "provider": result.stats.provider,
        "elapsed_s": round(result.stats.elapsed_s, 3),
    }
