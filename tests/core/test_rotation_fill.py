"""Corner wedges of a straightened photo are filled; pictures without them are left exactly as they are."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw
from skimage import data

from dedup_gui.core.decoding import SIDE, decode
from dedup_gui.core.embedding import Embedder, model_path
from dedup_gui.core.rotation_fill import fill_rotation_wedges
from tests.imagegen import photo_like


def _jpeg(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90)
    return out.getvalue()


def _squashed(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("RGB").resize((SIDE, SIDE), Image.Resampling.BILINEAR))


@pytest.mark.parametrize("degrees", [3, -4, 8])
def test_a_straightened_photo_gets_its_corners_filled(degrees: int) -> None:
    photo = photo_like(3, (1024, 768))
    straightened = photo.rotate(degrees, Image.Resampling.BICUBIC)
    before = _squashed(straightened)
    after = fill_rotation_wedges(before)
    changed = (after != before).any(axis=2)
    corners = after[[0, 0, -1, -1], [0, -1, 0, -1]]
    assert (corners == corners[0]).all() and corners.max() > 40  # one colour, not the black fill
    assert 0.005 < changed.mean() < 0.15
    assert not changed[SIDE // 4 : 3 * SIDE // 4, SIDE // 4 : 3 * SIDE // 4].any()


def test_decoding_fills_the_wedges_of_a_straightened_file() -> None:
    straightened = photo_like(4, (900, 600)).rotate(5, Image.Resampling.BICUBIC)
    working = np.asarray(decode(_jpeg(straightened), ".jpg").image)
    assert working[0, 0].max() > 40 and working[-1, -1].max() > 40


def _product_shot() -> Image.Image:
    img = Image.new("RGB", (800, 800), "white")
    ImageDraw.Draw(img).rectangle((250, 200, 550, 650), fill=(200, 40, 40))
    return img


def _diamond() -> Image.Image:
    img = Image.new("RGB", (600, 600), "black")
    ImageDraw.Draw(img).polygon([(300, 10), (590, 300), (300, 590), (10, 300)], fill=(240, 200, 60))
    return img


def _letterboxed() -> Image.Image:
    img = Image.new("RGB", (800, 600), "black")
    img.paste(photo_like(5, (800, 400)), (0, 100))
    return img


@pytest.mark.parametrize(
    "picture",
    [lambda: photo_like(6, (800, 600)), _product_shot, _diamond, _letterboxed, lambda: Image.new("RGB", (300, 200))],
    ids=["photo", "product on white", "diamond on black", "letterbox", "all black"],
)
def test_pictures_without_wedges_are_left_alone(picture) -> None:
    pixels = _squashed(picture())
    assert fill_rotation_wedges(pixels) is pixels


@pytest.mark.skipif(not model_path().exists(), reason="model file not built")
def test_a_straightened_texture_embeds_close_to_its_original() -> None:
    """Black wedges dominate a texture's embedding; with them filled the copy is a near-duplicate again."""
    grass = Image.fromarray(data.grass()).convert("RGB")
    straightened = _squashed(grass.rotate(3, Image.Resampling.BICUBIC))
    vectors = Embedder(threads=2).embed(np.stack([_squashed(grass), straightened, fill_rotation_wedges(straightened)]))
    unfilled, filled = float(vectors[0] @ vectors[1]), float(vectors[0] @ vectors[2])
    assert unfilled < 0.75 < 0.95 < filled
