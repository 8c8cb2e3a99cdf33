"""Colour of an image: what tells pictures apart when the hashes and the CNN see them alike.

Both of those look at structure, not colour: pHash and dHash see grey levels only, and the CNN finds a red and
a blue version of one picture close. Two cases need colour to be told apart:

- plain images (colour swatches, blank pages, placeholders) have no structure at all, so every pair matches;
  for a pair of such flat images the average colour decides.
- one picture in other colours (a product photographed or recoloured in red, blue, black and white) is another
  picture to the shop that sells them. A coarse map of each image's colours decides: where most of the colour
  of one image has another hue in the other, they are not copies. An image without colour is compared by its
  grey levels: a greyscale copy has about the lightness of the colours it replaced, a black or white version
  of a coloured product does not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

import numpy as np
from PIL import Image

from dedup_gui.core.hashes import VARIANTS, hash_grey

TONE_VERSION = 4
"""Bump when what ``tone`` measures changes, so cached tones are recomputed."""

CELLS = 8
"""The colour map is CELLS x CELLS cells of the (square, squashed) working image."""

TONE_SIZE = 4 + 3 * CELLS * CELLS
"""Bytes per tone: mean red, green and blue; grey-level spread; the colour map (each cell's mean red, green
and blue)."""

FLAT_STD = 4.0
"""Grey-level standard deviation (0-255, on the 32x32 image the hashes see) at or below which an image has no
structure for the hashes or the CNN to tell apart: JPEG noise on a solid colour is about 1."""

COLOUR_TOLERANCE = 24
"""Largest difference of one channel's mean (0-255) between two flat images that are still copies: covers
re-encoding and a light brightness change, not another colour."""

CHROMATIC = 24.0
"""Chroma (0-255 scale: distance from grey in opponent colours, red-green and yellow-blue) from which a cell's
hue counts as its colour."""

TINTED = 12.0
"""Chroma from which a cell of the other image has a hue that can match: a cell that a colour filter paled
still matches, a grey one does not. An image with no cell this colourful has no colour at all."""

COLOURED_CELLS = 2
"""Cells of ``CHROMATIC`` colour an image needs for its colours to be compared: a small product on white fills
a few cells."""

HUE_TOLERANCE_DEGREES = 45.0
"""Hue difference up to which a cell keeps its colour: white balance, warm and cool filters move hues less."""

GREY_TOLERANCE = 20.0
"""How far (0-255) a grey cell may lie outside the lightness range of the colour it stands for and still be
its greyscale copy. Greyscale conversions weigh the channels differently (luma, their mean, or the mean of the
largest and smallest), which the range covers; this allows for JPEG and a light brightness change on top."""

SHADE_CHANGE = 80.0
"""Difference of grey level (0-255) from which a cell of one image without colour has another shade in the
other: brightness, contrast and gamma corrections move cells less, a black and a white version of a product
differ by about 200."""

PADDING_WHITE, PADDING_BLACK = 250.0, 5.0
"""Cells this white or this black weigh nothing in ``_shade_changed``: a white or black frame added around a
copy is not a change of shade (a black product is about 25, a white one about 230)."""

GREY_TEST_CELLS = 6
"""Cells of ``CHROMATIC`` colour (about a tenth of the picture) a coloured image needs before its grey levels
are compared with an image without colour: a coloured logo or stamp on a black-and-white photo is no product
colour, and its grey says nothing."""

PURE_COLOUR = 0.75
"""Share of an image's strongest chroma from which a cell's grey level is compared (see ``_grey_changed``)."""

RECOLOURED_SHARE = 0.6
"""Share of an image's colour (chroma-weighted cells) that must change (in hue, or in grey level where one
image has no colour) for two images to be other colours of one picture. ``python -m tests.devset.colour_edits``
measures it on photos and their edits: white balance, saturation, darkening, auto-contrast and greyscale
conversions change under 0.35 (one strong cool filter 0.63), equalising up to 0.55; hues turned by 120 degrees
0.93-1.0, a recoloured product on white 1.0. A recoloured part (a shirt worn by a model) changes its share of
the colour, often under 0.6, and stays a copy."""

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
    its ``hash_grey`` (pass ``grey`` when it is at hand, so it is not made twice), and its colour map: each
    cell's mean red, green and blue."""
    rgb = image.convert("RGB")
    means = np.asarray(rgb, dtype=np.float32).reshape(-1, 3).mean(axis=0)
    spread = np.asarray(hash_grey(image) if grey is None else grey, dtype=np.float32).std()
    head = np.clip(np.rint([*means, spread]), 0, 255).astype(np.uint8)
    cells = np.asarray(rgb.resize((CELLS, CELLS), Image.Resampling.BOX), dtype=np.uint8)
    return np.concatenate([head, cells.ravel()])


def different_flat_colours(tones: np.ndarray, known: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """For pairs (a[i], b[i]) of rows of ``tones`` (R, TONE_SIZE): True where both images are flat and their
    colours differ. Rows not ``known`` (no tone cached) are never ruled out."""
    flat = tones[:, 3] <= FLAT_STD
    colours = tones[:, :3].astype(np.int16)
    far = np.abs(colours[a] - colours[b]).max(axis=1) > COLOUR_TOLERANCE
    return known[a] & known[b] & flat[a] & flat[b] & far


def recoloured(tones: np.ndarray, known: np.ndarray, a: np.ndarray, b: np.ndarray, variant: np.ndarray) -> np.ndarray:
    """For pairs (a[i], b[i]) of rows of ``tones`` (R, TONE_SIZE): True where most of the colour changed: one
    picture in other colours (both have colour), or a coloured picture and one without colour whose grey levels
    are not those of its colours (a black or white version, not a greyscale copy). ``variant[i]`` is the
    orientation in which the hashes matched the pair (``hashes.VARIANTS``: either image turned that way meets
    the other), or ``UNKNOWN_ORIENTATION`` where they did not (a crop found by the CNN); then the pair is
    compared upright and mirrored, to which the CNN is nearly indifferent. Rows not ``known`` are never ruled
    out."""
    coloured, colourless, broadly = _colourfulness(tones)
    coloured &= known
    colourless &= known
    out = np.zeros(len(a), dtype=bool)
    compared = np.flatnonzero(_compared(coloured, colourless, broadly, a, b, variant))
    rows = np.unique(np.concatenate([a[compared], b[compared]]))
    packed = np.empty((len(rows), CELLS, CELLS, 5), dtype=np.uint8)
    for start in range(0, len(rows), PAIRS_AT_ONCE):
        packed[start : start + PAIRS_AT_ONCE] = _packed_maps(tones[rows[start : start + PAIRS_AT_ONCE]])
    for start in range(0, len(compared), PAIRS_AT_ONCE):
        chunk = compared[start : start + PAIRS_AT_ONCE]
        first = _unpacked(packed[np.searchsorted(rows, a[chunk])])
        second = _unpacked(packed[np.searchsorted(rows, b[chunk])])
        share = recoloured_share(first, second, variant[chunk], coloured[a[chunk]], coloured[b[chunk]])
        out[chunk] = share >= RECOLOURED_SHARE
    return out


def pair_share(tones: np.ndarray, variant: int) -> float | None:
    """The share of colour that changed between two images (``tones`` (2, TONE_SIZE)) as a scan measures it, or
    None where a scan does not compare them; for measuring (``tests.devset.colour_edits``)."""
    coloured, colourless, broadly = _colourfulness(tones)
    first, second, orientation = np.array([0]), np.array([1]), np.array([variant])
    if not _compared(coloured, colourless, broadly, first, second, orientation)[0]:
        return None
    maps = _unpacked(_packed_maps(tones))
    return float(recoloured_share(maps[:1], maps[1:], orientation, coloured[:1], coloured[1:])[0])


def _compared(
    coloured: np.ndarray, colourless: np.ndarray, broadly: np.ndarray, a: np.ndarray, b: np.ndarray, variant: np.ndarray
) -> np.ndarray:
    """The pairs whose colours can tell them apart: both with colour, both without, or one of each where the
    coloured one has colour over ``GREY_TEST_CELLS`` (not just a logo)."""
    both = (coloured[a] & coloured[b]) | (colourless[a] & colourless[b])
    return both | (broadly[a] & colourless[b]) | (colourless[a] & broadly[b])


def _packed_maps(tones: np.ndarray) -> np.ndarray:
    """``_colour_maps`` in 5 bytes a cell (the hue's unit vector as 128 + 127 x, the chroma times
    ``_CHROMA_PACKING``, the greys rounded), made once per image rather than once per pair: 320 bytes an image."""
    maps = _colour_maps(tones)
    maps[..., _HUE] = maps[..., _HUE] * 127.0 + 128.0
    maps[..., _CHROMA] *= _CHROMA_PACKING
    return np.clip(np.rint(maps), 0, 255).astype(np.uint8)


def _unpacked(packed: np.ndarray) -> np.ndarray:
    maps = packed.astype(np.float32)
    maps[..., _HUE] = (maps[..., _HUE] - 128.0) * (1.0 / 127.0)
    maps[..., _CHROMA] *= 1.0 / _CHROMA_PACKING
    return maps


_CHROMA_PACKING = 0.75
"""Chroma reaches about 330 (pure magenta); scaled by this it fits a byte."""


def _colourfulness(tones: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: whether its colours count (``COLOURED_CELLS``), whether it has no colour at all, and whether it
    has colour over ``GREY_TEST_CELLS``; a chunk of rows at a time."""
    coloured = np.empty(len(tones), dtype=bool)
    colourless = np.empty(len(tones), dtype=bool)
    broadly = np.empty(len(tones), dtype=bool)
    for start in range(0, len(tones), PAIRS_AT_ONCE):
        chroma = np.hypot(*_opponents(*_channels(tones[start : start + PAIRS_AT_ONCE])))
        cells = (chroma >= CHROMATIC).sum(axis=(1, 2))
        coloured[start : start + PAIRS_AT_ONCE] = cells >= COLOURED_CELLS
        broadly[start : start + PAIRS_AT_ONCE] = cells >= GREY_TEST_CELLS
        colourless[start : start + PAIRS_AT_ONCE] = chroma.max(axis=(1, 2)) < TINTED
    return coloured, colourless, broadly


def _channels(tones: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Red, green and blue of each row's cells, (R, CELLS, CELLS) float32 each."""
    rgb = tones[:, 4:].reshape(-1, CELLS, CELLS, 3).astype(np.float32)
    return rgb[..., 0], rgb[..., 1], rgb[..., 2]


def _opponents(red: np.ndarray, green: np.ndarray, blue: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Red-green and yellow-blue: grey is (0, 0), and the distance from it the chroma."""
    return red - green, (red + green) * 0.5 - blue


_HUE, _CHROMA, _LOW, _HIGH = slice(0, 2), 2, 3, 4
"""Channels of a colour map: the hue as a unit vector (2), the chroma, and the range of grey levels a
greyscale conversion may give the cell."""


def _colour_maps(tones: np.ndarray) -> np.ndarray:
    """(R, CELLS, CELLS, 5) float32 per cell: the hue as a unit vector in opponent colours (compared by a dot
    product, cheaper than angles), the chroma, and the lowest and highest grey level of the usual greyscale
    conversions (luma, the channels' mean, the mean of the largest and smallest channel)."""
    red, green, blue = _channels(tones)
    maps = np.empty((*red.shape, 5), dtype=np.float32)
    red_green, yellow_blue = _opponents(red, green, blue)
    chroma = np.hypot(red_green, yellow_blue)
    scale = 1.0 / np.maximum(chroma, 1e-6)
    maps[..., 0], maps[..., 1], maps[..., _CHROMA] = red_green * scale, yellow_blue * scale, chroma
    luma = 0.299 * red + 0.587 * green + 0.114 * blue
    mean = (red + green + blue) * (1.0 / 3.0)
    lightness = (np.maximum(np.maximum(red, green), blue) + np.minimum(np.minimum(red, green), blue)) * 0.5
    maps[..., _LOW] = np.minimum(np.minimum(luma, mean), lightness)
    maps[..., _HIGH] = np.maximum(np.maximum(luma, mean), lightness)
    return maps


def recoloured_share(
    first: np.ndarray, second: np.ndarray, variant: np.ndarray, first_coloured: np.ndarray, second_coloured: np.ndarray
) -> np.ndarray:
    """For pairs of colour maps (P, CELLS, CELLS, 5) matching in orientation ``variant`` (P,): the share of
    colour that changed: in hue where both images are coloured (either direction: colour that appeared counts
    as well as colour that went); in grey level, from the coloured one, where one is (next to each place too
    where the hashes did not match the pair, as its cells may not line up); in shade where neither has colour
    (a black and a white mug). The hashes matched with either image turned, which is the same turn
    for a mirror or a half turn; for a quarter turn both ways are tried, and for an unknown orientation upright
    and mirrored: the least share counts.

    Work that cannot change the verdict is skipped: the second direction where the first already reaches
    ``RECOLOURED_SHARE``, another orientation where one already stays below it. So the verdict is exact, and
    the share one that decided it."""
    share = np.full(len(first), np.inf, dtype=np.float32)
    kind = first_coloured.astype(np.int8) + second_coloured.astype(np.int8)  # 2: both coloured, 1: one, 0: none
    for number in np.unique(variant).tolist():
        for turn in _ALSO_TRIED.get(number, (number,)):
            rows = np.flatnonzero((variant == number) & (share >= RECOLOURED_SHARE))
            one, other = turned(first[rows], turn), second[rows]
            found = np.empty(len(rows), dtype=np.float32)
            grey_test = partial(_from_colour, nearby=number == UNKNOWN_ORIENTATION)
            for value, measure in ((2, _either_way(_hue_changed)), (1, grey_test), (0, _either_way(_shade_changed))):
                picked = np.flatnonzero(kind[rows] == value)
                if len(picked):
                    found[picked] = measure(one[picked], other[picked])
            share[rows] = np.minimum(share[rows], found)
    return share


def _from_colour(one: np.ndarray, other: np.ndarray, nearby: bool = False) -> np.ndarray:
    """``_grey_changed`` from whichever of the two has colour (the other has none)."""
    one_is_coloured = (one[..., _CHROMA] >= CHROMATIC).any(axis=(1, 2))[:, None, None, None]
    return _grey_changed(np.where(one_is_coloured, one, other), np.where(one_is_coloured, other, one), nearby)


def _either_way(measure: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Callable[..., np.ndarray]:
    """A one-way measure taken both ways, the larger counting; the second way only where the first stays below
    ``RECOLOURED_SHARE``."""

    def both(one: np.ndarray, other: np.ndarray) -> np.ndarray:
        share = measure(one, other)
        low = np.flatnonzero(share < RECOLOURED_SHARE)
        if len(low):
            share[low] = np.maximum(share[low], measure(other[low], one[low]))
        return share

    return both


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


def _hue_changed(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Chroma-weighted share of ``source``'s chromatic cells for which no cell of ``target`` at or next to the
    same place (a crop or a border moves content by up to a cell) has a close hue."""
    hue = source[..., _HUE]
    matched = np.zeros(source.shape[:3], dtype=bool)
    for window in _shifted(target, 0.0):  # padding has no chroma, so it never matches
        same_hue = hue[..., 0] * window[..., 0] + hue[..., 1] * window[..., 1] >= _SAME_HUE
        matched |= same_hue & (window[..., _CHROMA] >= TINTED)
    return _weighted_share(source, ~matched)


def _shifted(maps: np.ndarray, fill: float) -> Iterator[np.ndarray]:
    """The 9 views of maps (P, CELLS, CELLS, ...) moved by up to a cell each way (this one included), the cells
    moved in from outside set to ``fill``."""
    pad = ((0, 0), (1, 1), (1, 1)) + ((0, 0),) * (maps.ndim - 3)
    padded = np.pad(maps, pad, constant_values=fill)
    for dy in range(3):
        for dx in range(3):
            yield padded[:, dy : dy + CELLS, dx : dx + CELLS]


def _grey_changed(source: np.ndarray, target: np.ndarray, nearby: bool = False) -> np.ndarray:
    """Chroma-weighted share of ``source``'s most colourful cells whose place in ``target`` (an image without
    colour) is not a grey a greyscale conversion could give them. Only cells at least ``PURE_COLOUR`` of the
    image's strongest chroma count. Where the pair's cells may not line up (``nearby``: a border or a crop),
    the whole of ``target`` is also moved by a cell each way and the least share counts; cells are never
    matched one by one with their neighbours, as a cell on a product's edge mixes with the background, and
    there a greyscale copy and a black or white version mix alike."""
    low = source[..., _LOW] - GREY_TOLERANCE
    high = source[..., _HIGH] + GREY_TOLERANCE
    chroma = source[..., _CHROMA]
    pure = chroma >= PURE_COLOUR * chroma.max(axis=(1, 2), keepdims=True)
    greys = target[..., _LOW]  # without colour, every conversion gives the same grey
    if not nearby:
        return _weighted_share(source, (greys < low) | (greys > high), pure)
    shares = [_weighted_share(source, (grey < low) | (grey > high), pure) for grey in _shifted(greys, -np.inf)]
    return np.min(shares, axis=0)


def _shade_changed(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """For two images without colour: the share of ``source``'s content, cells weighted by how far they stand
    out from its typical grey (a background weighs nothing), for which no cell of ``target`` at or next to the
    same place (a crop or a border moves content by up to a cell) has a grey within ``SHADE_CHANGE``."""
    grey = source[..., _LOW]
    matched = np.zeros(grey.shape, dtype=bool)
    for other in _shifted(target[..., _LOW], np.inf):  # padding never matches
        matched |= np.abs(grey - other) <= SHADE_CHANGE
    weight = np.abs(grey - np.median(grey, axis=(1, 2), keepdims=True))
    weight[(grey >= PADDING_WHITE) | (grey <= PADDING_BLACK)] = 0.0  # padding or a frame: not the picture
    total = weight.sum(axis=(1, 2))
    part = np.where(matched, 0.0, weight).sum(axis=(1, 2))
    return np.divide(part, total, out=np.zeros_like(total), where=total > 0)


def _weighted_share(source: np.ndarray, changed: np.ndarray, counted: np.ndarray | bool = True) -> np.ndarray:
    """Chroma-weighted share of ``source``'s chromatic (and ``counted``) cells that ``changed``."""
    chroma = source[..., _CHROMA]
    weight = np.where((chroma >= CHROMATIC) & counted, chroma, 0.0)
    total = weight.sum(axis=(1, 2))
    part = np.where(changed, weight, 0.0).sum(axis=(1, 2))
    return np.divide(part, total, out=np.zeros_like(total), where=total > 0)
