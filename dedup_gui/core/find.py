"""Which scanned images are copies of a given one: the answer of ``dedup-gui find`` (is this picture already
in the collection?)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dedup_gui.core.graph import explain
from dedup_gui.core.pipeline import ScanResult


@dataclass(frozen=True)
class Copy:
    """A copy of the image looked for, and why it counts as one."""

    path: Path
    reason: str


def copies_of(result: ScanResult, image: Path) -> list[Copy] | None:
    """The other members of the image's group: those that match it directly with that pair's reason, the
    rest through the member they match. None when the image is not among the scanned images."""
    index = next((i for i, f in enumerate(result.files) if f.ref.path == image), None)
    if index is None:
        return None
    group = next((g for g in result.groups if index in g.members), None)
    if group is None:
        return []
    pairs = result.graph.pairs_within(group, result.options.thresholds)
    digest = result.files[index].digest
    itself = {m for m in group.members if m == index or (digest is not None and result.files[m].digest == digest)}
    direct = {m: "same bytes" for m in itself if m != index}  # its byte copies match all it matches
    for pair in pairs:
        if (pair.a in itself) != (pair.b in itself):
            direct.setdefault(pair.b if pair.a in itself else pair.a, explain(pair))
    copies = [Copy(result.files[m].ref.path, reason) for m, reason in direct.items()]
    for member in group.members:
        if member != index and member not in direct:
            via = next((p.b if p.a == member else p.a for p in pairs if member in (p.a, p.b)), None)
            reason = "in its group" if via is None else f"matches {result.files[via].ref.path.name}"
            copies.append(Copy(result.files[member].ref.path, reason))
    return copies[: len(direct)] + sorted(copies[len(direct) :], key=lambda c: str(c.path))
