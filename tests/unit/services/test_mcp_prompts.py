"""Server prompts as /commands: what typing '/' lists, required arguments, and a filled-in
prompt turned into the turn's history and question."""

from __future__ import annotations

import pytest

from hybridmcp_app.core.errors import HybridMCPError
from hybridmcp_app.core.inference import ChatMessage
from hybridmcp_app.mcp_host.mcp_items import McpPrompt, McpPromptArgument, McpPromptMessage
from hybridmcp_app.services.mcp_prompts import (
    command_of,
    matching,
    missing_arguments,
    prompt_turn,
)

WEATHER = McpPrompt(
    server="ev",
    name="args-prompt",
    parameters=(McpPromptArgument(name="city", required=True), McpPromptArgument(name="state")),
)
SIMPLE = McpPrompt(server="docs", name="summarise")


def test_a_bare_slash_lists_every_prompt_as_server_colon_name() -> None:
    assert [command_of(prompt) for prompt in matching([WEATHER, SIMPLE], "/")] == [
        "/ev:args-prompt",
        "/docs:summarise",
    ]


def test_typing_after_the_slash_narrows_the_list_case_insensitively() -> None:
    assert matching([WEATHER, SIMPLE], "/DOCS:su") == [SIMPLE]
    assert matching([WEATHER, SIMPLE], "/args") == [WEATHER]


def test_text_that_is_not_a_command_lists_nothing() -> None:
    assert matching([WEATHER, SIMPLE], "why /docs") == []
    assert matching([WEATHER, SIMPLE], "/docs:summarise please") == []


def test_only_required_arguments_left_blank_are_missing() -> None:
    assert missing_arguments(WEATHER, {"state": "CA"}) == ["city"]
    assert missing_arguments(WEATHER, {"city": "Paris"}) == []


def test_a_one_message_prompt_is_the_question_with_no_history() -> None:
    turn = prompt_turn("/ev:p", [McpPromptMessage(role="user", text="What's the weather?")])

    assert (turn.history, turn.prompt) == ((), "What's the weather?")


def test_messages_before_the_last_user_message_become_history() -> None:
    turn = prompt_turn(
        "/ev:p",
        [
            McpPromptMessage(role="user", text="Here is a file"),
            McpPromptMessage(role="assistant", text="I read it"),
            McpPromptMessage(role="user", text="Summarise it"),
        ],
    )

    assert turn.history == (
        ChatMessage(role="user", content="Here is a file"),
        ChatMessage(role="assistant", content="I read it"),
    )
    assert turn.prompt == "Summarise it"


def test_a_prompt_with_no_user_message_is_refused_in_one_line() -> None:
    with pytest.raises(HybridMCPError, match="the prompt /ev:p has no question for the model"):
        prompt_turn("/ev:p", [McpPromptMessage(role="assistant", text="Hello")])
