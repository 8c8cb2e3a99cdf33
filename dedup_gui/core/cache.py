"""Persistent feature cache: SQLite in the user cache folder, so an unchanged file is never decoded twice.

A file's row is valid while its path, size, mtime_ns and inode are unchanged. Each feature kind carries its
own version, so changing one feature's computation recomputes that feature only. Writes are buffered and
committed in batches; a stopped or killed scan keeps every committed batch.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from dedup_gui.core import paths
from dedup_gui.core.model import FileRef

SCHEMA_VERSION = 2
GRAPHS_KEPT = 4
"""Pair graphs of the last few distinct scans are kept, so rescanning an unchanged folder skips the search."""
APPLICATION_ID = 0x64647570  # "ddup": tells our cache files from other SQLite files
BATCH_FILES = 200
BATCH_SECONDS = 2.0
_IN_CHUNK = 500

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path BLOB PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    ino INTEGER NOT NULL,
    digest TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS graphs (
    key TEXT PRIMARY KEY,
    scope TEXT NOT NULL,
    used REAL NOT NULL,
    data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS features (
    path BLOB NOT NULL,
    kind TEXT NOT NULL,
    version INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (path, kind)
) WITHOUT ROWID;
"""


@dataclass
class CachedFile:
    """What the cache holds for a file whose stat facts still match."""

    digest: str | None
    features: dict[str, bytes] = field(default_factory=dict)


@dataclass
class _Pending:
    ref: FileRef
    digest: str | None
    features: dict[str, tuple[int, bytes]]


class CacheUnusable(Exception):
    """The cache path names something that is not ours to open or move aside; the message says what."""


def _ours(path: Path) -> bool:
    """Whether a cache file that cannot be used may be moved aside: any file in this app's own cache folder
    (its damage is ours to clear), elsewhere only a SQLite file that carries this app's id."""
    if path.absolute().parent == paths.cache_dir().absolute():
        return True
    try:
        with path.open("rb") as file:
            header = file.read(100)
    except OSError:
        return False
    return header.startswith(b"SQLite format 3\x00") and int.from_bytes(header[68:72], "big") == APPLICATION_ID


class FeatureCache:
    """One SQLite database; safe to share between processes (WAL, busy timeout)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.notices: list[str] = []
        self._pending: list[_Pending] = []
        self._last_commit = time.monotonic()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = self._open_or_rebuild()

    def _open_or_rebuild(self) -> sqlite3.Connection:
        if self.path.is_dir():
            raise CacheUnusable(f"the feature cache {self.path} is a folder: name a file")
        try:
            return self._open()
        except sqlite3.DatabaseError as exc:
            if not _ours(self.path):
                raise CacheUnusable(
                    f"{self.path} is not a dedup-gui feature cache ({exc}); it was left as it is:"
                    " name a new file or an earlier cache"
                ) from None
            aside = self.path.with_name(f"{self.path.name}.broken-{time.strftime('%Y%m%d-%H%M%S')}")
            for suffix in ("", "-wal", "-shm"):
                src = Path(f"{self.path}{suffix}")
                if src.exists():
                    os.replace(src, f"{aside}{suffix}")
            self.notices.append(f"The feature cache was unreadable ({exc}); moved it to {aside} and started anew.")
            return self._open()

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30.0, check_same_thread=False)
        try:
            db.execute("PRAGMA busy_timeout = 30000")
            # Checked and created under the write lock: a second process opening a cache the first is still
            # creating waits for it, instead of seeing tables without the id and moving the cache aside.
            db.execute("BEGIN IMMEDIATE")
            app_id = db.execute("PRAGMA application_id").fetchone()[0]
            version = db.execute("PRAGMA user_version").fetchone()[0]
            has_tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 0
            if has_tables and (app_id != APPLICATION_ID or version != SCHEMA_VERSION):
                raise sqlite3.DatabaseError(
                    f"not a dedup_gui cache of schema {SCHEMA_VERSION} (id {app_id:#x}, version {version})"
                )
            for statement in filter(str.strip, _SCHEMA.split(";")):
                db.execute(statement)
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.commit()
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def lookup(
        self, refs: Iterable[FileRef], versions: dict[str, int], deferred: Collection[str] = ()
    ) -> dict[Path, CachedFile]:
        """Entries for the refs whose stat facts match, with only the features at the current version.

        Features of a ``deferred`` kind are listed with empty data; ``read`` fetches them when needed, so a
        large collection's embeddings never sit in memory as one bytes object per file.
        """
        found: dict[Path, CachedFile] = {}
        by_key = {os.fsencode(ref.path): ref for ref in refs}
        keys = list(by_key)
        for chunk in _chunks(keys, _IN_CHUNK):
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT path, size, mtime_ns, ino, digest FROM files WHERE path IN ({marks})", chunk
            )
            valid: list[bytes] = []
            for key, size, mtime_ns, ino, digest in rows:
                ref = by_key[key]
                if (size, mtime_ns, ino) == (ref.size, ref.mtime_ns, ref.ino):
                    found[ref.path] = CachedFile(digest)
                    valid.append(key)
            if not valid:
                continue
            marks = ",".join("?" * len(valid))
            kinds = ",".join("?" * len(deferred)) or "NULL"
            rows = self._db.execute(
                f"SELECT path, kind, version, CASE WHEN kind IN ({kinds}) THEN x'' ELSE data END"
                f" FROM features WHERE path IN ({marks})",
                [*deferred, *valid],
            )
            for key, kind, version, data in rows:
                if versions.get(kind) == version:
                    found[by_key[key].path].features[kind] = data
        return found

    def read(self, paths: list[Path], kind: str, version: int) -> dict[Path, bytes]:
        """The stored ``kind`` feature at ``version`` of each path that has one (queued writes included)."""
        self.flush()
        by_key = {os.fsencode(path): path for path in paths}
        found: dict[Path, bytes] = {}
        for chunk in _chunks(list(by_key), _IN_CHUNK):
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT path, data FROM features WHERE kind = ? AND version = ? AND path IN ({marks})",
                [kind, version, *chunk],
            )
            found.update((by_key[key], data) for key, data in rows)
        return found

    def store(self, ref: FileRef, digest: str | None, features: dict[str, tuple[int, bytes]]) -> None:
        """Queue a file's results (feature kind -> (version, bytes)); committed in batches."""
        self._pending.append(_Pending(ref, digest, features))
        if len(self._pending) >= BATCH_FILES or time.monotonic() - self._last_commit >= BATCH_SECONDS:
            self.flush()

    def flush(self) -> None:
        """Commit everything queued in one transaction."""
        if not self._pending:
            return
        with self._db:
            for item in self._pending:
                key = os.fsencode(item.ref.path)
                old = self._db.execute("SELECT size, mtime_ns, ino FROM files WHERE path = ?", (key,)).fetchone()
                if old != (item.ref.size, item.ref.mtime_ns, item.ref.ino):
                    self._db.execute("DELETE FROM features WHERE path = ?", (key,))
                    self._db.execute(
                        "INSERT OR REPLACE INTO files (path, size, mtime_ns, ino, digest) VALUES (?, ?, ?, ?, ?)",
                        (key, item.ref.size, item.ref.mtime_ns, item.ref.ino, item.digest),
                    )
                elif item.digest is not None:
                    self._db.execute("UPDATE files SET digest = ? WHERE path = ?", (item.digest, key))
                self._db.executemany(
                    "INSERT OR REPLACE INTO features (path, kind, version, data) VALUES (?, ?, ?, ?)",
                    [(key, kind, version, data) for kind, (version, data) in item.features.items()],
                )
        self._pending.clear()
        self._last_commit = time.monotonic()

    def load_graph(self, key: str) -> bytes | None:
        """A stored pair graph for exactly these inputs (see ``pipeline.graph_key``), if any."""
        row = self._db.execute("SELECT data FROM graphs WHERE key = ?", (key,)).fetchone()
        if row is not None:
            with self._db:
                self._db.execute("UPDATE graphs SET used = ? WHERE key = ?", (time.time(), key))
        return row[0] if row else None

    def latest_graph(self, scope: str) -> bytes | None:
        """The most recently used graph of these settings (for another set of files), to carry edges over."""
        row = self._db.execute(
            "SELECT data FROM graphs WHERE scope = ? ORDER BY used DESC LIMIT 1", (scope,)
        ).fetchone()
        return row[0] if row else None

    def store_graph(self, key: str, scope: str, data: bytes) -> None:
        """Keep a pair graph; only the most recently used few are kept."""
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO graphs VALUES (?, ?, ?, ?)", (key, scope, time.time(), data))
            self._db.execute(
                "DELETE FROM graphs WHERE key NOT IN (SELECT key FROM graphs ORDER BY used DESC LIMIT ?)",
                (GRAPHS_KEPT,),
            )

    def close(self) -> None:
        self.flush()
        self._db.close()

    def __enter__(self) -> FeatureCache:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _chunks(items: list[bytes], size: int) -> Iterator[list[bytes]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
