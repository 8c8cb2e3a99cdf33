"""Command-line interface: the whole scan headless, machine output on stdout, progress on stderr."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from dedup_gui import __version__
from dedup_gui.core import cli_actions, evaluation, find, report
from dedup_gui.core.cache import CacheUnusable
from dedup_gui.core.graph import DEFAULT_COSINE, DEFAULT_HASH_DISTANCE, MAX_HASH_DISTANCE, Thresholds
from dedup_gui.core.grouping import GroupPolicy
from dedup_gui.core.logs import setup_logging
from dedup_gui.core.model import Method
from dedup_gui.core.output import OutputError, check_output, write_output
from dedup_gui.core.pipeline import ScanOptions, ScanResult, scan
from dedup_gui.core.progress import CancelToken, ProgressEvent

_FORMATS: dict[str, Callable[[ScanResult, Sequence[int]], str]] = {
    "json": report.to_json,  # the only format that gives each group's space to reclaim
    "csv": lambda result, _: report.to_csv(result),
    "imagededup": lambda result, _: report.to_imagededup(result),
}


EXAMPLES = """\
examples:
  dedup-gui ~/Pictures                       open the window and scan a folder
  dedup-gui scan ~/Pictures -o result.json   scan without a window, write the groups
  dedup-gui find new.jpg --in ~/Pictures     is this picture already there? (its copies, and why)
  dedup-gui apply result.json --dry-run      show what apply would move to the trash
  dedup-gui apply result.json                move the copies to the trash (originals kept)
  dedup-gui undo                             put the last batch back

Nothing leaves this machine. Each command has its own --help."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dedup-gui",
        usage="dedup-gui [PATH ...] [--demo]  |  dedup-gui COMMAND [options]",
        description="Find exact and near-duplicate images, review them side by side, move the copies to\n"
        "the trash (with undo). Without a command, opens the window: on the given folders, on\n"
        "sample photos (--demo), or on the last review.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", prog="dedup-gui")
    scan_cmd = commands.add_parser("scan", help="scan folders and print the duplicate groups")
    scan_cmd.add_argument("paths", nargs="+", type=path_argument, metavar="PATH", help="folders to scan")
    scan_cmd.add_argument("--format", choices=sorted(_FORMATS), default="json")
    scan_cmd.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="FILE",
        help="write the result here (- for stdout); only a new file or an earlier result is written over",
    )
    add_scan_options(scan_cmd)
    scan_cmd.set_defaults(handler=run_scan)
    evaluate_cmd = commands.add_parser("evaluate", help="scan a folder and score the groups against a ground truth")
    evaluate_cmd.add_argument("folder", type=path_argument, metavar="FOLDER")
    evaluate_cmd.add_argument(
        "ground_truth", type=Path, metavar="GROUNDTRUTH.json", help="imagededup's {file: [duplicates]} map"
    )
    evaluate_cmd.add_argument(
        "--families",
        type=Path,
        metavar="FILE",
        help="{file: edit family} map for per-family figures (default: families.json beside the ground truth)",
    )
    evaluate_cmd.add_argument("--json", action="store_true", help="machine-readable output")
    add_scan_options(evaluate_cmd)
    evaluate_cmd.set_defaults(handler=run_evaluate)
    find_cmd = commands.add_parser(
        "find", help="look for copies of some images in folders (is this picture already there?)"
    )
    find_cmd.add_argument("images", nargs="+", type=path_argument, metavar="IMAGE", help="the images to look for")
    find_cmd.add_argument(
        "--in",
        dest="folders",
        action="append",
        required=True,
        type=path_argument,
        metavar="FOLDER",
        help="a folder to look in (repeat for more)",
    )
    find_cmd.add_argument("--json", action="store_true", help="machine-readable output")
    add_scan_options(find_cmd)
    find_cmd.set_defaults(handler=run_find)
    cli_actions.register(commands)
    return parser


def path_argument(text: str) -> Path:
    """A folder or file argument; an empty one (``""``, an unset shell variable) would otherwise mean the current
    folder."""
    if not text:
        raise argparse.ArgumentTypeError("an empty folder name")
    return Path(text)


def add_scan_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by every command that scans."""
    parser.add_argument("--exclude", action="append", default=[], metavar="GLOB", help="skip matching paths")
    parser.add_argument(
        "--threshold",
        type=float,
        metavar="X",
        help="the main tier's threshold: the cosine similarity (0-1) with --method cnn/auto, the pHash"
        " distance (0-64) with --method hash",
    )
    parser.add_argument(
        "--cosine",
        type=float,
        metavar="X",
        help=f"CNN cosine similarity at or above which images are copies (default {DEFAULT_COSINE})",
    )
    parser.add_argument(
        "--hash-distance",
        type=int,
        metavar="N",
        help=f"pHash distance (of 64 bits) at or below which images are copies"
        f" (default {DEFAULT_HASH_DISTANCE};"
        f" up to {MAX_HASH_DISTANCE} regroups without searching again)",
    )
    parser.add_argument("--method", choices=[m.value for m in Method], default=Method.AUTO.value)
    parser.add_argument(
        "--policy",
        choices=[p.value for p in GroupPolicy],
        default=GroupPolicy.STAR.value,
        help="star: every member matches the group's centre (default); components: any chain of matches",
    )
    parser.add_argument("--include-hidden", action="store_true", help="also scan hidden files and folders")
    parser.add_argument("--follow-symlinks", action="store_true", help="follow symbolic links")
    parser.add_argument("--min-size", type=int, default=0, metavar="BYTES", help="skip smaller files")
    parser.add_argument(
        "--max-megapixels", type=float, default=250.0, metavar="MP", help="refuse larger images (default 250)"
    )
    parser.add_argument("--workers", type=int, metavar="N", help="decoding processes (default: one per CPU)")
    parser.add_argument("--cache", type=Path, metavar="FILE", help="feature cache file (default: user cache)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")


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
        if event.empty:
            line = f"{event.stage.value}: nothing to do"
        elif event.total is not None:
            line += f"/{event.total}"
        if event.eta_s:
            line += f", about {_duration(event.eta_s)} left"
        end = "\n" if finished or not sys.stderr.isatty() else "\r"
        print(f"\x1b[2K{line}" if sys.stderr.isatty() else line, end=end, file=sys.stderr, flush=True)


def _duration(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"


def thresholds_from_args(args: argparse.Namespace) -> Thresholds:
    """Combine --threshold, --cosine and --hash-distance; raise ValueError with a one-line message."""
    cosine = DEFAULT_COSINE if args.cosine is None else args.cosine
    distance = DEFAULT_HASH_DISTANCE if args.hash_distance is None else args.hash_distance
    if args.threshold is not None:
        if args.method == Method.HASH.value:
            if args.threshold != int(args.threshold):
                raise ValueError("--threshold with --method hash is a whole pHash distance (0-64)")
            distance = int(args.threshold)
        else:
            cosine = args.threshold
    if not 0 <= distance <= 64:
        raise ValueError("the pHash distance must be between 0 and 64")
    if not 0 < cosine <= 1:
        raise ValueError("the cosine threshold must be above 0 and at most 1")
    return Thresholds(hash_distance=distance, cosine=cosine)


def options_from_args(args: argparse.Namespace, roots: list[Path]) -> ScanOptions:
    """ScanOptions from the shared options; raise ValueError with a one-line message."""
    if not math.isfinite(args.max_megapixels) or args.max_megapixels <= 0:
        raise ValueError(f"--max-megapixels must be a positive number, not {args.max_megapixels}")
    if args.workers is not None and args.workers < 0:
        raise ValueError(f"--workers must be 0 (decode in this process) or more, not {args.workers}")
    if args.min_size < 0:
        raise ValueError(f"--min-size must be 0 or more bytes, not {args.min_size}")
    return ScanOptions(
        roots=tuple(p.absolute() for p in roots),
        exclude=tuple(args.exclude),
        include_hidden=args.include_hidden,
        follow_symlinks=args.follow_symlinks,
        min_size=args.min_size,
        method=Method(args.method),
        thresholds=thresholds_from_args(args),
        policy=GroupPolicy(args.policy),
        max_megapixels=args.max_megapixels,
        workers=args.workers,
        cache_path=args.cache,
    )


def _scan_or_report(args: argparse.Namespace, roots: list[Path], files: list[Path] | None = None) -> ScanResult | int:
    """Run the scan; on bad arguments or an unusable folder print one line and return the exit status."""
    try:
        options = replace(options_from_args(args, roots), files=tuple(files or ()))
    except ValueError as exc:
        print(f"dedup-gui: {exc}", file=sys.stderr)
        return 2
    try:
        return scan(options, _StderrProgress(args.quiet), CancelToken())
    except (NotADirectoryError, PermissionError, CacheUnusable) as exc:
        print(f"dedup-gui: {exc}", file=sys.stderr)
        return 2


def run_scan(args: argparse.Namespace) -> int:
    output = None if args.output in (None, Path("-")) else args.output
    if output is not None:
        try:
            check_output(output)
        except OutputError as exc:
            print(f"dedup-gui: {exc}", file=sys.stderr)
            return 2
    result = _scan_or_report(args, args.paths)
    if isinstance(result, int):
        return result
    reclaimable = report.reclaimable_per_group(result)
    text = _FORMATS[args.format](result, reclaimable) + "\n"
    status = 0
    if output is not None:
        try:
            write_output(output, text)
            text = ""
        except OSError as exc:
            print(f"dedup-gui: cannot write {output}: {exc.strerror or exc}; the result follows here", file=sys.stderr)
            status = 1
    sys.stdout.write(text)
    _print_summary(result, quiet=args.quiet, reclaimable=reclaimable)
    return status


def _print_summary(result: ScanResult, quiet: bool, reclaimable: Sequence[int] | None = None) -> None:
    for notice in result.notices:
        print(f"dedup-gui: {notice}", file=sys.stderr)
    if quiet:
        return
    facts = report.summary(result, reclaimable)
    print(
        f"{report.counted(facts['files'], 'image')}, {report.counted(facts['groups'], 'group')},"
        f" {report.counted(facts['duplicates'], 'duplicate')}"
        f" ({facts['reclaimable_bytes'] / 1e6:.1f} MB to reclaim), {facts['skipped']} skipped,"
        f" {facts['decoded']} decoded, {facts['from_cache']} from cache, {facts['elapsed_s']:.1f} s",
        file=sys.stderr,
    )
    if facts["embedded"]:
        print(f"CNN embeddings: {facts['embedded']} on {facts['provider']}", file=sys.stderr)
    if result.skipped:
        reasons = Counter(s.reason.split(":")[0] for s in result.skipped)
        print("skipped: " + "; ".join(f"{n} {r}" for r, n in reasons.most_common()), file=sys.stderr)


def run_evaluate(args: argparse.Namespace) -> int:
    try:
        truth = evaluation.load_mapping(args.ground_truth)
        beside = args.ground_truth.with_name("families.json")
        families_path = args.families or (beside if beside.exists() else None)
        families = evaluation.load_families(families_path) if families_path else None
    except ValueError as exc:
        print(f"dedup-gui: {exc}", file=sys.stderr)
        return 2
    result = _scan_or_report(args, [args.folder])
    if isinstance(result, int):
        return result
    found = report.duplicate_map(result)
    unknown = [name for name in truth if name not in found]
    if unknown:
        print(
            f"dedup-gui: {len(unknown)} of the {len(truth)} files in the ground truth were not among the scanned"
            f" images (e.g. {unknown[0]}); names are relative to {args.folder}",
            file=sys.stderr,
        )
    scores = evaluation.evaluate(truth, found, families)
    if args.json:
        print(json.dumps({**scores.as_dict(), "summary": report.summary(result)}, indent=2))
    else:
        print(evaluation.format_table(scores))
    _print_summary(result, quiet=args.quiet)
    return 0


def run_find(args: argparse.Namespace) -> int:
    """Exit status 0 when some image has a copy, 1 when none has, 2 for bad arguments."""
    images = list(dict.fromkeys(Path(os.path.abspath(path)) for path in args.images))  # each once
    result = _scan_or_report(args, args.folders, images)
    if isinstance(result, int):
        return result
    roots, looked_for = result.options.roots, set(images)

    def counts(path: Path) -> bool:  # in a folder looked in, and not one of the images looked for
        return path not in looked_for and any(path.is_relative_to(root) for root in roots)

    index_of = {f.ref.path: i for i, f in enumerate(result.files)}
    skipped = {s.path: s.reason for s in result.skipped}
    answers = []
    for image in images:
        index = index_of.get(image)
        copies = find.same_files(result, image) + ([] if index is None else find.copies_of(result, index, counts))
        answers.append(
            {
                "image": str(image),
                "copies": [{"path": str(c.path), "reason": c.reason} for c in copies],
                "not_read": None if index is not None else skipped.get(image, "not an image file (by its name)"),
            }
        )
    if args.json:
        print(json.dumps(answers, indent=2))
    else:
        for answer in answers:
            if answer["not_read"]:
                print(f"{answer['image']}: not read: {answer['not_read']}")
                continue
            found = answer["copies"]
            count = "no copy" if not found else "1 copy" if len(found) == 1 else f"{len(found):,} copies"
            print(f"{answer['image']}: {count}")
            for copy in found:
                print(f"  {copy['path']} — {copy['reason']}")
    _print_summary(result, quiet=args.quiet)
    return 0 if any(answer["copies"] for answer in answers) else 1


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging()
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 0
    try:
        return int(handler(args))
    except KeyboardInterrupt:
        print("dedup-gui: interrupted", file=sys.stderr)
        return 130
