"""Candidate search: from each file's hashes and embedding to the scan's pair graph.

Identical files collapse onto one representative; candidates among representatives come from the hash
index and from the embeddings' nearest neighbours, and every candidate gets every score. Scores depend only
on file content, so a graph from an earlier scan carries over by digest: only contents it has not seen are
searched, against everything. Large collections find embedding neighbours through an index saved beside the
cache, so a rescan adds and queries only the new contents' vectors there too.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dedup_gui.core.graph import (
    CROWD_FLOOR,
    LOOKALIKE_RANK,
    MAX_HASH_DISTANCE,
    MIN_COSINE,
    PairGraph,
    Thresholds,
)
from dedup_gui.core.hamming_index import find_pairs
from dedup_gui.core.hashes import hamming
from dedup_gui.core.knn import EXACT_LIMIT, Int8Vectors, K, Neighbours, Rows, exact_nearest, neighbour_pairs
from dedup_gui.core.memory import release_freed_memory
from dedup_gui.core.model import Method
from dedup_gui.core.tone import TONE_SIZE, UNKNOWN_ORIENTATION, different_flat_colours, recoloured
from dedup_gui.core.vector_index import VectorIndex, params_for

log = logging.getLogger(__name__)

CARRY_OVER_LIMIT = 0.5
"""Search everything anew when more than this share of the contents is new: carrying over saves little."""
WIDE_RANK = 64
"""Neighbours a rescan asks of each new content first, so that earlier contents it is close to learn of it even
where they are not among its 16 nearest (a crowd of look-alikes growing)."""
MAX_WIDE_RANK = 4096
"""Most neighbours asked of a new content in a dense crowd (four times more each round); past it, earlier
contents farther than its 4096th nearest keep their crowding until they are measured again."""


@dataclass(frozen=True)
class SearchInput:
    """Per-file facts the search needs, aligned with the scan's file list."""

    digests: list[str | None]
    hashes: Sequence[np.ndarray | None]
    """(2, 8) pHash/dHash per orientation, None where the file was not decoded (exact method)."""
    embeddings: np.ndarray | Int8Vectors | None
    """(N, D) float16 or float32 (or int8 codes), one row per file (rows of files not decoded are not read);
    None unless the method uses the CNN."""
    index_file: Path | None = None
    """Where the neighbour index of a large collection is saved (a suffix is added); None: not saved."""
    index_key: str = ""
    """Names the embedding model and its version: an index saved under another key is rebuilt."""
    tones: Sequence[bytes | None] = ()
    """Colour per file, ``tone.TONE_SIZE`` bytes (``tone.tone``), None where unknown; empty: none known."""


def build_graph(
    data: SearchInput, method: Method, thresholds: Thresholds, previous: PairGraph | None = None
) -> PairGraph:
    """The pair graph; with ``previous`` (same method and versions), its edges between contents still
    present are reused and only new contents are searched."""
    representative = _representatives(data.digests)
    digests = np.array([(d or "").encode() for d in data.digests], dtype="S64")
    reps = np.flatnonzero((representative == np.arange(len(representative))) & _decoded(data.hashes))
    if method is Method.EXACT or len(reps) < 2:
        return _empty(representative, method, digests)
    table = np.stack([data.hashes[i] for i in reps])  # (R, 2, 8)
    vectors = Rows(data.embeddings, reps) if data.embeddings is not None else None
    carried = _carry_over(previous, method, digests[reps], min(MIN_COSINE, thresholds.cosine))
    a, b, crowding = _candidates(table, vectors, method, thresholds, carried, data, digests[reps])
    if carried is not None:
        a, b = _without(a, b, carried.edges[0], carried.edges[1], len(reps))
    phash, variant = _best_hash(table[:, 0], a, b)
    dhash = np.minimum(hamming(table[a, 1, variant], table[b, 1, 0]), hamming(table[b, 1, variant], table[a, 1, 0]))
    cosine = pair_cosines(vectors, a, b) if vectors is not None else np.full(len(a), np.nan, np.float32)
    flat, apart = _colour_verdicts(
        data.tones, reps, a, b, np.where(phash <= MAX_HASH_DISTANCE, variant, UNKNOWN_ORIENTATION)
    )
    columns = [column[~flat] for column in (a, b, phash, dhash, variant, cosine, apart)]  # carried: judged before
    if carried is not None:
        columns = [
            np.concatenate([old, new]).astype(new.dtype) for old, new in zip(carried.edges, columns, strict=True)
        ]
    a, b, phash, dhash, variant, cosine, apart = columns
    per_file = np.zeros(len(representative), dtype=np.float32)
    per_file[reps] = crowding
    return PairGraph.build(
        representative, reps[a], reps[b], phash, dhash, variant, cosine, method, digests, per_file, apart
    )


def _colour_verdicts(
    tones: Sequence[bytes | None], reps: np.ndarray, a: np.ndarray, b: np.ndarray, variant: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per pair (rows of ``reps``), what colour tells where no tier can: two plain images of other colours
    (dropped), and one picture in other colours (kept apart). ``variant``: the hashes' orientation, or
    ``tone.UNKNOWN_ORIENTATION`` where they did not match."""
    if not len(tones):
        return np.zeros(len(a), dtype=bool), np.zeros(len(a), dtype=bool)
    known = np.array([tones[i] is not None for i in reps], dtype=bool)
    blank = bytes(TONE_SIZE)
    table = np.frombuffer(b"".join(tones[i] or blank for i in reps), dtype=np.uint8).reshape(-1, TONE_SIZE)
    flat = different_flat_colours(table, known, a, b)
    return flat, recoloured(table, known, a, b, variant) & ~flat


def _representatives(digests: list[str | None]) -> np.ndarray:
    first: dict[str, int] = {}
    representative = np.arange(len(digests), dtype=np.int64)
    for index, digest in enumerate(digests):
        if digest is not None:
            representative[index] = first.setdefault(digest, index)
    return representative


def _decoded(hashes: list[np.ndarray | None]) -> np.ndarray:
    return np.array([h is not None for h in hashes], dtype=bool)


@dataclass(frozen=True)
class _CarryOver:
    """What a rescan keeps of the previous graph, renumbered to this scan's representative rows."""

    edges: list[np.ndarray]
    """a, b, phash, dhash, variant, cosine, apart of the edges between contents still present."""
    crowding: np.ndarray
    """Each row's crowding from the previous search (0 for new rows)."""
    new_rows: np.ndarray
    lost: np.ndarray
    """Earlier rows whose nearest may have changed as contents went: those with an edge to one at the edges' least
    cosine. That covers the K nearest (the next one may become an edge) and, for a crowded row, the 16 its
    crowding was measured from (all edges, see ``_edge_neighbours``); an uncrowded row stays so."""


def _carry_over(
    previous: PairGraph | None, method: Method, rep_digests: np.ndarray, min_similarity: float
) -> _CarryOver | None:
    """What can be kept of ``previous``; None when a fresh search is the better choice."""
    if previous is None or previous.digests is None or previous.method is not method:
        return None
    old_reps = np.flatnonzero(previous.representative == np.arange(previous.n))
    seen = set(previous.digests[old_reps].tolist())
    new_rows = np.array([k for k, d in enumerate(rep_digests.tolist()) if d not in seen], dtype=np.int64)
    if len(new_rows) > CARRY_OVER_LIMIT * len(rep_digests):
        return None
    position = {d: k for k, d in enumerate(rep_digests.tolist())}
    rows = np.array([position.get(d, -1) for d in previous.digests[old_reps].tolist()], dtype=np.int64)
    crowding = np.zeros(len(rep_digests), dtype=np.float32)
    crowding[rows[rows >= 0]] = previous.crowding[old_reps[rows >= 0]]
    ka = np.array([position.get(d, -1) for d in previous.digests[previous.a].tolist()], dtype=np.int64)
    kb = np.array([position.get(d, -1) for d in previous.digests[previous.b].tolist()], dtype=np.int64)
    keep = (ka >= 0) & (kb >= 0)
    near = previous.cosine >= min_similarity
    lost = np.union1d(ka[near & (ka >= 0) & (kb < 0)], kb[near & (kb >= 0) & (ka < 0)])
    edges = [np.minimum(ka, kb)[keep], np.maximum(ka, kb)[keep]]
    edges += [previous.phash[keep], previous.dhash[keep], previous.variant[keep], previous.cosine[keep]]
    edges += [previous.apart[keep]]
    return _CarryOver(edges, crowding, new_rows, lost)


def _without(
    a: np.ndarray, b: np.ndarray, old_a: np.ndarray, old_b: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """New candidate pairs that are not already carried over."""
    keep = ~np.isin(a * n + b, old_a * n + old_b)
    return a[keep], b[keep]


def _candidates(
    table: np.ndarray,
    vectors: Rows | None,
    method: Method,
    thresholds: Thresholds,
    carried: _CarryOver | None,
    data: SearchInput,
    rep_digests: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Union of hash-index pairs and embedding-neighbour pairs (with ``carried``: touching new rows or rows
    measured again only), unique ``a < b``, and each row's crowding (``PairGraph.crowding``).

    ``rep_digests`` names the content of each row of ``table`` and ``vectors``. On a rescan, the earlier rows
    whose crowding may have changed are measured again: those a new row comes as close to as their own 16th
    nearest (or ``CROWD_FLOOR``, see ``_moved_by``), and those whose nearest may have gone (``_CarryOver.lost``);
    the others keep theirs. The neighbour search comes first, so that a large collection's index is gone before
    the hash pair search; the memory each stage freed is handed back before the next (peak RSS at a million
    images: 4,885 MB with the stages the other way round and nothing handed back)."""
    pairs_a: list[np.ndarray] = [np.empty(0, dtype=np.int64)]
    pairs_b: list[np.ndarray] = [np.empty(0, dtype=np.int64)]
    rows = None if carried is None else carried.new_rows
    crowding = np.zeros(len(table), dtype=np.float32) if carried is None else carried.crowding.copy()
    if vectors is not None and (carried is None or len(carried.new_rows) or len(carried.lost)):
        searched = _nearest_and_crowding(_NeighbourSearch(vectors, data, rep_digests), carried, crowding)
        for a, b in _neighbour_edges(searched, min(MIN_COSINE, thresholds.cosine)):
            pairs_a.append(a)
            pairs_b.append(b)
        del searched
        release_freed_memory()
    if method is not Method.CNN:
        radius = max(MAX_HASH_DISTANCE, thresholds.hash_distance)
        with _timed("hash pairs", len(table) if rows is None else len(rows)):
            found = find_pairs(table[:, 0, 0], table[:, 0, :], radius, rows)
        release_freed_memory()
        pairs_a.append(found.a)
        pairs_b.append(found.b)
    a, b = np.concatenate(pairs_a), np.concatenate(pairs_b)
    key = np.unique(a * len(table) + b)
    return key // len(table), key % len(table), crowding


def _neighbour_edges(
    searched: list[tuple[np.ndarray | None, Neighbours]], min_similarity: float
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The ``a < b`` pairs of each searched group of rows' neighbours at or above ``min_similarity``."""
    return [neighbour_pairs(nearest, min_similarity, rows)[:2] for rows, nearest in searched]


def _nearest_and_crowding(
    search: _NeighbourSearch, carried: _CarryOver | None, crowding: np.ndarray
) -> list[tuple[np.ndarray | None, Neighbours]]:
    """The rows searched (None: all) and their K nearest, with ``crowding`` updated (see ``_candidates``). Rows
    measured again bring their nearest too: where a neighbour has gone, the next one becomes an edge. The
    search, and with it a large collection's index, is released on return, before the edges are made."""
    queried = np.arange(len(crowding), dtype=np.int64) if carried is None else carried.new_rows
    neighbours = search(queried, LOOKALIKE_RANK if carried is None else WIDE_RANK)
    crowding[queried] = _crowding(neighbours)
    searched = [(None if carried is None else queried, _edge_neighbours(neighbours, crowding[queried]))]
    if carried is not None:
        found = _moved_by(search, queried, neighbours, crowding)
        recount = np.union1d(found[~np.isin(found, queried)], carried.lost)
        if len(recount):
            again = search(recount, LOOKALIKE_RANK)
            crowding[recount] = _crowding(again)
            searched.append((recount, _edge_neighbours(again, crowding[recount])))
    return searched


def _moved_by(search: _NeighbourSearch, rows: np.ndarray, neighbours: Neighbours, crowding: np.ndarray) -> np.ndarray:
    """The rows that ``rows`` (with their ``neighbours``) come at least as close to as those rows' crowding, or
    ``CROWD_FLOOR``: their 16th nearest may have changed. Where even the farthest neighbour asked for is that
    close, more may lie beyond, so those rows are asked for four times as many (up to ``MAX_WIDE_RANK``)."""
    found = []
    k = neighbours.index.shape[1]
    while True:
        close = neighbours.similarity >= np.maximum(crowding[neighbours.index], CROWD_FLOOR)
        found.append(neighbours.index[close])
        rows = rows[neighbours.similarity[:, -1] >= CROWD_FLOOR] if k else rows[:0]
        if not len(rows) or k >= min(search.size - 1, MAX_WIDE_RANK):
            return np.unique(np.concatenate(found))
        k = min(4 * k, search.size - 1, MAX_WIDE_RANK)
        neighbours = search(rows, k)


def _edge_neighbours(neighbours: Neighbours, crowding: np.ndarray) -> Neighbours:
    """The neighbours that become edges: each row's K nearest and, for a crowded row, all ``LOOKALIKE_RANK`` of
    them, so that a rescan can tell from the edges whether one of those a crowding was measured from has gone."""
    index = neighbours.index[:, :LOOKALIKE_RANK].copy()
    similarity = neighbours.similarity[:, :LOOKALIKE_RANK].copy()
    similarity[crowding == 0, K:] = -np.inf
    return Neighbours(index, similarity)


def _crowding(neighbours: Neighbours) -> np.ndarray:
    """Each row's ``LOOKALIKE_RANK``-th nearest's cosine, 0 below ``CROWD_FLOOR`` (or with fewer neighbours)."""
    if neighbours.similarity.shape[1] < LOOKALIKE_RANK:
        return np.zeros(len(neighbours.similarity), dtype=np.float32)
    value = neighbours.similarity[:, LOOKALIKE_RANK - 1]
    return np.where(value >= CROWD_FLOOR, value, 0).astype(np.float32)


class _NeighbourSearch:
    """Nearest neighbours of chosen rows: exact search while it is the faster, else through the saved index,
    brought up to date (and saved) once, before the first query."""

    def __init__(self, vectors: Rows, data: SearchInput, rep_digests: np.ndarray) -> None:
        self.vectors, self.data, self.rep_digests = vectors, data, rep_digests
        self._index: tuple[VectorIndex, np.ndarray] | None = None

    @property
    def size(self) -> int:
        return len(self.vectors)

    def __call__(self, rows: np.ndarray, k: int) -> Neighbours:
        if len(self.vectors) <= EXACT_LIMIT:
            with _timed("exact neighbours", len(rows)):
                return exact_nearest(self.vectors, k, rows)
        if self._index is None:
            self._index = _updated_index(self.vectors, self.data, self.rep_digests)
        index, row_of_label = self._index
        with _timed("index query", len(rows)):
            return index.query(self.vectors, rows, row_of_label, k)


def _updated_index(vectors: Rows, data: SearchInput, digests: np.ndarray) -> tuple[VectorIndex, np.ndarray]:
    """The saved index (or a new one) holding every representative, and each label's row.

    Contents no longer present are hidden; an index mostly of absent contents (another folder's) is rebuilt.
    """
    params = params_for(len(vectors))
    with _timed("index load", len(vectors)):
        index = VectorIndex.load(data.index_file, data.index_key, params, len(vectors)) if data.index_file else None
    label_rows = _rows_of(index.digests, digests) if index is not None else np.empty(0, dtype=np.int64)
    if index is None or np.count_nonzero(label_rows >= 0) < CARRY_OVER_LIMIT * len(label_rows):
        index, label_rows = VectorIndex.create(params, vectors, len(vectors)), np.empty(0, dtype=np.int64)
    changed = index.show_only(label_rows >= 0)
    missing = np.setdiff1d(np.arange(len(vectors)), label_rows[label_rows >= 0])
    if len(missing):
        with _timed("index add", len(missing)):
            index.add(vectors, missing, digests[missing])
    if (changed or len(missing)) and data.index_file is not None:
        try:
            with _timed("index save", len(index.digests)):
                index.save(data.index_file, data.index_key)
        except OSError as exc:  # a full disk costs the next scan a rebuild, not this scan
            log.warning("neighbour index not saved: %s", exc)
    return index, np.concatenate([label_rows, missing])


def _rows_of(labels: np.ndarray, digests: np.ndarray) -> np.ndarray:
    """The row of ``digests`` holding each label's digest, -1 where none does."""
    order = np.argsort(digests)
    position = np.minimum(np.searchsorted(digests[order], labels), max(len(digests) - 1, 0))
    found = digests[order][position] == labels if len(digests) else np.zeros(len(labels), dtype=bool)
    return np.where(found, order[position] if len(digests) else -1, -1)


@contextmanager
def _timed(stage: str, count: int) -> Iterator[None]:
    """Log a search stage's duration (the log file shows where a large scan's time went)."""
    started = time.perf_counter()
    yield
    seconds = time.perf_counter() - started
    log.info("%s: %d items in %.2f s", stage, count, seconds, extra={"stage": stage, "seconds": seconds})


def _best_hash(phashes: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Smallest pHash distance over the 8 variants (either image turned to meet the other) and its variant."""
    forward = hamming(phashes[a, :], phashes[b, 0][:, None])
    backward = hamming(phashes[b, :], phashes[a, 0][:, None])
    both = np.minimum(forward, backward)
    variant = np.argmin(both, axis=1) if len(a) else np.empty(0, dtype=np.int64)
    return both[np.arange(len(a)), variant].astype(np.int16), variant.astype(np.int8)


def pair_cosines(vectors: Rows, a: np.ndarray, b: np.ndarray, chunk: int = 8192) -> np.ndarray:
    """Cosine of each pair, a chunk at a time: gathering every pair's rows at once would cost gigabytes."""
    out = np.empty(len(a), dtype=np.float32)
    for lo in range(0, len(a), chunk):
        out[lo : lo + chunk] = np.einsum("ij,ij->i", vectors.take(a[lo : lo + chunk]), vectors.take(b[lo : lo + chunk]))
    return out


def _empty(representative: np.ndarray, method: Method, digests: np.ndarray) -> PairGraph:
    empty = np.empty(0, dtype=np.int64)
    small = empty.astype(np.int16)
    return PairGraph.build(
        representative, empty, empty, small, small, empty.astype(np.int8), method=method, digests=digests
    )
