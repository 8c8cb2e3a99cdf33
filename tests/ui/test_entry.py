"""``dedup-gui``: subcommands go to the CLI without loading Qt; anything else opens the window."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from dedup_gui import __main__ as entry
from dedup_gui.core.model import Method
from dedup_gui.core.pipeline import ScanOptions, scan
from dedup_gui.ui.demo import COPIES, build_demo_folder, demo_roots, samples_dir


def test_cli_subcommands_never_import_qt() -> None:
    code = (
        "import sys\n"
        "from dedup_gui.__main__ import main\n"
        "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith(('PySide6', 'dedup_gui.ui'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("[]")


@pytest.mark.parametrize(
    ("argv", "target"),
    [(["scan", "x"], "cli"), (["--help"], "cli"), ([], "gui"), (["--demo"], "gui"), (["/photos"], "gui")],
)
def test_first_argument_picks_cli_or_window(argv: list[str], target: str, monkeypatch: pytest.MonkeyPatch) -> None:
    called: list[str] = []

    def recorder(name: str) -> Callable[[list[str]], int]:
        def record(args: list[str]) -> int:
            called.append(name)
            return 0

        return record

    monkeypatch.setattr("dedup_gui.core.cli.main", recorder("cli"))
    monkeypatch.setattr("dedup_gui.ui.app.main", recorder("gui"))
    assert entry.main(argv) == 0
    assert called == [target]


def test_a_mistyped_command_is_named_and_subcommand_usage_reads_well(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert entry.main(["scna", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == "dedup-gui: not a folder: scna (did you mean `dedup-gui scan`?)"
    assert entry.main([str(tmp_path / "holiday")]) == 2
    assert "did you mean" not in capsys.readouterr().err
    with pytest.raises(SystemExit):
        entry.main(["apply", "--help"])
    assert capsys.readouterr().out.startswith("usage: dedup-gui apply [-h]")


def test_demo_folder_has_licensed_samples_and_real_groups(tmp_path: Path) -> None:
    samples = sorted(samples_dir().glob("*.jpg"))
    assert 4 <= len(samples) <= 6 and all(s.stat().st_size <= 150_000 for s in samples)
    assert all(s.name in (samples_dir() / "LICENSE.md").read_text() for s in samples)
    folder = build_demo_folder(tmp_path / "demo")
    roots, references = demo_roots(folder)
    assert [r.name for r in roots] == ["backup", "exports", "originals", "phone"] and references[0] in roots
    result = scan(ScanOptions(roots=tuple(roots), method=Method.HASH, workers=0))
    grouped = {result.files[m].ref.path.relative_to(folder).as_posix() for g in result.groups for m in g.members}
    assert {copy.name for copy in COPIES} <= grouped
    assert len(result.groups) == len(samples)
    mtimes = {p: p.stat().st_mtime_ns for p in folder.rglob("*.*")}
    assert build_demo_folder(folder) == folder
    assert {p: p.stat().st_mtime_ns for p in folder.rglob("*.*")} == mtimes  # nothing rewritten
