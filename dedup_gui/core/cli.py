"""Command-line interface: the whole scan headless, machine output on stdout, progress on stderr."""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

from dedup_gui import __version__
from dedup_gui.core import report
from dedup_gui.core.graph import MAX_HASH_DISTANCE, Thresholds
from dedup_gui.core.grouping import GroupPolicy
from dedup_gui.core.model import Method
from dedup_gui.core.pipeline import ScanOptions, ScanResult, scan
from dedup_gui.core.progress import CancelToken, ProgressEvent

_FORMATS = {"json": report.to_json, "csv": report.to_csv, "imagededup": report.to_imagededup}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dedup-gui",
        description="Find exact and near-duplicate images. Without a command, opens the window.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    scan_cmd = commands.add_parser("scan", help="scan folders and print the duplicate groups")
    scan_cmd.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="folders to scan")
    scan_cmd.add_argument(
        "--exclude", action="append", default=[], metavar="GLOB", help="skip matching paths"
    )
    scan_cmd.add_argument(
        "--threshold",
        type=int,
        default=Thresholds().hash_distance,
        metavar="N",
        help=f"largest pHash distance (0-64) that counts as a copy (default %(default)s; up to"
        f" {MAX_HASH_DISTANCE} regroups without searching again)",
    )
    scan_cmd.add_argument("--method", choices=[m.value for m in Method], default=Method.AUTO.value)
    scan_cmd.add_argument(
        "--policy",
        choices=[p.value for p in GroupPolicy],
        default=GroupPolicy.STAR.value,
        help="star: every member matches the group's centre (default); components: any chain of matches",
    )
    scan_cmd.add_argument("--format", choices=sorted(_FORMATS), default="json")
    scan_cmd.add_argument("-o", "--output", type=Path, metavar="FILE", help="write the result here")
    scan_cmd.add_argument("--include-hidden", action="store_true", help="also scan hidden files and folders")
    scan_cmd.add_argument("--follow-symlinks", action="store_true", help="follow symbolic links")
    scan_cmd.add_argument("--min-size", type=int, default=0, metavar="BYTES", help="skip smaller files")
    scan_cmd.add_argument(
        "--max-megapixels", type=float, default=250.0, metavar="MP", help="refuse larger images (default 250)"
    )
    scan_cmd.add_argument(
        "--workers", type=int, metavar="N", help="decoding processes (default: one per CPU)"
    )
    scan_cmd.add_argument(
        "--cache", type=Path, metavar="FILE", help="feature cache file (default: user cache)"
    )
    scan_cmd.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    return parser


class _StderrProgress:
    """One rewritten status line on stderr, with ETA; silent when stderr is not a terminal and quiet."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self._last = 0.0

    def __call__(self, event: ProgressEvent) -> None:
        if self.quiet:
            return
        now = time.monotonic()
        finished = event.finished or (event.total is not None and event.done >= event.total)
        if now - self._last < 0.5 and not finished:
            return
        self._last = now
        line = f"{event.stage.value}: {event.done}"
        if event.total is not None:
            line += f"/{event.total}"
        if event.eta_s:
            line += f", about {_duration(event.eta_s)} left"
        end = "\n" if finished or not sys.stderr.isatty() else "\r"
        print(f"\x1b[2K{line}" if sys.stderr.isatty() else line, end=end, file=sys.stderr, flush=True)


def _duration(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"


def run_scan(args: argparse.Namespace) -> int:
    if not 0 <= args.threshold <= 64:
        print("dedup-gui: --threshold must be between 0 and 64", file=sys.stderr)
        return 2
    options = ScanOptions(
        roots=tuple(p.absolute() for p in args.paths),
        exclude=tuple(args.exclude),
        include_hidden=args.include_hidden,
        follow_symlinks=args.follow_symlinks,
        min_size=args.min_size,
        method=Method(args.method),
        thresholds=Thresholds(hash_distance=args.threshold),
        policy=GroupPolicy(args.policy),
        max_megapixels=args.max_megapixels,
        workers=args.workers,
        cache_path=args.cache,
    )
    cancel = CancelToken()
    try:
        result = scan(options, _StderrProgress(args.quiet), cancel)
    except (NotADirectoryError, PermissionError) as exc:
        print(f"dedup-gui: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("dedup-gui: interrupted", file=sys.stderr)
        return 130
    text = _FORMATS[args.format](result)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8", errors="surrogateescape")
    else:
        sys.stdout.write(text + "\n")
    _print_summary(result, quiet=args.quiet)
    return 0


def _print_summary(result: ScanResult, quiet: bool) -> None:
    for notice in result.notices:
        print(f"dedup-gui: {notice}", file=sys.stderr)
    if quiet:
        return
    facts = report.summary(result)
    print(
        f"{facts['files']} images, {facts['groups']} groups, {facts['duplicates']} duplicates"
        f" ({facts['reclaimable_bytes'] / 1e6:.1f} MB to reclaim), {facts['skipped']} skipped,"
        f" {facts['decoded']} decoded, {facts['from_cache']} from cache, {facts['elapsed_s']:.1f} s",
        file=sys.stderr,
    )
    if result.skipped:
        reasons = Counter(s.reason.split(":")[0] for s in result.skipped)
        print("skipped: " + "; ".join(f"{n} {r}" for r, n in reasons.most_common()), file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "scan":
        return run_scan(args)
    parser.print_help()
    return 0
