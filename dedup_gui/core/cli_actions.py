"""``dedup-gui apply`` and ``dedup-gui undo``: act on a reviewed result file from the command line, and take
it back.

``apply`` reads what ``dedup-gui scan -o result.json`` wrote (and the window's ``"keep"`` marks, when present),
decides per group which files stay, and hands the rest to ``actions``, which checks every file again against
the size, modification time and digest in the result file. Exit status: 0 when everything requested was done
or refused safely, 1 when an action failed, 2 for bad arguments or an unreadable result file.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dedup_gui.core import actions
from dedup_gui.core.keep_rules import DEFAULT_RULES, Criterion, FileRecord, Rule, decide
from dedup_gui.core.report import REPORT_VERSION

APPLY_DEFAULT_RULES: tuple[Rule, ...] = tuple(r for r in DEFAULT_RULES if r.enabled)
"""Reference folder, camera RAW, highest resolution, oldest date taken, earliest modified, no added border,
largest file, shortest path."""


class ResultFileError(Exception):
    """The result file cannot be read or is not a dedup-gui scan result."""


def register(subparsers: Any) -> None:
    """Add the ``apply`` and ``undo`` commands to the CLI's subparsers (``handler`` set on each)."""
    apply = subparsers.add_parser(
        "apply",
        help="move the duplicates of a reviewed result file to the trash or a folder",
        description="Remove the copies listed in a result file of `dedup-gui scan`: each file is checked against"
        " the scan first, and every group keeps at least one file. Undo with `dedup-gui undo`.",
    )
    apply.add_argument("result", type=Path, metavar="RESULT.json", help="written by `dedup-gui scan -o`")
    where = apply.add_mutually_exclusive_group()
    where.add_argument("--to-trash", action="store_true", help="move them to the system trash (the default)")
    where.add_argument("--move-to", type=Path, metavar="DIR", help="move them under DIR, keeping their subfolders")
    apply.add_argument("--dry-run", action="store_true", help="check and report only; change nothing")
    apply.add_argument(
        "--keep",
        action="append",
        type=parse_rule,
        metavar="RULE",
        help="which file a group keeps when the result file has no marks; repeat in order of priority. RULE is"
        f" one of {', '.join(_RULE_NAMES)} (preferred-folder=DIR). Default: reference-folder raw"
        " resolution oldest-date earliest-modified no-border size shortest-path",
    )
    apply.add_argument(
        "--reference",
        action="append",
        type=Path,
        default=[],
        metavar="DIR",
        help="a folder of originals: its files are always kept and never touched, and a group with one keeps it",
    )
    apply.add_argument(
        "--hard-link",
        action="store_true",
        help="leave a hard link to the kept file where each removed identical copy was (same file system only)",
    )
    apply.set_defaults(handler=run_apply)
    undo = subparsers.add_parser(
        "undo",
        help="put back the files of a batch moved by apply or the window",
        description="Restore the files of one batch (default: the last) to where they were; a file that now"
        " exists at the original path is never overwritten. A batch cut short by a crash is rolled back.",
    )
    undo.add_argument("batch", nargs="?", type=int, metavar="ID", help="the batch to undo (see --list)")
    undo.add_argument("--list", action="store_true", help="list recent batches instead")
    undo.set_defaults(handler=run_undo)


def run(args: argparse.Namespace) -> int:
    """Run ``apply`` or ``undo`` from parsed arguments; returns the exit status."""
    handler = {"apply": run_apply, "undo": run_undo}.get(getattr(args, "command", ""), getattr(args, "handler", None))
    if handler is None:
        raise ValueError("not an apply or undo command")
    return handler(args)


# Rules -----------------------------------------------------------------------------------------------------

_RULE_NAMES = tuple(c.value for c in Criterion)


def parse_rule(text: str) -> Rule:
    """``--keep`` value: a criterion name, ``preferred-folder=DIR`` (or ``reference-folder=DIR``)."""
    name, _, folder = text.partition("=")
    try:
        criterion = Criterion(name.strip().lower())
    except ValueError:
        raise argparse.ArgumentTypeError(f"unknown rule {name!r}; choose from {', '.join(_RULE_NAMES)}") from None
    if criterion is Criterion.PREFERRED_FOLDER and not folder:
        raise argparse.ArgumentTypeError("preferred-folder needs a folder: preferred-folder=DIR")
    if folder and criterion not in (Criterion.PREFERRED_FOLDER, Criterion.REFERENCE_FOLDER):
        raise argparse.ArgumentTypeError(f"rule {name!r} takes no folder")
    return Rule(criterion, True, Path(folder).absolute() if folder else None)


def keep_rules_from_args(given: Sequence[Rule] | None) -> tuple[Rule, ...]:
    """The ``--keep`` rules in order (default: ``APPLY_DEFAULT_RULES``). Reference folders always come first:
    naming a folder of originals means its copy is the one a group keeps."""
    if not given:
        return APPLY_DEFAULT_RULES
    if any(r.criterion is Criterion.REFERENCE_FOLDER for r in given):
        return tuple(given)
    return (Rule(Criterion.REFERENCE_FOLDER), *given)


# Apply -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupDecision:
    """One group of the result file: what stays (and why), and what goes."""

    number: int
    kept: tuple[FileRecord, ...]
    reason: str
    removed: tuple[FileRecord, ...]


def load_result(path: Path) -> dict[str, Any]:
    """The result document; raises ``ResultFileError`` with a one-line reason."""
    try:
        document = json.loads(path.read_text(encoding="utf-8", errors="surrogateescape"))
    except OSError as exc:
        raise ResultFileError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise ResultFileError(f"{path} is not JSON: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("groups"), list):
        raise ResultFileError(f"{path} is not a result file of `dedup-gui scan --format json`")
    if document.get("version") != REPORT_VERSION:
        raise ResultFileError(
            f"{path} has result format version {document.get('version')!r}; expected {REPORT_VERSION}"
        )
    return document


def decide_groups(document: dict[str, Any], rules: Sequence[Rule], references: Sequence[Path]) -> list[GroupDecision]:
    """Per group: the window's ``keep`` marks when present, else the keep rules. Raises ``ResultFileError``."""
    decisions = []
    for number, group in enumerate(document["groups"], start=1):
        try:
            members = group["members"]
            records = [FileRecord.from_json(m) for m in members]
            marks = [m.get("keep") for m in members]
            number = int(group.get("id", number))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ResultFileError(f"group {number} of the result file is malformed ({exc!r})") from exc
        if any(mark is not None and not isinstance(mark, bool) for mark in marks):
            raise ResultFileError(f'group {number}: a "keep" mark is not true or false')
        if len(records) < 2:
            raise ResultFileError(f"group {number} of the result file has {len(records)} member(s), not 2 or more")
        decisions.append(_decide_group(number, records, marks, rules, references))
    return decisions


def _decide_group(
    number: int,
    records: list[FileRecord],
    marks: list[bool | None],
    rules: Sequence[Rule],
    references: Sequence[Path],
) -> GroupDecision:
    if any(mark is not None for mark in marks):
        # Marked by a person: a member without a mark stays, so a half-marked group never loses a file by default.
        kept = tuple(r for r, mark in zip(records, marks, strict=True) if mark is not False)
        removed = tuple(r for r, mark in zip(records, marks, strict=True) if mark is False)
        return GroupDecision(number, kept, "marked to keep", removed)
    verdicts = decide(records, rules, references)
    kept = tuple(r for r, v in zip(records, verdicts, strict=True) if v.keep)
    removed = tuple(r for r, v in zip(records, verdicts, strict=True) if not v.keep)
    reason = next(v.reason for v in verdicts if v.keep)
    return GroupDecision(number, kept, reason, removed)


def run_apply(args: argparse.Namespace) -> int:
    references = tuple(p.absolute() for p in args.reference)
    missing = [str(p) for p in references if not p.is_dir()]
    if missing:
        return _fail(f"--reference {missing[0]} is not a folder: its files could not be protected", 2)
    rules = keep_rules_from_args(args.keep)
    if args.move_to is not None and args.move_to.exists() and not args.move_to.is_dir():
        return _fail(f"--move-to {args.move_to} is not a folder", 2)
    try:
        document = load_result(args.result)
        decisions = decide_groups(document, rules, references)
    except ResultFileError as exc:
        return _fail(str(exc), 2)
    roots = [Path(r) for r in document.get("roots", [])]
    if args.move_to is not None and any(args.move_to.absolute().is_relative_to(root) for root in roots):
        print(
            f"dedup-gui: note: {args.move_to} is inside a scanned folder, so the next scan of it finds the moved"
            " copies again (exclude it with --exclude)",
            file=sys.stderr,
        )
    requests = [actions.Request(file, d.kept) for d in decisions for file in d.removed]
    try:
        outcome = _apply(args, requests, roots, references)
    except (OSError, sqlite3.Error, RuntimeError) as exc:
        return _fail(f"nothing more was done: the journal cannot be used ({exc})", 1)
    _print_apply(decisions, outcome, args.move_to)
    return 0 if outcome.ok else 1


def _apply(
    args: argparse.Namespace, requests: list[actions.Request], roots: list[Path], references: tuple[Path, ...]
) -> actions.Outcome:
    if args.move_to is not None:
        return actions.move_to_folder(
            requests,
            args.move_to.absolute(),
            roots=roots,
            references=references,
            hard_link=args.hard_link,
            dry_run=args.dry_run,
        )
    return actions.move_to_trash(requests, references=references, hard_link=args.hard_link, dry_run=args.dry_run)


_LABELS = {
    actions.Status.DONE: "moved",
    actions.Status.WOULD: "would move",
    actions.Status.REFUSED: "refused",
    actions.Status.FAILED: "FAILED",
}


def _print_apply(decisions: list[GroupDecision], outcome: actions.Outcome, move_to: Path | None) -> None:
    results = {_key(item.path): item for item in outcome.items}
    for decision in decisions:
        if not decision.removed:
            continue
        kept = ", ".join(show(k.path) for k in decision.kept) or "nothing"
        print(f"group {decision.number}: keep {kept} ({decision.reason})")
        for file in decision.removed:
            item = results.get(_key(file.path))
            if item is not None:
                print(f"  {_LABELS[item.status]:<10} {show(item.path)}: {item.message}")
    print(_summary(outcome, move_to))


def _summary(outcome: actions.Outcome, move_to: Path | None) -> str:
    where = "the trash" if move_to is None else show(move_to)
    counts = f"{len(outcome.refused)} refused, {len(outcome.errors)} failed"
    if outcome.dry_run:
        return f"Dry run: {len(outcome.would)} would be moved to {where}, {counts}; nothing was changed."
    text = f"{len(outcome.done)} moved to {where}, {counts}."
    if outcome.batch is not None and outcome.done:
        text = f"Batch {outcome.batch.id}: {text} Undo with: dedup-gui undo {outcome.batch.id}"
    return text


# Undo ------------------------------------------------------------------------------------------------------


def run_undo(args: argparse.Namespace) -> int:
    try:
        if args.list:
            _print_batches(actions.batches())
            return 0
        outcome = actions.undo(args.batch)
    except actions.UnknownBatch as exc:
        return _fail(f"{exc} (see dedup-gui undo --list)", 2)
    except actions.BatchBusy as exc:
        return _fail(str(exc), 1)
    except (OSError, sqlite3.Error, RuntimeError) as exc:
        return _fail(f"the journal cannot be used ({exc})", 1)
    if outcome.batch is None:
        print("Nothing to undo.")
        return 0
    for item in outcome.items:
        label = {actions.Status.DONE: "restored"}.get(item.status, _LABELS[item.status])
        print(f"  {label:<10} {show(item.path)}: {item.message}")
    print(
        f"Batch {outcome.batch.id}: {len(outcome.done)} restored, {len(outcome.refused)} refused,"
        f" {len(outcome.errors)} failed."
    )
    return 0 if outcome.ok else 1


def _print_batches(batches: list[actions.Batch]) -> None:
    if not batches:
        print("No batches yet.")
        return
    for batch in batches:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(batch.created))
        where = "to the trash" if batch.kind == actions.Mode.TRASH.value else f"to {batch.options.get('destination')}"
        counts = ", ".join(f"{n} {state}" for state, n in sorted(batch.counts.items()))
        flag = "  [cut short: `dedup-gui undo ID` rolls it back]" if batch.incomplete else ""
        print(f"{batch.id:>5}  {when}  moved {where}: {counts}{flag}")


# Helpers ---------------------------------------------------------------------------------------------------


def show(path: Path) -> str:
    """A path printable on any terminal (undecodable bytes shown as replacement characters)."""
    return os.fsencode(path).decode("utf-8", "replace")


def _key(path: Path) -> str:
    return os.path.abspath(path)


def _fail(message: str, status: int) -> int:
    print(f"dedup-gui: {message}", file=sys.stderr)
    return status
