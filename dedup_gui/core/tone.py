"""Colour and flatness of an image: what tells plain images apart when hashes and the CNN cannot.

A solid red and a solid blue image (colour swatches, blank pages, placeholders) have the same pHash and dHash
(there is no structure for them to see) and near-identical CNN embeddings, so the other tiers call them copies.
For a pair of such flat images the average colour decides instead.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from dedup_gui.core.hashes import hash_grey

TONE_VERSION = 2
"""Bump when what ``tone`` measures changes, so cached tones are recomputed."""

FLAT_STD = 4.0
"""Grey-level standard deviation (0-255, on the 32x32 image the hashes see) at or below which an image has no
structure for the hashes or the CNN to tell apart: JPEG noise on a solid colour is about 1."""

COLOUR_TOLERANCE = 24
"""Largest difference of one channel's mean (0-255) between two flat images that are still copies: covers
re-encoding and a light brightness change, not another colour."""


def tone(image: Image.Image, grey: Image.Image | None = None) -> np.ndarray:
    """(4,) uint8: mean red, green and blue of the working image, and the grey-level standard deviation of its
    ``hash_grey`` (pass ``grey`` when it is at hand, so it is not made twice)."""
    means = np.asarray(image.convert("RGB"), dtype=np.float32).reshape(-1, 3).mean(axis=0)
    spread = np.asarray(hash_grey(image) if grey is None else grey, dtype=np.float32).std()
    return np.clip(np.rint([*means, spread]), 0, 255).astype(np.uint8)


def different_flat_colours(tones: np.ndarray, known: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """For pairs (a[i], b[i]) of rows of ``tones`` (R, 4): True where both images are flat and their colours
    differ. Rows not ``known`` (cached before tones were stored) are never ruled out."""
    flat = known & (tones[:, 3] <= FLAT_STD)
    colours = tones[:, :3].astype(np.int16)
    far = np.abs(colours[a] - colours[b]).max(axis=1) > COLOUR_TOLERANCE if len(a) else np.zeros(0, dtype=bool)
    return flat[a] & flat[b] & far
