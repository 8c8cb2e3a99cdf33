"""Build the near-duplicate dev set from the real photos bundled with scikit-image (no download).

    python -m tests.devset.generate OUTDIR [--limit N]

Every source photo is written as ``<photo>.jpg`` plus one file per edit family, ``<photo>__<family>.jpg``
(``.png`` for screenshot_upscale); together they form one duplicate group. Hard negatives, files that look
alike but must stay apart, are written as singletons: the far-apart thirds of a photo that is not otherwise in
the set (a third of an included photo would be a crop of it, which is ambiguous), the three scikit-image
textures against each other, synthetic burst shots whose subject moved, and screenshots of different text pages
(a family of look-alikes to a CNN), two of which also come as a half-size JPEG copy. (The stereo motorcycle's
second view is left out: two views a few centimetres apart are as alike as a re-encode, so no label is right.)

Beside the images: ``ground_truth.json`` (imagededup's ``{file: [other files of its group]}``),
``families.json`` (``{file: family}``; "original" and "negative" for unedited files) and ``splits.json``
(``{file: "tune"|"test"}``; sources alternate between the splits, so both halves get textures, and a
group never straddles them).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFont
from skimage import data

from tests.imagegen import brightened, cropped, greyscale, mirrored, photo_like, resized, rotated90, text_screenshot

Edit = Callable[[Image.Image], Image.Image]
SPLITS = ("tune", "test")
ORIGINAL_QUALITY = 95

# Photos bundled in skimage 0.26's wheel. Left out: cat (the same pixels as chelsea: an unlabelled duplicate),
# horse and logo (silhouettes, used as burst subjects), microaneurysms and lfw_subset (too small), the
# synthetic drawings, and everything that skimage would have to download (brain, eagle, lily, ...).
PHOTOS: dict[str, Callable[[], np.ndarray]] = {
    "astronaut": data.astronaut,
    "camera": data.camera,
    "cell": data.cell,
    "chelsea": data.chelsea,
    "clock": data.clock,
    "coffee": data.coffee,
    "coins": data.coins,
    "immunohistochemistry": data.immunohistochemistry,
    "moon": data.moon,
    "motorcycle_left": lambda: data.stereo_motorcycle()[0],
    "page": data.page,
    "retina": data.retina,
    "rocket": data.rocket,
    "text": data.text,
}
TEXTURES: dict[str, Callable[[], np.ndarray]] = {"brick": data.brick, "grass": data.grass, "gravel": data.gravel}
TEXT_PAGES = 20
PAGE_COPIES = 2
# A photo seen only as two thirds that share nothing: similar texture, different content.
THIRDS_OF = {"hubble_deep_field": data.hubble_deep_field}


@dataclass(frozen=True)
class Family:
    """One kind of edit and how its result is saved."""

    edit: Edit
    extension: str = "jpg"
    quality: int = 90


def _crop_corner(img: Image.Image) -> Image.Image:
    """The top-left 80% x 80%: a crop that is not centred, so the centre moves too."""
    return img.crop((0, 0, round(img.width * 0.8), round(img.height * 0.8)))


def _crop_16x9(img: Image.Image) -> Image.Image:
    """The largest centred 16:9 (9:16 for portrait) part: what a widescreen export keeps."""
    aspect = 16 / 9 if img.width >= img.height else 9 / 16
    width, height = min(img.width, round(img.height * aspect)), min(img.height, round(img.width / aspect))
    left, top = (img.width - width) // 2, (img.height - height) // 2
    return img.crop((left, top, left + width, top + height))


def _rotate_small(img: Image.Image) -> Image.Image:
    """A 3° straightening; the corners fill with black because the canvas keeps its size."""
    return img.rotate(3, Image.Resampling.BICUBIC, expand=False)


def _colour(img: Image.Image) -> Image.Image:
    """An "auto-enhance": brighter, more contrast, more saturated."""
    img = ImageEnhance.Contrast(brightened(img, 1.15)).enhance(1.25)
    return ImageEnhance.Color(img).enhance(1.4)


def _watermark(img: Image.Image) -> Image.Image:
    """A stock-photo watermark: a big translucent word across the middle and a caption bar at the bottom."""
    overlay = Image.new("RGBA", img.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    big = ImageFont.load_default(size=max(12, img.width // 6))
    draw.text((img.width / 2, img.height / 2), "SAMPLE", font=big, fill=(255, 255, 255, 110), anchor="mm")
    bar = max(12, img.height // 14)
    draw.rectangle((0, img.height - bar, img.width, img.height), fill=(0, 0, 0, 140))
    small = ImageFont.load_default(size=max(8, bar * 2 // 3))
    draw.text((bar // 3, img.height - bar / 2), "© 2024 Devset Stock", font=small, fill="white", anchor="lm")
    return Image.alpha_composite(img.convert("RGBA"), overlay).convert("RGB")


def _border(img: Image.Image) -> Image.Image:
    """White letterbox bands, each 10% of the height, above and below."""
    band = round(img.height * 0.1)
    framed = Image.new("RGB", (img.width, img.height + 2 * band), "white")
    framed.paste(img, (0, band))
    return framed


def _screenshot_upscale(img: Image.Image) -> Image.Image:
    """A thumbnail blown back up: the detail is gone but the size is the original's."""
    return resized(img, 0.25).resize(img.size, Image.Resampling.BILINEAR)


FAMILIES: dict[str, Family] = {
    "jpeg_q20": Family(lambda img: img, quality=20),
    "resize_50": Family(lambda img: resized(img, 0.5)),
    "crop_10": Family(lambda img: cropped(img, 0.9)),
    "crop_20_corner": Family(_crop_corner),
    "crop_aspect_16x9": Family(_crop_16x9),
    "mirror": Family(mirrored),
    "rot90": Family(lambda img: rotated90(img, 1)),
    "rot180": Family(lambda img: rotated90(img, 2)),
    "rot270": Family(lambda img: rotated90(img, 3)),
    "rotate_small": Family(_rotate_small),
    "colour": Family(_colour),
    "greyscale": Family(greyscale),
    "watermark": Family(_watermark),
    "border": Family(_border),
    "screenshot_upscale": Family(_screenshot_upscale, extension="png"),
}


@dataclass(frozen=True)
class Burst:
    """Two shots of one synthetic scene: the same subject pasted at two clearly different places."""

    name: str
    background_seed: int
    subject: Callable[[], Image.Image]
    positions: tuple[tuple[float, float], tuple[float, float]]  # top-left corners, as fractions of the frame


BURST_SIZE = (1024, 768)


def _logo() -> Image.Image:
    """The scikit-image logo with its white surround made transparent, so it reads as an object."""
    rgba = data.logo().copy()
    rgba[(rgba[..., :3] > 235).all(axis=-1), 3] = 0
    return Image.fromarray(rgba)


def _horse() -> Image.Image:
    """The horse silhouette as a dark brown cut-out."""
    shape = ~data.horse()  # True on the horse
    rgba = np.zeros((*shape.shape, 4), np.uint8)
    rgba[shape] = (70, 45, 30, 255)
    return Image.fromarray(rgba)


BURSTS = (
    Burst("burst_logo", 101, _logo, ((0.05, 0.2), (0.55, 0.25))),
    Burst("burst_horse", 102, _horse, ((0.05, 0.35), (0.5, 0.3))),
    Burst("burst_logo_jump", 103, _logo, ((0.3, 0.5), (0.35, 0.02))),
)


def build(outdir: Path, limit: int | None = None) -> dict[str, int]:
    """Write the dev set and its three json maps into ``outdir``; ``limit`` caps each kind of source."""
    outdir.mkdir(parents=True, exist_ok=True)
    truth: dict[str, list[str]] = {}
    families: dict[str, str] = {}
    splits: dict[str, str] = {}

    def add_group(names: list[str], split: str) -> None:
        for name in names:
            truth[name] = [other for other in names if other != name]
            splits[name] = split

    for kind in (PHOTOS, TEXTURES):
        for photo, load in list(kind.items())[:limit]:
            split = _split_of(photo)
            original = Image.fromarray(load()).convert("RGB")
            group = [_save(original, outdir / f"{photo}.jpg", ORIGINAL_QUALITY)]
            families[group[0]] = "original"
            for family, spec in FAMILIES.items():
                name = _save(spec.edit(original), outdir / f"{photo}__{family}.{spec.extension}", spec.quality)
                families[name] = family
                group.append(name)
            add_group(group, split)

    def add_negative(image: Image.Image, name: str, split: str) -> None:
        saved = _save(image, outdir / name, ORIGINAL_QUALITY)
        families[saved] = "negative"
        add_group([saved], split)

    for photo, load in list(THIRDS_OF.items())[:limit]:
        whole = Image.fromarray(load()).convert("RGB")
        third = whole.width // 3
        for side, left in (("left", 0), ("right", whole.width - third)):
            add_negative(
                whole.crop((left, 0, left + third, whole.height)), f"{photo}__neg_{side}_third.jpg", _split_of(photo)
            )

    for burst in BURSTS[:limit]:
        background = photo_like(burst.background_seed, BURST_SIZE)
        subject = _fit_height(burst.subject(), round(0.45 * BURST_SIZE[1]))
        for shot, (x, y) in enumerate(burst.positions, start=1):
            frame = background.copy()
            frame.paste(subject, (round(x * BURST_SIZE[0]), round(y * BURST_SIZE[1])), subject)
            name = _save(frame, outdir / f"{burst.name}__shot{shot}.jpg", ORIGINAL_QUALITY)
            families[name] = "negative"
            add_group([name], _split_of(burst.name))

    for page in range(TEXT_PAGES if limit is None else min(limit, TEXT_PAGES)):
        screenshot = text_screenshot(page)
        group = [_save(screenshot, outdir / f"text_page{page:02d}.png", ORIGINAL_QUALITY)]
        families[group[0]] = "original" if page < PAGE_COPIES else "negative"
        if page < PAGE_COPIES:
            group.append(_save(resized(screenshot, 0.5), outdir / f"text_page{page:02d}__page_copy.jpg", 85))
            families[group[1]] = "page_copy"
        add_group(group, SPLITS[page % 2])

    for filename, mapping in (("ground_truth.json", truth), ("families.json", families), ("splits.json", splits)):
        (outdir / filename).write_text(json.dumps(mapping, indent=2, sort_keys=True), encoding="utf-8")
    groups = {frozenset([name, *others]) for name, others in truth.items() if others}
    return {"files": len(truth), "groups": len(groups)}


def _split_of(source: str) -> str:
    """Alternate through photos, then textures, then bursts: halves of equal size, textures in both.

    The position counts in the full lists, so ``--limit`` never moves a source to the other split.
    """
    order = [*PHOTOS, *TEXTURES, *THIRDS_OF, *(burst.name for burst in BURSTS)]
    return SPLITS[order.index(source) % 2]


def _fit_height(img: Image.Image, height: int) -> Image.Image:
    return img.resize((round(img.width * height / img.height), height), Image.Resampling.LANCZOS)


def _save(img: Image.Image, path: Path, quality: int) -> str:
    """Write ``img`` (``quality`` applies to JPEG only) and return its file name, the ground truth's key."""
    if path.suffix == ".jpg":
        img.save(path, quality=quality)
    else:
        img.save(path)
    return path.name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--limit", type=int, help="at most N photos, N textures and N burst scenes (quick tests)")
    args = parser.parse_args()
    start = time.perf_counter()
    counts = build(args.outdir, args.limit)
    print(f"{counts['files']} files, {counts['groups']} groups in {args.outdir} in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
