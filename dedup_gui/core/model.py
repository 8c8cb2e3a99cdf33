"""Plain data passed between the pipeline stages; frozen so stages cannot change each other's results."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path


@dataclass(frozen=True, slots=True)
class FileRef:
    """A regular file found by discovery, with the stat facts that identify its content version."""

    path: Path
    size: int
    mtime_ns: int
    dev: int
    ino: int


@dataclass(frozen=True)
class Skipped:
    """A path that could not be used, with a reason a person can act on."""

    path: Path
    reason: str


@dataclass(frozen=True)
class SameFile(Skipped):
    """A second path to a file met already (a hard link, overlapping roots, an image ``find`` was given)."""

    first: Path


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """Facts about one decoded image that the review needs (shown, compared, used by keep rules)."""

    width: int
    height: int
    format: str
    date_taken: str | None = None
    camera: str | None = None
    border: float = 0.0
    """Share of the area taken by added white or black bands (``borders``)."""


@dataclass(frozen=True, slots=True)
class ScannedFile:
    """A file the scan used: its identity and, where the method needed them, digest and image facts."""

    ref: FileRef
    digest: str | None
    info: ImageInfo | None


class Method(Enum):
    """Which tiers decide what is a duplicate."""

    EXACT = "exact"
    HASH = "hash"
    CNN = "cnn"
    AUTO = "auto"


@dataclass(frozen=True)
class Pair:
    """Two scanned files (indices into the scan's file list) with every score the tiers produced."""

    a: int
    b: int
    same_bytes: bool
    hash_distance: int | None = None
    dhash_distance: int | None = None
    transform: str | None = None
    cosine: float | None = None
    lookalike: bool = False
    """Either image belongs to a family of look-alikes, so the cosine does not count (``graph.LOOKALIKE_COSINE``)."""
    crowding: float = 0.0
    """The larger of the two images' crowding (``graph.CROWD_MARGIN``): the cosine counts only well above it."""
    by_hash: bool = False
    """The hash tier passed at the thresholds the pair was taken at."""
    by_cosine: bool = False
    """The cosine passed at those thresholds and counted (the images are not too crowded)."""


@dataclass(frozen=True)
class Group:
    """Indices (into the scan's file list) of files judged to be copies of one image."""

    members: tuple[int, ...]
