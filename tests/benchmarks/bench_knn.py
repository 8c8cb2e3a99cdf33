"""Neighbour-graph build at scale on synthetic embeddings: time, memory, recall against exact search.

    python -m tests.benchmarks.bench_knn [--count 100000] [--settings M,efc,ef[,dims,candidates];...] [--json FILE]

The vectors are ``bench_scale.synthetic_embeddings`` (clustered, planted near-copies, the spectrum of real
EfficientNet-Lite0 features; float16 as cached). Each setting builds the PCA-reduced HNSW index of
``vector_index`` (dims 1280: no reduction) and queries every vector; recall@10 is measured against exact
full-dimension search on a sample of queries. Each setting runs in its own process so its peak memory is its own.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np

from dedup_gui.core.knn import K, Rows, exact_nearest
from dedup_gui.core.vector_index import IndexParams, nearest
from tests.benchmarks.bench_scale import synthetic_embeddings

SAMPLE = 1000


def run_one(count: int, params: IndexParams) -> dict[str, float | int]:
    vectors = synthetic_embeddings(count)
    rows = np.sort(np.random.default_rng(1).choice(count, size=min(SAMPLE, count), replace=False))
    truth = exact_nearest(Rows.of(vectors), K, rows).index
    started = time.perf_counter()
    found = nearest(vectors, K, params)
    seconds = time.perf_counter() - started
    recall = np.mean([len(set(truth[i]) & set(found.index[r])) / K for i, r in enumerate(rows)])
    return {
        "count": count,
        "dims": params.dims,
        "M": params.m,
        "ef_construction": params.ef_construction,
        "ef": params.ef,
        "candidates": params.candidates,
        "graph_seconds": round(seconds, 1),
        f"recall_at_{K}": round(float(recall), 4),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def parse_setting(text: str) -> IndexParams:
    """``M,efc,ef`` or ``M,efc,ef,dims,candidates``; fields left out take the defaults."""
    fields = [int(x) for x in text.split(",")]
    names = ("m", "ef_construction", "ef", "dims", "candidates")
    return IndexParams(**dict(zip(names, fields, strict=False)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument(
        "--settings", default="16,100,64,64,20;16,100,64,128,20;16,100,64,256,20", help="M,efc,ef[,dims,candidates];..."
    )
    parser.add_argument("--json")
    args = parser.parse_args()
    rows = []
    for setting in args.settings.split(";"):
        code = (
            "import json; from tests.benchmarks.bench_knn import parse_setting, run_one;"
            f"print(json.dumps(run_one({args.count}, parse_setting({setting!r}))))"
        )
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(rows[-1], flush=True)
    if args.json:
        with open(args.json, "w") as out:
            json.dump(rows, out, indent=2)


if __name__ == "__main__":
    main()
