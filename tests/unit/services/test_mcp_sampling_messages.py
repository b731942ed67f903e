"""Sampling requests and answers translated between MCP and the project's inference types."""

from __future__ import annotations

import mcp.types as types
import pytest

from hybridmcp_app.core.inference import ChatMessage, InferenceResponse, ToolCall
from hybridmcp_app.services.mcp_sampling_messages import (
    SamplingRefused,
    chat_messages,
    choose_source,
    openai_tools,
    sampling_result,
)


def request(*messages: dict[str, object], **fields: object) -> types.CreateMessageRequestParams:
    return types.CreateMessageRequestParams.model_validate(
        {"messages": list(messages), "maxTokens": 16, **fields}
    )


def text(role: str, value: str) -> dict[str, object]:
    return {"role": role, "content": {"type": "text", "text": value}}


def test_the_system_prompt_comes_first_and_text_messages_keep_their_roles() -> None:
    params = request(text("user", "hi"), text("assistant", "hello"), systemPrompt="Be brief.")
    assert chat_messages(params, "m") == [
        ChatMessage(role="system", content="Be brief."),
        ChatMessage(role="user", content="hi"),
        ChatMessage(role="assistant", content="hello"),
    ]


def test_tool_use_and_tool_result_blocks_become_a_call_and_its_tool_turn() -> None:
    params = request(
        {"role": "assistant",
         "content": [{"type": "tool_use", "id": "c1", "name": "add", "input": {"a": 1}}]},
        {"role": "user", "content": [{"type": "tool_result", "toolUseId": "c1", "isError": True,
                                      "content": [{"type": "text", "text": "boom"}]}]},
    )  # fmt: skip
    assert chat_messages(params, "m") == [
        ChatMessage(
            role="assistant", tool_calls=(ToolCall(id="c1", name="add", arguments='{"a": 1}'),)
        ),
        ChatMessage(role="tool", tool_call_id="c1", content="Error: boom"),
    ]


def test_audio_is_refused_naming_the_model_that_reads_text_only() -> None:
    audio: dict[str, object] = {
        "role": "user",
        "content": {"type": "audio", "data": "AAAA", "mimeType": "audio/wav"},
    }
    with pytest.raises(SamplingRefused, match="audio content, and tiny reads text only"):
        chat_messages(request(audio), "tiny")


def test_mcp_tools_become_openai_functions_with_their_input_schema() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    tool = types.Tool(name="add", description="Add.", input_schema=schema)
    assert openai_tools([tool]) == (
        {
            "type": "function",
            "function": {"name": "add", "description": "Add.", "parameters": schema},
        },
    )


@pytest.mark.parametrize(
    ("setting", "preferences", "expected"),
    [
        ("local", {"hints": [{"name": "gpt"}]}, "local"),
        ("provider", None, "provider"),
        ("auto", {"hints": [{"name": "nomatch"}, {"name": "GPT-4O"}]}, "provider"),
        ("auto", {"hints": [{"name": "smol"}]}, "local"),
        ("auto", {"intelligencePriority": 0.9, "speedPriority": 0.2}, "provider"),
        ("auto", {"intelligencePriority": 0.2, "costPriority": 0.9}, "local"),
        ("auto", None, "local"),
    ],
)
def test_the_servers_preferences_choose_local_or_provider_only_when_the_user_said_auto(
    setting: str, preferences: dict[str, object] | None, expected: str
) -> None:
    prefs = types.ModelPreferences.model_validate(preferences) if preferences else None
    assert choose_source(setting, prefs, "SmolLM2 135M", "gpt-4o-mini") == expected  # type: ignore[arg-type]


def test_auto_never_chooses_a_provider_that_is_not_set_up() -> None:
    prefs = types.ModelPreferences(intelligence_priority=1.0)
    assert choose_source("auto", prefs, "SmolLM2", None) == "local"


def answer(
    text: str = "", calls: tuple[ToolCall, ...] = (), finish: str = "stop"
) -> InferenceResponse:
    return InferenceResponse(
        request_id="r", backend="local", model="SmolLM2", text=text, tool_calls=calls,
        finish_reason=finish,  # type: ignore[arg-type]
    )  # fmt: skip


def test_a_text_answer_carries_the_model_and_the_stop_reason() -> None:
    result = sampling_result(answer("Paris.", finish="length"), None)
    assert isinstance(result, types.CreateMessageResult)
    assert result.model == "SmolLM2" and result.stop_reason == "maxTokens"
    assert result.content == types.TextContent(type="text", text="Paris.")


ADD_SCHEMA = {
    "type": "object",
    "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
    "required": ["a", "b"],
}
OFFERED = {"add": ADD_SCHEMA}


def test_a_tool_call_becomes_a_tool_use_block_with_stop_reason_tool_use() -> None:
    call = ToolCall(id="c1", name="add", arguments='{"a": 1, "b": 2}')
    result = sampling_result(answer(calls=(call,), finish="tool_calls"), OFFERED)
    assert isinstance(result, types.CreateMessageResultWithTools)
    assert result.stop_reason == "toolUse"
    assert result.content_as_list == [
        types.ToolUseContent(type="tool_use", id="c1", name="add", input={"a": 1, "b": 2})
    ]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (ToolCall(id="c1", name="rm", arguments="{}"), "did not offer"),
        (ToolCall(id="c1", name="add", arguments="[1]"), "must be a JSON object"),
        (ToolCall(id="c1", name="add", arguments='{"a": 1'), "not valid JSON"),
        (ToolCall(id="c1", name="add", arguments='{"a": 1}'), "'b' is a required property"),
        (ToolCall(id="c1", name="add", arguments='{"a": "1", "b": 2}'), "is not of type"),
    ],
)
def test_a_call_to_a_tool_not_offered_or_with_arguments_that_do_not_fit_is_an_error(
    call: ToolCall, message: str
) -> None:
    with pytest.raises(SamplingRefused, match=message) as refused:
        sampling_result(answer(calls=(call,), finish="tool_calls"), OFFERED)
    assert refused.value.code == types.INTERNAL_ERROR and "\n" not in str(refused.value)


def test_a_call_cut_off_at_max_tokens_is_refused_saying_so() -> None:
    call = ToolCall(id="c1", name="add", arguments='{"a": 17, "b"')
    with pytest.raises(SamplingRefused, match="cut off at maxTokens"):
        sampling_result(answer(calls=(call,), finish="length"), OFFERED, "required")


@pytest.mark.parametrize("finish", ["stop", "length"])
def test_a_text_answer_under_tool_choice_required_is_refused(finish: str) -> None:
    with pytest.raises(SamplingRefused, match="toolChoice 'required' asks for a tool call"):
        sampling_result(answer("Sure, 42.", finish=finish), OFFERED, "required")


def test_a_call_under_tool_choice_none_is_refused_and_text_passes() -> None:
    call = ToolCall(id="c1", name="add", arguments='{"a": 1, "b": 2}')
    with pytest.raises(SamplingRefused, match="toolChoice 'none' allows no call"):
        sampling_result(answer(calls=(call,), finish="tool_calls"), OFFERED, "none")
    result = sampling_result(answer("42."), OFFERED, "none")
    assert isinstance(result, types.CreateMessageResultWithTools)
    assert result.content_as_list == [types.TextContent(type="text", text="42.")]
