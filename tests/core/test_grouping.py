"""Grouping policies on hand-made graphs, and regrouping from a stored graph."""

from __future__ import annotations

import numpy as np

from dedup_gui.core.graph import PairGraph, Thresholds
from dedup_gui.core.grouping import GroupPolicy, make_groups


def _groups(n: int, edges: list[tuple[int, int]], policy: GroupPolicy) -> list[list[int]]:
    a = np.array([e[0] for e in edges], dtype=np.int64)
    b = np.array([e[1] for e in edges], dtype=np.int64)
    return sorted(g.tolist() for g in make_groups(n, a, b, np.ones(len(edges)), policy))


def test_chain_is_one_component_but_not_one_star_group() -> None:
    chain = [(0, 1), (1, 2), (2, 3)]  # A-B-C-D, A and D far apart
    assert _groups(4, chain, GroupPolicy.COMPONENTS) == [[0, 1, 2, 3]]
    star = _groups(4, chain, GroupPolicy.STAR)
    assert not any(0 in g and 3 in g for g in star)
    assert all(len(g) >= 2 for g in star)


def test_clique_stays_whole_under_star() -> None:
    clique = [(0, 1), (0, 2), (1, 2), (5, 6)]
    assert _groups(7, clique, GroupPolicy.STAR) == [[0, 1, 2], [5, 6]]


def test_star_centres_on_the_best_connected_member() -> None:
    hub = [(4, 0), (4, 1), (4, 2), (4, 3), (0, 1)]
    assert _groups(5, hub, GroupPolicy.STAR) == [[0, 1, 2, 3, 4]]


def test_every_star_member_matches_its_centre() -> None:
    rng = np.random.default_rng(3)
    a = rng.integers(0, 60, size=150)
    b = rng.integers(0, 60, size=150)
    keep = a != b
    a, b = a[keep], b[keep]
    edges = {(int(x), int(y)) for x, y in zip(a, b, strict=True)} | {
        (int(y), int(x)) for x, y in zip(a, b, strict=True)
    }
    groups = make_groups(60, a, b, np.ones(len(a)), GroupPolicy.STAR)
    seen: set[int] = set()
    for group in groups:
        members = set(group.tolist())
        assert not members & seen  # groups do not overlap
        seen |= members
        assert any(all(m == c or (c, m) in edges for m in members) for c in members)


def _graph() -> PairGraph:
    # files 0,1 identical; 2 near 0 at distance 3; 3 near 2 at distance 9; 4 alone
    representative = np.array([0, 0, 2, 3, 4])
    return PairGraph.build(
        representative,
        a=np.array([0, 2]),
        b=np.array([2, 3]),
        phash=np.array([3, 9], dtype=np.int16),
        dhash=np.array([4, 10], dtype=np.int16),
        variant=np.array([4, 0], dtype=np.int8),
    )


def test_threshold_regroups_from_the_stored_graph() -> None:
    graph = _graph()
    assert [g.members for g in graph.groups_at(Thresholds(hash_distance=0))] == [(0, 1)]
    assert [g.members for g in graph.groups_at(Thresholds(hash_distance=5))] == [(0, 1, 2)]
    loose = graph.groups_at(Thresholds(hash_distance=10), GroupPolicy.COMPONENTS)
    assert [g.members for g in loose] == [(0, 1, 2, 3)]


def test_pairs_within_explain_each_link() -> None:
    graph = _graph()
    group = graph.groups_at(Thresholds(hash_distance=5))[0]
    pairs = graph.pairs_within(group, Thresholds(hash_distance=5))
    assert {(p.a, p.b, p.same_bytes) for p in pairs} == {(0, 1, True), (0, 2, False)}
    near = next(p for p in pairs if not p.same_bytes)
    assert (near.hash_distance, near.dhash_distance, near.transform) == (3, 4, "mirrored")
