"""Qt runs offscreen, with its settings in a temporary folder: tests never open a window or touch the
user's settings, cache, data or trash (the root conftest redirects those)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any QApplication exists

from collections.abc import Callable, Iterator, Sequence  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from PIL import Image, ImageEnhance  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from dedup_gui.core.model import Method, ScannedFile  # noqa: E402
from dedup_gui.core.pipeline import ScanOptions, ScanResult, scan  # noqa: E402
from dedup_gui.core.review_state import ReviewState  # noqa: E402
from dedup_gui.ui.session import Mark, ReviewSession  # noqa: E402
from dedup_gui.ui.settings import configure_application  # noqa: E402


@pytest.fixture(autouse=True)
def qt_settings(qapp: QApplication, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """QSettings in INI files under a fresh temporary folder for each test."""
    folder = tmp_path_factory.mktemp("qsettings")
    configure_application(qapp)
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    yield folder


@pytest.fixture(autouse=True)
def isolated_trash(isolated_user_dirs: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """send2trash reads XDG_DATA_HOME once, when first imported: point its home trash at this test's folder,
    so no test can reach the real trash whichever test imported it first. The GIO backend (used where
    PyGObject is installed) is swapped for the freedesktop one, which honours the redirection."""
    import send2trash
    from send2trash import plat_other

    monkeypatch.setattr(send2trash, "send2trash", plat_other.send2trash)
    data_home = isolated_user_dirs / "xdg-data"
    monkeypatch.setattr(plat_other, "XDG_DATA_HOME", os.fsencode(data_home))
    monkeypatch.setattr(plat_other, "HOMETRASH_B", os.fsencode(data_home / "Trash"))
    monkeypatch.setattr(plat_other, "HOMETRASH", str(data_home / "Trash"))
    return data_home / "Trash"


def keep_largest(files: Sequence[ScannedFile]) -> list[Mark]:
    """A stand-in for the keep rules where a test needs marks but not the rules: keep the largest file."""
    largest = max(range(len(files)), key=lambda i: (files[i].ref.size, -i))
    return [
        Mark(True, "largest file", chosen=True) if i == largest else Mark(False, "smaller copy")
        for i in range(len(files))
    ]


@pytest.fixture
def photo_tree(make_image: Callable[..., Path], tmp_path: Path) -> Path:
    """``photos/``: three pictures with copies; two byte copies, edits at small and larger hash distances."""
    make_image("photos/a.jpg", 1, quality=92)
    make_image("photos/copies/a_small.jpg", 1, transform=lambda im: im.resize((320, 240)), quality=70)
    make_image("photos/copies/a_mirror.jpg", 1, transform=lambda im: im.transpose(Image.Transpose.FLIP_LEFT_RIGHT))
    make_image("photos/b.png", 2)
    make_image("photos/copies/b_bright.jpg", 2, transform=lambda im: ImageEnhance.Contrast(im).enhance(1.6))
    make_image("photos/c.jpg", 3)
    (tmp_path / "photos/copies/c copy.jpg").write_bytes((tmp_path / "photos/c.jpg").read_bytes())
    make_image("photos/d.jpg", 4)
    (tmp_path / "photos/notes.jpg").write_text("not an image")
    return tmp_path / "photos"


@pytest.fixture
def scanned(photo_tree: Path) -> ScanResult:
    """``photo_tree`` scanned with perceptual hashes only (no CNN), in this process."""
    return scan(ScanOptions(roots=(photo_tree,), method=Method.HASH, workers=0))


@pytest.fixture
def review(scanned: ScanResult) -> Iterator[ReviewSession]:
    state = ReviewState()
    yield ReviewSession(scanned, state, keep_largest)
    state.close()
