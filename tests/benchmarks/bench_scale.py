"""Scale without photos: search, index and regroup on synthetic embeddings and hashes of 100k and 1M images.

    python -m tests.benchmarks.bench_scale [--count 100000] [--count 1000000] [--json FILE]

Each size runs in a fresh process, so its peak RSS (ru_maxrss) is its own. Figures: generation time, the
stages of ``search.build_graph`` (hash pairs, neighbour index build and save, kNN queries), neighbour recall@10
of the index against exact full-dimension search on a sample, planted near-duplicates found (as edges, and as
matches at the default thresholds, where crowding may discount a cosine), the share of crowded images, a rescan
with 1% new contents through the saved index, and ``groups_at`` after a threshold change. ``--method cnn`` leaves the
hash tier out (its pair search grows faster than linearly with the collection).

How the embeddings are made (``synthetic_embeddings``): 1280-d unit vectors whose spectrum follows real
EfficientNet-Lite0 features. Measured on 715 distinct real pictures (the dev set's originals and disjoint tiles
of the bundled photos): the mean vector has norm 0.46 (mean cosine of unrelated pictures 0.21), the centred
variance is 0.78 with eigenvalues falling as rank^-0.5 up to rank 8 and about rank^-1.25 from there to rank 128
(faster beyond, where 715 samples cannot tell; the generator keeps rank^-1.25 to 1280, a heavier tail than
measured, which makes a reduced index harder, not easier). Half of each image's variance is its theme's (themes
of about 50 images, cosine about 0.6 within one), half its own. Near-copies: every tenth image has a copy, every
twentieth a second one, at a cosine drawn from 0.80-0.995 (the real edits' medians span 0.83-0.998); the copy's
difference has variance proportional to eigenvalue^0.4, as measured for real edits (a third of it in the top
128 directions). Every hundredth file is a byte-identical copy. The spectrum is axis-aligned: PCA, inner
products and HNSW do not depend on the basis. Hashes: random 64-bit pHash/dHash per orientation; near-copies
take their original's upright hashes with 0-10 bits flipped. The vectors are held as a scan holds them:
float16, or int8 codes past ``knn.QUANTISE_ABOVE``.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from dedup_gui.core.graph import DEFAULT_COSINE, MIN_COSINE, PRESETS, PairGraph, Thresholds
from dedup_gui.core.knn import Int8Vectors, K, Rows, exact_nearest, vector_store
from dedup_gui.core.model import Method
from dedup_gui.core.search import SearchInput, build_graph
from dedup_gui.core.vector_index import VectorIndex, params_for

DIM = 1280
MEAN_NORM = 0.46
CENTRED_VARIANCE = 0.78
HEAD_RANK, HEAD_ALPHA, TAIL_ALPHA = 8, 0.5, 1.25
THEME_SHARE, THEME_SIZE = 0.5, 50
COPY_COSINE = (0.80, 0.995)
COPY_GAMMA = 0.4
_CHUNK = 10000  # a multiple of 100, so the copy pattern never straddles chunks
RECALL_SAMPLE = 1000
RESCAN_SHARE = 0.01


def spectrum(dim: int = DIM) -> np.ndarray:
    """Per-axis variance: rank^-0.5 to rank 8, rank^-1.25 after, summing to the measured centred variance."""
    rank = np.arange(1, dim + 1, dtype=np.float64)
    shape = np.where(rank <= HEAD_RANK, rank**-HEAD_ALPHA, HEAD_RANK ** (TAIL_ALPHA - HEAD_ALPHA) * rank**-TAIL_ALPHA)
    return shape * CENTRED_VARIANCE / shape.sum()


def parents(count: int) -> np.ndarray:
    """Which earlier image each one copies (-1: an original): i%10==1 copies i-1, i%20==2 copies i-2,
    i%100==99 is a byte-identical copy of i-1."""
    i = np.arange(count)
    parent = np.full(count, -1, dtype=np.int64)
    parent[i % 10 == 1] = i[i % 10 == 1] - 1
    parent[i % 20 == 2] = i[i % 20 == 2] - 2
    parent[i % 100 == 99] = i[i % 100 == 99] - 1
    return parent


def synthetic_embeddings(count: int, dim: int = DIM, seed: int = 0) -> np.ndarray | Int8Vectors:
    """(count, dim) unit vectors, made a chunk at a time (see the module docstring), stored as the scan
    stores them: float16, or int8 codes past ``QUANTISE_ABOVE``."""
    rng = np.random.default_rng(seed)
    scale = np.sqrt(spectrum(dim)).astype(np.float32)
    copy_scale = (spectrum(dim) ** (COPY_GAMMA / 2)).astype(np.float32)
    mean = rng.standard_normal(dim).astype(np.float32)
    mean *= MEAN_NORM / np.linalg.norm(mean)
    themes = rng.standard_normal((max(count // THEME_SIZE, 1), dim), dtype=np.float32).astype(np.float16)
    parent = parents(count)
    out = vector_store(count, dim)
    for lo in range(0, count, _CHUNK):
        hi = min(lo + _CHUNK, count)
        theme = themes[rng.integers(0, len(themes), hi - lo)].astype(np.float32)
        own = rng.standard_normal((hi - lo, dim), dtype=np.float32)
        chunk = mean + scale * (np.sqrt(THEME_SHARE) * theme + np.sqrt(1 - THEME_SHARE) * own)
        chunk /= np.linalg.norm(chunk, axis=1, keepdims=True)
        local = parent[lo:hi] - lo
        copies = np.flatnonzero((local >= 0) & (np.arange(lo, hi) % 100 != 99))
        difference = copy_scale * rng.standard_normal((len(copies), dim), dtype=np.float32)
        difference /= np.linalg.norm(difference, axis=1, keepdims=True)
        cosine = rng.uniform(*COPY_COSINE, size=(len(copies), 1)).astype(np.float32)
        chunk[copies] = chunk[local[copies]] + np.sqrt(1 / cosine**2 - 1) * difference
        chunk[copies] /= np.linalg.norm(chunk[copies], axis=1, keepdims=True)
        identical = np.flatnonzero(np.arange(lo, hi) % 100 == 99)
        chunk[identical] = chunk[local[identical]]
        out[lo:hi] = chunk
    return out


def synthetic_hashes(count: int, seed: int = 1) -> np.ndarray:
    """(count, 2, 8) uint64: random hashes; copies take their original's upright pHash/dHash, 0-10 bits flipped."""
    rng = np.random.default_rng(seed)
    table = np.frombuffer(rng.bytes(count * 16 * 8), dtype=np.uint64).reshape(count, 2, 8).copy()
    parent = parents(count)
    copies = np.flatnonzero(parent >= 0)
    for kind in (0, 1):
        flips = rng.integers(0, 11, size=len(copies))
        bits = rng.integers(0, 64, size=(len(copies), 10)).astype(np.uint64)
        masks = np.where(np.arange(10) < flips[:, None], np.uint64(1) << bits, np.uint64(0))
        table[copies, kind, 0] = table[parent[copies], kind, 0] ^ np.bitwise_or.reduce(masks, axis=1)
    identical = np.flatnonzero(np.arange(count) % 100 == 99)
    table[identical] = table[identical - 1]
    return table


def digests_of(count: int) -> list[str | None]:
    """Content digests: byte-identical copies share their original's."""
    return [f"{i - 1 if i % 100 == 99 else i:040x}" for i in range(count)]


def _peak_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


class _Stages(logging.Handler):
    """Collects the stage timings that ``search`` logs."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.seconds: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if hasattr(record, "stage"):
            self.seconds[record.stage] = round(self.seconds.get(record.stage, 0.0) + record.seconds, 1)


def run_one(count: int, method: Method = Method.AUTO) -> dict[str, object]:
    """Every figure for one collection size (call in a fresh process)."""
    stages = _Stages()
    search_log = logging.getLogger("dedup_gui.core.search")
    search_log.addHandler(stages)
    search_log.setLevel(logging.INFO)
    result: dict[str, object] = {"count": count, "method": method.value, "params": str(params_for(count))}
    fresh = int(count * RESCAN_SHARE) // 100 * 100
    started = time.perf_counter()
    embeddings = synthetic_embeddings(count + fresh)
    hashes = synthetic_hashes(count + fresh)
    digests = digests_of(count + fresh)
    result["generate_s"] = round(time.perf_counter() - started, 1)
    result["peak_rss_mb_after_generate"] = _peak_mb()
    with tempfile.TemporaryDirectory() as folder:
        index_file = Path(folder) / "cache.knn"
        data = SearchInput(digests[:count], hashes[:count], _head(embeddings, count), index_file, "bench")
        started = time.perf_counter()
        graph = build_graph(data, method, PRESETS["default"])
        result["build_graph_s"] = round(time.perf_counter() - started, 1)
        result["stages_s"] = dict(stages.seconds)
        result["edges"] = len(graph.a)
        result["peak_rss_mb_after_graph"] = _peak_mb()
        result["index_file_mb"] = round(index_file.with_name("cache.knn.hnsw").stat().st_size / 2**20)
        result.update(_regroup(graph))
        result["peak_rss_mb_after_regroup"] = _peak_mb()
        result.update(_recall(_head(embeddings, count), digests[:count], index_file))
        result.update(_planted(graph, count))
        stages.seconds.clear()
        rescan = SearchInput(digests, hashes, embeddings, index_file, "bench")
        started = time.perf_counter()
        build_graph(rescan, method, PRESETS["default"], previous=graph)
        result["rescan_new"] = fresh
        result["rescan_s"] = round(time.perf_counter() - started, 1)
        result["rescan_stages_s"] = dict(stages.seconds)
    result["peak_rss_mb"] = _peak_mb()
    return result


def _head(store: np.ndarray | Int8Vectors, count: int) -> np.ndarray | Int8Vectors:
    return store.head(count) if isinstance(store, Int8Vectors) else store[:count]


def _recall(embeddings: np.ndarray | Int8Vectors, digests: list[str | None], index_file: Path) -> dict[str, float]:
    """Recall@K of the saved index against exact full-dimension search on a sample of queries, and recall of
    the true neighbours at or above the default cosine (the ones that can make groups)."""
    representative = np.flatnonzero(np.arange(len(embeddings)) % 100 != 99)
    vectors = Rows(embeddings, representative)
    index = VectorIndex.load(index_file, "bench", params_for(len(vectors)), len(vectors))
    assert index is not None, "the saved index did not load"
    labels = np.array([digests[i].encode() for i in representative.tolist()], dtype="S64")
    order = np.argsort(labels)
    row_of_label = order[np.searchsorted(labels[order], index.digests)]
    sample = np.sort(np.random.default_rng(2).choice(len(vectors), RECALL_SAMPLE, replace=False))
    started = time.perf_counter()
    truth = exact_nearest(vectors, K, sample)
    exact_s = time.perf_counter() - started
    found = index.query(vectors, sample, row_of_label)
    hits = [len(set(t) & set(f)) for t, f in zip(truth.index.tolist(), found.index.tolist(), strict=True)]
    strong = [
        (len(set(t[s >= DEFAULT_COSINE]) & set(f)), int((s >= DEFAULT_COSINE).sum()))
        for t, s, f in zip(truth.index, truth.similarity, found.index.tolist(), strict=True)
    ]
    return {
        f"recall_at_{K}": round(float(np.mean(hits)) / K, 4),
        "recall_above_default_cosine": round(sum(h for h, _ in strong) / max(sum(n for _, n in strong), 1), 4),
        f"exact_{RECALL_SAMPLE}_queries_s": round(exact_s, 1),
    }


def _planted(graph: PairGraph, count: int) -> dict[str, float]:
    """Share of planted near-copy pairs (not byte copies) that are edges of the graph with cosine >= MIN_COSINE,
    and that match at the default thresholds (where crowding can discount a cosine); share of images crowded."""
    parent = parents(count)
    copies = np.flatnonzero((parent >= 0) & (np.arange(count) % 100 != 99))
    rep = graph.representative
    a, b = rep[copies], rep[parent[copies]]
    planted = np.unique(np.minimum(a, b) * count + np.maximum(a, b))
    edges = np.minimum(graph.a, graph.b) * count + np.maximum(graph.a, graph.b)
    strong = graph.cosine >= MIN_COSINE
    matching = graph.matching(PRESETS["default"])
    return {
        "planted_pairs_found": round(float(np.isin(planted, edges[strong]).mean()), 4),
        "planted_pairs_matching": round(float(np.isin(planted, edges[matching]).mean()), 4),
        "crowded_share": round(float((graph.crowding[np.unique(rep)] > 0).mean()), 4),
    }


def _regroup(graph: PairGraph) -> dict[str, float]:
    """Groups at the default thresholds, then the time of each threshold change."""
    started = time.perf_counter()
    groups = graph.groups_at(PRESETS["default"])
    figures: dict[str, float] = {"groups_default": len(groups)}
    figures["first_groups_s"] = round(time.perf_counter() - started, 2)
    for name, thresholds in (("strict", PRESETS["strict"]), ("hash 6 / cos 0.85", Thresholds(6, 0.85))):
        started = time.perf_counter()
        graph.groups_at(thresholds)
        figures[f"regroup_{name}_s"] = round(time.perf_counter() - started, 2)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, action="append", help="collection size (repeatable); default 100000")
    parser.add_argument("--method", choices=[Method.AUTO.value, Method.CNN.value], default=Method.AUTO.value)
    parser.add_argument("--json")
    args = parser.parse_args()
    rows = []
    for count in args.count or [100_000]:
        code = (
            "import json; from tests.benchmarks.bench_scale import Method, run_one;"
            f"print(json.dumps(run_one({count}, Method({args.method!r}))))"
        )
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"count {count} failed:\n{done.stderr[-3000:]}")
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
