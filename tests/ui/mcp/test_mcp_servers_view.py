"""The MCP Servers tab over a real mcp.json and real server subprocesses."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import qasync
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QCheckBox, QFileDialog, QLabel

from hybridmcp_app.app import shut_down
from hybridmcp_app.config.mcp_config_store import McpConfigStore
from hybridmcp_app.config.mcp_import_sources import ImportSource
from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.config.server_token import TOKEN_SECRET_NAME
from hybridmcp_app.config.settings import Settings
from hybridmcp_app.config.settings_store import SettingsStore
from hybridmcp_app.documents.app_library_source import AppLibrarySource
from hybridmcp_app.mcp_host.builtin_servers import DOCUMENTS_MODULE
from hybridmcp_app.mcp_host.server_status import ServerState
from hybridmcp_app.services.app_startup import start_mcp_host
from hybridmcp_app.ui.main_window import MainWindow
from hybridmcp_app.ui.mcp.qt_mcp_import_dialog import QtMcpImportDialog
from hybridmcp_app.ui.mcp.qt_mcp_server_dialog import QtMcpServerDialog
from hybridmcp_app.ui.mcp.qt_secret_dialog import QtSecretDialog
from hybridmcp_app.ui.mcp.qt_server_snippet_panel import HIDDEN
from hybridmcp_app.ui.mcp.qt_tool_approval_dialog import QtToolApprovalDialog
from tests.helpers.waiting import PATIENCE_S, wait_until
from tests.integration.mcp_host.conftest import REPO, server_processes


@pytest.fixture(autouse=True)
def _patient_server_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Servers get a safety net to start, not the app's 30 s: a busy machine may take long."""
    monkeypatch.setenv("HYBRIDMCP_MCP__INIT_TIMEOUT_S", str(PATIENCE_S))


def helper_entry(**extra: object) -> dict[str, object]:
    return {"command": sys.executable, "cwd": str(REPO),
            "args": ["-m", "tests.helpers.mcp_test_server"], **extra}  # fmt: skip


def greedy_settings(app_paths: AppPaths) -> None:
    """Short, repeatable answers from the local model."""
    parameters = {"temperature": 0.0, "max_tokens": 64}
    data = {"llm": {"local": {"inference": {"n_ctx": 1024, "parameters": parameters}}}}
    SettingsStore(app_paths).save(Settings.model_validate(data))


async def tool_ready(window: MainWindow, tool: str) -> None:
    """Wait until ``tool`` can be called and is the one picked in the chat."""
    host = window.context.mcp_host
    assert host is not None
    try:
        await wait_until(
            lambda: host.registry.tool(tool) is not None and window.chat_view.tools.choice == tool
        )
    except AssertionError:
        status = host.supervisors["helper"].status
        raise AssertionError(
            f"{tool} unavailable: {status.state} {status.message!r} "
            f"restarts={status.restarts} choice={window.chat_view.tools.choice}"
        ) from None


def start_host(window: MainWindow, qt_loop: qasync.QEventLoop) -> None:
    qt_loop.run_until_complete(start_mcp_host(window.context, window.mcp_host_ready))


def test_servers_show_their_state_tools_and_problems_and_the_switches_persist(
    app_paths: AppPaths, make_window: Callable[..., MainWindow], qt_loop: qasync.QEventLoop
) -> None:
    app_paths.mcp_config_file.parent.mkdir(parents=True, exist_ok=True)
    app_paths.mcp_config_file.write_text(json.dumps({"mcpServers": {
        "helper": helper_entry(), "typo": {"comand": "x"},
    }}))  # fmt: skip
    window = make_window()
    view = window.mcp_view
    assert view.title.text() == "Starting the MCP host…"
    start_host(window, qt_loop)
    host = window.context.mcp_host
    assert host is not None
    qt_loop.run_until_complete(
        wait_until(lambda: host.supervisors["helper"].status.state is ServerState.READY)
    )
    view.redraw()
    assert (
        view.problems.isVisibleTo(view) and "typo: needs either 'command'" in view.problems.text()
    )
    row = view._rows["helper"]
    assert "ready" in row.label.text() and row.switch.isChecked()
    assert view.tools.rowCount() == len(host.supervisors["helper"].status.tools)
    assert view.tools.isVisibleTo(view) and not view.tools_note.isVisibleTo(view)
    names = [view.tools.item(r, 0).text() for r in range(view.tools.rowCount())]  # type: ignore[union-attr]
    add_row = names.index("add")
    auto = view.tools.cellWidget(add_row, 3)
    assert isinstance(auto, QCheckBox) and auto.isChecked()  # read-only: runs without asking

    enabled = view.tools.cellWidget(add_row, 2)
    assert isinstance(enabled, QCheckBox)
    enabled.click()
    qt_loop.run_until_complete(
        wait_until(lambda: "helper__add" not in {t.qualified_name for t in host.registry.tools()})
    )
    saved = json.loads(app_paths.mcp_config_file.read_text())["mcpServers"]["helper"]
    assert saved["disabledTools"] == ["add"]

    row.switch.click()
    qt_loop.run_until_complete(
        wait_until(
            lambda: (
                not host.enabled("helper")
                and host.supervisors["helper"].status.state is ServerState.STOPPED
            )
        )
    )
    assert json.loads(app_paths.mcp_config_file.read_text())["mcpServers"]["helper"]["disabled"]
    window.close()
    assert shut_down(window.context, qt_loop) == []
    assert server_processes() == []


@pytest.fixture
def switched_off_helper(
    app_paths: AppPaths, make_window: Callable[..., MainWindow], qt_loop: qasync.QEventLoop
) -> MainWindow:
    """The window over an mcp.json whose one server is switched off (never started)."""
    app_paths.mcp_config_file.parent.mkdir(parents=True, exist_ok=True)
    app_paths.mcp_config_file.write_text(
        json.dumps({"mcpServers": {"helper": helper_entry(disabled=True)}})
    )
    window = make_window()
    start_host(window, qt_loop)
    return window


def test_a_server_that_never_ran_says_how_to_get_its_tools(switched_off_helper: MainWindow) -> None:
    view = switched_off_helper.mcp_view
    view.redraw()
    assert view.selected() == "helper"
    assert not view.tools.isVisibleTo(view)
    assert view.tools_note.isVisibleTo(view)
    assert view.tools_note.text().startswith("Stopped: switch it on")


def test_removing_a_server_can_be_undone(
    app_paths: AppPaths, switched_off_helper: MainWindow, qt_loop: qasync.QEventLoop
) -> None:
    window = switched_off_helper
    view = window.mcp_view
    view.list.setCurrentRow(0)
    task = view.remove_selected()
    assert task is not None
    qt_loop.run_until_complete(task)
    assert view.list.count() == 0
    assert json.loads(app_paths.mcp_config_file.read_text())["mcpServers"] == {}
    window.banner.action_button.click()  # Undo
    qt_loop.run_until_complete(wait_until(lambda: view.list.count() == 1))
    assert "helper" in json.loads(app_paths.mcp_config_file.read_text())["mcpServers"]


def test_the_server_dialog_validates_and_warns_about_plain_text_secrets(
    window: MainWindow, tmp_path: Path
) -> None:
    dialog = QtMcpServerDialog(window)
    dialog.name.setText("github")
    dialog.accept()
    assert "needs either 'command'" in dialog.errors.text() or "command" in dialog.errors.text()
    dialog.command.setText("npx")
    dialog.args.setPlainText("-y\n@modelcontextprotocol/server-github")
    dialog.env.setPlainText("GITHUB_TOKEN=ghp_plaintext")
    dialog.accept()
    assert dialog.errors.text().startswith("Plain-text secret in github.env.GITHUB_TOKEN")
    dialog.env.setPlainText("GITHUB_TOKEN=${secret:GITHUB_TOKEN}")
    dialog.accept()
    assert dialog.result_entry == ("github", {
        "command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"],
        "env": {"GITHUB_TOKEN": "${secret:GITHUB_TOKEN}"},
    })  # fmt: skip
    remote = QtMcpServerDialog(window, name="docs", entry={"url": "http://127.0.0.1:9/mcp"})
    assert remote.kind.currentData() == "remote"
    remote.headers.setPlainText("Authorization: Bearer ${secret:DOCS}")
    remote.accept()
    assert remote.result_entry == ("docs", {
        "url": "http://127.0.0.1:9/mcp", "transport": "streamable-http",
        "headers": {"Authorization": "Bearer ${secret:DOCS}"},
    })  # fmt: skip


def window_with_helper(app_paths: AppPaths, make_window: Callable[..., MainWindow]) -> MainWindow:
    app_paths.mcp_config_file.parent.mkdir(parents=True, exist_ok=True)
    app_paths.mcp_config_file.write_text(json.dumps({"mcpServers": {"helper": helper_entry()}}))
    greedy_settings(app_paths)
    return make_window()


async def ask_local_with_tool(window: MainWindow, tool: str, prompt: str) -> None:
    """The test server running, the model loaded, ``tool`` picked, and ``prompt`` sent.

    Await it in the same run of the loop as what follows: between two runs qasync still
    delivers Qt events, and the MCP client's streams, woken with no running loop, fail."""
    await start_mcp_host(window.context, window.mcp_host_ready)
    view = window.chat_view
    await wait_until(lambda: view.tools.findData(tool) >= 0)
    await window.context.local_model.load(window.context.settings.llm.local)
    view.tools.choose(tool)
    await tool_ready(window, tool)
    view.select_strategy("local")
    view.continue_text.setChecked(False)
    view.prompt.setPlainText(prompt)
    view.send()


def test_the_local_model_calls_a_picked_tool_and_the_call_shows_in_its_pane(
    app_paths: AppPaths, make_window: Callable[..., MainWindow], qt_loop: qasync.QEventLoop
) -> None:
    window = window_with_helper(app_paths, make_window)
    view = window.chat_view

    async def scenario() -> None:
        await ask_local_with_tool(window, "helper__add", "Add 2 and 3.")
        await wait_until(lambda: not view.answering)

    qt_loop.run_until_complete(scenario())
    shown = view._panes["local"].text.toPlainText()
    assert "🔧 helper · add" in shown
    assert "✓ add (auto" in shown  # read-only: ran without asking


def test_a_tool_that_needs_approval_asks_and_a_denial_is_shown(
    app_paths: AppPaths, make_window: Callable[..., MainWindow], qt_loop: qasync.QEventLoop
) -> None:
    window = window_with_helper(app_paths, make_window)
    view = window.chat_view
    asked: list[str] = []

    def dialog() -> QtToolApprovalDialog | None:
        found = window.findChildren(QtToolApprovalDialog)
        return found[0] if found and found[0].isVisible() else None

    async def scenario() -> None:
        await ask_local_with_tool(window, "helper__crash", "Stop the server.")
        try:
            await wait_until(lambda: dialog() is not None)
        except AssertionError:
            panes = {leg: pane.text.toPlainText() for leg, pane in view._panes.items()}
            raise AssertionError(
                f"no dialog; answering={view.answering} panes={panes} "
                f"trace={view.trace.text()!r} tools={view.tools.choice}"
            ) from None
        shown = dialog()
        assert shown is not None
        asked.append(shown.findChildren(QLabel)[0].text())
        shown.deny.click()
        await wait_until(lambda: not view.answering)

    qt_loop.run_until_complete(scenario())
    assert "crash" in asked[0]
    assert "✗ crash (denied" in view._panes["local"].text.toPlainText()
    host = window.context.mcp_host
    assert host is not None and host.supervisors["helper"].status.state is ServerState.READY


def test_importing_from_claude_desktop_previews_then_writes_the_chosen_servers(
    window: MainWindow, tmp_path: Path
) -> None:
    claude = tmp_path / "claude_desktop_config.json"
    claude.write_text(json.dumps({"mcpServers": {
        "github": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"],
                   "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_plain"}},
        "fs": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem"]},
        "skip-me": {"command": "node", "args": ["x.js"]},
    }}))  # fmt: skip
    store = McpConfigStore(tmp_path / "mcp.json")
    secrets = window.context.secrets
    dialog = QtMcpImportDialog(
        store, secrets, window, sources=[ImportSource("Claude Desktop", "claude", claude)]
    )
    rows = {dialog.table.item(r, 0).text(): r for r in range(dialog.table.rowCount())}  # type: ignore[union-attr]
    assert set(rows) == {"github", "fs", "skip-me"}
    assert "Plain-text secrets: github.env.GITHUB_PERSONAL_ACCESS_TOKEN" in dialog.notes.text()
    dialog.table.item(rows["skip-me"], 0).setCheckState(Qt.CheckState.Unchecked)  # type: ignore[union-attr]
    dialog.accept()
    written = json.loads((tmp_path / "mcp.json").read_text())["mcpServers"]
    assert set(written) == {"github", "fs"}
    reference = written["github"]["env"]["GITHUB_PERSONAL_ACCESS_TOKEN"]
    assert reference.startswith("${secret:")
    name = reference.removeprefix("${secret:").removesuffix("}")
    stored = secrets.get(name)
    assert stored is not None and stored.get_secret_value() == "ghp_plain"
    assert "ghp_plain" not in (tmp_path / "mcp.json").read_text()


def test_the_secrets_dialog_stores_a_token_and_retries_the_servers_that_lacked_it(
    app_paths: AppPaths,
    make_window: Callable[..., MainWindow],
    qt_loop: qasync.QEventLoop,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app_paths.mcp_config_file.parent.mkdir(parents=True, exist_ok=True)
    entry = helper_entry(env={"TOKEN": "${secret:HELPER_TOKEN}"})
    app_paths.mcp_config_file.write_text(json.dumps({"mcpServers": {"helper": entry}}))
    window = make_window()
    start_host(window, qt_loop)
    host = window.context.mcp_host
    assert host is not None
    helper = host.supervisors["helper"]
    qt_loop.run_until_complete(wait_until(lambda: helper.status.state is ServerState.FAILED))
    assert "no secret HELPER_TOKEN" in helper.status.message
    restarted: list[str] = []

    async def restart(name: str) -> None:  # the restart itself: test_mcp_host
        restarted.append(name)

    monkeypatch.setattr(host, "restart", restart)

    def fill_and_save(dialog: QtSecretDialog) -> int:
        dialog.name.setText("HELPER_TOKEN")
        dialog.value.setText("t0ken")
        dialog.accept()
        return int(dialog.result())

    monkeypatch.setattr(QtSecretDialog, "exec", fill_and_save)
    task = window.mcp_view.store_secret()
    assert task is not None
    qt_loop.run_until_complete(task)
    assert restarted == ["helper"]
    stored = window.context.secrets.get("HELPER_TOKEN")
    assert stored is not None and stored.get_secret_value() == "t0ken"
    assert "t0ken" not in app_paths.mcp_config_file.read_text()


def test_out_of_the_box_the_projects_servers_are_listed_with_an_entry_and_token_to_copy(
    app_paths: AppPaths, make_window: Callable[..., MainWindow], qt_loop: qasync.QEventLoop
) -> None:
    assert not app_paths.mcp_config_file.exists()
    window = make_window()
    source = AppLibrarySource()
    source.opened(None, "not opened in this test")
    qt_loop.run_until_complete(start_mcp_host(window.context, window.mcp_host_ready, source))
    host = window.context.mcp_host
    assert host is not None
    documents = host.supervisors["documents"]
    qt_loop.run_until_complete(wait_until(lambda: documents.status.state is ServerState.READY))
    assert host.supervisors["workspace"].status.state is ServerState.STOPPED
    view = window.mcp_view
    view.redraw()
    assert sorted(view._rows) == ["docstore", "documents", "storage", "turtle_soup", "workspace"]
    assert view._rows["documents"].switch.isChecked()
    assert not view._rows["workspace"].switch.isChecked()

    view.list.setCurrentRow(1)  # documents
    assert "runs inside HybridMCP" in view.title.text()
    panel = view.elsewhere
    entry = json.loads(panel.snippet.toPlainText())["mcpServers"]["documents"]
    assert entry == {
        "command": sys.executable,
        "args": ["-m", DOCUMENTS_MODULE],
    }
    panel.copy_button.click()
    assert json.loads(QGuiApplication.clipboard().text()) == {"mcpServers": {"documents": entry}}
    assert panel.token.text() == HIDDEN and "runs this server itself" in panel.note.text()
    qt_loop.run_until_complete(panel.reveal_token(copy=True))
    kept = window.context.secrets.get(TOKEN_SECRET_NAME)
    assert kept is not None and panel.token.text() == kept.get_secret_value()
    assert QGuiApplication.clipboard().text() == kept.get_secret_value()
    qt_loop.run_until_complete(panel.reveal_token())  # the same token, not a new one
    assert panel.token.text() == kept.get_secret_value()
    window.close()
    assert shut_down(window.context, qt_loop) == []


def test_servers_reporting_while_the_app_quits_redraw_without_starting_work(
    app_paths: AppPaths, make_window: Callable[..., MainWindow], qt_loop: qasync.QEventLoop
) -> None:
    app_paths.mcp_config_file.parent.mkdir(parents=True, exist_ok=True)
    app_paths.mcp_config_file.write_text(json.dumps({"mcpServers": {"helper": helper_entry()}}))
    window = make_window()
    start_host(window, qt_loop)
    host = window.context.mcp_host
    assert host is not None
    qt_loop.run_until_complete(
        wait_until(lambda: host.supervisors["helper"].status.state is ServerState.READY)
    )
    window.mcp_view.list.setCurrentRow(0)
    qt_loop.run_until_complete(window.context.tasks.shutdown(PATIENCE_S))

    window.mcp_view.redraw()  # a server's last status change arrives after shutdown began

    assert window.context.tasks.running == []
    assert "helper" in window.mcp_view.title.text()


def test_switching_the_workspace_server_on_with_no_folder_asks_for_one_and_serves_it(
    make_window: Callable[..., MainWindow],
    qt_loop: qasync.QEventLoop,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "notes.md").write_text("Otters hold hands.\n", encoding="utf-8")
    answers = iter(["", str(project)])  # the first time the picker is cancelled
    asked: list[str] = []

    def pick(_parent: object, caption: str, _start: str) -> str:
        asked.append(caption)
        return next(answers)

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", pick)
    window = make_window()
    source = AppLibrarySource()
    source.opened(None, "not opened in this test")
    qt_loop.run_until_complete(start_mcp_host(window.context, window.mcp_host_ready, source))
    host = window.context.mcp_host
    assert host is not None
    view = window.mcp_view
    view.redraw()
    switch = view._rows["workspace"].switch

    switch.click()  # cancelled: nothing starts, and the banner says why
    assert asked == ["Folder the workspace server may read and change"]
    assert not switch.isChecked() and not host.enabled("workspace")
    assert "workspace stays off: it works in a folder you choose" in window.banner.label.text()

    switch.click()  # chosen: kept in the settings, and the server serves that folder
    assert window.context.settings.mcp.workspace_roots == (project,)
    workspace = host.supervisors["workspace"]

    async def read_once_ready() -> str:
        # In one run of the loop: the server's session lives on it, as it does in the app.
        await wait_until(lambda: workspace.status.state in (ServerState.READY, ServerState.FAILED))
        assert workspace.status.state is ServerState.READY, workspace.status.message
        outcome = await host.registry.call("workspace__read_file", {"path": "notes.md"})
        return outcome.text

    assert "Otters hold hands." in qt_loop.run_until_complete(read_once_ready())
    assert len(asked) == 2
    saved = json.loads(window.context.paths.settings_file.read_text())
    assert saved["mcp"]["workspace_roots"] == [str(project)]
