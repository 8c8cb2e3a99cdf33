"""Dihedral hashes: mirrored and rotated copies match their original; different photos do not."""

from __future__ import annotations

import numpy as np
from PIL import Image

from dedup_gui.core.decoding import SIDE
from dedup_gui.core.hashes import VARIANTS, dihedral_hashes, hamming
from tests.conftest import smooth_image


def _working(image: Image.Image) -> Image.Image:
    return image.resize((SIDE, SIDE), Image.Resampling.BILINEAR)


def _best_distance(a: Image.Image, b: Image.Image) -> int:
    ha, hb = dihedral_hashes(_working(a)), dihedral_hashes(_working(b))
    return int(hamming(ha[0, :], hb[0, 0]).min())


def test_shape_and_upright_column_is_the_plain_hash() -> None:
    hashes = dihedral_hashes(_working(smooth_image(1)))
    assert hashes.shape == (2, len(VARIANTS)) and hashes.dtype == np.uint64
    assert len(set(hashes[0].tolist())) > 4  # the variants really differ


def test_mirror_and_rotations_match_exactly() -> None:
    photo = smooth_image(2)
    for op in (
        Image.Transpose.FLIP_LEFT_RIGHT,
        Image.Transpose.ROTATE_90,
        Image.Transpose.ROTATE_180,
        Image.Transpose.ROTATE_270,
        Image.Transpose.TRANSPOSE,
    ):
        assert _best_distance(photo.transpose(op), photo) <= 2, op


def test_plain_hash_alone_would_miss_the_mirror() -> None:
    photo = smooth_image(4)
    mirrored = dihedral_hashes(_working(photo.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
    original = dihedral_hashes(_working(photo))
    assert int(hamming(mirrored[0, 0], original[0, 0])) > 12


def test_different_photos_are_far_apart() -> None:
    distances = [_best_distance(smooth_image(s), smooth_image(s + 100)) for s in range(10)]
    assert min(distances) > 10
