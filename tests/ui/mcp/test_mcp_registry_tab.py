"""Add from catalogue… → "MCP Registry (online)": nothing is contacted until the user
searches; a registry on 127.0.0.1 is searched (debounced, paged) and a server added off with
its token in the keychain; an unreachable registry says so and the offline catalogue works."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator

import pytest
import qasync
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit
from pytestqt.qtbot import QtBot

from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.config.secrets import origin_of
from hybridmcp_app.services.app_startup import start_mcp_host
from hybridmcp_app.services.mcp_catalog import AddResult, CatalogEntry, load_catalog
from hybridmcp_app.services.mcp_registry_entries import RegistryEntry
from hybridmcp_app.ui.main_window import MainWindow
from hybridmcp_app.ui.mcp.qt_mcp_catalog_dialog import REGISTRY, QtMcpCatalogDialog
from tests.helpers import registry_documents as documents
from tests.helpers.mcp_registry_server import RegistryServer, registry_serving
from tests.helpers.waiting import wait_until

TOKEN = "notes-token-from-the-ui-7d1e"


@pytest.fixture
def registry() -> RegistryServer:
    return RegistryServer(documents=documents.servers() + documents.fillers(35))


@pytest.fixture
def registry_url(registry: RegistryServer) -> Iterator[str]:
    with registry_serving(registry) as url:
        yield url


def window_over(
    url: str, app_paths: AppPaths, make_window: Callable[..., MainWindow], loop: qasync.QEventLoop
) -> MainWindow:
    """The window over an empty mcp.json, its host started, the registry setting at ``url``."""
    app_paths.mcp_config_file.parent.mkdir(parents=True, exist_ok=True)
    app_paths.mcp_config_file.write_text(json.dumps({"mcpServers": {}}))
    window = make_window()
    loop.run_until_complete(start_mcp_host(window.context, window.mcp_host_ready))
    settings = window.context.settings
    mcp = settings.mcp.model_copy(update={"registry_url": url})
    window.apply_settings(settings.model_copy(update={"mcp": mcp}))
    return window


def open_dialog(window: MainWindow) -> QtMcpCatalogDialog | None:
    found = [d for d in window.findChildren(QtMcpCatalogDialog) if d.isVisible()]
    return found[0] if found else None


def test_a_registry_server_found_by_search_is_added_off_with_its_token_in_the_keychain(
    registry: RegistryServer,
    registry_url: str,
    app_paths: AppPaths,
    make_window: Callable[..., MainWindow],
    qt_loop: qasync.QEventLoop,
    qtbot: QtBot,
) -> None:
    window = window_over(registry_url, app_paths, make_window, qt_loop)
    results: list[AddResult | None] = []

    async def scenario() -> None:
        task = window.mcp_view.catalog_button.start()
        assert task is not None
        await wait_until(lambda: open_dialog(window) is not None)
        dialog = open_dialog(window)
        assert dialog is not None and dialog.sources.isTabEnabled(REGISTRY)
        dialog.sources.setCurrentIndex(REGISTRY)
        assert dialog.registry.isVisible() and dialog.list.count() == 0
        qtbot.keyClicks(dialog.search, "notes")
        assert registry.requests == []  # typing asks nothing; Enter does
        qtbot.keyClick(dialog.search, Qt.Key.Key_Return)
        await wait_until(lambda: dialog.list.count() == 1)
        assert (
            dialog.list.item(0).text() == "Notes (hosted)\ncom.notesapp · remote (streamable-http)"
        )
        assert "In the MCP Registry as</b> com.notesapp/notes" in dialog.details.text()
        assert "not reviewed by HybridMCP" in dialog.details.text()
        assert dialog.registry.state.text().startswith("1 found in the MCP Registry")
        token = dialog.fields["api_token"]
        assert isinstance(token, QLineEdit) and token.echoMode() is QLineEdit.EchoMode.Password
        token.setText(TOKEN)
        qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
        results.append(await task)

    qt_loop.run_until_complete(scenario())
    (added,) = results
    assert added is not None and added.name == "notes"
    (request,) = registry.requests
    assert request["query"] == {"limit": "30", "version": "latest", "search": "notes"}
    written = json.loads(app_paths.mcp_config_file.read_text())["mcpServers"]["notes"]
    assert written["disabled"] is True and written["url"] == "https://mcp.notesapp.example.com/mcp"
    assert written["headers"] == {"Authorization": "Bearer ${secret:NOTES_API_TOKEN}"}
    stored = window.context.secrets.get("NOTES_API_TOKEN")
    assert stored is not None and stored.get_secret_value() == TOKEN
    assert window.context.secrets.origin("NOTES_API_TOKEN") == origin_of(written["url"])
    assert TOKEN not in app_paths.mcp_config_file.read_text()
    assert window.mcp_view.selected() == "notes"


def test_repeated_searches_ask_once_and_more_brings_the_next_page(
    registry: RegistryServer,
    registry_url: str,
    app_paths: AppPaths,
    make_window: Callable[..., MainWindow],
    qt_loop: qasync.QEventLoop,
    qtbot: QtBot,
) -> None:
    window = window_over(registry_url, app_paths, make_window, qt_loop)

    async def scenario() -> None:
        task = window.mcp_view.catalog_button.start()
        assert task is not None
        await wait_until(lambda: open_dialog(window) is not None)
        dialog = open_dialog(window)
        assert dialog is not None
        dialog.sources.setCurrentIndex(REGISTRY)
        dialog.search.setText("filler")
        for _ in range(3):
            qtbot.keyClick(dialog.search, Qt.Key.Key_Return)
        await wait_until(
            lambda: dialog.list.count() == 30 and dialog.registry.more_button.isEnabled()
        )
        assert len(registry.requests) == 1
        qtbot.mouseClick(dialog.registry.more_button, Qt.MouseButton.LeftButton)
        await wait_until(lambda: dialog.list.count() == 35)
        assert registry.requests[1]["query"]["cursor"] == "30"
        assert not dialog.registry.more_button.isEnabled()
        dialog.reject()
        assert await task is None

    qt_loop.run_until_complete(scenario())


def test_an_unreachable_registry_says_why_and_the_offline_catalogue_still_adds(
    app_paths: AppPaths,
    make_window: Callable[..., MainWindow],
    qt_loop: qasync.QEventLoop,
    qtbot: QtBot,
) -> None:
    with socket.socket() as probe:  # a port just freed: nothing listens there
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    window = window_over(closed, app_paths, make_window, qt_loop)
    results: list[AddResult | None] = []

    async def scenario() -> None:
        task = window.mcp_view.catalog_button.start()
        assert task is not None
        await wait_until(lambda: open_dialog(window) is not None)
        dialog = open_dialog(window)
        assert dialog is not None
        dialog.sources.setCurrentIndex(REGISTRY)
        dialog.search.setText("filesystem")
        qtbot.mouseClick(dialog.registry.search_button, Qt.MouseButton.LeftButton)
        await wait_until(lambda: "cannot be reached" in dialog.registry.state.text())
        assert dialog.registry.state.text() == (
            "The MCP Registry cannot be reached: the connection was refused; "
            "the offline catalogue still works."
        )
        assert dialog.list.count() == 0
        dialog.sources.setCurrentIndex(0)
        assert not dialog.registry.isVisible() and dialog.list.count() >= 1
        first = dialog.selected()
        assert first is not None and first.id == "filesystem"
        dialog.search.setText("time")
        qtbot.keyClick(dialog.search, Qt.Key.Key_Return)  # offline: Enter adds
        results.append(await task)

    qt_loop.run_until_complete(scenario())
    (added,) = results
    assert added is not None and added.name == "time"


def test_with_no_registry_address_the_online_source_is_off_and_says_how_to_turn_it_on(
    make_window: Callable[..., MainWindow],
) -> None:
    window = make_window()

    async def adder(
        entry: CatalogEntry, name: str, plain: dict[str, str], hidden: dict[str, str]
    ) -> AddResult:
        raise AssertionError("not added in this test")

    dialog = QtMcpCatalogDialog(load_catalog(), "", adder, window.context.tasks,
                                registry_off="Off: set the MCP Registry address")  # fmt: skip
    assert not dialog.sources.isTabEnabled(REGISTRY)
    assert dialog.sources.tabToolTip(REGISTRY) == "Off: set the MCP Registry address"
    assert not any(isinstance(dialog.list.item(n).data(Qt.ItemDataRole.UserRole), RegistryEntry)
                   for n in range(dialog.list.count()))  # fmt: skip
    dialog.deleteLater()
