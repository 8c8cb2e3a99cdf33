"""The reduced neighbour index: recall against exact search on realistic vectors, and its saved file."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dedup_gui.core.knn import K, Rows, exact_nearest
from dedup_gui.core.vector_index import CROWDED_DIMS, INDEX_BUDGET, IndexParams, VectorIndex, nearest, params_for
from tests.benchmarks.bench_scale import synthetic_embeddings

SMALL = IndexParams(dims=32)


def _recall(truth: np.ndarray, found: np.ndarray) -> float:
    return float(np.mean([len(set(t) & set(f)) / truth.shape[1] for t, f in zip(truth, found, strict=True)]))


def _digests(ids: np.ndarray) -> np.ndarray:
    return np.array([f"{i:040x}".encode() for i in ids.tolist()], dtype="S64")


def test_reduced_index_recall_against_exact_full_dimension_search() -> None:
    """Default parameters on clustered 1280-d vectors with the spectrum of real embeddings and planted copies."""
    vectors = synthetic_embeddings(4000)
    sample = np.arange(0, 4000, 7)
    truth = exact_nearest(vectors, K, sample)
    found = nearest(vectors, K, IndexParams())
    assert _recall(truth.index, found.index[sample]) >= 0.97
    assert not np.any(found.index == np.arange(4000)[:, None])
    full = vectors.astype(np.float32)
    cosines = np.einsum("qd,qkd->qk", full[sample], full[found.index[sample]])
    assert np.allclose(found.similarity[sample], cosines, atol=1e-5)  # full-vector cosines, not reduced ones


def test_save_load_add_and_query_only_the_new(tmp_path: Path) -> None:
    vectors = Rows.of(synthetic_embeddings(1500, dim=256))
    old, new = np.arange(1200), np.arange(1200, 1500)
    built = VectorIndex.create(SMALL, vectors, 1200)
    built.add(vectors, old, _digests(old))
    built.save(tmp_path / "cache.knn", "model-a")

    loaded = VectorIndex.load(tmp_path / "cache.knn", "model-a", SMALL, 1500)
    assert loaded is not None and np.array_equal(loaded.digests, _digests(old))
    loaded.add(vectors, new, _digests(new))
    found = loaded.query(vectors, new, np.arange(1500))
    truth = exact_nearest(vectors, K, new)
    assert _recall(truth.index, found.index) >= 0.95
    assert np.any(found.index < 1200) and np.any(found.index >= 1200)  # old and new contents both answer


def test_hidden_labels_are_never_returned() -> None:
    vectors = Rows.of(synthetic_embeddings(800, dim=128))
    every = np.arange(800)
    index = VectorIndex.create(SMALL, vectors, 800)
    index.add(vectors, every, _digests(every))
    present = every % 3 != 0
    assert index.show_only(present)
    found = index.query(vectors, every[present], every)
    assert present[found.index].all()
    assert not index.show_only(present)  # nothing changed the second time


def test_another_key_or_parameters_or_a_damaged_file_load_as_nothing(tmp_path: Path) -> None:
    vectors = Rows.of(synthetic_embeddings(300, dim=64))
    every = np.arange(300)
    index = VectorIndex.create(SMALL, vectors, 300)
    index.add(vectors, every, _digests(every))
    index.save(tmp_path / "cache.knn", "model-a")
    assert VectorIndex.load(tmp_path / "cache.knn", "model-a", SMALL, 300) is not None
    assert VectorIndex.load(tmp_path / "cache.knn", "model-b", SMALL, 300) is None
    assert VectorIndex.load(tmp_path / "cache.knn", "model-a", IndexParams(dims=32, m=8), 300) is None
    assert VectorIndex.load(tmp_path / "elsewhere.knn", "model-a", SMALL, 300) is None

    graph_file = tmp_path / "cache.knn.hnsw"
    damaged = bytearray(graph_file.read_bytes())
    damaged[len(damaged) // 2 : len(damaged) // 2 + 64] = b"\xff" * 64
    graph_file.write_bytes(bytes(damaged))
    assert VectorIndex.load(tmp_path / "cache.knn", "model-a", SMALL, 300) is None
    (tmp_path / "cache.knn.npz").write_bytes(b"not an archive")
    assert VectorIndex.load(tmp_path / "cache.knn", "model-a", SMALL, 300) is None


def test_parameters_grow_with_crowding_and_shrink_to_the_memory_budget() -> None:
    def index_bytes(count: int, params: IndexParams) -> int:
        return count * (4 * params.dims + 8 * params.m + 16)

    assert params_for(100_000) == IndexParams()
    assert params_for(1_000_000).dims == CROWDED_DIMS and index_bytes(1_000_000, params_for(1_000_000)) < INDEX_BUDGET
    for count in (2_000_000, 3_000_000):
        assert params_for(count).dims < CROWDED_DIMS
        assert index_bytes(count, params_for(count)) <= INDEX_BUDGET or params_for(count).dims == 128
