"""The first-run wizard's pages: local model, provider, folders to index, MCP servers, summary."""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path

from pydantic import ValidationError
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
    QWizardPage,
)

from hybridmcp_app.core.errors import describe_validation_error
from hybridmcp_app.llm.embedded_models import DEFAULT_EMBEDDED
from hybridmcp_app.mcp_host.builtin_servers import BUILTIN_SERVERS
from hybridmcp_app.ui.settings.qt_model_picker import QtModelPicker
from hybridmcp_app.ui.settings.qt_providers_page import QtProvidersPage

# What a fresh install loads when no file is chosen: the tiny chat model installed with the app.
EMBEDDED_CHOICE = f"{DEFAULT_EMBEDDED.label}, installed with the app"
WORKSPACE = "workspace"  # the one server that needs a folder chosen before it starts


def _note(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText)
    return label


class QtWelcomePage(QWizardPage):
    """What the wizard will ask, and that every answer can be changed later."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle("Welcome to HybridMCP")
        layout = QVBoxLayout(self)
        layout.addWidget(
            _note(
                "A few questions to set things up: which <b>local model</b> answers on this "
                "machine, an optional <b>provider</b> (OpenAI, OpenRouter, a server of your own…) "
                "for the local model to boost, <b>folders</b> to index for offline search, and "
                "which <b>MCP servers</b> give both models tools.<br><br>"
                "Everything works without a provider. Every answer can be changed later in "
                "Settings (Ctrl+,), and this setup can be run again from the Help menu. "
                "<b>Skip setup</b> keeps the defaults.",
                self,
            )
        )
        layout.addStretch(1)


class QtModelChoicePage(QWizardPage):
    """The embedded tiny chat model, a GGUF found on disk, or one chosen by hand."""

    def __init__(self, model_path: Path | None, picker: QtModelPicker, path: QLineEdit) -> None:
        super().__init__()
        self.setTitle("Local model")
        self.setSubTitle(
            "The local model answers on this machine, offline, and does the boosting work."
        )
        self.path, self.picker = path, picker
        path.setReadOnly(True)
        path.setPlaceholderText(EMBEDDED_CHOICE)
        path.setText(str(model_path) if model_path else "")
        picker.setParent(self)
        picker.table.itemSelectionChanged.connect(self._use_selected)
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        row.addWidget(QLabel("Model:", self))
        row.addWidget(path, 1)
        layout.addLayout(row)
        layout.addWidget(picker)
        layout.addStretch(1)
        self._scanned = False

    def initializePage(self) -> None:
        if not self._scanned:  # look for models once, when the page is first shown
            self._scanned = True
            self.picker.start_scan()

    def _use_selected(self) -> None:
        rows = self.picker.table.selectionModel().selectedRows()
        if rows:
            self.picker.use_row(rows[0].row())

    def model_path(self) -> Path | None:
        text = self.path.text().strip()
        return Path(text) if text else None


class QtProviderChoicePage(QWizardPage):
    """The providers editor (preset, key into the keychain, test), optional."""

    def __init__(self, providers: QtProvidersPage) -> None:
        super().__init__()
        self.setTitle("Provider (optional)")
        self.setSubTitle(
            "Pick a preset and press Add, paste the key (it goes to the system keychain, never "
            "to a file), then Test connection. Leave it empty to use the local model alone."
        )
        self.providers = providers
        providers.setParent(self)
        self.problem = _note("", self)
        self.problem.setProperty("role", "form-errors")
        self.problem.hide()
        layout = QVBoxLayout(self)
        layout.addWidget(providers, 1)
        layout.addWidget(self.problem)

    def validatePage(self) -> bool:
        try:
            self.providers.value()
        except ValidationError as error:
            self.problem.setText("Please fix: " + "; ".join(describe_validation_error(error)))
            self.problem.show()
            return False
        self.problem.hide()
        return True


class QtFoldersChoicePage(QWizardPage):
    """Folders to index now and follow for changes."""

    def __init__(self, already: tuple[Path, ...], home: Path) -> None:
        super().__init__()
        self.setTitle("Documents to index (optional)")
        self.setSubTitle(
            "Folders are indexed on this machine and followed: new and changed files are "
            "indexed as they appear. You can also drop files on the Library tab at any time."
        )
        self._home = home
        self._already = set(already)
        self.list = QListWidget(self)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        for folder in already:
            item = QListWidgetItem(f"{folder}  (already watched)")
            item.setData(Qt.ItemDataRole.UserRole, str(folder))
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsSelectable)
            self.list.addItem(item)
        add = QPushButton("Add folder…", self)
        self.remove_button = QPushButton("Remove", self)
        add.clicked.connect(self.choose_folder)
        self.remove_button.clicked.connect(self.remove_selected)
        buttons = QHBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)

    def choose_folder(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Folder to index", str(self._home))
        if chosen:
            self.add_folder(Path(chosen))

    def add_folder(self, folder: Path) -> None:
        if folder in self._already or folder in self.folders():
            return
        item = QListWidgetItem(str(folder))
        item.setData(Qt.ItemDataRole.UserRole, str(folder))
        self.list.addItem(item)

    def remove_selected(self) -> None:
        for item in self.list.selectedItems():
            self.list.takeItem(self.list.row(item))

    def folders(self) -> tuple[Path, ...]:
        """The folders added on this page (not those watched before)."""
        paths = (
            Path(self.list.item(row).data(Qt.ItemDataRole.UserRole))
            for row in range(self.list.count())
        )
        return tuple(path for path in paths if path not in self._already)


class QtServersChoicePage(QWizardPage):
    """A switch per MCP server listed in ``mcp.json``; switching the workspace server on with no
    folder for it asks for one (``workspace_roots``)."""

    def __init__(
        self,
        servers: Mapping[str, bool],
        problem: str | None = None,
        *,
        workspace_roots: tuple[Path, ...] = (),
        home: Path | None = None,
    ) -> None:
        super().__init__()
        self._known_roots = workspace_roots
        self.workspace_roots: tuple[Path, ...] = ()  # chosen on this page
        self._home = home or Path.home()
        self.setTitle("MCP servers")
        self.setSubTitle(
            "Servers give both models tools. Switched-on servers start with the app; the MCP "
            "Servers tab switches them later, and imports servers from Claude Desktop, Cursor "
            "or VS Code."
        )
        self.list = QListWidget(self)
        for name, enabled in servers.items():
            builtin = BUILTIN_SERVERS.get(name)
            summary = builtin.summary if builtin is not None else None
            item = QListWidgetItem(f"{name} — {summary}" if summary else name)
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if enabled else Qt.CheckState.Unchecked)
            self.list.addItem(item)
        self.note = _note("", self)
        self.note.hide()
        layout = QVBoxLayout(self)
        if problem:
            layout.addWidget(_note(f"mcp.json could not be read: {problem}", self))
        layout.addWidget(self.list, 1)
        layout.addWidget(self.note)
        self.list.itemChanged.connect(self._switched)

    def _switched(self, item: QListWidgetItem) -> None:
        on = item.checkState() == Qt.CheckState.Checked
        if item.data(Qt.ItemDataRole.UserRole) != WORKSPACE or not on:
            return
        if self._known_roots or self.workspace_roots:
            return
        chosen = QFileDialog.getExistingDirectory(
            self, "Folder the workspace server may read and change", str(self._home)
        )
        if chosen:
            self.workspace_roots = (Path(chosen),)
            self.note.setText(f"The workspace server will work in {html.escape(chosen)}.")
        else:
            item.setCheckState(Qt.CheckState.Unchecked)
            self.note.setText(
                "The workspace server stays off: it works in a folder you choose, and none "
                "was chosen. Switch it on again to choose one."
            )
        self.note.show()

    def switches(self) -> dict[str, bool]:
        items = (self.list.item(row) for row in range(self.list.count()))
        return {
            item.data(Qt.ItemDataRole.UserRole): item.checkState() == Qt.CheckState.Checked
            for item in items
        }


class QtSummaryPage(QWizardPage):
    """What Finish will do; the wizard fills it in when it is shown."""

    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Ready")
        self.summary = _note("", self)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.problem = _note("", self)
        self.problem.setProperty("role", "form-errors")
        self.problem.hide()
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addStretch(1)
        layout.addWidget(self.problem)
