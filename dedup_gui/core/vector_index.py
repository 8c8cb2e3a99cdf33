"""Approximate neighbour index for large collections: PCA-reduced vectors in hnswlib, kept beside the cache.

Full 1280-d float32 vectors of a million images would take 5 GB, so the graph index holds their projection
onto the top principal directions (fitted on a sample; numpy only), and each query's candidates are then
re-scored with the exact cosine of the full vectors: verdicts never see a reduced similarity. Items are labelled
by content digest, so the saved index serves any later scan: new contents are added, absent ones hidden.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from dedup_gui.core.knn import EXACT_LIMIT, QUANTISE_ABOVE, K, Neighbours, Rows, best_first, exact_nearest

INDEX_VERSION = 1
"""Bump when the projection or the file layout changes, so saved indexes are rebuilt."""
FIT_SAMPLE = 20000
INDEX_BUDGET = 3 << 29
"""Bytes the graph index may take (1.5 GiB): past it a collection keeps fewer dimensions (see ``params_for``)."""
CROWDED_DIMS = 320
"""Dimensions for collections past ``QUANTISE_ABOVE``: their neighbours lie closer together, so projection
errors reorder more of them (measured on a million synthetic embeddings, exact search in the projection keeps
0.977 of the true 10 nearest among 60 candidates at 256 dimensions, 0.989 at 320), and their int8 vector
store leaves the memory for it."""
_CHUNK = 8192
_QUERY_CHUNK = 256
"""Queries re-scored at once: their candidates' full vectors are gathered as float32."""


@dataclass(frozen=True)
class IndexParams:
    """Chosen by measured recall@10 against exact full-dimension search (see bench_knn)."""

    dims: int = 256
    """Principal directions kept in the graph index."""
    m: int = 16
    ef_construction: int = 100
    ef: int = 64
    candidates: int = 60
    """Neighbours fetched from the reduced index per query, then re-scored with full vectors."""


def params_for(count: int) -> IndexParams:
    """The parameters for ``count`` vectors: the defaults, ``CROWDED_DIMS`` dimensions past
    ``QUANTISE_ABOVE``, and 64 fewer at a time (down to 128) while the index would pass ``INDEX_BUDGET``."""
    params = IndexParams()
    dims = CROWDED_DIMS if count > QUANTISE_ABOVE else params.dims
    while dims > 128 and count * (4 * dims + 8 * params.m + 16) > INDEX_BUDGET:
        dims -= 64
    return replace(params, dims=dims)


class VectorIndex:
    """hnswlib over reduced vectors; label i is the content with digest ``digests[i]``."""

    def __init__(self, params: IndexParams, components: np.ndarray, index: object, digests: np.ndarray) -> None:
        self.params = params
        self.components = components
        self.index = index
        self.digests = digests
        self.hidden = np.zeros(len(digests), dtype=bool)

    @classmethod
    def create(cls, params: IndexParams, vectors: Rows, capacity: int, seed: int = 0) -> VectorIndex:
        """An empty index whose projection is fitted on a sample of ``vectors``."""
        import hnswlib

        sample = np.sort(np.random.default_rng(seed).permutation(len(vectors))[:FIT_SAMPLE])
        components = principal_directions(vectors.take(sample), params.dims)
        index = hnswlib.Index(space="ip", dim=components.shape[1])
        index.init_index(max_elements=max(capacity, 1), M=params.m, ef_construction=params.ef_construction)
        return cls(params, components, index, np.empty(0, "S64"))

    def project(self, vectors: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(vectors @ self.components)

    def add(self, vectors: Rows, rows: np.ndarray, digests: np.ndarray) -> None:
        """Add ``vectors`` rows ``rows`` (a chunk at a time), labelled by their ``digests``."""
        first = len(self.digests)
        needed = first + len(rows)
        if needed > self.index.get_max_elements():
            self.index.resize_index(max(needed, int(1.25 * self.index.get_max_elements())))
        for lo in range(0, len(rows), _CHUNK):
            chunk = rows[lo : lo + _CHUNK]
            self.index.add_items(self.project(vectors.take(chunk)), np.arange(first + lo, first + lo + len(chunk)))
        self.digests = np.concatenate([self.digests, np.asarray(digests, dtype="S64")])
        self.hidden = np.concatenate([self.hidden, np.zeros(len(rows), dtype=bool)])

    def show_only(self, present: np.ndarray) -> bool:
        """Hide the labels whose ``present`` is False from queries (and show the others); True if any changed."""
        changed = np.flatnonzero(present == self.hidden)
        for label in changed.tolist():
            if present[label]:
                self.index.unmark_deleted(label)
            else:
                self.index.mark_deleted(label)
        self.hidden = ~present
        return len(changed) > 0

    def query(self, vectors: Rows, rows: np.ndarray, row_of_label: np.ndarray, k: int = K) -> Neighbours:
        """The k nearest neighbours of ``vectors`` rows ``rows`` among the shown labels, with exact cosines.

        ``row_of_label`` maps each label to its row of ``vectors``.
        """
        shown = int((~self.hidden).sum())
        fetch = min(max(self.params.candidates, k) + 1, shown)
        self.index.set_ef(max(self.params.ef, fetch))
        index = np.zeros((len(rows), k), dtype=np.int64)
        similarity = np.full((len(rows), k), -np.inf, dtype=np.float32)
        for lo in range(0, len(rows), _QUERY_CHUNK):
            queries = vectors.take(rows[lo : lo + _QUERY_CHUNK])
            labels, _ = self.index.knn_query(self.project(queries), k=fetch)
            found = row_of_label[labels.astype(np.int64)]
            full = vectors.take(found.ravel()).reshape(*found.shape, -1)
            cosine = np.einsum("qd,qcd->qc", queries, full)
            cosine[found == rows[lo : lo + _QUERY_CHUNK, None]] = -np.inf
            top_index, top_sim = best_first(found, cosine, min(k, fetch))
            index[lo : lo + len(queries), : top_index.shape[1]] = top_index
            similarity[lo : lo + len(queries), : top_sim.shape[1]] = top_sim
        return Neighbours(index, similarity)

    def save(self, path: Path, key: str) -> None:
        """Write the index and its metadata (with the index file's checksum), each replaced atomically."""
        graph_file, meta_file = _files(path)
        self.index.save_index(f"{graph_file}.tmp")
        os.replace(f"{graph_file}.tmp", graph_file)
        with open(f"{meta_file}.tmp", "wb") as out:
            np.savez(
                out,
                key=np.array(_full_key(key, self.params)),
                checksum=np.array(_checksum(graph_file)),
                components=self.components,
                digests=self.digests,
                hidden=self.hidden,
            )
        os.replace(f"{meta_file}.tmp", meta_file)

    @classmethod
    def load(cls, path: Path, key: str, params: IndexParams, capacity: int) -> VectorIndex | None:
        """The saved index if it was made with this key and parameters and is intact, else None."""
        import hnswlib

        graph_file, meta_file = _files(path)
        try:
            with np.load(meta_file, allow_pickle=False) as meta:
                if str(meta["key"]) != _full_key(key, params) or str(meta["checksum"]) != _checksum(graph_file):
                    return None
                components, digests, hidden = meta["components"], meta["digests"], meta["hidden"]
            index = hnswlib.Index(space="ip", dim=components.shape[1])
            index.load_index(str(graph_file), max_elements=max(capacity, len(digests)))
            if index.get_current_count() != len(digests) or len(hidden) != len(digests):
                return None
        except (OSError, ValueError, KeyError, RuntimeError):
            return None
        loaded = cls(params, components.astype(np.float32), index, digests)
        loaded.hidden = hidden.astype(bool)
        return loaded


def principal_directions(sample: np.ndarray, dims: int) -> np.ndarray:
    """(D, min(D, dims)) top eigenvectors of the sample's uncentred second moment.

    Uncentred, so the inner product of two projections approximates the inner product of the vectors
    themselves (the common mean direction is among the kept ones), which is what the index ranks by.
    """
    moment = sample.T @ sample / max(len(sample), 1)
    _, vectors = np.linalg.eigh(moment.astype(np.float64))
    return np.ascontiguousarray(vectors[:, ::-1][:, :dims], dtype=np.float32)


def nearest(vectors: np.ndarray | Rows, k: int = K, params: IndexParams | None = None) -> Neighbours:
    """The k nearest other vectors of every vector: exact up to ``EXACT_LIMIT``, else through a fresh
    in-memory index (always with ``params``)."""
    data = vectors if isinstance(vectors, Rows) else Rows.of(vectors)
    if (len(data) <= EXACT_LIMIT and params is None) or len(data) < 2 or k < 1:
        return exact_nearest(data, k)
    params = params or IndexParams()
    every = np.arange(len(data), dtype=np.int64)
    index = VectorIndex.create(params, data, len(data))
    index.add(data, every, np.empty(len(data), dtype="S64"))
    return index.query(data, every, every, min(k, max(len(data) - 1, 0)))


def _files(path: Path) -> tuple[Path, Path]:
    return path.with_name(path.name + ".hnsw"), path.with_name(path.name + ".npz")


def _full_key(key: str, params: IndexParams) -> str:
    return f"{key}|v{INDEX_VERSION}|{params}"


def _checksum(path: Path) -> str:
    """BLAKE2b of the index file: a damaged file is rebuilt instead of handed to hnswlib's loader."""
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as source:
        while block := source.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()
