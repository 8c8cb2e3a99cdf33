"""Accuracy of a scan against a ground truth in imagededup's ``{file: [duplicates]}`` format.

Pairwise precision, recall and F1 count every unordered pair of files that share a group. Per-group figures
say how many true groups came out whole and how many found groups are pure. With a family map
(``{file: family}``, "original" for unedited files) recall and precision are also split per kind of edit.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

Mapping = dict[str, list[str]]
PairSet = set[tuple[str, str]]


@dataclass(frozen=True)
class Score:
    """Pair counts and the ratios made from them."""

    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        truth = self.true_positives + self.false_negatives
        return self.true_positives / truth if truth else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {**asdict(self), "precision": self.precision, "recall": self.recall, "f1": self.f1}


@dataclass(frozen=True)
class Evaluation:
    """Everything ``evaluate`` measures."""

    pairs: Score
    groups_total: int
    groups_whole: int
    found_groups: int
    found_groups_pure: int
    by_family: dict[str, Score] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "pairs": self.pairs.as_dict(),
            "groups": {
                "true_groups": self.groups_total,
                "true_groups_found_whole": self.groups_whole,
                "found_groups": self.found_groups,
                "found_groups_pure": self.found_groups_pure,
            },
            "by_family": {name: score.as_dict() for name, score in sorted(self.by_family.items())},
        }


def load_mapping(path: Path) -> Mapping:
    """Read and check a ``{file: [duplicates]}`` map; raise ValueError naming the first problem."""
    try:
        mapping = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from None
    if not isinstance(mapping, dict) or not all(
        isinstance(k, str) and isinstance(v, list) and all(isinstance(x, str) for x in v) for k, v in mapping.items()
    ):
        raise ValueError(f"{path} is not a {{file: [duplicates]}} map")
    for name, others in mapping.items():
        for other in others:
            if name not in mapping.get(other, []):
                raise ValueError(f"{path} is not symmetric: {name} lists {other} but not the other way round")
    return mapping


def load_families(path: Path) -> dict[str, str]:
    """Read and check a ``{file: edit family}`` map ("original" for unedited files); raise ValueError if bad."""
    try:
        families = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from None
    if not isinstance(families, dict) or not all(isinstance(v, str) for v in families.values()):
        raise ValueError(f'{path} is not a {{file: edit family}} map (with "original" for unedited files)')
    return families


def pairs_of(mapping: Mapping) -> PairSet:
    return {(min(a, b), max(a, b)) for a, others in mapping.items() for b in others if a != b}


def _groups_of(mapping: Mapping) -> list[frozenset[str]]:
    return list({frozenset([name, *others]) for name, others in mapping.items() if others})


def evaluate(truth: Mapping, found: Mapping, families: dict[str, str] | None = None) -> Evaluation:
    """Compare found groups with the truth. Files missing from ``found`` count as found alone."""
    true_pairs, found_pairs = pairs_of(truth), pairs_of(found)
    true_groups, found_groups = _groups_of(truth), _groups_of(found)
    found_of = {name: group for group in found_groups for name in group}
    true_of = {name: group for group in true_groups for name in group}
    whole = sum(1 for g in true_groups if found_of.get(next(iter(g))) == g)
    pure = sum(1 for g in found_groups if true_of.get(next(iter(g)), frozenset()) >= g)
    return Evaluation(
        pairs=_score(true_pairs, found_pairs),
        groups_total=len(true_groups),
        groups_whole=whole,
        found_groups=len(found_groups),
        found_groups_pure=pure,
        by_family=_by_family(true_pairs, found_pairs, families) if families else {},
    )


def _score(truth: PairSet, found: PairSet) -> Score:
    return Score(len(truth & found), len(found - truth), len(truth - found))


def _by_family(truth: PairSet, found: PairSet, families: dict[str, str]) -> dict[str, Score]:
    """Recall over true (original, edit) pairs of each edit family; precision over found pairs touching it."""
    true_by: dict[str, PairSet] = defaultdict(set)
    for a, b in truth:
        kinds = {families.get(a, "original"), families.get(b, "original")}
        if len(kinds) == 2 and "original" in kinds:
            true_by[(kinds - {"original"}).pop()].add((a, b))
    scores = {}
    for family, pairs in true_by.items():
        touching = {(a, b) for a, b in found if family in (families.get(a), families.get(b))}
        tp = len(pairs & found)
        scores[family] = Score(tp, len(touching - truth), len(pairs) - tp)
    return scores


def format_table(result: Evaluation) -> str:
    """A plain-text report: overall pair scores, group figures, then one row per edit family."""
    p = result.pairs
    lines = [
        f"pairs: precision {p.precision:.3f}  recall {p.recall:.3f}  F1 {p.f1:.3f}"
        f"  (true {p.true_positives}, false {p.false_positives}, missed {p.false_negatives})",
        f"groups: {result.groups_whole}/{result.groups_total} true groups found whole,"
        f" {result.found_groups_pure}/{result.found_groups} found groups pure",
    ]
    if result.by_family:
        lines.append(f"{'family':<22}{'precision':>10}{'recall':>8}{'pairs':>7}{'missed':>8}{'false':>7}")
        for name, score in sorted(result.by_family.items()):
            total = score.true_positives + score.false_negatives
            lines.append(
                f"{name:<22}{score.precision:>10.3f}{score.recall:>8.3f}{total:>7}"
                f"{score.false_negatives:>8}{score.false_positives:>7}"
            )
    return "\n".join(lines)
