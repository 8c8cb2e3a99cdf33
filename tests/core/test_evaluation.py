"""Evaluation metrics on hand-made maps whose answers are known."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dedup_gui.core.evaluation import evaluate, format_table, load_mapping

TRUTH = {
    "a.jpg": ["a_mirror.jpg", "a_crop.jpg"],
    "a_mirror.jpg": ["a.jpg", "a_crop.jpg"],
    "a_crop.jpg": ["a.jpg", "a_mirror.jpg"],
    "b.jpg": ["b_grey.jpg"],
    "b_grey.jpg": ["b.jpg"],
    "c.jpg": [],
    "d.jpg": [],
}
FAMILIES = {"a_mirror.jpg": "mirror", "a_crop.jpg": "crop", "b_grey.jpg": "greyscale"}


def test_perfect_answer_scores_one() -> None:
    result = evaluate(TRUTH, TRUTH, FAMILIES)
    assert (result.pairs.precision, result.pairs.recall, result.pairs.f1) == (1.0, 1.0, 1.0)
    assert (result.groups_whole, result.groups_total, result.found_groups_pure) == (2, 2, 2)


def test_counts_missed_and_false_pairs() -> None:
    found = {
        "a.jpg": ["a_mirror.jpg"],
        "a_mirror.jpg": ["a.jpg"],
        "a_crop.jpg": [],
        "b.jpg": ["b_grey.jpg", "c.jpg"],
        "b_grey.jpg": ["b.jpg", "c.jpg"],
        "c.jpg": ["b.jpg", "b_grey.jpg"],
    }
    result = evaluate(TRUTH, found, FAMILIES)
    # true pairs: a-am, a-ac, am-ac, b-bg (4); found: a-am, b-bg, b-c, bg-c (4)
    assert (result.pairs.true_positives, result.pairs.false_positives, result.pairs.false_negatives) == (2, 2, 2)
    assert result.pairs.precision == pytest.approx(0.5) and result.pairs.recall == pytest.approx(0.5)
    assert (result.groups_whole, result.found_groups, result.found_groups_pure) == (0, 2, 1)
    mirror, crop, grey = (result.by_family[k] for k in ("mirror", "crop", "greyscale"))
    assert (mirror.recall, mirror.precision) == (1.0, 1.0)
    assert crop.recall == 0.0
    assert grey.recall == 1.0 and grey.precision == pytest.approx(0.5)  # b_grey-c is a false pair
    table = format_table(result)
    assert "precision 0.500" in table and "greyscale" in table


def test_load_mapping_rejects_asymmetric_and_malformed_maps(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(TRUTH))
    assert load_mapping(good) == TRUTH
    lopsided = tmp_path / "lopsided.json"
    lopsided.write_text(json.dumps({"a": ["b"], "b": []}))
    with pytest.raises(ValueError, match="not symmetric"):
        load_mapping(lopsided)
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps(["a", "b"]))
    with pytest.raises(ValueError, match="is not a"):
        load_mapping(wrong)
