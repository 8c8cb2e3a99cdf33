"""Colour of an image: what tells pictures apart when the hashes and the CNN see them alike.

Both of those look at structure, not colour: pHash and dHash see grey levels only, and the CNN finds a red and
a blue version of one picture close. Two cases need colour to be told apart:

- plain images (colour swatches, blank pages, placeholders) have no structure at all, so every pair matches;
  for a pair of such flat images the average colour decides.
- one picture in other colours (a product photographed or recoloured in red, green and blue) is another
  picture to the shop that sells them. A coarse map of each image's colours decides: where most of the colour
  of one image has another hue in the other, they are not copies. An image without colour (a greyscale copy)
  has nothing to compare and stays a copy of the colour photo.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from dedup_gui.core.hashes import VARIANTS, hash_grey

TONE_VERSION = 3
"""Bump when what ``tone`` measures changes, so cached tones are recomputed."""

CELLS = 8
"""The colour map is CELLS x CELLS cells of the (square, squashed) working image."""

TONE_SIZE = 4 + 2 * CELLS * CELLS
"""Bytes per tone: mean red, green and blue; grey-level spread; the colour map (two opponent colours a cell)."""

FLAT_STD = 4.0
"""Grey-level standard deviation (0-255, on the 32x32 image the hashes see) at or below which an image has no
structure for the hashes or the CNN to tell apart: JPEG noise on a solid colour is about 1."""

COLOUR_TOLERANCE = 24
"""Largest difference of one channel's mean (0-255) between two flat images that are still copies: covers
re-encoding and a light brightness change, not another colour."""

COLOURFUL = 8.0
"""Mean chroma of the colour map (0-255 scale, distance from grey in opponent colours) from which an image's
colours are compared: a greyscale copy is about 0, a near-grey photo 2-5, a product on white 30-60."""

CHROMATIC = 24.0
"""Chroma from which a cell's hue counts as its colour."""

TINTED = 12.0
"""Chroma from which a cell of the other image has a hue that can match: a cell that a colour filter paled
still matches, a grey one does not."""

HUE_TOLERANCE_DEGREES = 45.0
"""Hue difference up to which a cell keeps its colour: white balance, warm and cool filters move hues less."""

RECOLOURED_SHARE = 0.6
"""Share of an image's colour (chroma-weighted cells) that must take another hue for two images to be other
colours of one picture. Measured on photos and their edits: crops, re-encodes, saturation, white balance,
auto-contrast and sepia of most photos change under 0.1, equalising 0.1-0.55, a strong cool filter on a pale
stained slide 0.63; a recoloured product on white 1.0, a photo's hues turned by 120 or 180 degrees 0.67-1.0. A
recoloured part (a shirt worn by a model) changes its share of the colour, often under 0.6, and stays a copy."""

PAIRS_AT_ONCE = 16384
"""Pairs compared in one go: bounds the working arrays to some tens of megabytes."""


UNKNOWN_ORIENTATION = -1
_MIRRORED = next(
    number for number, (operations, _) in enumerate(VARIANTS) if operations == (Image.Transpose.FLIP_LEFT_RIGHT,)
)
_ALSO_TRIED = {1: (1, 3), 3: (3, 1), UNKNOWN_ORIENTATION: (0, _MIRRORED)}
"""The turns compared where the variant alone is not enough: a quarter turn is not its own inverse, so both
quarter turns; an unknown orientation: upright and mirrored."""


def tone(image: Image.Image, grey: Image.Image | None = None) -> np.ndarray:
    """(TONE_SIZE,) uint8: mean red, green and blue of the working image, the grey-level standard deviation of
    its ``hash_grey`` (pass ``grey`` when it is at hand, so it is not made twice), and its colour map: for each
    cell, red-green and yellow-blue halved and stored as int8 bytes."""
    rgb = image.convert("RGB")
    means = np.asarray(rgb, dtype=np.float32).reshape(-1, 3).mean(axis=0)
    spread = np.asarray(hash_grey(image) if grey is None else grey, dtype=np.float32).std()
    cells = np.asarray(rgb.resize((CELLS, CELLS), Image.Resampling.BOX), dtype=np.float32)
    red, green, blue = cells[..., 0], cells[..., 1], cells[..., 2]
    opponents = np.stack([red - green, (red + green) / 2 - blue], axis=-1) / 2
    head = np.clip(np.rint([*means, spread]), 0, 255).astype(np.uint8)
    colour_map = np.clip(np.rint(opponents), -128, 127).astype(np.int8).view(np.uint8)
    return np.concatenate([head, colour_map.ravel()])


def different_flat_colours(tones: np.ndarray, known: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """For pairs (a[i], b[i]) of rows of ``tones`` (R, TONE_SIZE): True where both images are flat and their
    colours differ. Rows not ``known`` (no tone cached) are never ruled out."""
    flat = tones[:, 3] <= FLAT_STD
    colours = tones[:, :3].astype(np.int16)
    far = np.abs(colours[a] - colours[b]).max(axis=1) > COLOUR_TOLERANCE
    return known[a] & known[b] & flat[a] & flat[b] & far


def recoloured(tones: np.ndarray, known: np.ndarray, a: np.ndarray, b: np.ndarray, variant: np.ndarray) -> np.ndarray:
    """For pairs (a[i], b[i]) of rows of ``tones`` (R, TONE_SIZE): True where both images have colour and most
    of it changed hue: one picture in other colours. ``variant[i]`` is the orientation in which the hashes
    matched the pair (``hashes.VARIANTS``: either image turned that way meets the other), or
    ``UNKNOWN_ORIENTATION`` where they did not (a crop found by the CNN); then the pair is compared upright
    and mirrored, to which the CNN is nearly indifferent. Rows not ``known`` are never ruled out."""
    colourful = known & (_colourfulness(tones) >= COLOURFUL)
    out = np.zeros(len(a), dtype=bool)
    compared = np.flatnonzero(colourful[a] & colourful[b])
    for start in range(0, len(compared), PAIRS_AT_ONCE):
        chunk = compared[start : start + PAIRS_AT_ONCE]
        first, second = _colour_maps(tones[a[chunk]]), _colour_maps(tones[b[chunk]])
        out[chunk] = recoloured_share(first, second, variant[chunk]) >= RECOLOURED_SHARE
    return out


def _colourfulness(tones: np.ndarray) -> np.ndarray:
    """Per row: the mean chroma of its colour map, a chunk of rows at a time."""
    out = np.empty(len(tones), dtype=np.float32)
    for start in range(0, len(tones), PAIRS_AT_ONCE):
        out[start : start + PAIRS_AT_ONCE] = _colour_maps(tones[start : start + PAIRS_AT_ONCE])[..., 2].mean(
            axis=(1, 2)
        )
    return out


def _colour_maps(tones: np.ndarray) -> np.ndarray:
    """(R, CELLS, CELLS, 3) float32 per cell: the hue as a unit vector in opponent colours, and the chroma
    (0-255 scale). Hues compare by a dot product, which is cheaper than angles."""
    stored = np.ascontiguousarray(tones[:, 4:]).view(np.int8).reshape(-1, CELLS, CELLS, 2)
    opponents = stored.astype(np.float32) * 2
    chroma = np.hypot(opponents[..., 0], opponents[..., 1])
    unit = opponents / np.maximum(chroma, 1e-6)[..., None]
    return np.concatenate([unit, chroma[..., None]], axis=-1)


def recoloured_share(first: np.ndarray, second: np.ndarray, variant: np.ndarray) -> np.ndarray:
    """For pairs of colour maps (P, CELLS, CELLS, 3) matching in orientation ``variant`` (P,): the share of
    colour that changed hue. Each direction is measured and the larger counts, so colour that appeared is seen
    as well as colour that went. The hashes matched with either image turned, which is the same turn for a
    mirror or a half turn; for a quarter turn both ways are tried, and for an unknown orientation upright and
    mirrored."""
    share = np.empty(len(first), dtype=np.float32)
    for number in np.unique(variant).tolist():
        rows = np.flatnonzero(variant == number)
        one, other = first[rows], second[rows]
        tried = _ALSO_TRIED.get(number, (number,))
        share[rows] = np.min([_changed_either_way(turned(one, turn), other) for turn in tried], axis=0)
    return share


def turned(maps: np.ndarray, variant: int) -> np.ndarray:
    """Colour maps (P, CELLS, CELLS, channels) turned as ``hashes.VARIANTS[variant]`` turns an image."""
    for operation in VARIANTS[variant][0]:
        maps = _TURNS[operation](maps)
    return maps


_TURNS = {
    Image.Transpose.ROTATE_90: lambda maps: np.rot90(maps, 1, axes=(1, 2)),
    Image.Transpose.ROTATE_180: lambda maps: np.rot90(maps, 2, axes=(1, 2)),
    Image.Transpose.ROTATE_270: lambda maps: np.rot90(maps, 3, axes=(1, 2)),
    Image.Transpose.FLIP_LEFT_RIGHT: lambda maps: maps[:, :, ::-1],
    Image.Transpose.FLIP_TOP_BOTTOM: lambda maps: maps[:, ::-1],
}


_SAME_HUE = float(np.cos(np.radians(HUE_TOLERANCE_DEGREES)))


def _changed_either_way(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    return np.maximum(_hue_changed(first, second), _hue_changed(second, first))


def _hue_changed(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Chroma-weighted share of ``source``'s chromatic cells for which no cell of ``target`` at or next to the
    same place (a crop or a border moves content by up to a cell) has a close hue."""
    padded = np.pad(target, ((0, 0), (1, 1), (1, 1), (0, 0)))  # padding has no chroma, so it never matches
    matched = np.zeros(source.shape[:3], dtype=bool)
    for dy in range(3):
        for dx in range(3):
            window = padded[:, dy : dy + CELLS, dx : dx + CELLS]
            same_hue = source[..., 0] * window[..., 0] + source[..., 1] * window[..., 1] >= _SAME_HUE
            matched |= same_hue & (window[..., 2] >= TINTED)
    chroma = source[..., 2]
    weight = np.where(chroma >= CHROMATIC, chroma, 0.0)
    changed = np.where(matched, 0.0, weight).sum(axis=(1, 2))
    total = weight.sum(axis=(1, 2))
    return np.divide(changed, total, out=np.zeros_like(total), where=total > 0)
