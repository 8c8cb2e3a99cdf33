"""The action journal: every move of a user's file is written down before it happens and after, so that any
batch can be undone and a batch cut short by a crash can be finished or rolled back at the next start.

One SQLite file in the user data folder (WAL, synchronous=FULL, a commit per write: a row the journal says is
pending is on disk before the file is touched). Paths are stored as bytes, because file names need not be
valid UTF-8. This module only records; ``actions`` does the moving and restoring.

Row states: ``planned`` (in a batch, not started) -> ``pending`` (about to run) -> ``done`` | ``failed`` |
``refused``; ``planned`` -> ``cancelled`` (a rolled-back batch); ``done`` -> ``restoring`` -> ``restored``.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dedup_gui.core import paths
from dedup_gui.core.keep_rules import FileRecord

JOURNAL_FILE = "journal.sqlite3"
SCHEMA_VERSION = 1

PLANNED = "planned"
PENDING = "pending"
DONE = "done"
FAILED = "failed"
REFUSED = "refused"
CANCELLED = "cancelled"
RESTORING = "restoring"
RESTORED = "restored"
UNFINISHED_STATES = (PLANNED, PENDING, RESTORING)
"""States a finished batch never has: a batch with one of them was cut short."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created REAL NOT NULL,
    kind TEXT NOT NULL,
    options TEXT NOT NULL,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    batch_id INTEGER NOT NULL REFERENCES batches(id),
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    path BLOB NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    digest TEXT,
    destination BLOB,
    link_to BLOB,
    keepers TEXT NOT NULL,
    state TEXT NOT NULL,
    outcome TEXT NOT NULL DEFAULT '',
    planned_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    restored_at REAL
);
CREATE INDEX IF NOT EXISTS entries_batch ON entries(batch_id, seq);
CREATE INDEX IF NOT EXISTS entries_state ON entries(state);
"""


def default_path() -> Path:
    return paths.data_dir() / JOURNAL_FILE


@dataclass(frozen=True)
class Planned:
    """One action as planned: what to do with which file, where to, and the copies of it that stay."""

    kind: str
    file: FileRecord
    keepers: tuple[FileRecord, ...]
    destination: Path | None = None
    link_to: Path | None = None


@dataclass(frozen=True)
class Entry:
    """One action on one file, as the journal knows it."""

    id: int
    batch_id: int
    seq: int
    kind: str
    file: FileRecord
    destination: Path | None
    link_to: Path | None
    keepers: tuple[FileRecord, ...]
    state: str
    outcome: str
    planned_at: float
    started_at: float | None
    finished_at: float | None
    restored_at: float | None

    @property
    def path(self) -> Path:
        return self.file.path


@dataclass(frozen=True)
class Batch:
    """A group of actions run by one command, with how many rows are in each state."""

    id: int
    created: float
    kind: str
    options: dict[str, Any] = field(default_factory=dict)
    pid: int = 0
    host: str = ""
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, *states: str) -> int:
        return sum(self.counts.get(s, 0) for s in states)

    @property
    def undoable(self) -> bool:
        """Some file of it is still moved (or may be): undo has something to restore."""
        return self.count(DONE, PENDING, RESTORING) > 0

    @property
    def incomplete(self) -> bool:
        return self.count(*UNFINISHED_STATES) > 0


def _blob(path: Path | None) -> bytes | None:
    return None if path is None else os.fsencode(path)


def _path(blob: bytes | None) -> Path | None:
    return None if blob is None else Path(os.fsdecode(blob))


def _keepers_json(keepers: Sequence[FileRecord]) -> str:
    return json.dumps([[os.fsdecode(k.path), k.size, k.mtime_ns, k.digest, k.dev, k.ino] for k in keepers])


def _keepers_from_json(text: str) -> tuple[FileRecord, ...]:
    return tuple(
        FileRecord(Path(p), size, mtime_ns, digest, dev=dev, ino=ino)
        for p, size, mtime_ns, digest, dev, ino in json.loads(text)
    )


def process_alive(pid: int, host: str) -> bool:
    """Whether another process on this machine with this id still runs (so its batch is not abandoned)."""
    if host != socket.gethostname() or pid == os.getpid() or os.name != "posix":
        return False  # os.kill on Windows would terminate the process, so never ask there
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


class Journal:
    """The journal file; open one per thread (SQLite connections are not shared between threads)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            self._db.close()
            raise RuntimeError(f"the journal {self.path} was written by a newer version of dedup-gui")
        if version < SCHEMA_VERSION:
            self._db.executescript(_SCHEMA)  # idempotent, so two processes creating it at once is harmless
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Writing ----------------------------------------------------------------------------------------------

    def begin_batch(self, kind: str, options: dict[str, Any], planned: Sequence[Planned]) -> tuple[int, list[int]]:
        """Write a batch and every action of it (``planned``) in one transaction, before any of them runs, so
        a crash leaves the whole plan; returns the batch id and the entry ids in order."""
        now = time.time()
        self._db.execute("BEGIN IMMEDIATE")
        try:
            cursor = self._db.execute(
                "INSERT INTO batches (created, kind, options, pid, host) VALUES (?, ?, ?, ?, ?)",
                (now, kind, json.dumps(options), os.getpid(), socket.gethostname()),
            )
            batch_id = cursor.lastrowid
            assert batch_id is not None
            ids = [self._insert(batch_id, seq, item, now) for seq, item in enumerate(planned)]
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        return batch_id, ids

    def _insert(self, batch_id: int, seq: int, item: Planned, now: float) -> int:
        cursor = self._db.execute(
            "INSERT INTO entries (batch_id, seq, kind, path, size, mtime_ns, digest, destination, link_to, keepers,"
            " state, planned_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                batch_id,
                seq,
                item.kind,
                _blob(item.file.path),
                item.file.size,
                item.file.mtime_ns,
                item.file.digest,
                _blob(item.destination),
                _blob(item.link_to),
                _keepers_json(item.keepers),
                PLANNED,
                now,
            ),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def mark_pending(self, entry_id: int, destination: Path | None = None) -> None:
        """Called right before the file is touched; the start time bounds the trash's DeletionDate."""
        self._set(entry_id, PENDING, "", started_at=time.time(), destination=destination)

    def mark_done(self, entry_id: int, outcome: str, destination: Path | None = None) -> None:
        self._set(entry_id, DONE, outcome, finished_at=time.time(), destination=destination)

    def mark_failed(self, entry_id: int, reason: str) -> None:
        self._set(entry_id, FAILED, reason, finished_at=time.time())

    def mark_refused(self, entry_id: int, reason: str) -> None:
        self._set(entry_id, REFUSED, reason, finished_at=time.time())

    def mark_cancelled(self, entry_id: int, reason: str) -> None:
        self._set(entry_id, CANCELLED, reason, finished_at=time.time())

    def mark_restoring(self, entry_id: int) -> None:
        self._set(entry_id, RESTORING, "")

    def mark_restored(self, entry_id: int, outcome: str) -> None:
        self._set(entry_id, RESTORED, outcome, restored_at=time.time())

    def note(self, entry_id: int, state: str, outcome: str) -> None:
        """Set a row's state and message without touching its times (an undo that could not restore)."""
        self._set(entry_id, state, outcome)

    def _set(self, entry_id: int, state: str, outcome: str, destination: Path | None = None, **times: float) -> None:
        columns = ["state = ?", "outcome = ?"] + [f"{name} = ?" for name in times]
        values: list[Any] = [state, outcome, *times.values()]
        if destination is not None:
            columns.append("destination = ?")
            values.append(_blob(destination))
        self._db.execute(f"UPDATE entries SET {', '.join(columns)} WHERE id = ?", (*values, entry_id))

    # Reading ----------------------------------------------------------------------------------------------

    def entries(self, batch_id: int) -> list[Entry]:
        rows = self._db.execute(
            "SELECT id, batch_id, seq, kind, path, size, mtime_ns, digest, destination, link_to, keepers, state,"
            " outcome, planned_at, started_at, finished_at, restored_at FROM entries WHERE batch_id = ? ORDER BY seq",
            (batch_id,),
        ).fetchall()
        return [_entry(row) for row in rows]

    def batch(self, batch_id: int) -> Batch | None:
        row = self._db.execute(
            "SELECT id, created, kind, options, pid, host FROM batches WHERE id = ?", (batch_id,)
        ).fetchone()
        return None if row is None else self._batch(row)

    def batches(self, limit: int = 50) -> list[Batch]:
        """The most recent batches, newest first."""
        rows = self._db.execute(
            "SELECT id, created, kind, options, pid, host FROM batches ORDER BY id DESC LIMIT ?", (limit,)
        ).fetchall()
        return [self._batch(row) for row in rows]

    def last_undoable(self) -> Batch | None:
        """The newest batch that still has a moved file (what plain ``undo`` undoes)."""
        row = self._db.execute(
            "SELECT b.id, b.created, b.kind, b.options, b.pid, b.host FROM batches b WHERE EXISTS"
            " (SELECT 1 FROM entries e WHERE e.batch_id = b.id AND e.state IN (?, ?, ?)) ORDER BY b.id DESC LIMIT 1",
            (DONE, PENDING, RESTORING),
        ).fetchone()
        return None if row is None else self._batch(row)

    def incomplete_batches(self) -> list[Batch]:
        """Batches cut short (rows still planned, pending or restoring) whose process is gone, oldest first."""
        placeholders = ", ".join("?" for _ in UNFINISHED_STATES)
        rows = self._db.execute(
            "SELECT b.id, b.created, b.kind, b.options, b.pid, b.host FROM batches b WHERE EXISTS"
            f" (SELECT 1 FROM entries e WHERE e.batch_id = b.id AND e.state IN ({placeholders})) ORDER BY b.id",
            UNFINISHED_STATES,
        ).fetchall()
        batches = [self._batch(row) for row in rows]
        return [b for b in batches if not process_alive(b.pid, b.host)]

    def _batch(self, row: tuple[Any, ...]) -> Batch:
        batch_id, created, kind, options, pid, host = row
        counts = dict(
            self._db.execute("SELECT state, COUNT(*) FROM entries WHERE batch_id = ? GROUP BY state", (batch_id,))
        )
        return Batch(batch_id, created, kind, json.loads(options), pid, host, counts)


def _entry(row: tuple[Any, ...]) -> Entry:
    (entry_id, batch_id, seq, kind, path, size, mtime_ns, digest, destination, link_to, keepers, state, outcome,
     planned_at, started_at, finished_at, restored_at) = row  # fmt: skip
    file_path = _path(path)
    assert file_path is not None
    return Entry(
        id=entry_id,
        batch_id=batch_id,
        seq=seq,
        kind=kind,
        file=FileRecord(file_path, size, mtime_ns, digest),
        destination=_path(destination),
        link_to=_path(link_to),
        keepers=_keepers_from_json(keepers),
        state=state,
        outcome=outcome,
        planned_at=planned_at,
        started_at=started_at,
        finished_at=finished_at,
        restored_at=restored_at,
    )
