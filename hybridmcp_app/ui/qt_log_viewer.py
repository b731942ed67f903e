"""The log panel: live records from the ``LogBuffer``, filtered by level and text."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QFontDatabase
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hybridmcp_app.config.logging_setup import LogBuffer, LogEntry

_LEVELS = {"Debug": logging.DEBUG, "Info": logging.INFO, "Warning": logging.WARNING,
           "Error": logging.ERROR}  # fmt: skip
MAX_LINES = 5000


class _EntryBridge(QObject):
    """Carries entries from whichever thread logged onto the GUI thread (queued signal)."""

    arrived = Signal(object)


class QtLogViewer(QWidget):
    """Wraps a ``LogBuffer``: shows its history, then appends new entries as they come."""

    def __init__(self, buffer: LogBuffer, log_dir_url: QUrl, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._buffer = buffer
        self._log_dir_url = log_dir_url
        self.level = QComboBox(self)
        self.level.addItems(list(_LEVELS))
        self.level.setCurrentText("Info")
        self.level.setToolTip("Show records of this level and above")
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText("Filter…")
        self.filter.setClearButtonEnabled(True)
        clear = QPushButton("Clear", self)
        clear.setToolTip("Clear the panel (the log file keeps everything)")
        open_folder = QPushButton("Open log folder", self)
        self.text = QPlainTextEdit(self)
        self.text.setReadOnly(True)
        self.text.setMaximumBlockCount(MAX_LINES)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))

        bar = QHBoxLayout()
        bar.addWidget(self.level)
        bar.addWidget(self.filter, 1)
        bar.addWidget(clear)
        bar.addWidget(open_folder)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.text)

        self._bridge = _EntryBridge(self)
        self._bridge.arrived.connect(self._append)
        unsubscribe = buffer.subscribe(self._bridge.arrived.emit)
        self._unsubscribe = unsubscribe
        self.destroyed.connect(lambda *_: unsubscribe())
        self.level.currentTextChanged.connect(self.refresh)
        self.filter.textChanged.connect(self.refresh)
        clear.clicked.connect(self._clear)
        open_folder.clicked.connect(lambda: QDesktopServices.openUrl(self._log_dir_url))
        self.refresh()

    def detach(self) -> None:
        """Stop listening to the buffer (called when the window closes)."""
        self._unsubscribe()

    def _accepts(self, entry: LogEntry) -> bool:
        needle = self.filter.text().strip().lower()
        return entry.level >= _LEVELS[self.level.currentText()] and needle in entry.text.lower()

    def refresh(self) -> None:
        lines = [entry.text for entry in self._buffer.entries() if self._accepts(entry)]
        self.text.setPlainText("\n".join(lines[-MAX_LINES:]))
        self.text.verticalScrollBar().setValue(self.text.verticalScrollBar().maximum())

    def _append(self, entry: LogEntry) -> None:
        if self._accepts(entry):
            self.text.appendPlainText(entry.text)

    def _clear(self) -> None:
        self._buffer.clear()
        self.text.clear()
