"""Which scanned images are copies of a given one: the answer of ``dedup-gui find`` (is this picture already
in the collection?)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dedup_gui.core.graph import explain
from dedup_gui.core.model import Group, SameFile
from dedup_gui.core.pipeline import ScanResult


@dataclass(frozen=True)
class Copy:
    """A copy of the image looked for, and why it counts as one."""

    path: Path
    reason: str


def copies_of(result: ScanResult, index: int, counts: Callable[[Path], bool]) -> list[Copy]:
    """The files that match scanned file ``index`` directly at the scan's thresholds (its byte copies and the
    files of every matching pair, whatever group each joined), with each pair's reason; only those for which
    ``counts(path)`` holds (the folders looked in, not the other images looked for)."""
    graph, thresholds = result.graph, result.options.thresholds
    representative = graph.representative
    itself = np.flatnonzero(representative == representative[index])
    matching = graph.matching(thresholds) & (np.isin(graph.a, itself) | np.isin(graph.b, itself))
    neighbours = np.setdiff1d(np.concatenate([graph.a[matching], graph.b[matching]]), itself)
    members = np.flatnonzero(np.isin(representative, np.concatenate([itself, neighbours])))
    reasons = {int(m): "same bytes" for m in itself if m != index}
    for pair in graph.pairs_within(Group(tuple(int(m) for m in members)), thresholds):
        if not pair.same_bytes and (pair.a in itself) != (pair.b in itself):
            other = pair.b if pair.a in itself else pair.a
            for member in np.flatnonzero(representative == other):  # the match and its byte copies
                reasons.setdefault(int(member), explain(pair))
    copies = [Copy(result.files[m].ref.path, reason) for m, reason in reasons.items()]
    return sorted((c for c in copies if counts(c.path)), key=lambda c: str(c.path))


def same_files(result: ScanResult, image: Path) -> list[Copy]:
    """Paths under the folders that are the image itself (a hard link, or the file a link named)."""
    return [Copy(s.path, "same file") for s in result.skipped if isinstance(s, SameFile) and s.first == image]
