"""``dedup-gui apply`` and ``dedup-gui undo`` end to end, on a result file written by a real scan."""

from __future__ import annotations

import argparse
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from dedup_gui.core import cli, cli_actions, report, trash
from dedup_gui.core.pipeline import ScanOptions, scan


@pytest.fixture
def photos(make_image: Callable[..., Path], tmp_path: Path) -> Path:
    """A large original, a smaller re-encode of it, a byte copy in a subfolder, and an unrelated image."""
    make_image("photos/a.jpg", 1, size=(800, 600), quality=95)
    make_image("photos/a_small.jpg", 1, size=(400, 300), quality=80)
    (tmp_path / "photos" / "sub").mkdir()
    shutil.copy2(tmp_path / "photos" / "a.jpg", tmp_path / "photos" / "sub" / "a copy.jpg")
    stripes = Image.new("RGB", (640, 480), "white")
    for x in range(0, 640, 40):
        stripes.paste((20, 20, 160), (x, 0, x + 20, 480))
    stripes.save(tmp_path / "photos" / "other.png")  # unlike the smooth fields, even to the CNN
    return tmp_path / "photos"


@pytest.fixture
def result_file(photos: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    elsewhere = tmp_path_factory.mktemp("scan")
    result = scan(ScanOptions(roots=(photos,), cache_path=elsewhere / "c.sqlite", workers=0))
    path = elsewhere / "result.json"
    path.write_text(report.to_json(result), encoding="utf-8")
    (group,) = json.loads(path.read_text())["groups"]
    assert sorted(Path(m["path"]).name for m in group["members"]) == ["a copy.jpg", "a.jpg", "a_small.jpg"]
    return path


def run(argv: list[str]) -> int:
    """The CLI as cli.py wires it: a subparsers object, ``register``, then ``run``."""
    parser = argparse.ArgumentParser(prog="dedup-gui")
    commands = parser.add_subparsers(dest="command")
    cli_actions.register(commands)
    return cli_actions.run(parser.parse_args(argv))


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def trashed(isolated_user_dirs: Path) -> list[str]:
    files = isolated_user_dirs / "xdg-data" / "Trash" / "files"
    return sorted(os.listdir(files)) if files.exists() else []


def test_apply_then_undo_round_trip(
    photos: Path, result_file: Path, isolated_user_dirs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(photos)
    assert run(["apply", str(result_file), "--to-trash"]) == 0
    out = capsys.readouterr().out
    # Default rules: a.jpg and its byte copy tie on resolution and size; the shorter path stays.
    assert f"keep {photos / 'a.jpg'} (largest resolution 800x600; shortest path)" in out
    assert "Batch 1: 2 moved to the trash, 0 refused, 0 failed. Undo with: dedup-gui undo 1" in out
    assert sorted(snapshot(photos)) == ["a.jpg", "other.png"]
    assert trashed(isolated_user_dirs) == ["a copy.jpg", "a_small.jpg"]

    assert run(["undo", "--list"]) == 0
    assert "moved to the trash: 2 done" in capsys.readouterr().out
    assert run(["undo"]) == 0
    out = capsys.readouterr().out
    assert "restored" in out and "Batch 1: 2 restored, 0 refused, 0 failed." in out
    assert snapshot(photos) == before and trashed(isolated_user_dirs) == []
    assert run(["undo"]) == 0 and "Nothing to undo." in capsys.readouterr().out


def test_apply_uses_the_keep_marks_of_the_window(
    photos: Path, result_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = json.loads(result_file.read_text())
    for member in document["groups"][0]["members"]:
        member["keep"] = Path(member["path"]).name == "a_small.jpg"
    result_file.write_text(json.dumps(document))
    assert run(["apply", str(result_file)]) == 0
    assert sorted(snapshot(photos)) == ["a_small.jpg", "other.png"]
    assert "(marked to keep)" in capsys.readouterr().out


def test_apply_with_other_rules_and_a_reference_folder(photos: Path, result_file: Path) -> None:
    assert run(["apply", str(result_file), "--keep", "size", "--reference", str(photos / "sub")]) == 0
    assert sorted(snapshot(photos)) == ["other.png", "sub/a copy.jpg"]  # the reference copy is the keeper


def test_apply_dry_run_changes_nothing(
    photos: Path, result_file: Path, isolated_user_dirs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(photos)
    assert run(["apply", str(result_file), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert (
        "would move" in out
        and "Dry run: 2 would be moved to the trash, 0 refused, 0 failed; nothing was changed." in out
    )
    assert snapshot(photos) == before and trashed(isolated_user_dirs) == []
    assert not (isolated_user_dirs / "data" / "journal.sqlite3").exists() or run(["undo"]) == 0


def test_apply_refuses_a_file_changed_since_the_scan_and_exits_0(
    photos: Path, result_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Image.new("RGB", (10, 10)).save(photos / "a_small.jpg")
    assert run(["apply", str(result_file)]) == 0
    out = capsys.readouterr().out
    assert f"refused    {photos / 'a_small.jpg'}: it changed since the scan" in out
    assert sorted(snapshot(photos)) == ["a.jpg", "a_small.jpg", "other.png"]


def test_apply_exits_1_when_the_trash_fails(
    photos: Path, result_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import send2trash

    def broken(path: str) -> None:
        raise send2trash.TrashPermissionError(path)

    monkeypatch.setattr(trash, "on_device_of", lambda path, folder: False)
    monkeypatch.setattr(send2trash, "send2trash", broken)
    before = snapshot(photos)
    assert run(["apply", str(result_file)]) == 1
    assert "FAILED" in capsys.readouterr().out and snapshot(photos) == before


def test_apply_move_to_a_folder_keeps_subfolders(
    photos: Path, result_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(photos)
    dest = tmp_path / "dups"
    assert run(["apply", str(result_file), "--move-to", str(dest)]) == 0
    assert sorted(snapshot(dest)) == ["a_small.jpg", "sub/a copy.jpg"]
    assert "inside a scanned folder" not in capsys.readouterr().err
    assert run(["undo"]) == 0
    assert snapshot(photos) == before and snapshot(dest) == {}
    assert run(["apply", str(result_file), "--move-to", str(photos / "dups"), "--dry-run"]) == 0
    assert "inside a scanned folder, so the next scan of it finds the moved copies" in capsys.readouterr().err


def test_bad_arguments_and_unreadable_result_files_exit_2(
    tmp_path: Path, result_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["apply", str(tmp_path / "missing.json")]) == 2
    (tmp_path / "bad.json").write_text("{not json")
    assert run(["apply", str(tmp_path / "bad.json")]) == 2
    (tmp_path / "other.json").write_text(json.dumps({"a.jpg": []}))
    assert run(["apply", str(tmp_path / "other.json")]) == 2
    (tmp_path / "broken.json").write_text(json.dumps({"version": 1, "groups": ["not a group"]}))
    assert run(["apply", str(tmp_path / "broken.json")]) == 2
    document = json.loads(result_file.read_text())
    document["groups"][0]["members"][0]["keep"] = "yes"
    result_file.write_text(json.dumps(document))
    assert run(["apply", str(result_file)]) == 2
    assert "not true or false" in capsys.readouterr().err
    document["groups"][0]["members"] = []
    result_file.write_text(json.dumps(document))
    assert run(["apply", str(result_file)]) == 2
    assert "has 0 member(s), not 2 or more" in capsys.readouterr().err
    assert run(["apply", str(result_file), "--reference", str(tmp_path / "typo")]) == 2
    assert "is not a folder" in capsys.readouterr().err
    assert run(["undo", "42"]) == 2
    for argv in (["apply", "x.json", "--keep", "prettiest"], ["apply", "x.json", "--to-trash", "--move-to", "d"]):
        with pytest.raises(SystemExit) as exit_info:
            run(argv)
        assert exit_info.value.code == 2


def test_parse_rule() -> None:
    assert cli_actions.parse_rule("oldest-date").criterion.value == "oldest-date"
    rule = cli_actions.parse_rule("preferred-folder=/keep/here")
    assert rule.folder == Path("/keep/here") and rule.enabled
    with pytest.raises(argparse.ArgumentTypeError):
        cli_actions.parse_rule("preferred-folder")
    with pytest.raises(argparse.ArgumentTypeError):
        cli_actions.parse_rule("size=/x")


@pytest.mark.skipif(
    "apply" not in cli.build_parser().format_help(), reason="cli.py does not call cli_actions.register yet"
)
def test_wired_into_dedup_gui(photos: Path, result_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["apply", str(result_file), "--dry-run"]) == 0
    assert cli.main(["undo", "--list"]) == 0
