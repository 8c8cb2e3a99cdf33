"""Perceptual hashes (pHash, dHash) for all 8 mirror/rotation variants of an image.

The index stores each image's upright hash; a query compares all 8 variants of the other image against it,
so a mirrored or 90/180/270-degree rotated copy matches as well as a re-encoded one.
"""

from __future__ import annotations

import imagehash
import numpy as np
from PIL import Image

HASH_VERSION = 2
"""Bump when the hash computation or the working image it reads changes, so cached hashes are recomputed."""

_T = Image.Transpose
# Each variant of the dihedral group: how it is produced and how the review names it.
VARIANTS: tuple[tuple[tuple[Image.Transpose, ...], str], ...] = (
    ((), "as is"),
    ((_T.ROTATE_90,), "rotated 90°"),
    ((_T.ROTATE_180,), "rotated 180°"),
    ((_T.ROTATE_270,), "rotated 270°"),
    ((_T.FLIP_LEFT_RIGHT,), "mirrored"),
    ((_T.FLIP_LEFT_RIGHT, _T.ROTATE_90), "mirrored and rotated 90°"),
    ((_T.FLIP_TOP_BOTTOM,), "flipped upside down"),
    ((_T.FLIP_LEFT_RIGHT, _T.ROTATE_270), "mirrored and rotated 270°"),
)
VARIANT_NAMES = tuple(name for _, name in VARIANTS)


def hash_grey(image: Image.Image) -> Image.Image:
    """The grey 32x32 image every hash is computed from (and the flatness in ``tone`` is measured on)."""
    return image.convert("L").resize((32, 32), Image.Resampling.LANCZOS)


def dihedral_hashes(image: Image.Image) -> np.ndarray:
    """Return a (2, 8) uint64 array: row 0 pHash, row 1 dHash, one column per variant in ``VARIANTS``."""
    return grey_dihedral_hashes(hash_grey(image))


def grey_dihedral_hashes(grey: Image.Image) -> np.ndarray:
    """``dihedral_hashes`` from the image's ``hash_grey``, for callers that use it for more than hashing.

    The grey image is made once; transposing it is exact, so each variant's hash equals the hash of the
    transformed photo.
    """
    out = np.empty((2, len(VARIANTS)), dtype=np.uint64)
    for column, (ops, _) in enumerate(VARIANTS):
        variant = grey
        for op in ops:
            variant = variant.transpose(op)
        out[0, column] = _pack(imagehash.phash(variant).hash)
        out[1, column] = _pack(imagehash.dhash(variant).hash)
    return out


def _pack(bits: np.ndarray) -> np.uint64:
    return np.frombuffer(np.packbits(bits.ravel()).tobytes(), dtype=">u8")[0].astype(np.uint64)


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise Hamming distance of uint64 arrays."""
    return np.bitwise_count(np.bitwise_xor(a, b)).astype(np.int16)
