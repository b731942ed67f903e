"""Pinning a tool in the MCP tab: the pin is saved in the settings, and while the local side
chooses the tools the provider sees, the next request carries it whatever its rank. Over real
servers of ours (subprocesses), the real tool loop and the echo provider on 127.0.0.1, whose log
holds every request's ``tools`` as sent."""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
import qasync
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from hybridmcp_app.app import shut_down
from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.config.settings import Settings
from hybridmcp_app.config.settings_store import SettingsStore
from hybridmcp_app.mcp_host.builtin_servers import DOCSTORE_MODULE, WORKSPACE_MODULE
from hybridmcp_app.mcp_host.server_status import ServerState
from hybridmcp_app.orchestration.tool_offer import SEARCH_TOOLS
from hybridmcp_app.services.app_startup import start_mcp_host
from hybridmcp_app.ui.chat.qt_tool_picker import ALL
from hybridmcp_app.ui.main_window import MainWindow
from hybridmcp_app.ui.mcp.qt_server_tools_table import PIN_OFF_TIP, QtServerToolsTable
from tests.helpers.echo_provider import EchoProvider, echo_provider
from tests.helpers.memory_keyring import MemoryKeyring
from tests.helpers.waiting import PATIENCE_S, wait_until

PINNED = "docstore__delete"
Scenario = Callable[[], Awaitable[None]]
QUESTION = "Read the file notes.md in my project."


@pytest.fixture(autouse=True)
def _patient_server_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HYBRIDMCP_MCP__INIT_TIMEOUT_S", str(PATIENCE_S))


@pytest.fixture
def echo() -> Iterator[EchoProvider]:
    with echo_provider(api_key="echo-key") as server:
        yield server


def configure(app_paths: AppPaths, tmp_path: Path, echo: EchoProvider, choose: bool) -> None:
    """docstore and workspace (over ``tmp_path/project``) on; the echo provider as "lab"; the
    local side choosing 2 tools from the first one on (``choose``)."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "notes.md").write_text("# Notes\n")
    servers = {
        "docstore": {"command": sys.executable, "args": ["-m", DOCSTORE_MODULE]},
        "workspace": {"command": sys.executable,
                      "args": ["-m", WORKSPACE_MODULE, "--root", str(project)]},
    }  # fmt: skip
    app_paths.mcp_config_file.parent.mkdir(parents=True, exist_ok=True)
    app_paths.mcp_config_file.write_text(json.dumps({"mcpServers": servers}))
    provider = {"name": "lab", "base_url": echo.base_url, "default_model": "echo",
                "api_key_secret": "LAB_KEY", "timeout_s": PATIENCE_S}  # fmt: skip
    mcp = {"choose_tools": choose, "choose_tools_above": 0, "chosen_tools": 2}
    settings = {"providers": {"items": [provider], "active": "lab"}, "mcp": mcp}
    SettingsStore(app_paths).save(Settings.model_validate(settings))


@pytest.fixture
def open_window(
    app_paths: AppPaths,
    tmp_path: Path,
    make_window: Callable[..., MainWindow],
    memory_keyring: MemoryKeyring,
    echo: EchoProvider,
) -> Callable[[bool], MainWindow]:
    def opened(choose: bool) -> MainWindow:
        configure(app_paths, tmp_path, echo, choose)
        memory_keyring.set_password("HybridMCP", "LAB_KEY", echo.api_key)
        return make_window()

    return opened


def scenario(window: MainWindow, loop: qasync.QEventLoop, steps: Scenario) -> None:
    """Run ``steps`` in one loop run with the servers ready (the host's connections live in
    it), then shut the host down before the loop stops."""

    async def run() -> None:
        host = await start_mcp_host(window.context, window.mcp_host_ready)
        await wait_until(
            lambda: all(s.status.state is ServerState.READY for s in host.supervisors.values())
        )
        window.tabs.setCurrentWidget(window.mcp_view)
        view = window.mcp_view
        view.list.setCurrentRow(sorted(view._rows).index("docstore"))
        await wait_until(lambda: view.tools.rowCount() > 0)
        await steps()

    loop.run_until_complete(run())
    window.close()
    assert shut_down(window.context, loop) == []


def tools_on(window: MainWindow) -> int:
    host = window.context.mcp_host
    assert host is not None
    return len(host.registry.tools())


def saved_pins(paths: AppPaths) -> tuple[str, ...]:
    """The pins in the settings file (as the app reads it when it starts)."""
    return SettingsStore(paths).load()[0].mcp.pinned_tools


def row_of(table: QtServerToolsTable, tool: str) -> int:
    items = [table.item(row, 0) for row in range(table.rowCount())]
    return [item.text() if item is not None else "" for item in items].index(tool)


async def ask(window: MainWindow, echo: EchoProvider) -> list[str]:
    """Ask ``QUESTION`` in a new chat with every MCP tool, of the provider; the tools its
    request carried."""
    window.tabs.setCurrentIndex(0)
    view = window.chat_view
    view.new_chat()
    view.select_strategy("provider")
    view.tools.choose(ALL)
    asked = len(echo.bodies)
    view.prompt.setPlainText(QUESTION)
    answer = view.send()
    assert answer is not None
    await answer
    assert len(echo.bodies) == asked + 1
    return [tool["function"]["name"] for tool in echo.bodies[-1].get("tools", [])]


def test_a_pinned_tool_is_saved_and_the_next_request_carries_it_though_its_rank_leaves_it_out(
    open_window: Callable[[bool], MainWindow],
    app_paths: AppPaths,
    echo: EchoProvider,
    qt_loop: qasync.QEventLoop,
    qtbot: QtBot,
) -> None:
    window = open_window(True)
    table = window.mcp_view.tools

    async def steps() -> None:
        before = await ask(window, echo)
        assert len(before) == 3 and before[-1] == SEARCH_TOOLS  # 2 ranked + search_tools
        assert PINNED not in before

        window.tabs.setCurrentWidget(window.mcp_view)
        box = table.pin_box(row_of(table, "delete"))
        assert box.isEnabled() and not box.isChecked()
        assert "every provider request carries this tool" in box.toolTip()
        qtbot.mouseClick(box, Qt.MouseButton.LeftButton)
        assert window.context.settings.mcp.pinned_tools == (PINNED,)  # at once: the next turn
        await wait_until(lambda: saved_pins(app_paths) == (PINNED,))

        after = await ask(window, echo)
        assert after[0] == PINNED and after[1:] == before  # the pinned tool, then as before
        meter = window.chat_view.mcp.meter.text()
        assert f"tools sent: 3 of {tools_on(window)}," in meter and "(every tool: ≈ " in meter
        assert f"{PINNED} (pinned)" in window.chat_view.trace.text()
        pane = window.chat_view._panes["provider"]
        pane.audit_button.click()
        audit = pane.audit.toPlainText()
        assert "Saving: fewer tool definitions sent" in audit
        assert f"Tools offered: 3 of {tools_on(window)}: {PINNED} (pinned), " in audit
        assert f"\nuser:\n{QUESTION}" in audit  # each message on lines of its own

        window.tabs.setCurrentWidget(window.mcp_view)
        qtbot.mouseClick(table.pin_box(row_of(table, "delete")), Qt.MouseButton.LeftButton)
        assert not window.context.settings.mcp.pinned_tools
        await wait_until(lambda: saved_pins(app_paths) == ())
        assert await ask(window, echo) == before

    scenario(window, qt_loop, steps)


def test_the_pin_column_is_off_with_the_reason_while_the_local_side_does_not_choose_tools(
    open_window: Callable[[bool], MainWindow], echo: EchoProvider, qt_loop: qasync.QEventLoop
) -> None:
    window = open_window(False)
    table = window.mcp_view.tools

    async def steps() -> None:
        boxes = [table.pin_box(row) for row in range(table.rowCount())]
        assert boxes and not any(box.isEnabled() for box in boxes)
        assert {box.toolTip() for box in boxes} == {PIN_OFF_TIP}
        assert len(await ask(window, echo)) == tools_on(window)  # every tool, no search_tools

        settings = window.context.settings
        mcp = settings.mcp.model_copy(update={"choose_tools": True})
        window.apply_settings(settings.model_copy(update={"mcp": mcp}))  # as Settings → OK
        assert all(box.isEnabled() for box in boxes)
        assert "ranks among the 2 best" in boxes[0].toolTip()

    scenario(window, qt_loop, steps)


def test_a_pin_that_cannot_be_saved_says_so_and_holds_until_the_app_quits(
    open_window: Callable[[bool], MainWindow],
    app_paths: AppPaths,
    echo: EchoProvider,
    qt_loop: qasync.QEventLoop,
    qtbot: QtBot,
) -> None:
    window = open_window(True)
    table, banner = window.mcp_view.tools, window.banner

    async def steps() -> None:
        app_paths.settings_file.unlink()
        app_paths.settings_file.mkdir()  # no file can be written in its place
        qtbot.mouseClick(table.pin_box(row_of(table, "delete")), Qt.MouseButton.LeftButton)
        await wait_until(lambda: "pinned tools could not be saved" in banner.label.text())
        assert "\n" not in banner.label.text() and banner.isVisible()
        assert (await ask(window, echo))[0] == PINNED

    scenario(window, qt_loop, steps)
