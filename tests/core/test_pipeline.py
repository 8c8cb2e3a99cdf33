"""The whole scan: exact and perceptual groups, cache reuse, cancellation, regrouping."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageEnhance

from dedup_gui.core import pipeline
from dedup_gui.core.analysis import AnalysisRequest
from dedup_gui.core.graph import Thresholds
from dedup_gui.core.hashes import HASH_VERSION
from dedup_gui.core.model import Method
from dedup_gui.core.pipeline import ScanOptions, scan
from dedup_gui.core.progress import CancelToken, ProgressEvent, Stage


@pytest.fixture
def photo_dir(make_image: Callable[..., Path], tmp_path: Path) -> Path:
    """Three originals; copies of the first: mirrored, rotated 90, re-encoded; a byte copy of the second."""
    make_image("a.jpg", 1, quality=92)
    make_image("a_mirror.jpg", 1, transform=lambda im: im.transpose(Image.Transpose.FLIP_LEFT_RIGHT), quality=80)
    make_image("a_rot90.png", 1, transform=lambda im: im.transpose(Image.Transpose.ROTATE_90))
    make_image("sub/a_small.jpg", 1, transform=lambda im: im.resize((320, 240)), quality=60)
    make_image("a_bright.jpg", 1, transform=lambda im: ImageEnhance.Brightness(im).enhance(1.3))
    make_image("b.jpg", 2)
    shutil.copy(tmp_path / "b.jpg", tmp_path / "b copy.jpg")
    make_image("c.png", 3)
    return tmp_path


def _names(result: pipeline.ScanResult) -> list[list[str]]:
    return [sorted(result.files[m].ref.path.name for m in g.members) for g in result.groups]


def _options(root: Path, **kwargs: object) -> ScanOptions:
    kwargs.setdefault("method", Method.HASH)
    return ScanOptions(roots=(root,), cache_path=root.parent / f"{root.name}-cache.sqlite3", workers=0, **kwargs)


def test_groups_mirrored_rotated_and_byte_copies(photo_dir: Path) -> None:
    result = scan(_options(photo_dir))
    assert _names(result) == [
        ["a.jpg", "a_bright.jpg", "a_mirror.jpg", "a_rot90.png", "a_small.jpg"],
        ["b copy.jpg", "b.jpg"],
    ]
    assert len(result.files) == 8 and not result.skipped and not result.cancelled
    b_group = result.groups[1]
    (pair,) = result.graph.pairs_within(b_group, result.options.thresholds)
    assert pair.same_bytes


def test_exact_method_reads_only_size_collisions(photo_dir: Path) -> None:
    result = scan(_options(photo_dir, method=Method.EXACT))
    assert _names(result) == [["b copy.jpg", "b.jpg"]]
    assert result.stats.analysed == 2  # only the two files of equal size were read
    assert {f.ref.path.name for f in result.files if f.digest is None} >= {"a.jpg", "c.png"}


def test_second_scan_decodes_nothing(photo_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = scan(_options(photo_dir))
    assert first.stats.analysed == 8

    def must_not_run(requests: list[AnalysisRequest], *_args: object) -> Iterator[object]:
        assert requests == [], "a cached file was analysed again"
        return iter(())

    monkeypatch.setattr(pipeline, "analyse_all", must_not_run)
    second = scan(_options(photo_dir))
    assert second.stats.from_cache == 8
    assert _names(second) == _names(first)


def test_changed_file_and_new_feature_version_are_recomputed(photo_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scan(_options(photo_dir))
    Image.new("RGB", (50, 50), "red").save(photo_dir / "c.png")
    assert scan(_options(photo_dir)).stats.analysed == 1

    monkeypatch.setattr(pipeline, "HASH_VERSION", HASH_VERSION + 1)
    assert scan(_options(photo_dir)).stats.analysed == 8


def test_cancel_keeps_what_was_computed(photo_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cancel = CancelToken()
    seen: list[AnalysisRequest] = []
    real = pipeline.analyse_all

    def cancel_after_three(requests: list[AnalysisRequest], workers: int | None, token: CancelToken):  # type: ignore[no-untyped-def]
        for item in real(requests, workers, token):
            seen.append(item)
            if len(seen) == 3:
                cancel.cancel()
            yield item

    monkeypatch.setattr(pipeline, "analyse_all", cancel_after_three)
    partial = scan(_options(photo_dir), cancel=cancel)
    assert partial.cancelled and len(partial.files) == 3
    monkeypatch.setattr(pipeline, "analyse_all", real)
    full = scan(_options(photo_dir))
    assert full.stats.from_cache == 3 and full.stats.analysed == 5


def test_regroup_changes_groups_without_reading_files(photo_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = scan(_options(photo_dir))
    monkeypatch.setattr(pipeline, "analyse_all", None)  # any file work would fail now
    assert [len(g.members) for g in result.regroup(Thresholds(hash_distance=8))] == [5, 2]
    assert [len(g.members) for g in result.regroup(Thresholds(hash_distance=2))] == [4, 2]


def test_progress_reports_each_stage_with_totals(photo_dir: Path) -> None:
    events: list[ProgressEvent] = []
    scan(_options(photo_dir), progress=events.append)
    stages = [e.stage for e in events]
    assert stages.index(Stage.DISCOVER) < stages.index(Stage.ANALYSE) < stages.index(Stage.SEARCH)
    analysed = [e for e in events if e.stage is Stage.ANALYSE]
    assert analysed[-1].done == analysed[-1].total == 8 and analysed[-1].finished


def test_process_pool_gives_the_same_groups(photo_dir: Path) -> None:
    inline = scan(_options(photo_dir))
    pooled = scan(
        ScanOptions(roots=(photo_dir,), cache_path=photo_dir.parent / "pool.sqlite3", workers=2, method=Method.HASH)
    )
    assert pooled.stats.analysed == 8
    assert _names(pooled) == _names(inline)


def test_unusable_root_raises(tmp_path: Path) -> None:
    with pytest.raises(NotADirectoryError):
        scan(_options(tmp_path / "missing"))


def test_unchanged_rescan_reuses_the_stored_pair_graph(photo_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = scan(_options(photo_dir))
    real_build = pipeline.build_graph

    def must_not_search(*_args: object) -> None:
        raise AssertionError("the pair graph was searched again")

    monkeypatch.setattr(pipeline, "build_graph", must_not_search)
    again = scan(_options(photo_dir))
    assert _names(again) == _names(first)

    builds: list[object] = []
    monkeypatch.setattr(pipeline, "build_graph", lambda *args: builds.append(args) or real_build(*args))
    (photo_dir / "c.png").unlink()
    assert _names(scan(_options(photo_dir))) == _names(first)
    assert len(builds) == 1  # a different set of files needs a new search


def test_the_megapixel_limit_applies_to_cached_files_and_its_skips_are_never_cached(
    make_image: Callable[..., Path], tmp_path: Path
) -> None:
    make_image("big/large.png", 1, size=(1600, 1000))
    make_image("big/small.png", 2)
    folder, cache = tmp_path / "big", tmp_path / "c.sqlite3"

    def scan_at(limit: float) -> tuple[list[str], dict[str, str]]:
        options = ScanOptions(roots=(folder,), cache_path=cache, method=Method.HASH, max_megapixels=limit, workers=0)
        result = scan(options)
        return [f.ref.path.name for f in result.files], {s.path.name: s.reason for s in result.skipped}

    files, skipped = scan_at(1.0)
    assert files == ["small.png"] and "1600x1000 pixels (2 MP) is above the limit of 1 MP" in skipped["large.png"]
    assert scan_at(250.0) == (["large.png", "small.png"], {})  # the refusal was not cached
    files, skipped = scan_at(1.5)  # now from the cache, decoded under the higher limit
    assert files == ["small.png"] and "above the limit of 1.5 MP" in skipped["large.png"]
