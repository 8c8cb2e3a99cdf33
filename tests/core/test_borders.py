"""Added white or black bands: measured on the working image; a dark or overcast sky is not one."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from dedup_gui.core.borders import border_share
from dedup_gui.core.decoding import decode
from tests.imagegen import photo_like


def _grey(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("L"))


def test_letterbox_and_square_padding_are_measured() -> None:
    picture = photo_like(4, (300, 200))
    letterbox = Image.new("RGB", (300, 240), "white")
    letterbox.paste(picture, (0, 20))  # 20 rows above and below: 40 of 240
    assert abs(border_share(_grey(letterbox)) - 40 / 240) < 0.01
    square = Image.new("RGB", (300, 300), "black")
    square.paste(picture, (0, 50))
    assert abs(border_share(_grey(square)) - 100 / 300) < 0.01


def test_pictures_plain_images_and_thin_lines_have_none() -> None:
    assert border_share(_grey(photo_like(5, (300, 200)))) == 0.0
    assert border_share(np.full((100, 100), 255, dtype=np.uint8)) == 0.0  # plain white: nothing around anything
    rows, across = np.linspace(200, 243, 100)[:, None], np.linspace(0, 12, 120)[None, :]  # lighter at one side
    sky = (rows + across).astype(np.uint8)  # bright, but never even across a whole line
    assert border_share(sky) == 0.0
    rng = np.random.default_rng(0)
    night = np.asarray(photo_like(3, (600, 400))).copy()
    night[:90] = np.clip(rng.normal(5, 1.5, (90, 600, 3)), 0, 255).astype(np.uint8)  # a dark, even night sky
    assert border_share(_grey(Image.fromarray(night).resize((224, 224)))) == 0.0
    framed = _grey(photo_like(6, (200, 200))).copy()
    framed[:2] = 255  # a thin frame line, under the smallest band
    assert border_share(framed) == 0.0


def test_decoding_reports_the_share_of_a_padded_copy() -> None:
    picture = photo_like(7, (400, 300))
    padded = Image.new("RGB", (400, 400), "white")
    padded.paste(picture, (0, 50))
    out = io.BytesIO()
    padded.save(out, "JPEG", quality=90)
    assert abs(decode(out.getvalue(), ".jpg").info.border - 0.25) < 0.01


def test_a_thin_frame_is_measured_through_jpeg_ringing() -> None:
    framed = Image.new("RGB", (640, 440), "black")
    framed.paste(photo_like(3, (600, 400)), (20, 20))  # 20 pixels all round: 14.8 % of the area
    out = io.BytesIO()
    framed.save(out, "JPEG", quality=90)
    assert abs(decode(out.getvalue(), ".jpg").info.border - 0.148) < 0.025  # within the keep rules' tolerance
