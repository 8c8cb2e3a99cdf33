"""Shared fixtures: every test runs with its own cache, data and trash folders, never the user's."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


@pytest.fixture(autouse=True)
def isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the cache, journal, log and freedesktop trash at a temporary folder."""
    home = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("DEDUP_GUI_CACHE_DIR", str(home / "cache"))
    monkeypatch.setenv("DEDUP_GUI_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("DEDUP_GUI_LOG_DIR", str(home / "log"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "xdg-data"))
    return home


def smooth_image(seed: int, size: tuple[int, int] = (640, 480)) -> Image.Image:
    """A smooth random colour field: cheap, and different seeds give unrelated perceptual hashes."""
    rng = np.random.default_rng(seed)
    cells = (rng.random((6, 8, 3)) * 255).astype(np.uint8)
    return Image.fromarray(cells).resize(size, Image.Resampling.BICUBIC)


@pytest.fixture
def make_image(tmp_path: Path) -> Callable[..., Path]:
    """Write ``smooth_image(seed)`` (optionally transformed) under tmp_path and return its path."""

    def write(
        name: str,
        seed: int,
        size: tuple[int, int] = (640, 480),
        transform: Callable[[Image.Image], Image.Image] | None = None,
        **save_args: object,
    ) -> Path:
        image = smooth_image(seed, size)
        if transform is not None:
            image = transform(image)
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        image.save(path, **save_args)
        return path

    return write
