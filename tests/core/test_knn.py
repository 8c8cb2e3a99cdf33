"""Neighbour search: the HNSW index agrees with exact search; pairs are unique and thresholded."""

from __future__ import annotations

import numpy as np

from dedup_gui.core.embedding import l2_normalise
from dedup_gui.core.knn import HnswParams, Neighbours, exact_nearest, hnsw_nearest, nearest, neighbour_pairs


def _clustered(n: int, dim: int = 64, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n // 10, dim))
    return l2_normalise(
        (centres[rng.integers(0, len(centres), n)] + 0.5 * rng.normal(size=(n, dim))).astype(np.float32)
    )


def test_exact_search_finds_the_true_nearest_and_never_itself() -> None:
    vectors = _clustered(300)
    found = exact_nearest(vectors, 5)
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, -np.inf)
    expected = np.argsort(-similarity, axis=1)[:, :5]
    assert np.array_equal(np.sort(found.index, axis=1), np.sort(expected, axis=1))
    assert not np.any(found.index == np.arange(300)[:, None])
    assert np.all(np.diff(found.similarity, axis=1) <= 1e-6)  # best first


def test_hnsw_recall_against_exact_search() -> None:
    vectors = _clustered(3000)
    exact = exact_nearest(vectors, 10)
    approx = hnsw_nearest(vectors, 10, HnswParams())
    recall = np.mean([len(set(exact.index[i]) & set(approx.index[i])) / 10 for i in range(len(vectors))])
    assert recall >= 0.99
    assert not np.any(approx.index == np.arange(len(vectors))[:, None])


def test_nearest_handles_tiny_sets() -> None:
    assert nearest(_clustered(10)[:1]).index.shape == (1, 0)
    assert nearest(_clustered(10)[:3]).index.shape == (3, 2)


def test_neighbour_pairs_are_unique_and_above_the_floor() -> None:
    neighbours = Neighbours(
        index=np.array([[1, 2], [0, 2], [0, 1]]),
        similarity=np.array([[0.9, 0.5], [0.9, 0.7], [0.5, 0.7]], dtype=np.float32),
    )
    a, b, sim = neighbour_pairs(neighbours, 0.6)
    pairs = sorted(zip(a.tolist(), b.tolist(), [round(float(s), 2) for s in sim], strict=True))
    assert pairs == [(0, 1, 0.9), (1, 2, 0.7)]
