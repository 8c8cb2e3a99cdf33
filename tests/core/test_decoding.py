"""Each decoding mode gives the right 224x224 RGB working image, or a clear reason."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from dedup_gui.core.decoding import SIDE, MissingExtra, UnreadableImage, decode


def _encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def _half_red(size: tuple[int, int] = (400, 200)) -> Image.Image:
    """Red left half, blue right half: orientation mistakes show as colour in the wrong place."""
    pixels = np.zeros((size[1], size[0], 3), np.uint8)
    pixels[:, : size[0] // 2] = (255, 0, 0)
    pixels[:, size[0] // 2 :] = (0, 0, 255)
    return Image.fromarray(pixels)


def test_exif_orientation_is_applied() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored turned: display rotated 90 degrees clockwise
    decoded = decode(_encode(_half_red(), "JPEG", exif=exif, quality=95), ".jpg")
    assert (decoded.info.width, decoded.info.height) == (200, 400)
    top, bottom = np.asarray(decoded.image)[20, 112], np.asarray(decoded.image)[200, 112]
    assert top[0] > 200 and top[2] < 60  # the red (left) half is now on top
    assert bottom[2] > 200 and bottom[0] < 60


def test_jpeg_gives_the_working_image_and_camera_facts() -> None:
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Canon", "Canon EOS 80D"
    exif.get_ifd(0x8769)[0x9003] = "2024:05:01 09:00:00"
    decoded = decode(_encode(_half_red((4000, 3000)), "JPEG", exif=exif), ".JPG")
    assert decoded.image.size == (SIDE, SIDE) and decoded.image.mode == "RGB"
    assert (decoded.info.width, decoded.info.height, decoded.info.format) == (4000, 3000, "JPEG")
    assert (decoded.info.camera, decoded.info.date_taken) == ("Canon EOS 80D", "2024:05:01 09:00:00")


@pytest.mark.parametrize(
    ("image", "fmt", "expected"),
    [
        (Image.new("CMYK", (64, 64), (0, 255, 255, 0)), "JPEG", (255, 0, 0)),
        (Image.new("L", (64, 64), 90), "PNG", (90, 90, 90)),
        (Image.new("RGB", (64, 64), (10, 200, 30)).convert("P"), "GIF", (10, 200, 30)),
        (Image.new("1", (64, 64), 1), "PNG", (255, 255, 255)),
    ],
    ids=["cmyk", "grey", "palette", "bilevel"],
)
def test_modes_become_rgb(image: Image.Image, fmt: str, expected: tuple[int, int, int]) -> None:
    pixel = np.asarray(decode(_encode(image, fmt), "").image)[100, 100].astype(int)
    assert np.abs(pixel - expected).max() <= 10  # palette and JPEG rounding


def test_sixteen_bit_png_is_scaled_not_clipped() -> None:
    grey = Image.fromarray(np.full((64, 64), 32768, np.uint16))
    pixel = np.asarray(decode(_encode(grey, "PNG"), ".png").image)[10, 10]
    assert 120 <= pixel[0] <= 136


def test_transparency_is_composited_on_white() -> None:
    rgba = Image.new("RGBA", (64, 64), (255, 0, 0, 0))
    rgba.paste((0, 0, 255, 255), (0, 0, 32, 64))
    pixels = np.asarray(decode(_encode(rgba, "PNG"), ".png").image)
    assert tuple(pixels[100, 200]) == (255, 255, 255) and tuple(pixels[100, 20]) == (0, 0, 255)
    palette = Image.new("P", (64, 64), 0)
    palette.putpalette([255, 0, 0, 0, 255, 0])
    transparent = _encode(palette, "PNG", transparency=0)
    assert tuple(np.asarray(decode(transparent, ".png").image)[5, 5]) == (255, 255, 255)


def test_first_frame_of_an_animation() -> None:
    frames = [Image.new("RGB", (64, 64), colour) for colour in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    data = _encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    pixel = np.asarray(decode(data, ".gif").image)[50, 50]
    assert pixel[0] > 200 and pixel[1] < 50


def test_decompression_bombs_are_refused_with_the_limit() -> None:
    with pytest.raises(UnreadableImage, match=r"above the limit of 1 MP"):
        decode(_encode(Image.new("RGB", (2000, 1000)), "PNG"), ".png", max_megapixels=1)
    huge = _encode(Image.new("1", (30000, 30000)), "PNG")  # 900 MP in a few kilobytes
    assert len(huge) < 200_000
    with pytest.raises(UnreadableImage, match="decompression bomb"):
        decode(huge, ".png")


def test_types_needing_extras_name_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "pillow_heif", None)  # as if the extra were not installed
    monkeypatch.setitem(sys.modules, "rawpy", None)
    heic = b"\x00\x00\x00\x18ftypheic" + b"\x00" * 64
    with pytest.raises(MissingExtra, match="install the 'heic' extra"):
        decode(heic, ".heic")
    with pytest.raises(MissingExtra, match="install the 'raw' extra"):
        decode(b"II*\x00" + b"\x00" * 64, ".CR2")


@pytest.mark.parametrize(
    ("data", "suffix", "reason"),
    [
        (b"just some text, not a picture\n", ".jpg", "not an image: the content is text"),
        (b"\x00\x01\x02\xff\xfe" * 20, ".png", "not an image: the content is unknown binary data"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 20, ".jpg", "JPEG"),
    ],
    ids=["text", "binary", "header-only-jpeg"],
)
def test_unreadable_content_gives_a_reason(data: bytes, suffix: str, reason: str) -> None:
    with pytest.raises(UnreadableImage, match=reason):
        decode(data, suffix)
