"""The scan's graph of candidate pairs, kept so that a new threshold regroups without any new search.

Files with identical bytes are collapsed onto one representative (the first of them); near-duplicate edges
join representatives, scored by every tier. ``groups_at`` filters the edges by a threshold, groups the
representatives with a policy and expands each representative back into its identical copies.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from dedup_gui.core.grouping import GroupPolicy, make_groups
from dedup_gui.core.hashes import VARIANT_NAMES
from dedup_gui.core.model import Group, Method, Pair

DEFAULT_HASH_DISTANCE = 8
"""pHash distance (of 64 bits) at or below which two images count as copies: re-encodes and resizes score
0-6, different photos rarely below 12."""

MAX_HASH_DISTANCE = 11
"""Largest threshold the search keeps pairs for; thresholds up to it regroup without searching again."""

DEFAULT_COSINE = 0.75
"""Cosine similarity of CNN embeddings at or above which two images count as copies. Chosen on the tune half
of the dev set (``python -m tests.devset.calibrate``); the README reports the held-out half."""

MIN_COSINE = 0.60
"""Lowest cosine threshold the neighbour graph keeps edges for (the slider's lower end)."""


@dataclass(frozen=True)
class Thresholds:
    """What makes a pair count as duplicates: either tier passing is enough."""

    hash_distance: int = DEFAULT_HASH_DISTANCE
    cosine: float = DEFAULT_COSINE


PRESETS: dict[str, Thresholds] = {
    "strict": Thresholds(hash_distance=4, cosine=0.92),
    "default": Thresholds(),
    "loose": Thresholds(hash_distance=MAX_HASH_DISTANCE, cosine=0.70),
}
"""Named thresholds for the review's quick choices."""


@dataclass
class PairGraph:
    """Candidate pairs of a scan over ``n`` files (indices into the scan's file list)."""

    n: int
    representative: np.ndarray
    a: np.ndarray
    b: np.ndarray
    phash: np.ndarray
    dhash: np.ndarray
    variant: np.ndarray
    cosine: np.ndarray
    """NaN where the pair has no embedding score (hash-only scans)."""
    method: Method = Method.AUTO
    digests: np.ndarray | None = None
    """Each file's content digest (bytes), so a later scan can carry edges over by content."""

    @classmethod
    def build(
        cls,
        representative: np.ndarray,
        a: np.ndarray,
        b: np.ndarray,
        phash: np.ndarray,
        dhash: np.ndarray,
        variant: np.ndarray,
        cosine: np.ndarray | None = None,
        method: Method = Method.AUTO,
        digests: np.ndarray | None = None,
    ) -> PairGraph:
        if cosine is None:
            cosine = np.full(len(a), np.nan, dtype=np.float32)
        return cls(len(representative), representative, a, b, phash, dhash, variant, cosine, method, digests)

    _ARRAYS: ClassVar[tuple[str, ...]] = ("representative", "a", "b", "phash", "dhash", "variant", "cosine")

    def to_bytes(self) -> bytes:
        """Serialised for the cache (numpy's npz: no pickle)."""
        out = io.BytesIO()
        arrays = {name: getattr(self, name) for name in self._ARRAYS}
        if self.digests is not None:
            arrays["digests"] = self.digests
        np.savez(out, method=np.array(self.method.value), **arrays)
        return out.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> PairGraph:
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            values = {name: arrays[name] for name in cls._ARRAYS}
            method = Method(str(arrays["method"]))
            digests = arrays["digests"] if "digests" in arrays.files else None
        return cls(len(values["representative"]), **values, method=method, digests=digests)

    def matching(self, thresholds: Thresholds) -> np.ndarray:
        """Mask of the near-duplicate edges that pass the thresholds of the scan's tiers."""
        by_hash = self.phash <= thresholds.hash_distance
        with np.errstate(invalid="ignore"):
            by_cosine = self.cosine >= thresholds.cosine
        if self.method is Method.HASH:
            return by_hash
        if self.method is Method.CNN:
            return by_cosine
        return by_hash | by_cosine

    def _weight(self, keep: np.ndarray) -> np.ndarray:
        """Similarity in [0, 1] used to pick group centres: the cosine where known, else from the hash."""
        cosine = self.cosine[keep]
        return np.where(np.isnan(cosine), 1.0 - self.phash[keep] / 64.0, cosine)

    def groups_at(self, thresholds: Thresholds, policy: GroupPolicy = GroupPolicy.STAR) -> list[Group]:
        """Groups at a threshold, largest first; identical copies always share their group."""
        keep = self.matching(thresholds)
        rep_groups = make_groups(self.n, self.a[keep], self.b[keep], self._weight(keep), policy)
        copies = self._copies_by_representative()
        grouped: set[int] = set()
        groups: list[Group] = []
        for reps in rep_groups:
            members = np.concatenate([copies.get(int(r), np.array([r])) for r in reps])
            groups.append(Group(tuple(sorted(members.tolist()))))
            grouped.update(reps.tolist())
        for rep, members in copies.items():
            if rep not in grouped and len(members) > 1:
                groups.append(Group(tuple(members.tolist())))
        groups.sort(key=lambda g: (-len(g.members), g.members[0]))
        return groups

    def _copies_by_representative(self) -> dict[int, np.ndarray]:
        if self.n == 0:
            return {}
        order = np.argsort(self.representative, kind="stable")
        reps = self.representative[order]
        cuts = np.flatnonzero(np.diff(reps)) + 1
        return {
            int(part[0]): order_part
            for part, order_part in zip(np.split(reps, cuts), np.split(order, cuts), strict=True)
        }

    def pairs_within(self, group: Group, thresholds: Thresholds) -> list[Pair]:
        """The pairs that tie a group together: each copy to its representative, and matching edges."""
        members = np.array(group.members)
        pairs = [
            Pair(int(self.representative[m]), int(m), same_bytes=True) for m in members if self.representative[m] != m
        ]
        inside = np.isin(self.a, members) & np.isin(self.b, members) & self.matching(thresholds)
        for k in np.flatnonzero(inside):
            pairs.append(
                Pair(
                    int(self.a[k]),
                    int(self.b[k]),
                    same_bytes=False,
                    hash_distance=int(self.phash[k]),
                    dhash_distance=int(self.dhash[k]),
                    transform=VARIANT_NAMES[int(self.variant[k])],
                    cosine=None if np.isnan(self.cosine[k]) else round(float(self.cosine[k]), 4),
                )
            )
        return pairs


def explain(pair: Pair, thresholds: Thresholds) -> str:
    """The reason a pair matched, in words for the review and the JSON output: the tiers that passed."""
    if pair.same_bytes:
        return "same bytes"
    reasons = []
    if pair.hash_distance is not None and pair.hash_distance <= thresholds.hash_distance:
        reason = f"hash distance {pair.hash_distance}"
        if pair.transform and pair.transform != VARIANT_NAMES[0]:
            reason += f" ({pair.transform})"
        reasons.append(reason)
    if pair.cosine is not None and pair.cosine >= thresholds.cosine:
        reasons.append(f"cosine {pair.cosine:.2f}")
    return ", ".join(reasons) or "below the threshold"
