"""Find all pairs of 64-bit hashes within a Hamming radius without comparing every pair.

Multi-index hashing: the 64 bits are cut into ``m`` chunks. Two hashes at distance <= r differ in at most
``r // m`` bits in at least one chunk (pigeonhole), so it is enough to look up, per chunk, the buckets of every
chunk value within that many bit flips. Wide chunks mean many flip patterns to look up but small buckets; narrow
chunks the reverse. The best width grows with the number of stored hashes (about log2 of it), so the layout is
chosen per search from a cost estimate. All lookups are vectorised with numpy.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations
from math import comb

import numpy as np

from dedup_gui.core.hashes import hamming

HASH_BITS = 64
MAX_CHUNK_BITS = 22
"""Widest chunk: its bucket sizes and starts take 48 MiB."""
CANDIDATE_COST = 3.0
"""Work of checking one candidate relative to one bucket lookup (fits the times measured on 20k-300k hashes)."""
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


@dataclass(frozen=True)
class Layout:
    """How the 64 bits are cut: chunk widths (low bits first) and the bit flips looked up in each chunk."""

    widths: tuple[int, ...]
    flips: int

    @property
    def offsets(self) -> tuple[int, ...]:
        return tuple(sum(self.widths[:c]) for c in range(len(self.widths)))


def choose_layout(stored_count: int, radius: int) -> Layout:
    """The chunking with the least expected work per query for ``stored_count`` uniformly spread hashes."""
    chunk_counts = range(-(-HASH_BITS // MAX_CHUNK_BITS), HASH_BITS + 1)
    layouts = [Layout(_even_widths(chunks), radius // chunks) for chunks in chunk_counts]
    return min(layouts, key=lambda layout: _expected_work(layout, stored_count))


def _expected_work(layout: Layout, stored_count: int) -> float:
    """Bucket lookups per query, plus the candidates they return (each dearer than a lookup)."""
    return sum(
        _lookups(width, layout.flips) * (1 + CANDIDATE_COST * stored_count / 2**width) for width in layout.widths
    )


def _even_widths(chunks: int) -> tuple[int, ...]:
    base, extra = divmod(HASH_BITS, chunks)
    return tuple(base + (1 if c >= chunks - extra else 0) for c in range(chunks))


def _lookups(width: int, flips: int) -> int:
    return sum(comb(width, k) for k in range(min(flips, width) + 1))


@lru_cache(maxsize=32)
def _flip_masks(width: int, flips: int) -> np.ndarray:
    masks = [0]
    for count in range(1, min(flips, width) + 1):
        for bits in combinations(range(width), count):
            masks.append(sum(1 << bit for bit in bits))
    return np.array(masks, dtype=np.int64)


def _chunk(values: np.ndarray, offset: int, width: int) -> np.ndarray:
    bits = values >> np.uint64(offset)
    bits &= np.uint64((1 << width) - 1)
    return bits.astype(np.int32)


def find_pairs(stored: np.ndarray, queries: np.ndarray, radius: int, rows: np.ndarray | None = None) -> HammingPairs:
    """All pairs (i, j), i < j, with ``min_v hamming(queries[i, v], stored[j]) <= radius`` (either way round).

    The variants are what is indexed and the upright hashes what is looked up: the same pairs as looking up
    every variant, with a V-th of the lookups (each returns V times the candidates, the cheaper side).

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
        _probe(queries, everyone, stored, everyone, radius, found)
    else:
        rows = np.asarray(rows, dtype=np.int64)
        _probe(queries[rows], rows, stored, everyone, radius, found)  # new images' variants vs everyone
        _probe(queries, everyone, stored[rows], rows, radius, found)  # everyone's variants vs new images
    return _best_per_pair(*found, n)


def _probe(
    variants: np.ndarray,
    variant_ids: np.ndarray,
    upright: np.ndarray,
    upright_ids: np.ndarray,
    radius: int,
    found: tuple[list[np.ndarray], ...],
) -> None:
    """Append to ``found`` every (variant owner, upright id, distance, variant) within the radius, indexing the
    (M, V) ``variants`` and looking up the ``upright`` hashes."""
    flat = variants.reshape(-1)
    owner = np.repeat(variant_ids, variants.shape[1])
    variant = np.tile(np.arange(variants.shape[1], dtype=np.int8), len(variant_ids))
    layout = choose_layout(len(flat), radius)
    for offset, width in zip(layout.offsets, layout.widths, strict=True):
        keys = _chunk(flat, offset, width)
        order = np.argsort(keys, kind="stable")
        sizes = np.bincount(keys, minlength=1 << width).astype(np.int32)
        starts = np.cumsum(sizes) - sizes
        query_keys = _chunk(upright, offset, width)
        for mask in _flip_masks(width, layout.flips):
            for lo in range(0, len(upright), _QUERY_BLOCK):
                probe = query_keys[lo : lo + _QUERY_BLOCK] ^ mask
                counts = sizes[probe]
                hit = np.flatnonzero(counts)  # most buckets are empty: look up only the others' starts
                if not len(hit):
                    continue
                counts, begin = counts[hit], starts[probe[hit]]
                q = np.repeat(lo + hit, counts)
                offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
                position = order[np.repeat(begin, counts) + offsets]
                i, j = owner[position], upright_ids[q]
                keep = i != j
                q, i, j, position = q[keep], i[keep], j[keep], position[keep]
                d = hamming(flat[position], upright[q])
                close = d <= radius
                for bucket, values in zip(found, (i[close], j[close], d[close], variant[position[close]]), strict=True):
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
