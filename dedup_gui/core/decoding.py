"""Turn a file's bytes into the one small RGB image every feature is computed from.

One decode per file: EXIF orientation applied, JPEG decoded at reduced size with ``draft`` (3-4x faster on
12 MP photos), every Pillow mode brought to 8-bit RGB, transparency composited on a fixed background, and
oversized images refused before their pixels are read.
"""

from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass, replace

import numpy as np
from PIL import Image, UnidentifiedImageError

from dedup_gui.core.borders import border_share
from dedup_gui.core.formats import RAW_EXTENSIONS, SNIFF_BYTES, UNSIGNED_TYPES, describe_content, sniff
from dedup_gui.core.model import ImageInfo
from dedup_gui.core.rotation_fill import fill_rotation_wedges

SIDE = 224
"""Side of the square working image: the CNN's input size, and ample for 32x32 hashes."""

BACKGROUND = (255, 255, 255)
"""Transparent pixels become white, so a PNG with alpha and its flattened JPEG copy still match."""

DEFAULT_MAX_MEGAPIXELS = 250.0

_SIXTEEN_BIT_MODES = {"I;16", "I;16L", "I;16B", "I;16N", "I"}
_TAG_ORIENTATION = 0x0112
_TAG_MAKE = 0x010F
_TAG_MODEL = 0x0110
_TAG_DATETIME = 0x0132
_TAG_EXIF_IFD = 0x8769
_TAG_DATETIME_ORIGINAL = 0x9003


class UnreadableImage(Exception):
    """The file is not an image this app can read; the message says why, for the skipped-files list."""


class TooLarge(UnreadableImage):
    """The image is above the megapixel limit: a skip that a higher limit undoes, so it is never cached."""


def _above_limit(max_megapixels: float) -> str:
    return f"above the limit of {max_megapixels:g} MP (decompression bomb protection; raise the limit to include it)"


def size_refusal(width: int, height: int, max_megapixels: float) -> str | None:
    """Why an image of this size is refused under the limit, or None when it is within it."""
    megapixels = width * height / 1e6
    if megapixels <= max_megapixels:
        return None
    return f"{width}x{height} pixels ({megapixels:.0f} MP) is {_above_limit(max_megapixels)}"


class MissingExtra(UnreadableImage):
    """The image type needs an optional package that is not installed; installing it fixes the skip."""


@dataclass(frozen=True)
class Decoded:
    """The working image (``SIDE`` x ``SIDE``, RGB, the whole frame squashed) and the image's facts."""

    image: Image.Image
    info: ImageInfo


def decode(data: bytes, suffix: str, max_megapixels: float = DEFAULT_MAX_MEGAPIXELS) -> Decoded:
    """Decode ``data`` (a whole file) into the working image; raise ``UnreadableImage`` with the reason."""
    raw = None
    if suffix.lower() in RAW_EXTENSIONS or sniff(data[:SNIFF_BYTES]) == "RAW":
        data, raw = _raw_preview(data, suffix)
    kind = sniff(data[:SNIFF_BYTES]) or UNSIGNED_TYPES.get(suffix.lower())
    if kind is None:
        named = f"named {suffix}" if suffix else "without an extension"
        raise UnreadableImage(f"not an image: the content is {describe_content(data[:64])} ({named})")
    if kind in ("HEIF", "AVIF"):
        _register_heif_opener(kind)
    _raise_pillow_limit(max_megapixels)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # damaged files are expected here; the reason is what counts
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            decoded = _decode_pillow(data, max_megapixels)
            return _with_border(decoded if raw is None else raw.describe(decoded))
    except UnreadableImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own check fired first; its limit is never below ours, so the image is above ours.
        raise TooLarge(_above_limit(max_megapixels)) from None
    except UnidentifiedImageError:
        raise UnreadableImage(f"{kind} file that the image library cannot identify (corrupt header)") from None
    # struct.error leaks from some damaged headers.
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error) as exc:
        raise UnreadableImage(f"corrupt or truncated {kind} data: {exc}") from None
    except MemoryError:
        raise UnreadableImage("not enough memory to decode this image") from None


def _with_border(decoded: Decoded) -> Decoded:
    """Measure added bands on the working image: 224 lines place them within half a percent of the side."""
    border = border_share(np.asarray(decoded.image.convert("L")))
    return Decoded(decoded.image, replace(decoded.info, border=border))


def _raise_pillow_limit(max_megapixels: float) -> None:
    """Pillow refuses images above its own limit (about 89 MP) in ``Image.open``, before the check against
    ``max_megapixels`` can run; lift Pillow's limit to ours so ours is the one that counts. Only ever raised,
    so decodes running at the same time cannot lower it under each other."""
    wanted = int(max_megapixels * 1e6)
    if Image.MAX_IMAGE_PIXELS is not None and wanted > Image.MAX_IMAGE_PIXELS:
        Image.MAX_IMAGE_PIXELS = wanted


def _decode_pillow(data: bytes, max_megapixels: float) -> Decoded:
    with Image.open(io.BytesIO(data)) as img:
        width, height = img.size
        refusal = size_refusal(width, height, max_megapixels)
        if refusal:
            raise TooLarge(refusal)
        exif = _read_exif(img)
        stored_orientation = exif.get(_TAG_ORIENTATION, 1) if exif is not None else 1
        date_taken, camera = _date_taken(exif), _camera(exif)
        if img.format == "JPEG":
            img.draft("RGB", (SIDE, SIDE))
        img.load()
        # Read again after loading: Pillow turns TIFFs upright itself on load and drops their tag.
        after = _read_exif(img)
        orientation = after.get(_TAG_ORIENTATION, 1) if after is not None else 1
        if orientation in (5, 6, 7, 8):
            width, height = height, width
        elif orientation != stored_orientation:  # Pillow applied it; no draft here, so this is the full size
            width, height = img.size
        info = ImageInfo(width, height, img.format or "unknown", date_taken, camera)
        oriented = _orient(img, orientation)
        return Decoded(_to_working_image(oriented), info)


def _read_exif(img: Image.Image) -> Image.Exif | None:
    """EXIF is optional; a broken block must not cost the image."""
    try:
        return img.getexif()
    except Exception:
        return None


def _date_taken(exif: Image.Exif | None) -> str | None:
    if exif is None:
        return None
    try:
        value = exif.get_ifd(_TAG_EXIF_IFD).get(_TAG_DATETIME_ORIGINAL) or exif.get(_TAG_DATETIME)
    except Exception:
        return None
    return _clean_text(value)


def _camera(exif: Image.Exif | None) -> str | None:
    if exif is None:
        return None
    make, model = _clean_text(exif.get(_TAG_MAKE)), _clean_text(exif.get(_TAG_MODEL))
    if make and model and model.lower().startswith(make.split()[0].lower()):  # "NIKON CORPORATION", "NIKON D750"
        return model
    return " ".join(part for part in (make, model) if part) or None


def _clean_text(value: object) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    value = value.strip("\x00 ").strip()
    return value or None


def _orient(img: Image.Image, orientation: object) -> Image.Image:
    method = {
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_270,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_90,
    }.get(orientation if isinstance(orientation, int) else 1)
    return img.transpose(method) if method is not None else img


def _to_working_image(img: Image.Image) -> Image.Image:
    """Bring any mode to RGB at ``SIDE`` x ``SIDE``, shrinking before the per-pixel work where it can, with
    a straightened photo's corner wedges filled (see ``rotation_fill``)."""
    if img.mode in _SIXTEEN_BIT_MODES:
        img = _sixteen_to_eight_bit(img)
    elif img.mode == "F":
        img = _float_to_eight_bit(img)
    has_alpha = img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (img.mode == "P" and "transparency" in img.info)
    if has_alpha:
        img = img.convert("RGBA")
    elif img.mode not in ("RGB", "L"):
        img = img.convert("RGB")
    img = img.resize((SIDE, SIDE), Image.Resampling.BILINEAR, reducing_gap=3.0)
    if has_alpha:
        background = Image.new("RGBA", img.size, (*BACKGROUND, 255))
        img = Image.alpha_composite(background, img)
    img = img.convert("RGB") if img.mode != "RGB" else img
    pixels = np.asarray(img)
    filled = fill_rotation_wedges(pixels)
    return img if filled is pixels else Image.fromarray(filled)


def _sixteen_to_eight_bit(img: Image.Image) -> Image.Image:
    values = np.asarray(img).astype(np.float32)
    scale = 257.0 if img.mode.startswith("I;16") or values.max(initial=0) > 255 else 1.0
    return Image.fromarray(np.clip(values / scale + 0.5, 0, 255).astype(np.uint8), "L")


def _float_to_eight_bit(img: Image.Image) -> Image.Image:
    values = np.nan_to_num(np.asarray(img, dtype=np.float32))
    low, high = float(values.min(initial=0)), float(values.max(initial=0))
    span = high - low or 1.0
    return Image.fromarray(((values - low) / span * 255 + 0.5).astype(np.uint8), "L")


@dataclass(frozen=True)
class _RawFrame:
    """What a camera RAW file says about the picture its embedded preview stands for: the preview is often
    smaller than the sensor's frame, carries no EXIF and is stored sideways for portrait shots."""

    width: int
    height: int
    orientation: int
    """EXIF-style orientation to apply to the preview (1 when the preview says its own)."""
    format: str
    date_taken: str | None = None
    camera: str | None = None

    def describe(self, preview: Decoded) -> Decoded:
        """The preview's working image turned upright, with the RAW frame's size, format, date and camera."""
        turned = self.orientation in (5, 6, 7, 8)
        portrait = (preview.info.width < preview.info.height) != turned  # the upright preview's shape
        frame = (self.width, self.height) if self.width and self.height else (preview.info.width, preview.info.height)
        width, height = sorted(frame, reverse=not portrait)
        info = ImageInfo(
            width,
            height,
            self.format,
            self.date_taken or preview.info.date_taken,
            self.camera or preview.info.camera,
        )
        return Decoded(_orient(preview.image, self.orientation), info)


_LIBRAW_FLIP = {3: 3, 5: 8, 6: 6}
"""LibRaw's ``flip`` (3: 180 degrees, 5: 90 counter-clockwise, 6: 90 clockwise) as an EXIF orientation."""


def _raw_preview(data: bytes, suffix: str) -> tuple[bytes, _RawFrame]:
    """Camera RAW files are compared through the JPEG preview the camera embedded in them."""
    try:
        import rawpy
    except ImportError:
        raise MissingExtra(
            "camera RAW file: install the 'raw' extra to read it (pip install 'dedup-gui[raw]')"
        ) from None
    try:
        with rawpy.imread(io.BytesIO(data)) as raw:
            thumb = raw.extract_thumb()
            sizes = raw.sizes
    except Exception as exc:
        raise UnreadableImage(f"camera RAW file without a readable preview: {exc}") from None
    if thumb.format == rawpy.ThumbFormat.JPEG:
        preview = bytes(thumb.data)
    else:
        out = io.BytesIO()
        Image.fromarray(thumb.data).save(out, "PNG")
        preview = out.getvalue()
    orientation = _LIBRAW_FLIP.get(sizes.flip, 1) if _own_orientation(preview) == 1 else 1
    name = suffix.lstrip(".").upper()
    date_taken, camera = _container_exif(data)
    kind = f"{name} (camera RAW)" if name else "camera RAW"
    return preview, _RawFrame(sizes.width, sizes.height, orientation, kind, date_taken, camera)


def _own_orientation(image_data: bytes) -> int:
    """The orientation an image's own EXIF gives (1 when it has none or it cannot be read)."""
    try:
        with Image.open(io.BytesIO(image_data)) as img:
            exif = _read_exif(img)
            return int(exif.get(_TAG_ORIENTATION, 1)) if exif is not None else 1
    except Exception:
        return 1


def _container_exif(data: bytes) -> tuple[str | None, str | None]:
    """Date taken and camera from the RAW file's own EXIF: most RAW formats (NEF, CR2, ARW, DNG, ...) are TIFF
    files, read here without decoding any pixels. Others (CR3, RAF) keep what the preview says."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a large first image is not decoded here; its size says nothing
            with Image.open(io.BytesIO(data)) as container:
                exif = _read_exif(container)
                return _date_taken(exif), _camera(exif)
    except Exception:
        return None, None


def _register_heif_opener(kind: str) -> None:
    """HEIC/HEIF (and AVIF where Pillow lacks it) need the optional ``pillow-heif`` package."""
    if kind == "AVIF" and "AVIF" in Image.registered_extensions().values():
        return
    try:
        import pillow_heif
    except ImportError:
        raise MissingExtra(
            f"{kind} image: install the 'heic' extra to read it (pip install 'dedup-gui[heic]')"
        ) from None
    pillow_heif.register_heif_opener()
