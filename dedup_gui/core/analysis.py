"""Per-file work done in the worker pool: one read, one digest, one decode, every feature.

Runs in worker processes, so everything here is a plain top-level function over picklable values, and no
error may escape: each failure becomes a reason attached to the file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from dedup_gui.core.decoding import DEFAULT_MAX_MEGAPIXELS, MissingExtra, TooLarge, UnreadableImage, decode
from dedup_gui.core.hashes import grey_dihedral_hashes, hash_grey
from dedup_gui.core.model import FileRef, ImageInfo
from dedup_gui.core.tone import tone

DECODE_VERSION = 5
"""Bump when decoding changes what it yields; cached image facts and failures are then redone."""


@dataclass(frozen=True)
class AnalysisRequest:
    """What to compute for one file."""

    ref: FileRef
    decode: bool = True
    max_megapixels: float = DEFAULT_MAX_MEGAPIXELS
    pixels: bool = False
    """Also return the working image's pixels, for the CNN in the main process."""


@dataclass(frozen=True)
class Analysis:
    """The results for one file; ``error`` set means it is skipped with that reason."""

    ref: FileRef
    digest: str | None = None
    info: ImageInfo | None = None
    hashes: np.ndarray | None = None
    pixels: np.ndarray | None = None
    error: str | None = None
    lasting: bool = True
    """False for failures that may pass (file moved, extra not installed): those are not cached."""
    tone: np.ndarray | None = None
    """Colour, flatness and hues (``tone.tone``)."""


def content_digest(data: bytes) -> str:
    """BLAKE2b of the file's bytes: equal digests mean identical files."""
    return hashlib.blake2b(data, digest_size=20).hexdigest()


def analyse(request: AnalysisRequest) -> Analysis:
    """Read, digest and (if asked) decode one file; never raises."""
    ref = request.ref
    try:
        data = ref.path.read_bytes()
    except FileNotFoundError:
        return Analysis(ref, error="file vanished during the scan", lasting=False)
    except PermissionError:
        return Analysis(ref, error="permission denied", lasting=False)
    except OSError as exc:
        return Analysis(ref, error=f"cannot be read: {exc.strerror or exc}", lasting=False)
    if len(data) != ref.size:
        return Analysis(ref, error="file changed during the scan", lasting=False)
    digest = content_digest(data)
    if not request.decode:
        return Analysis(ref, digest)
    try:
        decoded = decode(data, ref.path.suffix, request.max_megapixels)
        pixels = np.asarray(decoded.image) if request.pixels else None
        grey = hash_grey(decoded.image)
        hashes = grey_dihedral_hashes(grey)
        return Analysis(ref, digest, decoded.info, hashes, pixels, tone=tone(decoded.image, grey))
    except (MissingExtra, TooLarge) as exc:
        return Analysis(ref, digest, error=str(exc), lasting=False)
    except UnreadableImage as exc:
        return Analysis(ref, digest, error=str(exc))
    except Exception as exc:  # a decoder bug must cost one file, never the scan
        return Analysis(ref, digest, error=f"unexpected error while decoding: {exc!r}", lasting=False)
