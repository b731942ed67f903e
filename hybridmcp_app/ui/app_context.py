"""The services the window works with, built by ``app.py`` and handed down explicitly."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from hybridmcp_app.config.logging_setup import LogBuffer
from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.config.secrets import SecretStore
from hybridmcp_app.config.settings import Settings
from hybridmcp_app.config.settings_store import SettingsLoadReport, SettingsStore
from hybridmcp_app.core.background_tasks import BackgroundTasks
from hybridmcp_app.llm.chat_backend import ChatBackend
from hybridmcp_app.llm.local_model_service import LocalModelService, LocalModelState
from hybridmcp_app.orchestration.chat_session import ChatSession

if TYPE_CHECKING:  # the MCP SDK and chromadb are imported in the background after start-up
    from hybridmcp_app.documents.folder_watcher import FolderWatcher
    from hybridmcp_app.documents.library_service import LibraryService
    from hybridmcp_app.game.game_service import GameService
    from hybridmcp_app.mcp_host.mcp_host_service import McpHost


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
    mcp_host: McpHost | None = None  # set once started (``app.start_mcp_host``)
    library: LibraryService | None = None  # set once open (``app.start_library``)
    watcher: FolderWatcher | None = None
    game: GameService | None = None  # made when the Turtle Soup tab first needs it

    @property
    def mcp_config_file(self) -> Path:
        """The ``mcp.json`` in use: the one chosen in Settings → MCP servers, or the config
        dir's."""
        return self.settings.mcp.config_path or self.paths.mcp_config_file

    async def loaded_local_model(self) -> ChatBackend | None:
        """The local model, once a load under way has finished (None when there is none)."""
        if self.local_model.status.state is LocalModelState.LOADING:
            await self.local_model.settled()
        return self.local_model.backend

    def game_service(self) -> GameService:
        """The turtle-soup service (imported on first use: numpy and the hosts)."""
        if self.game is None:
            from hybridmcp_app.game.game_service import GameService

            self.game = GameService(
                self.paths,
                lambda: self.settings,
                self.secrets,
                self.loaded_local_model,
                self.chat.shared_embedder,
            )
        return self.game

    def save_settings(self, settings: Settings) -> None:
        self.settings_store.save(settings)
        self.settings = settings
