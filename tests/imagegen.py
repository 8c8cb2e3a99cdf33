"""Seeded synthetic photos and the edits that turn them into near-duplicates.

Tests and benchmarks need many distinct, realistic-looking images without shipping photos. ``photo_like``
paints a scene at a quarter of the target resolution (cheap), upscales it, then adds full-resolution sensor
grain so JPEG files weigh what a camera's do. Only numpy and Pillow are used, so tests stay light.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps

_SCALE = 4  # the scene is painted at 1/_SCALE of the requested size
_GRAIN = 5  # luminance grain amplitude in 8-bit levels: sets the JPEG file size
_TEXTURE = 14  # peak amplitude of the mid-frequency texture


def photo_like(seed: int, size: tuple[int, int]) -> Image.Image:
    """An RGB camera-like image: gradient sky, blobs and shapes at three scales, texture, vignette, grain.

    The same seed always gives the same pixels; different seeds give unrelated large-scale structure,
    hence unrelated perceptual hashes.
    """
    rng = np.random.default_rng(seed)
    width, height = size
    low = (max(width // _SCALE, 16), max(height // _SCALE, 16))
    scene = np.asarray(_shapes(rng, Image.fromarray(_background(rng, low))), dtype=np.float32)
    scene += _texture(rng, low) + _vignette(low) + rng.normal(0, 1.5, (low[1], low[0], 3))  # last: chroma noise
    full = Image.fromarray(np.clip(scene, 0, 255).astype(np.uint8)).resize(size, Image.Resampling.BICUBIC)
    return Image.fromarray(_add_grain(rng, np.array(full)))


def _background(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    """A two-colour linear gradient at a random angle, mottled by very low-frequency colour clouds."""
    width, height = size
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32) / max(width, height)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = xx * np.cos(angle) + yy * np.sin(angle)
    ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
    start, end = rng.uniform(0, 255, (2, 3)).astype(np.float32)
    gradient = start + ramp[..., None] * (end - start)
    clouds = Image.fromarray((rng.random((3, 4, 3)) * 255).astype(np.uint8)).resize(size, Image.Resampling.BICUBIC)
    mix = rng.uniform(0.2, 0.5)
    return ((1 - mix) * gradient + mix * np.asarray(clouds, dtype=np.float32)).astype(np.uint8)


def _shapes(rng: np.random.Generator, canvas: Image.Image) -> Image.Image:
    """Translucent ellipses, boxes and polygons: a few big ones (blurred, like out of focus), many small ones."""
    width, height = canvas.size
    scales = (((2, 4), (0.2, 0.45), 3.0), ((4, 9), (0.05, 0.15), 1.0), ((10, 30), (0.01, 0.04), 0.6))
    for count, (smallest, largest), blur in scales:
        layer = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(layer)
        for _ in range(int(rng.integers(*count))):
            cx, cy = rng.uniform(0, width), rng.uniform(0, height)
            rx, ry = rng.uniform(smallest, largest, 2) * width
            colour = (*(int(c) for c in rng.integers(0, 256, 3)), int(rng.integers(150, 256)))
            kind = rng.integers(3)
            if kind == 0:
                draw.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=colour)
            elif kind == 1:
                draw.rectangle((cx - rx, cy - ry, cx + rx, cy + ry), fill=colour)
            else:
                angles = np.sort(rng.uniform(0, 2 * np.pi, int(rng.integers(3, 7))))
                draw.polygon([(cx + rx * np.cos(a), cy + ry * np.sin(a)) for a in angles], fill=colour)
        # Blur premultiplied ("RGBa") so edges fade out instead of growing a dark fringe; it also hides the
        # staircase edges of undersampled drawing once upscaled.
        layer = layer.convert("RGBa").filter(ImageFilter.GaussianBlur(blur)).convert("RGBA")
        canvas = Image.alpha_composite(canvas.convert("RGBA"), layer)
    return canvas.convert("RGB")


def _texture(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    """Fine luminance texture (foliage, fabric) that is strong in some regions and absent in others (sky)."""
    width, height = size
    detail = rng.normal(0, 1, (height, width)).astype(np.float32)
    mask = Image.fromarray((rng.random((4, 5)) * 255).astype(np.uint8)).resize(size, Image.Resampling.BICUBIC)
    strength = np.clip(np.asarray(mask, dtype=np.float32) / 255 * 2 - 0.5, 0, 1) * _TEXTURE
    return (detail * strength)[..., None]


def _vignette(size: tuple[int, int]) -> np.ndarray:
    """Lens fall-off: corners about 18 levels darker than the centre."""
    xs = np.linspace(-1, 1, size[0], dtype=np.float32)[None, :]
    ys = np.linspace(-1, 1, size[1], dtype=np.float32)[:, None]
    return (-9 * (xs**2 + ys**2))[..., None]


def _add_grain(rng: np.random.Generator, pixels: np.ndarray) -> np.ndarray:
    """Per-pixel luminance grain, added in place in uint8 (no int16 copy: this is the hot loop at 12 MP).

    Pixels are first limited to [_GRAIN, 255 - _GRAIN] so the shifted noise cannot wrap around.
    """
    np.clip(pixels, _GRAIN, 255 - _GRAIN, out=pixels)
    pixels -= _GRAIN
    pixels += rng.integers(0, 2 * _GRAIN + 1, (*pixels.shape[:2], 1), dtype=np.uint8)
    return pixels


_WORDS = "invoice total amount due payment order shipping address meeting tomorrow thanks see you soon".split()


def text_screenshot(seed: int, size: tuple[int, int] = (1280, 800)) -> Image.Image:
    """A screenshot of a text page: a title bar and lines of words on white. Different seeds give different
    pages that a CNN at 224 pixels sees as the same texture."""
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=18)
    draw.rectangle((0, 0, size[0], 40), fill=tuple(int(c) for c in rng.integers(0, 120, 3)))
    y = 60
    while y < size[1] - 30:
        draw.text((40, y), " ".join(rng.choice(_WORDS, size=int(rng.integers(3, 12)))), fill="black", font=font)
        y += int(rng.integers(24, 40))
    return img


def reencode_jpeg(img: Image.Image, quality: int) -> Image.Image:
    """The image after a JPEG save and reload at ``quality``: what messengers and exports do."""
    buffer = io.BytesIO()
    img.convert("RGB").save(buffer, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def resized(img: Image.Image, factor: float) -> Image.Image:
    """Scaled by ``factor`` on both sides, as a thumbnail or an upload size limit would."""
    return img.resize((max(1, round(img.width * factor)), max(1, round(img.height * factor))), Image.Resampling.LANCZOS)


def mirrored(img: Image.Image) -> Image.Image:
    """Flipped left to right, like a selfie camera's output."""
    return ImageOps.mirror(img)


def rotated90(img: Image.Image, k: int) -> Image.Image:
    """Turned ``k`` quarter turns counter-clockwise with the pixels actually moved (not an EXIF tag)."""
    turns = {0: Image.Transpose.ROTATE_90, 1: Image.Transpose.ROTATE_180, 2: Image.Transpose.ROTATE_270}
    return img.copy() if k % 4 == 0 else img.transpose(turns[k % 4 - 1])


def cropped(img: Image.Image, fraction: float) -> Image.Image:
    """The centre part keeping ``fraction`` of the width and of the height (0.9 trims 5% off each edge)."""
    w, h = round(img.width * fraction), round(img.height * fraction)
    left, top = (img.width - w) // 2, (img.height - h) // 2
    return img.crop((left, top, left + w, top + h))


def brightened(img: Image.Image, factor: float) -> Image.Image:
    """Brightness multiplied by ``factor`` (above 1 is brighter), like an auto-enhance."""
    return ImageEnhance.Brightness(img).enhance(factor)


def greyscale(img: Image.Image) -> Image.Image:
    """A black-and-white version kept as RGB, as photo apps' mono filters save it."""
    return img.convert("L").convert("RGB")
