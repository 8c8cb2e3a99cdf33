"""How a threshold agrees with the person's own decisions: the copies they confirmed and the pairs they said
are not duplicates, scored against the groups the threshold makes (before those decisions split any group).

This is the collection's own precision and recall, measured on the pairs that were looked at, so the slider
can be set by what the person saw rather than by a dev set.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dedup_gui.core.model import Group, ScannedFile


@dataclass(frozen=True)
class LabelCheck:
    """Counts over the decided pairs whose two contents are both in the scan."""

    confirmed: int
    """Pairs confirmed as copies (by accepting their group)."""
    confirmed_grouped: int
    """Of those, the pairs the threshold puts in one group."""
    rejected: int
    """Pairs marked "not duplicates"."""
    rejected_grouped: int
    """Of those, the pairs the threshold would put in one group."""

    @property
    def empty(self) -> bool:
        return not (self.confirmed or self.rejected)

    def plus(self, confirmed: tuple[int, int] = (0, 0), rejected: tuple[int, int] = (0, 0)) -> LabelCheck:
        """These counts with (pairs, grouped) added for newly decided pairs (negative for withdrawn ones)."""
        return LabelCheck(
            self.confirmed + confirmed[0],
            self.confirmed_grouped + confirmed[1],
            self.rejected + rejected[0],
            self.rejected_grouped + rejected[1],
        )


NO_LABELS = LabelCheck(0, 0, 0, 0)


def group_by_digest(files: Sequence[ScannedFile], groups: Iterable[Group]) -> dict[str, int]:
    """Each grouped content's group number (identical copies always share a group)."""
    return {digest: number for number, g in enumerate(groups) for m in g.members if (digest := files[m].digest)}


def check(
    group_of: dict[str, int],
    confirmed: Iterable[tuple[str, str]],
    rejected: Iterable[tuple[str, str]],
    present: set[str],
) -> LabelCheck:
    """Score a grouping (``group_by_digest``) against the decided digest pairs; ``present`` is every digest in
    the scan, so pairs from other folders or files since removed are not counted."""
    return LabelCheck(*tally(group_of, confirmed, present), *tally(group_of, rejected, present))


def tally(group_of: dict[str, int], pairs: Iterable[tuple[str, str]], present: set[str]) -> tuple[int, int]:
    """How many of the pairs are in the scan, and how many of those the grouping puts together."""
    counted = grouped = 0
    for a, b in pairs:
        if a in present and b in present:
            counted += 1
            grouped += a in group_of and group_of[a] == group_of.get(b)
    return counted, grouped


def describe(labels: LabelCheck) -> str:
    """One line for the review: how many of the person's decisions the threshold gets right."""
    parts = []
    if labels.confirmed:
        copies = "copy you confirmed is" if labels.confirmed == 1 else "copies you confirmed are"
        parts.append(f"{labels.confirmed_grouped} of {labels.confirmed} {copies} grouped")
    if labels.rejected:
        pairs = "pair" if labels.rejected == 1 else "pairs"
        parts.append(
            f"{labels.rejected_grouped} of {labels.rejected} {pairs} you marked not duplicates would match"
            " (your marks keep them apart)"
        )
    return "At this threshold: " + "; ".join(parts) if parts else ""
