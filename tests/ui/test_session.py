"""The review's marks and decisions: reference folders, never an empty group, "not duplicates", memory."""

from __future__ import annotations

from pathlib import Path

from dedup_gui.core import keep_rules
from dedup_gui.core.calibration import LabelCheck
from dedup_gui.core.graph import Thresholds
from dedup_gui.core.pipeline import ScanResult
from dedup_gui.core.review_state import ReviewState
from dedup_gui.ui.rules import make_decider
from dedup_gui.ui.session import HAND_REASON, REFERENCE_REASON, ReviewSession, kept_member
from tests.ui.conftest import keep_largest


def _names(session: ReviewSession) -> list[list[str]]:
    return sorted(sorted(f.ref.path.name for f in session.files(g)) for g in session.groups)


def _index(result: ScanResult, name: str) -> int:
    return next(i for i, f in enumerate(result.files) if f.ref.path.name == name)


def test_rule_marks_and_hand_choices(review: ReviewSession) -> None:
    result = review.result
    assert _names(review) == [
        ["a.jpg", "a_mirror.jpg", "a_small.jpg"],
        ["b.png", "b_bright.jpg"],
        ["c copy.jpg", "c.jpg"],
    ]
    a_small = _index(result, "a_small.jpg")
    assert not review.mark(a_small).keep
    assert review.toggle(a_small) is None
    assert review.mark(a_small) == review.mark(a_small).__class__(True, HAND_REASON, by_hand=True)
    assert len(review.marked_for_removal()) == 3


def test_a_group_always_keeps_one_file(review: ReviewSession) -> None:
    c_group = review.groups[review.group_of(_index(review.result, "c.jpg"))]
    kept = [m for m in c_group.members if review.mark(m).keep]
    assert len(kept) == 1
    refused = review.toggle(kept[0])
    assert refused is not None and "at least one" in refused
    assert review.mark(kept[0]).keep


def test_reference_folder_files_are_kept_and_cannot_be_removed(scanned: ScanResult, photo_tree: Path) -> None:
    state = ReviewState()
    session = ReviewSession(scanned, state, keep_largest, references=[photo_tree / "copies"])
    mirror = _index(scanned, "a_mirror.jpg")
    assert session.mark(mirror).keep and session.mark(mirror).reason == REFERENCE_REASON
    assert "reference folder" in (session.set_keep(mirror, False) or "")
    state.close()


def test_hand_choices_and_not_duplicates_survive_a_new_session(scanned: ScanResult) -> None:
    state = ReviewState()
    session = ReviewSession(scanned, state, keep_largest)
    a_small = _index(scanned, "a_small.jpg")
    session.set_keep(a_small, True)
    b_group = session.group_of(_index(scanned, "b.png"))
    pairs, _ = session.not_duplicates(b_group)
    assert ["b.png", "b_bright.jpg"] not in _names(session)
    state.close()

    reopened = ReviewSession(scanned, ReviewState(), keep_largest)
    assert reopened.mark(a_small).keep and reopened.mark(a_small).by_hand
    assert ["b.png", "b_bright.jpg"] not in _names(reopened)
    reopened.state.unmark_distinct(pairs)
    reopened.adopt(reopened.prepare(reopened.thresholds))
    assert ["b.png", "b_bright.jpg"] in _names(reopened)


def test_one_image_is_not_a_copy_of_the_others(review: ReviewSession) -> None:
    a_group = review.group_of(_index(review.result, "a.jpg"))
    review.not_duplicates(a_group, _index(review.result, "a_mirror.jpg"))
    assert ["a.jpg", "a_small.jpg"] in _names(review)
    assert not any("a_mirror.jpg" in names for names in _names(review))


def test_regroup_reads_the_graph_and_forgets_trashed_files(review: ReviewSession) -> None:
    review.adopt(review.prepare(Thresholds(hash_distance=4)))
    assert len(review.groups) == 2
    c_copy = _index(review.result, "c copy.jpg")
    review.adopt(review.without_files([c_copy]))
    assert len(review.groups) == 1 and review.gone == {c_copy}
    review.adopt(review.with_files([c_copy]))
    assert len(review.groups) == 2 and not review.gone


def test_decisions_score_each_threshold(review: ReviewSession) -> None:
    assert review.labels is None  # nothing decided yet: nothing scored, nothing shown
    result = review.result
    b_group = review.group_of(_index(result, "b.png"))
    review.accept(b_group)  # b_bright.jpg is b.png at hash distance 6
    assert review.labels == LabelCheck(confirmed=1, confirmed_grouped=1, rejected=0, rejected_grouped=0)
    a_group = review.group_of(_index(result, "a.jpg"))
    review.accept(a_group)
    review.not_duplicates(review.group_of(_index(result, "a.jpg")), _index(result, "a_mirror.jpg"))
    # a_mirror was confirmed with the group; marked not a copy now, its pairs count as rejected instead
    assert review.labels == LabelCheck(confirmed=2, confirmed_grouped=2, rejected=2, rejected_grouped=2)
    strict = review.prepare(Thresholds(hash_distance=2, cosine=1.0))
    assert strict.labels is not None and strict.labels.confirmed_grouped == 1  # b's pair no longer groups
    review.adopt(strict)
    assert review.labels == strict.labels


def test_removed_files_name_the_file_kept_now_and_the_list_names_the_same(
    scanned: ScanResult, photo_tree: Path
) -> None:
    state = ReviewState()
    session = ReviewSession(scanned, state, make_decider(keep_rules.DEFAULT_RULES, []))
    group_number = session.group_of(_index(scanned, "a.jpg"))
    members = session.groups[group_number].members
    chosen = kept_member(members, session.mark)
    assert session.mark(chosen).chosen and session.mark(chosen).keep
    other, third = (m for m in members if m != chosen)
    assert session.mark(third).reason.endswith(f"; keeping {scanned.files[chosen].ref.path.name}")
    assert session.set_keep(other, True) is None and session.set_keep(chosen, False) is None
    now_kept = scanned.files[other].ref.path.name
    assert kept_member(members, session.mark) == other
    assert session.mark(third).reason == f"a copy of {now_kept}, which you chose to keep"  # not the rules' pick
    state.close()

    # Every file in a reference folder, so all are kept: the list names the rules' choice, not the first file.
    rules = [keep_rules.Rule(keep_rules.Criterion.PREFERRED_FOLDER, True, photo_tree / "copies")]
    session = ReviewSession(scanned, ReviewState(), make_decider(rules, [photo_tree]), [photo_tree])
    members = session.groups[session.group_of(_index(scanned, "a.jpg"))].members
    assert all(session.mark(m).keep for m in members) and scanned.files[members[0]].ref.path.name == "a.jpg"
    assert scanned.files[kept_member(members, session.mark)].ref.path.parent.name == "copies"


def test_decisions_made_while_a_regroup_runs_are_still_counted(review: ReviewSession) -> None:
    result = review.result
    review.accept(review.group_of(_index(result, "b.png")))
    layout = review.prepare(review.thresholds)  # a regroup on the worker...
    review.accept(review.group_of(_index(result, "a.jpg")))  # ...while the person goes on
    review.adopt(layout)
    assert review.labels is not None and review.labels.confirmed == 3


def test_counts_kept_up_decision_by_decision_equal_a_full_count(review: ReviewSession) -> None:
    result = review.result
    review.accept(review.group_of(_index(result, "a.jpg")))
    review.not_duplicates(review.group_of(_index(result, "a.jpg")), _index(result, "a_small.jpg"))
    review.accept(review.group_of(_index(result, "b.png")))
    kept_up = review.labels
    assert kept_up == LabelCheck(confirmed=2, confirmed_grouped=2, rejected=2, rejected_grouped=2)
    assert review.prepare(review.thresholds).labels == kept_up  # what the worker counts from scratch


def test_undoing_not_duplicates_confirms_again_what_it_took_back(review: ReviewSession) -> None:
    result = review.result
    review.accept(review.group_of(_index(result, "a.jpg")))
    confirmed = sorted(review.state.confirmed_pairs())
    pairs, unconfirmed = review.not_duplicates(review.group_of(_index(result, "a.jpg")))
    assert sorted(unconfirmed) == confirmed and review.state.confirmed_pairs() == []
    review.undo_not_duplicates(pairs, unconfirmed)
    assert sorted(review.state.confirmed_pairs()) == confirmed and not review.state.distinct_pairs()


def test_pairs_whose_files_went_to_the_trash_are_no_longer_counted(review: ReviewSession) -> None:
    result = review.result
    review.accept(review.group_of(_index(result, "a.jpg")))
    assert review.labels is not None and review.labels.confirmed == 2
    trashed = [m for m in review.groups[review.group_of(_index(result, "a.jpg"))].members if not review.mark(m).keep]
    review.adopt(review.without_files(trashed))
    assert review.labels is None  # both confirmed copies are gone: nothing left to score
    review.adopt(review.with_files(trashed))  # undo: they are back
    assert review.labels is not None and review.labels.confirmed == 2
