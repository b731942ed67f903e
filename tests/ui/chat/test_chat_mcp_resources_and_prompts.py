"""MCP resources attached in the chat and server prompts as /commands, end to end: npm's
reference server as a subprocess, the window's MCP host, the embedded SmolLM2 answering."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import qasync
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.mcp_host.mcp_host_service import McpHost
from hybridmcp_app.mcp_host.server_status import ServerState
from hybridmcp_app.services.app_startup import start_mcp_host
from hybridmcp_app.ui.chat.qt_chat_view import QtChatView
from hybridmcp_app.ui.chat.qt_prompt_arguments import QtPromptArguments
from hybridmcp_app.ui.chat.qt_resource_picker import QtResourcePicker
from hybridmcp_app.ui.main_window import MainWindow
from tests.helpers.npm_packages import npm_binary
from tests.helpers.waiting import PATIENCE_S, wait_until
from tests.integration.mcp_host.conftest import EVERYTHING_VERSION
from tests.ui.chat_steps import load_model, save_settings

TEXT_TEMPLATE = "ev: Dynamic Text Resource (template)"


@pytest.fixture(autouse=True)
def _patient_server_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HYBRIDMCP_MCP__INIT_TIMEOUT_S", str(PATIENCE_S))


@pytest.fixture
def view(
    app_paths: AppPaths, make_window: Callable[..., MainWindow], qt_loop: qasync.QEventLoop
) -> QtChatView:
    """The chat over SmolLM2 (loaded) and the reference server (ready) as ``ev``."""
    binary = npm_binary(
        "@modelcontextprotocol/server-everything", EVERYTHING_VERSION, "mcp-server-everything"
    )
    app_paths.mcp_config_file.parent.mkdir(parents=True, exist_ok=True)
    servers = {"mcpServers": {"ev": {"command": str(binary)}}}
    app_paths.mcp_config_file.write_text(json.dumps(servers))
    save_settings(app_paths)
    window = make_window()
    host: McpHost = qt_loop.run_until_complete(
        start_mcp_host(window.context, window.mcp_host_ready)
    )
    qt_loop.run_until_complete(
        wait_until(lambda: host.supervisors["ev"].status.state is ServerState.READY)
    )
    load_model(window, qt_loop)
    window.chat_view.select_strategy("local")
    return window.chat_view


def open_picker(view: QtChatView, qtbot: QtBot, loop: qasync.QEventLoop) -> QtResourcePicker:
    view.prompt.setFocus()
    modifiers = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(view.prompt, Qt.Key.Key_A, modifiers)
    picker = view.mcp.picker
    assert picker is not None and picker.isVisible()
    loop.run_until_complete(picker.loading)
    return picker


def last_prompt_tokens(view: QtChatView) -> int:
    return view._session.conversation.turns[-1].panes[0].prompt_tokens


def test_resources_attached_from_the_picker_are_listed_counted_and_sent_as_context(
    view: QtChatView, qtbot: QtBot, qt_loop: qasync.QEventLoop
) -> None:
    view.prompt.setPlainText("Which resource is this?")
    typed_only = view.mcp.meter.text()
    picker = open_picker(view, qtbot, qt_loop)
    picker.select("ev: architecture.md")
    qt_loop.run_until_complete(picker.attach_selected())
    picker.select(TEXT_TEMPLATE)
    form = picker.form
    assert form is not None
    qtbot.keyClicks(form.fields["resourceId"], "1")  # typed: the server completes it
    qt_loop.run_until_complete(wait_until(lambda: not form.pending()))
    assert form.suggestions("resourceId") == ["1"]
    qt_loop.run_until_complete(picker.attach_selected())
    assert [a.label for a in view.mcp.attachments] == [
        "ev: architecture.md",
        "ev: Dynamic Text Resource (1)",
    ]
    assert "attached" in view.mcp.meter.text() and view.mcp.meter.text() != typed_only

    view.mcp.remove(0)  # the ✕ of the first chip
    assert [a.label for a in view.mcp.attachments] == ["ev: Dynamic Text Resource (1)"]
    attached_tokens = view.mcp.attachments[0].tokens
    task = view.send()
    assert task is not None
    qt_loop.run_until_complete(wait_until(lambda: not view.answering))
    with_attachment = last_prompt_tokens(view)
    assert view.mcp.attachments == []  # sent once, then cleared
    assert view.mcp.meter.text() == "≈ 0 tokens"

    view.new_chat()
    view.prompt.setPlainText("Which resource is this?")
    qt_loop.run_until_complete(view.send() or wait_until(lambda: True))
    qt_loop.run_until_complete(wait_until(lambda: not view.answering))
    assert with_attachment >= last_prompt_tokens(view) + attached_tokens // 2


def test_a_binary_resource_is_refused_in_the_picker_and_nothing_is_attached(
    view: QtChatView, qtbot: QtBot, qt_loop: qasync.QEventLoop
) -> None:
    picker = open_picker(view, qtbot, qt_loop)
    picker.select("ev: Dynamic Blob Resource (template)")
    assert picker.form is not None
    picker.form.fields["resourceId"].setText("2")
    qt_loop.run_until_complete(picker.attach_selected())
    assert picker.problem.text().startswith("⚠ Dynamic Blob Resource (2) is binary")
    assert view.mcp.attachments == []


def test_typing_a_slash_lists_the_servers_prompts_as_commands(view: QtChatView) -> None:
    view.prompt.setPlainText("/")
    listed = [view.mcp.commands.item(i).text() for i in range(view.mcp.commands.count())]
    assert view.mcp.commands.isVisible()
    assert "ev:args-prompt — A prompt with two arguments, one required and one optional" in listed
    assert len(listed) == 4
    view.prompt.setPlainText("/ev:simple")
    assert view.mcp.commands.count() == 1
    view.prompt.setPlainText("/ev:simple now")
    assert not view.mcp.commands.isVisible()


def test_a_command_with_arguments_asks_them_and_the_model_answers_the_filled_in_prompt(
    view: QtChatView, qt_loop: qasync.QEventLoop
) -> None:
    view.prompt.setPlainText("/ev:completable")
    form = view.mcp.choose(view.mcp.commands.item(0).data(Qt.ItemDataRole.UserRole))
    assert isinstance(form, QtPromptArguments) and form.isVisible()
    qt_loop.run_until_complete(wait_until(lambda: not form.form.pending()))
    assert form.form.suggestions("department") == ["Engineering", "Sales", "Marketing", "Support"]

    qt_loop.run_until_complete(form.submit())  # nothing filled in: refused, the form stays
    assert form.isVisible() and form.problem.text() == (
        "⚠ /ev:completable-prompt needs department, name"
    )
    form.form.fields["department"].setText("Sales")
    form.form.fields["name"].setText("Ann")
    qt_loop.run_until_complete(form.submit())
    assert not form.isVisible()
    qt_loop.run_until_complete(wait_until(lambda: not view.answering))
    turn = view._session.conversation.turns[-1]
    assert turn.prompt == "Please promote Ann to the head of the Sales team."
    assert turn.panes[0].text.strip()  # SmolLM2 answered it


def test_a_command_without_arguments_is_asked_at_once(
    view: QtChatView, qt_loop: qasync.QEventLoop
) -> None:
    view.prompt.setPlainText("/ev:simple")
    chosen = view.mcp.choose(view.mcp.commands.item(0).data(Qt.ItemDataRole.UserRole))
    assert chosen is not None and not isinstance(chosen, QtPromptArguments)
    qt_loop.run_until_complete(chosen)
    qt_loop.run_until_complete(wait_until(lambda: not view.answering))
    turn = view._session.conversation.turns[-1]
    assert turn.prompt == "This is a simple prompt without arguments."
    assert turn.panes[0].text.strip()
