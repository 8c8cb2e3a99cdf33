"""Moving marked files to the trash, and Undo: the window's side of ``core.actions``.

The core does the safe part (checks each file again, refuses the last copy, journals every move, restores);
this module asks for confirmation, runs the core on a worker thread, and keeps the undo stack, which also
holds "not duplicates" decisions so one Undo command covers both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QAbstractButton, QMessageBox, QWidget

from dedup_gui.core import actions, journal
from dedup_gui.core import trash as core_trash
from dedup_gui.core.model import Group
from dedup_gui.core.units import human_bytes
from dedup_gui.ui.confirm import trash_question
from dedup_gui.ui.session import Layout, ReviewSession
from dedup_gui.ui.tasks import TaskRunner


@dataclass(frozen=True)
class UndoTrash:
    """One trash command, by its journal batch (paths, not file indices: a rescan may come in between)."""

    batch: actions.Batch


@dataclass(frozen=True)
class UndoNotDuplicates:
    """A "not duplicates" decision: the digest pairs it recorded, the confirmed pairs it took back, and a file
    of the group it split (the list selects the group again when it comes back)."""

    pairs: Sequence[tuple[str, str]]
    unconfirmed: Sequence[tuple[str, str]]
    file: int


UndoEntry = UndoTrash | UndoNotDuplicates


@dataclass(frozen=True)
class _Done:
    """A finished command and the groups that follow from it (no session: a recovery at start-up)."""

    session: ReviewSession | None
    outcome: actions.Outcome
    files: list[int]
    layout: Layout | None
    restored: bool


class TrashController(QObject):
    """Confirm, trash off the GUI thread, undo.

    Signals:
        started(): a trash or undo command began on the worker thread.
        finished(str): a trash or undo command ended; the message says what happened.
    """

    started = Signal()
    finished = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = TaskRunner(self)
        self._runner.done.connect(self._on_done)
        self._runner.failed.connect(self._on_failed)
        self._undo: list[UndoEntry] = []
        self.dialog: QMessageBox | None = None

    def busy(self) -> bool:
        return self._runner.busy() or self.dialog is not None

    def can_undo(self) -> bool:
        return bool(self._undo)

    def push_undo(self, entry: UndoEntry) -> None:
        self._undo.append(entry)

    def shutdown(self) -> None:
        self._runner.shutdown()

    # Trash ------------------------------------------------------------------------------------------------

    def move_marked(
        self, session: ReviewSession, parent: QWidget, groups: Sequence[Group] | None = None, scope: str = ""
    ) -> None:
        """Ask, then move every file marked for removal in ``groups`` (default: all), which ``scope`` names
        in the question; ``finished`` reports the outcome."""
        marked = session.marked_for_removal(groups)
        if not marked or self.busy():
            return
        paths = [session.result.files[m].ref.path for m in marked]
        size = sum(session.result.files[m].ref.size for m in marked)
        self.dialog = trash_question(parent, paths, size, scope)
        self.dialog.buttonClicked.connect(lambda button: self._on_answer(session, marked, button))
        self.dialog.open()

    def _on_answer(self, session: ReviewSession, marked: list[int], button: QAbstractButton) -> None:
        assert self.dialog is not None
        confirmed = self.dialog.buttonRole(button) == QMessageBox.ButtonRole.AcceptRole
        self.dialog.deleteLater()
        self.dialog = None
        if confirmed:
            requests = [_request(session, m) for m in marked]
            self._submit(session, lambda: _move_to_trash(requests, session.references), restoring=False)

    # Undo -------------------------------------------------------------------------------------------------

    def pop_undo(self) -> UndoEntry | None:
        """The newest command to undo (None when there is none or a command is running)."""
        return self._undo.pop() if self._undo and not self.busy() else None

    def undo_trash(self, session: ReviewSession, entry: UndoTrash) -> None:
        """Put a trash command's files back; ``finished`` reports, the groups come back with them."""
        self._submit(session, lambda: actions.undo(entry.batch), restoring=True)

    # Recovery ---------------------------------------------------------------------------------------------

    def offer_recovery(self, parent: QWidget) -> None:
        """A trash command cut short (crash, power loss) is in the journal: ask to finish it or put the files
        back. Nothing is decided without the person."""
        interrupted = actions.incomplete_batches()
        if not interrupted or self.busy():
            return
        batch = interrupted[0]
        box = QMessageBox(QMessageBox.Icon.Warning, "Interrupted move to the trash", "", parent=parent)
        box.setText(
            f"Moving {batch.count(*journal.UNFINISHED_STATES, journal.DONE):,} files to the trash was"
            " interrupted last time. Finish it, or put the files already moved back where they were?"
        )
        finish = box.addButton("Finish", QMessageBox.ButtonRole.AcceptRole)
        rollback = box.addButton("Put back", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton("Decide later", QMessageBox.ButtonRole.RejectRole)
        self.dialog = box

        def answer(button: QAbstractButton) -> None:
            self.dialog = None
            box.deleteLater()
            choices: dict[QAbstractButton, actions.Resolution] = {
                finish: actions.Resolution.FINISH,
                rollback: actions.Resolution.ROLLBACK,
            }
            how = choices.get(button)
            if how is not None:
                self._runner.submit(lambda: _Done(None, actions.resolve(batch, how), [], None, False))
                self.started.emit()

        box.buttonClicked.connect(answer)
        box.open()

    # Running ----------------------------------------------------------------------------------------------

    def _submit(self, session: ReviewSession, work: Callable[[], actions.Outcome], restoring: bool) -> None:
        """Run the core's command, then regroup without the moved files (or with the restored ones), all on
        the worker thread; the GUI thread only adopts the result."""

        def run() -> _Done:
            outcome = work()
            index = {f.ref.path: i for i, f in enumerate(session.result.files)}
            done = [index[p] for p in outcome.done if p in index]
            layout = session.with_files(done) if restoring else session.without_files(done)
            return _Done(session, outcome, done, layout, restoring)

        self._runner.submit(run)
        self.started.emit()

    @Slot(int, object)
    def _on_done(self, _ticket: int, done: _Done) -> None:
        session, outcome = done.session, done.outcome
        if session is None or done.layout is None:
            message = f"Finished the interrupted command: {len(outcome.done):,} files handled."
        elif done.restored:
            session.adopt(done.layout)
            message = f"Restored {len(outcome.done):,} files from the trash."
        else:
            session.adopt(done.layout)
            if outcome.done and outcome.batch is not None:
                self._undo.append(UndoTrash(outcome.batch))
            size = sum(session.result.files[m].ref.size for m in done.files)
            message = f"Moved {len(outcome.done):,} files ({human_bytes(size)}) to the trash."
        self.finished.emit(message + _failures(outcome.failed))

    @Slot(int, str)
    def _on_failed(self, _ticket: int, message: str) -> None:
        self.finished.emit(f"Stopped: {message}")


def _move_to_trash(requests: list[actions.TrashRequest], references: tuple[Path, ...]) -> actions.Outcome:
    if core_trash.freedesktop():
        # The core creates Trash/ but not a missing $XDG_DATA_HOME (fresh accounts, containers) above it.
        core_trash.home_trash().parent.mkdir(parents=True, exist_ok=True)
    return actions.move_to_trash(requests, references=references)


def _request(session: ReviewSession, member: int) -> actions.TrashRequest:
    """One file to trash, with the copies of its group that stay (the core re-checks one still exists)."""
    file = session.result.files[member]
    group = session.groups[session.group_of(member)]
    kept = tuple(session.result.files[m] for m in group.members if session.mark(m).keep)
    return actions.TrashRequest(file, kept)


def _failures(failed: Sequence[tuple[Path, str]]) -> str:
    if not failed:
        return ""
    first_path, first_reason = failed[0]
    more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
    return f" {len(failed):,} left in place: {first_path.name}: {first_reason}{more}."
