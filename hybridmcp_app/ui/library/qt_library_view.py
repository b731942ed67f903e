"""The Library tab: drop files and folders to index them, follow the run file by file, search
the library by meaning and open a passage's source at its page, remove documents (with Undo).

Waits for ``set_library`` (the library opens in the background after start-up). Indexing goes
through the library's ``IndexQueue`` (runs one at a time: what is dropped during a run is added
right after it, and what a cancelled run did not reach is kept for Resume); this view only turns
its events into the progress panel, the files' states and the banner. Searching and removing go
through ``LibraryService`` as guarded tasks; their errors are shown in the banner.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import (
    QDesktopServices,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDropEvent,
    QKeySequence,
    QShortcut,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from hybridmcp_app.core.background_tasks import BackgroundTasks
from hybridmcp_app.documents.document_models import FileState, SearchHit
from hybridmcp_app.services.index_queue import (
    IndexEvent,
    IndexQueue,
    QueueIdle,
    RunFailed,
    RunFinished,
    RunProgress,
    RunStarted,
    WaitingChanged,
)
from hybridmcp_app.ui.library.qt_library_drop_zone import QtLibraryDropZone
from hybridmcp_app.ui.library.qt_library_files import QtLibraryFiles
from hybridmcp_app.ui.library.qt_library_files_model import PENDING_STATES, LibraryFilesModel
from hybridmcp_app.ui.library.qt_library_progress import QtLibraryProgress, plural
from hybridmcp_app.ui.library.qt_library_search import QtLibrarySearch
from hybridmcp_app.ui.widgets.qt_banner import QtBanner
from hybridmcp_app.ui.widgets.qt_guarded_task import spawn_guarded

if TYPE_CHECKING:  # chromadb, numpy and onnxruntime come with the service, after start-up
    from hybridmcp_app.documents.library_indexer import IndexProgress, IndexReport
    from hybridmcp_app.documents.library_service import LibraryService, LibraryStats

OpenSource = Callable[[Path, "int | None"], object]
SEARCH_RESULTS = 10


def open_with_system(path: Path, page: int | None) -> None:
    """The file in the system's viewer (which page it opens at is the viewer's choice)."""
    QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


def describe_stats(stats: LibraryStats) -> str:
    return describe_counts(
        stats.files, stats.indexed, stats.failed, stats.pending, stats.chunks, stats.location
    )


def describe_counts(
    files: int, indexed: int, failed: int, pending: int, chunks: int, location: str
) -> str:
    return (
        f"{plural(files, 'file')} · {indexed:,} indexed · {failed:,} failed · "
        f"{pending:,} pending · {plural(chunks, 'chunk')} · {location}"
    )


def describe_shown(model: LibraryFilesModel, location: str) -> str:
    """The footer as the table stands, while a run changes it file by file."""
    states = model.states
    pending = sum(states[state] for state in PENDING_STATES)
    return describe_counts(
        len(model.rows), states[FileState.INDEXED], states[FileState.FAILED], pending,
        model.chunks, location,
    )  # fmt: skip


class QtLibraryView(QWidget):
    """``run_finished`` carries each run's ``IndexReport`` (None if it failed). ``queue``: the
    library's indexing queue (one is made if none is given)."""

    run_finished = Signal(object)

    def __init__(
        self,
        tasks: BackgroundTasks,
        banner: QtBanner,
        parent: QWidget | None = None,
        *,
        open_source: OpenSource | None = None,
        queue: IndexQueue | None = None,
    ) -> None:
        super().__init__(parent)
        self._tasks, self._banner = tasks, banner
        self._open_source = open_source or open_with_system
        self.library: LibraryService | None = None
        self.problem: str | None = None
        self.stats: LibraryStats | None = None
        self.queue = queue or IndexQueue(spawn=lambda work, name: tasks.spawn(work, name=name))
        self.destroyed.connect(self.queue.subscribe(self._on_event))  # unsubscribes
        self._first_event = False  # the run has not said yet which files it took on
        self._search_serial = 0

        self.drop_zone = QtLibraryDropZone(self)
        self.progress = QtLibraryProgress(self)
        self.files = QtLibraryFiles(self)
        self.remove_button = QPushButton("Remove", self)
        self.remove_button.setToolTip("Take the selected files out of the library (Del); "
                                      "the files stay on disk")  # fmt: skip
        self.search_panel = QtLibrarySearch(self)
        self.stats_label = QLabel("Opening the library…", self)
        self.stats_label.setWordWrap(True)
        self.stats_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.extra_panel = QVBoxLayout()  # watched folders, backup and restore go here

        files_side = QWidget(self)
        files_layout = QVBoxLayout(files_side)
        files_layout.setContentsMargins(0, 0, 0, 0)
        files_layout.addWidget(self.files, 1)
        actions = QHBoxLayout()
        actions.addWidget(self.remove_button)
        actions.addStretch(1)
        files_layout.addLayout(actions)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(files_side)
        splitter.addWidget(self.search_panel)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([720, 440])
        layout = QVBoxLayout(self)
        layout.addWidget(self.drop_zone)
        layout.addWidget(self.progress)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.stats_label)
        layout.addLayout(self.extra_panel)

        self.setAcceptDrops(True)
        self.drop_zone.paths_chosen.connect(self.add_paths)
        self.remove_button.clicked.connect(self.remove_selected)
        self.progress.cancel_requested.connect(self.cancel)
        self.progress.resume_requested.connect(self.resume)
        self.search_panel.query_submitted.connect(self.search)
        self.search_panel.hit_activated.connect(self.open_hit)
        self.files.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.files.shown.connect(self._count_shown)
        # Window-wide while this tab shows (as in the chat); Del only in the files table.
        find = QShortcut(QKeySequence(QKeySequence.StandardKey.Find), self, self.focus_search)
        find.setWhatsThis("Search the library")
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.cancel).setWhatsThis(
            "Cancel indexing"
        )
        delete = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.files.table,
                           context=Qt.ShortcutContext.WidgetShortcut)  # fmt: skip
        delete.setWhatsThis("Remove the selected documents (in the files table)")
        delete.activated.connect(self.remove_selected)
        self._update_buttons()

    # ------------------------------------------------------------------ set-up
    def set_library(self, library: LibraryService | None, problem: str | None = None) -> None:
        """The library opened (load its files), or could not (say why)."""
        self.library, self.problem = library, problem
        if library is None:
            self.stats_label.setProperty("role", "form-errors")
            self.stats_label.setText(f"The library could not open: {problem or 'unknown reason'}")
            self.queue.attach(None)
        else:
            self.stats_label.setProperty("role", None)
            self._run(self._load(), "library-load")
        self.stats_label.style().unpolish(self.stats_label)
        self.stats_label.style().polish(self.stats_label)
        self._update_buttons()

    async def _load(self) -> None:
        pending = await self.refresh()
        self.progress.offer_resume(pending)
        if self.library is not None:
            self.queue.attach(self.library)  # indexes what was dropped while it opened

    def set_extra_panel(self, widget: QWidget) -> None:
        """A panel under the files and search (watched folders, backup and restore)."""
        while self.extra_panel.count():
            item = self.extra_panel.takeAt(0)
            old = None if item is None else item.widget()
            if old is not None:
                old.setParent(None)
        self.extra_panel.addWidget(widget)
        widget.show()

    @property
    def running(self) -> bool:
        return self.queue.running

    def _update_buttons(self) -> None:
        usable = self.problem is None
        self.drop_zone.set_usable(usable)
        self.setAcceptDrops(usable)
        idle = self.library is not None and not self.running
        self.remove_button.setEnabled(idle and bool(self.files.selected_paths()))

    async def refresh(self) -> int:
        """Reload the files and the stats from the library; returns the files pending."""
        library = self.library
        if library is None:
            return 0
        statuses = await library.status()
        stats = await library.stats()
        if not shiboken6.isValid(self):
            return 0
        self.files.reload(statuses)
        self.stats = stats
        self.stats_label.setText(describe_stats(stats))
        self._update_buttons()
        return stats.pending

    # ------------------------------------------------------------------ adding
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        self.drop_zone.drag_entered(event)

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self.drop_zone.drag_left()

    def dropEvent(self, event: QDropEvent) -> None:
        self.drop_zone.dropped(event)

    def add_paths(self, paths: Sequence[Path]) -> asyncio.Task[Any] | None:
        """Index files and folders: now, or after the run going on (returns the queue's task)."""
        if not paths:
            return None
        if self.problem is not None:
            self._banner.show_message(f"The library is unavailable: {self.problem}", "error")
            return None
        task = self.queue.add(paths)
        self._update_buttons()  # before the label: it resets the drop zone's hint
        if self.queue.library is None:
            waiting = self.queue.waiting
            self.drop_zone.label.setText(
                f"{plural(waiting, 'item')} will be added once the library is open."
            )
        return task

    def resume(self) -> asyncio.Task[Any] | None:
        """Finish the files a stopped run left, then add what was dropped and not started."""
        if self.library is None or self.running:
            return None
        task = self.queue.resume()
        self._update_buttons()
        return task

    def cancel(self) -> None:
        """Stop the run going on, and the additions waiting behind it (kept for Resume)."""
        if self.library is not None and self.queue.cancel():
            self.progress.cancelling()

    def _on_event(self, event: IndexEvent) -> None:
        if not shiboken6.isValid(self):
            return
        if isinstance(event, WaitingChanged):
            self.progress.set_waiting(event.waiting)
        elif isinstance(event, RunStarted):
            self.progress.set_waiting(event.waiting)
            self.progress.started("Resuming…" if event.kind == "resume" else "Scanning…")
            self._first_event = True
            self._update_buttons()
        elif isinstance(event, RunProgress):
            self._on_progress(event.progress)
        elif isinstance(event, RunFinished):
            self.run_finished.emit(event.report)
        elif isinstance(event, RunFailed):  # the run stopped: say why, and show where it got to
            self._banner.show_message(f"Indexing stopped: {event.error}", "error")
            self.run_finished.emit(None)
        elif isinstance(event, QueueIdle):  # from here, what is dropped starts a new run
            self.progress.set_waiting(event.waiting)
            self._run(self._finished(event.report), "library-index-done")

    async def _finished(self, report: IndexReport | None) -> None:
        pending = 0
        try:
            pending = await self.refresh()
        finally:  # even if the library cannot be read now: the run is over
            if shiboken6.isValid(self) and not self.running:
                self.progress.finished(report, pending)
                self._update_buttons()

    def _on_progress(self, event: IndexProgress) -> None:
        if self._first_event and event.total:  # the run has queued its files: show them
            self._first_event = False
            self._run(self._show_queued(), "library-queued")
        if event.changed is not None:
            self.files.changed(event.changed)
        self.progress.show_progress(event)

    def _count_shown(self) -> None:
        """During a run, the footer follows the table (the library's own count comes after)."""
        if self.running and self.stats is not None:
            self.stats_label.setText(describe_shown(self.files.model, self.stats.location))

    async def _show_queued(self) -> None:
        library = self.library
        if library is not None:
            statuses = await library.status()
            stats = await library.stats()
            if shiboken6.isValid(self) and self.running:
                self.stats = stats
                self.files.reload(statuses, keep_live=True)  # and the footer from it

    # ------------------------------------------------------------------ removing
    def remove_selected(self) -> asyncio.Task[Any] | None:
        """Take the selected files out of the library; the banner offers Undo (adds them back)."""
        library, paths = self.library, self.files.selected_paths()
        if library is None or self.running or not paths:
            return None

        async def remove() -> None:
            count = await library.remove(paths)
            await self.refresh()

            def undo() -> None:
                self._banner.dismiss()
                self.add_paths(paths)

            self._banner.show_message(
                f"Removed {plural(count, 'document')} from the library (the files stay on disk).",
                "info", action_text="Undo", action=undo,
            )  # fmt: skip

        return self._run(remove(), "library-remove")

    # ------------------------------------------------------------------ searching
    def focus_search(self) -> None:
        self.search_panel.box.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_panel.box.selectAll()

    def search(self, query: str) -> asyncio.Task[Any] | None:
        library = self.library
        if library is None or not query.strip():
            return None
        self._search_serial += 1
        serial = self._search_serial
        self.search_panel.searching(query)

        async def run() -> None:
            hits = await library.search(query, SEARCH_RESULTS)
            if serial == self._search_serial and shiboken6.isValid(self):
                self.search_panel.show_hits(query, hits)

        return self._run(run(), "library-search")

    def open_hit(self, hit: SearchHit) -> None:
        self._open_source(hit.provenance.path, hit.provenance.page)

    # ------------------------------------------------------------------ tasks
    def _run(self, action: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        return spawn_guarded(self._tasks, self._banner, action, name)
