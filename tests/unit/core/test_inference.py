import pytest
from pydantic import ValidationError

from hybridmcp_app.core.inference import (
    STREAM_EVENT_ADAPTER,
    ChatMessage,
    InferenceRequest,
    InferenceResponse,
    ResponseFormat,
    StreamCompleted,
    StreamFailed,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    Usage,
)


def _user(text: str) -> ChatMessage:
    return ChatMessage(role="user", content=text)


def test_a_request_needs_at_least_one_message() -> None:
    with pytest.raises(ValidationError, match="messages"):
        InferenceRequest(messages=())


def test_a_request_whose_messages_are_all_blank_is_rejected() -> None:
    with pytest.raises(ValidationError, match="no text to answer"):
        InferenceRequest(messages=(_user("   "), ChatMessage(role="system", content="")))


def test_each_request_gets_its_own_id() -> None:
    first, second = (
        InferenceRequest(messages=(_user("a"),)),
        InferenceRequest(messages=(_user("a"),)),
    )
    assert first.request_id != second.request_id


def test_an_unknown_role_is_rejected() -> None:
    with pytest.raises(ValidationError, match="role"):
        ChatMessage.model_validate({"role": "wizard", "content": "hi"})


def test_a_tool_message_must_name_the_call_it_answers() -> None:
    with pytest.raises(ValidationError, match="tool_call_id"):
        ChatMessage(role="tool", content="42")
    assert ChatMessage(role="tool", content="42", tool_call_id="call-1").tool_call_id == "call-1"


def test_only_assistant_messages_carry_tool_calls() -> None:
    call = ToolCall(id="c1", name="search", arguments='{"q": "x"}')
    with pytest.raises(ValidationError, match="only an 'assistant'"):
        ChatMessage(role="user", content="x", tool_calls=(call,))
    assert ChatMessage(role="assistant", tool_calls=(call,)).tool_calls == (call,)


def test_response_format_payload_must_match_its_type() -> None:
    with pytest.raises(ValidationError, match="needs a json_schema"):
        ResponseFormat(type="json_schema")
    with pytest.raises(ValidationError, match="non-empty GBNF"):
        ResponseFormat(type="grammar", grammar="  ")
    assert ResponseFormat(type="grammar", grammar='root ::= "yes" | "no"').grammar


def test_usage_totals_prompt_and_completion_tokens() -> None:
    assert Usage(prompt_tokens=12, completion_tokens=30).total_tokens == 42
    with pytest.raises(ValidationError):
        Usage(prompt_tokens=-1)


def test_a_failed_response_must_say_what_failed() -> None:
    with pytest.raises(ValidationError, match="must say what the error was"):
        InferenceResponse(request_id="r", backend="local", model="m", finish_reason="error")
    failed = InferenceResponse(
        request_id="r", backend="local", model="m", finish_reason="error", error="boom"
    )
    assert failed.error == "boom"


def test_negative_cost_or_timing_is_rejected() -> None:
    with pytest.raises(ValidationError, match="cost_usd"):
        InferenceResponse(request_id="r", backend="p", model="m", cost_usd=-0.01)
    with pytest.raises(ValidationError, match="total_s"):
        InferenceResponse.model_validate(
            {"request_id": "r", "backend": "p", "model": "m", "timings": {"total_s": -1}}
        )


def test_stream_events_round_trip_through_json_by_their_type() -> None:
    response = InferenceResponse(
        request_id="r",
        backend="local",
        model="gemma",
        text="Hello",
        usage=Usage(completion_tokens=2),
    )
    events = [
        TextDelta(text="Hel"),
        ToolCallDelta(index=0, name="search", arguments='{"q"'),
        StreamCompleted(response=response),
        StreamFailed(message="provider went away", retryable=True),
    ]
    for event in events:
        parsed = STREAM_EVENT_ADAPTER.validate_json(event.model_dump_json())
        assert parsed == event
        assert type(parsed) is type(event)


def test_a_stream_event_of_unknown_type_is_rejected() -> None:
    with pytest.raises(ValidationError, match="does not match any of the expected tags"):
        STREAM_EVENT_ADAPTER.validate_python({"type": "telepathy", "text": "x"})
