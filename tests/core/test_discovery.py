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
