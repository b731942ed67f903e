"""The services the window works with, built by ``app.py`` and handed down explicitly."""

from __future__ import annotations

from dataclasses import dataclass

from hybridmcp_app.config.logging_setup import LogBuffer
from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.config.secrets import SecretStore
from hybridmcp_app.config.settings import Settings
from hybridmcp_app.config.settings_store import SettingsLoadReport, SettingsStore
from hybridmcp_app.core.background_tasks import BackgroundTasks
from hybridmcp_app.llm.local_model_service import LocalModelService
from hybridmcp_app.orchestration.chat_session import ChatSession


@dataclass
class AppContext:
    """Paths, settings, secrets, logs, background tasks and services of one running app."""

    paths: AppPaths
    settings_store: SettingsStore
    settings: Settings
    secrets: SecretStore
    tasks: BackgroundTasks
    log_buffer: LogBuffer
    load_report: SettingsLoadReport
    local_model: LocalModelService
    chat: ChatSession

    def save_settings(self, settings: Settings) -> None:
        self.settings_store.save(settings)
        self.settings = settings
