"""The chat history beside the chat: search, open, rename, delete (with undo), export."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hybridmcp_app.orchestration.conversation_export import conversation_to_markdown
from hybridmcp_app.orchestration.history_store import HistoryStore
from hybridmcp_app.ui.widgets.qt_banner import QtBanner


class QtHistorySidebar(QWidget):
    """Wraps a ``HistoryStore``; ``open_requested`` carries a conversation id."""

    open_requested = Signal(str)
    new_requested = Signal()

    def __init__(self, history: HistoryStore, banner: QtBanner, parent: QWidget | None = None):
        super().__init__(parent)
        self._history = history
        self._banner = banner
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search conversations…")
        self.search.setClearButtonEnabled(True)
        self.list = QListWidget(self)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        new = QPushButton("New", self)
        new.setToolTip("Start an empty conversation")
        self.rename_button = QPushButton("Rename", self)
        self.rename_button.setToolTip("Rename the selected conversation (F2)")
        self.delete_button = QPushButton("Delete", self)
        self.delete_button.setToolTip("Delete the selected conversation (Del); Undo brings it back")
        self.export_button = QPushButton("Export…", self)
        self.export_button.setToolTip("Save the conversation as Markdown, with its metrics")
        buttons = QHBoxLayout()
        for button in (new, self.rename_button, self.delete_button, self.export_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        self.search.textChanged.connect(lambda _: self.refresh())
        self.list.itemActivated.connect(self._activated)
        self.list.itemClicked.connect(self._activated)
        new.clicked.connect(self.new_requested.emit)
        self.rename_button.clicked.connect(self.rename_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        self.export_button.clicked.connect(self.export_selected)
        for keys, slot, what in (
            ("F2", self.rename_selected, "Rename the conversation"),
            ("Del", self.delete_selected, "Delete the conversation"),
        ):
            shortcut = QShortcut(QKeySequence(keys), self.list, slot)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.setWhatsThis(what + " (in the history list)")
        self.refresh()

    def refresh(self) -> None:
        selected = self.selected_id()
        self.list.clear()
        for summary in self._history.list(self.search.text()):
            when = datetime.fromtimestamp(summary.updated).strftime("%d %b %H:%M")
            title = " ".join(summary.title.split())
            item = QListWidgetItem(f"{title}\n{when} · {summary.turns} turn(s)")
            item.setToolTip(title)
            item.setData(Qt.ItemDataRole.UserRole, summary.id)
            self.list.addItem(item)
            if summary.id == selected:
                self.list.setCurrentItem(item)

    def selected_id(self) -> str | None:
        item = self.list.currentItem()
        return None if item is None else str(item.data(Qt.ItemDataRole.UserRole))

    def _activated(self, item: QListWidgetItem) -> None:
        self.open_requested.emit(str(item.data(Qt.ItemDataRole.UserRole)))

    def rename_selected(self) -> None:
        conversation_id = self.selected_id()
        record = self._history.get(conversation_id) if conversation_id else None
        if record is None:
            return
        title, ok = QInputDialog.getText(self, "Rename conversation", "Title:", text=record.title)
        if ok and title.strip():
            self._history.rename(record.id, title)
            self.refresh()

    def delete_selected(self) -> None:
        conversation_id = self.selected_id()
        record = self._history.get(conversation_id) if conversation_id else None
        if record is None:
            return
        self._history.delete(record.id)
        self.refresh()

        def undo() -> None:
            self._history.undo_delete(record.id)
            self._banner.dismiss()
            self.refresh()

        self._banner.show_message(
            f"Deleted “{record.title}”.", "info", action_text="Undo", action=undo
        )

    def export_selected(self) -> Path | None:
        conversation_id = self.selected_id()
        record = self._history.get(conversation_id) if conversation_id else None
        if record is None:
            return None
        suggested = "".join(c if c.isalnum() or c in " -_" else "_" for c in record.title)[:60]
        path, _ = QFileDialog.getSaveFileName(
            self, "Export conversation", f"{suggested.strip() or 'conversation'}.md",
            "Markdown (*.md)",
        )  # fmt: skip
        if not path:
            return None
        target = Path(path)
        try:
            target.write_text(conversation_to_markdown(record), encoding="utf-8")
        except OSError as error:
            self._banner.show_message(f"Export failed: {error.strerror}", "error")
            return None
        self._banner.show_message(f"Exported to {target}", "info")
        return target
