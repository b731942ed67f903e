"""The Library tab's files table: every file with its state, chunks, reason and when it was
indexed, filterable by text and by state.

Live updates arrive one ``FileStatus`` at a time while a run goes on; they are gathered and
applied every ``FLUSH_MS`` (a changed row, or a block of new rows at the end), so a fast run
costs a few redraws a second instead of one per file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import (
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QStackedWidget,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from hybridmcp_app.documents.document_models import FileStatus
from hybridmcp_app.ui.library.qt_library_files_model import (
    CHUNKS,
    FOLDER,
    INDEXED,
    NAME,
    PATH_ROLE,
    REASON,
    STATE,
    STATE_FILTERS,
    LibraryFilesFilter,
    LibraryFilesModel,
)

FLUSH_MS = 100
EMPTY_TEXT = (
    "Drop files or folders here, or use Add files… / Add folder…, to index them on this "
    "machine. PDF, EPUB, DOCX, HTML, Markdown, text and code are read; the files stay where "
    "they are."
)


class QtMiddleElided(QStyledItemDelegate):
    """Folders lose their middle, not their last part, when the column is narrow."""

    def initStyleOption(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        super().initStyleOption(option, index)
        option.textElideMode = Qt.TextElideMode.ElideMiddle


class QtLibraryFiles(QWidget):
    """The filter line, the state filter, and the table (or what to do while it is empty).
    ``shown`` says the rows changed (the model's counts with them)."""

    shown = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = LibraryFilesModel(self)
        self.proxy = LibraryFilesFilter(self)
        self.proxy.setSourceModel(self.model)
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText("Filter files by name, folder or reason")
        self.filter.setClearButtonEnabled(True)
        self.state_filter = QComboBox(self)
        for label, states in STATE_FILTERS:
            self.state_filter.addItem(label, states)
        self.table = QTableView(self)
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(NAME, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.setItemDelegateForColumn(FOLDER, QtMiddleElided(self.table))
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(24)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)  # the folder
        for column, width in ((NAME, 170), (STATE, 66), (CHUNKS, 52), (REASON, 170),
                              (INDEXED, 100)):  # fmt: skip
            self.table.setColumnWidth(column, width)
        self.empty = QLabel(EMPTY_TEXT, self)
        self.empty.setProperty("role", "empty-body")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setMargin(24)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.table)

        filters = QHBoxLayout()
        filters.addWidget(self.filter, 1)
        filters.addWidget(self.state_filter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(filters)
        layout.addWidget(self.stack, 1)

        self._waiting: dict[Path, FileStatus] = {}  # changes not shown yet
        self._live: dict[Path, FileStatus] = {}  # changes reported since the last reload
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(FLUSH_MS)
        self._flush_timer.timeout.connect(self.flush)
        self.filter.textChanged.connect(self._refilter)
        self.state_filter.currentIndexChanged.connect(self._refilter)

    def _refilter(self) -> None:
        self.proxy.set_filter(self.filter.text(), self.state_filter.currentData())

    def show_state(self, label: str) -> None:
        """Filter by one of ``STATE_FILTERS``' labels."""
        self.state_filter.setCurrentIndex(self.state_filter.findText(label))

    def reload(self, statuses: Sequence[FileStatus], *, keep_live: bool = False) -> None:
        """Show exactly these files (after a run, a removal, or when the library opens).

        ``keep_live``: during a run, the changes it reported stay on top of ``statuses`` (read
        while the run went on, they may be older)."""
        live = self._live if keep_live else {}
        self._waiting.clear()
        self._flush_timer.stop()
        selected = set(self.selected_paths())
        self.model.reset(statuses)
        self.model.update(live.values())
        self._live = live
        self._show_table_or_help()
        self._select(selected)
        self.shown.emit()

    def changed(self, status: FileStatus) -> None:
        """A file's state moved: shown within ``FLUSH_MS``."""
        self._waiting[status.path] = status
        self._live[status.path] = status
        if not self._flush_timer.isActive():
            self._flush_timer.start()

    def flush(self) -> None:
        waiting, self._waiting = self._waiting, {}
        self._flush_timer.stop()
        if waiting:
            self.model.update(waiting.values())
            self._show_table_or_help()
            self.shown.emit()

    def _show_table_or_help(self) -> None:
        self.stack.setCurrentWidget(self.table if self.model.rows else self.empty)

    def selected_paths(self) -> list[Path]:
        rows = self.table.selectionModel().selectedRows(NAME)
        return sorted({Path(str(index.data(PATH_ROLE))) for index in rows})

    def _select(self, paths: set[Path]) -> None:
        if not paths:
            return
        selection = self.table.selectionModel()
        flags = (QItemSelectionModel.SelectionFlag.Select
                 | QItemSelectionModel.SelectionFlag.Rows)  # fmt: skip
        for row in range(self.proxy.rowCount()):
            index = self.proxy.index(row, NAME)
            if Path(str(index.data(PATH_ROLE))) in paths:
                selection.select(index, flags)

    def visible_paths(self) -> list[Path]:
        """The files the filters let through, in the table's order."""
        return [
            Path(str(self.proxy.index(row, NAME).data(PATH_ROLE)))
            for row in range(self.proxy.rowCount())
        ]
