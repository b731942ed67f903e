"""A server prompt's messages and the attached resources belong to the conversation: a
``/command`` of npm's reference server (a subprocess) with a resource attached, asked of the echo
provider (127.0.0.1), then Regenerate, then the conversation reopened."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
import qasync
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.config.settings import Settings
from hybridmcp_app.config.settings_store import SettingsStore
from hybridmcp_app.mcp_host.mcp_host_service import McpHost
from hybridmcp_app.mcp_host.server_status import ServerState
from hybridmcp_app.services.app_startup import start_mcp_host
from hybridmcp_app.ui.chat.qt_chat_view import QtChatView
from hybridmcp_app.ui.chat.qt_prompt_arguments import QtPromptArguments
from hybridmcp_app.ui.main_window import MainWindow
from tests.helpers.echo_provider import EchoProvider, echo_provider
from tests.helpers.memory_keyring import MemoryKeyring
from tests.helpers.npm_packages import npm_binary
from tests.helpers.waiting import PATIENCE_S, wait_until
from tests.integration.mcp_host.conftest import EVERYTHING_VERSION

EARLIER = (
    "This prompt includes the Text resource with id: 3. Please analyze the following resource:"
)
QUESTION = "[resource demo://resource/dynamic/text/3]"
ORIGIN = "/resource-prompt from ev — 1 earlier message"


@pytest.fixture(autouse=True)
def _patient_server_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HYBRIDMCP_MCP__INIT_TIMEOUT_S", str(PATIENCE_S))


@pytest.fixture
def echo() -> Iterator[EchoProvider]:
    with echo_provider(api_key="echo-key") as server:
        yield server


@pytest.fixture
def window(
    app_paths: AppPaths,
    make_window: Callable[..., MainWindow],
    memory_keyring: MemoryKeyring,
    echo: EchoProvider,
    qt_loop: qasync.QEventLoop,
) -> MainWindow:
    """The window with the echo provider ("lab") and the reference server (ready) as ``ev``;
    provider-only, so the echo's log holds every request the chat sent."""
    binary = npm_binary(
        "@modelcontextprotocol/server-everything", EVERYTHING_VERSION, "mcp-server-everything"
    )
    app_paths.mcp_config_file.parent.mkdir(parents=True, exist_ok=True)
    app_paths.mcp_config_file.write_text(
        json.dumps({"mcpServers": {"ev": {"command": str(binary)}}})
    )
    provider = {"name": "lab", "base_url": echo.base_url, "default_model": "echo",
                "api_key_secret": "LAB_KEY", "timeout_s": PATIENCE_S}  # fmt: skip
    settings = {"providers": {"items": [provider], "active": "lab"}}
    SettingsStore(app_paths).save(Settings.model_validate(settings))
    memory_keyring.set_password("HybridMCP", "LAB_KEY", echo.api_key)
    window = make_window()
    host: McpHost = qt_loop.run_until_complete(
        start_mcp_host(window.context, window.mcp_host_ready)
    )
    qt_loop.run_until_complete(
        wait_until(lambda: host.supervisors["ev"].status.state is ServerState.READY)
    )
    window.chat_view.select_strategy("provider")
    return window


def attach_a_text_resource(view: QtChatView, loop: qasync.QEventLoop) -> None:
    picker = view.mcp.open_picker()
    assert picker is not None
    loop.run_until_complete(picker.loading)
    picker.select("ev: Dynamic Text Resource (template)")
    assert picker.form is not None
    picker.form.fields["resourceId"].setText("1")
    loop.run_until_complete(picker.attach_selected())
    assert [a.label for a in view.mcp.attachments] == ["ev: Dynamic Text Resource (1)"]


def ask_the_resource_prompt(view: QtChatView, loop: qasync.QEventLoop) -> None:
    view.prompt.setPlainText("/ev:resource-prompt")
    form = view.mcp.choose(view.mcp.commands.item(0).data(Qt.ItemDataRole.UserRole))
    assert isinstance(form, QtPromptArguments)
    form.form.fields["resourceType"].setText("Text")
    form.form.fields["resourceId"].setText("3")
    loop.run_until_complete(form.submit())
    loop.run_until_complete(wait_until(lambda: not view.answering))


def test_regenerate_resends_a_commands_earlier_messages_and_attachments_and_reopening_shows_them(
    window: MainWindow, echo: EchoProvider, qt_loop: qasync.QEventLoop, qtbot: QtBot
) -> None:
    view = window.chat_view
    attach_a_text_resource(view, qt_loop)
    ask_the_resource_prompt(view, qt_loop)
    (sent,) = echo.prompts
    assert sent.startswith(f"{EARLIER}\n\n") and QUESTION in sent
    assert "(resource demo://resource/dynamic/text/1 from ev)" in sent  # the attachment
    assert ORIGIN in view.prompt_echo.text()

    qtbot.mouseClick(view.regenerate_button, Qt.MouseButton.LeftButton)
    qt_loop.run_until_complete(wait_until(lambda: len(echo.prompts) == 2 and not view.answering))
    assert echo.prompts[1] == sent  # exactly what the turn sent the first time
    assert ORIGIN in view.transcript.toPlainText()  # the first turn, above
    assert ORIGIN in view.prompt_echo.text()

    conversation = window.context.chat.conversation
    view.new_chat()
    qt_loop.run_until_complete(window.open_conversation(conversation.id))
    assert window.context.chat.conversation == conversation
    assert ORIGIN in view.prompt_echo.text() and "📎" in view.prompt_echo.text()
    view.prompt.setPlainText("And in one word?")
    qt_loop.run_until_complete(view.send() or wait_until(lambda: True))
    qt_loop.run_until_complete(wait_until(lambda: not view.answering))
    follow_up = echo.prompts[2]
    assert follow_up.startswith(f"{EARLIER}\n\n") and follow_up.endswith("And in one word?")
    assert follow_up.count(EARLIER) == 2  # the prompt's message, and the echo's one answer
