"""Regrouping a stored pair graph at a new threshold, at collection scale: time per threshold change, memory.

    python -m tests.benchmarks.bench_regroup [--count 100000] [--repeat 7] [--background 0.5] [--quick] [--json FILE]

The graph is synthetic but shaped like a scan's (``Method.AUTO``: pHash distances and cosines on every edge):
most images unique, near-duplicate clusters of 2-6 (some cliques, some chains), a few byte-identical copies,
and background edges from the neighbour search (cosine 0.60-0.80, or pHash 9-11) that join clusters into
larger components at loose thresholds. The first ``groups_at`` on a fresh graph is timed apart (it may build
per-graph caches); then every threshold runs ``--repeat`` times. A digest of each threshold's groups lets
two runs (before and after a change to the grouping) be checked for identical results.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import statistics
import time
from collections.abc import Callable

import numpy as np

from dedup_gui.core.graph import PRESETS, PairGraph, Thresholds
from dedup_gui.core.grouping import GroupPolicy
from dedup_gui.core.model import Group, Method

CASES: list[tuple[str, Thresholds, GroupPolicy]] = [
    ("default", PRESETS["default"], GroupPolicy.STAR),
    ("strict", PRESETS["strict"], GroupPolicy.STAR),
    ("loose", PRESETS["loose"], GroupPolicy.STAR),
    ("hash 6 / cos 0.85", Thresholds(6, 0.85), GroupPolicy.STAR),
    ("hash 11 / cos 0.60", Thresholds(11, 0.60), GroupPolicy.STAR),
    ("default, components", PRESETS["default"], GroupPolicy.COMPONENTS),
    ("loose, components", PRESETS["loose"], GroupPolicy.COMPONENTS),
]
CLUSTER_SIZES = np.array([2, 3, 4, 5, 6])
CLUSTER_WEIGHTS = np.array([0.45, 0.25, 0.15, 0.1, 0.05])


def _cluster_edges(rng: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edges inside near-duplicate clusters covering about a quarter of the images, and whether each is strong.

    Cliques keep each pair with probability 0.85; chains (a third of the clusters) link consecutive members
    strongly and the rest of the pairs weakly, with probability 0.3.
    """
    sizes = rng.choice(CLUSTER_SIZES, size=count // 14, p=CLUSTER_WEIGHTS)
    sizes = sizes[: np.searchsorted(np.cumsum(sizes), count // 4)]
    starts = rng.choice(count // max(int(sizes.max(initial=2)), 1), size=len(sizes), replace=False)
    starts = np.sort(starts) * int(sizes.max(initial=2))  # disjoint slots
    chain = rng.random(len(sizes)) < 1 / 3
    parts_a, parts_b, parts_strong = [], [], []
    for size in CLUSTER_SIZES:
        pick = sizes == size
        i, j = np.triu_indices(size, 1)
        first = starts[pick][:, None]
        a, b = (first + i).ravel(), (first + j).ravel()
        is_chain = np.repeat(chain[pick], len(i))
        consecutive = np.tile(j - i == 1, pick.sum())
        strong = ~is_chain | consecutive
        keep = rng.random(len(a)) < np.where(strong, 0.85, 0.3)
        keep |= is_chain & consecutive
        parts_a.append(a[keep])
        parts_b.append(b[keep])
        parts_strong.append(strong[keep])
    return np.concatenate(parts_a), np.concatenate(parts_b), np.concatenate(parts_strong)


def synthetic_graph(count: int, background: float = 0.5, seed: int = 0) -> PairGraph:
    """A pair graph over ``count`` files with the shape described in the module docstring, ``background``
    unrelated neighbour edges per file."""
    rng = np.random.default_rng(seed)
    a, b, strong = _cluster_edges(rng, count)
    phash = np.where(strong, rng.integers(0, 11, len(a)), rng.integers(6, 12, len(a)))
    cosine = np.where(strong, rng.uniform(0.70, 0.99, len(a)), rng.uniform(0.60, 0.85, len(a)))
    noise = int(count * background)
    na, nb = rng.integers(0, count, noise), rng.integers(0, count, noise)
    by_hash = rng.random(noise) < 0.2
    n_phash = np.where(by_hash, rng.integers(9, 12, noise), rng.integers(12, 33, noise))
    n_cosine = np.where(by_hash, rng.uniform(0.30, 0.70, noise), rng.uniform(0.60, 0.80, noise))
    a, b = np.concatenate([a, na]), np.concatenate([b, nb])
    phash, cosine = np.concatenate([phash, n_phash]), np.concatenate([cosine, n_cosine])
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    key, first = np.unique(lo * count + hi, return_index=True)
    first = first[lo[first] != hi[first]]
    order = rng.permutation(len(first))  # the search's output order is not sorted
    first = first[order]
    representative = np.arange(count, dtype=np.int64)
    copies = rng.choice(count, size=count // 30, replace=False)
    representative[copies] = np.maximum(copies - rng.integers(1, 50, len(copies)), 0)
    representative = representative[representative]  # a copy of a copy points at the first of them
    is_rep = representative == np.arange(count)
    first = first[is_rep[lo[first]] & is_rep[hi[first]]]  # edges join representatives only
    a, b = lo[first], hi[first]
    phash = phash[first].astype(np.int16)
    return PairGraph.build(
        representative,
        a,
        b,
        phash,
        np.minimum(phash + rng.integers(0, 4, len(a)), 64).astype(np.int16),
        rng.integers(0, 8, len(a)).astype(np.int8),
        cosine[first].astype(np.float32),
        Method.AUTO,
    )


def digest(groups: list[Group]) -> str:
    """A short fingerprint of the groups, in order, to compare two runs."""
    h = hashlib.sha256()
    for group in groups:
        h.update(np.asarray(group.members, dtype=np.int64).tobytes())
        h.update(b"|")
    return h.hexdigest()[:16]


def timed_ms(work: Callable[[], list[Group]]) -> tuple[float, list[Group]]:
    started = time.perf_counter()
    groups = work()
    return (time.perf_counter() - started) * 1000, groups


def run(count: int, repeat: int, background: float) -> dict[str, object]:
    started = time.perf_counter()
    graph = synthetic_graph(count, background)
    build_s = time.perf_counter() - started
    graph_rss_mb = _peak_rss_mb()
    first_ms, _ = timed_ms(lambda: graph.groups_at(PRESETS["default"]))
    rows = []
    for name, thresholds, policy in CASES:
        times = []
        for _ in range(repeat):
            ms, groups = timed_ms(lambda t=thresholds, p=policy: graph.groups_at(t, p))
            times.append(ms)
        rows.append(
            {
                "case": name,
                "edges_kept": int(graph.matching(thresholds).sum()),
                "groups": len(groups),
                "largest": len(groups[0].members) if groups else 0,
                "grouped_files": sum(len(g.members) for g in groups),
                "median_ms": round(statistics.median(times), 2),
                "max_ms": round(max(times), 2),
                "digest": digest(groups),
            }
        )
    return {
        "count": count,
        "background": background,
        "edges": len(graph.a),
        "copies": int((graph.representative != np.arange(graph.n)).sum()),
        "graph_build_s": round(build_s, 2),
        "first_call_ms": round(first_ms, 2),
        "repeat": repeat,
        "cases": rows,
        "peak_rss_graph_built_mb": graph_rss_mb,
        "peak_rss_mb": _peak_rss_mb(),
    }


def _peak_rss_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def print_table(result: dict[str, object]) -> None:
    print(
        f"{result['count']} files, {result['edges']} stored edges, {result['copies']} identical copies; "
        f"graph built in {result['graph_build_s']} s; first groups_at (default) {result['first_call_ms']} ms; "
        f"peak RSS {result['peak_rss_graph_built_mb']} MB with the graph built, {result['peak_rss_mb']} MB at the end"
    )
    header = f"{'case':<22}{'edges kept':>11}{'groups':>9}{'largest':>9}{'files':>9}{'median ms':>11}{'max ms':>9}"
    print(header + "  digest")
    for row in result["cases"]:  # type: ignore[attr-defined]
        print(
            f"{row['case']:<22}{row['edges_kept']:>11}{row['groups']:>9}{row['largest']:>9}{row['grouped_files']:>9}"
            f"{row['median_ms']:>11}{row['max_ms']:>9}  {row['digest']}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000, help="files in the synthetic collection")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per threshold")
    parser.add_argument("--background", type=float, default=0.5, help="unrelated neighbour edges per file")
    parser.add_argument("--quick", action="store_true", help="10,000 files, 3 runs per threshold")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()
    count, repeat = (10_000, 3) if args.quick else (args.count, args.repeat)
    result = run(count, repeat, args.background)
    print_table(result)
    if args.json:
        with open(args.json, "w") as out:
            json.dump(result, out, indent=2)


if __name__ == "__main__":
    main()
