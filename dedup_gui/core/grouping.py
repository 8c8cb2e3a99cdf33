"""Cut a graph of matching pairs into groups, with a policy that keeps chains from merging unlike images.

Connected components put A and D together when A~B~C~D even if A and D look nothing alike; at scale such
chains make huge mixed groups. The default "star" policy makes every group a centre image plus images that
match the centre directly, so every member is close to one image of its group.

Regrouping runs on every threshold change over graphs of up to millions of files, so everything here works
on whole arrays (numpy only: the app does not depend on scipy); only what is left of the star cover after a
few parallel rounds runs one node at a time.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from enum import Enum

import numpy as np

WEIGHT_SCALE = 2.0**32
"""Similarities are counted in steps of 2**-32, as whole numbers in float64, so summed strengths are exact in
any order (up to 2**21 matches per image) and equal strengths tie exactly, then the smaller node id wins.
Float32 cosines of magnitude 2**-8 or more, and hash-derived weights, are multiples of that step already."""

SEQUENTIAL_EDGES = 256
"""Finish the star cover one node at a time once this few edges remain: cheaper than another array round."""

SLOW_ROUND = 0.1
"""Share of the remaining edges a parallel round must settle; below it (long chains of tied nodes) the
sequential cover finishes the job."""


class GroupPolicy(Enum):
    """How matching pairs become groups."""

    STAR = "star"
    COMPONENTS = "components"


def unique_edges(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mask of the edges to keep so that every undirected pair appears once (its first edge) and none is a loop."""
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    key = lo.astype(np.int64) * (int(hi.max(initial=0)) + 1) + hi
    _, first = np.unique(key, return_index=True)
    keep = np.zeros(len(a), dtype=bool)
    keep[first] = True
    return keep & (lo != hi)


def connected_components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Each node's component, named by its smallest node id.

    Union-find on whole arrays: every edge whose ends have different roots hooks the larger root under the
    smaller one, then pointer jumping flattens the trees; edges already inside one component drop out.
    """
    parent = np.arange(n, dtype=np.int64)
    while len(a):
        ra, rb = parent[a], parent[b]
        apart = ra != rb
        a, b, ra, rb = a[apart], b[apart], ra[apart], rb[apart]
        if not len(a):
            break
        np.minimum.at(parent, np.maximum(ra, rb), np.minimum(ra, rb))
        while True:
            grand = parent[parent]
            if np.array_equal(grand, parent):
                break
            parent = grand
    return parent


def group_labels(n: int, a: np.ndarray, b: np.ndarray, weight: np.ndarray, policy: GroupPolicy) -> np.ndarray:
    """Each node's group (named by one of its members), -1 for a node in no group of two or more.

    Edges ``a[k]-b[k]`` of similarity ``weight[k]``; each undirected pair at most once and no loops (see
    ``unique_edges``). Nodes are ids below ``n``.
    """
    labels = np.full(n, -1, dtype=np.int64)
    if len(a) == 0:
        return labels
    used = np.zeros(n, dtype=bool)
    used[a] = True
    used[b] = True
    nodes = np.flatnonzero(used)
    local = np.cumsum(used) - 1  # node id -> position in ``nodes``, which keeps the order of ids
    a, b = local[a], local[b]
    if policy is GroupPolicy.STAR:
        group = _greedy_stars(len(nodes), a, b, weight)
    else:
        group = connected_components(len(nodes), a, b)
    labels[nodes] = np.where(group >= 0, nodes[group], -1)
    return labels


def _greedy_stars(n: int, a: np.ndarray, b: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Greedy star cover: the best-connected image (most matches among the images not yet grouped, then the
    highest summed similarity, then the smallest id) and its ungrouped matches, repeatedly. Returns each
    node's centre, -1 where none.

    Parallel rounds take every node that beats all nodes within two links at once: no earlier pick can touch
    its star, so the sequential greedy takes the very same star, and the result is identical. A component
    whose images all match each other is one such star in the first round.
    """
    centre = np.full(n, -1, dtype=np.int64)
    weight = np.rint(np.asarray(weight, dtype=np.float64) * WEIGHT_SCALE)
    while len(a) > SEQUENTIAL_EDGES:
        chosen = _local_best(n, a, b, weight)
        centre[chosen] = chosen
        picked = np.zeros(n, dtype=bool)
        picked[chosen] = True
        centre[b[picked[a]]] = a[picked[a]]
        centre[a[picked[b]]] = b[picked[b]]
        left = (centre[a] < 0) & (centre[b] < 0)
        settled = len(a) - int(left.sum())
        a, b, weight = a[left], b[left], weight[left]
        if settled < SLOW_ROUND * (len(a) + settled):
            break
    _sequential_stars(a, b, weight, centre)
    return centre


def _local_best(n: int, a: np.ndarray, b: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Nodes whose (degree, strength, -id) is the largest within two links: those that are the best of the
    closed neighbourhood of themselves and of each of their neighbours."""
    degree = np.bincount(a, minlength=n) + np.bincount(b, minlength=n)
    strength = np.bincount(a, weight, n) + np.bincount(b, weight, n)
    best = _best_neighbour(n, a, b, degree, strength)
    live = degree > 0
    live[a[best[b] != a]] = False
    live[b[best[a] != b]] = False
    return np.flatnonzero(live & (best == np.arange(n)))


def _best_neighbour(n: int, a: np.ndarray, b: np.ndarray, degree: np.ndarray, strength: np.ndarray) -> np.ndarray:
    """For each node, the best of itself and its neighbours by (degree, strength, -id): one exact pass per key,
    each over the neighbours that tie on the keys before it (no sort)."""
    top_degree = degree.copy()
    np.maximum.at(top_degree, a, degree[b])
    np.maximum.at(top_degree, b, degree[a])
    at_a, at_b = degree[b] == top_degree[a], degree[a] == top_degree[b]  # the neighbour ties on degree
    top_strength = np.where(degree == top_degree, strength, -np.inf)
    np.maximum.at(top_strength, a, np.where(at_a, strength[b], -np.inf))
    np.maximum.at(top_strength, b, np.where(at_b, strength[a], -np.inf))
    at_a &= strength[b] == top_strength[a]
    at_b &= strength[a] == top_strength[b]
    best = np.where((degree == top_degree) & (strength == top_strength), np.arange(n), n)
    np.minimum.at(best, a, np.where(at_a, b, n))
    np.minimum.at(best, b, np.where(at_b, a, n))
    return best


def _sequential_stars(a: np.ndarray, b: np.ndarray, weight: np.ndarray, centre: np.ndarray) -> None:
    """The greedy cover one star at a time, writing into ``centre``.

    A max-heap on (degree, strength, -id) among the images not yet grouped; entries made stale by a removal
    are skipped when popped, so the whole cover costs O(E log E).
    """
    neighbours: dict[int, dict[int, float]] = defaultdict(dict)
    for x, y, w in zip(a.tolist(), b.tolist(), weight.tolist(), strict=True):
        neighbours[x][y] = w
        neighbours[y][x] = w
    degree = {node: len(links) for node, links in neighbours.items()}
    strength = {node: sum(links.values()) for node, links in neighbours.items()}
    heap = [(-degree[node], -strength[node], node) for node in neighbours]
    heapq.heapify(heap)
    grouped: set[int] = set()
    while heap:
        neg_degree, neg_strength, node = heapq.heappop(heap)
        if node in grouped or (-neg_degree, -neg_strength) != (degree[node], strength[node]):
            continue  # already grouped, or a stale entry
        if degree[node] == 0:
            break  # the best remaining image matches nothing left: neither does any other
        members = [node, *(m for m in neighbours[node] if m not in grouped)]
        grouped.update(members)
        centre[members] = node
        for member in members:
            for other, w in neighbours[member].items():
                if other not in grouped:
                    degree[other] -= 1
                    strength[other] -= w
                    heapq.heappush(heap, (-degree[other], -strength[other], other))


def keep_apart(
    labels: np.ndarray, a: np.ndarray, b: np.ndarray, weight: np.ndarray, apart_a: np.ndarray, apart_b: np.ndarray
) -> np.ndarray:
    """``group_labels``'s labels with no group holding both ends of an apart pair (``apart_a[k]``,
    ``apart_b[k]``): images that an image in between matches both (a greyscale copy between a red and a blue
    version of one picture) would otherwise share its group.

    Only the groups holding such a pair, and the ungrouped images that match into them, are covered again:
    each image's star is its matches, closest first, each unless it must stay apart from one already taken;
    the largest stars are taken first, each without the images an earlier one took.
    """
    clash = (labels[apart_a] >= 0) & (labels[apart_a] == labels[apart_b])
    if not clash.any():
        return labels
    torn = np.isin(labels, labels[apart_a[clash]])
    loose = labels < 0
    torn[a[torn[b] & loose[a]]] = True
    torn[b[torn[a] & loose[b]]] = True
    labels = labels.copy()
    labels[torn] = -1
    apart: dict[int, set[int]] = defaultdict(set)
    among = torn[apart_a] & torn[apart_b]
    for x, y in zip(apart_a[among].tolist(), apart_b[among].tolist(), strict=True):
        apart[x].add(y)
        apart[y].add(x)
    neighbours: dict[int, list[tuple[float, int]]] = defaultdict(list)
    inside = torn[a] & torn[b]
    for x, y, w in zip(a[inside].tolist(), b[inside].tolist(), weight[inside].tolist(), strict=True):
        neighbours[x].append((w, y))
        neighbours[y].append((w, x))
    for matches in neighbours.values():
        matches.sort(key=lambda match: (-match[0], match[1]))

    def star(centre: int, taken: set[int]) -> list[int]:
        members = {centre}
        for _, other in neighbours[centre]:
            if other not in taken and (other not in apart or apart[other].isdisjoint(members)):
                members.add(other)
        return sorted(members)

    by_size = sorted(neighbours, key=lambda node: (-len(star(node, set())), node))
    taken: set[int] = set()
    for centre in by_size:
        if centre not in taken and len(members := star(centre, taken)) > 1:
            taken.update(members)
            labels[members] = centre
    return labels
