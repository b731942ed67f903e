"""Composition root: services (``build_services``) → QApplication + qasync loop → MainWindow →
shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Sequence
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
from hybridmcp_app.api_server.app_api import serve_api
from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.services.app_services import AppServices, build_services
from hybridmcp_app.services.app_startup import (
    detect_keychain,
    share_library,
    start_library,
    start_mcp_host,
)
from hybridmcp_app.ui.main_window import MainWindow
from hybridmcp_app.ui.qt_event_loop import create_event_loop
from hybridmcp_app.ui.qt_garbage_collector import QtGarbageCollector
from hybridmcp_app.ui.theme import app_icon, apply_theme, follow_system_scheme

if TYPE_CHECKING:
    from hybridmcp_app.documents.library_service import LibraryService
    from hybridmcp_app.mcp_host.host_requests import HostRequests

log = logging.getLogger("hybridmcp.app")

# Benchmarks set this to a file path: the app records when its window was shown, then its idle
# memory, writes both there as JSON and quits.
STARTUP_PROBE_ENV = "HYBRIDMCP_STARTUP_PROBE"
SHUTDOWN_TIMEOUT_S = 2.0
# Imported off the event loop once the window is up, never before it shows (the probe checks).
HEAVY_MODULES = ("llama_cpp", "chromadb", "onnxruntime", "numpy", "openai", "mcp", "pymupdf",
                 "pyqtgraph", "uvicorn")  # fmt: skip


def shut_down(services: AppServices, loop: asyncio.AbstractEventLoop) -> list[str]:
    """Stop the services (``AppServices.close``), then free the model. Returns what would not
    stop."""
    stuck = loop.run_until_complete(services.close(SHUTDOWN_TIMEOUT_S))
    if not services.local_model.close_now(SHUTDOWN_TIMEOUT_S):
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
    context = build_services(AppPaths.from_environment(), loop, verbose=verbose)
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

    def host_requests() -> HostRequests:
        """What MCP servers may ask, answered in this window (built once the SDK is loaded)."""
        from hybridmcp_app.services.mcp_requests import host_requests as requests_for
        from hybridmcp_app.ui.mcp.qt_elicitation_dialog import QtElicitationAsker
        from hybridmcp_app.ui.mcp.qt_sampling_dialog import QtSamplingApprover

        return requests_for(context, QtElicitationAsker(window), QtSamplingApprover(window))

    async def start_services() -> None:
        await detect_keychain(context, window.keychain.update_status)
        # Secrets are known by now. Each service starts on its own: one that cannot start (a
        # broken mcp.json) says why in its place and leaves the others running.
        context.tasks.spawn(
            serve_api(context, lambda text: window.banner.show_message(text, "warning")),
            name="openai-api",
        )
        context.tasks.spawn(
            start_mcp_host(context, window.mcp_host_ready, library_source, host_requests),
            name="mcp-host",
        )

    if not context.tasks.closed:  # a quit asked for while the window opened starts nothing
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
