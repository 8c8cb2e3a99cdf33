"""Where the app keeps its files; the one place tests redirect to temporary folders."""

from __future__ import annotations

import os
from pathlib import Path

import appdirs

APP_NAME = "dedup-gui"
APP_AUTHOR = "dedup-gui"


def _dir_from_env(variable: str, default: str) -> Path:
    override = os.environ.get(variable)
    return Path(override) if override else Path(default)


def cache_dir() -> Path:
    """Feature cache folder (``DEDUP_GUI_CACHE_DIR`` overrides the per-user default)."""
    return _dir_from_env("DEDUP_GUI_CACHE_DIR", appdirs.user_cache_dir(APP_NAME, APP_AUTHOR))


def data_dir() -> Path:
    """Journal and review state folder (``DEDUP_GUI_DATA_DIR`` overrides the per-user default)."""
    return _dir_from_env("DEDUP_GUI_DATA_DIR", appdirs.user_data_dir(APP_NAME, APP_AUTHOR))


def log_dir() -> Path:
    """Log folder (``DEDUP_GUI_LOG_DIR`` overrides the per-user default)."""
    return _dir_from_env("DEDUP_GUI_LOG_DIR", appdirs.user_log_dir(APP_NAME, APP_AUTHOR))


def log_path() -> Path:
    return log_dir() / "dedup-gui.log"


def default_cache_path() -> Path:
    return cache_dir() / "features.sqlite3"


def resources_dir() -> Path:
    """The bundled resources (model, sample photos, icon): inside the package when installed from a wheel or
    frozen, the repository's ``resources/`` folder in a source checkout."""
    package = Path(__file__).resolve().parents[1]
    installed = package / "resources"
    return installed if installed.is_dir() else package.parent / "resources"
