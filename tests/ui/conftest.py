"""Build the real window over real settings in a temporary HYBRIDMCP_HOME."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pytestqt.qtbot import QtBot

from hybridmcp_app.config.logging_setup import configure_logging
from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.config.secrets import KeychainStatus, SecretStore
from hybridmcp_app.config.settings_store import SettingsStore
from hybridmcp_app.core.background_tasks import BackgroundTasks
from hybridmcp_app.ui.app_context import AppContext
from hybridmcp_app.ui.main_window import MainWindow
from tests.helpers.memory_keyring import MemoryKeyring

ContextFactory = Callable[..., AppContext]


@pytest.fixture
def memory_keyring() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def make_context(app_paths: AppPaths, memory_keyring: MemoryKeyring) -> ContextFactory:
    def factory(secrets: SecretStore | None = None) -> AppContext:
        store = SettingsStore(app_paths)
        settings, report = store.load()
        return AppContext(
            paths=app_paths,
            settings_store=store,
            settings=settings,
            secrets=secrets or SecretStore(memory_keyring, KeychainStatus(True, "memory")),
            tasks=BackgroundTasks(),
            log_buffer=configure_logging(app_paths, settings.logging),
            load_report=report,
        )

    return factory


@pytest.fixture
def make_window(qtbot: QtBot, make_context: ContextFactory) -> Callable[..., MainWindow]:
    def factory(context: AppContext | None = None) -> MainWindow:
        window = MainWindow(context or make_context())
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        return window

    return factory


@pytest.fixture
def window(make_window: Callable[..., MainWindow]) -> MainWindow:
    return make_window()
