"""The Library tab's files as a Qt model: one row per ``FileStatus`` (name, state, chunks,
reason, when indexed, folder), and the filter by text and state in front of it.

``update`` changes rows in place or appends new ones, so a run's progress never resets the
table (selection and scroll position stay)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor

from hybridmcp_app.documents.document_models import FileState, FileStatus

COLUMNS = ("Name", "State", "Chunks", "Reason", "Indexed", "Folder")
NAME, STATE, CHUNKS, REASON, INDEXED, FOLDER = range(len(COLUMNS))
SORT_ROLE = Qt.ItemDataRole.UserRole
PATH_ROLE = Qt.ItemDataRole.UserRole + 1
PENDING_STATES = frozenset({FileState.QUEUED, FileState.PARSING, FileState.EMBEDDING})
# (label in the state filter, the states it shows; None: all)
STATE_FILTERS: tuple[tuple[str, frozenset[FileState] | None], ...] = (
    ("All states", None),
    ("Indexed", frozenset({FileState.INDEXED})),
    ("Pending", PENDING_STATES),
    ("Failed", frozenset({FileState.FAILED})),
    ("Skipped", frozenset({FileState.SKIPPED})),
)
STATE_COLOURS = {FileState.FAILED: "#cf222e", FileState.SKIPPED: "#8c959f",
                 FileState.INDEXED: "#2da44e"}  # fmt: skip
STATE_ORDER = {state: index for index, state in enumerate(FileState)}
# As the table says it: "embedding" is what the ledger calls a file on its way into the store.
STATE_LABELS = {state: state.value for state in FileState} | {FileState.EMBEDDING: "indexing"}


def short_folder(path: Path) -> str:
    """The folder, with the home folder written ``~``."""
    folder = path.parent
    try:
        return str(Path("~") / folder.relative_to(Path.home()))
    except ValueError:
        return str(folder)


def indexed_when(stamp: float | None) -> str:
    if stamp is None:
        return ""
    when = time.localtime(stamp)
    same_year = when.tm_year == time.localtime().tm_year
    return time.strftime("%d %b %H:%M" if same_year else "%d %b %Y", when)


class LibraryFilesModel(QAbstractTableModel):
    """The files in ledger order; ``update`` changes or appends rows without a reset."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rows: list[FileStatus] = []
        self._row_of: dict[Path, int] = {}
        self.states: Counter[FileState] = Counter()  # rows in each state, kept as rows change
        self.chunks = 0  # of the indexed rows

    def _count(self, status: FileStatus, sign: int) -> None:
        self.states[status.state] += sign
        if status.state is FileState.INDEXED:
            self.chunks += sign * status.chunks

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        horizontal = orientation is Qt.Orientation.Horizontal
        if horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        if not index.isValid():
            return None
        status, column = self.rows[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(status, column)
        if role == SORT_ROLE:
            return self._sort_key(status, column)
        if role == PATH_ROLE:
            return str(status.path)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column in (STATE, REASON) and status.reason:
                return f"{STATE_LABELS[status.state]}: {status.reason}"
            return str(status.path)
        if role == Qt.ItemDataRole.ForegroundRole and column == STATE:
            colour = STATE_COLOURS.get(status.state)
            return None if colour is None else QColor(colour)
        if role == Qt.ItemDataRole.TextAlignmentRole and column == CHUNKS:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @staticmethod
    def _text(status: FileStatus, column: int) -> str:
        if column == NAME:
            return status.path.name
        if column == FOLDER:
            return short_folder(status.path)
        if column == STATE:
            return STATE_LABELS[status.state]
        if column == CHUNKS:
            return str(status.chunks) if status.state is FileState.INDEXED else ""
        if column == REASON:
            return status.reason
        return indexed_when(status.indexed_at)

    @staticmethod
    def _sort_key(status: FileStatus, column: int) -> Any:
        if column == STATE:
            return STATE_ORDER[status.state]
        if column == CHUNKS:
            return status.chunks
        if column == INDEXED:
            return status.indexed_at or 0.0
        return LibraryFilesModel._text(status, column).casefold()

    def reset(self, statuses: Sequence[FileStatus]) -> None:
        self.beginResetModel()
        self.rows = list(statuses)
        self._row_of = {status.path: row for row, status in enumerate(self.rows)}
        self.states, self.chunks = Counter(), 0
        for status in self.rows:
            self._count(status, 1)
        self.endResetModel()

    def update(self, statuses: Iterable[FileStatus]) -> None:
        new: list[FileStatus] = []
        for status in statuses:
            row = self._row_of.get(status.path)
            if row is None:
                new.append(status)
                continue
            self._count(self.rows[row], -1)
            self._count(status, 1)
            self.rows[row] = status
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))
        if new:
            first = len(self.rows)
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            for offset, status in enumerate(new):
                self._row_of[status.path] = first + offset
                self._count(status, 1)
                self.rows.append(status)
            self.endInsertRows()

    def status(self, path: Path) -> FileStatus | None:
        row = self._row_of.get(path)
        return None if row is None else self.rows[row]


class LibraryFilesFilter(QSortFilterProxyModel):
    """Rows whose name, folder or reason holds the text, in the chosen states."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.text = ""
        self.states: frozenset[FileState] | None = None
        self.setSortRole(SORT_ROLE)

    def set_filter(self, text: str, states: frozenset[FileState] | None) -> None:
        if not hasattr(self, "beginFilterChange"):  # Qt < 6.10
            self.text, self.states = text.strip().casefold(), states
            self.invalidateRowsFilter()
            return
        self.beginFilterChange()  # Qt 6.10+ (invalidateRowsFilter is deprecated in 6.11)
        self.text, self.states = text.strip().casefold(), states
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(
        self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex
    ) -> bool:
        model = self.sourceModel()
        assert isinstance(model, LibraryFilesModel)
        status = model.rows[source_row]
        if self.states is not None and status.state not in self.states:
            return False
        if not self.text:
            return True
        return self.text in f"{status.path}\n{status.reason}".casefold()
