"""Grouping policies on hand-made and random graphs, checked against plain one-node-at-a-time references."""

from __future__ import annotations

import subprocess
import sys
from collections import deque

import numpy as np
import pytest

from dedup_gui.core.graph import PairGraph, Thresholds, explain
from dedup_gui.core.grouping import (
    SEQUENTIAL_EDGES,
    WEIGHT_SCALE,
    GroupPolicy,
    _local_best,
    connected_components,
    group_labels,
    keep_apart,
    unique_edges,
)
from dedup_gui.core.model import Method


def _as_lists(labels: np.ndarray) -> list[list[int]]:
    groups: dict[int, list[int]] = {}
    for node, label in enumerate(labels.tolist()):
        if label >= 0:
            groups.setdefault(label, []).append(node)
    return sorted(groups.values())


def _groups(n: int, edges: list[tuple[int, int]], policy: GroupPolicy) -> list[list[int]]:
    a = np.array([e[0] for e in edges], dtype=np.int64)
    b = np.array([e[1] for e in edges], dtype=np.int64)
    return _as_lists(group_labels(n, a, b, np.ones(len(edges)), policy))


def _random_graph(
    rng: np.random.Generator, n: int, edges: int, *, tied: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unique undirected edges with weights that are either float32 cosines or a few hash-like steps (ties)."""
    a, b = rng.integers(0, n, edges), rng.integers(0, n, edges)
    keep = unique_edges(a, b)
    a, b = a[keep], b[keep]
    if tied:
        weight = 1.0 - rng.integers(0, 3, len(a)) / 64.0
    else:
        weight = rng.uniform(0.6, 1.0, len(a)).astype(np.float32).astype(np.float64)
    return a, b, weight


def _components_by_search(n: int, a: np.ndarray, b: np.ndarray) -> list[int]:
    """Reference: breadth-first search; each node labelled with the smallest node of its component."""
    links: list[list[int]] = [[] for _ in range(n)]
    for x, y in zip(a.tolist(), b.tolist(), strict=True):
        links[x].append(y)
        links[y].append(x)
    label = [-1] * n
    for start in range(n):  # ascending, so the first node reached is the smallest of its component
        if label[start] >= 0:
            continue
        label[start] = start
        queue = deque([start])
        while queue:
            for other in links[queue.popleft()]:
                if label[other] < 0:
                    label[other] = start
                    queue.append(other)
    return label


def _stars_one_at_a_time(n: int, a: np.ndarray, b: np.ndarray, weight: np.ndarray) -> list[list[int]]:
    """Reference greedy star cover, recounting every key from scratch before each pick: the image with the
    most ungrouped matches, then the highest summed similarity, then the smallest id, takes its matches."""
    links: dict[int, dict[int, float]] = {}
    for x, y, w in zip(a.tolist(), b.tolist(), weight.tolist(), strict=True):
        links.setdefault(x, {})[y] = w
        links.setdefault(y, {})[x] = w
    grouped: set[int] = set()
    groups = []
    while True:
        best = None
        for node in sorted(links):
            if node in grouped:
                continue
            free = [m for m in links[node] if m not in grouped]
            key = (len(free), sum(links[node][m] for m in free))
            if free and (best is None or key > best[0]):
                best = (key, node, free)
        if best is None:
            return sorted(groups)
        members = sorted([best[1], *best[2]])
        grouped.update(members)
        groups.append(members)


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


def test_equal_keys_go_to_the_smaller_id() -> None:
    # a path 0-1-2-3-4: 1, 2 and 3 tie on degree and strength; 1 wins, then 3 and 4 are what is left
    path = [(0, 1), (1, 2), (2, 3), (3, 4)]
    assert _groups(5, path, GroupPolicy.STAR) == [[0, 1, 2], [3, 4]]


def test_unique_edges_drops_repeats_reversals_and_loops() -> None:
    a = np.array([0, 1, 2, 0, 3])
    b = np.array([1, 0, 2, 1, 4])
    assert unique_edges(a, b).tolist() == [True, False, False, False, True]


@pytest.mark.parametrize("seed", range(6))
def test_components_match_a_breadth_first_search(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 3000))
    edges = int(rng.integers(0, 2 * n))  # from scattered pairs to one giant component
    a, b = rng.integers(0, n, edges), rng.integers(0, n, edges)  # repeats and loops too: harmless here
    assert connected_components(n, a, b).tolist() == _components_by_search(n, a, b)


def test_components_of_a_long_shuffled_path() -> None:
    rng = np.random.default_rng(7)
    order = rng.permutation(5000)
    a, b = order[:-1], order[1:]
    assert connected_components(5000, a, b).tolist() == [0] * 5000


@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.parametrize("seed", range(5))
def test_star_cover_equals_the_one_at_a_time_greedy(seed: int, tied: bool) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(300, 700))
    a, b, weight = _random_graph(rng, n, int(rng.integers(n, 2 * n)), tied=tied)
    assert len(a) > SEQUENTIAL_EDGES  # enough to go through the parallel rounds
    got = _as_lists(group_labels(n, a, b, weight, GroupPolicy.STAR))
    assert got == _stars_one_at_a_time(n, a, b, weight)


@pytest.mark.parametrize("seed", range(8))
def test_a_parallel_round_takes_exactly_the_nodes_best_within_two_links(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 400))
    a, b, weight = _random_graph(rng, n, int(rng.integers(n // 2, 2 * n)), tied=bool(seed % 2))
    weight = np.rint(weight * WEIGHT_SCALE)
    links: list[set[int]] = [set() for _ in range(n)]
    strength = [0.0] * n
    for x, y, w in zip(a.tolist(), b.tolist(), weight.tolist(), strict=True):
        links[x].add(y)
        links[y].add(x)
        strength[x] += w
        strength[y] += w
    key = [(len(links[v]), strength[v], -v) for v in range(n)]
    expected = [
        v
        for v in range(n)
        if links[v] and all(key[v] > key[u] for x in links[v] | {v} for u in links[x] | {x} if u != v)
    ]
    assert _local_best(n, a, b, weight).tolist() == expected


def test_star_cover_of_tied_chains_equals_the_greedy() -> None:
    # long paths with equal weights: each parallel round settles only the front of each path
    starts = np.arange(0, 1200, 300)
    a = np.concatenate([np.arange(s, s + 299) for s in starts])
    b = a + 1
    weight = np.ones(len(a))
    got = _as_lists(group_labels(1200, a, b, weight, GroupPolicy.STAR))
    assert got == _stars_one_at_a_time(1200, a, b, weight)


@pytest.mark.parametrize("seed", range(5))
def test_star_groups_are_disjoint_stars_and_leave_no_match_behind(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 2000))
    a, b, weight = _random_graph(rng, n, int(rng.integers(n // 3, 3 * n)), tied=bool(seed % 2))
    links = {(x, y) for x, y in zip(a.tolist(), b.tolist(), strict=True)}
    links |= {(y, x) for x, y in links}
    groups = _as_lists(group_labels(n, a, b, weight, GroupPolicy.STAR))
    grouped = [m for g in groups for m in g]
    assert len(grouped) == len(set(grouped))  # disjoint
    for members in groups:
        assert len(members) >= 2
        assert any(all(m == c or (c, m) in links for m in members) for c in members)  # a centre matches all
    free = set(range(n)) - set(grouped)
    assert not any((x, y) in links for x in free for y in free if x < y)  # no two ungrouped images match


def test_components_policy_groups_each_component() -> None:
    rng = np.random.default_rng(11)
    a, b, weight = _random_graph(rng, 400, 300)
    labels = connected_components(400, a, b)
    expected: dict[int, list[int]] = {}
    for node in np.unique(np.concatenate([a, b])).tolist():
        expected.setdefault(int(labels[node]), []).append(node)
    assert _as_lists(group_labels(400, a, b, weight, GroupPolicy.COMPONENTS)) == sorted(expected.values())


def test_grouping_needs_no_scipy() -> None:
    code = (
        "import sys; sys.modules['scipy'] = None; import numpy as np;"
        "from dedup_gui.core.grouping import GroupPolicy, group_labels;"
        "print(group_labels(3, np.array([0]), np.array([2]), np.ones(1), GroupPolicy.STAR).tolist())"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[0, -1, 0]"


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


def _two_pairs(
    phash: tuple[int, int], dhash: tuple[int, int], cosine: tuple[float, float], crowding: tuple[float, ...]
) -> PairGraph:
    """Four files, two candidate pairs (0-1 and 2-3) with these scores."""
    return PairGraph.build(
        representative=np.arange(4),
        a=np.array([0, 2]),
        b=np.array([1, 3]),
        phash=np.array(phash, dtype=np.int16),
        dhash=np.array(dhash, dtype=np.int16),
        variant=np.zeros(2, dtype=np.int8),
        cosine=np.array(cosine, dtype=np.float32),
        method=Method.AUTO,
        crowding=np.array(crowding),
    )


def test_explain_says_what_the_graph_decided_at_the_edge_of_the_margin() -> None:
    """A cosine just above crowding + margin counts, one just below does not, however they round for display."""
    graph = _two_pairs(phash=(30, 0), dhash=(30, 0), cosine=(0.89982, 0.84998), crowding=(0.7998, 0.0, 0.75, 0.0))
    groups = graph.groups_at(Thresholds())
    assert [g.members for g in groups] == [(0, 1), (2, 3)]
    (by_cosine,) = graph.pairs_within(groups[0], Thresholds())
    (by_hash,) = graph.pairs_within(groups[1], Thresholds())
    assert explain(by_cosine) == "cosine 0.90 (look-alikes around 0.80)"
    assert explain(by_hash) == "hash distance 0"


def test_a_crowd_of_exact_copies_is_not_called_look_alikes() -> None:
    # every file in a crowd: both hashes must agree
    graph = _two_pairs(phash=(0, 2), dhash=(0, 3), cosine=(0.99, 0.97), crowding=(0.98,) * 4)
    same, alike = (graph.pairs_within(g, Thresholds())[0] for g in graph.groups_at(Thresholds()))
    assert explain(same) == "hash distance 0, dHash 0"
    assert explain(alike) == "hash distance 2, dHash 3 (look-alikes)"


def _bridged(apart: bool) -> PairGraph:
    """Image 0 (no colour) matches 1, 2 and 3; 1, 2 and 3 match each other in structure, and their colours
    tell them apart when ``apart``. Image 4 is a copy of 1."""
    pairs = [(0, 1, 0.95), (0, 2, 0.90), (0, 3, 0.85), (1, 2, 0.90), (1, 3, 0.90), (2, 3, 0.90), (1, 4, 0.99)]
    a, b, cosine = (np.array(column) for column in zip(*pairs, strict=True))
    return PairGraph.build(
        representative=np.arange(5),
        a=a,
        b=b,
        phash=np.full(len(a), 30, dtype=np.int16),
        dhash=np.full(len(a), 30, dtype=np.int16),
        variant=np.zeros(len(a), dtype=np.int8),
        cosine=cosine.astype(np.float32),
        apart=np.array([False, False, False, True, True, True, False]) & apart,
    )


@pytest.mark.parametrize("policy", list(GroupPolicy))
def test_images_kept_apart_never_share_a_group_even_through_a_bridge(policy: GroupPolicy) -> None:
    assert [g.members for g in _bridged(apart=False).groups_at(Thresholds(), policy)] == [(0, 1, 2, 3, 4)]
    graph = _bridged(apart=True)
    assert not graph.matching(Thresholds())[3:6].any()
    # 1 is the best connected (0, 4), its star takes both; 2 and 3 may not join each other
    assert [g.members for g in graph.groups_at(Thresholds(), policy)] == [(0, 1, 4)]
    restored = PairGraph.from_bytes(graph.to_bytes())
    assert restored.apart.tolist() == graph.apart.tolist()
    assert restored.candidates().tolist() == [0, 1, 2, 3, 4]  # 2 and 3 still match 0


def test_keep_apart_leaves_groups_without_an_apart_pair_alone() -> None:
    labels = np.array([0, 0, 0, 3, 3, -1])
    a, b, weight = np.array([0, 0, 3]), np.array([1, 2, 4]), np.array([0.9, 0.8, 0.9])
    assert keep_apart(labels, a, b, weight, np.array([3]), np.array([5])) is labels
    split = keep_apart(labels, a, b, weight, np.array([1]), np.array([2]))
    assert _as_lists(split) == [[0, 1], [3, 4]]  # the closer match stays with the centre
