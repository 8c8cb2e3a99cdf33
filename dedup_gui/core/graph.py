"""The scan's graph of candidate pairs, kept so that a new threshold regroups without any new search.

Files with identical bytes are collapsed onto one representative (the first of them); near-duplicate edges
join representatives, scored by every tier. ``groups_at`` filters the edges by a threshold, groups the
representatives with a policy and expands each representative back into its identical copies.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from dedup_gui.core.grouping import GroupPolicy, group_labels, keep_apart, unique_edges
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

LOOKALIKE_RANK = 16
"""Larger than ordinary groups of copies, so that an image's neighbour at this rank is not a copy of it: its
cosine tells how crowded the image's neighbourhood is (its "crowding")."""

CROWD_MARGIN = 0.10
"""A cosine counts only if it is at least this much above both images' crowding: a copy must stand out from the
pictures that merely look alike. Generated abstract pictures score 0.75-0.88 against each other (16th neighbour
0.78-0.87), their copies 0.95 and more; real photos' 16th neighbour stays below 0.62 on the dev set."""

CROWD_FLOOR = 0.70
"""Crowding below this is ordinary and recorded as 0, so that the threshold alone decides (real photos' 16th
neighbour stays below 0.62 on the dev set); from it on, a cosine needs 0.80 or more."""

LOOKALIKE_COSINE = 1.0 - CROWD_MARGIN
"""An image crowded at this cosine or closer belongs to a family of look-alikes: text screenshots, scanned
pages, chat captures. No cosine can stand out there (the CNN sees such pictures at 224 pixels as the same
texture: different text screenshots score 0.94-0.99, a cropped copy of one 0.94), so the hashes decide alone."""

LOOKALIKE_HASH_DISTANCE = 4
"""Within a family of look-alikes the hash tier asks more: pHash and dHash both within this distance (or the
threshold, if lower). Different text pages of one layout come as close as pHash 4 (dHash 6); their re-encodes
and half-size copies stay within pHash 2, dHash 4."""


def stands_out(cosine: np.ndarray, crowding: np.ndarray) -> np.ndarray:
    """Per edge: whether its cosine may count (see ``CROWD_MARGIN``), given the larger crowding of its ends."""
    with np.errstate(invalid="ignore"):
        return (cosine >= crowding + CROWD_MARGIN) & (crowding < LOOKALIKE_COSINE)


def passes_hash(phash: np.ndarray, dhash: np.ndarray, lookalike: np.ndarray, hash_distance: int) -> np.ndarray:
    """Per edge: whether it counts as copies by its hashes (see ``LOOKALIKE_HASH_DISTANCE``)."""
    strict = np.maximum(phash, dhash) <= min(hash_distance, LOOKALIKE_HASH_DISTANCE)
    return np.where(lookalike, strict, phash <= hash_distance)


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


@dataclass(frozen=True)
class _RegroupCache:
    """Per-graph facts that regrouping at any threshold reuses."""

    usable: np.ndarray | None
    """Mask of the edges that are not repeats or loops; None when all are."""
    apart: tuple[np.ndarray, np.ndarray] | None
    """The ends of the edges whose images must not share a group; None when there are none."""
    weight: np.ndarray
    has_copies: np.ndarray
    """Per file: whether it is the representative of two or more identical files."""
    lookalike: np.ndarray
    """Per edge: whether either end belongs to a family of look-alikes."""
    crowded: np.ndarray
    """Per edge: whether its cosine does not count, as it does not stand out from the ends' crowding."""


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
    crowding: np.ndarray
    """Per file (representatives only), float32: the cosine of its ``LOOKALIKE_RANK``-th nearest distinct
    neighbour, 0 below ``CROWD_FLOOR``. Edges whose cosine does not stand out from it keep their cosine, which
    does not count."""
    apart: np.ndarray
    """Per edge: the two images match in structure but their colours tell them apart (``tone``): never a match,
    and never in one group, even through an image without colour that matches both."""
    method: Method = Method.AUTO
    digests: np.ndarray | None = None
    """Each file's content digest (bytes), so a later scan can carry edges over by content."""
    _cache: _RegroupCache | None = field(default=None, init=False, repr=False, compare=False)

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
        crowding: np.ndarray | None = None,
        apart: np.ndarray | None = None,
    ) -> PairGraph:
        n = len(representative)
        if cosine is None:
            cosine = np.full(len(a), np.nan, dtype=np.float32)
        crowding = np.zeros(n, dtype=np.float32) if crowding is None else crowding.astype(np.float32)
        apart = np.zeros(len(a), dtype=bool) if apart is None else apart.astype(bool)
        return cls(n, representative, a, b, phash, dhash, variant, cosine, crowding, apart, method, digests)

    _ARRAYS: ClassVar[tuple[str, ...]] = (
        "representative",
        "a",
        "b",
        "phash",
        "dhash",
        "variant",
        "cosine",
        "crowding",
        "apart",
    )

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

    def verdicts(self, thresholds: Thresholds) -> tuple[np.ndarray, np.ndarray]:
        """Per edge: whether its hashes pass, and whether its cosine passes and counts."""
        by_hash = passes_hash(self.phash, self.dhash, self.lookalike, thresholds.hash_distance)
        with np.errstate(invalid="ignore"):
            by_cosine = (self.cosine >= thresholds.cosine) & ~self._regroup_cache().crowded
        return by_hash, by_cosine

    def matching(self, thresholds: Thresholds) -> np.ndarray:
        """Mask of the near-duplicate edges that pass the thresholds of the scan's tiers."""
        by_hash, by_cosine = self.verdicts(thresholds)
        if self.method is Method.HASH:
            passing = by_hash
        elif self.method is Method.CNN:
            passing = by_cosine
        else:
            passing = by_hash | by_cosine
        return passing & ~self.apart

    def groups_at(self, thresholds: Thresholds, policy: GroupPolicy = GroupPolicy.STAR) -> list[Group]:
        """Groups at a threshold, largest first, then by first member; identical copies always share their group."""
        cache = self._regroup_cache()
        keep = self.matching(thresholds)
        if cache.usable is not None:
            keep &= cache.usable
        rep_labels = group_labels(self.n, self.a[keep], self.b[keep], cache.weight[keep], policy)
        if cache.apart is not None:
            rep_labels = keep_apart(rep_labels, self.a[keep], self.b[keep], cache.weight[keep], *cache.apart)
        labels = rep_labels[self.representative]
        alone = (labels < 0) & cache.has_copies[self.representative]
        labels[alone] = self.representative[alone]  # copies of a representative in no group: a group of their own
        return _as_groups(labels)

    def _regroup_cache(self) -> _RegroupCache:
        """What regrouping needs that no threshold changes, computed on the first regroup (the graph's arrays
        are not changed after it is built)."""
        if self._cache is None:
            usable = unique_edges(self.a, self.b)
            crowding = self.edge_crowding()
            apart = np.flatnonzero(self.apart)
            self._cache = _RegroupCache(
                usable=None if usable.all() else usable,
                apart=(self.a[apart], self.b[apart]) if len(apart) else None,
                weight=self._weight(),
                has_copies=np.bincount(self.representative, minlength=self.n) > 1,
                lookalike=crowding >= LOOKALIKE_COSINE,
                crowded=~stands_out(self.cosine, crowding),
            )
        return self._cache

    def edge_crowding(self) -> np.ndarray:
        """Per edge, float32: the larger crowding of its two ends."""
        return np.maximum(self.crowding[self.a], self.crowding[self.b]).astype(np.float32)

    @property
    def lookalike(self) -> np.ndarray:
        """Per edge: whether either end belongs to a family of look-alikes (its cosine does not count)."""
        return self._regroup_cache().lookalike

    @property
    def crowded(self) -> np.ndarray:
        """Per edge: whether its cosine does not count, look-alike or not standing out from its crowding."""
        return self._regroup_cache().crowded

    def candidates(self) -> np.ndarray:
        """The files any threshold could group (sorted indices): an edge's ends, identical copies, and the copies
        of either."""
        in_pair = np.zeros(self.n, dtype=bool)
        in_pair[self.a[~self.apart]] = in_pair[self.b[~self.apart]] = True
        in_pair |= np.bincount(self.representative, minlength=self.n) > 1
        return np.flatnonzero(in_pair[self.representative])

    def _weight(self) -> np.ndarray:
        """Similarity in [0, 1] used to pick group centres: the cosine where known, else from the hash."""
        return np.where(np.isnan(self.cosine), 1.0 - self.phash / 64.0, self.cosine)

    def pairs_within(self, group: Group, thresholds: Thresholds) -> list[Pair]:
        """The pairs that tie a group together: each copy to its representative, and matching edges."""
        members = np.array(group.members)
        pairs = [
            Pair(int(self.representative[m]), int(m), same_bytes=True) for m in members if self.representative[m] != m
        ]
        inside = np.isin(self.a, members) & np.isin(self.b, members) & self.matching(thresholds)
        by_hash, by_cosine = self.verdicts(thresholds)
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
                    lookalike=bool(self.lookalike[k]),
                    crowding=float(max(self.crowding[self.a[k]], self.crowding[self.b[k]])),
                    by_hash=bool(by_hash[k]),
                    by_cosine=bool(by_cosine[k]),
                )
            )
        return pairs


def _as_groups(labels: np.ndarray) -> list[Group]:
    """Groups from each file's group label (-1: none), largest first, then by first member, members sorted.

    Done on whole arrays, since a collection can have hundreds of thousands of groups: one stable sort of the
    files by their group's place in that order, then each run of groups of one size made into tuples at once.
    """
    n = len(labels)
    files = np.flatnonzero(labels >= 0)
    label = labels[files]
    size = np.bincount(label, minlength=n)
    first = np.full(n, n, dtype=np.int64)
    np.minimum.at(first, label, files)
    place = (n - size[label]) * n + first[label]
    order = np.argsort(place, kind="stable")  # stable: members stay in file order
    files, place = files[order], place[order]
    starts = np.flatnonzero(np.diff(place, prepend=-1))
    sizes = np.diff(starts, append=len(files))
    groups: list[Group] = []
    runs = np.flatnonzero(np.diff(sizes, prepend=0))
    bounds = [*starts[runs].tolist(), len(files)]
    for lo, hi, run_size in zip(bounds[:-1], bounds[1:], sizes[runs].tolist(), strict=True):
        columns = files[lo:hi].reshape(-1, run_size).T.tolist()  # one list per member position
        groups.extend(map(Group, zip(*columns, strict=True)))
    return groups


def explain(pair: Pair) -> str:
    """The reason a pair matched, in words for the review and the JSON output: the tiers that passed (as the
    graph judged them at the thresholds ``pairs_within`` was given)."""
    if pair.same_bytes:
        return "same bytes"
    reasons = []
    if pair.by_hash:
        reason = f"hash distance {pair.hash_distance}"
        if pair.transform and pair.transform != VARIANT_NAMES[0]:
            reason += f" ({pair.transform})"
        if pair.lookalike:  # both hashes had to agree; with both at 0 the crowd is of copies, not look-alikes
            exact = pair.hash_distance == pair.dhash_distance == 0
            reason += f", dHash {pair.dhash_distance}" + ("" if exact else " (look-alikes)")
        reasons.append(reason)
    if pair.by_cosine:
        reason = f"cosine {pair.cosine:.2f}"
        if pair.crowding:
            reason += f" (look-alikes around {pair.crowding:.2f})"
        reasons.append(reason)
    return ", ".join(reasons) or "below the threshold"
