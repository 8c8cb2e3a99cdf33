"""Scoring a threshold's groups against the person's decisions, and keeping those decisions."""

from __future__ import annotations

from pathlib import Path

from dedup_gui.core import calibration
from dedup_gui.core.model import FileRef, Group, ScannedFile
from dedup_gui.core.review_state import ReviewState


def _files(*digests: str | None) -> list[ScannedFile]:
    return [ScannedFile(FileRef(Path(f"/p/{i}.jpg"), 1, 0, 0, i), d, None) for i, d in enumerate(digests)]


def test_pairs_are_counted_only_when_both_contents_were_scanned() -> None:
    files = _files("a", "a", "b", "c", "d", None)  # two identical files of "a"; one file never digested
    by_digest = calibration.group_by_digest(files, [Group((0, 1, 2)), Group((3, 5))])
    assert by_digest == {"a": 0, "b": 0, "c": 1}
    labels = calibration.check(
        by_digest,
        confirmed=[("a", "b"), ("a", "c"), ("b", "elsewhere")],  # grouped; split; not in this scan
        rejected=[("c", "d"), ("a", "b")],  # apart (d is in no group); wrongly together
        present={"a", "b", "c", "d"},
    )
    assert labels == calibration.LabelCheck(confirmed=2, confirmed_grouped=1, rejected=2, rejected_grouped=1)
    assert calibration.describe(labels) == (
        "At this threshold: 1 of 2 copies you confirmed are grouped; 1 of 2 pairs you marked not duplicates would"
        " match (your marks keep them apart)"
    )
    one_each = calibration.LabelCheck(confirmed=1, confirmed_grouped=1, rejected=1, rejected_grouped=0)
    assert calibration.describe(one_each) == (
        "At this threshold: 1 of 1 copy you confirmed is grouped; 0 of 1 pair you marked not duplicates would"
        " match (your marks keep them apart)"
    )
    nothing = calibration.check(by_digest, [], [("x", "y")], {"a"})
    assert nothing.empty and calibration.describe(nothing) == ""


def test_confirmed_and_rejected_pairs_are_kept_apart_and_remembered(tmp_path: Path) -> None:
    state = ReviewState(tmp_path / "review.sqlite3")
    state.mark_distinct([("k", "k")])  # identical files kept on purpose: not a decision about a pair
    assert not state.has_pair_decisions()
    state.mark_distinct([("c", "d")])
    assert state.has_pair_decisions()
    state.mark_confirmed([("b", "a"), ("a", "a"), ("d", "c"), ("e", "a")])  # a self pair and a rejected one: not
    assert sorted(state.confirmed_pairs()) == [("a", "b"), ("a", "e")]
    state.mark_distinct([("a", "e")])  # changing one's mind: the later decision wins
    assert state.confirmed_pairs() == [("a", "b")]
    assert sorted(state.distinct_pairs()) == [("a", "e"), ("c", "d")]
    state.close()
    reopened = ReviewState(tmp_path / "review.sqlite3")
    assert reopened.confirmed_pairs() == [("a", "b")] and sorted(reopened.distinct_pairs()) == [("a", "e"), ("c", "d")]
    reopened.close()
