"""Colour tells apart what the hashes and the CNN see alike: plain images of different colours, and one picture
in other colours (a product in red and in blue), while a greyscale or colour-corrected copy stays a copy."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageEnhance, ImageOps

from dedup_gui.core.hashes import VARIANTS
from dedup_gui.core.model import Method
from dedup_gui.core.pipeline import ScanOptions, scan
from dedup_gui.core.tone import (
    CELLS,
    FLAT_STD,
    TONE_SIZE,
    UNKNOWN_ORIENTATION,
    different_flat_colours,
    recoloured,
    tone,
    turned,
)
from tests.devset.colour_edits import greyscale_by, hue_turned
from tests.imagegen import brightened, greyscale, photo_like


def _warmer(image: Image.Image) -> Image.Image:
    pixels = np.asarray(image, dtype=np.float32) * np.array([1.1, 1.0, 0.9], dtype=np.float32)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def _product(colour: tuple[int, int, int]) -> Image.Image:
    """A shaded shirt-like shape on a white background, as on a shop's product page."""
    image = Image.new("RGB", (800, 800), "white")
    draw = ImageDraw.Draw(image)
    outline = [(250, 150), (550, 150), (700, 300), (620, 380), (580, 340), (580, 700), (220, 700), (220, 340)]
    draw.polygon([*outline, (180, 380), (100, 300)], fill=colour)
    draw.ellipse((350, 120, 450, 200), fill="white")
    pixels = np.asarray(image, dtype=np.float32)
    shade = np.linspace(0.8, 1.1, 800, dtype=np.float32)[:, None, None]
    shaded = np.where(pixels.sum(axis=2, keepdims=True) < 700, np.clip(pixels * shade, 0, 255), pixels)
    return Image.fromarray(shaded.astype(np.uint8))


def _ruled_out(first: Image.Image, second: Image.Image) -> bool:
    tones = np.stack([tone(first), tone(second)])
    return bool(recoloured(tones, np.ones(2, dtype=bool), np.array([0]), np.array([1]), np.zeros(1, np.int8))[0])


def test_tone_is_the_mean_colour_the_structure_and_a_colour_map() -> None:
    red = tone(Image.new("RGB", (224, 224), (200, 10, 20)))
    assert red.shape == (TONE_SIZE,)
    assert red[:4].tolist() == [200, 10, 20, 0]
    assert (red[4:].reshape(CELLS, CELLS, 3) == [200, 10, 20]).all()  # each cell's mean colour
    grey = tone(greyscale(photo_like(1, (224, 224))))
    assert grey[3] > FLAT_STD
    cells = grey[4:].reshape(CELLS, CELLS, 3).astype(np.int16)
    assert (cells.max(axis=2) - cells.min(axis=2) <= 1).all()  # no colour anywhere


@pytest.mark.parametrize("variant", range(len(VARIANTS)))
def test_a_colour_map_turns_as_its_image_does(variant: int) -> None:
    photo = photo_like(4, (224, 224))
    image = photo
    for operation in VARIANTS[variant][0]:
        image = image.transpose(operation)
    maps = np.stack([tone(photo), tone(image)])[:, 4:].reshape(2, CELLS, CELLS, 3).astype(np.int16)
    assert np.abs(turned(maps[:1], variant) - maps[1:]).max() <= 1  # the resize rounds once per pass


def test_only_flat_pairs_of_other_colours_are_ruled_out() -> None:
    tones = np.zeros((4, TONE_SIZE), dtype=np.uint8)
    tones[:, :4] = [[200, 10, 20, 1], [20, 10, 200, 1], [205, 15, 18, 2], [200, 10, 20, 40]]
    a, b = np.array([0, 0, 0, 1]), np.array([1, 2, 3, 3])
    known = np.ones(4, dtype=bool)
    assert different_flat_colours(tones, known, a, b).tolist() == [True, False, False, False]
    known[1] = False  # no tone cached: never ruled out
    assert different_flat_colours(tones, known, a, b).tolist() == [False, False, False, False]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_recoloured_picture_is_ruled_out_its_corrected_copies_are_not(seed: int) -> None:
    photo = photo_like(seed, (448, 336))
    assert _ruled_out(photo, hue_turned(photo, 120))
    assert _ruled_out(photo, hue_turned(photo, 180))
    assert not _ruled_out(photo, greyscale(photo))
    assert not _ruled_out(photo, _warmer(photo))
    assert not _ruled_out(photo, ImageEnhance.Color(brightened(photo, 1.15)).enhance(1.4))
    assert not _ruled_out(photo, hue_turned(photo, 10))


def test_a_turned_copy_keeps_its_colours_a_turned_recolouring_does_not() -> None:
    red, blue = _product((200, 30, 30)), _product((30, 50, 190))
    variant = next(i for i, (_, name) in enumerate(VARIANTS) if name == "mirrored and rotated 90°")
    operations = VARIANTS[variant][0]
    red_turned, blue_turned = red, blue
    for operation in operations:
        red_turned, blue_turned = red_turned.transpose(operation), blue_turned.transpose(operation)
    tones = np.stack([tone(red), tone(red_turned), tone(blue_turned)])
    ruled_out = recoloured(tones, np.ones(3, dtype=bool), np.array([0, 0]), np.array([1, 2]), np.full(2, variant))
    assert ruled_out.tolist() == [False, True]


def test_without_the_hashes_orientation_a_pair_is_compared_upright_and_mirrored() -> None:
    """A crop that only the CNN found has no meaningful hash orientation: a mirrored crop stays a copy, a
    recoloured one does not."""
    photo = photo_like(5, (448, 336))
    crop = photo.crop((40, 30, 408, 306)).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    tones = np.stack([tone(photo), tone(crop), tone(hue_turned(crop, 180))])
    unknown = np.full(2, UNKNOWN_ORIENTATION)
    ruled_out = recoloured(tones, np.ones(3, dtype=bool), np.array([0, 0]), np.array([1, 2]), unknown)
    assert ruled_out.tolist() == [False, True]


@pytest.mark.parametrize("colour", [(200, 30, 30), (30, 50, 190), (40, 160, 60)])
def test_black_and_white_versions_are_not_copies_greyscale_conversions_are(colour: tuple[int, int, int]) -> None:
    product = _product(colour)
    for how in ("luma", "mean", "lightness"):
        assert not _ruled_out(product, greyscale_by(product, how)), how
        assert not _ruled_out(greyscale_by(product, how), product), how
    black, white = _product((25, 25, 25)), _product((235, 235, 235))
    assert _ruled_out(product, black) and _ruled_out(white, product)
    assert _ruled_out(black, white)  # neither has colour: their shades differ
    assert not _ruled_out(black, ImageEnhance.Brightness(black).enhance(1.2))


def test_a_black_and_white_photo_in_a_white_frame_keeps_its_shades() -> None:
    photo = greyscale(photo_like(6, (448, 336)))
    framed = ImageOps.expand(photo.resize((336, 252)), border=56, fill=(255, 255, 255))
    tones = np.stack([tone(photo.resize((224, 224))), tone(framed.resize((224, 224)))])
    unknown = np.full(1, UNKNOWN_ORIENTATION)
    assert not recoloured(tones, np.ones(2, dtype=bool), np.array([0]), np.array([1]), unknown)[0]


def test_a_padded_greyscale_copy_and_a_small_coloured_logo_stay_copies() -> None:
    photo = photo_like(7, (448, 336))
    padded = ImageOps.pad(greyscale(photo), (448, 448), color=(255, 255, 255))  # cells no longer line up
    unknown = np.full(1, UNKNOWN_ORIENTATION)
    tones = np.stack([tone(photo.resize((224, 224))), tone(padded.resize((224, 224)))])
    assert not recoloured(tones, np.ones(2, dtype=bool), np.array([0]), np.array([1]), unknown)[0]
    black_and_white = greyscale(photo)
    stamped = black_and_white.copy()
    ImageDraw.Draw(stamped).rectangle((20, 20, 120, 60), fill=(220, 30, 30))  # a logo: too little colour to judge
    assert not _ruled_out(black_and_white, stamped)


def test_products_in_other_colours_are_not_copies(tmp_path: Path) -> None:
    folder = tmp_path / "catalogue"
    folder.mkdir()
    colours = {"red": (200, 30, 30), "blue": (30, 50, 190), "green": (40, 160, 60), "black": (25, 25, 25)}
    for name, colour in {**colours, "white": (235, 235, 235)}.items():
        _product(colour).save(folder / f"shirt_{name}.jpg", quality=90)
    _product((200, 30, 30)).resize((400, 400)).save(folder / "shirt_red_small.jpg", quality=70)
    for method in (Method.HASH, Method.AUTO):
        result = scan(ScanOptions(roots=(folder,), cache_path=tmp_path / "c.sqlite3", method=method, workers=0))
        groups = [sorted(result.files[m].ref.path.name for m in g.members) for g in result.groups]
        assert groups == [["shirt_red.jpg", "shirt_red_small.jpg"]], method


def test_a_greyscale_copy_does_not_bring_other_colours_into_its_group(tmp_path: Path) -> None:
    """The greyscale copy matches every colour (it has none to compare), so it could be the centre of a group
    holding them all; the colours must still end up apart, and the copy with one of them."""
    folder = tmp_path / "catalogue"
    folder.mkdir()
    colours = {"red": (200, 30, 30), "blue": (30, 50, 190), "green": (40, 160, 60)}
    for name, colour in colours.items():
        _product(colour).save(folder / f"shirt_{name}.jpg", quality=90)
    greyscale(_product(colours["red"])).save(folder / "shirt_grey.jpg", quality=90)
    cache = tmp_path / "c.sqlite3"
    for method in (Method.HASH, Method.AUTO):
        result = scan(ScanOptions(roots=(folder,), cache_path=cache, method=method, workers=0))
        groups = [{result.files[m].ref.path.stem for m in g.members} for g in result.groups]
        assert len(groups) == 1 and "shirt_grey" in groups[0] and len(groups[0]) == 2, (method, groups)
    Image.new("RGB", (300, 200), (90, 90, 90)).save(folder / "another.png")
    again = scan(ScanOptions(roots=(folder,), cache_path=cache, workers=0))  # carries the graph over
    assert again.stats.analysed == 1
    assert [len(g.members) for g in again.groups] == [2]


def test_a_file_cached_without_its_tone_is_decoded_again_but_not_embedded(tmp_path: Path) -> None:
    folder = tmp_path / "catalogue"
    folder.mkdir()
    for name, colour in {"red": (200, 30, 30), "blue": (30, 50, 190)}.items():
        _product(colour).save(folder / f"shirt_{name}.jpg", quality=90)
    _product((200, 30, 30)).resize((400, 400)).save(folder / "shirt_red_small.jpg", quality=70)
    cache = tmp_path / "c.sqlite3"
    first = scan(ScanOptions(roots=(folder,), cache_path=cache, workers=0))
    assert first.stats.embedded == 3
    with sqlite3.connect(cache) as db:  # as after an upgrade that measures tones anew
        db.execute("DELETE FROM features WHERE kind = 'tone'")
    again = scan(ScanOptions(roots=(folder,), cache_path=cache, workers=0))
    assert (again.stats.analysed, again.stats.embedded) == (3, 0)
    groups = [sorted(again.files[m].ref.path.name for m in g.members) for g in again.groups]
    assert groups == [["shirt_red.jpg", "shirt_red_small.jpg"]]


def test_solid_colours_group_only_with_their_own_copies(tmp_path: Path) -> None:
    folder = tmp_path / "swatches"
    folder.mkdir()
    for name, colour in {"red": (220, 20, 30), "blue": (20, 40, 200), "black": (0, 0, 0), "white": (255,) * 3}.items():
        Image.new("RGB", (640, 480), colour).save(folder / f"{name}.png")
    Image.new("RGB", (640, 480), (220, 20, 30)).save(folder / "red_copy.jpg", quality=70)
    for method in (Method.HASH, Method.AUTO):
        result = scan(ScanOptions(roots=(folder,), cache_path=tmp_path / "c.sqlite3", method=method, workers=0))
        groups = [sorted(result.files[m].ref.path.name for m in g.members) for g in result.groups]
        assert groups == [["red.png", "red_copy.jpg"]], method
