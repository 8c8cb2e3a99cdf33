"""Memory of a scan whose files are all in the feature cache: what holding a large collection's features costs.

    python -m tests.benchmarks.bench_cached_scan [--count 100000] [--method cnn|auto] [--workdir DIR] [--json FILE]

Writes ``count`` one-byte ``.jpg`` files and a feature cache that already holds, at the current versions,
image facts, hashes and embeddings for each of them (``bench_scale``'s synthetic embeddings and hashes), so
nothing is decoded. Each run then scans a fresh copy of that cache in a fresh process, from discovery to
groups, and reports wall time and peak RSS (ru_maxrss). The neighbour search at this size is part of it
(see ``bench_scale`` for its own figures).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from dedup_gui.core.cache import FeatureCache
from dedup_gui.core.discovery import DiscoveryOptions, discover
from dedup_gui.core.model import FileRef, Method
from dedup_gui.core.pipeline import ScanOptions, _versions, scan
from dedup_gui.core.tone import TONE_SIZE
from tests.benchmarks.bench_scale import synthetic_embeddings, synthetic_hashes

TONE = bytes([128, 128, 128, 40]) + bytes(TONE_SIZE - 4)
"""A grey photo's tone: structured (grey-level spread 40), no colour."""
INFO = json.dumps({"width": 4000, "height": 3000, "format": "JPEG", "date_taken": None, "camera": None}).encode()


def prepare(count: int, folder: Path, cache_path: Path) -> None:
    """The files and a cache that answers for all of them."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (folder / f"{i:07d}.jpg").write_bytes(b"x")
    refs = sorted((r for r in discover(DiscoveryOptions((folder,))) if isinstance(r, FileRef)), key=lambda r: r.path)
    versions = _versions(Method.AUTO)
    kind = next(k for k in versions if k.startswith("cnn-"))
    embeddings, hashes = synthetic_embeddings(count), synthetic_hashes(count)
    with FeatureCache(cache_path) as cache:
        for i, ref in enumerate(refs):
            features = {
                "info": (versions["info"], INFO),
                "hash": (versions["hash"], hashes[i].astype("<u8").tobytes()),
                "tone": (versions["tone"], TONE),
                kind: (versions[kind], np.asarray(embeddings[[i]][0], dtype="<f2").tobytes()),
            }
            cache.store(ref, f"{i:064x}", features)


def run_one(folder: Path, cache_path: Path, method: Method) -> dict[str, object]:
    """One scan (call in a fresh process)."""
    started = time.perf_counter()
    result = scan(ScanOptions(roots=(folder,), cache_path=cache_path, method=method))
    return {
        "method": method.value,
        "files": len(result.files),
        "from_cache": result.stats.from_cache,
        "groups": len(result.groups),
        "seconds": round(time.perf_counter() - started, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--method", choices=[Method.CNN.value, Method.AUTO.value], default=Method.CNN.value)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "dedup-gui-bench-cached")
    parser.add_argument("--json")
    args = parser.parse_args()
    folder, pristine = args.workdir / f"files-{args.count}", args.workdir / f"cache-{args.count}.sqlite3"
    if not pristine.exists():
        started = time.perf_counter()
        prepare(args.count, folder, pristine)
        print(f"prepared {args.count} files and their cache in {time.perf_counter() - started:.0f} s", flush=True)
    with tempfile.TemporaryDirectory() as scratch:
        cache_path = Path(scratch) / "cache.sqlite3"
        shutil.copy(pristine, cache_path)
        code = (
            "import json, pathlib; from tests.benchmarks.bench_cached_scan import Method, run_one;"
            f"print(json.dumps(run_one(pathlib.Path({str(folder)!r}), pathlib.Path({str(cache_path)!r}),"
            f" Method({args.method!r}))))"
        )
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"scan failed:\n{done.stderr[-3000:]}")
    row = {"count": args.count, **json.loads(done.stdout.strip().splitlines()[-1])}
    print(json.dumps(row))
    if args.json:
        Path(args.json).write_text(json.dumps([row], indent=2))


if __name__ == "__main__":
    main()
