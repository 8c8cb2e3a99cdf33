"""Discovery edge cases: roots, excludes, hidden files, links, sizes, extensions and content sniffing."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from dedup_gui.core.discovery import DiscoveryOptions, check_roots, discover
from dedup_gui.core.model import FileRef, Skipped


def _walk(*roots: Path, **options: object) -> tuple[set[str], dict[str, str]]:
    found, skipped = set(), {}
    for item in discover(DiscoveryOptions(tuple(roots), **options)):  # type: ignore[arg-type]
        if isinstance(item, FileRef):
            found.add(item.path.name)
        else:
            assert isinstance(item, Skipped)
            skipped[item.path.name] = item.reason
    return found, skipped


@pytest.fixture
def tree(make_image: Callable[..., Path], tmp_path: Path) -> Path:
    make_image("a/one.jpg", 1, size=(32, 24))
    make_image("a/deep/two.JPG", 2, size=(32, 24), format="JPEG")
    make_image("a/THREE.Jpeg", 3, size=(32, 24), format="JPEG")
    make_image("a/.hidden.png", 4, size=(32, 24))
    make_image("a/.cache/four.png", 5, size=(32, 24))
    make_image("a/thumbs/five.png", 6, size=(32, 24))
    make_image("b/six.webp", 7, size=(32, 24))
    make_image("a/noextension", 8, size=(32, 24), format="PNG")
    (tmp_path / "a" / "notes.txt").write_text("not looked at")
    (tmp_path / "a" / "README").write_text("no extension, not an image")
    return tmp_path


def test_several_roots_recursive_case_insensitive_extensions_and_sniffed_files(tree: Path) -> None:
    found, skipped = _walk(tree / "a", tree / "b")
    assert found == {"one.jpg", "two.JPG", "THREE.Jpeg", "five.png", "six.webp", "noextension"}
    assert skipped == {}


def test_hidden_files_and_folders_only_when_asked(tree: Path) -> None:
    found, _ = _walk(tree / "a", include_hidden=True)
    assert {".hidden.png", "four.png"} <= found


def test_exclude_globs_match_names_and_paths(tree: Path) -> None:
    found, _ = _walk(tree / "a", exclude=("*.Jpeg", "*/thumbs/*", "thumbs"))
    assert "THREE.Jpeg" not in found and "five.png" not in found and "one.jpg" in found


def test_min_size_and_empty_files(tree: Path) -> None:
    (tree / "a" / "empty.jpg").write_bytes(b"")
    sizes = {p.name: p.stat().st_size for p in (tree / "a").rglob("*") if p.is_file()}
    found, skipped = _walk(tree / "a", min_size=sizes["one.jpg"])
    assert skipped["empty.jpg"] == "empty file (0 bytes)"
    assert "one.jpg" in found
    smaller = {name for name in found | set(skipped) if 0 < sizes[name] < sizes["one.jpg"]}
    assert smaller and all("smaller than the minimum size" in skipped[name] for name in smaller)


def test_hard_links_yield_the_file_once(tree: Path) -> None:
    os.link(tree / "a" / "one.jpg", tree / "a" / "one-link.jpg")
    found, skipped = _walk(tree / "a")
    assert len({"one.jpg", "one-link.jpg"} & found) == 1
    (name,) = {"one.jpg", "one-link.jpg"} - found
    assert "hard link" in skipped[name]


def test_overlapping_roots_yield_each_file_once(tree: Path) -> None:
    refs = [i for i in discover(DiscoveryOptions((tree / "a", tree / "a" / "deep"))) if isinstance(i, FileRef)]
    assert len(refs) == len({r.path.resolve() for r in refs})


def test_symlinks_not_followed_by_default_and_loops_end(tree: Path) -> None:
    (tree / "a" / "link.jpg").symlink_to(tree / "b" / "six.webp")
    (tree / "a" / "linked-dir").symlink_to(tree / "b", target_is_directory=True)
    (tree / "a" / "deep" / "loop").symlink_to(tree / "a", target_is_directory=True)
    (tree / "a" / "broken.jpg").symlink_to(tree / "nowhere.jpg")
    found, skipped = _walk(tree / "a")
    assert "six.webp" not in found and "not followed" in skipped["link.jpg"]
    assert "broken symbolic link" in skipped["broken.jpg"]

    found, skipped = _walk(tree / "a", follow_symlinks=True)
    assert "six.webp" in found or "link.jpg" in found
    assert "loop" in skipped and "loop" in skipped["loop"]
    assert sorted(found).count("one.jpg") == 1


def test_symlink_pointing_at_itself(tree: Path) -> None:
    (tree / "a" / "self.jpg").symlink_to(tree / "a" / "self.jpg")
    _, skipped = _walk(tree / "a")
    assert skipped["self.jpg"] == "symbolic link loop"


def test_unreadable_folder_is_reported(tree: Path) -> None:
    locked = tree / "a" / "deep"
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):
            pytest.skip("running with privileges that read any folder")
        _, skipped = _walk(tree / "a")
        assert "folder cannot be read" in skipped["deep"]
    finally:
        locked.chmod(0o755)


def test_check_roots_names_the_problem(tmp_path: Path) -> None:
    with pytest.raises(NotADirectoryError, match="not a folder"):
        check_roots((tmp_path / "missing",))
    (tmp_path / "file.jpg").write_bytes(b"x")
    with pytest.raises(NotADirectoryError):
        check_roots((tmp_path / "file.jpg",))


def test_folder_that_refuses_listing_is_reported(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same as above for privileged runs (CI runs as root): the folder refuses to be listed."""
    real_scandir = os.scandir

    def refusing(path: os.PathLike[str] | str) -> object:
        if Path(path).name == "deep":
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr("dedup_gui.core.discovery.os.scandir", refusing)
    found, skipped = _walk(tree / "a")
    assert skipped["deep"] == "folder cannot be read: Permission denied"
    assert "two.JPG" not in found and "one.jpg" in found


def _paths(*roots: Path, **options: object) -> tuple[list[Path], dict[Path, str]]:
    """Every path discovery yields (a list, so a path given twice shows), and the skipped ones with reasons."""
    found: list[Path] = []
    skipped: dict[Path, str] = {}
    for item in discover(DiscoveryOptions(tuple(roots), **options)):  # type: ignore[arg-type]
        if isinstance(item, FileRef):
            found.append(item.path)
        else:
            assert item.path not in skipped, f"{item.path} reported twice"
            skipped[item.path] = item.reason
    return found, skipped


def test_hidden_files_and_folders_are_left_out_by_default(tree: Path) -> None:
    found, skipped = _walk(tree / "a")
    assert ".hidden.png" not in found and "four.png" not in found
    assert ".hidden.png" not in skipped and ".cache" not in skipped  # left out quietly, not reported
    found, _ = _walk(tree / "a", include_hidden=True)
    assert {".hidden.png", "four.png", "one.jpg"} <= found


def test_a_hidden_folder_chosen_as_root_is_scanned(tree: Path) -> None:
    found, skipped = _walk(tree / "a" / ".cache")
    assert found == {"four.png"} and skipped == {}


def test_exclude_by_name_alone(tree: Path) -> None:
    found, _ = _walk(tree / "a", exclude=("one.jpg", "deep"))
    assert "one.jpg" not in found and "two.JPG" not in found  # the folder named deep is not entered
    assert {"THREE.Jpeg", "five.png", "noextension"} <= found


def test_exclude_by_path_alone(tree: Path) -> None:
    # Neither pattern can match a bare name: each needs the folders in front of it.
    found, _ = _walk(tree / "a", exclude=("*/a/deep/*", f"{(tree / 'a' / 'thumbs').as_posix()}"))
    assert "two.JPG" not in found and "five.png" not in found
    assert {"one.jpg", "THREE.Jpeg", "noextension"} <= found
    found, _ = _walk(tree / "a", exclude=("*/b/deep/*", "*/elsewhere/thumbs"))
    assert {"two.JPG", "five.png"} <= found  # a pattern for other folders leaves these alone


def test_several_roots_each_walked_recursively(tree: Path, make_image: Callable[..., Path]) -> None:
    make_image("b/x/y/z/deepest.png", 9, size=(16, 16))
    found, _ = _paths(tree / "a", tree / "b")
    names = {p.name for p in found}
    assert {"one.jpg", "two.JPG", "six.webp", "deepest.png"} <= names
    assert tree / "b" / "x" / "y" / "z" / "deepest.png" in found
    assert all(p.is_absolute() for p in found)


def test_overlapping_and_repeated_roots_yield_each_file_once_and_report_nothing(tree: Path) -> None:
    a, deep = tree / "a", tree / "a" / "deep"
    expected, _ = _paths(a)
    for roots in ((a, deep), (deep, a), (a, a)):
        found, skipped = _paths(*roots)
        assert sorted(found) == sorted(expected), roots
        assert skipped == {}, roots  # the same path is not also reported as a hard link of itself


def test_symlinked_file_is_reported_unless_followed(tree: Path) -> None:
    link = tree / "a" / "link.jpg"
    link.symlink_to(tree / "b" / "six.webp")
    found, skipped = _paths(tree / "a")
    assert link not in found and "not followed" in skipped[link]
    found, skipped = _paths(tree / "a", follow_symlinks=True)
    assert link in found and link not in skipped


def test_symlinked_folder_is_entered_only_when_followed(tree: Path) -> None:
    linked = tree / "a" / "linked-dir"
    linked.symlink_to(tree / "b", target_is_directory=True)
    found, skipped = _paths(tree / "a")
    assert not any(linked in p.parents for p in found) and linked not in skipped
    found, skipped = _paths(tree / "a", follow_symlinks=True)
    assert linked / "six.webp" in found and skipped == {}


def test_symlink_loops_end_and_are_reported(tree: Path) -> None:
    a = tree / "a"
    (a / "deep" / "up").symlink_to(a, target_is_directory=True)  # to an ancestor
    (a / "thumbs" / "there").symlink_to(a / "deep", target_is_directory=True)
    (a / "deep" / "back").symlink_to(a / "thumbs", target_is_directory=True)  # deep -> thumbs -> deep
    found, skipped = _paths(a, follow_symlinks=True)
    assert len(found) == len(set(found)) and len({p.resolve() for p in found}) == len(found)
    assert {p.name for p in found} == {"one.jpg", "two.JPG", "THREE.Jpeg", "five.png", "noextension"}
    assert "loop" in skipped[a / "deep" / "up"]
    # Of the two links between deep and thumbs, the one reached second closes the circle.
    assert any("loop" in reason for path, reason in skipped.items() if path.name in ("there", "back"))
    found, skipped = _paths(a)  # not followed: nothing to report, nothing entered
    assert skipped == {} and len(found) == 5


def test_broken_symlink_is_reported_as_broken(tree: Path) -> None:
    broken = tree / "a" / "x.jpg"
    broken.symlink_to(tree / "a" / "gone.jpg")
    for follow in (False, True):
        found, skipped = _paths(tree / "a", follow_symlinks=follow)
        assert broken not in found and "broken" in skipped[broken]


def test_hard_link_in_another_root_names_the_first_path(tree: Path) -> None:
    first, second = tree / "a" / "one.jpg", tree / "b" / "one-again.jpg"
    os.link(first, second)
    found, skipped = _paths(tree / "a", tree / "b")
    assert first in found and second not in found
    assert "hard link" in skipped[second] and str(first) in skipped[second]


def test_min_size_keeps_files_of_exactly_the_minimum(tree: Path) -> None:
    path = tree / "a" / "one.jpg"
    size = path.stat().st_size
    found, _ = _paths(tree / "a", min_size=size)
    assert path in found
    found, skipped = _paths(tree / "a", min_size=size + 1)
    assert path not in found and f"{size} < {size + 1}" in skipped[path]


@pytest.mark.parametrize("name", ["upper.PNG", "mixed.Tif", "shout.JPEG", "odd.jPg", "photo.WebP"])
def test_extensions_in_any_case(tmp_path: Path, name: str) -> None:
    from PIL import Image

    fmt = {".png": "PNG", ".tif": "TIFF", ".jpeg": "JPEG", ".jpg": "JPEG", ".webp": "WEBP"}[Path(name).suffix.lower()]
    Image.new("RGB", (8, 8)).save(tmp_path / name, fmt)
    assert _walk(tmp_path) == ({name}, {})


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP", "PPM", "ICO"])
def test_extensionless_files_are_found_by_content(tmp_path: Path, fmt: str) -> None:
    from PIL import Image

    Image.new("RGB", (16, 16), (1, 2, 3)).save(tmp_path / "IMG_0001", fmt)
    (tmp_path / "Makefile").write_text("all:\n\ttrue\n")
    (tmp_path / "P6notes").write_text("P6 is not a header when the file is a note\n")
    found, skipped = _walk(tmp_path)
    assert found == {"IMG_0001"} and skipped == {}


def test_other_extensions_are_ignored_even_with_image_content(tmp_path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (8, 8)).save(tmp_path / "photo.txt", "PNG")
    Image.new("RGB", (8, 8)).save(tmp_path / "backup.jpg.bak", "JPEG")
    (tmp_path / "notes.txt").write_text("hello")
    assert _walk(tmp_path) == (set(), {})


def test_a_root_that_vanished_after_the_check_is_reported(tmp_path: Path) -> None:
    found, skipped = _paths(tmp_path / "gone")
    assert found == [] and "folder cannot be read" in skipped[tmp_path / "gone"]


def test_check_roots_accepts_folders_and_raises_for_a_missing_one(tmp_path: Path) -> None:
    check_roots((tmp_path,))
    with pytest.raises(NotADirectoryError, match=str(tmp_path / "missing")):
        check_roots((tmp_path, tmp_path / "missing"))


def test_order_is_stable(tree: Path) -> None:
    first = list(discover(DiscoveryOptions((tree / "a", tree / "b"))))
    assert first == list(discover(DiscoveryOptions((tree / "a", tree / "b"))))
    names = [i.path.name for i in first if isinstance(i, FileRef) and i.path.parent == tree / "a"]
    assert names == sorted(names)


def test_a_named_pipe_called_like_an_image_is_reported_not_read(tree: Path) -> None:
    os.mkfifo(tree / "stream.jpg")
    os.mkfifo(tree / "other-pipe")
    found, skipped = _walk(tree)
    assert "stream.jpg" not in found and skipped["stream.jpg"] == "not a regular file (a named pipe)"
    assert "other-pipe" not in skipped  # not named like an image: not ours to mention
