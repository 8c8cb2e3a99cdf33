"""The review of one scan, without Qt: the current groups and what is kept or removed in each.

Marks come from the keep rules (a ``Decider``), then the person's own choices remembered in
``ReviewState``, then two guarantees no choice can break: files in reference folders are kept, and every
group keeps at least one file.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from dedup_gui.core import calibration
from dedup_gui.core.calibration import NO_LABELS, LabelCheck
from dedup_gui.core.graph import Thresholds
from dedup_gui.core.model import Group, ScannedFile
from dedup_gui.core.pipeline import ScanResult
from dedup_gui.core.review_state import ReviewState, pairs_among


@dataclass(frozen=True)
class Layout:
    """Groups at some thresholds with every member's mark: computed off the GUI thread, then adopted."""

    thresholds: Thresholds
    groups: list[Group]
    marks: dict[int, Mark]
    group_of: dict[int, int]
    gone: frozenset[int]
    by_digest: dict[str, int] | None = None
    """The threshold's groups (before "not duplicates" split them) by content; None without decisions."""
    labels: LabelCheck | None = None
    """How the threshold agrees with the person's decisions; None without decisions."""
    decisions: int = 0
    """``ReviewState.decisions`` when ``labels`` was counted."""


@dataclass(frozen=True)
class Mark:
    """Whether one file of a group is kept, and why (shown under its image)."""

    keep: bool
    reason: str
    by_hand: bool = False
    chosen: bool = False
    """The keep rules' choice for the group (files in reference folders are kept beside it)."""
    why: str = ""
    """For a file the rules remove, the reason without the kept file's name, which the review fills in."""


def kept_member(members: Sequence[int], mark: Callable[[int], Mark]) -> int:
    """The file a group is said to keep (the list names it, removed files point to it): the rules' choice
    while it is kept, else the first file kept by hand, else the first kept."""
    kept = [m for m in members if mark(m).keep] or list(members)
    return next((m for m in kept if mark(m).chosen), next((m for m in kept if mark(m).by_hand), kept[0]))


Decider = Callable[[Sequence[ScannedFile]], list[Mark]]
"""Marks for one group's files, from the keep rules; at least one is kept."""

REFERENCE_REASON = "in a reference folder"
HAND_REASON = "your choice"


class ReviewSession:
    """Groups at the current thresholds, with a mark for every grouped file."""

    def __init__(
        self,
        result: ScanResult,
        state: ReviewState,
        decide: Decider,
        references: Sequence[Path] = (),
        thresholds: Thresholds | None = None,
    ) -> None:
        self.result = result
        self.state = state
        self.references = tuple(references)
        self._decide = decide
        self._ruled: dict[tuple[int, ...], list[Mark]] = {}
        """The rules' marks by group members: a regroup re-marks only the groups that changed."""
        self._choices = state.choices()
        self._reviewed = state.reviewed()
        self.thresholds = thresholds or result.options.thresholds
        # One file per folder by string, then that file's Path.parent: a million Path.parent calls take seconds.
        files = result.files
        one_each = {str(files[i].ref.path).rpartition(os.sep)[0]: i for i in result.graph.candidates()}
        self.folders: tuple[Path, ...] = tuple(sorted({files[i].ref.path.parent for i in one_each.values()}))
        """The folders holding a file that some threshold could group: the list's folder filter offers them."""
        self.gone: frozenset[int] = frozenset()
        """Files moved to the trash in this session; left out of every group."""
        self.groups: list[Group] = []
        self._marks: dict[int, Mark] = {}
        self._group_of: dict[int, int] = {}
        self._present: tuple[frozenset[int], set[str]] | None = None
        """The digests of the files still there (not gone), for the ``gone`` they were counted for; made when a
        decision needs them."""
        raw = result.groups if thresholds is None else result.regroup(thresholds)
        self._labels_at = state.decisions  # the decisions that ``labels`` counts
        self._by_digest = self._grouped_digests(raw)
        self.labels = self._check_labels(self._by_digest, self.gone)
        self.set_groups(state.apply(result, raw, self.thresholds), self.thresholds)

    # Groups -----------------------------------------------------------------------------------------------

    def prepare(
        self, thresholds: Thresholds, groups: list[Group] | None = None, gone: frozenset[int] | None = None
    ) -> Layout:
        """Groups at ``thresholds`` (regrouped from the stored graph unless given) with their marks, leaving
        out the files in ``gone`` (default: those already gone).

        Reads the session and changes nothing but a cache of the contents still there, so it may run off the
        GUI thread; ``adopt`` the result.
        """
        gone = self.gone if gone is None else gone
        by_digest, labels, decisions = self._by_digest, self.labels, self._labels_at
        if groups is None or gone != self.gone:  # a new grouping, or files left or came back: count again
            decisions = self.state.decisions  # read before the decisions themselves
            if groups is None:
                raw = self.result.regroup(thresholds)
                by_digest = self._grouped_digests(raw)
                groups = self.state.apply(self.result, raw, thresholds)
            labels = self._check_labels(by_digest, gone)
        if gone:
            trimmed = (tuple(m for m in g.members if m not in gone) for g in groups)
            groups = [Group(members) for members in trimmed if len(members) > 1]
        layout = Layout(thresholds, groups, {}, {}, gone, by_digest, labels, decisions)
        for number, group in enumerate(groups):
            layout.marks.update(self._mark_group(group))
            layout.group_of.update(dict.fromkeys(group.members, number))
        return layout

    def layout(self) -> Layout:
        """The groups and marks now, as ``prepare`` would give them."""
        return Layout(
            self.thresholds,
            self.groups,
            self._marks,
            self._group_of,
            self.gone,
            self._by_digest,
            self.labels,
            self._labels_at,
        )

    def adopt(self, layout: Layout) -> None:
        self.thresholds, self.groups, self.gone = layout.thresholds, layout.groups, layout.gone
        self._marks, self._group_of = layout.marks, layout.group_of
        self._by_digest, self.labels, self._labels_at = layout.by_digest, layout.labels, layout.decisions
        if self._labels_at != self.state.decisions:  # the person decided while the layout was computed
            if self._by_digest is None:
                self._by_digest = self._grouped_digests(self.groups)
            self.labels = self._check_labels(self._by_digest, self.gone)
            self._labels_at = self.state.decisions

    def _grouped_digests(self, raw: list[Group]) -> dict[str, int] | None:
        """The threshold's own grouping by content, kept only while there are decisions to score it by."""
        if not self.state.has_pair_decisions():
            return None
        return calibration.group_by_digest(self.result.files, raw)

    def _present_digests(self, gone: frozenset[int]) -> set[str]:
        """Contents still in the folders: a pair whose file went to the trash is no longer counted."""
        if self._present is None or self._present[0] != gone:
            files = self.result.files
            self._present = (gone, {f.digest for i, f in enumerate(files) if f.digest and i not in gone})
        return self._present[1]

    def _check_labels(self, by_digest: dict[str, int] | None, gone: frozenset[int]) -> LabelCheck | None:
        """Every decision scored against a grouping (on the worker, with each regroup)."""
        if by_digest is None:
            return None
        state, present = self.state, self._present_digests(gone)
        labels = calibration.check(by_digest, state.confirmed_pairs(), state.distinct_pairs(), present)
        return None if labels.empty else labels

    def _rescore(
        self,
        confirmed: Sequence[tuple[str, str]] = (),
        unconfirmed: Sequence[tuple[str, str]] = (),
        rejected: Sequence[tuple[str, str]] = (),
    ) -> None:
        """Count the pairs just decided into ``labels`` (on the GUI thread: only the new pairs are looked at)."""
        if confirmed or unconfirmed or rejected:
            by_digest, present = self._labelled_grouping(), self._present_digests(self.gone)
            added, withdrawn = (calibration.tally(by_digest, p, present) for p in (confirmed, unconfirmed))
            change = (added[0] - withdrawn[0], added[1] - withdrawn[1])
            labels = (self.labels or NO_LABELS).plus(change, calibration.tally(by_digest, rejected, present))
            self.labels = None if labels.empty else labels
        self._labels_at = self.state.decisions

    def _labelled_grouping(self) -> dict[str, int]:
        """The grouping decisions are scored against; before the first decision, the groups shown are the
        threshold's own (none is split yet)."""
        if self._by_digest is None:
            self._by_digest = calibration.group_by_digest(self.result.files, self.groups)
        return self._by_digest

    def set_groups(self, groups: list[Group], thresholds: Thresholds) -> None:
        self.adopt(self.prepare(thresholds, groups))

    def use_rules(self, decide: Decider, references: Sequence[Path]) -> None:
        """New keep rules or reference folders, used from the next ``prepare`` (the caller re-marks)."""
        self._decide = decide
        self._ruled = {}
        self.references = tuple(references)

    def without_files(self, file_indices: Sequence[int]) -> Layout:
        """The groups once these files left their folders (moved to the trash); adopt it. Safe off-thread."""
        return self.prepare(self.thresholds, self.groups, self.gone | frozenset(file_indices))

    def with_files(self, file_indices: Sequence[int]) -> Layout:
        """The groups once these files are back (undo), regrouped at the current thresholds; adopt it."""
        return self.prepare(self.thresholds, gone=self.gone - frozenset(file_indices))

    def group_of(self, file_index: int) -> int:
        return self._group_of[file_index]

    def is_grouped(self, file_index: int) -> bool:
        return file_index in self._group_of

    def files(self, group: Group) -> list[ScannedFile]:
        return [self.result.files[m] for m in group.members]

    # Marks ------------------------------------------------------------------------------------------------

    def mark(self, file_index: int) -> Mark:
        return self._marks[file_index]

    def _mark_group(self, group: Group) -> dict[int, Mark]:
        files = self.files(group)
        ruled = self._ruled.get(group.members)
        if ruled is None:
            ruled = self._ruled[group.members] = self._decide(files)
        marks: list[Mark] = []
        for file, rule in zip(files, ruled, strict=True):
            choice = self._choices.get((file.ref.path, file.digest or ""))
            if self.in_reference(file.ref.path):
                marks.append(Mark(True, REFERENCE_REASON, chosen=rule.chosen))
            elif choice is not None:
                marks.append(Mark(choice, HAND_REASON, by_hand=True, chosen=choice and rule.chosen))
            else:
                marks.append(rule)
        if not any(m.keep for m in marks):
            marks = [rule if rule.keep else mark for mark, rule in zip(marks, ruled, strict=True)]
        by_member = dict(zip(group.members, marks, strict=True))
        if all(mark is rule for mark, rule in zip(marks, ruled, strict=True)):
            return by_member  # the rules' own marks: their reasons name the file they keep
        kept = kept_member(group.members, by_member.__getitem__)
        if not by_member[kept].chosen:  # kept by hand instead of the rules' choice: the rules' comparison with
            # that choice no longer says why these go
            reason = f"a copy of {self.result.files[kept].ref.path.name}, which you chose to keep"
            for member, mark in by_member.items():
                if mark.why:
                    by_member[member] = Mark(False, reason, why=mark.why)
        return by_member

    def rules_pick(self, group: Group) -> int:
        """The file the keep rules choose for the group, whatever was toggled by hand since."""
        ruled = self._ruled.get(group.members)
        if ruled is not None:
            return next((m for m, mark in zip(group.members, ruled, strict=True) if mark.chosen), group.members[0])
        return kept_member(group.members, self.mark)

    def in_reference(self, path: Path) -> bool:
        """A lexical check, cheap enough for every file of a large review; the core checks again with
        symbolic links resolved before it moves anything."""
        return any(path.is_relative_to(folder) for folder in self.references)

    def set_keep(self, file_index: int, keep: bool) -> str | None:
        """Keep or remove one file by hand (remembered across scans); returns why it was refused, if it was."""
        mark = self._marks[file_index]
        if mark.keep == keep:
            return None
        file = self.result.files[file_index]
        if not keep:
            if self.in_reference(file.ref.path):
                return f"{file.ref.path.name} is in a reference folder: it is never removed."
            group = self.groups[self._group_of[file_index]]
            if sum(self._marks[m].keep for m in group.members) == 1:
                return "Every group keeps at least one file: mark another one to keep first."
        self._choices[(file.ref.path, file.digest or "")] = keep
        self.state.set_choice(file.ref.path, file.digest or "", keep)
        self._marks.update(self._mark_group(self.groups[self._group_of[file_index]]))  # the others' reasons too
        return None

    def toggle(self, file_index: int) -> str | None:
        return self.set_keep(file_index, not self._marks[file_index].keep)

    def marked_for_removal(self, groups: Sequence[Group] | None = None) -> list[int]:
        """File indices marked for removal, in group order."""
        return [m for g in (self.groups if groups is None else groups) for m in g.members if not self._marks[m].keep]

    # Review decisions -------------------------------------------------------------------------------------

    def is_reviewed(self, group: Group) -> bool:
        return all((f.ref.path, f.digest or "") in self._reviewed for f in self.files(group))

    def accept(self, group_number: int) -> None:
        """The person agrees with the group's marks; the list shows it as reviewed, also after a restart."""
        group = self.groups[group_number]
        keys = [(f.ref.path, f.digest or "") for f in self.files(group)]
        self._reviewed.update(keys)
        self.state.set_reviewed(keys)
        kept = kept_member(group.members, self.mark)
        keeper = self.result.files[kept].digest
        others = (self.result.files[m].digest for m in group.members if m != kept)
        if keeper is not None:
            self._rescore(confirmed=self.state.mark_confirmed((keeper, d) for d in others if d is not None))

    def not_duplicates(
        self, group_number: int, member: int | None = None
    ) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """Remember that the group's files (or ``member`` and each other file) are not copies of each other,
        and split the group into what still matches. Returns the digest pairs, and the pairs this took back
        from the confirmed copies (``undo_not_duplicates`` and a regroup undo it)."""
        group = self.groups[group_number]
        digests = {m: d for m in group.members if (d := self.result.files[m].digest) is not None}
        if member is None:
            pairs = pairs_among(digests.values())
        else:
            pairs = [(digests[member], d) for m, d in digests.items() if m != member]
        if any(a != b for a, b in pairs):
            self._labelled_grouping()  # taken before this decision splits the group
        added, unconfirmed = self.state.mark_distinct(pairs)
        self._replace(group_number, group)
        self._rescore(unconfirmed=unconfirmed, rejected=added)
        return pairs, unconfirmed

    def undo_not_duplicates(self, pairs: Sequence[tuple[str, str]], unconfirmed: Sequence[tuple[str, str]]) -> None:
        """Forget a "not duplicates" decision and confirm again what it took back; a regroup shows the group."""
        self.state.unmark_distinct(pairs)
        self.state.mark_confirmed(unconfirmed)

    def _replace(self, group_number: int, group: Group) -> None:
        """Swap one group for its parts, marking only those: the other groups keep their marks as they are."""
        parts = self.state.apply(self.result, [group], self.thresholds)
        self.groups = [*self.groups[:group_number], *parts, *self.groups[group_number + 1 :]]
        for member in group.members:
            del self._marks[member]
        for part in parts:
            self._marks.update(self._mark_group(part))
        self._group_of = {m: number for number, g in enumerate(self.groups) for m in g.members}
