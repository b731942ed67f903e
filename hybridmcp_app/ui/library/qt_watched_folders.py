"""The Library tab's watched folders: what the library follows on disk, and when it last synced."""

from __future__ import annotations

import asyncio
import html
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hybridmcp_app.core.background_tasks import BackgroundTasks
from hybridmcp_app.ui.widgets.qt_banner import QtBanner
from hybridmcp_app.ui.widgets.qt_guarded_task import spawn_guarded

if TYPE_CHECKING:
    from hybridmcp_app.documents.folder_watcher import FolderWatcher, WatchedFolder


def ago(moment: float | None, now: float | None = None) -> str:
    """``just now``, ``5 min ago``, ``3 h ago``, or the date."""
    if moment is None:
        return "not yet"
    seconds = max(0.0, (now or time.time()) - moment)
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(moment))


def describe(folder: WatchedFolder) -> str:
    if folder.problem:
        state = f"⚠ {folder.problem}"
    elif folder.syncing:
        state = "syncing…"
    else:
        state = f"{folder.documents} document(s), synced {ago(folder.last_indexed_at)}"
    return f"{folder.path}\n    {state}"


class QtWatchedFolders(QWidget):
    """Add a folder to follow, stop following one, or sync one now."""

    def __init__(
        self, tasks: BackgroundTasks, banner: QtBanner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._tasks, self._banner = tasks, banner
        self.watcher: FolderWatcher | None = None
        title = QLabel("<b>Watched folders</b> — changes on disk are indexed by themselves", self)
        self.list = QListWidget(self)
        self.list.setMaximumHeight(120)
        self.list.setToolTip("Folders the library follows: new, changed and deleted files")
        self.add_button = QPushButton("Watch a folder…", self)
        self.sync_button = QPushButton("Sync now", self)
        self.add_button.setToolTip("Index a folder now and follow its changes from then on")
        self.sync_button.setToolTip("Rescan the selected folder now; only what changed is indexed")
        self.remove_button = QPushButton("Stop watching", self)
        self.remove_button.setToolTip("The folder's documents stay in the library")
        buttons = QHBoxLayout()
        for button in (self.add_button, self.sync_button, self.remove_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(title)
        layout.addWidget(self.list)
        layout.addLayout(buttons)
        self.add_button.clicked.connect(self.choose_folder)
        self.sync_button.clicked.connect(self.sync_selected)
        self.remove_button.clicked.connect(self.unwatch_selected)
        self.list.currentRowChanged.connect(lambda _row: self._enable())
        self.redraw()

    def set_watcher(self, watcher: FolderWatcher | None) -> None:
        self.watcher = watcher
        if watcher is not None:
            # The watcher outlives the window at shutdown: redraw only while the widget exists.
            watcher.on_change = lambda: self.redraw() if shiboken6.isValid(self) else None
        self.redraw()

    def redraw(self) -> None:
        selected = self.selected()
        self.list.clear()
        folders = self.watcher.folders() if self.watcher is not None else []
        for folder in folders:
            item = QListWidgetItem(describe(folder))
            item.setData(Qt.ItemDataRole.UserRole, str(folder.path))
            item.setToolTip(html.escape(folder.problem) if folder.problem else str(folder.path))
            self.list.addItem(item)
            if folder.path == selected:
                self.list.setCurrentItem(item)
        if not folders:
            hint = QListWidgetItem("No watched folder: “Watch a folder…” keeps one in sync")
            hint.setFlags(Qt.ItemFlag.NoItemFlags)
            self.list.addItem(hint)
        self._enable()

    def _enable(self) -> None:
        ready = self.watcher is not None
        self.add_button.setEnabled(ready)
        self.sync_button.setEnabled(ready and self.selected() is not None)
        self.remove_button.setEnabled(ready and self.selected() is not None)

    def selected(self) -> Path | None:
        item = self.list.currentItem()
        value = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        return Path(value) if value else None

    # ------------------------------------------------------------------ commands
    def choose_folder(self) -> asyncio.Task[Any] | None:
        folder = QFileDialog.getExistingDirectory(self, "Watch a folder")
        return self.watch(Path(folder)) if folder else None

    def watch(self, folder: Path) -> asyncio.Task[Any] | None:
        if self.watcher is None:
            return None
        return self._run(self.watcher.watch(folder), "watch-folder")

    def sync_selected(self) -> asyncio.Task[Any] | None:
        folder = self.selected()
        if self.watcher is None or folder is None:
            return None
        return self._run(self.watcher.sync(folder), "sync-folder")

    def unwatch_selected(self) -> asyncio.Task[Any] | None:
        folder = self.selected()
        if self.watcher is None or folder is None:
            return None
        return self._run(self.watcher.unwatch(folder), "unwatch-folder")

    def _run(self, action: Awaitable[Any], name: str) -> asyncio.Task[Any]:
        return spawn_guarded(self._tasks, self._banner, action, name, after=self.redraw)
