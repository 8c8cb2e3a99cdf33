"""Regrouping a stored pair graph at many thresholds, against a plain reference built from the definitions."""

from __future__ import annotations

import numpy as np
import pytest

from dedup_gui.core.graph import CROWD_MARGIN, LOOKALIKE_COSINE, LOOKALIKE_HASH_DISTANCE, PairGraph, Thresholds
from dedup_gui.core.grouping import GroupPolicy
from dedup_gui.core.model import Method
from tests.core.test_grouping import _components_by_search, _stars_one_at_a_time

THRESHOLDS = [Thresholds(0, 0.99), Thresholds(4, 0.92), Thresholds(8, 0.75), Thresholds(11, 0.6)]


def _random_pair_graph(seed: int, method: Method) -> PairGraph:
    """Files with some identical copies; edges between representatives with hash distances and cosines."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(50, 600))
    representative = np.arange(n)
    copies = rng.choice(n, size=n // 8, replace=False)
    representative[copies] = rng.integers(0, n, len(copies))
    representative = np.minimum(representative, np.arange(n))
    while (representative[representative] != representative).any():  # a copy of a copy: the first of them
        representative = representative[representative]
    reps = np.flatnonzero(representative == np.arange(n))
    pairs = np.unique(np.sort(rng.choice(reps, size=(int(rng.integers(1, 2 * len(reps))), 2)), axis=1), axis=0)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    pairs = pairs[rng.permutation(len(pairs))]
    phash = rng.integers(0, 12, len(pairs)).astype(np.int16)
    dhash = rng.integers(0, 12, len(pairs)).astype(np.int16)
    cosine = crowding = None
    if method is not Method.HASH:
        cosine = rng.uniform(0.55, 1.0, len(pairs)).astype(np.float32)
        kind = rng.random(n)  # look-alikes, crowded, ordinary
        crowding = np.where(kind < 0.15, rng.uniform(0.9, 1.0, n), np.where(kind < 0.35, rng.uniform(0.7, 0.9, n), 0))
    variant = np.zeros(len(pairs), np.int8)
    return PairGraph.build(
        representative, pairs[:, 0], pairs[:, 1], phash, dhash, variant, cosine, method, crowding=crowding
    )


def _reference(graph: PairGraph, thresholds: Thresholds, policy: GroupPolicy) -> list[tuple[int, ...]]:
    """Groups by the definitions, one pair and one file at a time."""
    edges: dict[tuple[int, int], float] = {}
    for k in range(len(graph.a)):
        x, y = int(graph.a[k]), int(graph.b[k])
        cosine, phash, dhash = float(graph.cosine[k]), int(graph.phash[k]), int(graph.dhash[k])
        crowding = float(max(graph.crowding[x], graph.crowding[y]))
        if crowding >= LOOKALIKE_COSINE:  # either is a look-alike: both hashes within the stricter distance,
            # the cosine ignored
            by_hash = max(phash, dhash) <= min(thresholds.hash_distance, LOOKALIKE_HASH_DISTANCE)
            by_cosine = False
        else:  # the cosine counts where it stands out from the crowd
            by_hash = phash <= thresholds.hash_distance
            by_cosine = not np.isnan(cosine) and cosine >= max(thresholds.cosine, crowding + CROWD_MARGIN)
        passes = {Method.HASH: by_hash, Method.CNN: by_cosine}.get(graph.method, by_hash or by_cosine)
        if passes and x != y and (min(x, y), max(x, y)) not in edges:
            edges[min(x, y), max(x, y)] = 1.0 - int(graph.phash[k]) / 64.0 if np.isnan(cosine) else cosine
    a = np.array([e[0] for e in edges], dtype=np.int64)
    b = np.array([e[1] for e in edges], dtype=np.int64)
    if policy is GroupPolicy.STAR:
        rep_groups = _stars_one_at_a_time(graph.n, a, b, np.array(list(edges.values())))
    else:
        labels = _components_by_search(graph.n, a, b)
        touched = sorted({*a.tolist(), *b.tolist()})
        rep_groups = [[v for v in touched if labels[v] == label] for label in sorted({labels[v] for v in touched})]
    copies: dict[int, list[int]] = {}
    for file, rep in enumerate(graph.representative.tolist()):
        copies.setdefault(rep, []).append(file)
    grouped = {r for reps in rep_groups for r in reps}
    groups = [tuple(sorted(f for r in reps for f in copies[r])) for reps in rep_groups]
    groups += [tuple(files) for rep, files in copies.items() if rep not in grouped and len(files) > 1]
    return sorted(groups, key=lambda g: (-len(g), g[0]))


@pytest.mark.parametrize("method", [Method.AUTO, Method.HASH, Method.CNN])
@pytest.mark.parametrize("seed", range(4))
def test_groups_at_every_threshold_match_the_reference(seed: int, method: Method) -> None:
    graph = _random_pair_graph(seed, method)
    for thresholds in THRESHOLDS:  # one graph, many thresholds: what the graph keeps between calls is reused
        for policy in GroupPolicy:
            got = [g.members for g in graph.groups_at(thresholds, policy)]
            assert got == _reference(graph, thresholds, policy), (thresholds, policy)


def test_repeated_reversed_and_looped_edges_change_nothing() -> None:
    graph = _random_pair_graph(5, Method.AUTO)
    extra = np.arange(0, len(graph.a), 3)
    loops = graph.a[:4]
    noisy = PairGraph.build(
        graph.representative,
        np.concatenate([graph.a, graph.b[extra], loops]),
        np.concatenate([graph.b, graph.a[extra], loops]),
        np.concatenate([graph.phash, graph.phash[extra], np.zeros(4, np.int16)]),
        np.concatenate([graph.dhash, graph.dhash[extra], np.zeros(4, np.int16)]),
        np.concatenate([graph.variant, graph.variant[extra], np.zeros(4, np.int8)]),
        np.concatenate([graph.cosine, graph.cosine[extra], np.ones(4, np.float32)]),
        Method.AUTO,
        crowding=graph.crowding,
    )
    for thresholds in THRESHOLDS:
        assert noisy.groups_at(thresholds) == graph.groups_at(thresholds)


def test_a_graph_read_back_from_the_cache_regroups_the_same() -> None:
    graph = _random_pair_graph(6, Method.AUTO)
    before = graph.groups_at(THRESHOLDS[2])
    again = PairGraph.from_bytes(graph.to_bytes())
    assert again.groups_at(THRESHOLDS[2]) == before
    assert again.lookalike.any() and np.array_equal(again.crowding, graph.crowding)


def test_copies_alone_make_their_own_group_and_join_their_representative() -> None:
    # files 0,3 identical, 1,4,5 identical; 1~2 match; nothing else
    graph = PairGraph.build(
        np.array([0, 1, 2, 0, 1, 1]),
        a=np.array([1]),
        b=np.array([2]),
        phash=np.array([2], dtype=np.int16),
        dhash=np.array([2], dtype=np.int16),
        variant=np.array([0], dtype=np.int8),
    )
    assert [g.members for g in graph.groups_at(Thresholds(hash_distance=4))] == [(1, 2, 4, 5), (0, 3)]
    assert [g.members for g in graph.groups_at(Thresholds(hash_distance=1))] == [(1, 4, 5), (0, 3)]


@pytest.mark.parametrize("seed", range(3))
def test_candidates_hold_every_file_any_threshold_groups(seed: int) -> None:
    hashed = _random_pair_graph(seed, Method.HASH)  # no look-alikes: the loosest threshold takes every edge
    components = hashed.groups_at(Thresholds(hash_distance=64), GroupPolicy.COMPONENTS)
    grouped = sorted(m for g in components for m in g.members)
    assert hashed.candidates().tolist() == grouped
    assert len(grouped) < hashed.n  # some files stay alone, so the test tells the two apart
    graph = _random_pair_graph(seed, Method.AUTO)
    candidates = set(graph.candidates().tolist())
    for thresholds in THRESHOLDS:
        for policy in GroupPolicy:
            assert {m for g in graph.groups_at(thresholds, policy) for m in g.members} <= candidates
