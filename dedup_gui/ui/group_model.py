"""The groups list as one table model: rows are computed when the view asks, so 50,000 groups cost no widgets.

Sorting and the folder filter work on per-group numpy columns computed once per grouping; the row order is
an index array, so neither needs a proxy model calling back into Python per comparison.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Slot
from PySide6.QtGui import QPixmap

from dedup_gui.core.graph import Thresholds
from dedup_gui.core.pipeline import ScanResult
from dedup_gui.core.units import human_bytes
from dedup_gui.ui.images import ImageLoader
from dedup_gui.ui.session import Layout, ReviewSession, kept_member

ModelIndex = QModelIndex | QPersistentModelIndex


class Column(IntEnum):
    GROUP = 0
    FILES = 1
    MARKED = 2
    RECLAIM = 3
    MATCH = 4


HEADERS = {
    Column.GROUP: "Kept file",
    Column.FILES: "Files",
    Column.MARKED: "Marked",
    Column.RECLAIM: "Frees",
    Column.MATCH: "Match",
}
_TIPS = {
    Column.GROUP: "The file kept from each group and its folder (✓: you accepted the group); sorts by folder",
    Column.MARKED: "Files marked for removal",
    Column.RECLAIM: "Bytes freed by removing the marked files",
    Column.MATCH: "How alike the least similar pair of the group is: identical bytes, or the hash distance"
    " (0 = same picture; lower is closer) and the CNN similarity (1 = same) where computed",
}
_NUMERIC = {Column.FILES, Column.MARKED, Column.RECLAIM}


class GroupTableModel(QAbstractTableModel):
    """Rows are groups of the current ``ReviewSession``, in sort order, limited to a folder when filtered."""

    def __init__(self, thumbnails: ImageLoader, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thumbnails = thumbnails
        self._thumbnails.ready.connect(self._on_thumbnail)
        self._session: ReviewSession | None = None
        self._rows = np.empty(0, dtype=np.int64)  # group number of each row
        self._row_of = np.empty(0, dtype=np.int64)  # row of each group number, -1 when filtered out
        self._waiting: dict[str, int] = {}  # thumbnail key -> group number
        self._sort: tuple[int, Qt.SortOrder] = (Column.RECLAIM, Qt.SortOrder.DescendingOrder)
        self._folder: Path | None = None
        self._stats = GroupStats.empty()

    # Content ----------------------------------------------------------------------------------------------

    @property
    def session(self) -> ReviewSession | None:
        return self._session

    def set_session(self, session: ReviewSession | None, stats: GroupStats | None = None) -> None:
        self._session = session
        self.refresh(stats)

    def refresh(self, stats: GroupStats | None = None) -> None:
        """The session's groups changed (new scan, threshold, rules): re-sort every row. ``stats`` computed
        off the GUI thread for the session's current layout saves the work here (large reviews)."""
        self.beginResetModel()
        self._waiting.clear()
        if stats is None:
            session = self._session
            stats = GroupStats.of(session.result, session.layout()) if session else GroupStats.empty()
        self._stats = stats
        self._order()
        self.endResetModel()

    def marks_changed(self, group_number: int) -> None:
        """Keep/remove changed inside one group: update its counts in place (the order stays until re-sorted)."""
        if self._session is None:
            return
        self._stats.update_marks(self._session, group_number)
        row = self.row_of(group_number)
        if row is not None:
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(Column) - 1))

    def totals(self) -> tuple[int, int, int]:
        """Groups listed (the folder filter applied), the files marked in them and the bytes those free: sums
        of the per-group columns, so a keypress costs no walk over every file."""
        rows, stats = self._rows, self._stats
        return len(rows), int(stats.marked[rows].sum()), int(stats.reclaim[rows].sum())

    def group_number(self, row: int) -> int:
        return int(self._rows[row])

    def row_of(self, group_number: int) -> int | None:
        if not 0 <= group_number < len(self._row_of):
            return None
        row = int(self._row_of[group_number])
        return row if row >= 0 else None

    def set_folder(self, folder: Path | None) -> None:
        """Show only groups with a file under ``folder`` (None: all)."""
        self.beginResetModel()
        self._folder = folder
        self._order()
        self.endResetModel()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.beginResetModel()
        self._sort = (column, order)
        self._order()
        self.endResetModel()

    def _order(self) -> None:
        stats = self._stats
        column, order = self._sort
        keys = {
            Column.GROUP: stats.path_rank,
            Column.FILES: stats.count,
            Column.MARKED: stats.marked,
            Column.RECLAIM: stats.reclaim,
            Column.MATCH: stats.match_rank,
        }
        ranking = np.argsort(keys[Column(column)], kind="stable")
        if order == Qt.SortOrder.DescendingOrder:
            ranking = ranking[::-1]
        if self._folder is not None and self._session is not None:
            ranking = ranking[stats.under(self._session, self._folder)[ranking]]
        self._rows = ranking.astype(np.int64)
        self._row_of = np.full(len(stats.count), -1, dtype=np.int64)
        self._row_of[self._rows] = np.arange(len(self._rows))

    # Qt model interface -----------------------------------------------------------------------------------

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(Column)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(Column):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[Column(section)]
        if role == Qt.ItemDataRole.ToolTipRole:
            return _TIPS.get(Column(section))
        return None

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self._session is None or not 0 <= index.row() < len(self._rows):
            return None
        number = int(self._rows[index.row()])
        column = Column(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(number, column)
        if role == Qt.ItemDataRole.DecorationRole and column == Column.GROUP:
            return self._thumbnail(number)
        if role == Qt.ItemDataRole.ToolTipRole and column == Column.GROUP:
            return "\n".join(str(f.ref.path) for f in self._session.files(self._session.groups[number]))
        if role == Qt.ItemDataRole.TextAlignmentRole and column in _NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _display(self, number: int, column: Column) -> str:
        session = self._session
        assert session is not None
        stats = self._stats
        if column == Column.FILES:
            return str(stats.count[number])
        if column == Column.MARKED:
            return str(stats.marked[number])
        if column == Column.RECLAIM:
            return human_bytes(int(stats.reclaim[number]))
        if column == Column.MATCH:
            return stats.match_text(number)
        group = session.groups[number]
        kept = session.result.files[kept_member(group.members, session.mark)].ref.path
        others_kept = int(stats.count[number] - stats.marked[number]) - 1
        also = f"  (+{others_kept} kept)" if others_kept > 0 else ""
        name = ("✓ " if session.is_reviewed(group) else "") + kept.name + also
        return f"{name}\n{short_folder(kept.parent, session.result.options.roots)}"

    def _thumbnail(self, number: int) -> QPixmap | None:
        session = self._session
        assert session is not None
        ref = session.result.files[kept_member(session.groups[number].members, session.mark)].ref
        pixmap = self._thumbnails.pixmap(ref.path, ref.mtime_ns)
        if pixmap is None:
            self._waiting[self._thumbnails.key(ref.path, ref.mtime_ns)] = number
        return pixmap

    @Slot(str, QPixmap)
    def _on_thumbnail(self, key: str, _pixmap: QPixmap) -> None:
        number = self._waiting.pop(key, None)
        row = None if number is None else self.row_of(number)
        if row is not None:
            index = self.index(row, Column.GROUP)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])


def short_folder(folder: Path, roots: Sequence[Path]) -> str:
    """The folder as its scanned root's name plus the path below it: the part that tells groups apart."""
    root = deepest_root(folder, roots)
    return str(folder) if root is None else str(Path(root_label(root)) / folder.relative_to(root))


def deepest_root(folder: Path, roots: Sequence[Path]) -> Path | None:
    """The innermost scanned root holding the folder (roots may be nested)."""
    return max((r for r in roots if folder.is_relative_to(r)), key=lambda r: len(r.parts), default=None)


def root_label(root: Path) -> str:
    """A root by its name; a drive or the file system's root by its whole path."""
    return root.name or str(root)


class GroupStats:
    """Per-group columns (indexed by group number) for display and sorting; plain numpy, so a worker thread
    can compute them for a layout before the window adopts it."""

    def __init__(
        self,
        count: np.ndarray,
        marked: np.ndarray,
        reclaim: np.ndarray,
        distance: np.ndarray,
        cosine: np.ndarray,
        paths: list[tuple[str, str]],
    ) -> None:
        self.count, self.marked, self.reclaim = count, marked, reclaim
        self.distance, self.cosine = distance, cosine
        self.path_rank = _rank(paths)
        # Most alike first: identical (-1), then by hash distance, ties broken by higher cosine.
        self.match_rank = np.lexsort((-np.nan_to_num(cosine, nan=-1.0), distance))
        self.match_rank = _rank_of_order(self.match_rank)
        self._under: tuple[Path, np.ndarray] | None = None

    @classmethod
    def empty(cls) -> GroupStats:
        empty = np.empty(0, dtype=np.int64)
        return cls(empty, empty, empty, empty, np.empty(0), [])

    @classmethod
    def of(cls, result: ScanResult, layout: Layout) -> GroupStats:
        groups, marks, files = layout.groups, layout.marks, result.files
        count = np.fromiter((len(g.members) for g in groups), dtype=np.int64, count=len(groups))
        flat = np.fromiter((m for g in groups for m in g.members), dtype=np.int64, count=int(count.sum()))
        owner = np.repeat(np.arange(len(groups)), count)
        sizes = np.fromiter((files[m].ref.size for m in flat), dtype=np.int64, count=len(flat))
        removed = np.fromiter((not marks[m].keep for m in flat), dtype=bool, count=len(flat))
        marked = np.bincount(owner, weights=removed, minlength=len(groups)).astype(np.int64)
        reclaim = np.bincount(owner, weights=sizes * removed, minlength=len(groups)).astype(np.int64)
        distance, cosine = _match_stats(result, layout.thresholds, flat, owner, len(groups))
        kept = (files[kept_member(g.members, marks.__getitem__)].ref.path for g in groups)
        paths = [(str(path.parent), path.name) for path in kept]  # sorted by folder, then name
        return cls(count, marked, reclaim, distance, cosine, paths)

    def update_marks(self, session: ReviewSession, number: int) -> None:
        members = session.groups[number].members
        removed = [m for m in members if not session.mark(m).keep]
        self.marked[number] = len(removed)
        self.reclaim[number] = sum(session.result.files[m].ref.size for m in removed)

    def match_text(self, number: int) -> str:
        if self.distance[number] < 0:
            return "identical"
        text = f"hash {self.distance[number]}"
        if not np.isnan(self.cosine[number]):
            text += f" · {self.cosine[number]:.2f}"
        return text

    def under(self, session: ReviewSession, folder: Path) -> np.ndarray:
        """Mask of groups with at least one file inside ``folder`` (cached per folder)."""
        if self._under is None or self._under[0] != folder:
            inside = np.zeros(len(self.count), dtype=bool)
            for number, group in enumerate(session.groups):
                inside[number] = any(session.result.files[m].ref.path.is_relative_to(folder) for m in group.members)
            self._under = (folder, inside)
        return self._under[1]


def _match_stats(
    result: ScanResult, thresholds: Thresholds, flat: np.ndarray, owner: np.ndarray, groups: int
) -> tuple[np.ndarray, np.ndarray]:
    """Largest hash distance and smallest cosine among each group's matching pairs (-1/NaN: only identical)."""
    graph = result.graph
    group_of_file = np.full(graph.n, -1, dtype=np.int64)
    group_of_file[flat] = owner
    keep = graph.matching(thresholds)
    a, b = group_of_file[graph.a[keep]], group_of_file[graph.b[keep]]
    inside = (a >= 0) & (a == b)
    distance = np.full(groups, -1, dtype=np.int64)
    np.maximum.at(distance, a[inside], graph.phash[keep][inside].astype(np.int64))
    cosine = np.full(groups, np.nan, dtype=np.float64)
    counted = np.where(graph.crowded[keep], np.nan, graph.cosine[keep])  # a crowded pair's cosine did not count
    np.fmin.at(cosine, a[inside], counted[inside].astype(np.float64))
    return distance, cosine


def _rank(values: list[tuple[str, str]]) -> np.ndarray:
    """Each value's position in sorted order, as an array numpy can argsort again cheaply."""
    order = sorted(range(len(values)), key=values.__getitem__)
    return _rank_of_order(np.array(order, dtype=np.int64))


def _rank_of_order(order: np.ndarray) -> np.ndarray:
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank
