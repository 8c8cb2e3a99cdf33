"""The person's review decisions, kept across scans and restarts in a small SQLite file in the data folder.

"Not duplicates" is stored per pair of content digests, so it survives renames and moves and reappears for
any other copy of the same bytes; so are the copies the person confirmed by accepting a group, each with the
file the group keeps (``calibration`` scores the threshold against both). Keep/remove choices made by hand
and reviewed groups are stored per path together with the digest they were made for: a file whose content
changed loses its old choice.
"""

from __future__ import annotations

import itertools
import os
import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from dedup_gui.core import paths
from dedup_gui.core.graph import Thresholds
from dedup_gui.core.model import Group
from dedup_gui.core.pipeline import ScanResult

SCHEMA_VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS distinct_pairs (a TEXT NOT NULL, b TEXT NOT NULL, PRIMARY KEY (a, b)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS confirmed_pairs (a TEXT NOT NULL, b TEXT NOT NULL, PRIMARY KEY (a, b)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS choices (path BLOB PRIMARY KEY, digest TEXT NOT NULL, keep INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS reviewed (path BLOB PRIMARY KEY, digest TEXT NOT NULL);
"""


def default_path() -> Path:
    return paths.data_dir() / "review.sqlite3"


class ReviewState:
    """Open (and create) the review database; every change is committed at once."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # The window reads it from a worker thread while building a review (never at the same time as writing).
        self._db = sqlite3.connect(self.path, check_same_thread=False)
        self._db.executescript(_SCHEMA)
        self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        self._distinct: dict[str, set[str]] = defaultdict(set)
        self._distinct_pairs: set[tuple[str, str]] = set()
        """The distinct pairs of two different contents (what scoring a threshold counts)."""
        for a, b in self._db.execute("SELECT a, b FROM distinct_pairs"):
            self._distinct[a].add(b)
            self._distinct[b].add(a)
            if a != b:
                self._distinct_pairs.add((a, b))
        self._confirmed: set[tuple[str, str]] = set(self._db.execute("SELECT a, b FROM confirmed_pairs"))
        self.decisions = 0
        """Counts changes to the pair decisions, so a result computed from older ones can tell."""

    def close(self) -> None:
        self._db.close()

    # "Not duplicates" -------------------------------------------------------------------------------------

    def mark_distinct(self, pairs: Iterable[tuple[str, str]]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """Record that each pair of contents is not a copy (see ``pairs_among`` for a whole group); a pair
        confirmed as copies before is not any longer. Returns the pairs of two contents newly marked, and the
        confirmed pairs this unconfirmed (to restore on undo)."""
        pairs = sorted({_ordered(a, b) for a, b in pairs})
        added = [p for p in pairs if p[0] != p[1] and p not in self._distinct_pairs]
        unconfirmed = [p for p in pairs if p in self._confirmed]
        with self._db:
            self._db.executemany("INSERT OR IGNORE INTO distinct_pairs VALUES (?, ?)", pairs)
            self._db.executemany("DELETE FROM confirmed_pairs WHERE a = ? AND b = ?", unconfirmed)
        self._confirmed.difference_update(unconfirmed)
        self._distinct_pairs.update(added)
        for a, b in pairs:
            self._distinct[a].add(b)
            self._distinct[b].add(a)
        self.decisions += 1
        return added, unconfirmed

    def unmark_distinct(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Undo ``mark_distinct`` for these pairs."""
        pairs = [_ordered(a, b) for a, b in pairs]
        with self._db:
            self._db.executemany("DELETE FROM distinct_pairs WHERE a = ? AND b = ?", pairs)
        self._distinct_pairs.difference_update(pairs)
        for a, b in pairs:
            self._distinct[a].discard(b)
            self._distinct[b].discard(a)
        self.decisions += 1

    def is_distinct(self, a: str | None, b: str | None) -> bool:
        return a is not None and b is not None and b in self._distinct.get(a, ())

    def distinct_pairs(self) -> list[tuple[str, str]]:
        """The "not duplicates" pairs of two different contents; a copy, as a worker reads it while the person
        goes on reviewing."""
        return list(self._distinct_pairs)

    # Confirmed copies -------------------------------------------------------------------------------------

    def mark_confirmed(self, pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """Record that each pair of different contents is a copy the person looked at and agreed with; pairs
        marked "not duplicates" stay so. Returns the pairs newly confirmed."""
        ordered = {_ordered(a, b) for a, b in pairs if a != b}
        added = sorted(p for p in ordered if p not in self._confirmed and p not in self._distinct_pairs)
        with self._db:
            self._db.executemany("INSERT OR IGNORE INTO confirmed_pairs VALUES (?, ?)", added)
        self._confirmed.update(added)
        self.decisions += 1
        return added

    def has_pair_decisions(self) -> bool:
        """Whether any pair was confirmed or marked "not duplicates" (identical files kept on purpose aside)."""
        return bool(self._confirmed or self._distinct_pairs)

    def confirmed_pairs(self) -> list[tuple[str, str]]:
        return list(self._confirmed)  # a copy: a worker thread reads it while the person goes on reviewing

    def apply(self, result: ScanResult, groups: list[Group], thresholds: Thresholds) -> list[Group]:
        """The groups with every "not duplicates" pair cut: a touched group splits into what still matches.

        Only groups holding a marked pair are looked at again (through the stored pair graph), so this stays
        cheap for large results.
        """
        if not self._distinct:
            return groups
        out: list[Group] = []
        for group in groups:
            digests = [result.files[m].digest for m in group.members]
            if any(self.is_distinct(x, y) for x, y in itertools.combinations(digests, 2)):
                out.extend(self._split(result, group, thresholds))
            else:
                out.append(group)
        return out

    def _split(self, result: ScanResult, group: Group, thresholds: Thresholds) -> list[Group]:
        parent = {m: m for m in group.members}

        def find(x: int) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for pair in result.graph.pairs_within(group, thresholds):
            if not self.is_distinct(result.files[pair.a].digest, result.files[pair.b].digest):
                parent[find(pair.a)] = find(pair.b)
        parts: dict[int, list[int]] = defaultdict(list)
        for m in group.members:
            parts[find(m)].append(m)
        return [Group(tuple(sorted(part))) for part in parts.values() if len(part) > 1]

    # Keep/remove choices and reviewed groups ---------------------------------------------------------------

    def set_choice(self, path: Path, digest: str, keep: bool | None) -> None:
        """Remember a hand-made keep (True) or remove (False) for this file's content; None forgets it."""
        with self._db:
            if keep is None:
                self._db.execute("DELETE FROM choices WHERE path = ?", (os.fsencode(path),))
            else:
                self._db.execute("INSERT OR REPLACE INTO choices VALUES (?, ?, ?)", (os.fsencode(path), digest, keep))

    def choices(self) -> dict[tuple[Path, str], bool]:
        """Hand-made choices by (path, digest); a caller matches both so changed files are ignored."""
        rows = self._db.execute("SELECT path, digest, keep FROM choices")
        return {(Path(os.fsdecode(p)), d): bool(k) for p, d, k in rows}

    def set_reviewed(self, files: Iterable[tuple[Path, str]]) -> None:
        """Mark the files (path, digest) of an accepted group as reviewed."""
        rows = [(os.fsencode(p), d) for p, d in files]
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO reviewed VALUES (?, ?)", rows)

    def reviewed(self) -> set[tuple[Path, str]]:
        return {(Path(os.fsdecode(p)), d) for p, d in self._db.execute("SELECT path, digest FROM reviewed")}


def pairs_among(digests: Iterable[str]) -> list[tuple[str, str]]:
    """Every pair of distinct contents; one content alone pairs with itself (identical files kept on purpose)."""
    unique = sorted(set(digests))
    if len(unique) == 1:
        return [(unique[0], unique[0])]
    return list(itertools.combinations(unique, 2))


def _ordered(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)
