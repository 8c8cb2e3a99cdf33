"""Choose the default thresholds on the dev set's "tune" half and report them on the "test" half.

    python -m tests.devset.generate DEVSET && python -m tests.devset.calibrate DEVSET [--json FILE]

One scan builds the pair graph; every candidate cosine threshold regroups from it. The chosen cosine is the
highest among those whose tune-half precision, overall and in every edit family, is at least
``--min-precision`` and whose tune-half recall is within ``--recall-slack`` of the best such recall: the
widest margin against kinds of look-alikes the tune half lacks. The hash distance stays at the shipped
default (``--hash-distance`` to change it): it is the hash tier's threshold for ``--method hash`` too, where
no CNN backs it up, so it is not traded away for the combined verdict. The test half is scored only once, at
the chosen thresholds.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from dedup_gui.core import evaluation
from dedup_gui.core.graph import DEFAULT_HASH_DISTANCE, MAX_HASH_DISTANCE, MIN_COSINE, Thresholds
from dedup_gui.core.pipeline import ScanOptions, ScanResult, scan


def _found_map(result: ScanResult, thresholds: Thresholds, root: Path) -> dict[str, list[str]]:
    names = [file.ref.path.relative_to(root).as_posix() for file in result.files]
    mapping: dict[str, list[str]] = {name: [] for name in names}
    for group in result.regroup(thresholds):
        for m in group.members:
            mapping[names[m]] = [names[o] for o in group.members if o != m]
    return mapping


def _half(mapping: dict[str, list[str]], splits: dict[str, str], half: str) -> dict[str, list[str]]:
    """Entries of one half; a found pair reaching into the other half still counts against this one."""
    return {name: others for name, others in mapping.items() if splits.get(name) == half}


def score(
    result: ScanResult, thresholds: Thresholds, root: Path, truth: dict, families: dict, splits: dict, half: str
) -> evaluation.Evaluation:
    found = _half(_found_map(result, thresholds, root), splits, half)
    return evaluation.evaluate(_half(truth, splits, half), found, families)


def _acceptable(result: evaluation.Evaluation, min_precision: float) -> bool:
    precisions = [result.pairs.precision, *(s.precision for s in result.by_family.values())]
    return min(precisions) >= min_precision


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("devset", type=Path)
    parser.add_argument("--min-precision", type=float, default=0.99)
    parser.add_argument("--recall-slack", type=float, default=0.01)
    parser.add_argument(
        "--hash-distance", type=int, choices=range(MAX_HASH_DISTANCE + 1), default=DEFAULT_HASH_DISTANCE
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    root = args.devset.absolute()
    truth = json.loads((root / "ground_truth.json").read_text())
    families = json.loads((root / "families.json").read_text())
    splits = json.loads((root / "splits.json").read_text())
    result = scan(ScanOptions(roots=(root,), cache_path=root.parent / f"{root.name}.sqlite3"))
    candidates = [
        Thresholds(hash_distance=args.hash_distance, cosine=round(c / 100, 2))
        for c in range(int(MIN_COSINE * 100), 100)
    ]
    tuned = [(t, score(result, t, root, truth, families, splits, "tune")) for t in candidates]
    passing = [(t, s) for t, s in tuned if _acceptable(s, args.min_precision)] or tuned
    top_recall = max(s.pairs.recall for _, s in passing)
    near_top = [(t, s) for t, s in passing if s.pairs.recall >= top_recall - args.recall_slack]
    best, best_tune = max(near_top, key=lambda ts: ts[0].cosine)
    test = score(result, best, root, truth, families, splits, "test")
    print(f"chosen on the tune half: hash distance <= {best.hash_distance}, cosine >= {best.cosine}")
    print(f"tune half:\n{evaluation.format_table(best_tune)}\n\ntest half:\n{evaluation.format_table(test)}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "thresholds": {"hash_distance": best.hash_distance, "cosine": best.cosine},
                    "tune": best_tune.as_dict(),
                    "test": test.as_dict(),
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
