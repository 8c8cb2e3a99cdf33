"""The feature cache: stat-keyed validity, per-feature versions, batching, recovery from a broken file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from dedup_gui.core.cache import CacheUnusable, FeatureCache
from dedup_gui.core.model import FileRef


def _ref(path: str, size: int = 10, mtime_ns: int = 1, ino: int = 7) -> FileRef:
    return FileRef(Path(path), size, mtime_ns, 1, ino)


def test_entry_valid_only_while_stat_facts_match(tmp_path: Path) -> None:
    with FeatureCache(tmp_path / "c.sqlite3") as cache:
        cache.store(_ref("/p/a.jpg"), "d1", {"hash": (1, b"h")})
    with FeatureCache(tmp_path / "c.sqlite3") as cache:
        assert cache.lookup([_ref("/p/a.jpg")], {"hash": 1})[Path("/p/a.jpg")].features == {"hash": b"h"}
        for changed in (_ref("/p/a.jpg", size=11), _ref("/p/a.jpg", mtime_ns=2), _ref("/p/a.jpg", ino=8)):
            assert cache.lookup([changed], {"hash": 1}) == {}


def test_feature_version_invalidates_only_that_feature(tmp_path: Path) -> None:
    with FeatureCache(tmp_path / "c.sqlite3") as cache:
        cache.store(_ref("/p/a.jpg"), "d1", {"hash": (1, b"h"), "info": (1, b"i")})
        cache.flush()
        entry = cache.lookup([_ref("/p/a.jpg")], {"hash": 2, "info": 1})[Path("/p/a.jpg")]
    assert entry.features == {"info": b"i"} and entry.digest == "d1"


def test_changed_file_drops_old_features(tmp_path: Path) -> None:
    with FeatureCache(tmp_path / "c.sqlite3") as cache:
        cache.store(_ref("/p/a.jpg"), "d1", {"hash": (1, b"old"), "info": (1, b"i")})
        cache.flush()
        cache.store(_ref("/p/a.jpg", size=12), "d2", {"hash": (1, b"new")})
        cache.flush()
        entry = cache.lookup([_ref("/p/a.jpg", size=12)], {"hash": 1, "info": 1})[Path("/p/a.jpg")]
    assert (entry.digest, entry.features) == ("d2", {"hash": b"new"})


def test_non_utf8_paths_round_trip(tmp_path: Path) -> None:
    odd = Path(__import__("os").fsdecode(b"/p/caf\xe9.jpg"))
    with FeatureCache(tmp_path / "c.sqlite3") as cache:
        cache.store(FileRef(odd, 1, 1, 1, 1), "d", {})
        cache.flush()
        assert odd in cache.lookup([FileRef(odd, 1, 1, 1, 1)], {})


def test_writes_are_batched_and_flushed_on_close(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    cache = FeatureCache(path)
    cache.store(_ref("/p/a.jpg"), "d1", {})
    reader = sqlite3.connect(path)
    assert reader.execute("SELECT count(*) FROM files").fetchone()[0] == 0  # still queued
    cache.close()
    assert reader.execute("SELECT count(*) FROM files").fetchone()[0] == 1


def _foreign_database(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()


def test_a_broken_file_in_the_own_cache_folder_is_moved_aside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEDUP_GUI_CACHE_DIR", str(tmp_path))
    path = tmp_path / "c.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with FeatureCache(path) as cache:
        assert cache.notices and "moved it to" in cache.notices[0]
        cache.store(_ref("/p/a.jpg"), "d1", {})
    assert list(tmp_path.glob("c.sqlite3.broken-*"))

    foreign = tmp_path / "other.sqlite3"
    _foreign_database(foreign)
    with FeatureCache(foreign) as cache:
        assert cache.notices
    assert FeatureCache(foreign).notices == []  # the rebuilt file is ours


def test_a_file_elsewhere_that_is_not_a_cache_is_left_untouched(tmp_path: Path) -> None:
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"\xff\xd8\xff" + b"jpeg data" * 100)
    foreign = tmp_path / "places.sqlite"
    _foreign_database(foreign)
    for path in (photo, foreign):
        before = path.read_bytes()
        with pytest.raises(CacheUnusable, match="not a dedup-gui feature cache"):
            FeatureCache(path)
        assert path.read_bytes() == before
    with pytest.raises(CacheUnusable, match="is a folder"):
        FeatureCache(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.jpg", "places.sqlite"]


def test_an_own_cache_of_another_schema_elsewhere_is_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "mine.sqlite3"
    FeatureCache(path).close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 999")
    db.commit()
    db.close()
    with FeatureCache(path) as cache:
        assert "moved it to" in cache.notices[0]
    assert list(tmp_path.glob("mine.sqlite3.broken-*"))


def test_deferred_features_are_listed_empty_and_read_on_demand(tmp_path: Path) -> None:
    with FeatureCache(tmp_path / "c.sqlite3") as cache:
        cache.store(_ref("/p/a.jpg"), "d1", {"hash": (1, b"h"), "cnn": (2, b"vector-a")})
        cache.flush()
        cache.store(_ref("/p/b.jpg"), "d2", {"hash": (1, b"h"), "cnn": (1, b"old-vector")})
        cache.store(_ref("/p/c.jpg"), "d3", {"cnn": (2, b"vector-c")})  # queued, not yet committed
        entry = cache.lookup([_ref("/p/a.jpg")], {"hash": 1, "cnn": 2}, deferred=["cnn"])[Path("/p/a.jpg")]
        assert entry.features == {"hash": b"h", "cnn": b""}
        paths = [Path("/p/a.jpg"), Path("/p/b.jpg"), Path("/p/c.jpg"), Path("/p/missing.jpg")]
        assert cache.read(paths, "cnn", 2) == {Path("/p/a.jpg"): b"vector-a", Path("/p/c.jpg"): b"vector-c"}
