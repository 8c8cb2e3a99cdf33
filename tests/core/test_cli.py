"""The command line: output formats, progress on stderr only, exit codes and one-line errors."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from dedup_gui.core.cli import main


@pytest.fixture
def folder(make_image: Callable[..., Path], tmp_path: Path) -> Path:
    make_image("photos/a.jpg", 1)
    make_image("photos/a_mirror.jpg", 1, transform=lambda im: im.transpose(Image.Transpose.FLIP_LEFT_RIGHT))
    make_image("photos/other.png", 5)
    (tmp_path / "photos" / "notes.jpg").write_text("not an image")
    return tmp_path / "photos"


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_json_lists_groups_pairs_and_skipped(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["scan", str(folder), "--workers", "0", "--method", "hash"], capsys)
    assert code == 0
    doc = json.loads(out)
    (group,) = doc["groups"]
    assert sorted(Path(m["path"]).name for m in group["members"]) == ["a.jpg", "a_mirror.jpg"]
    assert group["members"][0]["width"] == 640 and group["members"][0]["digest"]
    assert group["pairs"][0]["reason"].startswith("hash distance") and "mirror" in group["pairs"][0]["reason"]
    assert doc["skipped"] == [{"path": str(folder / "notes.jpg"), "reason": doc["skipped"][0]["reason"]}]
    assert "not an image" in doc["skipped"][0]["reason"]
    assert doc["summary"]["files"] == 3 and doc["summary"]["skipped"] == 1
    assert "1 group," in err and "skipped: 1 not an image" in err


def test_imagededup_format_lists_every_file(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        ["scan", str(folder), "--format", "imagededup", "-q", "--workers", "0", "--method", "hash"], capsys
    )
    assert code == 0
    assert json.loads(out) == {"a.jpg": ["a_mirror.jpg"], "a_mirror.jpg": ["a.jpg"], "other.png": []}


def test_csv_and_output_file(folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out.csv"
    code, out, _ = _run(
        ["scan", str(folder), "--format", "csv", "-o", str(target), "-q", "--workers", "0", "--method", "hash"], capsys
    )
    assert code == 0 and out == ""
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert {Path(r["path"]).name for r in rows} == {"a.jpg", "a_mirror.jpg"} and {r["group"] for r in rows} == {"1"}


def test_output_never_writes_over_a_photo_or_an_unknown_file(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photo = folder / "a.jpg"
    before = photo.read_bytes()
    truth = tmp_path / "ground_truth.json"
    truth.write_text('{"a.jpg": ["a_mirror.jpg"]}')
    for target in (photo, truth):
        code, out, err = _run(["scan", str(folder), "-o", str(target), "-q", "--workers", "0"], capsys)
        assert (code, out) == (2, "") and "refusing to write over it" in err
    assert photo.read_bytes() == before and truth.read_text() == '{"a.jpg": ["a_mirror.jpg"]}'


def test_output_checked_before_the_scan_and_earlier_results_replaced(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for target, message in ((tmp_path / "missing" / "r.json", "does not exist"), (tmp_path, "is a folder")):
        code, _, err = _run(["scan", str(folder), "-o", str(target), "-q", "--workers", "0"], capsys)
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    for fmt in ("json", "csv", "json"):
        target = tmp_path / f"result.{fmt}"
        args = ["scan", str(folder), "--format", fmt, "-o", str(target), "-q", "--workers", "0", "--method", "hash"]
        code, out, err = _run(args, capsys)
        assert (code, out, err) == (0, "", "")
        assert target.read_text().startswith('{\n  "version"' if fmt == "json" else "group,path,")
    assert not list(tmp_path.glob(".*.part"))  # the temporary file was renamed into place
    umask = os.umask(0o022)
    os.umask(umask)
    assert (tmp_path / "result.json").stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's private 0o600
    code, out, _ = _run(["scan", str(folder), "-o", "-", "-q", "--workers", "0", "--method", "hash"], capsys)
    assert code == 0 and json.loads(out)["groups"]
    code, out, _ = _run(["scan", str(folder), "-o", os.devnull, "-q", "--workers", "0", "--method", "hash"], capsys)
    assert (code, out) == (0, "") and not Path(os.devnull).is_file()  # written to, not replaced


def test_a_cache_option_naming_a_folder_or_a_foreign_file_is_refused(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for cache, message in ((tmp_path, "is a folder"), (folder / "a.jpg", "not a dedup-gui feature cache")):
        code, out, err = _run(["scan", str(folder), "--cache", str(cache), "-q", "--workers", "0"], capsys)
        assert (code, out) == (2, "") and message in err and len(err.strip().splitlines()) == 1
    assert (folder / "a.jpg").exists() and not list(tmp_path.rglob("*.broken-*"))


def test_evaluate_scores_checks_its_maps_and_warns_of_unknown_names(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    truth = tmp_path / "truth.json"
    truth.write_text(json.dumps({"a.jpg": ["a_mirror.jpg"], "a_mirror.jpg": ["a.jpg"], "other.png": []}))
    base = ["evaluate", str(folder), str(truth), "-q", "--workers", "0", "--method", "hash"]
    code, out, err = _run([*base, "--json"], capsys)
    assert code == 0 and err == ""
    assert json.loads(out)["pairs"]["precision"] == 1.0 and json.loads(out)["pairs"]["recall"] == 1.0
    (tmp_path / "list.json").write_text("[1, 2]")
    for families, message in (("list.json", "is not a {file: edit family} map"), ("none.json", "cannot read")):
        code, out, err = _run([*base, "--families", str(tmp_path / families)], capsys)
        assert (code, out) == (2, "") and message in err
    truth.write_text(json.dumps({"/elsewhere/a.jpg": [], "a.jpg": []}))
    code, _, err = _run(base, capsys)
    assert code == 0 and "1 of the 2 files in the ground truth were not among the scanned images" in err


def test_threshold_zero_separates_the_mirror_only_if_it_differs(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(["scan", str(folder), "--threshold", "0", "-q", "--workers", "0", "--method", "hash"], capsys)
    groups = json.loads(out)["groups"]
    assert code == 0
    assert all(p["hash_distance"] == 0 for g in groups for p in g["pairs"])


def test_bad_arguments_give_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["scan", str(tmp_path / "nope")], capsys)
    assert (code, out) == (2, "") and err.strip() == f"dedup-gui: not a folder: {tmp_path / 'nope'}"
    code, _, err = _run(["scan", str(tmp_path), "--threshold", "99"], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1
    bad = (("--max-megapixels", "0"), ("--max-megapixels", "nan"), ("--workers", "-3"), ("--min-size", "-1"))
    for option, value in bad:
        code, out, err = _run(["scan", str(tmp_path), option, value], capsys)
        assert (code, out) == (2, "") and err.startswith(f"dedup-gui: {option} must be")
    with pytest.raises(SystemExit) as exit_info:
        main(["scan", ""])
    assert exit_info.value.code == 2 and "an empty folder name" in capsys.readouterr().err


def test_module_entry_point_runs_the_cli(folder: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "dedup_gui", "scan", str(folder), "-q", "--format", "imagededup", "--method", "hash"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["a.jpg"] == ["a_mirror.jpg"]
    version = subprocess.run([sys.executable, "-m", "dedup_gui", "--version"], capture_output=True, text=True)
    assert version.stdout.startswith("dedup-gui ")


def test_rescan_says_there_is_nothing_to_read(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["scan", str(folder), "--workers", "0", "--method", "hash"]
    _run(args, capsys)
    code, _, err = _run(args, capsys)
    assert code == 0
    assert "reading images: nothing to do" in err and "0/0" not in err


def test_the_space_to_reclaim_is_what_the_keep_rules_free(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A PNG re-save of a JPEG weighs more; the rules keep the older JPEG, so the PNG's bytes are what is freed."""
    folder = tmp_path / "shop"
    folder.mkdir()
    photo = Image.effect_mandelbrot((640, 480), (-2.0, -1.2, 1.0, 1.2), 60).convert("RGB")
    photo.save(folder / "item.jpg", quality=85)
    photo.save(folder / "item_resaved.png")
    os.utime(folder / "item.jpg", (1e9, 1e9))
    png_size = (folder / "item_resaved.png").stat().st_size
    assert png_size > (folder / "item.jpg").stat().st_size
    code, out, err = _run(["scan", str(folder), "-o", "-", "--workers", "0", "--method", "hash"], capsys)
    (group,) = json.loads(out)["groups"]
    assert code == 0 and group["reclaimable_bytes"] == png_size
    assert f"({png_size / 1e6:.1f} MB to reclaim)" in err
