"""Images for the list and the compare view, decoded on worker threads and cached as pixmaps.

Decoding a photo takes tens of milliseconds, far too long for the GUI thread when a list scrolls past
hundreds of them. Loads run in a small thread pool, newest request first (what is on screen now), and land
in ``QPixmapCache`` keyed by path, size and mtime, so an edited file is never shown from a stale entry.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageOps
from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal, Slot
from PySide6.QtGui import QImage, QImageReader, QPixmap, QPixmapCache

QUEUE_LIMIT = 256
"""Requests kept waiting; older ones are dropped (their rows have scrolled away) and asked again if shown."""


def read_image(path: Path, max_side: int = 0) -> QImage:
    """The image upright (EXIF orientation applied), at most ``max_side`` pixels on its long side (0: full).

    Qt's readers come first (JPEG decodes straight to the reduced size); Pillow covers other formats. A file
    that neither can read gives a null image.
    """
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    size = reader.size()
    if max_side and size.isValid() and max(size.width(), size.height()) > max_side:
        reader.setScaledSize(size.scaled(max_side, max_side, Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    if image.isNull():
        image = _read_with_pillow(path, max_side)
    if image.hasAlphaChannel():
        return image.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
    return image.convertToFormat(QImage.Format.Format_RGB32)


def _read_with_pillow(path: Path, max_side: int) -> QImage:
    try:
        with Image.open(path) as opened:
            if max_side:
                opened.draft("RGB", (max_side, max_side))
            img = ImageOps.exif_transpose(opened).convert("RGBA")
    except (OSError, ValueError, Image.DecompressionBombError):
        return QImage()
    if max_side:
        img.thumbnail((max_side, max_side))
    data = img.tobytes()
    return QImage(data, img.width, img.height, 4 * img.width, QImage.Format.Format_RGBA8888).copy()


class _Signals(QObject):
    """QRunnable is not a QObject; this carries its result back to the GUI thread."""

    loaded = Signal(str, QImage)


class _LoadTask(QRunnable):
    def __init__(self, key: str, path: Path, side: int, signals: _Signals) -> None:
        super().__init__()
        self._key, self._path, self._side = key, path, side
        self._signals = signals  # a reference keeps the emitter alive until the task has reported

    def run(self) -> None:
        self._signals.loaded.emit(self._key, read_image(self._path, self._side))


class ImageLoader(QObject):
    """Asynchronous, cached images of one size (``side`` pixels on the long side, 0 for full size).

    Signals:
        ready(str, QPixmap): the image for this key, also put in the cache; null if it could not be read.
    """

    ready = Signal(str, QPixmap)

    def __init__(self, side: int, threads: int = 2, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.side = side
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(threads)
        self._signals = _Signals()
        self._signals.loaded.connect(self._on_loaded)
        self._waiting: dict[str, Path] = {}
        self._running: set[str] = set()
        self._failed: set[str] = set()

    def key(self, path: Path, mtime_ns: int) -> str:
        return f"{self.side}|{mtime_ns}|{path}"

    def pixmap(self, path: Path, mtime_ns: int) -> QPixmap | None:
        """The cached image, else None after queueing a load; ``ready`` follows with this ``key(...)``."""
        key = self.key(path, mtime_ns)
        found = QPixmap()
        if QPixmapCache.find(key, found):
            return found
        if key in self._failed:
            return QPixmap()
        if key not in self._running:
            self._waiting.pop(key, None)
            self._waiting[key] = path  # re-inserted: most recent last
            while len(self._waiting) > QUEUE_LIMIT:
                del self._waiting[next(iter(self._waiting))]
            self._pump()
        return None

    def shutdown(self) -> None:
        """Drop waiting loads and wait for running ones (call before the application quits)."""
        self._waiting.clear()
        self._pool.clear()
        self._pool.waitForDone()

    def _pump(self) -> None:
        while self._waiting and len(self._running) < self._pool.maxThreadCount():
            key, path = self._waiting.popitem()  # newest first: the rows on screen now
            self._running.add(key)
            self._pool.start(_LoadTask(key, path, self.side, self._signals))

    @Slot(str, QImage)
    def _on_loaded(self, key: str, image: QImage) -> None:
        self._running.discard(key)
        pixmap = QPixmap.fromImage(image)
        if image.isNull():
            self._failed.add(key)
        else:
            QPixmapCache.insert(key, pixmap)
        self._pump()
        self.ready.emit(key, pixmap)
