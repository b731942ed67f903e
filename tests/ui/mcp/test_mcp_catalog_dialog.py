"""MCP tab → Add from catalogue…: search, details, the generated form, Add (Enter), and the new
server switched off and selected in the tab; its secret only in the keychain."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
import qasync
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QComboBox, QLineEdit
from pytestqt.qtbot import QtBot

from hybridmcp_app.config.mcp_json_file import McpJsonFile
from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.config.secrets import KeychainStatus, SecretStore
from hybridmcp_app.mcp_host.server_status import ServerState
from hybridmcp_app.services import mcp_catalog
from hybridmcp_app.services.app_startup import start_mcp_host
from hybridmcp_app.services.mcp_catalog import AddResult, CatalogEntry, add, load_catalog
from hybridmcp_app.ui.main_window import MainWindow
from hybridmcp_app.ui.mcp.qt_mcp_catalog_dialog import QtMcpCatalogDialog
from tests.helpers.waiting import wait_until

API_KEY = "BSA-the-real-brave-key-42"


@pytest.fixture
def window_with_host(
    app_paths: AppPaths, make_window: Callable[..., MainWindow], qt_loop: qasync.QEventLoop
) -> MainWindow:
    """The window over an mcp.json with no servers, its MCP host started."""
    app_paths.mcp_config_file.parent.mkdir(parents=True, exist_ok=True)
    app_paths.mcp_config_file.write_text(json.dumps({"mcpServers": {}}))
    window = make_window()
    qt_loop.run_until_complete(start_mcp_host(window.context, window.mcp_host_ready))
    return window


def open_dialog(window: MainWindow) -> QtMcpCatalogDialog | None:
    found = [d for d in window.findChildren(QtMcpCatalogDialog) if d.isVisible()]
    return found[0] if found else None


def test_a_server_found_by_search_is_added_switched_off_with_its_key_in_the_keychain(
    window_with_host: MainWindow,
    app_paths: AppPaths,
    qt_loop: qasync.QEventLoop,
    qtbot: QtBot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    window = window_with_host
    view = window.mcp_view
    assert view.catalog_button.isEnabled()
    results: list[AddResult | None] = []

    async def scenario() -> None:
        task = view.catalog_button.start()
        assert task is not None
        await wait_until(lambda: open_dialog(window) is not None)
        dialog = open_dialog(window)
        assert dialog is not None and dialog.list.count() >= 14
        dialog.list.setFocus()
        (find,) = [s for s in dialog.findChildren(QShortcut) if s.key() == QKeySequence("Ctrl+F")]
        find.activated.emit()
        assert dialog.search.hasFocus() or dialog.focusWidget() is dialog.search
        qtbot.keyClicks(dialog.search, "BRAVE search")
        assert dialog.list.count() == 1
        assert dialog.list.item(0).text() == "Brave Search\nBrave Software · runs here"
        details = dialog.details.text()
        assert "BRAVE_API_KEY={api_key}" in details and "https://brave.com/search/api/" in details
        assert "brave_web_search" in details and "<b>API key</b> (required, secret)" in details
        key = dialog.fields["api_key"]
        assert isinstance(key, QLineEdit) and key.echoMode() is QLineEdit.EchoMode.Password

        qtbot.keyClick(dialog.search, Qt.Key.Key_Return)  # Enter adds: the key is missing
        assert dialog.errors.text() == (
            "Brave Search: “API key” is required (Your Brave Search API key (there is a free plan))"
        )
        assert dialog.isVisible() and "brave-search" not in app_paths.mcp_config_file.read_text()
        key.setText(API_KEY)
        qtbot.keyClick(dialog.search, Qt.Key.Key_Return)
        results.append(await task)

    qt_loop.run_until_complete(scenario())
    (added,) = results
    assert added is not None and added.name == "brave-search"
    written = json.loads(app_paths.mcp_config_file.read_text())["mcpServers"]["brave-search"]
    assert written["disabled"] is True
    assert written["env"] == {"BRAVE_API_KEY": "${secret:BRAVE_SEARCH_API_KEY}"}
    stored = window.context.secrets.get("BRAVE_SEARCH_API_KEY")
    assert stored is not None and stored.get_secret_value() == API_KEY
    assert API_KEY not in app_paths.mcp_config_file.read_text() and API_KEY not in caplog.text
    host = window.context.mcp_host
    assert host is not None and not host.enabled("brave-search")
    assert host.supervisors["brave-search"].status.state is ServerState.STOPPED
    assert view.selected() == "brave-search"
    assert not view._rows["brave-search"].switch.isChecked()
    assert "switched off" in window.banner.label.text()


def test_a_choice_setting_is_a_list_and_a_folder_has_a_browse_button(
    window_with_host: MainWindow, qt_loop: qasync.QEventLoop, tmp_path: Path
) -> None:
    async def adder(
        entry: CatalogEntry, name: str, plain: dict[str, str], hidden: dict[str, str]
    ) -> AddResult:
        raise AssertionError("not added in this test")

    dialog = QtMcpCatalogDialog(load_catalog(), "", adder, window_with_host.context.tasks)
    dialog.search.setText("playwright")
    browser = dialog.fields["browser"]
    assert isinstance(browser, QComboBox)
    assert [browser.itemData(i) for i in range(browser.count())] == [
        "", "chrome", "firefox", "webkit", "msedge"
    ]  # fmt: skip
    assert dialog.values() == ({"browser": ""}, {})
    dialog.search.setText("filesystem")
    assert dialog.name.text() == "filesystem"
    folder = dialog.fields["folder"]
    assert isinstance(folder, QLineEdit) and folder.placeholderText() == "required"
    assert folder.parentWidget() is not dialog  # in a row with its Browse… button
    dialog.search.setText("no server is called this")
    assert dialog.list.count() == 0 and not dialog.add_button.isEnabled()
    assert dialog.details.text() == "Nothing matches."
    dialog.deleteLater()


def test_a_failed_add_keeps_what_was_typed_and_says_why(
    window_with_host: MainWindow, qt_loop: qasync.QEventLoop, tmp_path: Path
) -> None:
    source = McpJsonFile(tmp_path / "mcp.json")
    no_keychain = SecretStore(None, KeychainStatus(False, "none", "No keychain here."))

    async def adder(
        entry: CatalogEntry, name: str, plain: dict[str, str], hidden: dict[str, str]
    ) -> AddResult:
        return add(source, entry, plain, hidden, no_keychain, name=name)

    dialog = QtMcpCatalogDialog(load_catalog(), "", adder, window_with_host.context.tasks)
    dialog.search.setText("github remote")
    token = dialog.fields["token"]
    assert isinstance(token, QLineEdit)
    token.setText("ghp_typed")
    dialog.name.setText("work-github")
    task = dialog.add()
    assert task is not None
    qt_loop.run_until_complete(task)
    assert dialog.errors.text() == "No keychain here."
    assert token.text() == "ghp_typed" and dialog.name.text() == "work-github"
    assert dialog.added is None and dialog.add_button.isEnabled()
    assert not source.path.exists()
    dialog.deleteLater()


def test_a_broken_catalogue_is_explained_and_the_tab_keeps_working(
    window_with_host: MainWindow,
    qt_loop: qasync.QEventLoop,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    broken = tmp_path / "catalog.json"
    broken.write_text('{"servers": [', encoding="utf-8")
    monkeypatch.setattr(mcp_catalog, "default_catalog_path", lambda: broken)
    window = window_with_host
    shown: list[str] = []

    async def scenario() -> AddResult | None:
        task = window.mcp_view.catalog_button.start()
        assert task is not None
        await wait_until(lambda: open_dialog(window) is not None)
        dialog = open_dialog(window)
        assert dialog is not None
        shown.append(dialog.errors.text())
        assert dialog.list.count() == 0 and not dialog.add_button.isEnabled()
        dialog.reject()
        result: AddResult | None = await task
        return result

    assert qt_loop.run_until_complete(scenario()) is None
    assert shown[0].startswith(f"the MCP catalogue {broken} is not valid JSON")
    assert "\n" not in shown[0]
    assert window.mcp_view.add_button.isEnabled() and window.mcp_view.catalog_button.isEnabled()
