"""Composition root: settings → services → QApplication + qasync loop → MainWindow → shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import psutil

# Before Qt: PySide6's import hook inspects every later import and can re-enter pydantic's lazy
# imports half-way ("partially initialized module pydantic._internal._validators").
import pydantic._internal._validators  # noqa: F401
import shiboken6
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from hybridmcp_app import APP_NAME, __version__
from hybridmcp_app.config.logging_setup import configure_logging
from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.config.secrets import DETECTING, FILE_LOCKED, SecretStore, system_keychain
from hybridmcp_app.config.settings import Settings
from hybridmcp_app.config.settings_store import SettingsStore
from hybridmcp_app.core.background_tasks import BackgroundTasks
from hybridmcp_app.llm.local_model_service import LocalModelService
from hybridmcp_app.orchestration.chat_session import ChatSession
from hybridmcp_app.orchestration.history_store import HistoryStore
from hybridmcp_app.ui.app_context import AppContext
from hybridmcp_app.ui.main_window import MainWindow
from hybridmcp_app.ui.qt_event_loop import create_event_loop
from hybridmcp_app.ui.qt_garbage_collector import QtGarbageCollector
from hybridmcp_app.ui.theme import app_icon, apply_theme, follow_system_scheme

if TYPE_CHECKING:
    from hybridmcp_app.documents.app_library_source import AppLibrarySource
    from hybridmcp_app.documents.library_indexer import IndexProgress
    from hybridmcp_app.documents.library_service import LibraryService
    from hybridmcp_app.mcp_host.mcp_host_service import McpHost

log = logging.getLogger("hybridmcp.app")

# Benchmarks set this to a file path: the app records when its window was shown, then its idle
# memory, writes both there as JSON and quits.
STARTUP_PROBE_ENV = "HYBRIDMCP_STARTUP_PROBE"
SHUTDOWN_TIMEOUT_S = 2.0
# Imported off the event loop once the window is up, never before it shows (the probe checks).
HEAVY_MODULES = ("llama_cpp", "chromadb", "onnxruntime", "numpy", "openai", "mcp", "pymupdf",
                 "pyqtgraph", "uvicorn")  # fmt: skip


def build_secret_store(settings: Settings) -> SecretStore:
    """A store with no backend yet: the system keychain is detected after the window shows
    (``detect_keychain``), since probing D-Bus or a wallet can take a while."""
    return SecretStore(
        None, FILE_LOCKED if settings.secrets.backend == "encrypted_file" else DETECTING
    )


async def detect_keychain(context: AppContext, on_done: Callable[[], None]) -> None:
    """Find the system keychain off the event loop, then hand it to the store."""
    if context.settings.secrets.backend != "system":
        return
    backend, status = await asyncio.to_thread(system_keychain)
    context.secrets.use_backend(backend, status)
    on_done()


def build_context(
    paths: AppPaths,
    loop: asyncio.AbstractEventLoop,
    *,
    verbose: bool,
    secrets: SecretStore | None = None,
    model_cache: Path | None = None,
) -> AppContext:
    """Everything below the UI, in the order it is needed. Logged step by step.

    ``secrets`` and ``model_cache`` replace the keychain and the cache dir (tests)."""
    paths.ensure()
    store = SettingsStore(paths)
    settings, report = store.load()
    log_buffer = configure_logging(paths, settings.logging, verbose=verbose)
    log.info("%s %s starting; config in %s", APP_NAME, __version__, paths.config_dir)
    if not report.ok:
        log.warning("settings: %s", report.user_message())
    secrets = secrets or build_secret_store(settings)
    local_model = LocalModelService(model_cache or paths.cache_dir)
    context = AppContext(
        paths=paths,
        settings_store=store,
        settings=settings,
        secrets=secrets,
        tasks=BackgroundTasks(loop),
        log_buffer=log_buffer,
        load_report=report,
        local_model=local_model,
        chat=ChatSession(
            paths,
            lambda: context.settings,
            secrets,
            local_model,
            HistoryStore(paths.data_dir / "history.sqlite3"),
        ),
    )
    return context


async def start_mcp_host(
    context: AppContext,
    on_ready: Callable[[McpHost], None],
    library_source: AppLibrarySource | None = None,
) -> McpHost:
    """Import the MCP SDK (and the documents server: PyMuPDF, ONNX Runtime) off the event loop
    (about a second), build the host over mcp.json, hand it to the UI, then start the enabled
    servers (in parallel; this returns at once). An mcp.json that cannot be used (broken, too
    big, nested too deep) leaves a host with no servers that shows why."""
    module = await asyncio.to_thread(
        importlib.import_module, "hybridmcp_app.mcp_host.mcp_host_service"
    )
    from hybridmcp_app.config.mcp_json_file import McpJsonFile
    from hybridmcp_app.config.mcp_references import resolved_server
    from hybridmcp_app.mcp_host.builtin_servers import DOCUMENTS_MODULE, builtin_entries
    from hybridmcp_app.mcp_host.server_status import RestartPolicy

    settings = context.settings.mcp
    secrets, environ = context.secrets, dict(os.environ)
    in_process = {}
    if library_source is not None:  # the app owns the library: it serves documents itself
        documents = await asyncio.to_thread(importlib.import_module, DOCUMENTS_MODULE)
        in_process[DOCUMENTS_MODULE] = documents.DocumentsServer(library_source).build
    host: McpHost = module.McpHost(
        McpJsonFile(context.mcp_config_file, builtin_entries()),
        context.paths.log_dir / "mcp",
        resolve=lambda name, config: resolved_server(name, config, secrets, environ),
        policy=RestartPolicy(
            connect_timeout_s=settings.init_timeout_s, request_timeout_s=settings.call_timeout_s
        ),
        in_process=in_process,
    )
    context.mcp_host = host
    on_ready(host)
    if settings.start_servers_on_launch:
        await host.start()
    return host


async def start_library(
    context: AppContext,
    on_ready: Callable[[LibraryService | None, str | None], None],
    progress: Callable[[IndexProgress], None] | None = None,
) -> LibraryService | None:
    """Import chromadb off the event loop (a second or two), open the library, hand it to the
    UI (or say why it could not open), finish what an earlier run left, then follow the
    watched folders until the app quits."""
    from hybridmcp_app.core.errors import HybridMCPError

    module = await asyncio.to_thread(
        importlib.import_module, "hybridmcp_app.documents.library_service"
    )
    from hybridmcp_app.documents.folder_watcher import FolderWatcher

    try:
        library: LibraryService = await module.LibraryService.open(
            context.settings.documents, context.paths.data_dir, context.chat.shared_embedder()
        )
    except HybridMCPError as error:
        log.warning("the library could not open: %s", error)
        on_ready(None, str(error))
        return None
    context.library = library

    def save_folders(folders: tuple[Path, ...]) -> None:
        documents = context.settings.documents.model_copy(update={"watch_folders": folders})
        context.save_settings(context.settings.model_copy(update={"documents": documents}))

    context.watcher = FolderWatcher(
        library,
        context.settings.documents.watch_folders,
        save=save_folders,
        progress=progress,
        ignore=[context.paths.data_dir, context.paths.log_dir, context.paths.cache_dir],
    )
    on_ready(library, None)
    try:
        await library.resume(progress)
    except HybridMCPError as error:
        log.warning("the library could not finish its last run: %s", error)
    context.tasks.spawn(context.watcher.run(), name="watch-library-folders")
    return library


async def share_library(
    context: AppContext,
    library_source: AppLibrarySource,
    on_problem: Callable[[str], None] = lambda _message: None,
) -> None:
    """Let other MCP clients' documents servers use the library while the app owns it
    (``mcp_servers.documents_sharing``): served on 127.0.0.1 until the app quits, behind a token
    made for this run and kept only in the private endpoint file (not the keychain's long-lived
    server token, which remote clients hold). ``on_problem`` hears why the library is not
    shared."""
    if not context.settings.mcp.share_library:
        return
    module = await asyncio.to_thread(
        importlib.import_module, "hybridmcp_app.mcp_servers.documents_sharing"
    )
    documents = await asyncio.to_thread(
        importlib.import_module, "hybridmcp_app.mcp_servers.documents"
    )
    from hybridmcp_app.core.errors import HybridMCPError

    server = documents.DocumentsServer(library_source)
    try:
        await module.share_library(server, context.paths.data_dir)
    except (HybridMCPError, OSError) as error:
        log.warning("the library is not shared with other MCP clients: %s", error)
        on_problem(f"The library is not shared with other MCP clients: {error}")


async def serve_api(
    context: AppContext, on_problem: Callable[[str], None] = lambda _message: None
) -> None:
    """The local OpenAI-compatible API while the app runs, when Settings → Local API has it on
    (127.0.0.1; requests need the keychain's ``api-server-token``). ``on_problem`` hears why
    it could not start (the port is taken, no keychain)."""
    settings = context.settings.api
    if not settings.enabled:
        return
    openai_api = await asyncio.to_thread(
        importlib.import_module, "hybridmcp_app.api_server.openai_api"
    )
    from hybridmcp_app.api_server import TOKEN_SECRET_NAME
    from hybridmcp_app.api_server.api_serving import serving
    from hybridmcp_app.api_server.app_orchestrators import AppOrchestrators
    from hybridmcp_app.config.server_token import ensure_server_token
    from hybridmcp_app.core.errors import SecretStoreError

    try:
        token = await asyncio.to_thread(ensure_server_token, context.secrets, TOKEN_SECRET_NAME)
    except SecretStoreError as error:
        log.error("the local API is off: it needs its token in the keychain (%s)", error)
        on_problem(f"The local API is off: it needs its token in the keychain ({error}).")
        return
    factory = AppOrchestrators(
        lambda: context.settings, context.secrets, context.loaded_local_model, context.chat
    )
    api = openai_api.OpenAIApi(token, factory, factory.providers)
    try:
        async with serving(api, port=settings.port) as port:
            log.info("local OpenAI-compatible API on http://127.0.0.1:%d/v1", port)
            await asyncio.Event().wait()  # until the app quits (the task is cancelled)
    except OSError as error:
        log.error("the local API could not listen on 127.0.0.1:%d: %s", settings.port, error)
        reason = error.strerror or str(error)
        on_problem(
            f"The local API could not listen on 127.0.0.1:{settings.port} ({reason}). Pick "
            "another port in Settings → Local API."
        )


def shut_down(context: AppContext, loop: asyncio.AbstractEventLoop) -> list[str]:
    """Cancel every task (an answer being generated stops at its next token), stop the MCP
    servers (each process tree ended), then free the model. Returns what would not stop."""
    stuck = loop.run_until_complete(context.tasks.shutdown(SHUTDOWN_TIMEOUT_S))
    if context.mcp_host is not None:
        stuck += [
            f"MCP server {name}" for name in loop.run_until_complete(context.mcp_host.shutdown())
        ]
    if context.library is not None:
        loop.run_until_complete(context.library.close())
    if context.game is not None:
        loop.run_until_complete(context.game.close())
    if not context.local_model.close_now(SHUTDOWN_TIMEOUT_S):
        stuck.append("local model worker")
    return stuck


def _install_startup_probe(window: MainWindow, probe_path: Path) -> None:
    """Record when the window was shown and the idle memory; with
    ``HYBRIDMCP_STARTUP_PROBE_PROMPT`` also the local model's short answer to that prompt (and
    when it came, or why it did not). Written once all of it is in, then the window closes."""
    from hybridmcp_app.llm.startup_prompt import answer_when_loaded

    record: dict[str, float | str] = {}
    # Installed just before the window is shown, before any background work has run: what the
    # window itself needed imported.
    record["heavy_before_show"] = ",".join(name for name in HEAVY_MODULES if name in sys.modules)
    prompt = os.environ.get("HYBRIDMCP_STARTUP_PROBE_PROMPT", "")
    waiting = {"idle", "answer"} if prompt else {"idle"}

    def on_shown() -> None:
        # Singleshot 0: measured once the event loop has painted the first frame.
        QTimer.singleShot(0, lambda: record.setdefault("shown_monotonic", time.monotonic()))
        idle_s = float(os.environ.get("HYBRIDMCP_STARTUP_PROBE_IDLE_S", "2.0"))
        QTimer.singleShot(int(idle_s * 1000), idled)
        if prompt:
            window.context.tasks.spawn(answer(), name="startup-probe-answer")

    def idled() -> None:
        record["idle_rss_mb"] = psutil.Process().memory_info().rss / 2**20
        done("idle")

    async def answer() -> None:
        context = window.context
        try:
            text = await answer_when_loaded(context.local_model, context.settings.llm.local, prompt)
        except Exception as error:  # recorded for the probe's reader, who decides
            record["answer_error"] = f"{type(error).__name__}: {error}"
        else:
            record["answer"] = text
            record["answered_monotonic"] = time.monotonic()
        done("answer")

    def done(step: str) -> None:
        waiting.discard(step)
        if not waiting:
            probe_path.write_text(json.dumps(record), encoding="utf-8")
            window.close()

    window.shown.connect(on_shown)


def tune_garbage_collection(collector: QtGarbageCollector, window: MainWindow) -> None:
    """Full collections wait while answers stream; survivors are frozen after the first turn."""
    collector.defer_full_collections_while(
        lambda: shiboken6.isValid(window) and window.chat_view.answering
    )
    window.chat_view.turn_finished.connect(collector.freeze_once)


def run_gui(*, verbose: bool = False, argv: Sequence[str] = ()) -> int:
    app = QApplication([*argv] or [APP_NAME])
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("hybridmcp")
    app.setWindowIcon(app_icon())
    # qasync: the loop must outlive the last window; MainWindow.quit_requested ends it.
    app.setQuitOnLastWindowClosed(False)
    loop = create_event_loop(app)
    collector = QtGarbageCollector(app)
    context = build_context(AppPaths.from_environment(), loop, verbose=verbose)
    apply_theme(app, context.settings.ui.theme)
    follow_system_scheme(app, lambda: context.settings.ui.theme)

    window = MainWindow(context)
    tune_garbage_collection(collector, window)
    quit_event = asyncio.Event()

    def quit_requested() -> None:
        # Before the window is deleted: a task resuming now (a keychain found, a library
        # opened, the first-run wizard due) is cancelled instead of touching a deleted window.
        context.tasks.cancel_all()
        quit_event.set()

    window.quit_requested.connect(quit_requested)
    probe = os.environ.get(STARTUP_PROBE_ENV)
    if probe:
        _install_startup_probe(window, Path(probe))

    # Python sees SIGINT/SIGTERM only when it runs; a light timer gives it the chance.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: window.close())
    heartbeat = QTimer()
    heartbeat.start(250)
    heartbeat.timeout.connect(lambda: None)

    window.show()
    if not context.settings.ui.first_run_completed and not probe:
        # After the first frame: the window is there while the wizard is built.
        QTimer.singleShot(0, window.open_first_run)

    from hybridmcp_app.documents.app_library_source import AppLibrarySource

    def library_changed_by_a_client() -> None:
        with contextlib.suppress(RuntimeError):  # the app is shutting down
            context.tasks.spawn(window.library_view.refresh(), name="library-refresh")

    library_source = AppLibrarySource(on_change=library_changed_by_a_client)

    def library_ready(library: LibraryService | None, error: str | None) -> None:
        library_source.opened(library, error)
        window.library_ready(library, error)
        if library is not None:
            sharing = share_library(context, library_source, window.mcp_view.library_not_shared)
            context.tasks.spawn(sharing, name="share-library")

    async def start_services() -> None:
        await detect_keychain(context, window.keychain.update_status)
        # Secrets are known by now. Each service starts on its own: one that cannot start (a
        # broken mcp.json) says why in its place and leaves the others running.
        context.tasks.spawn(
            serve_api(context, lambda text: window.banner.show_message(text, "warning")),
            name="openai-api",
        )
        context.tasks.spawn(
            start_mcp_host(context, window.mcp_host_ready, library_source), name="mcp-host"
        )

    context.tasks.spawn(start_services(), name="start-services")
    context.tasks.spawn(start_library(context, library_ready), name="open-library")
    if context.settings.llm.local.load_on_start:
        context.tasks.spawn(
            context.local_model.try_load(context.settings.llm.local), name="load-local-model"
        )
    with loop:
        loop.run_until_complete(quit_event.wait())
        stuck = shut_down(context, loop)
    collector.stop()
    log.info("%s stopped%s", APP_NAME, f" ({len(stuck)} task(s) abandoned)" if stuck else "")
    logging.shutdown()
    return 0
