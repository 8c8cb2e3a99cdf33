"""``dedup-gui --demo``: a small folder of real photos and the kinds of copies people accumulate.

The bundled samples (``resources/samples``, public domain and CC0) are copied and edited the ways phones,
messengers and exports do, so a first scan shows exact, resized, re-encoded, mirrored and rotated groups.
Each subfolder is scanned as its own root and ``originals`` is a reference folder, so the demo also shows
several roots and a folder whose files are always kept. Files are only written when missing, so a second
demo run is served from the feature cache.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps

from dedup_gui.core import paths

ORIENTATION_TAG = 0x0112
_DAY_NS = 86_400 * 10**9
_ORIGINALS_TIME_NS = 1_590_000_000 * 10**9  # May 2020: the originals are the oldest files


@dataclass(frozen=True)
class Copy:
    """One file of the demo: where it goes and how it is made from its sample."""

    sample: str
    name: str
    make: Callable[[Path, Path], None]


def _byte_copy(source: Path, target: Path) -> None:
    shutil.copyfile(source, target)


def _saved(edit: Callable[[Image.Image], Image.Image], **save: Any) -> Callable[[Path, Path], None]:
    def make(source: Path, target: Path) -> None:
        with Image.open(source) as img:
            edit(img.convert("RGB")).save(target, **save)

    return make


def _half(img: Image.Image) -> Image.Image:
    return img.resize((img.width // 2, img.height // 2), Image.Resampling.LANCZOS)


def _same(img: Image.Image) -> Image.Image:
    return img


def _rotate_180(img: Image.Image) -> Image.Image:
    return img.transpose(Image.Transpose.ROTATE_180)


def _rotate_90(img: Image.Image) -> Image.Image:
    return img.transpose(Image.Transpose.ROTATE_90)


def _exif_rotated(source: Path, target: Path) -> None:
    """Pixels stored turned a quarter left with EXIF orientation 6, as a phone saves a portrait shot."""
    with Image.open(source) as img:
        exif = Image.Exif()
        exif[ORIENTATION_TAG] = 6
        _rotate_90(img.convert("RGB")).save(target, quality=85, exif=exif)


COPIES: tuple[Copy, ...] = (
    Copy("astronaut", "phone/astronaut (1).jpg", _byte_copy),
    Copy("astronaut", "exports/astronaut_small.jpg", _saved(_half, quality=80)),
    Copy("astronaut", "exports/astronaut_mirrored.jpg", _saved(ImageOps.mirror, quality=88)),
    Copy("coffee", "exports/coffee_q40.jpg", _saved(_same, quality=40)),
    Copy("coffee", "phone/coffee_portrait.jpg", _exif_rotated),
    Copy("chelsea", "exports/chelsea.png", _saved(_same)),
    Copy("chelsea", "phone/chelsea - Copy.jpg", _saved(_half, quality=75)),
    Copy("rocket", "backup/rocket.jpg", _byte_copy),
    Copy("rocket", "exports/rocket_upside_down.jpg", _saved(_rotate_180, quality=85)),
    Copy("hubble_deep_field", "exports/hubble_deep_field.webp", _saved(_same, quality=80)),
)


def samples_dir() -> Path:
    return paths.resources_dir() / "samples"


def default_demo_dir() -> Path:
    return paths.data_dir() / "demo"


REFERENCE_FOLDER = "originals"


def demo_roots(root: Path) -> tuple[list[Path], list[Path]]:
    """The folders to scan (each subfolder) and the reference folders among them."""
    return sorted(p for p in root.iterdir() if p.is_dir()), [root / REFERENCE_FOLDER]


def build_demo_folder(target: Path | None = None) -> Path:
    """Write the demo folder (originals in ``originals/``, copies beside) and return it."""
    root = target or default_demo_dir()
    samples = sorted(samples_dir().glob("*.jpg"))
    if not samples:
        raise FileNotFoundError(f"no sample photos in {samples_dir()}")
    for number, sample in enumerate(samples):
        original = root / REFERENCE_FOLDER / sample.name
        if not original.exists():
            original.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(sample, original)
            stamp = _ORIGINALS_TIME_NS + number * _DAY_NS
            os.utime(original, ns=(stamp, stamp))
    for copy in COPIES:
        file = root / copy.name
        if not file.exists():
            file.parent.mkdir(parents=True, exist_ok=True)
            copy.make(root / REFERENCE_FOLDER / f"{copy.sample}.jpg", file)
    return root
