"""Scan throughput on camera-like 12 MP JPEGs, unchanged-rescan speed, and accuracy on the same folder.

    python -m tests.benchmarks.bench_scan [--photos 200] [--mixed 100] [--small 10000] [--workdir DIR] [--json FILE]

Each measurement runs in a fresh process so its peak memory is its own. A second table splits a cold scan's
CPU time per 12 MP photo into its steps, each on one thread: what the two cores have to share. Generated
folders are kept in the work folder (default: the system temp folder) and reused by later runs.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from dedup_gui.core import evaluation, report
from dedup_gui.core.analysis import content_digest
from dedup_gui.core.decoding import decode
from dedup_gui.core.embedding import BATCH_SIZE, Embedder, model_path
from dedup_gui.core.hashes import dihedral_hashes
from dedup_gui.core.model import Method
from dedup_gui.core.pipeline import ScanOptions, scan
from tests.benchmarks.photos import make_photo_folder


def photo_folder(workdir: Path, count: int, mixed: bool = False) -> Path:
    """12 MP JPEGs, or with ``mixed`` a mix of 12 MP JPEG, 2 MP JPEG, PNG and WebP."""
    folder = workdir / (f"photos-mixed-{count}" if mixed else f"photos-12mp-{count}")
    if not (folder / "ground_truth.json").exists():
        truth = make_photo_folder(folder, count, mixed=mixed)
        (folder / "ground_truth.json").write_text(json.dumps(truth))
    return folder


def small_folder(workdir: Path, count: int) -> Path:
    """Many small distinct images: rescans are about per-file overhead, not decoding."""
    folder = workdir / f"small-{count}"
    if not (folder / "done").exists():
        rng = np.random.default_rng(0)
        for index in range(count):
            sub = folder / f"d{index // 500:03d}"
            sub.mkdir(parents=True, exist_ok=True)
            cells = (rng.random((6, 8, 3)) * 255).astype(np.uint8)
            Image.fromarray(cells).resize((96, 72), Image.Resampling.BICUBIC).save(sub / f"{index}.jpg", quality=85)
        (folder / "done").write_text("")
    return folder


def measure(folder: Path, cache: Path, method: Method) -> dict[str, object]:
    """One scan in this process; returns its figures."""
    started = time.perf_counter()
    result = scan(ScanOptions(roots=(folder,), cache_path=cache, method=method))
    elapsed = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    figures: dict[str, object] = {
        "files": len(result.files),
        "decoded": result.stats.analysed,
        "seconds": round(elapsed, 3),
        "per_second": round(len(result.files) / elapsed, 1),
        "peak_rss_mb": round(peak_kb / 1024),
        "worker_peak_rss_mb": round(children_kb / 1024),
        "provider": result.stats.provider,
    }
    truth_path = folder / "ground_truth.json"
    # Generated photos are abstract shapes that all look alike to an ImageNet CNN, so only the hash tier's
    # accuracy means something here; the CNN tier is scored on real photos (tests/devset).
    if truth_path.exists() and method is Method.HASH:
        scores = evaluation.evaluate(json.loads(truth_path.read_text()), report.duplicate_map(result))
        figures.update(precision=round(scores.pairs.precision, 4), recall=round(scores.pairs.recall, 4))
    return figures


def embedding_throughput(batches: int = 20) -> dict[str, object]:
    """Inference alone on the CPU (or the accelerated provider in use), batches of BATCH_SIZE."""
    embedder = Embedder()
    images = np.random.default_rng(0).integers(0, 256, (BATCH_SIZE, 224, 224, 3), dtype=np.uint8)
    embedder.embed(images)
    started = time.perf_counter()
    for _ in range(batches):
        embedder.embed(images)
    seconds = time.perf_counter() - started
    return {
        "files": batches * BATCH_SIZE,
        "seconds": round(seconds, 3),
        "per_second": round(batches * BATCH_SIZE / seconds, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "worker_peak_rss_mb": 0,
        "provider": embedder.provider,
    }


def step_costs(folder: Path, count: int = 48) -> dict[str, float]:
    """CPU milliseconds per photo of each step of a cold scan, one thread each, on the folder's originals."""
    files = sorted(folder.glob("IMG_?????.jpg"))[:count]
    blobs = [path.read_bytes() for path in files]
    costs: dict[str, float] = {}

    def timed(name: str, step: Callable[[int], object], calls: int, images_per_call: int = 1) -> None:
        step(0)  # the first call pays for imports and lazy set-up
        started = time.process_time()
        for index in range(calls):
            step(index)
        costs[name] = round(1000 * (time.process_time() - started) / (calls * images_per_call), 1)

    timed("read the file", lambda i: files[i].read_bytes(), len(files))
    timed("content digest (BLAKE2b)", lambda i: content_digest(blobs[i]), len(files))
    timed("decode to the 224x224 working image", lambda i: decode(blobs[i], ".jpg"), len(files))
    images = [np.asarray(decode(blob, ".jpg").image) for blob in blobs]
    timed("8 orientations x pHash, dHash", lambda i: dihedral_hashes(Image.fromarray(images[i])), len(files))
    if model_path().exists() and len(images) >= BATCH_SIZE:
        embedder = Embedder(threads=1)
        batches = [np.stack(images[i : i + BATCH_SIZE]) for i in range(0, len(images) - BATCH_SIZE + 1, BATCH_SIZE)]
        timed("CNN embedding, batches of 16", lambda i: embedder.embed(batches[i]), len(batches), BATCH_SIZE)
    return costs


def run_isolated(folder: Path, cache: Path, method: Method) -> dict[str, object]:
    code = (
        "import json, sys; from pathlib import Path; from dedup_gui.core.model import Method;"
        "from tests.benchmarks.bench_scan import measure;"
        f"print(json.dumps(measure(Path({str(folder)!r}), Path({str(cache)!r}), Method({method.value!r}))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=200, help="12 MP originals to generate (about 30%% get a copy)")
    parser.add_argument("--mixed", type=int, default=100, help="originals of the mixed folder (2 MP, PNG, WebP)")
    parser.add_argument("--small", type=int, default=10000, help="small images for the rescan figures")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "dedup-gui-bench")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    photos, small = photo_folder(args.workdir, args.photos), small_folder(args.workdir, args.small)
    mixed = photo_folder(args.workdir, args.mixed, mixed=True)
    rows: dict[str, dict[str, object]] = {}
    methods = [Method.HASH] + ([Method.AUTO] if model_path().exists() else [])
    if Method.AUTO in methods:
        rows["CNN inference alone, batch 16"] = embedding_throughput()
    for method in methods:
        cache = args.workdir / f"cache-{method.value}.sqlite3"
        cache.unlink(missing_ok=True)
        rows[f"cold scan, 12 MP JPEG, {method.value}"] = run_isolated(photos, cache, method)
        rows[f"unchanged rescan, 12 MP JPEG, {method.value}"] = run_isolated(photos, cache, method)
        cache.unlink()
        rows[f"cold scan, mixed 12/2 MP, PNG, WebP, {method.value}"] = run_isolated(mixed, cache, method)
    cache = args.workdir / "cache-small.sqlite3"
    cache.unlink(missing_ok=True)
    rows["cold scan, small images, auto" if Method.AUTO in methods else "cold scan, small images, hash"] = run_isolated(
        small, cache, methods[-1]
    )
    rows["unchanged rescan, small images"] = run_isolated(small, cache, methods[-1])
    files = sorted(small.rglob("*.jpg"))
    for path in files[::100]:
        os.utime(path)
    rows["rescan after touching 1 % of small images"] = run_isolated(small, cache, methods[-1])
    print(f"{'measurement':<46}{'files':>7}{'s':>8}{'files/s':>9}{'RSS MB':>8}{'P':>7}{'R':>7}")
    for name, row in rows.items():
        print(
            f"{name:<46}{row['files']:>7}{row['seconds']:>8}{row['per_second']:>9}"
            f"{max(int(row['peak_rss_mb']), int(row['worker_peak_rss_mb'])):>8}"
            f"{row.get('precision', ''):>7}{row.get('recall', ''):>7}"
        )
    steps = step_costs(photos)
    print(f"\n{'CPU per 12 MP photo, one thread':<46}{'ms':>7}")
    for name, ms in steps.items():
        print(f"{name:<46}{ms:>7}")
    print(f"{'total':<46}{round(sum(steps.values()), 1):>7}")
    if args.json:
        args.json.write_text(json.dumps({"cpu_count": os.cpu_count(), "rows": rows, "steps_ms": steps}, indent=2))


if __name__ == "__main__":
    main()
