"""The CNN tier on an accelerated execution provider: which one runs, inference speed, and a cold scan that
decodes on every CPU core.

    python -m tests.benchmarks.bench_gpu [--photos 800] [--batches 16,32,64,128] [--workdir DIR] [--json FILE]

Needs ``onnxruntime-gpu`` (the ``gpu`` extra) and a CUDA GPU for CUDA figures; elsewhere it measures whichever
provider the embedder picks and says so, and ``--require-accelerated`` turns that into a failure. Inference is
timed on random uint8 batches copied from host memory each call, as the scan does; the cold scan generates
camera-like 12 MP JPEGs (about 30 % with a copy) in the work folder and scans them with one decoding process
per CPU core.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from dedup_gui.core.embedding import Embedder
from dedup_gui.core.model import Method
from tests.benchmarks.bench_scan import photo_folder, run_isolated

MIN_SECONDS = 2.0
"""Each batch size runs for at least this long after its warm-up, so a fast provider is timed over many calls."""


def inference(embedder: Embedder, batch: int) -> dict[str, float]:
    """Images per second at one batch size; the first calls (kernel selection, memory pools) are not timed."""
    images = np.random.default_rng(batch).integers(0, 256, (batch, 224, 224, 3), dtype=np.uint8)
    for _ in range(3):
        embedder.embed(images)
    calls = 0
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < MIN_SECONDS or calls < 5:
        embedder.embed(images)
        calls += 1
    return {"batch": batch, "calls": calls, "seconds": round(elapsed, 3), "per_second": round(calls * batch / elapsed)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=800, help="12 MP originals for the cold scan; 0 skips it")
    parser.add_argument("--batches", default="16,32,64,128", help="comma-separated inference batch sizes")
    parser.add_argument("--require-accelerated", action="store_true", help="fail unless a GPU provider runs")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "dedup-gui-bench")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    import onnxruntime as ort

    embedder = Embedder()
    print(f"onnxruntime {ort.__version__}; available: {', '.join(ort.get_available_providers())}")
    print(f"the embedder runs on: {embedder.provider}; {os.cpu_count()} CPU cores")
    if args.require_accelerated and embedder.provider == "CPUExecutionProvider":
        sys.exit("no accelerated provider: install the gpu extra (onnxruntime-gpu) on a machine with CUDA and cuDNN")
    rows = [inference(embedder, int(size)) for size in args.batches.split(",")]
    print(f"\n{'batch':>6}{'calls':>8}{'s':>8}{'images/s':>10}")
    for row in rows:
        print(f"{row['batch']:>6}{row['calls']:>8}{row['seconds']:>8}{row['per_second']:>10}")
    figures: dict[str, object] = {
        "onnxruntime": ort.__version__,
        "provider": embedder.provider,
        "cpu_count": os.cpu_count(),
        "inference": rows,
    }
    if args.photos:
        args.workdir.mkdir(parents=True, exist_ok=True)
        folder = photo_folder(args.workdir, args.photos)
        cache = args.workdir / "cache-gpu.sqlite3"
        cache.unlink(missing_ok=True)
        scan_row = run_isolated(folder, cache, Method.AUTO)
        cache.unlink()
        print(
            f"\ncold scan, 12 MP JPEG, all tiers: {scan_row['files']} files in {scan_row['seconds']} s,"
            f" {scan_row['per_second']} files/s on {scan_row['provider']}, peak RSS {scan_row['peak_rss_mb']} MB"
        )
        figures["cold_scan"] = scan_row
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
