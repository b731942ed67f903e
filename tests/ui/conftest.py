"""Build the real window over real settings in a temporary HYBRIDMCP_HOME."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import qasync
import shiboken6
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.config.secrets import KeychainStatus, SecretStore
from hybridmcp_app.services.app_services import AppServices, build_services
from hybridmcp_app.ui.main_window import MainWindow
from hybridmcp_app.ui.qt_event_loop import create_event_loop
from hybridmcp_app.ui.qt_garbage_collector import QtGarbageCollector
from tests.helpers.memory_keyring import MemoryKeyring
from tests.helpers.secret_service import secret_service  # noqa: F401 (a fixture)
from tests.helpers.waiting import PATIENCE_MS, PATIENCE_S

ContextFactory = Callable[..., AppServices]


@pytest.fixture
def memory_keyring() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture(autouse=True)
def _collect_garbage_on_the_gui_thread(qapp: QApplication) -> Iterator[None]:
    """As the app does (QtGarbageCollector): no automatic collection in worker threads."""
    collector = QtGarbageCollector()
    yield
    collector.stop()


@pytest.fixture
def qt_loop(qapp: QApplication) -> Iterator[qasync.QEventLoop]:
    """The app's kind of event loop: asyncio on Qt. Tests run it with ``run_until_complete``."""
    loop = create_event_loop(qapp)
    yield loop
    loop.close()
    asyncio.set_event_loop(None)


@pytest.fixture
def make_context(
    app_paths: AppPaths,
    memory_keyring: MemoryKeyring,
    qt_loop: qasync.QEventLoop,
    model_cache: Path,
) -> Iterator[ContextFactory]:
    made: list[AppServices] = []

    def factory(secrets: SecretStore | None = None) -> AppServices:
        context = build_services(
            app_paths,
            qt_loop,
            verbose=False,
            secrets=secrets or SecretStore(memory_keyring, KeychainStatus(True, "memory")),
            model_cache=model_cache,
        )
        made.append(context)
        return context

    yield factory
    for context in made:
        qt_loop.run_until_complete(context.close(PATIENCE_S))
        context.local_model.close_now(timeout_s=PATIENCE_S)


@pytest.fixture
def make_window(
    qtbot: QtBot, make_context: ContextFactory, qapp: QApplication
) -> Iterator[Callable[..., MainWindow]]:
    windows: list[MainWindow] = []

    def factory(context: AppServices | None = None) -> MainWindow:
        window = MainWindow(context or make_context())
        windows.append(window)
        window.show()
        qtbot.waitExposed(window, timeout=PATIENCE_MS)
        return window

    yield factory
    # The window deletes itself when closed (WA_DeleteOnClose): close those still open, then
    # let Qt run the deletions.
    for window in windows:
        if shiboken6.isValid(window):
            window.close()
    qapp.sendPostedEvents(None, QEvent.Type.DeferredDelete)


@pytest.fixture
def window(make_window: Callable[..., MainWindow]) -> MainWindow:
    return make_window()
