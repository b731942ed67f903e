"""The tool loop's protocol with a real MCP server (SDK, in memory) and a scripted provider.

The model side here is ``OpenAICompatBackend`` talking to a scripted OpenAI-compatible server on
127.0.0.1 (tests/helpers/failing_provider.py): it plays a provider that misbehaves on cue (broken
arguments, unknown tools, calls without end), which a real model cannot be made to do reliably.
The real embedded model runs the loop in tests/integration/orchestration/test_tool_loop_models.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager, aclosing, contextmanager
from typing import Any

import pytest
from pydantic import SecretStr

from hybridmcp_app.core.inference import ChatMessage, InferenceRequest, TextDelta
from hybridmcp_app.core.llm_configs import ProviderConfig
from hybridmcp_app.core.parameters import ModelParameters
from hybridmcp_app.llm.openai_backend import OpenAICompatBackend
from hybridmcp_app.orchestration.approval_policy import (
    ApprovalDecision,
    ApprovalPolicy,
    AutoApproved,
    ToolApprovalRequest,
)
from hybridmcp_app.orchestration.events import DecisionNote, LegEvent, LegStarted
from hybridmcp_app.orchestration.tool_events import (
    ToolCallFinished,
    ToolCallStarted,
    ToolLoopCompleted,
    ToolLoopEvent,
)
from hybridmcp_app.orchestration.tool_loop import ToolLoop, ToolUnavailableError
from tests.helpers.failing_provider import FailingProvider, Reply, chunk, failing_provider
from tests.helpers.in_memory_tools import SdkToolCaller, calc_server

QUESTION = InferenceRequest(
    messages=(ChatMessage(role="user", content="What is 2 + 3?"),),
    parameters=ModelParameters(temperature=0.0, max_tokens=64),
)


def tool_chunk(index: int, call_id: str, name: str, arguments: str) -> str:
    call = {"index": index, "id": call_id, "type": "function",
            "function": {"name": name, "arguments": arguments}}  # fmt: skip
    return json.dumps(
        {
            "id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "scripted",
            "choices": [{"index": 0, "delta": {"tool_calls": [call]}, "finish_reason": None}],
        }
    )  # fmt: skip


def calls(*calls: tuple[str, str]) -> Reply:
    """A reply that asks for tools: (name, arguments JSON text) each."""
    chunks = [tool_chunk(i, f"call_{i}", name, args) for i, (name, args) in enumerate(calls)]
    return Reply(sse=[*chunks, chunk("", finish="tool_calls"), "[DONE]"])


def answer(text: str) -> Reply:
    return Reply(sse=[chunk(text), chunk("", finish="stop"), "[DONE]"])


@contextmanager
def scripted(*replies: Reply) -> Iterator[FailingProvider]:
    with failing_provider(list(replies)) as server:
        yield server


def sent_messages(server: FailingProvider, index: int) -> list[dict[str, Any]]:
    body = server.requests[index]["body"]
    assert body is not None
    return list(body["messages"])


def provider_config(server: FailingProvider) -> ProviderConfig:
    return ProviderConfig.model_validate(
        {"name": "scripted", "base_url": server.base_url, "default_model": "m", "max_retries": 0}
    )


def connected() -> AbstractAsyncContextManager[SdkToolCaller]:
    # Not a fixture: the SDK's client must be entered and left in the same task.
    return SdkToolCaller.connect(calc_server())


async def run(
    server: FailingProvider,
    tools: SdkToolCaller,
    request: InferenceRequest = QUESTION,
    *,
    auto: AutoApproved | None = None,
    ask: Any = None,
    force_tool: str | None = None,
    **options: Any,
) -> list[ToolLoopEvent]:
    config = provider_config(server)
    policy = ApprovalPolicy(auto, ask) if auto is not None else ApprovalPolicy(ask=ask)
    async with OpenAICompatBackend(config, SecretStr("k")) as backend:
        loop = ToolLoop(backend, tools, policy, **options)
        return [event async for event in loop.run(request, force_tool=force_tool)]


def finished(events: list[ToolLoopEvent]) -> list[ToolCallFinished]:
    return [event for event in events if isinstance(event, ToolCallFinished)]


def streamed_text(events: list[ToolLoopEvent]) -> str:
    return "".join(
        e.event.text for e in events if isinstance(e, LegEvent) and isinstance(e.event, TextDelta)
    )


def completed(events: list[ToolLoopEvent]) -> ToolLoopCompleted:
    last = events[-1]
    assert isinstance(last, ToolLoopCompleted)
    return last


async def test_a_providers_tool_call_runs_on_the_mcp_server_and_the_result_goes_back() -> None:
    async with connected() as calc:
        with scripted(calls(("calc__add", '{"a": 2, "b": 3}')), answer("It is 5.")) as server:
            events = await run(server, calc)
        assert isinstance(events[0], LegStarted) and events[0].backend == "scripted"
        started = next(e for e in events if isinstance(e, ToolCallStarted))
        assert (started.server, started.tool, started.call_id) == ("calc", "add", "call_0")
        assert json.loads(started.arguments) == {"a": 2, "b": 3}
        (done,) = finished(events)
        assert done.outcome.text == "5" and done.approval == "auto" and done.approved
        assert calc.calls == [("add", {"a": 2, "b": 3})]
        first = server.requests[0]["body"]
        assert first["tool_choice"] == "auto"
        assert {tool["function"]["name"] for tool in first["tools"]} == {
            "calc__add", "calc__repeat", "calc__currency", "calc__write_note", "calc__fail",
        }  # fmt: skip
        assistant, tool = sent_messages(server, 1)[1:]
        assert assistant["tool_calls"][0]["function"] == {
            "name": "calc__add", "arguments": '{"a": 2, "b": 3}',
        }  # fmt: skip
        assert tool == {"role": "tool", "content": "5", "tool_call_id": "call_0"}
        end = completed(events)
        assert end.response is not None and end.response.text == "It is 5."
        assert end.rounds == 1 and len(end.steps) == 2 and end.error is None
        assert streamed_text(events) == "It is 5."


async def test_broken_json_arguments_go_back_to_the_model_and_nothing_runs() -> None:
    async with connected() as calc:
        with scripted(calls(("calc__add", '{"a": 2, "b"')), answer("Sorry.")) as server:
            events = await run(server, calc)
        (done,) = finished(events)
        assert done.approval == "invalid" and done.outcome.is_error
        assert "not valid JSON" in done.outcome.text
        assert calc.calls == []
        tool = sent_messages(server, 1)[-1]
        assert tool["content"].startswith(
            "Error: calc__add was not run: the arguments are not valid"
        )
        assert '"required":["a","b"]' in tool["content"]  # the schema to try again with


async def test_arguments_that_break_the_schema_are_refused_before_anyone_is_asked() -> None:
    async with connected() as calc:
        asked: list[ToolApprovalRequest] = []

        async def ask(request: ToolApprovalRequest) -> ApprovalDecision:
            asked.append(request)
            return ApprovalDecision.ALLOW_ONCE

        with scripted(calls(("calc__write_note", '{"text": 7}')), answer("ok")) as server:
            events = await run(server, calc, ask=ask)
        (done,) = finished(events)
        assert done.approval == "invalid"
        assert "arguments.text: 7 is not of type 'string'" in done.outcome.text
        assert asked == [] and calc.calls == []


async def test_an_unknown_tool_is_reported_with_the_tools_there_are() -> None:
    async with connected() as calc:
        with scripted(calls(("calc__divide", '{"a": 1}')), answer("ok")) as server:
            events = await run(server, calc)
        (done,) = finished(events)
        assert (done.server, done.tool, done.approval) == ("calc", "divide", "invalid")
        assert done.outcome.text.startswith("There is no tool named 'calc__divide'")
        assert "calc__add" in done.outcome.text


async def test_a_call_whose_name_could_not_be_read_goes_back_to_the_model_in_one_line() -> None:
    async with connected() as calc:
        with scripted(calls(("(unreadable)", "add one\nand two")), answer("ok")) as server:
            events = await run(server, calc)
        (done,) = finished(events)
        assert done.approval == "invalid" and calc.calls == []
        assert done.outcome.text.startswith("The tool call could not be read: add one and two.")
        assert "\n" not in done.outcome.text and "calc__add" in done.outcome.text
        assert completed(events).response is not None


async def test_after_max_rounds_the_model_must_answer_without_tools() -> None:
    async with connected() as calc:
        again = calls(("calc__add", '{"a": 1, "b": 1}'))
        with scripted(again, again, answer("Done.")) as server:
            events = await run(server, calc, max_rounds=2)
        choices = [request["body"]["tool_choice"] for request in server.requests]
        assert choices == ["auto", "auto", "none"]
        assert len(finished(events)) == 2
        notes = [e.text for e in events if isinstance(e, DecisionNote)]
        assert notes == [
            "stopped after 2 round(s) of tool calls: asking the model for a final answer "
            "without tools"
        ]
        end = completed(events)
        assert end.rounds == 2 and end.response is not None and end.response.text == "Done."


async def test_a_model_that_insists_after_the_limit_gets_no_more_calls() -> None:
    async with connected() as calc:
        again = calls(("calc__add", '{"a": 1, "b": 1}'))
        with scripted(again) as server:
            events = await run(server, calc, max_rounds=1)
        assert len(server.requests) == 2 and len(calc.calls) == 1
        assert isinstance(events[-2], DecisionNote) and "after the limit" in events[-2].text


async def test_a_declined_call_is_not_run_and_the_model_is_told() -> None:
    async with connected() as calc:

        async def deny(_request: ToolApprovalRequest) -> ApprovalDecision:
            return ApprovalDecision.DENY

        with scripted(calls(("calc__write_note", '{"text": "hi"}')), answer("OK.")) as server:
            events = await run(server, calc, ask=deny)
        (done,) = finished(events)
        assert done.approval == "denied" and not done.approved
        assert calc.calls == []
        assert sent_messages(server, 1)[-1]["content"].startswith(
            "Error: The user declined to run calc__write_note"
        )


async def test_calls_of_one_round_are_approved_and_run_in_order() -> None:
    async with connected() as calc:
        seen: list[str] = []

        async def allow(request: ToolApprovalRequest) -> ApprovalDecision:
            seen.append(request.arguments_text)
            return ApprovalDecision.ALLOW_ONCE

        round_of_two = calls(
            ("calc__add", '{"a": 1, "b": 2}'), ("calc__write_note", '{"text": "x"}')
        )
        with scripted(round_of_two, answer("Both done.")) as server:
            events = await run(server, calc, ask=allow)
        assert [(d.tool, d.approval, d.outcome.text) for d in finished(events)] == [
            ("add", "auto", "3"), ("write_note", "allowed_once", "noted (1 notes)"),
        ]  # fmt: skip
        assert seen == ['{\n  "text": "x"\n}']
        roles = [m["role"] for m in sent_messages(server, 1)]
        assert roles == ["user", "assistant", "tool", "tool"]


async def test_a_failing_tool_comes_back_as_an_error_result() -> None:
    async with connected() as calc:
        with scripted(calls(("calc__fail", "")), answer("It failed.")) as server:
            events = await run(server, calc, auto=lambda _s, _t, _r: True)
        (done,) = finished(events)
        # The SDK keeps the exception's text to the server's log.
        assert done.outcome.is_error and done.outcome.text == "Error executing tool fail"
        assert sent_messages(server, 1)[-1]["content"] == "Error executing tool fail"


async def test_a_long_result_is_cut_to_the_limit_and_says_so() -> None:
    async with connected() as calc:
        with scripted(
            calls(("calc__repeat", '{"text": "ab", "times": 500}')), answer(".")
        ) as server:
            events = await run(server, calc, max_result_chars=100)
        (done,) = finished(events)
        assert done.truncated
        content = sent_messages(server, 1)[-1]["content"]
        assert content == "ab" * 50 + "\n[truncated: the first 100 of 1000 characters are shown]"


async def test_a_forced_tool_is_forced_in_the_first_step_only() -> None:
    async with connected() as calc:
        with scripted(calls(("calc__add", '{"a": 2, "b": 2}')), answer("4")) as server:
            await run(server, calc, force_tool="calc__add")
        choices = [request["body"]["tool_choice"] for request in server.requests]
        assert choices == [{"type": "function", "function": {"name": "calc__add"}}, "auto"]


async def test_switched_off_tools_are_neither_offered_nor_forceable() -> None:
    async with SdkToolCaller.connect(calc_server(), enabled=lambda t: t != "add") as tools:
        with scripted(answer("Hello.")) as server:
            await run(server, tools)
            offered = {t["function"]["name"] for t in server.requests[0]["body"]["tools"]}
            assert "calc__add" not in offered and "calc__repeat" in offered
            with pytest.raises(ToolUnavailableError, match="'calc__add' is not available"):
                await run(server, tools, force_tool="calc__add")


async def test_tool_turns_can_go_to_the_provider_as_plain_text() -> None:
    async with connected() as calc:
        with scripted(calls(("calc__add", '{"a": 2, "b": 3}')), answer("5")) as server:
            await run(server, calc, tool_turns_as_text=True)
        sent = sent_messages(server, 1)
        assert [m["role"] for m in sent] == ["user", "assistant", "user"]
        assert sent[1]["content"] == 'Calling calc__add with {"a": 2, "b": 3}'
        assert sent[2]["content"] == "Result of calc__add:\n5"


async def test_a_provider_failure_ends_the_loop_with_its_reason() -> None:
    async with connected() as calc:
        broken = Reply(sse=[chunk("The answer is")])  # the connection closes mid-answer
        with scripted(calls(("calc__add", '{"a": 2, "b": 3}')), broken) as server:
            events = await run(server, calc)
        end = completed(events)
        assert end.response is None and end.error is not None
        assert "ended the stream before finishing" in end.error
        assert end.rounds == 1 and [m.role for m in end.messages] == ["user", "assistant", "tool"]


async def test_stopping_the_run_stops_before_the_next_step() -> None:
    async with connected() as calc:
        with scripted(calls(("calc__add", '{"a": 2, "b": 3}')), answer("5")) as server:
            config = provider_config(server)
            async with OpenAICompatBackend(config, SecretStr("k")) as backend:
                loop = ToolLoop(backend, calc, ApprovalPolicy())
                async with aclosing(loop.run(QUESTION)) as events:
                    async for event in events:
                        if isinstance(event, ToolCallStarted):
                            break
        assert len(server.requests) == 1 and calc.calls == []


async def test_in_grammar_mode_the_call_is_read_from_the_constrained_answer() -> None:
    async with connected() as calc:
        forced = answer('{"tool": "calc__add", "arguments": {"a": 2, "b": 3}}')
        with scripted(forced, answer("5")) as server:
            events = await run(server, calc, mode="grammar", force_tool="calc__add")
        first, second = (request["body"] for request in server.requests)
        schema = first["response_format"]["json_schema"]["schema"]
        assert schema["properties"]["tool"] == {"const": "calc__add"} and "tools" not in first
        assert "Call a tool to help with the request above" in first["messages"][-1]["content"]
        assert calc.calls == [("add", {"a": 2, "b": 3})]
        assert [m["role"] for m in second["messages"]] == ["user", "assistant", "user"]
        assert second["messages"][-1]["content"] == (
            "Result of calc__add:\n5\n\nAnswer the request above using this result."
        )
        assert "response_format" not in second
        assert streamed_text(events) == "5"  # the call's JSON is not shown as answer text


def notes(events: list[ToolLoopEvent]) -> list[str]:
    return [event.text for event in events if isinstance(event, DecisionNote)]


async def test_a_forced_call_that_is_not_json_is_told_in_one_line_and_left_out() -> None:
    async with connected() as calc:
        cut_off = answer('{"tool": "calc__add", "arguments": {"a": 2')
        with scripted(cut_off, answer("Sorry.")) as server:
            events = await run(server, calc, mode="grammar", force_tool="calc__add")
        (done,) = finished(events)
        assert done.approval == "invalid" and calc.calls == []
        assert done.outcome.text.startswith("calc__add was not run: the arguments are not valid")
        assert "\n" not in done.outcome.text and "input schema" not in done.outcome.text
        (why,) = [note for note in notes(events) if "answering without the tool" in note]
        assert why.startswith("local model: calc__add was not run: the arguments are not valid")
        # The answer step sees the question alone: no failed call for the model to copy.
        assert [m["content"] for m in sent_messages(server, 1)] == ["What is 2 + 3?"]
        assert streamed_text(events) == "Sorry."


async def test_a_forced_call_whose_arguments_are_the_schema_itself_is_not_run() -> None:
    async with connected() as calc:
        (add,) = [tool for tool in calc.tools() if tool.name == "add"]
        echo = json.dumps({"tool": "calc__add", "arguments": add.input_schema})
        with scripted(answer(echo), answer("5")) as server:
            events = await run(server, calc, mode="grammar", force_tool="calc__add")
        (done,) = finished(events)
        assert done.approval == "invalid" and calc.calls == []
        assert "wrote a JSON schema instead of values" in done.outcome.text
        assert any("answering without the tool" in note for note in notes(events))
        assert len(sent_messages(server, 1)) == 1


async def test_a_forced_reply_that_names_no_tool_says_so() -> None:
    async with connected() as calc:
        with scripted(answer("I cannot"), answer("Hi.")) as server:
            events = await run(server, calc, mode="grammar")
        (done,) = finished(events)
        assert done.approval == "invalid"
        assert done.outcome.text.startswith("the model's reply is not a tool call: the arguments")


async def test_tool_choice_none_answers_without_a_forced_call() -> None:
    async with connected() as calc:
        with scripted(answer("Hi.")) as server:
            request = QUESTION.model_copy(update={"tool_choice": "none"})
            events = await run(server, calc, request, mode="grammar")
        assert len(server.requests) == 1 and "response_format" not in server.requests[0]["body"]
        assert completed(events).rounds == 0
