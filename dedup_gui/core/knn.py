"""k-nearest-neighbour graph of unit-length embeddings: exact for small sets, HNSW for large ones.

Each image keeps its ``k`` nearest neighbours with their cosine similarity; the pair graph stores those
edges, so a new cosine threshold regroups from them without any new query.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

K = 10
EXACT_LIMIT = 20000
"""Up to this many vectors a blocked numpy search is exact and faster than building an HNSW index."""
_BLOCK = 1024


@dataclass(frozen=True)
class HnswParams:
    """Index parameters; chosen by measured recall against exact search (see the benchmarks)."""

    m: int = 16
    ef_construction: int = 100
    ef: int = 64


@dataclass(frozen=True)
class Neighbours:
    """Row i: the ids of i's nearest neighbours (best first) and their cosine similarities."""

    index: np.ndarray
    similarity: np.ndarray


def nearest(vectors: np.ndarray, k: int = K, params: HnswParams | None = None) -> Neighbours:
    """The k nearest other vectors of every vector (fewer when there are fewer vectors)."""
    k = min(k, len(vectors) - 1)
    if k <= 0:
        empty = np.empty((len(vectors), 0))
        return Neighbours(empty.astype(np.int64), empty.astype(np.float32))
    if len(vectors) <= EXACT_LIMIT and params is None:
        return exact_nearest(vectors, k)
    return hnsw_nearest(vectors, k, params or HnswParams())


def exact_nearest(vectors: np.ndarray, k: int, rows: np.ndarray | None = None) -> Neighbours:
    """Blocked brute force over all vectors (or only for ``rows``): memory stays at one block of similarities.

    With ``rows``, row i of the result holds the neighbours of ``vectors[rows[i]]``.
    """
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    query_ids = np.arange(len(vectors)) if rows is None else np.asarray(rows, dtype=np.int64)
    k = min(k, len(vectors) - 1)
    index = np.empty((len(query_ids), max(k, 0)), dtype=np.int64)
    similarity = np.empty((len(query_ids), max(k, 0)), dtype=np.float32)
    if k <= 0:
        return Neighbours(index, similarity)
    for lo in range(0, len(query_ids), _BLOCK):
        ids = query_ids[lo : lo + _BLOCK]
        block = vectors[ids] @ vectors.T
        block[np.arange(len(ids)), ids] = -np.inf
        top = np.argpartition(block, -k, axis=1)[:, -k:]
        top_sim = np.take_along_axis(block, top, axis=1)
        order = np.argsort(-top_sim, axis=1)
        index[lo : lo + len(ids)] = np.take_along_axis(top, order, axis=1)
        similarity[lo : lo + len(ids)] = np.take_along_axis(top_sim, order, axis=1)
    return Neighbours(index, similarity)


def hnsw_nearest(vectors: np.ndarray, k: int, params: HnswParams) -> Neighbours:
    """Approximate search with hnswlib (inner product on unit vectors is the cosine)."""
    import hnswlib

    index = hnswlib.Index(space="ip", dim=vectors.shape[1])
    index.init_index(max_elements=len(vectors), M=params.m, ef_construction=params.ef_construction)
    index.add_items(np.ascontiguousarray(vectors, dtype=np.float32), np.arange(len(vectors)))
    index.set_ef(max(params.ef, k + 1))
    labels, distances = index.knn_query(vectors, k=k + 1)
    similarity = 1.0 - distances
    not_self = labels != np.arange(len(vectors))[:, None]
    # Drop each row's own label (or the last column when the row missed itself).
    keep = np.where(not_self.all(axis=1)[:, None], np.arange(k + 1) < k, not_self)
    return Neighbours(
        labels[keep].reshape(len(vectors), k).astype(np.int64),
        similarity[keep].reshape(len(vectors), k).astype(np.float32),
    )


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
