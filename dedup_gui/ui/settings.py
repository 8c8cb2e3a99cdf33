"""What the window remembers between runs (QSettings under the app's organisation and name).

Lists and records are stored as JSON text: QSettings' INI backend turns a one-element list into a plain
string, and JSON keeps the types the same on every platform.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtGui import QIcon, QImageReader, QPixmapCache
from PySide6.QtWidgets import QApplication

from dedup_gui.core import paths
from dedup_gui.core.graph import Thresholds

ORGANIZATION = "dedup-gui"
APPLICATION = "dedup-gui"
DISPLAY_NAME = "Duplicate images"
ICON_FILE = "dedup-gui.svg"

IMAGE_MEMORY_MB = 1024
"""Largest decoded image Qt may allocate (its default, 256 MB, refuses photos above about 64 MP)."""

PIXMAP_CACHE_KB = 256 * 1024


def configure_application(app: QApplication) -> None:
    """Names for QSettings and the window manager, the icon, and memory limits for the image caches."""
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName(DISPLAY_NAME)
    app.setDesktopFileName(APPLICATION)
    app.setWindowIcon(QIcon(str(paths.resources_dir() / "icons" / ICON_FILE)))
    QImageReader.setAllocationLimit(IMAGE_MEMORY_MB)
    QPixmapCache.setCacheLimit(PIXMAP_CACHE_KB)


class Settings:
    """Typed getters and setters over ``QSettings()``; nothing is cached, so every window sees the same."""

    def __init__(self) -> None:
        self._store = QSettings()

    def _json(self, key: str, default: Any) -> Any:
        text = self._store.value(key)
        if not isinstance(text, str):
            return default
        try:
            return json.loads(text)
        except ValueError:
            return default

    def _set_json(self, key: str, value: Any) -> None:
        self._store.setValue(key, json.dumps(value))

    def folders(self) -> tuple[list[Path], list[Path], list[str]]:
        """Last roots, reference folders and exclude patterns."""
        record = self._json("folders", {})
        return (
            [Path(p) for p in record.get("roots", [])],
            [Path(p) for p in record.get("references", [])],
            [str(p) for p in record.get("exclude", [])],
        )

    def set_folders(self, roots: list[Path], references: list[Path], exclude: list[str]) -> None:
        record = {"roots": [str(p) for p in roots], "references": [str(p) for p in references], "exclude": exclude}
        self._set_json("folders", record)

    def thresholds(self) -> Thresholds | None:
        record = self._json("thresholds", None)
        if not isinstance(record, dict):
            return None
        try:
            return Thresholds(hash_distance=int(record["hash_distance"]), cosine=float(record["cosine"]))
        except (KeyError, TypeError, ValueError):
            return None

    def set_thresholds(self, thresholds: Thresholds) -> None:
        self._set_json("thresholds", {"hash_distance": thresholds.hash_distance, "cosine": thresholds.cosine})

    def method(self) -> str | None:
        value = self._store.value("method")
        return value if isinstance(value, str) else None

    def set_method(self, value: str) -> None:
        self._store.setValue("method", value)

    def rules(self) -> list[dict[str, Any]] | None:
        """The keep rules in the stored order (their own plain representation), or None for the defaults."""
        value = self._json("rules", None)
        return value if isinstance(value, list) else None

    def set_rules(self, rules: list[dict[str, Any]]) -> None:
        self._set_json("rules", rules)

    def blob(self, key: str) -> QByteArray | None:
        """Window geometry and splitter states, as Qt saved them."""
        value = self._store.value(key)
        return value if isinstance(value, QByteArray) else None

    def set_blob(self, key: str, value: QByteArray) -> None:
        self._store.setValue(key, value)

    def sync(self) -> None:
        self._store.sync()
