"""The wheel is the product: built from this tree and installed into a fresh virtual environment, it must run
the CLI (with the bundled model) and open the window, with nothing from the source tree on the path.

Needs the package index (for the dependencies) and a few minutes; skip it locally with ``-m "not wheel"``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from PIL import Image

from dedup_gui import __version__

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [pytest.mark.wheel, pytest.mark.slow]

WINDOW_CHECK = """
from PySide6.QtWidgets import QApplication
from dedup_gui.ui.main_window import MainWindow
from dedup_gui.ui.settings import configure_application
app = QApplication([])
configure_application(app)
window = MainWindow()
window.show()
app.processEvents()
print("icon", not app.windowIcon().isNull(), "title", window.windowTitle())
window.close()
"""


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"{command[:3]} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def test_wheel_installs_and_runs_from_a_fresh_venv(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    env.update(QT_QPA_PLATFORM="offscreen", PIP_DISABLE_PIP_VERSION_CHECK="1")
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)], tmp_path, env)
    wheel = next(dist.glob("dedup_gui-*.whl"))
    venv.create(tmp_path / "venv", with_pip=True)
    bin_dir = tmp_path / "venv" / "bin"
    _run([str(bin_dir / "pip"), "install", "-q", str(wheel)], tmp_path, env)
    away = tmp_path / "elsewhere"  # no source tree in the working folder
    away.mkdir()

    assert _run([str(bin_dir / "dedup-gui"), "--version"], away, env).strip() == f"dedup-gui {__version__}"

    photos = away / "photos"
    photos.mkdir()
    samples = ROOT / "resources" / "samples"
    shutil.copy(samples / "chelsea.jpg", photos / "original.jpg")
    with Image.open(samples / "chelsea.jpg") as cat:
        cat.resize((cat.width // 2, cat.height // 2)).save(photos / "smaller.jpg", quality=70)
    shutil.copy(samples / "coffee.jpg", photos / "other.jpg")
    out = json.loads(_run([str(bin_dir / "dedup-gui"), "scan", str(photos), "--quiet"], away, env))
    groups = [sorted(Path(m["path"]).name for m in g["members"]) for g in out["groups"]]
    assert groups == [["original.jpg", "smaller.jpg"]]
    assert out["method"] == "auto" and out["summary"]["embedded"] == 3
    assert out["summary"]["provider"] == "CPUExecutionProvider"  # the bundled model loaded

    window = _run([str(bin_dir / "python"), "-c", WINDOW_CHECK], away, env)
    assert "icon True" in window
    module = _run([str(bin_dir / "python"), "-c", "import dedup_gui; print(dedup_gui.__file__)"], away, env)
    assert str(tmp_path / "venv") in module
