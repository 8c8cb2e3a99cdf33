"""Multi-index search must return exactly the pairs a brute-force comparison finds."""

from __future__ import annotations

import numpy as np
import pytest

from dedup_gui.core import hamming_index
from dedup_gui.core.hamming_index import choose_layout, find_pairs


def _brute_force(stored: np.ndarray, queries: np.ndarray, radius: int) -> set[tuple[int, int]]:
    distances = np.bitwise_count(queries[:, :, None] ^ stored[None, None, :]).min(axis=1)
    distances = np.minimum(distances, distances.T)
    np.fill_diagonal(distances, 99)
    a, b = np.nonzero(np.triu(distances <= radius))
    return set(zip(a.tolist(), b.tolist(), strict=True))


def _flip_bits(values: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    out = values.copy()
    for k in range(len(out)):
        for bit in rng.choice(64, size=count, replace=False):
            out[k] ^= np.uint64(1) << np.uint64(bit)
    return out


@pytest.mark.parametrize("radius", [0, 3, 5, 8, 11])
def test_matches_brute_force_with_planted_near_pairs(radius: int) -> None:
    rng = np.random.default_rng(radius)
    base = rng.integers(0, 2**63, size=300, dtype=np.uint64) * np.uint64(2)
    base[150:] = _flip_bits(base[:150], count=radius // 2 + 1, rng=rng)
    queries = np.stack([base] + [rng.integers(0, 2**63, size=300, dtype=np.uint64) for _ in range(7)], axis=1)
    queries[10, 4] = base[200]  # one pair that only a non-upright variant finds

    found = find_pairs(base, queries, radius)

    expected = _brute_force(base, queries, radius)
    assert set(zip(found.a.tolist(), found.b.tolist(), strict=True)) == expected
    assert (10, 200) in expected
    assert np.all(found.distance <= radius)
    assert np.all(found.a < found.b)


def test_reports_the_variant_that_matched() -> None:
    stored = np.array([0, 2**40 - 1, 0xFFFF_0000_FFFF_0000], dtype=np.uint64)
    queries = np.array(
        [
            [0, 5, 6, 7, 8, 9, 10, 11],
            [1, 2, 3, 0xFFFF_0000_FFFF_0000, 4, 5, 6, 7],
            [12, 13, 14, 15, 16, 17, 18, 19],
        ],
        dtype=np.uint64,
    )
    found = find_pairs(stored, queries, radius=0)
    assert list(zip(found.a.tolist(), found.b.tolist(), found.variant.tolist(), strict=True)) == [(1, 2, 3)]


def test_fewer_than_two_hashes_give_no_pairs() -> None:
    one = np.array([7], dtype=np.uint64)
    assert len(find_pairs(one, one[:, None], 8)) == 0


@pytest.mark.parametrize("chunks", [3, 4, 5, 9])
def test_every_layout_finds_the_same_pairs(chunks: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(chunks)
    base = rng.integers(0, 2**63, size=400, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    base[200:] = _flip_bits(base[:200], count=int(rng.integers(0, 9)), rng=rng)
    queries = np.stack([base] + [rng.integers(0, 2**63, size=400, dtype=np.uint64) for _ in range(3)], axis=1)
    layout = hamming_index.Layout(hamming_index._even_widths(chunks), 8 // chunks)
    monkeypatch.setattr(hamming_index, "choose_layout", lambda count, radius: layout)

    found = find_pairs(base, queries, 8)

    assert set(zip(found.a.tolist(), found.b.tolist(), strict=True)) == _brute_force(base, queries, 8)
    assert len(found) >= 200


def test_layout_widens_with_the_collection() -> None:
    small, large = choose_layout(1_000, 8), choose_layout(1_000_000, 8)
    assert max(large.widths) > max(small.widths)
    for layout in (small, large):
        assert sum(layout.widths) == 64
        assert max(layout.widths) <= hamming_index.MAX_CHUNK_BITS
        assert (layout.flips + 1) * len(layout.widths) > 8  # the pigeonhole bound still holds
