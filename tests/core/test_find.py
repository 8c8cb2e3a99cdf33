"""``dedup-gui find``: the copies of given images among folders, with the reason for each, and what was not read."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from dedup_gui.core.cli import main


@pytest.fixture
def shop(make_image: Callable[..., Path], tmp_path: Path) -> Path:
    """A catalogue with a product photo, its mirrored copy in a subfolder, and an unrelated photo."""
    make_image("catalogue/item.jpg", 1)
    make_image("catalogue/old/item_flipped.jpg", 1, transform=lambda im: im.transpose(Image.Transpose.FLIP_LEFT_RIGHT))
    make_image("catalogue/other.jpg", 5)
    return tmp_path / "catalogue"


def _find(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, object]:
    code = main(["find", *args, "--json", "-q", "--workers", "0", "--method", "hash"])
    return code, json.loads(capsys.readouterr().out)


def test_copies_are_listed_with_their_reasons(shop: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    upload = tmp_path / "upload.jpg"
    shutil.copy(shop / "item.jpg", upload)  # the same picture again, from outside the catalogue
    code, answers = _find([str(upload), "--in", str(shop)], capsys)
    assert code == 0
    (answer,) = answers
    assert answer["image"] == str(upload) and answer["not_read"] is None
    reasons = {Path(c["path"]).name: c["reason"] for c in answer["copies"]}
    assert reasons["item.jpg"] == "same bytes"
    assert reasons["item_flipped.jpg"].startswith("hash distance") and "mirrored" in reasons["item_flipped.jpg"]
    assert "other.jpg" not in reasons


def test_no_copy_and_unreadable_images_are_said_so(
    shop: Path, tmp_path: Path, make_image: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    new = make_image("new.jpg", 9)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 not really")
    code, answers = _find([str(new), str(broken), str(tmp_path / "gone.jpg"), "--in", str(shop)], capsys)
    assert code == 1  # no image had a copy
    by_name = {Path(a["image"]).name: a for a in answers}
    assert by_name["new.jpg"]["copies"] == [] and by_name["new.jpg"]["not_read"] is None
    assert "not an image" in by_name["broken.jpg"]["not_read"] and "cannot be read" in by_name["gone.jpg"]["not_read"]


def test_an_image_inside_the_folder_is_not_its_own_copy(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["find", str(shop / "item.jpg"), "--in", str(shop), "--workers", "0", "--method", "hash"])
    out, err = capsys.readouterr()
    assert code == 0
    assert out.splitlines()[0] == f"{shop / 'item.jpg'}: 1 copy"
    assert "item_flipped.jpg — hash distance" in out and "hard link" not in err


def test_images_looked_for_are_not_copies_of_each_other(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    first = tmp_path / "upload.jpg"
    Image.new("RGB", (64, 48), "red").save(first)
    shutil.copy(first, tmp_path / "upload again.jpg")
    code, answers = _find([str(first), str(tmp_path / "upload again.jpg"), "--in", str(tmp_path / "empty")], capsys)
    assert code == 1 and all(a["copies"] == [] for a in answers)  # only the folders looked in count


def test_a_hard_link_into_the_folder_is_the_same_file(
    shop: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    link = tmp_path / "link.jpg"
    link.hardlink_to(shop / "other.jpg")
    code, answers = _find([str(link), str(link), "--in", str(shop)], capsys)  # given twice: answered once
    assert code == 0 and len(answers) == 1
    assert answers[0]["copies"] == [{"path": str(shop / "other.jpg"), "reason": "same file"}]
