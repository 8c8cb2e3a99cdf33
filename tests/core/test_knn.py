"""Exact neighbour search: the true nearest, never itself, float16 storage read in chunks; unique pairs."""

from __future__ import annotations

import numpy as np
import pytest

from dedup_gui.core import knn
from dedup_gui.core.embedding import l2_normalise
from dedup_gui.core.knn import Neighbours, Rows, exact_nearest, neighbour_pairs
from dedup_gui.core.vector_index import nearest


def _clustered(n: int, dim: int = 64, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n // 10, dim))
    return l2_normalise(
        (centres[rng.integers(0, len(centres), n)] + 0.5 * rng.normal(size=(n, dim))).astype(np.float32)
    )


def _brute_force(vectors: np.ndarray, k: int) -> np.ndarray:
    similarity = vectors.astype(np.float32) @ vectors.astype(np.float32).T
    np.fill_diagonal(similarity, -np.inf)
    return np.argsort(-similarity, axis=1)[:, :k]


def test_exact_search_finds_the_true_nearest_and_never_itself() -> None:
    vectors = _clustered(300)
    found = exact_nearest(vectors, 5)
    assert np.array_equal(np.sort(found.index, axis=1), np.sort(_brute_force(vectors, 5), axis=1))
    assert not np.any(found.index == np.arange(300)[:, None])
    assert np.all(np.diff(found.similarity, axis=1) <= 1e-6)  # best first


def test_exact_search_over_float16_rows_in_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stored vectors read a chunk at a time (here 64) give the same neighbours as one big product."""
    monkeypatch.setattr(knn, "_DATABASE_CHUNK", 64)
    vectors = _clustered(400).astype(np.float16)
    picked = np.arange(0, 400, 2)  # a subset, as the search passes representatives
    queries = np.array([0, 7, 150, 199])
    found = exact_nearest(Rows(vectors, picked), 6, queries)
    expected = _brute_force(vectors[picked], 6)[queries]
    assert np.array_equal(np.sort(found.index, axis=1), np.sort(expected, axis=1))
    assert not np.any(found.index == queries[:, None])


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


def test_int8_codes_keep_cosines_within_a_thousandth() -> None:
    """Non-negative, mean-dominated vectors like pooled CNN features; zero rows (files not embedded) stay zero."""
    rng = np.random.default_rng(3)
    vectors = l2_normalise((0.5 + rng.random((300, 1280)) ** 3).astype(np.float32))
    vectors[7] = 0
    store = knn.Int8Vectors.zeros(300, 1280)
    store[:150] = vectors[:150]
    store[150:] = vectors[150:].astype(np.float16)
    decoded = store[np.arange(300)]
    assert store.codes.dtype == np.int8 and np.abs(store.codes).max() == 127
    assert not decoded[7].any()
    error = np.abs(decoded @ decoded.T - vectors @ vectors.T)
    assert error.max() < 1e-3
    assert np.array_equal(store.head(10).codes, store.codes[:10])


def test_exact_search_over_int8_codes_finds_the_float32_neighbours() -> None:
    vectors = _clustered(400, dim=256)
    store = knn.Int8Vectors.zeros(400, 256)
    store[:] = vectors
    found = exact_nearest(store, 5)
    truth = _brute_force(vectors, 5)
    agreement = np.mean([len(set(f) & set(t)) / 5 for f, t in zip(found.index.tolist(), truth.tolist(), strict=True)])
    assert agreement > 0.99


def test_large_collections_get_int8_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    assert knn.vector_store(10, 4).dtype == np.float16
    monkeypatch.setattr(knn, "QUANTISE_ABOVE", 5)
    assert isinstance(knn.vector_store(10, 4), knn.Int8Vectors)
