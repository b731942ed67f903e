"""The two panes of the model catalogue: the repos (curated, or hub search hits) and one repo's
GGUF files, read live from the hub."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hybridmcp_app.llm.model_hub.catalog import MarkedEntry, RamFit
from hybridmcp_app.llm.model_hub.hub_client import HubFile, HubRepo, RepoFiles, ordered_files

REPO_COLUMNS = ("Model", "Family", "Parameters", "Licence", "Context", "RAM needed",
                "Chat", "Tools", "Vision")  # fmt: skip
FILE_COLUMNS = ("File", "Quantisation", "Size", "")
FIT_COLOURS = {RamFit.FITS: "#2e7d32", RamFit.TIGHT: "#b26a00", RamFit.TOO_BIG: "#c62828"}


def _set_up(table: QTableWidget, columns: tuple[str, ...]) -> QTableWidget:
    """Read-only, one whole row selected at a time, the first column taking the room left."""
    table.setColumnCount(len(columns))
    table.setHorizontalHeaderLabels(columns)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().hide()
    table.setWordWrap(False)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    return table


def _size(count: int) -> str:
    return f"{count / 1e6:,.1f} MB" if count >= 1e6 else f"{count / 1e3:,.0f} KB"


def _flag(value: bool) -> str:
    return "yes" if value else ""


_Row = tuple[str, list[str], list[str], str | None]


class QtRepoTable(QTableWidget):
    """The curated catalogue, marked against this computer's RAM, or the hub's search hits;
    ``repo_selected(repo_id, preferred quantisations)`` when a row is picked."""

    repo_selected = Signal(str, list)

    def __init__(self, catalog: list[MarkedEntry], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        _set_up(self, REPO_COLUMNS)
        self.catalog = catalog
        self.repos: list[tuple[str, list[str]]] = []
        self.itemSelectionChanged.connect(self._selected)
        self.show_catalog()

    def _fill(self, rows: list[_Row]) -> None:
        """Rows of (repo id, preferred quantisations, cells, colour of the RAM cell)."""
        self.clearSelection()
        self.setRowCount(len(rows))
        self.repos = [(repo_id, quants) for repo_id, quants, _, _ in rows]
        for row, (repo_id, _, cells, colour) in enumerate(rows):
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(repo_id)
                if column == 5 and colour:
                    item.setForeground(QBrush(QColor(colour)))
                self.setItem(row, column, item)

    def show_catalog(self) -> None:
        rows: list[_Row] = []
        for marked in self.catalog:
            e = marked.entry
            cells = [e.name, e.family, f"{e.parameters_b:g} B", e.license, f"{e.context:,}",
                     f"{e.ram_gb:g} GB · {marked.fit}", _flag(e.chat), _flag(e.tools),
                     _flag(e.vision)]  # fmt: skip
            rows.append((e.repo_id, e.quantizations, cells, FIT_COLOURS[marked.fit]))
        self._fill(rows)

    def show_hub_results(self, hits: list[HubRepo]) -> None:
        rows: list[_Row] = []
        for hit in hits:
            family = "Hugging Face" + (" (gated)" if hit.gated else "")
            cells = [hit.repo_id, family, "", "", "", "", "", "", ""]
            rows.append((hit.repo_id, [], cells, None))
        self._fill(rows)

    def row_texts(self) -> list[list[str]]:
        columns = range(self.columnCount())
        return [[item.text() if (item := self.item(row, column)) else "" for column in columns]
                for row in range(self.rowCount())]  # fmt: skip

    def filter_rows(self, words: str) -> None:
        wanted = words.strip().lower()
        for row, cells in enumerate(self.row_texts()):
            text = " ".join([*cells, self.repos[row][0]]).lower()
            self.setRowHidden(row, bool(wanted) and wanted not in text)

    def _selected(self) -> None:
        rows = {index.row() for index in self.selectedIndexes()}
        if len(rows) == 1 and (row := rows.pop()) < len(self.repos):
            self.repo_selected.emit(*self.repos[row])


class QtRepoFiles(QWidget):
    """One repo's GGUF files (preferred quantisations first) with a busy and an error state;
    ``download_requested(file)`` from the button or a double-click."""

    download_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel("Pick a model on the left to see its files.", self)
        self.title.setWordWrap(True)
        self.busy = QProgressBar(self)
        self.busy.setRange(0, 0)  # turning: a hub call is running
        self.busy.setMaximumHeight(10)
        self.busy.setTextVisible(False)
        self.busy.hide()
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.table = _set_up(QTableWidget(self), FILE_COLUMNS)
        self.download_button = QPushButton("Download", self)
        self.download_button.setAutoDefault(False)
        self.download_button.setEnabled(False)
        self.download_button.setToolTip("Download the selected file (Enter)")
        self.files: list[HubFile] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.title, self.busy, self.status):
            layout.addWidget(widget)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.download_button, 0, Qt.AlignmentFlag.AlignRight)
        self.table.itemSelectionChanged.connect(
            lambda: self.download_button.setEnabled(self.selected_file() is not None)
        )
        self.table.cellDoubleClicked.connect(lambda row, _: self._request(row))
        self.download_button.clicked.connect(lambda: self._request(self.table.currentRow()))

    def _request(self, row: int) -> None:
        if 0 <= row < len(self.files):
            self.download_requested.emit(self.files[row])

    def selected_file(self) -> HubFile | None:
        rows = {index.row() for index in self.table.selectedIndexes()}
        return self.files[rows.pop()] if len(rows) == 1 else None

    def _set_files(self, files: list[HubFile], preferred: set[str]) -> None:
        self.files = files
        self.table.setRowCount(len(files))
        for row, file in enumerate(files):
            mark = "recommended" if file.quantization in preferred else ""
            cells = [file.filename, file.quantization or "?", _size(file.size), mark]
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))
        if files:
            self.table.selectRow(0)
        self.download_button.setEnabled(bool(files))

    def reset(self, text: str) -> None:
        """No repo picked: no files, ``text`` as the title."""
        self.title.setText(text)
        self._set_files([], set())
        self.show_status("")

    def show_busy(self, text: str, repo_id: str | None = None) -> None:
        if repo_id is not None:
            self.title.setText(f"<b>{repo_id}</b>")
            self._set_files([], set())
        self.busy.show()
        self.status.setProperty("role", "")
        self.status.setText(text)

    def show_status(self, text: str) -> None:
        self.busy.hide()
        self.status.setProperty("role", "")
        self.status.style().polish(self.status)
        self.status.setText(text)

    def show_error(self, text: str) -> None:
        self.busy.hide()
        self.status.setProperty("role", "form-errors")
        self.status.style().polish(self.status)
        self.status.setText(text)

    def show_files(self, found: RepoFiles, quantizations: list[str]) -> None:
        files = ordered_files(found.files, quantizations)
        self._set_files(files, {q.upper() for q in quantizations})
        gated = " · gated: a Hugging Face token with access is needed" if found.gated else ""
        self.show_status(f"{len(files)} GGUF file(s) at commit {found.commit[:8]}{gated}"
                         if files else f"{found.repo_id} has no GGUF model file.")  # fmt: skip
