"""The bottom of the Library tab: watched folders, the selected document's details, and backup
and restore of the whole library (a restore can be undone from the banner)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hybridmcp_app.core.background_tasks import BackgroundTasks
from hybridmcp_app.ui.library.qt_document_details import QtDocumentDetails
from hybridmcp_app.ui.library.qt_watched_folders import QtWatchedFolders
from hybridmcp_app.ui.widgets.qt_banner import QtBanner
from hybridmcp_app.ui.widgets.qt_guarded_task import spawn_guarded

if TYPE_CHECKING:
    from hybridmcp_app.documents.document_analysis import Completer
    from hybridmcp_app.documents.folder_watcher import FolderWatcher
    from hybridmcp_app.documents.library_service import LibraryService

BACKUP_SUFFIX = ".hmlib.zip"  # as documents.library_backup (not imported: it brings numpy)


class QtLibraryExtras(QWidget):
    """``changed`` is called after anything here changed the library (the view reloads)."""

    def __init__(
        self,
        tasks: BackgroundTasks,
        banner: QtBanner,
        local_model: Callable[[], Completer | None],
        changed: Callable[[], object],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._tasks, self._banner, self._changed = tasks, banner, changed
        self.library: LibraryService | None = None
        self.watched = QtWatchedFolders(tasks, banner, self)
        self.details = QtDocumentDetails(tasks, local_model, self)
        self.backup_button = QPushButton("Back up…", self)
        self.backup_button.setToolTip("Save the whole library (chunks and embeddings) to one file")
        self.restore_button = QPushButton("Restore…", self)
        self.restore_button.setToolTip("Replace the library by a backup; it can be undone")
        storage = QVBoxLayout()
        storage.addWidget(self.backup_button)
        storage.addWidget(self.restore_button)
        storage.addStretch(1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.watched, 3)
        layout.addWidget(self.details, 3)
        layout.addLayout(storage)
        self.backup_button.clicked.connect(self.choose_backup)
        self.restore_button.clicked.connect(self.choose_restore)
        self.set_library(None, None)

    def set_library(self, library: LibraryService | None, watcher: FolderWatcher | None) -> None:
        self.library = library
        self.backup_button.setEnabled(library is not None)
        self.restore_button.setEnabled(library is not None)
        self.watched.set_watcher(watcher)
        if watcher is not None:
            redraw = watcher.on_change

            def on_change() -> None:
                if redraw is not None:
                    redraw()
                if not any(folder.syncing for folder in watcher.folders()):
                    self._changed()  # a sync finished: the files table reloads

            watcher.on_change = on_change

    # ------------------------------------------------------------------ backup and restore
    def choose_backup(self) -> asyncio.Task[Any] | None:
        name = f"library-{time.strftime('%Y%m%d-%H%M')}{BACKUP_SUFFIX}"
        chosen, _ = QFileDialog.getSaveFileName(
            self,
            "Back up the library",
            str(Path.home() / name),
            f"Library backup (*{BACKUP_SUFFIX})",
        )
        return self.backup(Path(chosen)) if chosen else None

    def backup(self, destination: Path) -> asyncio.Task[Any] | None:
        library = self.library
        if library is None:
            return None

        async def back_up() -> None:
            summary = await library.backup(destination)
            self._banner.show_message(
                f"Backed up {summary.files:,} file(s), {summary.chunks:,} chunk(s) to {destination}"
            )

        return self._run(back_up(), "library-backup")

    def choose_restore(self) -> asyncio.Task[Any] | None:
        chosen, _ = QFileDialog.getOpenFileName(
            self, "Restore the library", str(Path.home()), f"Library backup (*{BACKUP_SUFFIX})"
        )
        if not chosen:
            return None
        answer = QMessageBox.question(
            self,
            "Restore the library",
            f"Replace the whole library by {Path(chosen).name}?\n\n"
            "The library as it is now is saved first, and Undo in the message bar puts it back.",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return None
        return self.restore(Path(chosen))

    def restore(self, source: Path, *, undoing: bool = False) -> asyncio.Task[Any] | None:
        library = self.library
        if library is None:
            return None

        async def restore() -> None:
            before = set(library.backups_dir.glob(f"before-restore-*{BACKUP_SUFFIX}"))
            summary = await library.restore(source)
            self._changed()
            saved = sorted(set(library.backups_dir.glob(f"*{BACKUP_SUFFIX}")) - before)
            text = f"Restored {summary.files:,} file(s), {summary.chunks:,} chunk(s)"
            if undoing or not saved:
                self._banner.show_message(f"{text} from {source.name}")
                return

            def undo() -> None:
                self.restore(saved[-1], undoing=True)

            self._banner.show_message(
                f"{text} from {source.name}; the library before is in {saved[-1]}",
                action_text="Undo",
                action=undo,
            )

        return self._run(restore(), "library-restore")

    def _run(self, action: Awaitable[Any], name: str) -> asyncio.Task[Any]:
        return spawn_guarded(self._tasks, self._banner, action, name)
