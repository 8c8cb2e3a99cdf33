"""A folder of camera-like photos with known duplicates, for timing scans and scoring them.

``make_photo_folder`` writes 12 MP JPEGs that weigh and decode like a phone's (EXIF included), derives a
duplicate from some of them, and returns the ground truth in imagededup's ``{file: [duplicates]}`` format.

    python -m tests.benchmarks.photos OUTDIR --count 200 [--mixed] [--seed 0]

writes the folder and ``OUTDIR/ground_truth.json`` (not an image, so scanners skip it).
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from PIL import ExifTags, Image

from tests.imagegen import mirrored, photo_like, resized, rotated90

JPEG_QUALITY = 90
CAMERAS = (("Apple", "iPhone 13"), ("samsung", "SM-G991B"), ("Canon", "Canon EOS 80D"), ("Google", "Pixel 7"))
FIRST_SHOT = datetime(2024, 5, 1, 9, 0, 0)
MAX_PIXELS_SMALL = 2_000_000  # the "2 MP" variant of mixed folders


@dataclass(frozen=True)
class Duplicate:
    """One way a copy of a photo comes about: a name suffix and how its pixels differ (None: same bytes)."""

    suffix: str
    edit: Callable[[Image.Image], Image.Image] | None
    quality: int = JPEG_QUALITY


def _unchanged(img: Image.Image) -> Image.Image:
    return img


def _half(img: Image.Image) -> Image.Image:
    return resized(img, 0.5)


def _quarter_turn(img: Image.Image) -> Image.Image:
    return rotated90(img, 1)


# Named functions, not lambdas: jobs are pickled to worker processes.
DUPLICATES = (
    Duplicate("copy", None),
    Duplicate("q70", _unchanged, quality=70),
    Duplicate("half", _half),
    Duplicate("mirror", mirrored),
    Duplicate("rot90", _quarter_turn),
)

# Mixed folders cycle through these (format, small) variants: two in five keep the full size.
MIXED_VARIANTS = (("jpg", False), ("jpg", False), ("jpg", True), ("png", True), ("webp", True))


@dataclass(frozen=True)
class Job:
    """Everything needed to write one original and its duplicate, so jobs can run in any order."""

    root: Path
    index: int
    seed: int
    size: tuple[int, int]
    extension: str
    duplicate: Duplicate | None


def make_photo_folder(
    root: Path,
    n_originals: int,
    size: tuple[int, int] = (4032, 3024),
    dup_fraction: float = 0.3,
    seed: int = 0,
    mixed: bool = False,
) -> dict[str, list[str]]:
    """Write ``n_originals`` photos, plus one duplicate for ``dup_fraction`` of them, and return the truth.

    Duplicate kinds (exact copy, q70 re-encode, 50% resize, mirror, 90° turn) take turns, so each kind
    appears about equally often. The map has an entry for every file written, relative to ``root``.
    """
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    with_copy = sorted(rng.choice(n_originals, round(n_originals * dup_fraction), replace=False).tolist())
    duplicate_of = {index: DUPLICATES[turn % len(DUPLICATES)] for turn, index in enumerate(with_copy)}
    jobs = []
    for index in range(n_originals):
        extension, small = MIXED_VARIANTS[index % len(MIXED_VARIANTS)] if mixed else ("jpg", False)
        shape = _at_most(size, MAX_PIXELS_SMALL) if small else size
        jobs.append(Job(root, index, seed * 1_000_003 + index, shape, extension, duplicate_of.get(index)))
    # Processes, not threads: painting a photo is mostly GIL-bound numpy and ImageDraw work.
    with ProcessPoolExecutor() as pool:
        groups = list(pool.map(_write, jobs))
    return {name: [other for other in group if other != name] for group in groups for name in group}


def _write(job: Job) -> list[str]:
    """Write one original (and its duplicate, if any); return the file names of the group."""
    image = photo_like(job.seed, job.size)
    exif = _exif(job.index)
    stem = f"IMG_{job.index:05d}"
    original = job.root / f"{stem}.{job.extension}"
    _save(image, original, exif, JPEG_QUALITY)
    if job.duplicate is None:
        return [original.name]
    kind = job.duplicate
    if kind.edit is None:
        copy = original.with_name(f"{stem}_{kind.suffix}{original.suffix}")
        shutil.copyfile(original, copy)
    else:
        copy = original.with_name(f"{stem}_{kind.suffix}.jpg")
        _save(kind.edit(image), copy, exif, kind.quality)
    return [original.name, copy.name]


def _save(image: Image.Image, path: Path, exif: Image.Exif, quality: int) -> None:
    options = {"quality": quality} if path.suffix in (".jpg", ".webp") else {}
    image.save(path, exif=exif, **options)


def _exif(index: int) -> Image.Exif:
    """Upright orientation, a camera and a capture time a minute after the previous photo's."""
    exif = Image.Exif()
    make, model = CAMERAS[index % len(CAMERAS)]
    exif[ExifTags.Base.Orientation] = 1
    exif[ExifTags.Base.Make] = make
    exif[ExifTags.Base.Model] = model
    taken = FIRST_SHOT + timedelta(minutes=index)
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = taken.strftime("%Y:%m:%d %H:%M:%S")
    return exif


def _at_most(size: tuple[int, int], pixels: int) -> tuple[int, int]:
    """``size`` scaled down, keeping its aspect ratio, to at most ``pixels`` pixels."""
    factor = min(1.0, math.sqrt(pixels / (size[0] * size[1])))
    return round(size[0] * factor), round(size[1] * factor)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--count", type=int, default=100, help="number of originals")
    parser.add_argument("--size", default="4032x3024", help="WIDTHxHEIGHT of the originals")
    parser.add_argument("--dup-fraction", type=float, default=0.3, help="share of originals given a duplicate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mixed", action="store_true", help="also 2 MP photos, PNG and WebP files")
    args = parser.parse_args()
    width, height = (int(side) for side in args.size.lower().split("x"))
    start = time.perf_counter()
    truth = make_photo_folder(args.outdir, args.count, (width, height), args.dup_fraction, args.seed, args.mixed)
    elapsed = time.perf_counter() - start
    (args.outdir / "ground_truth.json").write_text(json.dumps(truth, indent=2, sort_keys=True), encoding="utf-8")
    print(f"{len(truth)} files in {args.outdir} in {elapsed:.1f} s")


if __name__ == "__main__":
    main()
