"""k-nearest-neighbour graph of unit-length embeddings: exact blocked search, and the shared result types.

Each image keeps its ``k`` nearest neighbours with their cosine similarity; the pair graph stores those
edges, so a new cosine threshold regroups from them without any new query. Large collections use the
approximate index of ``vector_index``; this module's exact search serves small ones and measures recall.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

K = 10
"""Neighbours per image that become edges of the pair graph."""
EXACT_LIMIT = 20000
"""Up to this many vectors a blocked numpy search is exact and faster than building an HNSW index."""
QUANTISE_ABOVE = 200_000
"""Collections larger than this keep their embeddings in memory as int8 codes (``Int8Vectors``): a million
float16 vectors take 2.6 GB, their codes 1.3 GB."""
_BLOCK = 1024
_DATABASE_CHUNK = 16384
"""Stored vectors are turned to float32 this many at a time: a million float16 rows never exist as float32."""


@dataclass(frozen=True)
class Int8Vectors:
    """Unit vectors as int8 codes, each scaled so that its largest component is 127, read back renormalised.

    Half the memory of float16; a cosine between decoded vectors is within about 1e-3 of the exact one
    (``test_knn`` measures it), far below any threshold's step.
    """

    codes: np.ndarray

    @classmethod
    def zeros(cls, count: int, dim: int) -> Int8Vectors:
        return cls(np.zeros((count, dim), dtype=np.int8))

    def __len__(self) -> int:
        return len(self.codes)

    def __setitem__(self, rows: slice | np.ndarray, vectors: np.ndarray) -> None:
        values = np.asarray(vectors, dtype=np.float32)
        peak = np.abs(values).max(axis=-1, keepdims=True)
        self.codes[rows] = np.rint(values * (127 / np.where(peak > 0, peak, 1)))

    def __getitem__(self, rows: np.ndarray) -> np.ndarray:
        """float32 unit vectors of the given rows (zero rows stay zero)."""
        values = self.codes[rows].astype(np.float32)
        norm = np.linalg.norm(values, axis=-1, keepdims=True)
        return values / np.where(norm > 0, norm, 1)

    def head(self, count: int) -> Int8Vectors:
        """The first ``count`` vectors, without a copy."""
        return Int8Vectors(self.codes[:count])


def vector_store(count: int, dim: int) -> np.ndarray | Int8Vectors:
    """Zeroed room for ``count`` embeddings: float16 rows, or int8 codes above ``QUANTISE_ABOVE``."""
    return Int8Vectors.zeros(count, dim) if count > QUANTISE_ABOVE else np.zeros((count, dim), dtype=np.float16)


@dataclass(frozen=True)
class Rows:
    """Rows ``ids`` of an (N, D) float16 or float32 matrix (or ``Int8Vectors``), read a few at a time as float32.

    Lets search run over the representatives of a scan without gathering a copy of their vectors.
    """

    matrix: np.ndarray | Int8Vectors
    ids: np.ndarray

    @classmethod
    def of(cls, matrix: np.ndarray | Int8Vectors) -> Rows:
        return cls(matrix, np.arange(len(matrix), dtype=np.int64))

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, rows: np.ndarray) -> np.ndarray:
        """float32 copies of the given rows (positions in ``ids``)."""
        return np.asarray(self.matrix[self.ids[rows]], dtype=np.float32)


@dataclass(frozen=True)
class Neighbours:
    """Row i: the ids of i's nearest neighbours (best first) and their cosine similarities.

    A row with fewer real neighbours than columns pads with similarity ``-inf``.
    """

    index: np.ndarray
    similarity: np.ndarray


def exact_nearest(vectors: np.ndarray | Int8Vectors | Rows, k: int, rows: np.ndarray | None = None) -> Neighbours:
    """Blocked brute force over all vectors (or only for ``rows``): memory stays at one chunk of vectors and
    one block of similarities.

    With ``rows``, row i of the result holds the neighbours of vector ``rows[i]``.
    """
    data = vectors if isinstance(vectors, Rows) else Rows.of(vectors)
    n = len(data)
    query_ids = np.arange(n, dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64)
    k = max(min(k, n - 1), 0)
    best_index = np.zeros((len(query_ids), k), dtype=np.int64)
    best_sim = np.full((len(query_ids), k), -np.inf, dtype=np.float32)
    if k == 0:
        return Neighbours(best_index, best_sim)
    for start in range(0, n, _DATABASE_CHUNK):
        stored = data.take(np.arange(start, min(start + _DATABASE_CHUNK, n)))
        for lo in range(0, len(query_ids), _BLOCK):
            ids = query_ids[lo : lo + _BLOCK]
            block = data.take(ids) @ stored.T
            own = (ids >= start) & (ids < start + len(stored))
            block[np.flatnonzero(own), ids[own] - start] = -np.inf
            top = np.argpartition(block, -min(k, block.shape[1]), axis=1)[:, -k:]
            merged_sim = np.concatenate([best_sim[lo : lo + _BLOCK], np.take_along_axis(block, top, axis=1)], axis=1)
            merged_index = np.concatenate([best_index[lo : lo + _BLOCK], top + start], axis=1)
            best_index[lo : lo + _BLOCK], best_sim[lo : lo + _BLOCK] = best_first(merged_index, merged_sim, k)
    return Neighbours(best_index, best_sim)


def best_first(index: np.ndarray, similarity: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's ``k`` most similar entries, most similar first."""
    top = np.argpartition(-similarity, k - 1, axis=1)[:, :k] if similarity.shape[1] > k else None
    if top is not None:
        index, similarity = np.take_along_axis(index, top, axis=1), np.take_along_axis(similarity, top, axis=1)
    order = np.argsort(-similarity, axis=1, kind="stable")
    return np.take_along_axis(index, order, axis=1), np.take_along_axis(similarity, order, axis=1)


def neighbour_pairs(
    neighbours: Neighbours, min_similarity: float, rows: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unique pairs ``a < b`` with similarity at or above ``min_similarity`` (``rows``: the ids of the
    result's rows, when it was computed for some vectors only)."""
    owners = np.arange(len(neighbours.index)) if rows is None else np.asarray(rows, dtype=np.int64)
    rows = np.repeat(owners, neighbours.index.shape[1])
    cols = neighbours.index.ravel()
    sims = neighbours.similarity.ravel()
    keep = sims >= min_similarity
    a, b, sims = np.minimum(rows, cols)[keep], np.maximum(rows, cols)[keep], sims[keep]
    key = a * (max(int(cols.max(initial=0)), int(owners.max(initial=0))) + 1) + b
    key, first = np.unique(key, return_index=True)
    return a[first], b[first], sims[first]
