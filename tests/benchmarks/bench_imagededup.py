"""dedup_gui side by side with imagededup 0.3: wall time and accuracy on the same folders, in one run.

    python -m tests.benchmarks.bench_imagededup [--photos 200] [--repeat 1] [--no-devset]
        [--cnn-time-without-weights] [--workdir DIR] [--json FILE]

imagededup is a benchmark-only dependency (the ``bench`` extra names it; the app and CI never need it). It
needs torch, so it lives in a virtual environment of its own, not the project's:

    python3 -m venv /work/bench-venv
    /work/bench-venv/bin/pip install torch==2.14.1 torchvision==0.29.1 'imagededup==0.3.*'

(on this machine pip takes that torch and torchvision from local disk). ``BENCH_IMAGEDEDUP_PYTHON`` names
another interpreter with imagededup instead. This script runs in the project's venv; every measurement is
a fresh process: ours with this interpreter, imagededup's with that one.

Folders: bench_scan's camera-like 12 MP JPEGs (same work folder, so generated once) and the real-photo dev
set (tests/devset). The files are read once before timing, so the OS file cache is warm for every tool;
"cold" means our feature cache is empty (a new ``DEDUP_GUI_CACHE_DIR`` and cache file per run).
``seconds`` is wall time from the first call (our ``scan``; imagededup's ``PHash()``/``CNN()`` and
``find_duplicates``) to the finished ``{file: [duplicates]}`` map: model loading counts, interpreter start
and imports do not (importing torch alone takes seconds); ``process s`` is the whole process.
``x ours`` is that row's seconds over our default (auto) scan's on the same folder.

Both tools run at their defaults: imagededup's PHash at max_distance_threshold=10 and CNN (MobileNetV3
small) at min_similarity_threshold=0.9; ours with method auto (pHash distance 8, cosine 0.75) and, for
reference, hash only. Every map is scored by ``dedup_gui.core.evaluation.evaluate``, as
``dedup-gui evaluate`` does. imagededup's CNN loads its weights through torchvision from
download.pytorch.org (or torch's hub cache); when that fails, the table says why and it has no row.
``--cnn-time-without-weights`` then still times that path (same network, same decoding, untrained weights),
shown as "time only": a cost, never an accuracy.

Imports of dedup_gui, numpy and the folder generators sit inside functions: the worker half of this module
also runs in imagededup's interpreter, which need not have them.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_VENV_PYTHON = Path("/work/bench-venv/bin/python")
REPO = Path(__file__).resolve().parents[2]
OURS = ("ours-auto", "ours-hash")
THEIRS = ("imagededup-phash", "imagededup-cnn")
TIME_ONLY = "imagededup-cnnrandom"
LABELS = {
    "ours-auto": ("dedup_gui", "auto (hash 8 + CNN 0.75)"),
    "ours-hash": ("dedup_gui", "hash (pHash 8)"),
    "imagededup-phash": ("imagededup", "PHash (distance 10)"),
    "imagededup-cnn": ("imagededup", "CNN (similarity 0.9)"),
    TIME_ONLY: ("imagededup", "CNN, random weights"),
}


def imagededup_python() -> Path | None:
    """The interpreter with imagededup: ``BENCH_IMAGEDEDUP_PYTHON``, else /work/bench-venv's, if present."""
    named = os.environ.get("BENCH_IMAGEDEDUP_PYTHON")
    if named:
        return Path(named)
    return DEFAULT_VENV_PYTHON if DEFAULT_VENV_PYTHON.exists() else None


# --- workers: one measurement each, in a fresh process -----------------------------------------------------


def _ours(folder: Path, method_name: str) -> tuple[float, dict[str, list[str]]]:
    from dedup_gui.core import report
    from dedup_gui.core.model import Method
    from dedup_gui.core.pipeline import ScanOptions, scan

    cache = Path(os.environ["DEDUP_GUI_CACHE_DIR"]) / "features.sqlite3"
    started = time.perf_counter()
    result = scan(ScanOptions(roots=(folder,), cache_path=cache, method=Method(method_name)))
    mapping = report.duplicate_map(result)
    return time.perf_counter() - started, mapping


def _imagededup(folder: Path, method_name: str) -> tuple[float, dict[str, list[str]]]:
    from unittest import mock

    from imagededup.methods import CNN, PHash
    from imagededup.utils import models

    build = models.models.mobilenet_v3_small
    started = time.perf_counter()
    if method_name == "phash":
        mapping = PHash().find_duplicates(image_dir=folder, max_distance_threshold=10)
    elif method_name == "cnn":
        mapping = CNN().find_duplicates(image_dir=folder, min_similarity_threshold=0.9)
    else:
        # The same network and code path with untrained weights: the cost of the CNN path, never its accuracy.
        with mock.patch.object(models.models, "mobilenet_v3_small", lambda weights: build(weights=None)):
            cnn = CNN()
        mapping = cnn.find_duplicates(image_dir=folder, min_similarity_threshold=0.9)
    return time.perf_counter() - started, mapping


def _hub_checkpoints() -> str:
    """Where torchvision looks for downloaded weights before fetching them, and what it holds."""
    import torch

    folder = Path(torch.hub.get_dir()) / "checkpoints"
    held = sorted(p.name for p in folder.glob("*")) if folder.is_dir() else []
    return f"{folder} holds {', '.join(held) or 'nothing'}"


def worker(kind: str, folder: Path, out: Path) -> None:
    """Run one tool on ``folder`` and write its seconds, map and peak memory (or why it failed) to ``out``."""
    tool, method_name = kind.split("-")
    try:
        seconds, mapping = (_ours if tool == "ours" else _imagededup)(folder, method_name)
    except Exception as exc:  # noqa: BLE001 - the failure itself is the result (e.g. CNN weights offline)
        error = f"{type(exc).__name__}: {exc}"
        if kind == "imagededup-cnn":
            error += f"; torch hub cache {_hub_checkpoints()}"
        out.write_text(json.dumps({"error": error}))
        return
    peak_kb = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    mapping = {str(name): [str(other) for other in others] for name, others in mapping.items()}
    out.write_text(json.dumps({"seconds": seconds, "peak_rss_mb": round(peak_kb / 1024), "map": mapping}))


def run_worker(kind: str, folder: Path, python: Path) -> dict[str, object]:
    """One cold measurement in a new process with an empty cache folder; adds the process's wall time."""
    with tempfile.TemporaryDirectory(prefix="bench-imagededup-") as scratch:
        out = Path(scratch) / "result.json"
        env = {**os.environ, "DEDUP_GUI_CACHE_DIR": str(Path(scratch) / "cache")}
        command = [str(python), "-m", "tests.benchmarks.bench_imagededup", "--worker", kind, str(folder), str(out)]
        started = time.perf_counter()
        done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
        process_seconds = time.perf_counter() - started
        if not out.exists():
            return {"error": f"worker exited {done.returncode}: {done.stderr.strip()[-2000:]}"}
        figures = json.loads(out.read_text())
    figures["process_seconds"] = process_seconds
    return figures


# --- the comparison -----------------------------------------------------------------------------------------


def warm_file_cache(folder: Path) -> None:
    """Read every file once so no tool pays for the disk and all of them find the same OS file cache."""
    for path in folder.iterdir():
        if path.is_file():
            path.read_bytes()


def score(mapping: dict[str, list[str]], folder: Path) -> dict[str, object]:
    """Pairwise and per-family scores through ``evaluate``; on the dev set also its "test" half alone."""
    from dedup_gui.core import evaluation

    truth = json.loads((folder / "ground_truth.json").read_text())
    families_path, splits_path = folder / "families.json", folder / "splits.json"
    families = json.loads(families_path.read_text()) if families_path.exists() else None
    scores: dict[str, object] = {"all": evaluation.evaluate(truth, mapping, families).as_dict()}
    if splits_path.exists():
        splits = json.loads(splits_path.read_text())

        def test_half(m: dict[str, list[str]]) -> dict[str, list[str]]:
            return {name: others for name, others in m.items() if splits.get(name) == "test"}

        scores["test_half"] = evaluation.evaluate(test_half(truth), test_half(mapping), families).as_dict()
    return scores


def compare(folder: Path, repeat: int, theirs: Path | None, cnn_time_only: bool) -> dict[str, object]:
    """Every tool on ``folder``, ``repeat`` times in turn; median seconds, scores of the first run."""
    warm_file_cache(folder)
    kinds = [*OURS, *(THEIRS if theirs else ()), *((TIME_ONLY,) if theirs and cnn_time_only else ())]
    runs: dict[str, list[dict[str, object]]] = {kind: [] for kind in kinds}
    failed: dict[str, str] = {}
    for _ in range(repeat):
        for kind in kinds:
            if kind in failed:
                continue
            figures = run_worker(kind, folder, Path(sys.executable) if kind in OURS else theirs)
            if "error" in figures:
                failed[kind] = str(figures["error"])
                print(f"{folder.name}: {kind} failed: {failed[kind][-600:]}", flush=True)
            else:
                runs[kind].append(figures)
    rows: dict[str, dict[str, object]] = {}
    for kind, done in runs.items():
        if not done:
            continue
        seconds = statistics.median(float(run["seconds"]) for run in done)
        images = len(done[0]["map"])
        rows[kind] = {
            "images": images,
            "seconds": round(seconds, 3),
            "seconds_each": [round(float(run["seconds"]), 3) for run in done],
            "per_second": round(images / seconds, 1),
            "process_seconds": round(statistics.median(float(run["process_seconds"]) for run in done), 3),
            "peak_rss_mb": max(int(run["peak_rss_mb"]) for run in done),
            "scores": None if kind == TIME_ONLY else score(done[0]["map"], folder),
        }
    if "ours-auto" in rows:
        for row in rows.values():
            row["ratio_to_ours"] = round(float(row["seconds"]) / float(rows["ours-auto"]["seconds"]), 2)
    return {"folder": str(folder), "rows": rows, "failed": failed}


def devset_folder(workdir: Path) -> Path:
    from tests.devset.generate import build

    folder = workdir / "devset"
    if not (folder / "ground_truth.json").exists():
        build(folder)
    return folder


def print_table(results: dict[str, dict[str, object]]) -> None:
    header = (
        f"{'folder':<18}{'tool':<12}{'method':<26}{'images':>7}{'s':>9}{'img/s':>8}{'x ours':>8}"
        f"{'proc s':>8}{'RSS MB':>8}{'P':>7}{'R':>7}{'F1':>7}"
    )
    print(header)
    for name, result in results.items():
        for kind, row in result["rows"].items():
            tool, method = LABELS[kind]
            pairs = row["scores"]["all"]["pairs"] if row["scores"] else None
            accuracy = (
                f"{pairs['precision']:>7.3f}{pairs['recall']:>7.3f}{pairs['f1']:>7.3f}" if pairs else "  (time only)"
            )
            print(
                f"{name:<18}{tool:<12}{method:<26}{row['images']:>7}{row['seconds']:>9.2f}{row['per_second']:>8.1f}"
                f"{row.get('ratio_to_ours', ''):>8}{row['process_seconds']:>8.1f}{row['peak_rss_mb']:>8}{accuracy}"
            )
        for kind, error in result["failed"].items():
            tool, method = LABELS[kind]
            print(f"{name:<18}{tool:<12}{method:<26}  not run: {error.splitlines()[-1][:200]}")
    for name, result in results.items():
        rows = {kind: row for kind, row in result["rows"].items() if row["scores"]}
        if any("test_half" in row["scores"] for row in rows.values()):
            print(f"\n{name}, test half only (our thresholds were tuned on the other half): P / R")
            for kind, row in rows.items():
                half = row["scores"]["test_half"]["pairs"]
                print(f"  {' '.join(LABELS[kind]):<48}{half['precision']:>7.3f}{half['recall']:>7.3f}")
        families = sorted({f for row in rows.values() for f in row["scores"]["all"]["by_family"]})
        if families:
            print(f"\n{name}, recall per edit family (all files):")
            print(f"  {'family':<22}" + "".join(f"{kind:>18}" for kind in rows))
            for family in families:
                cells = [row["scores"]["all"]["by_family"].get(family, {}).get("recall") for row in rows.values()]
                print(f"  {family:<22}" + "".join(f"{c:>18.3f}" if c is not None else f"{'':>18}" for c in cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=200, help="12 MP originals (about 30%% get a copy); 0 skips")
    parser.add_argument("--no-devset", action="store_true", help="skip the real-photo dev set")
    parser.add_argument("--repeat", type=int, default=1, help="cold runs per tool and folder; the median counts")
    parser.add_argument(
        "--cnn-time-without-weights",
        action="store_true",
        help="also time imagededup's CNN path with untrained MobileNetV3 weights (no accuracy): its cost offline",
    )
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "dedup-gui-bench")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--worker", nargs=3, metavar=("KIND", "FOLDER", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind, folder, out = args.worker
        worker(kind, Path(folder), Path(out))
        return
    from tests.benchmarks.bench_scan import photo_folder

    theirs = imagededup_python()
    if theirs is None:
        print(f"imagededup not set up ({DEFAULT_VENV_PYTHON} missing, BENCH_IMAGEDEDUP_PYTHON unset): ours only")
    args.workdir.mkdir(parents=True, exist_ok=True)
    folders: dict[str, Path] = {}
    if args.photos:
        folders[f"12 MP x {args.photos}"] = photo_folder(args.workdir, args.photos)
    if not args.no_devset:
        folders["dev set"] = devset_folder(args.workdir)
    results = {
        name: compare(folder, args.repeat, theirs, args.cnn_time_without_weights) for name, folder in folders.items()
    }
    print_table(results)
    if args.json:
        summary = {"cpu_count": os.cpu_count(), "repeat": args.repeat, "imagededup_python": str(theirs), **results}
        args.json.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
