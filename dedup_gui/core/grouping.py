"""Cut a graph of matching pairs into groups, with a policy that keeps chains from merging unlike images.

Connected components put A and D together when A~B~C~D even if A and D look nothing alike; at scale such
chains make huge mixed groups. The default "star" policy makes every group a centre image plus images that
match the centre directly, so every member is close to one image of its group.
"""

from __future__ import annotations

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
    """Greedy star cover of one component: the best-connected image and its direct matches, repeatedly."""
    neighbours: dict[int, dict[int, float]] = defaultdict(dict)
    for x, y, w in zip(a.tolist(), b.tolist(), weight.tolist(), strict=True):
        neighbours[x][y] = w
        neighbours[y][x] = w
    remaining = set(neighbours)
    groups: list[np.ndarray] = []
    while len(remaining) >= 2:
        centre = max(
            remaining,
            key=lambda node: (
                sum(1 for other in neighbours[node] if other in remaining),
                sum(w for other, w in neighbours[node].items() if other in remaining),
                -node,
            ),
        )
        members = {centre} | (neighbours[centre].keys() & remaining)
        if len(members) < 2:
            break
        groups.append(np.array(sorted(members), dtype=np.int64))
        remaining -= members
    return groups
