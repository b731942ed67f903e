"""``AppServices``: everything below the front ends, made once per process by ``build_services``
and handed down explicitly — to the window, to ``hybridmcp ask`` and to the local API alike."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from hybridmcp_app import APP_NAME, __version__
from hybridmcp_app.config.logging_setup import LogBuffer, configure_logging
from hybridmcp_app.config.mcp_config import RemoteServerConfig
from hybridmcp_app.config.model_settings import MODEL_SETTINGS_FILE, ModelSettingsStore
from hybridmcp_app.config.paths import AppPaths, resources_dir
from hybridmcp_app.config.secrets import DETECTING, FILE_LOCKED, SecretStore
from hybridmcp_app.config.settings import Settings
from hybridmcp_app.config.settings_store import SettingsLoadReport, SettingsStore
from hybridmcp_app.core.background_tasks import BackgroundTasks
from hybridmcp_app.core.llm_configs import DEFAULT_STRATEGY
from hybridmcp_app.llm.backend_registry import BackendRegistry
from hybridmcp_app.llm.chat_backend import ChatBackend
from hybridmcp_app.llm.local_model_service import LocalModelService, LocalModelState
from hybridmcp_app.orchestration.history_store import HistoryStore
from hybridmcp_app.orchestration.strategies import STRATEGIES
from hybridmcp_app.orchestration.usage_ledger import UsageLedger
from hybridmcp_app.services.chat_session import ChatSession
from hybridmcp_app.services.index_queue import IndexQueue
from hybridmcp_app.services.mcp_icon_fetch import McpIconFetcher
from hybridmcp_app.services.mcp_icons import McpIconSource
from hybridmcp_app.services.tool_access import ToolAccess
from hybridmcp_app.services.turn_runner import TurnParts, TurnRunner

if TYPE_CHECKING:  # imported when first used: numpy, the MCP SDK and chromadb stay off start-up
    from hybridmcp_app.documents.folder_watcher import FolderWatcher
    from hybridmcp_app.documents.library_service import LibraryService
    from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder
    from hybridmcp_app.game.game_service import GameService
    from hybridmcp_app.mcp_host.mcp_host_service import McpHost
    from hybridmcp_app.orchestration.semantic_cache import SemanticCache
    from hybridmcp_app.services.tool_selection import ToolSelector

log = logging.getLogger("hybridmcp.app")


class AppServices:
    """Paths, settings, secrets, logs, background tasks and the services of one running app:
    the local model, the providers, the one embedder, turns, tools, the MCP host, the library
    and its indexing queue, and the game."""

    def __init__(
        self,
        paths: AppPaths,
        settings_store: SettingsStore,
        settings: Settings,
        load_report: SettingsLoadReport,
        secrets: SecretStore,
        tasks: BackgroundTasks,
        log_buffer: LogBuffer,
        local_model: LocalModelService,
    ) -> None:
        self.paths, self.settings_store, self.settings = paths, settings_store, settings
        self.load_report, self.secrets, self.tasks = load_report, secrets, tasks
        self.log_buffer, self.local_model = log_buffer, local_model
        self.mcp_host: McpHost | None = None  # set once started (``app_startup``)
        self.library: LibraryService | None = None  # set once open (``app_startup``)
        self.watcher: FolderWatcher | None = None
        self.game: GameService | None = None  # made when the game is first needed
        self._embedder: OnnxEmbedder | None = None
        self._cache: SemanticCache | None = None
        self._making_embedder = threading.Lock()  # two threads asking at once get one
        self._writing_settings = threading.Lock()  # one write of settings.json at a time
        self.providers = BackendRegistry(
            lambda: self.settings.providers, secrets, resources_dir(),
            paths.config_dir / "prices.json",
        )  # fmt: skip
        self.ledger = UsageLedger(paths.data_dir / "usage.sqlite3")
        self.turns = TurnRunner(
            lambda: self.settings, local_model, self.providers,
            TurnParts(self.embedder, lambda: self._cache, self.ledger),
        )  # fmt: skip
        self.chat = ChatSession(
            lambda: self.settings, secrets, local_model,
            HistoryStore(paths.data_dir / "history.sqlite3"), self.turns,
        )  # fmt: skip
        self._selector: ToolSelector | None = None
        self.tools = ToolAccess(
            lambda: self.mcp_host, lambda: self.settings, tasks, selector=self._tool_selector
        )
        # The Library tab's and the watched folders' indexing runs, one after another.
        self.index_queue = IndexQueue(spawn=lambda work, name: tasks.spawn(work, name=name))
        # The icons MCP servers send: https ones fetched on the rules of ``mcp_icons``.
        self.mcp_icons = McpIconSource(
            McpIconFetcher(paths.cache_dir / "mcp-icons"), self._remote_server_url,
            lambda: self.settings.mcp.load_icons_from_other_sites,
            lambda work: tasks.spawn(work, name="mcp-icon"),
        )  # fmt: skip

    @property
    def mcp_config_file(self) -> Path:
        """The ``mcp.json`` in use: the one chosen in Settings → MCP servers, or the config
        dir's."""
        return self.settings.mcp.config_path or self.paths.mcp_config_file

    def _remote_server_url(self, server: str) -> str | None:
        """The URL of the remote MCP server ``server`` in mcp.json; None for a local one."""
        config = self.mcp_host.configured.servers.get(server) if self.mcp_host else None
        return str(config.url) if isinstance(config, RemoteServerConfig) else None

    def _tool_selector(self) -> ToolSelector:
        """The local side's tool selection over the app's embedder (made on first use; its
        index, with the embedder, when it first ranks, off the event loop), with the local
        model's check for the turns whose settings ask for it."""
        from hybridmcp_app.services.tool_check import LocalToolCheck
        from hybridmcp_app.services.tool_index import ToolIndex
        from hybridmcp_app.services.tool_selection import ToolSelector

        if self._selector is None:
            path = self.paths.data_dir / "tool_vectors.sqlite3"
            check = LocalToolCheck(lambda: self.local_model.backend)
            self._selector = ToolSelector(lambda: ToolIndex(self.embedder(), path), check)
        return self._selector

    def embedder(self) -> OnnxEmbedder:
        """The app's one offline embedder (answer cache, routing, library, game), made on first
        use together with the answer cache (blocking: call it off the event loop)."""
        from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder
        from hybridmcp_app.orchestration.semantic_cache import SemanticCache

        with self._making_embedder:
            if self._embedder is None:
                self._embedder = OnnxEmbedder()
                self._cache = SemanticCache(
                    self.paths.data_dir / "semantic_cache.sqlite3", self._embedder
                )
            return self._embedder

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
                self.paths, lambda: self.settings, self.providers, self.loaded_local_model,
                self.embedder,
            )  # fmt: skip
        return self.game

    def save_settings(self, settings: Settings) -> None:
        with self._writing_settings:
            self.settings_store.save(settings)
            self.settings = settings

    def change_settings(self, settings: Settings) -> asyncio.Task[None]:
        """Use ``settings`` from now on, at once, and write them off the event loop; the task
        fails with ``OSError`` when the file cannot be written. Writes run one at a time, each
        of the settings in use when it starts, so the file ends as the last change left it."""
        self.settings = settings

        def write() -> None:
            with self._writing_settings:
                self.settings_store.save(self.settings)

        return self.tasks.spawn(asyncio.to_thread(write), name="save-settings")

    async def close(self, timeout_s: float) -> list[str]:
        """Cancel every task (an answer being generated stops at its next token), stop the MCP
        servers (each process tree ended), close the library, the game and the providers'
        clients. Returns what would not stop; the local model is freed by its owner."""
        await self.index_queue.aclose()
        stuck = await self.tasks.shutdown(timeout_s)
        if self.mcp_host is not None:
            stuck += [f"MCP server {name}" for name in await self.mcp_host.shutdown()]
        library, self.library = self.library, None
        if library is not None:
            await library.close()
        game, self.game = self.game, None
        if game is not None:
            await game.close()
        await self.providers.close()
        return stuck


def build_secret_store(settings: Settings) -> SecretStore:
    """A store with no backend yet: the system keychain is detected after the window shows
    (``app_startup.detect_keychain``), since probing D-Bus or a wallet can take a while."""
    return SecretStore(
        None, FILE_LOCKED if settings.secrets.backend == "encrypted_file" else DETECTING
    )


def with_known_strategy(
    settings: Settings, report: SettingsLoadReport
) -> tuple[Settings, SettingsLoadReport]:
    """The settings with a default strategy that is registered; one that is not (renamed,
    removed, mistyped) is replaced by the default and reported."""
    name = settings.llm.hybrid.default_strategy
    if name in STRATEGIES.names:
        return settings, report
    hybrid = settings.llm.hybrid.model_copy(update={"default_strategy": DEFAULT_STRATEGY})
    llm = settings.llm.model_copy(update={"hybrid": hybrid})
    problem = (
        f"there is no strategy {name!r} (known: {', '.join(STRATEGIES.names)}); the chat starts "
        f"with {DEFAULT_STRATEGY!r}"
    )
    return settings.model_copy(update={"llm": llm}), dataclasses.replace(
        report, problems=(*report.problems, problem)
    )


def build_services(
    paths: AppPaths,
    loop: asyncio.AbstractEventLoop,
    *,
    verbose: bool,
    secrets: SecretStore | None = None,
    model_cache: Path | None = None,
) -> AppServices:
    """Everything below the front ends, in the order it is needed. Logged step by step.

    ``secrets`` and ``model_cache`` replace the keychain and the cache dir (the command line
    passes the keychain it found; tests their own)."""
    paths.ensure()
    store = SettingsStore(paths)
    settings, report = with_known_strategy(*store.load())
    log_buffer = configure_logging(paths, settings.logging, verbose=verbose)
    log.info("%s %s starting; config in %s", APP_NAME, __version__, paths.config_dir)
    if not report.ok:
        log.warning("settings: %s", report.user_message())
    local_model = LocalModelService(
        model_cache or paths.cache_dir, ModelSettingsStore(paths.config_dir / MODEL_SETTINGS_FILE)
    )
    return AppServices(
        paths, store, settings, report, secrets or build_secret_store(settings),
        BackgroundTasks(loop), log_buffer, local_model,
    )  # fmt: skip
