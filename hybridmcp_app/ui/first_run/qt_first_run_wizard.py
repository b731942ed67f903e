"""The first-run setup: local model, optional provider, folders to index, MCP servers.

Shown once, when the app starts for the first time; skippable, and run again from Help →
First-run setup… or Settings → General. ``chosen`` carries the answers once the typed keys are in
the keychain; ``skipped`` says the user skipped it (the defaults stay).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLineEdit, QWidget, QWizard

from hybridmcp_app.config.first_run import FirstRunChoices
from hybridmcp_app.config.secrets import SecretStore
from hybridmcp_app.config.settings import Settings
from hybridmcp_app.core.background_tasks import BackgroundTasks
from hybridmcp_app.core.errors import SecretStoreError
from hybridmcp_app.llm.local_model_service import LocalModelService
from hybridmcp_app.llm.provider_catalog import ProviderPreset
from hybridmcp_app.ui.first_run.qt_first_run_pages import (
    EMBEDDED_CHOICE,
    QtFoldersChoicePage,
    QtModelChoicePage,
    QtProviderChoicePage,
    QtServersChoicePage,
    QtSummaryPage,
    QtWelcomePage,
)
from hybridmcp_app.ui.settings.qt_model_picker import QtModelPicker
from hybridmcp_app.ui.settings.qt_providers_page import ProbeProvider, QtProvidersPage
from hybridmcp_app.ui.theme import app_icon


class QtFirstRunWizard(QWizard):
    """Asks, then hands back ``FirstRunChoices``; applying them is the window's job."""

    chosen = Signal(object)
    skipped = Signal()

    def __init__(
        self,
        settings: Settings,
        secrets: SecretStore,
        tasks: BackgroundTasks,
        local_model: LocalModelService,
        presets: tuple[ProviderPreset, ...],
        servers: Mapping[str, bool],
        *,
        home: Path,
        app_models_dir: Path,
        probe: ProbeProvider,
        servers_problem: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Set up HybridMCP")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage)
        self.setButtonText(QWizard.WizardButton.CancelButton, "Skip setup")
        self.setPixmap(QWizard.WizardPixmap.LogoPixmap, app_icon().pixmap(48, 48))
        self.resize(780, 560)
        path = QLineEdit()
        picker = QtModelPicker(path, local_model, tasks, home=home, app_models_dir=app_models_dir,
                               hub_address=lambda: settings.llm.local.hub_endpoint)  # fmt: skip
        self.model_page = QtModelChoicePage(settings.llm.local.model_path, picker, path)
        self.provider_page = QtProviderChoicePage(
            QtProvidersPage(settings.providers, secrets, presets, tasks, probe)
        )
        self.folders_page = QtFoldersChoicePage(settings.documents.watch_folders, home)
        self.servers_page = QtServersChoicePage(
            servers, servers_problem, workspace_roots=settings.mcp.workspace_roots, home=home
        )
        self.summary_page = QtSummaryPage()
        for page in (
            QtWelcomePage(),
            self.model_page,
            self.provider_page,
            self.folders_page,
            self.servers_page,
            self.summary_page,
        ):
            self.addPage(page)
        self.currentIdChanged.connect(self._page_changed)

    def _page_changed(self, _page_id: int) -> None:
        if self.currentPage() is self.summary_page:
            self.summary_page.summary.setText(self.describe(self.choices()))

    def choices(self) -> FirstRunChoices:
        """The answers so far (the provider page has been validated before it is left)."""
        return FirstRunChoices(
            model_path=self.model_page.model_path(),
            providers=self.provider_page.providers.value(),
            folders=self.folders_page.folders(),
            servers=self.servers_page.switches(),
            workspace_roots=self.servers_page.workspace_roots,
        )

    @staticmethod
    def describe(choices: FirstRunChoices) -> str:
        """What Finish does, one line per area."""
        model = str(choices.model_path) if choices.model_path else EMBEDDED_CHOICE
        active = choices.providers.choose()
        provider = (
            f"{active.name} ({active.default_model})"
            if active is not None
            else "none (the local model alone)"
        )
        folders = ", ".join(str(folder) for folder in choices.folders) or "none new"
        on = [name for name, enabled in choices.servers.items() if enabled]
        roots = ", ".join(str(root) for root in choices.workspace_roots)
        workspace = [f"Workspace server's folder: {roots}"] if roots else []
        return "\n".join(
            (
                f"Local model: {model}",
                f"Provider: {provider}",
                f"Folders to index: {folders}",
                f"MCP servers on: {', '.join(on) or 'none'}",
                *workspace,
                "",
                "Press Finish to save. Everything can be changed later in Settings (Ctrl+,).",
            )
        )

    def accept(self) -> None:
        """Store the typed keys first: if the keychain refuses, say so and stay open."""
        choices = self.choices()
        try:
            self.provider_page.providers.store_pending_keys()
        except SecretStoreError as error:
            self.summary_page.problem.setText(
                f"Not saved — the API key could not be stored in the keychain: {error}. Go back "
                "and clear the key, or fix the keychain (Settings → Keychain) and try again."
            )
            self.summary_page.problem.show()
            return
        super().accept()
        self.chosen.emit(choices)

    def reject(self) -> None:
        super().reject()
        self.skipped.emit()
