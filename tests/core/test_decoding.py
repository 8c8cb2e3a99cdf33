"""Each decoding mode gives the right 224x224 RGB working image, or a clear reason."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from dedup_gui.core.decoding import SIDE, MissingExtra, UnreadableImage, decode
from dedup_gui.core.formats import PILLOW_EXTENSIONS
from dedup_gui.core.model import ImageInfo


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


# Where the stored image's first row and first column end up when shown, for each EXIF orientation
# (the EXIF specification's table, written out here independently of the decoder's transposes).
_ROW0_COL0 = {
    1: ("top", "left"),
    2: ("top", "right"),
    3: ("bottom", "right"),
    4: ("bottom", "left"),
    5: ("left", "top"),
    6: ("right", "top"),
    7: ("right", "bottom"),
    8: ("left", "bottom"),
}
_OPPOSITE = {"top": "bottom", "bottom": "top", "left": "right", "right": "left"}
_QUADRANT_COLOURS = {(0, 0): (255, 0, 0), (0, 1): (0, 255, 0), (1, 0): (0, 0, 255), (1, 1): (255, 255, 255)}


def _quadrants(size: tuple[int, int] = (320, 160)) -> Image.Image:
    """Red, green / blue, white quadrants: every one of the eight orientations looks different."""
    pixels = np.zeros((size[1], size[0], 3), np.uint8)
    for (row, col), colour in _QUADRANT_COLOURS.items():
        pixels[row * size[1] // 2 : (row + 1) * size[1] // 2, col * size[0] // 2 : (col + 1) * size[0] // 2] = colour
    return Image.fromarray(pixels)


def _shown_corner(orientation: int, row: int, col: int) -> tuple[int, int]:
    """(row, col) quadrant, when shown, of the stored quadrant (row, col)."""
    row_side, col_side = _ROW0_COL0[orientation]
    sides = {row_side if row == 0 else _OPPOSITE[row_side], col_side if col == 0 else _OPPOSITE[col_side]}
    return (0 if "top" in sides else 1), (0 if "left" in sides else 1)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "TIFF", "WEBP"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_gives_the_upright_image(orientation: int, fmt: str) -> None:
    exif = Image.Exif()
    exif[0x0112] = orientation
    options: dict[str, object] = {"tiffinfo": {0x0112: orientation}} if fmt == "TIFF" else {"exif": exif}
    decoded = decode(_encode(_quadrants(), fmt, **options), "")
    upright = orientation in (1, 2, 3, 4)
    assert (decoded.info.width, decoded.info.height) == ((320, 160) if upright else (160, 320))
    pixels = np.asarray(decoded.image).astype(int)
    for (row, col), colour in _QUADRANT_COLOURS.items():
        shown_row, shown_col = _shown_corner(orientation, row, col)
        centre = pixels[56 + 112 * shown_row, 56 + 112 * shown_col]
        assert np.abs(centre - colour).max() <= 12, (row, col, shown_row, shown_col, centre)


def test_orientation_six_turns_the_left_half_to_the_top() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    decoded = decode(_encode(_half_red((300, 100)), "PNG", exif=exif), ".png")
    assert (decoded.info.width, decoded.info.height) == (100, 300)
    pixels = np.asarray(decoded.image)
    assert tuple(pixels[10, 10]) == (255, 0, 0) and tuple(pixels[10, 213]) == (255, 0, 0)
    assert tuple(pixels[213, 10]) == (0, 0, 255) and tuple(pixels[213, 213]) == (0, 0, 255)


def test_large_jpeg_is_decoded_reduced_through_draft(monkeypatch: pytest.MonkeyPatch) -> None:
    import dedup_gui.core.decoding as decoding

    loaded: list[tuple[str, tuple[int, int]]] = []
    real_orient = decoding._orient

    def spy(img: Image.Image, orientation: object) -> Image.Image:
        loaded.append((img.mode, img.size))
        return real_orient(img, orientation)

    monkeypatch.setattr(decoding, "_orient", spy)
    decoded = decode(_encode(_half_red((4000, 3000)), "JPEG", quality=90), ".jpg")
    assert decoded.image.size == (SIDE, SIDE) and decoded.image.mode == "RGB"
    assert decoded.info.width == 4000 and decoded.info.height == 3000  # the file's size, not the reduced one
    ((mode, (width, height)),) = loaded
    assert mode == "RGB" and min(width, height) >= SIDE and width <= 1000  # 1/4 or less of each side was decoded
    pixels = np.asarray(decoded.image)
    assert pixels[112, 20, 0] > 200 and pixels[112, 200, 2] > 200


def _pillow_can_write(fmt: str) -> bool:
    try:
        Image.new("RGB", (8, 8)).save(io.BytesIO(), fmt)
    except (OSError, KeyError, ValueError):
        return False
    return True


@pytest.mark.parametrize("suffix", sorted(PILLOW_EXTENSIONS))
def test_every_listed_extension_decodes(suffix: str) -> None:
    """Each type discovery picks up by its name must decode too, not be refused as "not an image"."""
    Image.init()
    fmt = Image.registered_extensions().get(suffix)
    if fmt is None or not _pillow_can_write(fmt):
        pytest.skip(f"this Pillow cannot write {suffix}")
    colour = (200, 30, 40)
    image = Image.new("RGB", (64, 48), colour)
    if suffix == ".pbm":
        image, colour = Image.new("1", (64, 48), 1), (255, 255, 255)
    elif suffix == ".pgm":
        image, colour = Image.new("L", (64, 48), 90), (90, 90, 90)
    options = {"sizes": [(64, 48)]} if fmt == "ICO" else {}
    decoded = decode(_encode(image, fmt, **options), suffix)
    assert (decoded.info.width, decoded.info.height) == (64, 48)
    assert decoded.image.size == (SIDE, SIDE) and decoded.image.mode == "RGB"
    assert np.abs(np.asarray(decoded.image)[100, 100].astype(int) - colour).max() <= 6


@pytest.mark.parametrize(("value", "expected"), [(0, 0), (200, 1), (32768, 128), (65535, 255)])
@pytest.mark.parametrize("fmt", ["PNG", "TIFF"])
def test_sixteen_bit_grey_is_scaled_to_eight_bits(fmt: str, value: int, expected: int) -> None:
    """A near-black 16-bit image (200 of 65535) stays near black: the whole range is scaled, never clipped."""
    grey = Image.fromarray(np.full((32, 32), value, np.uint16))
    pixel = np.asarray(decode(_encode(grey, fmt), "").image)[50, 50]
    assert np.abs(pixel.astype(int) - expected).max() <= 1


def test_sixteen_bit_gradient_keeps_its_order() -> None:
    ramp = Image.fromarray(np.tile(np.linspace(0, 65535, 256).astype(np.uint16), (16, 1)))
    row = np.asarray(decode(_encode(ramp, "PNG"), ".png").image)[8, :, 0].astype(int)
    assert row[0] <= 2 and row[-1] >= 253 and np.all(np.diff(row) >= 0)


def test_grey_with_alpha_and_transparent_gif_become_white() -> None:
    la = Image.new("LA", (32, 32), (0, 0))
    la.paste((0, 255), (0, 0, 16, 32))
    pixels = np.asarray(decode(_encode(la, "PNG"), ".png").image)
    assert tuple(pixels[100, 200]) == (255, 255, 255) and tuple(pixels[100, 20]) == (0, 0, 0)
    gif = Image.new("P", (32, 32), 1)
    gif.putpalette([0, 0, 0, 0, 200, 0])
    gif.paste(0, (0, 0, 16, 32))
    pixels = np.asarray(decode(_encode(gif, "GIF", transparency=0), ".gif").image)
    assert tuple(pixels[100, 20]) == (255, 255, 255) and tuple(pixels[100, 200]) == (0, 200, 0)


def test_palette_png_with_partial_transparency() -> None:
    palette = Image.new("P", (32, 32), 1)
    palette.putpalette([255, 0, 0, 0, 0, 255])
    palette.paste(0, (0, 0, 16, 32))
    # Index 0 (red) is fully transparent, index 1 (blue) opaque.
    pixels = np.asarray(decode(_encode(palette, "PNG", transparency=bytes([0, 255])), ".png").image)
    assert tuple(pixels[100, 20]) == (255, 255, 255) and tuple(pixels[100, 200]) == (0, 0, 255)


@pytest.mark.parametrize("fmt", ["GIF", "PNG", "WEBP"])
def test_first_frame_of_every_animated_type(fmt: str) -> None:
    colours = [(0, 0, 255), (255, 0, 0), (0, 255, 0)]
    frames = [Image.new("RGB", (48, 48), colour) for colour in colours]
    data = _encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert Image.open(io.BytesIO(data)).n_frames == 3
    pixel = np.asarray(decode(data, "." + fmt.lower()).image)[112, 112].astype(int)
    assert np.abs(pixel - colours[0]).max() <= 10


def test_image_above_pillows_own_limit_but_within_ours_is_read() -> None:
    """95 MP is above Pillow's built-in 89 MP bomb limit and below the app's 250 MP default."""
    big = _encode(Image.new("L", (10_000, 9_500), 77), "PNG")
    decoded = decode(big, ".png")
    assert (decoded.info.width, decoded.info.height) == (10_000, 9_500)
    assert tuple(np.asarray(decoded.image)[0, 0]) == (77, 77, 77)
    with pytest.raises(UnreadableImage, match=r"10000x9500 pixels \(95 MP\) is above the limit of 90 MP"):
        decode(big, ".png", max_megapixels=90)


def test_huge_dimensions_in_a_tiny_file_name_the_default_limit() -> None:
    huge = _encode(Image.new("1", (30_000, 30_000)), "PNG")
    assert len(huge) < 200_000
    with pytest.raises(UnreadableImage, match=r"above the limit of 250 MP \(decompression bomb protection"):
        decode(huge, ".png")


def test_extras_are_named_for_heic_and_raw_whatever_the_file_is_called(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "pillow_heif", None)  # as if the extras were not installed
    monkeypatch.setitem(sys.modules, "rawpy", None)
    for brand in (b"heic", b"mif1", b"heix"):
        with pytest.raises(MissingExtra, match="install the 'heic' extra"):
            decode(b"\x00\x00\x00\x18ftyp" + brand + b"\x00" * 64, ".jpg")  # the content decides
    for data, suffix in ((b"FUJIFILMCCD-RAW 0201" + b"\x00" * 64, ""), (b"MM\x00*" + b"\x00" * 64, ".NEF")):
        with pytest.raises(MissingExtra, match="install the 'raw' extra"):
            decode(data, suffix)


def test_heic_without_the_extra_installed() -> None:
    try:
        import pillow_heif  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("pillow_heif is installed here")
    with pytest.raises(MissingExtra, match="install the 'heic' extra"):
        decode(b"\x00\x00\x00\x18ftypheic" + b"\x00" * 64, ".heic")


def test_raw_without_the_extra_installed() -> None:
    try:
        import rawpy  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("rawpy is installed here")
    with pytest.raises(MissingExtra, match="install the 'raw' extra"):
        decode(b"II*\x00\x10\x00\x00\x00CR\x02\x00" + b"\x00" * 64, ".cr2")


def _with_exif(**tags: object) -> bytes:
    exif = Image.Exif()
    names = {"make": 0x010F, "model": 0x0110, "datetime": 0x0132}
    for name, value in tags.items():
        if name == "original":
            exif.get_ifd(0x8769)[0x9003] = value
        else:
            exif[names[name]] = value
    return _encode(Image.new("RGB", (32, 32)), "JPEG", exif=exif)


@pytest.mark.parametrize(
    ("tags", "date_taken", "camera"),
    [
        ({"original": "2021:07:04 10:00:00", "datetime": "2022:01:01 00:00:00"}, "2021:07:04 10:00:00", None),
        ({"datetime": "2022:01:01 00:00:00"}, "2022:01:01 00:00:00", None),
        ({"make": "Apple", "model": "iPhone 12"}, None, "Apple iPhone 12"),
        ({"make": "Canon", "model": "Canon EOS 80D"}, None, "Canon EOS 80D"),
        ({"make": "NIKON CORPORATION", "model": "NIKON D750"}, None, "NIKON D750"),
        ({"model": "DMC-GX7"}, None, "DMC-GX7"),
        ({"make": "Canon\x00\x00 ", "model": "EOS R5\x00"}, None, "Canon EOS R5"),
        ({"datetime": "   "}, None, None),
        ({}, None, None),
    ],
    ids=[
        "original-first",
        "datetime-fallback",
        "make-model",
        "model-has-make",
        "model-has-the-make-first-word",
        "model-only",
        "nul-padded",
        "blank",
        "none",
    ],
)
def test_date_taken_and_camera_from_exif(tags: dict[str, object], date_taken: str | None, camera: str | None) -> None:
    info = decode(_with_exif(**tags), ".jpg").info
    assert (info.date_taken, info.camera) == (date_taken, camera)


def test_date_and_camera_from_a_png() -> None:
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0132] = "Google", "Pixel 7", "2023:03:03 03:03:03"
    info = decode(_encode(Image.new("RGB", (16, 16)), "PNG", exif=exif), ".png").info
    assert (info.format, info.camera, info.date_taken) == ("PNG", "Google Pixel 7", "2023:03:03 03:03:03")


def _jpeg(img: Image.Image, exif: Image.Exif | None = None) -> bytes:
    out = io.BytesIO()
    img.save(out, "JPEG", quality=95, exif=exif or Image.Exif())
    return out.getvalue()


def _fake_rawpy(monkeypatch: pytest.MonkeyPatch, preview: bytes, width: int, height: int, flip: int) -> None:
    """rawpy as LibRaw answers for a camera file: an embedded JPEG preview and the sensor frame's size."""
    import sys
    import types
    from types import SimpleNamespace

    class Raw:
        sizes = SimpleNamespace(width=width, height=height, flip=flip)

        def __enter__(self) -> Raw:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def extract_thumb(self) -> SimpleNamespace:
            return SimpleNamespace(format="jpeg", data=preview)

    module = types.ModuleType("rawpy")
    module.ThumbFormat = SimpleNamespace(JPEG="jpeg", BITMAP="bitmap")  # type: ignore[attr-defined]
    module.imread = lambda stream: Raw()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "rawpy", module)


@pytest.mark.parametrize("preview_says_its_orientation", [False, True])
def test_a_raw_file_is_described_by_its_sensor_frame_and_turned_upright(
    monkeypatch: pytest.MonkeyPatch, preview_says_its_orientation: bool
) -> None:
    rng = np.random.default_rng(3)
    upright = Image.fromarray(rng.integers(0, 255, (30, 20, 3), dtype=np.uint8)).resize((200, 300))  # portrait
    sideways = upright.transpose(Image.Transpose.ROTATE_90)  # as the sensor recorded it
    own = Image.Exif()
    if preview_says_its_orientation:
        own[0x0112] = 6
    _fake_rawpy(monkeypatch, _jpeg(sideways, own), width=6000, height=4000, flip=6)  # 6: turn 90 clockwise
    container_exif = Image.Exif()
    container_exif[0x010F], container_exif[0x0110] = "NIKON CORPORATION", "NIKON D750"
    container_exif[0x0132] = "2019:06:01 12:00:00"
    container = io.BytesIO()
    Image.new("RGB", (8, 8)).save(container, "TIFF", exif=container_exif)  # NEF files are TIFF files
    decoded = decode(container.getvalue(), ".NEF")
    assert decoded.info == ImageInfo(4000, 6000, "NEF (camera RAW)", "2019:06:01 12:00:00", "NIKON D750")
    expected = np.asarray(decode(_jpeg(upright), ".jpg").image, dtype=np.float64)
    assert np.abs(np.asarray(decoded.image, dtype=np.float64) - expected).mean() < 4  # upright, turned once
