"""Settings → Local model: pick a GGUF file, find the ones already on disk, see what is loaded."""

from __future__ import annotations

import asyncio
import html
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hybridmcp_app.config.secrets import SecretStore
from hybridmcp_app.core.background_tasks import BackgroundTasks
from hybridmcp_app.core.errors import ModelLoadError
from hybridmcp_app.core.model_context import ModelContext
from hybridmcp_app.llm.embedded_models import DEFAULT_EMBEDDED, EMBEDDED_MODELS, EmbeddedModel
from hybridmcp_app.llm.gguf_metadata import read_model_context
from hybridmcp_app.llm.local_model_service import (
    LocalModelService,
    LocalModelState,
    LocalModelStatus,
)
from hybridmcp_app.llm.model_hub.hub_client import ModelHubError, hub_endpoint
from hybridmcp_app.llm.model_scanner import FoundModel, known_model_folders, scan_for_models

COLUMNS = ("Model", "Found in", "Architecture", "Quantisation", "Trained context", "Size", "Chat")


def describe_loaded(context: ModelContext) -> str:
    """One line about the running model: what it is and what it costs."""
    ident, runtime = context.identification, context.runtime
    parts = [f"<b>{html.escape(ident.display_label)}</b>"]
    parts += [part for part in (ident.architecture, ident.quantization) if part]
    if ident.parameter_count:
        parts.append(f"{ident.parameter_count / 1e6:,.0f}M parameters")
    trained = f" of {context.context_length:,}" if context.context_length else ""
    parts.append(f"context {context.inference.n_ctx:,}{trained} tokens")
    if runtime.threads:
        parts.append(f"{runtime.threads} generation thread(s)")
    if runtime.memory_bytes:
        parts.append(f"{runtime.memory_bytes / 2**20:,.0f} MB in memory")
    if runtime.load_time_s is not None:
        parts.append(f"loaded in {runtime.load_time_s:.1f} s")
    return " · ".join(parts)


def _scan(home: Path, app_models: Path) -> list[tuple[FoundModel, ModelContext | str]]:
    rows: list[tuple[FoundModel, ModelContext | str]] = []
    for model in scan_for_models(
        known_model_folders(home, app_models), home / ".ollama" / "models"
    ):
        try:
            rows.append((model, read_model_context(model.path)))
        except ModelLoadError as error:
            rows.append((model, str(error)))
    return rows


class QtModelPicker(QWidget):
    """Fills the ``model_path`` editor of the settings form: browse, scan, or an embedded model
    (the default one clears the editor; another puts its file there), or one downloaded
    through "Get models…" (``load_requested`` then asks the settings to be saved and loaded).
    ``hub_address`` reads the "Hub address" setting (as typed in the form, saved or not)."""

    load_requested = Signal()

    def __init__(
        self,
        path_editor: QLineEdit,
        service: LocalModelService,
        tasks: BackgroundTasks,
        *,
        home: Path,
        app_models_dir: Path,
        secrets: SecretStore | None = None,
        hub_address: Callable[[], str | None] = lambda: None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._secrets = secrets
        self.hub_address = hub_address
        self._path_editor = path_editor
        self._tasks = tasks
        self._home, self._app_models_dir = home, app_models_dir
        self._service = service
        self.loaded = QLabel(self)
        self.loaded.setWordWrap(True)
        self._show_status(service.status)
        # Follows the model: the wizard opens while it loads, and Load/Unload act meanwhile.
        self.destroyed.connect(service.subscribe(self._show_status))  # unsubscribes
        browse = QPushButton("Choose GGUF file…", self)
        self.embedded_choice = QComboBox(self)
        for index, model in enumerate(EMBEDDED_MODELS):
            self.embedded_choice.addItem(model.label, model.name)
            self.embedded_choice.setItemData(index, model.note, Qt.ItemDataRole.ToolTipRole)
        self.embedded_choice.setCurrentIndex(EMBEDDED_MODELS.index(DEFAULT_EMBEDDED))
        self.embedded_choice.setToolTip("Models installed with the app")
        self.embedded_button = embedded = QPushButton("Use this embedded model", self)
        self.scan_button = QPushButton("Find models on this computer", self)
        self.scan_button.setToolTip(
            "Looks in LM Studio, GPT4All, Jan, Ollama and HybridMCP's own models folder"
        )
        self.get_models_button = QPushButton("Get models…", self)
        self.get_models_button.setToolTip("A catalogue of models to download, and the hub's search")
        self.status = QLabel(self)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)  # the name takes the rest
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.setMinimumHeight(120)
        self.table.hide()
        self.table.cellDoubleClicked.connect(lambda row, _column: self.use_row(row))
        self._found: list[FoundModel] = []

        buttons = QHBoxLayout()
        for button in (browse, self.scan_button, self.get_models_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        installed = QHBoxLayout()
        installed.addWidget(QLabel("Installed with the app:", self))
        installed.addWidget(self.embedded_choice)
        installed.addWidget(embedded)
        installed.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 8)
        layout.addWidget(self.loaded)
        layout.addLayout(buttons)
        layout.addLayout(installed)
        layout.addWidget(self.status)
        layout.addWidget(self.table)
        browse.clicked.connect(self.browse)
        embedded.clicked.connect(self.use_embedded)
        self.scan_button.clicked.connect(self.start_scan)
        self.get_models_button.clicked.connect(self.open_catalog)

    def _show_status(self, status: LocalModelStatus) -> None:
        backend = self._service.backend
        if status.state is LocalModelState.LOADING:
            text = f"Loading <b>{html.escape(status.label)}</b>…"
        elif status.state is LocalModelState.READY and backend is not None:
            text = "In use: " + describe_loaded(backend.context)
        else:
            text = "No local model is loaded."
        if status.error:
            text += f"<br>The last load failed: {html.escape(status.error)}"
        self.loaded.setText(text)

    def browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Choose a GGUF model", str(self._home), "GGUF models (*.gguf);;All files (*)"
        )
        if path:
            self._path_editor.setText(path)

    def use_embedded(self) -> asyncio.Task[None] | None:
        """Put the chosen embedded model in the editor: the default one empties it at once;
        another one's file is found (or prepared) first, so this returns that task."""
        model = EMBEDDED_MODELS[max(0, self.embedded_choice.currentIndex())]
        if model is DEFAULT_EMBEDDED:
            self._path_editor.setText("")
            return None
        self.embedded_button.setEnabled(False)
        self.status.setText(f"Preparing {model.label}…")
        return self._tasks.spawn(self._use_embedded(model), name="use-embedded-model")

    async def _use_embedded(self, model: EmbeddedModel) -> None:
        try:
            self._path_editor.setText(str(await self._service.embedded_file(model)))
            self.status.setText(f"{model.label} chosen: it loads when the settings are saved.")
        except ModelLoadError as error:
            self.status.setText(str(error))
        finally:
            self.embedded_button.setEnabled(True)

    def start_scan(self) -> asyncio.Task[None]:
        self.scan_button.setEnabled(False)
        self.status.setText("Looking for GGUF models…")
        return self._tasks.spawn(self._scan(), name="scan-models")

    async def _scan(self) -> None:
        try:
            rows = await asyncio.to_thread(_scan, self._home, self._app_models_dir)
        finally:
            self.scan_button.setEnabled(True)
        self._found = [model for model, _ in rows]
        self.table.setRowCount(len(rows))
        for row, (model, info) in enumerate(rows):
            if isinstance(info, str):
                cells = [model.name, model.source, info, "", "", "", ""]
            else:
                ident = info.identification
                cells = [
                    model.name,
                    model.source,
                    ident.architecture or "?",
                    ident.quantization or "?",
                    f"{info.context_length:,}" if info.context_length else "?",
                    f"{model.size_bytes / 2**30:.2f} GB",
                    "yes" if info.capabilities.has_chat_template else "no (base)",
                ]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(str(model.path))
                self.table.setItem(row, column, item)
        self.table.setVisible(bool(rows))
        self.status.setText(
            f"Found {len(rows)} model(s). Double-click one to use it."
            if rows
            else "No GGUF models found in the usual places. Use “Choose GGUF file…”."
        )

    def open_catalog(self) -> QDialog | None:
        """The "Get models…" dialog at the hub address: a finished download shows up here; "Use
        this model" loads it. None (the reason in the status line) when the address is wrong."""
        from hybridmcp_app.ui.settings.qt_model_catalog_dialog import QtModelCatalogDialog

        try:
            endpoint = hub_endpoint(self.hub_address())
        except ModelHubError as error:
            self.status.setText(f"Get models: {error}")
            return None
        dialog = QtModelCatalogDialog(
            self._app_models_dir, self._tasks, self._secrets, endpoint=endpoint,
            on_use=self.use_downloaded, on_finished=lambda _path: self.start_scan(), parent=self,
        )  # fmt: skip
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def use_downloaded(self, path: Path) -> None:
        self._path_editor.setText(str(path))
        self.status.setText(f"{path.name} chosen: it loads now.")
        self.load_requested.emit()

    def use_row(self, row: int) -> None:
        if 0 <= row < len(self._found):
            self._path_editor.setText(str(self._found[row].path))
