"""The synthetic images and the two data set generators: deterministic, distinct, and truthful about groups."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import imagehash
import numpy as np

from tests.benchmarks.photos import make_photo_folder
from tests.devset.generate import build
from tests.imagegen import photo_like

SMALL = (320, 240)


def _assert_symmetric(truth: dict[str, list[str]]) -> None:
    for name, others in truth.items():
        assert name not in others
        for other in others:
            assert name in truth[other], f"{other} does not list {name}"


def test_photo_like_is_deterministic() -> None:
    assert np.array_equal(np.asarray(photo_like(3, SMALL)), np.asarray(photo_like(3, SMALL)))


def test_different_seeds_give_unrelated_perceptual_hashes() -> None:
    hashes = [imagehash.phash(photo_like(seed, SMALL)) for seed in range(8)]
    assert min(a - b for a, b in itertools.combinations(hashes, 2)) > 16


def test_photo_folder_truth_lists_every_file_and_is_symmetric(tmp_path: Path) -> None:
    truth = make_photo_folder(tmp_path, 10, size=SMALL, dup_fraction=0.5, mixed=True)
    assert set(truth) == {path.name for path in tmp_path.iterdir()}
    _assert_symmetric(truth)
    assert sum(1 for others in truth.values() if others) == 10  # five originals, five duplicates
    assert {Path(name).suffix for name in truth} >= {".jpg", ".png", ".webp"}


def test_devset_truth_families_and_splits_agree(tmp_path: Path) -> None:
    build(tmp_path, limit=2)
    truth = json.loads((tmp_path / "ground_truth.json").read_text(encoding="utf-8"))
    families = json.loads((tmp_path / "families.json").read_text(encoding="utf-8"))
    splits = json.loads((tmp_path / "splits.json").read_text(encoding="utf-8"))
    images = {path.name for path in tmp_path.iterdir() if path.suffix != ".json"}
    assert set(truth) == images == set(families) == set(splits)
    _assert_symmetric(truth)
    assert len(set(families.values()) - {"original", "negative"}) >= 14
    for name, others in truth.items():
        assert {splits[other] for other in others} <= {splits[name]}
    assert set(splits.values()) == {"tune", "test"}
