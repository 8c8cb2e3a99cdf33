"""Run every benchmark with one command and collect the figures in one file.

    python -m tests.benchmarks [--quick] [--only NAME,...] [--gui] [--json FILE]

Each benchmark runs as its own process through its documented command line (``python -m
tests.benchmarks.NAME``), one after another so they do not compete for the CPU; its output is shown as it
comes. A benchmark whose command line offers ``--json`` writes its figures to a temporary file, which goes
into ``--json FILE`` under its name with its command, exit status and wall time; one without it is recorded
by its printed output. ``--quick`` passes small sizes (minutes, not hours) to the benchmarks this runner
knows, and ``--quick`` itself to any other that offers it.

Skipped, with the reason in the summary: a benchmark module that does not exist (yet), bench_gui unless a
display is set or ``--gui`` is given (it then runs offscreen), and bench_imagededup unless
``BENCH_IMAGEDEDUP_PYTHON`` or /work/bench-venv has a Python that imports imagededup (see its docstring), and
bench_gpu unless onnxruntime offers a GPU execution provider.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dedup_gui.core.embedding import ACCELERATED_PROVIDERS
from tests.benchmarks.bench_imagededup import imagededup_python

REPO = Path(__file__).resolve().parents[2]
TAIL_LINES = 40


def _display_or_forced(forced: bool) -> str | None:
    if forced or os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    return "no display (--gui runs it offscreen)"


def _imagededup_ready(_forced: bool) -> str | None:
    python = imagededup_python()
    if python is None:
        return "imagededup not set up: /work/bench-venv missing and BENCH_IMAGEDEDUP_PYTHON unset"
    check = subprocess.run([str(python), "-c", "import imagededup"], capture_output=True, text=True)
    if check.returncode != 0:
        return f"{python} cannot import imagededup: {(check.stderr.strip().splitlines() or ['no message'])[-1]}"
    return None


def _accelerated_provider(_forced: bool) -> str | None:
    import onnxruntime as ort

    if set(ort.get_available_providers()) & set(ACCELERATED_PROVIDERS):
        return None
    return "no GPU execution provider (install the gpu extra on a machine with CUDA)"


@dataclass(frozen=True)
class Benchmark:
    """One benchmark module, the arguments that make it quick, and why it might not run here."""

    name: str
    quick: tuple[str, ...] = ()
    blocker: Callable[[bool], str | None] | None = None
    """Given whether ``--gui`` was passed, the reason to skip, or None to run."""


BENCHMARKS = (
    Benchmark("bench_scan", ("--photos", "20", "--mixed", "20", "--small", "500")),
    Benchmark("bench_knn", ("--count", "10000", "--settings", "16,100,64")),
    Benchmark("bench_scale", ("--count", "30000")),
    Benchmark("bench_cached_scan", ("--count", "20000")),
    Benchmark("bench_regroup"),
    Benchmark("bench_gui", ("--images", "200", "--groups", "5000"), _display_or_forced),
    Benchmark("bench_imagededup", ("--photos", "20"), _imagededup_ready),
    Benchmark("bench_gpu", ("--photos", "40", "--batches", "16,64"), _accelerated_provider),
)


def options_of(module: str) -> str:
    """The module's ``--help`` text, to see which of ``--json`` and ``--quick`` it takes."""
    done = subprocess.run([sys.executable, "-m", module, "--help"], cwd=REPO, capture_output=True, text=True)
    return done.stdout


def run(bench: Benchmark, quick: bool, gui: bool, scratch: Path) -> dict[str, object]:
    """Run one benchmark (or say why not); its figures, command, status and output tail."""
    module = f"tests.benchmarks.{bench.name}"
    if importlib.util.find_spec(module) is None:
        return {"status": "skipped", "reason": f"{module} does not exist"}
    reason = bench.blocker(gui) if bench.blocker else None
    if reason:
        return {"status": "skipped", "reason": reason}
    help_text = options_of(module)
    command = [sys.executable, "-m", module]
    if quick:
        command += bench.quick or (["--quick"] if "--quick" in help_text else [])
    out = scratch / f"{bench.name}.json"
    if "--json" in help_text:
        command += ["--json", str(out)]
    print(f"\n=== {' '.join(command[1:])}", flush=True)
    started = time.perf_counter()
    lines: list[str] = []
    with subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True, bufsize=1) as process:
        assert process.stdout is not None
        for line in process.stdout:
            print(line, end="", flush=True)
            lines.append(line.rstrip("\n"))
    record: dict[str, object] = {
        "status": "ok" if process.returncode == 0 else f"failed (exit {process.returncode})",
        "command": command[1:],
        "seconds": round(time.perf_counter() - started, 1),
        "output_tail": lines[-TAIL_LINES:],
    }
    if out.exists():
        record["figures"] = json.loads(out.read_text())
    return record


def print_summary(records: dict[str, dict[str, object]]) -> None:
    print("\n=== summary")
    print(f"{'benchmark':<20}{'status':<20}{'seconds':>9}  note")
    for name, record in records.items():
        note = record.get("reason") or ("figures collected" if "figures" in record else "output only")
        print(f"{name:<20}{record['status']:<20}{record.get('seconds', ''):>9}  {note}")
    for name, record in records.items():
        if "output_tail" in record:
            print(f"\n--- {name}")
            print("\n".join(record["output_tail"]))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run of every benchmark")
    parser.add_argument("--only", help="comma-separated benchmark names, e.g. bench_scan,bench_knn")
    parser.add_argument("--gui", action="store_true", help="run bench_gui even without a display (offscreen)")
    parser.add_argument("--json", type=Path, help="write every benchmark's figures here")
    args = parser.parse_args()
    chosen = set(args.only.split(",")) if args.only else None
    unknown = (chosen or set()) - {bench.name for bench in BENCHMARKS}
    if unknown:
        parser.error(f"unknown benchmarks: {', '.join(sorted(unknown))}")
    records: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory(prefix="dedup-gui-benchmarks-") as scratch:
        for bench in BENCHMARKS:
            if chosen is None or bench.name in chosen:
                records[bench.name] = run(bench, args.quick, args.gui, Path(scratch))
    print_summary(records)
    if args.json:
        summary = {"quick": args.quick, "python": sys.executable, "cpu_count": os.cpu_count(), "benchmarks": records}
        args.json.write_text(json.dumps(summary, indent=2))
    if any(str(record["status"]).startswith("failed") for record in records.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
