"""Neighbour-graph build at scale on synthetic embeddings: time, memory, recall against exact search.

    python -m tests.benchmarks.bench_knn [--count 100000] [--dim 1280] [--json FILE]

Vectors are clustered (like photo collections: many themes, few near-copies of each image) with planted
near-duplicates. Recall@k is measured against exact search on a sample of queries; each HNSW setting runs in
its own process so its peak memory is its own.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np

from dedup_gui.core.embedding import l2_normalise
from dedup_gui.core.knn import HnswParams, K, hnsw_nearest

SAMPLE = 1000


def synthetic(count: int, dim: int, seed: int = 0) -> np.ndarray:
    """Clustered unit vectors; every tenth is a near-copy (cosine about 0.95) of the one before it."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(max(count // 50, 1), dim)).astype(np.float32)
    vectors = centres[rng.integers(0, len(centres), count)] + 0.9 * rng.normal(size=(count, dim)).astype(np.float32)
    vectors[1::10] = vectors[0::10][: len(vectors[1::10])] + 0.25 * rng.normal(size=(len(vectors[1::10]), dim))
    return l2_normalise(vectors.astype(np.float32))


def exact_sample(vectors: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
    similarity = vectors[rows] @ vectors.T
    similarity[np.arange(len(rows)), rows] = -np.inf
    return np.argsort(-similarity, axis=1)[:, :k]


def run_one(count: int, dim: int, m: int, ef_construction: int, ef: int) -> dict[str, float]:
    vectors = synthetic(count, dim)
    rows = np.random.default_rng(1).choice(count, size=min(SAMPLE, count), replace=False)
    truth = exact_sample(vectors, rows, K)
    started = time.perf_counter()
    found = hnsw_nearest(vectors, K, HnswParams(m, ef_construction, ef))
    seconds = time.perf_counter() - started
    recall = np.mean([len(set(truth[i]) & set(found.index[r])) / K for i, r in enumerate(rows)])
    return {
        "count": count,
        "M": m,
        "ef_construction": ef_construction,
        "ef": ef,
        "graph_seconds": round(seconds, 1),
        "recall_at_10": round(float(recall), 4),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=1280)
    parser.add_argument("--settings", default="16,100,64;16,200,128;32,200,128", help="M,ef_construction,ef;...")
    parser.add_argument("--json")
    args = parser.parse_args()
    rows = []
    for setting in args.settings.split(";"):
        m, efc, ef = (int(x) for x in setting.split(","))
        code = (
            "import json; from tests.benchmarks.bench_knn import run_one;"
            f"print(json.dumps(run_one({args.count}, {args.dim}, {m}, {efc}, {ef})))"
        )
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(rows[-1], flush=True)
    if args.json:
        with open(args.json, "w") as out:
            json.dump(rows, out, indent=2)


if __name__ == "__main__":
    main()
