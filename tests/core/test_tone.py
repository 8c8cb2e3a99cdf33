"""Plain images of different colours: the hashes and the CNN cannot tell them apart, the mean colour does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from dedup_gui.core.model import Method
from dedup_gui.core.pipeline import ScanOptions, scan
from dedup_gui.core.tone import FLAT_STD, different_flat_colours, tone
from tests.imagegen import photo_like


def test_tone_is_the_mean_colour_and_the_structure() -> None:
    red = tone(Image.new("RGB", (224, 224), (200, 10, 20)))
    assert red.tolist() == [200, 10, 20, 0]
    assert tone(photo_like(1, (224, 224)))[3] > FLAT_STD


def test_only_flat_pairs_of_other_colours_are_ruled_out() -> None:
    tones = np.array([[200, 10, 20, 1], [20, 10, 200, 1], [205, 15, 18, 2], [200, 10, 20, 40]], dtype=np.uint8)
    a, b = np.array([0, 0, 0, 1]), np.array([1, 2, 3, 3])
    known = np.ones(4, dtype=bool)
    assert different_flat_colours(tones, known, a, b).tolist() == [True, False, False, False]
    known[1] = False  # cached before tones were stored: never ruled out
    assert different_flat_colours(tones, known, a, b).tolist() == [False, False, False, False]


def test_solid_colours_group_only_with_their_own_copies(tmp_path: Path) -> None:
    folder = tmp_path / "swatches"
    folder.mkdir()
    for name, colour in {"red": (220, 20, 30), "blue": (20, 40, 200), "black": (0, 0, 0), "white": (255,) * 3}.items():
        Image.new("RGB", (640, 480), colour).save(folder / f"{name}.png")
    Image.new("RGB", (640, 480), (220, 20, 30)).save(folder / "red_copy.jpg", quality=70)
    for method in (Method.HASH, Method.AUTO):
        result = scan(ScanOptions(roots=(folder,), cache_path=tmp_path / "c.sqlite3", method=method, workers=0))
        groups = [sorted(result.files[m].ref.path.name for m in g.members) for g in result.groups]
        assert groups == [["red.png", "red_copy.jpg"]], method
