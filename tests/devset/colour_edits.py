"""Measure the colour test on photos and their edits: the share of colour each edit changes (0-1; 0.6 or more
keeps the pair apart), or "-" where the pair is not compared (an image with only a little colour). Then the
copies only the CNN finds (crops, borders, squashes), judged as a scan judges them: how many are kept apart.

Usage: ``python -m tests.devset.colour_edits``. Photos: those bundled with scikit-image, in colour and in black
and white (and generated photo-like pictures for the crops); the edits are what people do to copies of a photo,
plus recolourings that make another picture.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import skimage.data
from PIL import Image, ImageEnhance, ImageOps

from dedup_gui.core import tone
from dedup_gui.core.decoding import decode
from dedup_gui.core.graph import MAX_HASH_DISTANCE
from dedup_gui.core.hashes import dihedral_hashes
from dedup_gui.core.search import _best_hash
from tests.imagegen import photo_like

PHOTOS = ("coffee", "chelsea", "astronaut", "rocket", "immunohistochemistry", "retina", "colorwheel", "logo")
BLACK_AND_WHITE = ("camera", "moon", "coins", "page", "text", "brick", "grass", "gravel", "horse", "checkerboard")


def _channels(image: Image.Image, gains: tuple[float, float, float]) -> Image.Image:
    pixels = np.asarray(image, dtype=np.float32) * np.array(gains, dtype=np.float32)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def hue_turned(image: Image.Image, degrees: int) -> Image.Image:
    hsv = np.asarray(image.convert("HSV")).copy()
    hsv[..., 0] = (hsv[..., 0].astype(np.int64) + degrees * 256 // 360) % 256
    return Image.fromarray(hsv, "HSV").convert("RGB")


def _sepia(image: Image.Image) -> Image.Image:
    return _channels(_grey(image), (1.07, 0.74, 0.43))


def _grey(image: Image.Image) -> Image.Image:
    return ImageOps.grayscale(image).convert("RGB")


def greyscale_by(image: Image.Image, how: str) -> Image.Image:
    """A greyscale copy made the way some editors make it: "luma" (weighted channels), "mean" or "lightness"
    (the mean of the largest and smallest channel)."""
    pixels = np.asarray(image, dtype=np.float32)
    levels = {
        "luma": pixels @ np.array([0.299, 0.587, 0.114], dtype=np.float32),
        "mean": pixels.mean(axis=2),
        "lightness": (pixels.max(axis=2) + pixels.min(axis=2)) / 2,
    }[how]
    return Image.fromarray(np.rint(levels).astype(np.uint8)).convert("RGB")


def _gamma(image: Image.Image, gamma: float) -> Image.Image:
    return Image.fromarray((255 * (np.asarray(image) / 255.0) ** gamma).astype(np.uint8))


EDITS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "warm": lambda image: _channels(image, (1.2, 1.0, 0.8)),
    "cool": lambda image: _channels(image, (0.85, 1.0, 1.15)),
    "darker": lambda image: ImageEnhance.Brightness(image).enhance(0.7),
    "saturation 60%": lambda image: ImageEnhance.Color(image).enhance(0.6),
    "saturation 200%": lambda image: ImageEnhance.Color(image).enhance(2.0),
    "auto-contrast": lambda image: ImageOps.autocontrast(image, cutoff=2),
    "equalised": ImageOps.equalize,
    "greyscale (luma)": _grey,
    "greyscale (mean)": lambda image: greyscale_by(image, "mean"),
    "greyscale (lightness)": lambda image: greyscale_by(image, "lightness"),
    "greyscale, brighter": lambda image: ImageEnhance.Brightness(_grey(image)).enhance(1.2),
    "greyscale, contrast": lambda image: ImageEnhance.Contrast(_grey(image)).enhance(1.3),
    "greyscale, gamma 0.7": lambda image: _gamma(_grey(image), 0.7),
    "greyscale, auto-contrast": lambda image: ImageOps.autocontrast(_grey(image), cutoff=2),
    "greyscale, equalised": lambda image: ImageOps.equalize(_grey(image)),
    "sepia": _sepia,
    "hue +10": lambda image: hue_turned(image, 10),
    "hue +120": lambda image: hue_turned(image, 120),
}


CROPS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "corner crop 25%": lambda image: image.crop((image.width // 4, image.height // 4, image.width, image.height)),
    "centre 60%": lambda image: image.crop(
        (image.width // 5, image.height // 5, image.width * 4 // 5, image.height * 4 // 5)
    ),
    "white border": lambda image: ImageOps.expand(image, border=image.width // 6, fill=(255, 255, 255)),
    "squashed": lambda image: image.resize((image.width, image.height // 2)),
    "left 60%": lambda image: image.crop((0, 0, image.width * 3 // 5, image.height)),
}


def kept_apart(original: Image.Image, edited: Image.Image) -> bool:
    """The scan's verdict on the pair: compared in the hashes' orientation where they match, else upright and
    mirrored."""
    hashes = np.stack([dihedral_hashes(_working(original)), dihedral_hashes(_working(edited))])[:, 0]
    first, second = np.array([0]), np.array([1])
    distance, variant = _best_hash(hashes, first, second)
    variant = np.where(distance <= MAX_HASH_DISTANCE, variant, tone.UNKNOWN_ORIENTATION)
    tones = np.stack([_tone(original), _tone(edited)])
    return bool(tone.recoloured(tones, np.ones(2, dtype=bool), first, second, variant)[0])


def _working(image: Image.Image) -> Image.Image:
    encoded = io.BytesIO()
    image.save(encoded, "PNG")
    return decode(encoded.getvalue(), ".png", 250.0).image


def _tone(image: Image.Image) -> np.ndarray:
    """The tone of the image's working image, as a scan makes it."""
    return tone.tone(_working(image))


def changed_share(original: Image.Image, edited: Image.Image) -> float | None:
    """The share of colour that changed between two upright images as a scan measures it (hashes matched
    upright); None where a scan does not compare them."""
    return tone.pair_share(np.stack([_tone(original), _tone(edited)]), variant=0)


def main() -> None:
    names = PHOTOS + BLACK_AND_WHITE
    print(f"{'edit':26s}" + "".join(f"{name[:7]:>8s}" for name in names))
    photos = {name: Image.fromarray(getattr(skimage.data, name)()).convert("RGB") for name in names}
    for edit, apply in EDITS.items():
        shares = [changed_share(photo, apply(photo)) for photo in photos.values()]
        print(f"{edit:26s}" + "".join(f"{'-' if s is None else f'{s:.2f}':>8s}" for s in shares))
    pictures = [*photos.values(), *(photo_like(seed, (320, 240)) for seed in range(120))]
    print(f"\ncopies only the CNN finds, of {len(pictures)} pictures: how many the colour test keeps apart")
    for edit, apply in CROPS.items():
        print(f"{edit:26s}{sum(kept_apart(picture, apply(picture)) for picture in pictures):8d}")


if __name__ == "__main__":
    main()
