"""The main window: folders and scan on the left with the groups list, the compare view on the right.

Everything slow runs elsewhere: the scan on a ``ScanThread``, regrouping and re-marking on one
``TaskRunner``, trash and undo on another, image decoding in ``ImageLoader`` pools. The window only adopts
finished results, so it keeps painting while any of them works.
"""

from __future__ import annotations

import gc
import logging
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QSize, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from dedup_gui import __version__
from dedup_gui.core import calibration
from dedup_gui.core.graph import Thresholds
from dedup_gui.core.model import Group, Method
from dedup_gui.core.pipeline import ScanOptions, ScanResult, uses_cnn
from dedup_gui.core.progress import ProgressEvent, Stage
from dedup_gui.core.report import counted
from dedup_gui.core.review_state import ReviewState
from dedup_gui.core.units import human_bytes
from dedup_gui.ui import rules, trash
from dedup_gui.ui.accessible import named
from dedup_gui.ui.compare import PAGE_SIZE, CompareView
from dedup_gui.ui.file_actions import add_file_actions
from dedup_gui.ui.folders import FolderPanel, dropped_folders
from dedup_gui.ui.formatting import duration
from dedup_gui.ui.group_model import (
    Column,
    GroupStats,
    GroupTableModel,
    deepest_root,
    root_label,
    short_folder,
)
from dedup_gui.ui.help_overlay import HelpOverlay
from dedup_gui.ui.images import ImageLoader
from dedup_gui.ui.log_viewer import LogDialog
from dedup_gui.ui.scan_worker import ScanThread
from dedup_gui.ui.session import Layout, ReviewSession, kept_member
from dedup_gui.ui.settings import DISPLAY_NAME, Settings
from dedup_gui.ui.skipped import SkippedPanel
from dedup_gui.ui.tasks import TaskRunner
from dedup_gui.ui.threshold import ThresholdControl

THUMBNAIL_SIDE = 48
PREVIEW_SIDE = 1600
ROW_HEIGHT = 54
METHODS = {Method.AUTO: "Hashes + CNN", Method.HASH: "Hashes", Method.EXACT: "Exact"}

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    """The review window. ``session`` is the review on screen (None before the first scan)."""

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle(DISPLAY_NAME)
        self.setAcceptDrops(True)
        self.settings = Settings()
        self.state = ReviewState()
        self.session: ReviewSession | None = None
        self.scan_workers: int | None = None
        """Decoding processes for scans (None: one per CPU)."""
        self.scan_thread: ScanThread | None = None
        self._current: int | None = None  # group number shown in the compare view
        self._selected_file: int | None = None  # a file of the group shown: a regroup selects its group again
        self._closed = False
        self._thumbnails = ImageLoader(THUMBNAIL_SIDE, parent=self)
        self._previews = ImageLoader(PREVIEW_SIDE, parent=self)
        self._full = ImageLoader(0, threads=1, parent=self)
        self.regrouper = TaskRunner(self)
        self.regrouper.done.connect(self._on_layout)
        self.regrouper.failed.connect(self._on_task_failed)
        self.rules = rules.RulesController(self.settings, self)
        self.rules.changed.connect(self._remark)
        self.trash = trash.TrashController(self)
        self.trash.started.connect(self._on_trash_started)
        self.trash.finished.connect(self._on_trash_finished)
        self._build_widgets()
        self._build_menus()
        self.statusBar()  # made now: one that appears with the first message would push the window's content up
        self._help = HelpOverlay(self)
        self._restore()
        QTimer.singleShot(0, lambda: self.trash.offer_recovery(self))
        _settle_heap()

    # Construction -----------------------------------------------------------------------------------------

    def _build_widgets(self) -> None:
        self.folders = FolderPanel()
        self.folders.changed.connect(self._on_folders_changed)
        self.scan_button = named(QPushButton("Scan"), "Scan the folders")
        self.scan_button.clicked.connect(self.start_scan)
        self.cancel_button = named(QPushButton("Cancel"), "Cancel the scan")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_scan)
        self.method = named(QComboBox(), "Matching method")
        for method, label in METHODS.items():
            self.method.addItem(label, method.value)
        self.method.setToolTip(
            "Exact: identical files only. Hashes: also resized, re-saved, turned and mirrored"
            " copies. Hashes + CNN: also stronger edits (slower first scan)."
        )
        self.progress = named(QProgressBar(textVisible=True), "Scan progress")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.stage_label = named(QLabel("Add folders, then press Scan.", wordWrap=True), "Scan status")
        self.stage_label.setTextFormat(Qt.TextFormat.PlainText)  # messages hold file names
        # Two lines held from the start: a status that wraps while scanning does not move the lists.
        self.stage_label.setMinimumHeight(2 * self.stage_label.fontMetrics().lineSpacing())
        self.stage_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        buttons = QHBoxLayout()
        buttons.addWidget(self.method)
        buttons.addWidget(self.scan_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.progress, 1)
        self.summary_label = named(QLabel(wordWrap=True), "Review summary")  # wraps rather than widen the window
        self.summary_label.setTextFormat(Qt.TextFormat.PlainText)
        font = self.summary_label.font()
        font.setBold(True)
        self.summary_label.setFont(font)
        self.labels_label = named(QLabel(wordWrap=True), "Threshold against your decisions")
        self.labels_label.setToolTip(
            "Your own decisions in these folders, scored at the current threshold: accepting a group confirms"
            " each file as a copy of the kept one, and Not duplicates marks pairs that are not."
            " Move the slider to see where the threshold agrees with both."
        )
        self.labels_label.hide()
        self.folder_filter = named(QComboBox(), "Show groups in folder")
        self.folder_filter.setToolTip("Show only groups with a file in this folder")
        self.folder_filter.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.folder_filter.setMinimumContentsLength(12)  # long folder names are elided, not widening the row
        self.folder_filter.currentIndexChanged.connect(self._on_filter)
        self.model = GroupTableModel(self._thumbnails, self)
        self.table = self._make_table()
        self.model.modelReset.connect(self._restore_selection)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.folders, 1)
        top_layout.addLayout(buttons)
        top_layout.addWidget(self.stage_label)
        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        filter_row = QHBoxLayout()
        filter_row.addWidget(self.summary_label, 1)
        filter_row.addWidget(self.folder_filter)
        bottom_layout.addLayout(filter_row)
        bottom_layout.addWidget(self.labels_label)
        bottom_layout.addWidget(self.table, 1)
        self.left_splitter = QSplitter(Qt.Orientation.Vertical)
        self.left_splitter.addWidget(top)
        self.left_splitter.addWidget(bottom)
        self.left_splitter.setStretchFactor(1, 1)
        self.left_splitter.setSizes([230, 600])
        self.compare = CompareView(self._previews, self._full)
        self.compare.toggle_requested.connect(self.toggle_file)
        self.main_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.main_splitter.addWidget(self.left_splitter)
        self.main_splitter.addWidget(self.compare)
        self.main_splitter.setStretchFactor(0, 1)  # a smaller window takes from both sides, a third from the list
        self.main_splitter.setStretchFactor(1, 2)
        self.main_splitter.setSizes([520, 880])
        self.setCentralWidget(self.main_splitter)
        self.threshold = ThresholdControl()
        self.threshold.changed.connect(self.apply_thresholds)
        toolbar = QToolBar("Threshold", movable=False)
        toolbar.setObjectName("threshold_toolbar")  # saveState() names toolbars and docks by object name
        toolbar.addWidget(self.threshold)
        self.addToolBar(toolbar)
        self.skipped = SkippedPanel()
        self.skipped_dock = QDockWidget("Skipped files", self)
        self.skipped_dock.setObjectName("skipped_dock")
        self.skipped_dock.setWidget(self.skipped)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.skipped_dock)
        self.skipped_dock.hide()
        self.skipped_link = named(QLabel(), "Show the skipped files")
        self.skipped_link.setTextFormat(Qt.TextFormat.RichText)
        self.skipped_link.linkActivated.connect(self.show_skipped)
        self.skipped_link.hide()
        self.statusBar().addPermanentWidget(self.skipped_link)  # a scan never opens the panel by itself
        self._update_summary()

    def _make_table(self) -> QTableView:
        table = named(GroupTable(), "Duplicate groups")
        table.setModel(self.model)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setSortingEnabled(True)
        table.horizontalHeader().setSortIndicator(Column.RECLAIM, Qt.SortOrder.DescendingOrder)
        table.setIconSize(QSize(THUMBNAIL_SIDE, THUMBNAIL_SIDE))
        table.verticalHeader().hide()
        table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        table.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
        table.setWordWrap(False)
        table.setAlternatingRowColors(True)
        table.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # keeps a name's end and the folder's last part
        header = table.horizontalHeader()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(Column.GROUP, QHeaderView.ResizeMode.Stretch)  # the name takes what is left
        header.setMinimumSectionSize(36)
        widest = {Column.FILES: "99", Column.MARKED: "99", Column.RECLAIM: "999.9 MB", Column.MATCH: "hash 10 · 0.75"}
        for column, sample in widest.items():
            label = str(self.model.headerData(column, Qt.Orientation.Horizontal))
            label_width = header.fontMetrics().horizontalAdvance(label) + 20  # with the sort arrow
            table.setColumnWidth(column, max(label_width, table.fontMetrics().horizontalAdvance(sample) + 12))
        table.selectionModel().currentRowChanged.connect(self._on_current_row)
        add_file_actions(table, self._kept_path)
        return table

    def _kept_path(self) -> Path | None:
        """The file the selected group keeps (what a right-click on the list acts on)."""
        session, number = self.session, self._current
        if session is None or number is None:
            return None
        return session.result.files[kept_member(session.groups[number].members, session.mark)].ref.path

    def _action(self, menu: QMenu, text: str, keys: list[str | QKeySequence.StandardKey], slot: object) -> QAction:
        action = menu.addAction(text)
        action.setShortcuts([QKeySequence(k) for k in keys])
        action.triggered.connect(slot)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        self._action(file, "&Add folder…", ["Ctrl+O"], self.folders.choose_folder)
        self.scan_action = self._action(file, "&Scan", ["F5", "Ctrl+R"], self.start_scan)
        self.cancel_action = self._action(file, "&Cancel scan", ["Esc"], self.cancel_scan)
        self.cancel_action.setEnabled(False)
        file.addSeparator()
        self._action(file, "&Quit", ["Ctrl+Q"], self.close)
        edit = bar.addMenu("&Edit")
        self.undo_action = self._action(edit, "&Undo", [QKeySequence.StandardKey.Undo], self.undo)
        self.undo_action.setEnabled(False)
        edit.addSeparator()
        self.trash_action = self._action(edit, "&Move marked to trash…", ["Delete"], self.move_to_trash)
        self._action(edit, "&Keep rules…", ["Ctrl+K"], self.rules.edit)
        review = bar.addMenu("&Review")
        self._action(review, "&Next group", ["J", "Alt+Down"], lambda: self.step(1))
        self._action(review, "&Previous group", ["K", "Alt+Up"], lambda: self.step(-1))
        self._action(review, "&Accept group and go to next", ["A"], self.accept_group)
        self._action(review, "Not &duplicates (whole group)", ["D"], lambda: self.not_duplicates(None))
        toggles = review.addMenu("&Toggle keep/remove")
        not_copies = review.addMenu("Image is &not a copy of the others")
        for number in range(1, PAGE_SIZE + 1):
            self._action(
                toggles, f"Image {number}", [str(number)], lambda _=False, n=number: self.toggle_position(n - 1)
            )
            self._action(
                not_copies, f"Image {number}", [f"Ctrl+{number}"], lambda _=False, n=number: self.not_duplicates(n - 1)
            )
        view = bar.addMenu("&View")
        for action in self.compare.actions_.values():
            view.addAction(action)
        view.addSeparator()
        view.addAction(self.skipped_dock.toggleViewAction())
        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "&Keyboard shortcuts", ["F1", "?"], self.show_help)
        self._action(help_menu, "Show &log", [], self.show_log)
        self._action(help_menu, "&About", [], self.about)
        self.menus = [file, edit, review, view, help_menu]

    def _restore(self) -> None:
        geometry = self.settings.blob("window/geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(_first_size(self.screen().availableGeometry().size()))
        for key, widget in (
            ("window/state", self),
            ("window/main_splitter", self.main_splitter),
            ("window/left_splitter", self.left_splitter),
        ):
            blob = self.settings.blob(key)
            if blob is not None:
                widget.restoreState(blob)
        roots, references, excludes = self.settings.folders()
        self.folders.set_folders([r for r in roots if r.is_dir()], references, excludes)
        thresholds = self.settings.thresholds()
        if thresholds is not None:
            self.threshold.set_thresholds(thresholds)
        self.method.setCurrentIndex(max(self.method.findData(self.settings.method()), 0))

    # Folders and scanning ---------------------------------------------------------------------------------

    def open_folders(self, folders: list[Path], references: list[Path] | None = None) -> None:
        """Folders from the command line or the demo: replace the list and scan them."""
        references = self.folders.references() if references is None else references
        self.folders.set_folders(folders, references, self.folders.excludes())
        self.start_scan()

    def restore_last_review(self) -> None:
        """Rescan the last folders: the feature cache and stored pair graph answer, so nothing is decoded."""
        if self.folders.roots():
            self.stage_label.setText("Restoring the last review…")
            self.start_scan()

    @Slot()
    def _on_folders_changed(self) -> None:
        roots = self.folders.roots()
        self.settings.set_folders(roots, self.folders.references(), self.folders.excludes())
        self._fill_folder_filter()
        if self.session is not None and tuple(self.folders.references()) != self.session.references:
            self._remark()

    def _fill_folder_filter(self) -> None:
        """Offer each scanned folder and, once scanned, each folder below it that holds a possible duplicate."""
        roots = self.folders.roots()
        below = self.session.folders if self.session is not None else ()
        combo = self.folder_filter
        combo.blockSignals(True)
        current = combo.currentData()
        combo.clear()
        combo.addItem("All folders", None)
        inside: dict[Path, list[Path]] = {root: [] for root in roots}
        for folder in below:
            root = deepest_root(folder, roots)
            if root is not None and folder != root:
                inside[root].append(folder)
        for root in roots:
            combo.addItem(root_label(root), str(root))
            for folder in inside[root]:
                combo.addItem(short_folder(folder, roots), str(folder))
        combo.setCurrentIndex(max(combo.findData(current), 0))
        combo.blockSignals(False)
        if combo.currentData() != current:
            self._on_filter()

    @Slot()
    def start_scan(self) -> None:
        if self.scan_thread is not None:
            return
        roots = tuple(self.folders.roots())
        if not roots:
            self.stage_label.setText("Add a folder first: Add folder…, or drop folders on the window.")
            return
        options = ScanOptions(
            roots=roots,
            exclude=tuple(self.folders.excludes()),
            method=Method(self.method.currentData()),
            thresholds=self.threshold.thresholds,
            workers=self.scan_workers,
        )
        self.settings.set_method(options.method.value)
        self.scan_thread = ScanThread(options, self)
        self.scan_thread.progress.connect(self._on_progress)
        self.scan_thread.succeeded.connect(self._on_scanned)
        self.scan_thread.failed.connect(self._on_scan_failed)
        self.scan_thread.finished.connect(self._on_thread_finished)
        self._set_scanning(True)
        self.stage_label.setText("Finding files…")
        self.scan_thread.start()

    @Slot()
    def cancel_scan(self) -> None:
        if self.scan_thread is not None and not self.scan_thread.cancelled:
            self.scan_thread.cancel()
            self.cancel_button.setEnabled(False)
            self.stage_label.setText("Cancelling: keeping what was computed so far…")

    def _set_scanning(self, scanning: bool) -> None:
        self.scan_button.setEnabled(not scanning)
        self.scan_action.setEnabled(not scanning)
        self.cancel_button.setEnabled(scanning)
        self.cancel_action.setEnabled(scanning)

    @Slot(object)
    def _on_progress(self, event: ProgressEvent) -> None:
        if self.scan_thread is None or self.scan_thread.cancelled:
            return
        if event.total is None:
            self.progress.setRange(0, 0)  # busy: the total is not known while finding files
        else:
            self.progress.setRange(0, max(event.total, 1))
            self.progress.setValue(event.done)
        text = f"{event.stage.value.capitalize()}: {event.done:,}"
        if event.empty:
            text = f"{event.stage.value.capitalize()}: nothing to do"
        elif event.total is not None:
            text += f" of {event.total:,} files"
        if event.eta_s and not event.finished:
            text += f", about {duration(event.eta_s)} left"
        if event.stage is Stage.ANALYSE and event.current and not event.finished:
            text += f"\n{Path(event.current).name}"
        self.stage_label.setText(text)

    @Slot(object)
    def _on_scanned(self, result: ScanResult) -> None:
        if self._closed:
            return
        self.skipped.set_items(result.skipped)
        count = len(result.skipped)
        self.skipped_link.setText(f'<a href="skipped">{counted(count, "file")} skipped</a>')
        self.skipped_link.setVisible(count > 0)
        stats = result.stats
        total = len(result.files) + len(result.skipped)
        images = counted(len(result.files), "image")
        text = f"Scanned {counted(total, 'file')}: {images}, {len(result.skipped):,} skipped"
        text += f" · {stats.analysed:,} read, {stats.from_cache:,} from the cache · {stats.elapsed_s:.1f} s"
        if result.cancelled:
            text = f"Scan cancelled. Groups among the files finished so far. {text}"
        for notice in result.notices:
            text += f"\n{notice}"
        log.info("scanned %s: %s", ", ".join(str(root) for root in result.options.roots), text)
        self.stage_label.setText(text)
        self.progress.setRange(0, 1)
        self.progress.setValue(0 if result.cancelled else 1)  # a cancelled scan is not shown as complete
        self.threshold.set_thresholds(self.threshold.thresholds, uses_cnn(result.options.method))
        references = tuple(self.folders.references())
        thresholds, decide = self.threshold.thresholds, self.rules.decider(references)
        self.regrouper.submit(lambda: _with_stats(ReviewSession(result, self.state, decide, references, thresholds)))

    @Slot()
    def show_skipped(self) -> None:
        """Open the skipped-files panel at a modest height: the groups stay the window's main content."""
        self.skipped_dock.show()
        self.resizeDocks([self.skipped_dock], [max(120, self.height() // 5)], Qt.Orientation.Vertical)

    @Slot(str)
    def _on_scan_failed(self, message: str) -> None:
        self.stage_label.setText(message)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)

    @Slot()
    def _on_thread_finished(self) -> None:
        if self.scan_thread is not None:
            self.scan_thread.deleteLater()
        self.scan_thread = None
        self._set_scanning(False)

    # Groups, thresholds and marks -------------------------------------------------------------------------

    @Slot(object)
    def apply_thresholds(self, thresholds: Thresholds) -> None:
        """Regroup from the stored graph on the worker; the newest request wins."""
        self.settings.set_thresholds(thresholds)
        session = self.session
        if session is not None:
            self.regrouper.submit(lambda: _with_stats(session, session.prepare(thresholds)))

    @Slot()
    def _remark(self) -> None:
        """Keep rules or reference folders changed: mark every group again, on the worker."""
        session = self.session
        if session is None:
            return
        references = self.folders.references()
        session.use_rules(self.rules.decider(references), references)
        groups, thresholds = session.groups, session.thresholds
        self.regrouper.submit(lambda: _with_stats(session, session.prepare(thresholds, groups)))

    @Slot(int, object)
    def _on_layout(self, ticket: int, prepared: _Prepared) -> None:
        if ticket != self.regrouper.latest or self._closed:
            return  # a newer regroup is on its way, or the window is gone
        session, layout, stats = prepared
        if session is not self.session:
            self.session = session
            self._current = None
            self._fill_folder_filter()
            _settle_heap()
        if layout is not None:
            session.adopt(layout)
        self.model.set_session(session, stats)
        if self.model.rowCount() and self.table.currentIndex().row() < 0:
            self.table.selectRow(0)
        self._update_summary()
        self._show_current()

    @Slot(int, str)
    def _on_task_failed(self, _ticket: int, message: str) -> None:
        QMessageBox.warning(self, DISPLAY_NAME, message)

    def _restore_selection(self) -> None:
        """After a re-sort or regroup, select the group that holds the file selected before (else the first)."""
        session, row, file = self.session, None, self._selected_file
        if session is not None and file is not None and session.is_grouped(file):
            row = self.model.row_of(session.group_of(file))
        self._select_row(0 if row is None else row)

    def _select_row(self, row: int) -> None:
        """Select the row (clamped to the list; nothing when it is empty) and show its group."""
        row = min(row, self.model.rowCount() - 1)
        self._current = None
        if row >= 0:
            self.table.selectionModel().setCurrentIndex(
                self.model.index(row, 0),
                QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
            )
            self.table.scrollTo(self.model.index(row, 0))
        self._show_current()

    @Slot(QModelIndex, QModelIndex)
    def _on_current_row(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._show_current(current.row() if current.isValid() else None)

    def _show_current(self, row: int | None = None) -> None:
        if row is None:
            index = self.table.currentIndex()
            row = index.row() if index.isValid() else None
        number = None if row is None or row >= self.model.rowCount() else self.model.group_number(row)
        if number != self._current or number is None:
            self._current = number
            if number is not None and self.session is not None:
                self._selected_file = self.session.groups[number].members[0]
            self.compare.show_group(self.session, number)

    @Slot()
    def _on_filter(self) -> None:
        data = self.folder_filter.currentData()
        self.model.set_folder(Path(data) if data else None)
        self._update_summary()

    def _update_summary(self) -> None:
        """The counts above the list and beside the slider, from the session as it is now."""
        self.threshold.set_group_count(len(self.session.groups) if self.session else None)
        labels = self.session.labels if self.session else None
        self.labels_label.setText(calibration.describe(labels) if labels else "")
        self.labels_label.setVisible(labels is not None)
        if self.session is None:
            self.summary_label.setText("No groups yet.")
            return
        listed, marked, size = self.model.totals()
        self.compare.set_empty_text("Select a group to compare its images." if listed else "No groups to show here.")
        groups = counted(len(self.session.groups), "group")
        if self.folder_filter.currentData() is not None:
            groups = f"{listed:,} of {groups} shown"
        freed = human_bytes(size).replace(" ", "\u00a0")  # "615.2 kB" never split over two lines
        self.summary_label.setText(f"{groups} · {counted(marked, 'file')} marked ({freed})")
        self.summary_label.setToolTip(f"Moving the marked files to the trash frees {human_bytes(size)}")
        self.trash_action.setEnabled(marked > 0 and not self.trash.busy())

    def step(self, delta: int) -> None:
        """Select the next (+1) or previous (-1) group in list order."""
        rows = self.model.rowCount()
        if not rows:
            return
        row = self.table.currentIndex().row()
        row = 0 if row < 0 else min(max(row + delta, 0), rows - 1)
        self.table.selectRow(row)

    @Slot(int)
    def toggle_file(self, file_index: int) -> None:
        if self.session is None:
            return
        refused = self.session.toggle(file_index)
        if refused:
            self.statusBar().showMessage(refused, 6000)
            return
        self._marks_changed(self.session.group_of(file_index))

    def toggle_position(self, position: int) -> None:
        """Flip keep/remove of image ``position + 1`` of the compare view (keys 1-8), in sight first."""
        member = self.compare.member_at(position)
        if member is not None:
            self.toggle_file(member)

    def _marks_changed(self, group_number: int) -> None:
        self.model.marks_changed(group_number)
        self.compare.refresh_marks()
        self._update_summary()

    def accept_group(self) -> None:
        if self.session is None or self._current is None:
            return
        self.session.accept(self._current)
        self.model.marks_changed(self._current)
        self._update_summary()
        self.step(1)

    def not_duplicates(self, position: int | None) -> None:
        """Split the shown group: all of it (None), or image ``position + 1`` from the others."""
        session, number = self.session, self._current
        if session is None or number is None:
            return
        split_off = None
        if position is not None:
            if not self.compare.is_shown(position):  # never split off an image not in sight: show it first
                if self.compare.member_at(position) is not None:
                    shown = f"Image {position + 1} is shown now: press again to split it off."
                    self.statusBar().showMessage(shown, 6000)
                return
            split_off = self.compare.member_at(position)
        row, members = self.table.currentIndex().row(), session.groups[number].members
        pairs, unconfirmed = session.not_duplicates(number, split_off)
        self.trash.push_undo(trash.UndoNotDuplicates(pairs, unconfirmed, members[0]))
        self.undo_action.setEnabled(True)
        self.model.refresh()
        others = [m for m in members if m != split_off and session.is_grouped(m)]
        rest = others[0] if split_off is not None and others else None  # file 0 is a file too
        if rest is not None:  # one image split off: stay with the others
            self._select_row(self.model.row_of(session.group_of(rest)) or 0)
        else:  # the group that took the split one's place: the next in the list
            self._select_row(max(row, 0))
        self._update_summary()
        self.statusBar().showMessage("Remembered as not duplicates (Undo brings the group back).", 6000)
        log.info("marked %d pairs as not duplicates", len(pairs))

    # Trash and undo ---------------------------------------------------------------------------------------

    def move_to_trash(self) -> None:
        if self.session is not None and not self.trash.busy():
            shown = self._shown_groups()
            scope = ""
            if shown is not None:  # a group shown for a file in the folder may mark files outside it
                folder, files = Path(self.folder_filter.currentData()), self.session.result.files
                marked = self.session.marked_for_removal(shown)
                outside = sum(not files[m].ref.path.is_relative_to(folder) for m in marked)
                scope = f" in the {counted(len(shown), 'group')} shown"
                if outside:
                    scope += f", {outside:,} of them outside {self.folder_filter.currentText()}"
            self.trash.move_marked(self.session, self, shown, scope)

    def _shown_groups(self) -> list[Group] | None:
        """The groups the folder filter leaves in the list; None when it shows them all."""
        session = self.session
        if session is None or self.folder_filter.currentData() is None:
            return None
        return [session.groups[self.model.group_number(row)] for row in range(self.model.rowCount())]

    def undo(self) -> None:
        session = self.session
        entry = self.trash.pop_undo() if session is not None else None
        if session is None or entry is None:
            return
        if isinstance(entry, trash.UndoTrash):
            self.trash.undo_trash(session, entry)
            return
        session.undo_not_duplicates(entry.pairs, entry.unconfirmed)  # a regroup on the worker brings it back
        self._selected_file = entry.file  # and the list selects it
        thresholds = session.thresholds
        self.regrouper.submit(lambda: _with_stats(session, session.prepare(thresholds)))
        self.undo_action.setEnabled(self.trash.can_undo())
        self.statusBar().showMessage("Undone: the group is back.", 6000)

    @Slot()
    def _on_trash_started(self) -> None:
        """Files are moving: regrouping now would race with the groups the command computes."""
        for widget in (self.threshold, self.scan_button):
            widget.setEnabled(False)
        self.trash_action.setEnabled(False)
        self.undo_action.setEnabled(False)
        self.statusBar().showMessage("Working…")

    @Slot(str)
    def _on_trash_finished(self, message: str) -> None:
        log.info("%s", message)
        self.threshold.setEnabled(True)
        self.scan_button.setEnabled(self.scan_thread is None)
        self.undo_action.setEnabled(self.trash.can_undo())
        self.model.refresh()
        self._update_summary()
        self.statusBar().showMessage(message, 10000)

    # Window -----------------------------------------------------------------------------------------------

    def show_help(self) -> None:
        self._help.show_for(self.menus)

    def show_log(self) -> None:
        LogDialog(self).exec()

    def about(self) -> None:
        QMessageBox.about(
            self,
            f"About {DISPLAY_NAME}",
            f"<b>{DISPLAY_NAME}</b> {__version__}<br>Finds exact and near-duplicate images, shows them side by"
            " side for you to confirm, and moves the copies you choose to the system trash (with Undo).",
        )

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_folders(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        self.folders.add_folders(dropped_folders(event.mimeData()))
        event.acceptProposedAction()

    def closeEvent(self, event: QCloseEvent) -> None:
        self._closed = True  # results still queued for this window are dropped
        if self.scan_thread is not None:
            self.scan_thread.cancel()
            self.scan_thread.wait()
        for worker in (self.regrouper, self.trash, self._thumbnails, self._previews, self._full):
            worker.shutdown()
        self.state.close()
        self.settings.set_blob("window/geometry", self.saveGeometry())
        self.settings.set_blob("window/state", self.saveState())
        self.settings.set_blob("window/main_splitter", self.main_splitter.saveState())
        self.settings.set_blob("window/left_splitter", self.left_splitter.saveState())
        self.settings.set_thresholds(self.threshold.thresholds)
        self.settings.sync()
        super().closeEvent(event)


class GroupTable(QTableView):
    """The groups list; when narrow it hides the file counts, so the kept file's name keeps room to be read."""

    NARROW = 420
    """Below this width the Files and Marked columns are hidden (the compare view shows both anyway)."""

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        narrow = self.width() < self.NARROW
        for column in (Column.FILES, Column.MARKED):
            if self.isColumnHidden(column) != narrow:
                self.setColumnHidden(column, narrow)


def _first_size(available: QSize) -> QSize:
    """The first window: 1400 x 860, or nine tenths of a smaller screen's free area (a 1366 x 768 laptop)."""
    return QSize(min(1400, available.width() * 9 // 10), min(860, available.height() * 9 // 10))


_Prepared = tuple[ReviewSession, Layout | None, GroupStats]
"""A new session (layout None) or a new layout of the current one, with its list columns."""


def _with_stats(session: ReviewSession, layout: Layout | None = None) -> _Prepared:
    """Everything the list needs, computed on the worker thread: the GUI thread only swaps it in."""
    return session, layout, GroupStats.of(session.result, layout or session.layout())


def _settle_heap() -> None:
    """Move every object alive now (modules, the window, the scan result) out of the cyclic collector's
    reach: a full collection over them pauses whichever thread triggers it, the GUI thread included, for
    50 ms and more. Objects still freed by reference counting as usual."""
    gc.freeze()
