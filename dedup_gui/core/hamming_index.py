"""Find all pairs of 64-bit hashes within a Hamming radius without comparing every pair.

Multi-index hashing: the 64 bits are cut into four 16-bit chunks. Two hashes at distance <= r differ in at
most ``r // 4`` bits in at least one chunk (pigeonhole), so it is enough to look up, per chunk, the buckets
of every chunk value within that many bit flips. All lookups are vectorised with numpy.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from dedup_gui.core.hashes import hamming

CHUNKS = 4
CHUNK_BITS = 16
_QUERY_BLOCK = 1 << 17


@dataclass(frozen=True)
class HammingPairs:
    """Pairs ``a < b`` with the smallest distance over the query variants and the variant that gave it."""

    a: np.ndarray
    b: np.ndarray
    distance: np.ndarray
    variant: np.ndarray

    def __len__(self) -> int:
        return len(self.a)


def _flip_masks(max_flips: int) -> np.ndarray:
    masks = [0]
    for flips in range(1, max_flips + 1):
        for bits in combinations(range(CHUNK_BITS), flips):
            masks.append(sum(1 << bit for bit in bits))
    return np.array(masks, dtype=np.int64)


def _chunk(values: np.ndarray, index: int) -> np.ndarray:
    return ((values >> np.uint64(index * CHUNK_BITS)) & np.uint64(0xFFFF)).astype(np.int64)


def find_pairs(stored: np.ndarray, queries: np.ndarray, radius: int, rows: np.ndarray | None = None) -> HammingPairs:
    """All pairs (i, j), i < j, with ``min_v hamming(queries[i, v], stored[j]) <= radius`` (either way round).

    Args:
        stored: (N,) uint64, each image's upright hash.
        queries: (N, V) uint64, each image's hash under each of V variants (column 0 upright).
        radius: largest Hamming distance kept.
        rows: if given, only pairs with at least one end in ``rows`` (the images added since a previous
            search), at a cost proportional to their number.
    """
    n = len(stored)
    everyone = np.arange(n, dtype=np.int64)
    if n < 2 or (rows is not None and len(rows) == 0):
        return _best_per_pair([], [], [], [], n)
    found: tuple[list[np.ndarray], ...] = ([], [], [], [])
    if rows is None:
        _probe(stored, everyone, queries, everyone, radius, found)
    else:
        rows = np.asarray(rows, dtype=np.int64)
        _probe(stored, everyone, queries[rows], rows, radius, found)  # new images' variants vs everyone
        _probe(stored[rows], rows, queries, everyone, radius, found)  # everyone's variants vs new images
    return _best_per_pair(*found, n)


def _probe(
    stored: np.ndarray,
    stored_ids: np.ndarray,
    queries: np.ndarray,
    query_ids: np.ndarray,
    radius: int,
    found: tuple[list[np.ndarray], ...],
) -> None:
    """Append to ``found`` every (query id, stored id, distance, variant) within the radius."""
    masks = _flip_masks(radius // CHUNKS)
    flat_queries = queries.reshape(-1)
    query_owner = np.repeat(query_ids, queries.shape[1])
    query_variant = np.tile(np.arange(queries.shape[1], dtype=np.int8), len(query_ids))
    for c in range(CHUNKS):
        keys = _chunk(stored, c)
        order = np.argsort(keys, kind="stable")
        starts = np.searchsorted(keys[order], np.arange((1 << CHUNK_BITS) + 1))
        query_keys = _chunk(flat_queries, c)
        for mask in masks:
            for lo in range(0, len(flat_queries), _QUERY_BLOCK):
                probe = query_keys[lo : lo + _QUERY_BLOCK] ^ mask
                begin, end = starts[probe], starts[probe + 1]
                counts = end - begin
                if not counts.any():
                    continue
                q = np.repeat(np.arange(lo, lo + len(probe)), counts)
                offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
                position = order[np.repeat(begin, counts) + offsets]
                i, j = query_owner[q], stored_ids[position]
                keep = i != j
                q, i, j, position = q[keep], i[keep], j[keep], position[keep]
                d = hamming(flat_queries[q], stored[position])
                close = d <= radius
                for bucket, values in zip(found, (i[close], j[close], d[close], query_variant[q[close]]), strict=True):
                    bucket.append(values)


def _best_per_pair(
    found_i: list[np.ndarray],
    found_j: list[np.ndarray],
    found_d: list[np.ndarray],
    found_v: list[np.ndarray],
    n: int,
) -> HammingPairs:
    if not found_i:
        empty = np.empty(0, dtype=np.int64)
        return HammingPairs(empty, empty, empty.astype(np.int16), empty.astype(np.int8))
    i, j = np.concatenate(found_i), np.concatenate(found_j)
    d, v = np.concatenate(found_d), np.concatenate(found_v)
    a, b = np.minimum(i, j), np.maximum(i, j)
    key = a * n + b
    order = np.lexsort((v, d, key))
    key, d, v = key[order], d[order], v[order]
    first = np.ones(len(key), dtype=bool)
    first[1:] = key[1:] != key[:-1]
    key = key[first]
    return HammingPairs(key // n, key % n, d[first], v[first])
