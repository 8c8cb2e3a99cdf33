"""Carrying a graph over: a rescan after changes searches only new contents and groups like a fresh scan."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dedup_gui.core import search
from dedup_gui.core.model import Method
from dedup_gui.core.pipeline import ScanOptions, ScanResult, scan


def _names(result: ScanResult) -> list[list[str]]:
    return sorted(sorted(result.files[m].ref.path.name for m in g.members) for g in result.groups)


PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "camera", "coins", "moon", "clock", "page", "text", "cell")


def _write_photos(folder: Path) -> None:
    """Real photos (scikit-image's), so the CNN tier sees images that really differ."""
    data = pytest.importorskip("skimage.data")
    for index, name in enumerate(PHOTOS):
        photo = Image.fromarray(getattr(data, name)()).convert("RGB")
        photo.save(folder / f"p{index}.jpg", quality=90)
        photo.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(folder / f"p{index}_mirror.jpg", quality=90)


@pytest.mark.parametrize("method", [Method.HASH, Method.AUTO])
def test_rescan_after_changes_carries_edges_over(
    method: Method, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_photos(tmp_path)
    cache = tmp_path.parent / f"{tmp_path.name}-cache.sqlite3"
    scan(ScanOptions(roots=(tmp_path,), cache_path=cache, workers=0, method=method))

    (tmp_path / "p3_mirror.jpg").unlink()  # a copy trashed
    shutil.copy(tmp_path / "p5.jpg", tmp_path / "p5 (1).jpg")  # a byte copy: known content
    Image.open(tmp_path / "p7.jpg").resize((200, 150)).save(tmp_path / "p7_small.jpg")  # new content

    searched: list[np.ndarray | None] = []
    real = search.find_pairs

    def recording(stored: np.ndarray, queries: np.ndarray, radius: int, rows: np.ndarray | None = None) -> object:
        searched.append(rows)
        return real(stored, queries, radius, rows)

    monkeypatch.setattr(search, "find_pairs", recording)
    carried = scan(ScanOptions(roots=(tmp_path,), cache_path=cache, workers=0, method=method))
    assert len(searched) == 1 and searched[0] is not None and len(searched[0]) == 1  # only p7_small is new

    fresh = scan(ScanOptions(roots=(tmp_path,), cache_path=tmp_path.parent / "fresh.sqlite3", workers=0, method=method))
    assert _names(carried) == _names(fresh)
    assert ["p5 (1).jpg", "p5.jpg", "p5_mirror.jpg"] in _names(carried)
    assert ["p7.jpg", "p7_mirror.jpg", "p7_small.jpg"] in _names(carried)
    assert not any("p3.jpg" in group for group in _names(carried))
