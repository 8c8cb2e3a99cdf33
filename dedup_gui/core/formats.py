"""Image types: which names to look at and what a file's first bytes say it really is."""

from __future__ import annotations

import re

# Extensions worth opening; compared in lower case so "IMG_0001.JPG" counts.
PILLOW_EXTENSIONS = frozenset(
    ".jpg .jpeg .jpe .jfif .png .gif .webp .bmp .dib .tif .tiff .ppm .pgm .pbm .pnm .tga .ico .jp2 .j2k"
    " .mpo .avif".split()
)
HEIF_EXTENSIONS = frozenset(".heic .heif .hif".split())
RAW_EXTENSIONS = frozenset(".cr2 .cr3 .nef .nrw .arw .srf .sr2 .dng .raf .orf .rw2 .pef .srw .x3f .3fr .iiq".split())
IMAGE_EXTENSIONS = PILLOW_EXTENSIONS | HEIF_EXTENSIONS | RAW_EXTENSIONS

# Types whose files begin with no signature: only the extension says what they are.
UNSIGNED_TYPES = {".tga": "TGA", ".dib": "DIB"}

SNIFF_BYTES = 32

_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "JPEG"),
    (b"\x89PNG\r\n\x1a\n", 0, "PNG"),
    (b"GIF87a", 0, "GIF"),
    (b"GIF89a", 0, "GIF"),
    (b"II*\x00", 0, "TIFF"),
    (b"MM\x00*", 0, "TIFF"),
    (b"BM", 0, "BMP"),
    (b"\x00\x00\x00\x0cjP  ", 0, "JPEG2000"),
    (b"\xff\x4f\xff\x51", 0, "JPEG2000"),
    (b"FUJIFILMCCD-RAW", 0, "RAW"),
    (b"IIRO", 0, "RAW"),
    (b"IIU\x00", 0, "RAW"),
)
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}


def sniff(head: bytes) -> str | None:
    """Return the image type named by the file's first bytes, or None if they name no image type."""
    for magic, offset, kind in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _AVIF_BRANDS:
            return "AVIF"
        if brand in _HEIF_BRANDS:
            return "HEIF"
        if brand == b"crx ":
            return "RAW"
    if head[:4] == b"\x00\x00\x01\x00" and head[4:8] != b"ftyp":  # a 256-byte "ftyp" box starts alike
        return "ICO"
    if re.match(rb"P[1-6]\s+[0-9#]", head):  # "P6", white space, then the width or a comment
        return "PNM"
    return None


def describe_content(head: bytes) -> str:
    """A short human description of a non-image file's content, for skip reasons."""
    if not head:
        return "empty"
    if not head.strip(b"\0"):
        return "zero bytes only (a file never written, or wiped)"
    if b"\0" in head:
        return "unknown binary data"  # NUL is valid UTF-8, but no text file holds it
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "unknown binary data"
    return "text"
