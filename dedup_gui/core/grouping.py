"""Cut a graph of matching pairs into groups, with a policy that keeps chains from merging unlike images.

Connected components put A and D together when A~B~C~D even if A and D look nothing alike; at scale such
chains make huge mixed groups. The default "star" policy makes every group a centre image plus images that
match the centre directly, so every member is close to one image of its group.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from enum import Enum

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


class GroupPolicy(Enum):
    """How matching pairs become groups."""

    STAR = "star"
    COMPONENTS = "components"


def make_groups(n: int, a: np.ndarray, b: np.ndarray, weight: np.ndarray, policy: GroupPolicy) -> list[np.ndarray]:
    """Groups (sorted node-id arrays, two or more each) from edges ``a[k]-b[k]`` of similarity ``weight``."""
    if len(a) == 0:
        return []
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    components = _components(np.concatenate([a, b]), labels)
    if policy is GroupPolicy.COMPONENTS:
        return components
    edge_labels = labels[a]
    edge_order = np.argsort(edge_labels, kind="stable")
    edge_cuts = np.searchsorted(edge_labels[edge_order], np.arange(labels.max() + 2))
    groups: list[np.ndarray] = []
    for members in components:
        label = labels[members[0]]
        edges = edge_order[edge_cuts[label] : edge_cuts[label + 1]]
        size = len(members)
        if len(edges) == size * (size - 1) // 2:
            groups.append(members)  # every member matches every other: nothing to cut
        else:
            groups.extend(_stars(a[edges], b[edges], weight[edges]))
    return groups


def _components(endpoints: np.ndarray, labels: np.ndarray) -> list[np.ndarray]:
    """Members of each component that has an edge, as sorted arrays."""
    nodes = np.unique(endpoints)
    node_labels = labels[nodes]
    order = np.argsort(node_labels, kind="stable")
    nodes, node_labels = nodes[order], node_labels[order]
    cuts = np.flatnonzero(np.diff(node_labels)) + 1
    return [np.sort(part) for part in np.split(nodes, cuts)]


def _stars(a: np.ndarray, b: np.ndarray, weight: np.ndarray) -> list[np.ndarray]:
    """Greedy star cover of one component: the best-connected image and its direct matches, repeatedly.

    A max-heap on (degree, summed similarity) among the images not yet grouped; entries made stale by a
    removal are skipped when popped, so the whole cover costs O(E log E).
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
    groups: list[np.ndarray] = []
    while heap:
        neg_degree, neg_strength, centre = heapq.heappop(heap)
        if centre in grouped or (-neg_degree, -neg_strength) != (degree[centre], strength[centre]):
            continue  # already grouped, or a stale entry
        if degree[centre] == 0:
            break  # the best remaining image matches nothing left: neither does any other
        members = [centre, *(n for n in neighbours[centre] if n not in grouped)]
        grouped.update(members)
        groups.append(np.array(sorted(members), dtype=np.int64))
        for member in members:
            for other, w in neighbours[member].items():
                if other not in grouped:
                    degree[other] -= 1
                    strength[other] -= w
                    heapq.heappush(heap, (-degree[other], -strength[other], other))
    return groups
