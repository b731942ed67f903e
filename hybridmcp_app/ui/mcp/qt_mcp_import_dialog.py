"""Import MCP servers from Claude Desktop, Cursor or VS Code, with a preview.

The user picks one of the config files found on this machine (or any file), sees each server
as new, changed or identical, ticks the ones to bring, and may move plain-text secrets into the
keychain on the way. Nothing is written until Import.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hybridmcp_app.config.mcp_config_store import McpConfigStore
from hybridmcp_app.config.mcp_import import (
    ImportPreview,
    apply_import,
    move_secrets_to_keychain,
    read_import,
)
from hybridmcp_app.config.mcp_import_sources import ImportSource, find_importable
from hybridmcp_app.config.secrets import SecretStore
from hybridmcp_app.core.errors import HybridMCPError

STATUS_TEXT = {"new": "new", "changed": "differs from yours (comes in renamed)",
               "identical": "already here"}  # fmt: skip


class QtMcpImportDialog(QDialog):
    """``imported`` holds ``{name in the file: name here}`` after a successful import."""

    def __init__(
        self,
        store: McpConfigStore,
        secrets: SecretStore,
        parent: QWidget | None = None,
        *,
        sources: list[ImportSource] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import MCP servers")
        self.resize(720, 420)
        self._store, self._secrets = store, secrets
        self.preview: ImportPreview | None = None
        self.imported: dict[str, str] = {}
        if sources is None:
            sources = find_importable(Path.home(), sys.platform, os.environ)
        self.source = QComboBox(self)
        for source in sources:
            self.source.addItem(source.label, source)
        browse = QPushButton("Other file…", self)
        self.table = QTableWidget(0, 3, self)
        self.table.setHorizontalHeaderLabels(["Server", "Here", "Runs"])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().hide()
        self.notes = QLabel(self)
        self.notes.setWordWrap(True)
        self.move_secrets = QCheckBox("Move plain-text secrets into the keychain", self)
        self.move_secrets.setChecked(secrets.available)
        self.move_secrets.setEnabled(secrets.available)
        self.buttons = QDialogButtonBox(self)
        self.import_button = self.buttons.addButton(
            "Import", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        top = QHBoxLayout()
        top.addWidget(QLabel("From:", self))
        top.addWidget(self.source, 1)
        top.addWidget(browse)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.notes)
        layout.addWidget(self.move_secrets)
        layout.addWidget(self.buttons)
        self.source.currentIndexChanged.connect(lambda _: self.show_preview())
        browse.clicked.connect(self._browse)
        if not sources:
            self.notes.setText("No Claude Desktop, Cursor or VS Code MCP config was found on this "
                               "machine. Choose a file with “Other file…”.")  # fmt: skip
        self.show_preview()

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "MCP config to import", str(Path.home()),
                                              "JSON (*.json);;All files (*)")  # fmt: skip
        if path:
            self.add_source(ImportSource("File", "import", Path(path)))

    def add_source(self, source: ImportSource) -> None:
        self.source.addItem(source.label, source)
        self.source.setCurrentIndex(self.source.count() - 1)

    def show_preview(self) -> None:
        source: ImportSource | None = self.source.currentData()
        self.table.setRowCount(0)
        self.import_button.setEnabled(False)
        if source is None:
            return
        preview = self.preview = read_import(source, self._store.read().servers)
        if preview.file_problem:
            self.notes.setText(preview.file_problem)
            return
        self.table.setRowCount(len(preview.servers))
        for row, server in enumerate(preview.servers):
            name = QTableWidgetItem(server.name)
            wanted = server.status != "identical"
            name.setFlags(name.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            name.setCheckState(Qt.CheckState.Checked if wanted else Qt.CheckState.Unchecked)
            self.table.setItem(row, 0, name)
            self.table.setItem(row, 1, QTableWidgetItem(STATUS_TEXT[server.status]))
            runs = getattr(server.config, "command", None) or str(getattr(server.config, "url", ""))
            self.table.setItem(row, 2, QTableWidgetItem(runs))
        notes = [str(problem) for problem in preview.problems]
        if preview.plaintext_secrets:
            fields = ", ".join(f"{s.server}.{s.field}" for s in preview.plaintext_secrets)
            notes.append(f"Plain-text secrets: {fields}.")
        self.notes.setText("\n".join(notes))
        self.move_secrets.setVisible(bool(preview.plaintext_secrets))
        self.import_button.setEnabled(bool(preview.servers))

    def chosen(self) -> list[str]:
        names = []
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            if item is not None and item.checkState() == Qt.CheckState.Checked:
                names.append(item.text())
        return names

    def accept(self) -> None:
        preview = self.preview
        if preview is None:
            return
        try:
            if self.move_secrets.isChecked() and preview.plaintext_secrets:
                preview = move_secrets_to_keychain(
                    preview, preview.plaintext_secrets, self._secrets
                )
            self.imported = apply_import(self._store, preview, self.chosen())
        except HybridMCPError as error:
            self.notes.setText(f"Not imported: {error}")
            return
        super().accept()
