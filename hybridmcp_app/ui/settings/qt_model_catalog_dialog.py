"""Settings → Local model → Get models…: the curated catalogue, a hub search, and downloads.

The catalogue and the hub calls are Qt-free (``llm/model_hub``); this dialog renders them. The
hub is the endpoint given (Settings → Local model → Hub address), else ``HF_ENDPOINT``, else
huggingface.co; the token field saves a token for that hub only. Enter downloads the
selected file; Esc closes, pausing running downloads (their parts stay and are listed here,
resumable, the next time, also after a restart).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from hybridmcp_app.config.secrets import SecretStore
from hybridmcp_app.core.background_tasks import BackgroundTasks
from hybridmcp_app.core.errors import SecretStoreError
from hybridmcp_app.llm.model_hub.catalog import ModelCatalog, load_catalog, marked_catalog
from hybridmcp_app.llm.model_hub.download import partial_downloads
from hybridmcp_app.llm.model_hub.hub_client import (
    HubClient,
    HubFile,
    ModelHubError,
    hub_endpoint,
    hub_token,
    save_hub_token,
)
from hybridmcp_app.llm.model_hub.jobs import DownloadJob, JobState
from hybridmcp_app.ui.settings.qt_model_download_row import QtDownloadRow
from hybridmcp_app.ui.settings.qt_model_repo_views import QtRepoFiles, QtRepoTable


class QtModelCatalogDialog(QDialog):
    """Browse and search models, download their files, and hand a finished one to ``on_use``."""

    def __init__(
        self,
        models_dir: Path,
        tasks: BackgroundTasks,
        secrets: SecretStore | None,
        *,
        endpoint: str | None = None,
        on_use: Callable[[Path], object] | None = None,
        on_finished: Callable[[Path], object] | None = None,
        catalog: ModelCatalog | None = None,
        total_ram: int | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Get models")
        self.resize(1240, 720)
        self._models_dir, self._tasks, self._secrets = models_dir, tasks, secrets
        self.endpoint = hub_endpoint(endpoint)
        self._on_use, self._on_finished = on_use, on_finished
        self.jobs: dict[Path, DownloadJob] = {}
        self.rows: dict[Path, QtDownloadRow] = {}
        self._listing = 0  # the latest file listing asked for; older answers are dropped

        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText("Filter the catalogue: name, family, licence…")
        self.filter.setClearButtonEnabled(True)
        self.hub_search = QLineEdit(self)
        self.hub_search.setPlaceholderText("Search Hugging Face for any GGUF repo")
        self.hub_search.setClearButtonEnabled(True)
        self.search_button = QPushButton("Search Hugging Face", self)
        self.catalog_button = QPushButton("Show the catalogue", self)
        self.table = QtRepoTable(marked_catalog(catalog or load_catalog(), total_ram), self)
        self.files = QtRepoFiles(self)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.table)
        splitter.addWidget(self.files)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([800, 420])
        splitter.setChildrenCollapsible(False)

        self.downloads = QGroupBox("Downloads", self)
        self._download_rows = QVBoxLayout(self.downloads)
        self.no_downloads = QLabel(
            "Nothing downloading. Closing this window pauses downloads; they can be resumed "
            "here later, also after a restart.", self.downloads)  # fmt: skip
        self.no_downloads.setWordWrap(True)
        self._download_rows.addWidget(self.no_downloads)

        self.token = QLineEdit(self)
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText("hf_… (only for gated models)")
        self.save_token_button = QPushButton("Save token", self)
        if secrets is None or not secrets.available:
            for widget in (self.token, self.save_token_button):
                widget.setEnabled(False)
                widget.setToolTip("No keychain: see Settings → Keychain")
        self.message = QLabel(self)
        self.message.setProperty("role", "form-errors")
        self.message.setWordWrap(True)
        self.message.hide()

        for button in (self.search_button, self.catalog_button, self.save_token_button):
            button.setAutoDefault(False)
        top = QHBoxLayout()
        top.addWidget(self.filter, 2)
        top.addWidget(self.hub_search, 2)
        top.addWidget(self.search_button)
        top.addWidget(self.catalog_button)
        token_row = QHBoxLayout()
        self.hub_label = QLabel(f"Hugging Face token for {self.endpoint}:", self)
        self.hub_label.setToolTip("The hub is set in Settings → Local model → Hub address; "
                                  "a token saved here is sent to this hub only")  # fmt: skip
        token_row.addWidget(self.hub_label)
        token_row.addWidget(self.token, 1)
        token_row.addWidget(self.save_token_button)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.downloads)
        layout.addLayout(token_row)
        layout.addWidget(self.message)
        layout.addWidget(close)

        self.filter.textChanged.connect(self.table.filter_rows)
        self.search_button.clicked.connect(self.search_hub)
        self.catalog_button.clicked.connect(self.show_catalog)
        self.table.repo_selected.connect(self.list_files)
        self.files.download_requested.connect(self.download)
        self.save_token_button.clicked.connect(self.save_token)
        for partial in partial_downloads(models_dir):
            self._add_job(DownloadJob(partial.file, models_dir, partial.done_bytes))

    # ---------------------------------------------------------------- the hub
    def client(self) -> HubClient:
        """A client for the hub with the saved token, if there is one for this hub."""
        token = None
        if self._secrets is not None:
            try:
                token = hub_token(self._secrets, self.endpoint)
            except SecretStoreError as error:
                self.show_message(str(error))
        return HubClient(self.endpoint, token)

    def search_hub(self) -> asyncio.Task[None]:
        self.search_button.setEnabled(False)
        self.files.show_busy(f"Searching {self.endpoint} for “{self.hub_search.text().strip()}”…")
        return self._tasks.spawn(self._search(self.hub_search.text()), name="search-hub")

    async def _search(self, words: str) -> None:
        try:
            hits = await self.client().search(words)
        except ModelHubError as error:
            self.files.show_error(str(error))
            return
        finally:
            self.search_button.setEnabled(True)
        self.table.show_hub_results(hits)
        self.files.reset("Pick a repo on the left to see its files.")
        self.files.show_status(
            f"{len(hits)} GGUF repo(s) found on the hub: pick one."
            if hits
            else f"No GGUF repo on the hub matches “{words}”."
        )

    def show_catalog(self) -> None:
        self.table.show_catalog()
        self.table.filter_rows(self.filter.text())
        self.files.reset("Pick a model on the left to see its files.")

    def list_files(self, repo_id: str, quantizations: list[str]) -> asyncio.Task[None]:
        """Read the repo's files live from the hub, off the event loop."""
        self._listing += 1
        self.files.show_busy(f"Reading the files of {repo_id} from the hub…", repo_id)
        return self._tasks.spawn(self._list(self._listing, repo_id, quantizations),
                                 name="list-model-files")  # fmt: skip

    async def _list(self, listing: int, repo_id: str, quantizations: list[str]) -> None:
        try:
            found = await self.client().gguf_files(repo_id)
        except ModelHubError as error:
            if listing == self._listing:
                self.files.show_error(str(error))
            return
        if listing == self._listing:
            self.files.show_files(found, quantizations)

    def save_token(self) -> None:
        value = self.token.text().strip()
        if self._secrets is None or not value:
            self.show_message("Paste a Hugging Face token (hf_…) first.")
            return
        try:
            save_hub_token(self._secrets, self.endpoint, value)
        except SecretStoreError as error:
            self.show_message(f"The token was not saved: {error}")
            return
        self.token.clear()
        self.show_message(f"Token saved in the keychain for {self.endpoint}.", error=False)

    def show_message(self, text: str, *, error: bool = True) -> None:
        self.message.setProperty("role", "form-errors" if error else "")
        self.message.style().polish(self.message)
        self.message.setText(text)
        self.message.setVisible(bool(text))

    # ---------------------------------------------------------------- downloads
    def download(self, file: HubFile | None = None) -> asyncio.Task[Path | None] | None:
        """Download ``file`` (the selected one if None), or resume it if it was paused."""
        file = file or self.files.selected_file()
        if file is None:
            self.show_message("Pick a file in the list on the right first.")
            return None
        job = self.jobs.get(DownloadJob(file, self._models_dir).path)
        if job is None or job.file != file or job.state is JobState.CANCELLED:
            job = self._add_job(DownloadJob(file, self._models_dir))
        return self.resume(job)

    def resume(self, job: DownloadJob) -> asyncio.Task[Path | None] | None:
        if job.state is JobState.RUNNING:
            return None
        self.show_message("")
        return self._tasks.spawn(self._run(job), name="download-model")

    async def _run(self, job: DownloadJob) -> Path | None:
        path = await job.run(self.client())
        if job.state is JobState.FAILED and shiboken6.isValid(self):  # not closed meanwhile
            self.show_message(job.error)
        if path is not None and self._on_finished is not None:
            self._on_finished(path)
        return path

    def cancel(self, job: DownloadJob) -> asyncio.Task[None]:
        return self._tasks.spawn(job.cancel(), name="cancel-model-download")

    def use(self, path: Path) -> None:
        if self._on_use is not None:
            self._on_use(path)
        self.accept()

    def _add_job(self, job: DownloadJob) -> DownloadJob:
        if (old := self.rows.pop(job.path, None)) is not None:
            old.deleteLater()
        self.jobs[job.path] = job
        row = QtDownloadRow(job, resume=self.resume, cancel=self.cancel, use=self.use,
                            parent=self.downloads)  # fmt: skip
        self.rows[job.path] = row
        self._download_rows.addWidget(row)
        self.no_downloads.hide()
        return job

    def pause_all(self) -> None:
        for job in self.jobs.values():
            if job.state is JobState.RUNNING:
                job.pause()

    # ---------------------------------------------------------------- keyboard
    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if self.hub_search.hasFocus():
                self.search_hub()
            elif not self.filter.hasFocus() and not self.token.hasFocus():
                self.download()
            return
        super().keyPressEvent(event)

    def done(self, result: int) -> None:
        """Closing (Esc, Close, or Use this model) pauses what is still downloading."""
        self.pause_all()
        super().done(result)
