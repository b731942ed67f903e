"""The tool loop with real models and a real MCP server (SDK, in memory): the embedded model with
grammar-forced calls, and llama.cpp's OpenAI-compatible server as the provider.

What that server (llama-cpp-python 0.3.36, ``--chat_format gemma``) does with tools: it ignores
``tools`` under ``tool_choice`` "auto", "required" or "none" and answers in text; a
``tool_choice`` naming one function makes it generate that function's arguments under a grammar
built from its parameters and return them as a streamed tool call (finish reason "tool_calls").
Its gemma chat format drops ``tool`` messages, so results reach its model only as text
(``ToolLoop(tool_turns_as_text=True)``).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

import pytest

from hybridmcp_app.core.inference import (
    ChatMessage,
    InferenceRequest,
    StreamEvent,
    TextDelta,
)
from hybridmcp_app.core.model_context import ModelCapabilities
from hybridmcp_app.core.parameters import ModelParameters
from hybridmcp_app.llm.chat_backend import ChatBackend
from hybridmcp_app.llm.llama_backend import LlamaCppBackend
from hybridmcp_app.llm.openai_backend import OpenAICompatBackend
from hybridmcp_app.orchestration.approval_policy import (
    ApprovalDecision,
    ApprovalPolicy,
    ToolApprovalRequest,
)
from hybridmcp_app.orchestration.events import DecisionNote, LegEvent
from hybridmcp_app.orchestration.tool_events import (
    ToolCallFinished,
    ToolCallStarted,
    ToolLoopCompleted,
    ToolLoopEvent,
)
from hybridmcp_app.orchestration.tool_loop import ToolLoop
from tests.helpers.in_memory_tools import SdkToolCaller, calc_server

pytestmark = pytest.mark.integration


class RecordingBackend(ChatBackend):
    """A real backend that also keeps each request: what every step of the loop was sent."""

    def __init__(self, inner: ChatBackend) -> None:
        self.inner = inner
        self.name = inner.name
        self.requests: list[InferenceRequest] = []

    @property
    def capabilities(self) -> ModelCapabilities:
        return self.inner.capabilities

    async def stream(self, request: InferenceRequest) -> AsyncIterator[StreamEvent]:
        self.requests.append(request)
        stream = self.inner.stream(request)
        try:
            async for event in stream:
                yield event
        finally:
            close = getattr(stream, "aclose", None)
            if close is not None:
                await close()


def ask(text: str) -> InferenceRequest:
    return InferenceRequest(
        messages=(ChatMessage(role="user", content=text),),
        parameters=ModelParameters(temperature=0.0, max_tokens=48),
    )


async def run_loop(
    loop: ToolLoop, request: InferenceRequest, **options: str
) -> list[ToolLoopEvent]:
    return [event async for event in loop.run(request, **options)]


def only_call(events: list[ToolLoopEvent]) -> tuple[ToolCallStarted, ToolCallFinished]:
    (started,) = [e for e in events if isinstance(e, ToolCallStarted)]
    (finished,) = [e for e in events if isinstance(e, ToolCallFinished)]
    return started, finished


def streamed_text(events: list[ToolLoopEvent]) -> str:
    return "".join(
        e.event.text for e in events if isinstance(e, LegEvent) and isinstance(e.event, TextDelta)
    )


async def test_the_local_model_calls_a_forced_add_tool_and_answers_with_its_result(
    gemma: LlamaCppBackend,
) -> None:
    model = RecordingBackend(gemma)
    async with SdkToolCaller.connect(calc_server()) as calc:
        loop = ToolLoop(model, calc, ApprovalPolicy())
        events = await run_loop(loop, ask("Please add 17 and 25."), force_tool="calc__add")
    assert loop.mode == "grammar"
    started, finished = only_call(events)
    arguments = json.loads(started.arguments)
    assert set(arguments) == {"a", "b"} and all(isinstance(v, int) for v in arguments.values())
    total = arguments["a"] + arguments["b"]
    assert calc.calls == [("add", arguments)]  # the real server ran it
    assert finished.approval == "auto" and finished.outcome.text == str(total)
    tool_step, answer_step = model.requests
    assert tool_step.response_format.type == "json_schema"
    assert tool_step.response_format.json_schema is not None
    assert tool_step.response_format.json_schema["properties"]["tool"] == {"const": "calc__add"}
    assert answer_step.response_format.type == "text" and not answer_step.tools
    assert [m.role for m in answer_step.messages] == ["user", "assistant", "user"]
    assert f"Result of calc__add:\n{total}" in answer_step.messages[-1].content
    completed = events[-1]
    assert isinstance(completed, ToolLoopCompleted)
    assert completed.mode == "grammar" and completed.rounds == 1 and len(completed.steps) == 2
    assert completed.response is not None and completed.response.text
    # The forced call's JSON is shown as the call, not streamed as answer text.
    assert streamed_text(events) == completed.response.text


async def test_without_a_forced_tool_the_local_model_must_pick_one_of_the_enabled_tools(
    gemma: LlamaCppBackend,
) -> None:
    enabled = {"add", "repeat"}
    async with SdkToolCaller.connect(calc_server(), enabled=lambda t: t in enabled) as calc:
        loop = ToolLoop(gemma, calc, ApprovalPolicy())
        events = await run_loop(loop, ask("Repeat the word 'ha' three times."))
    started, finished = only_call(events)
    assert started.tool in enabled
    assert finished.approval == "auto"  # the grammar only lets through arguments that fit
    assert len(calc.calls) == 1
    assert any(isinstance(e, DecisionNote) and "chosen by the model" in e.text for e in events)


async def test_a_pattern_the_grammar_leaves_out_is_checked_after_the_call(
    gemma: LlamaCppBackend,
) -> None:
    model = RecordingBackend(gemma)
    async with SdkToolCaller.connect(calc_server()) as calc:
        loop = ToolLoop(model, calc, ApprovalPolicy())
        events = await run_loop(loop, ask("What is EUR called?"), force_tool="calc__currency")
    assert not any(isinstance(e, DecisionNote) and "could not be used" in e.text for e in events)
    tool_step, _answer = model.requests
    assert tool_step.response_format.json_schema is not None
    assert "pattern" not in json.dumps(tool_step.response_format.json_schema)
    started, finished = only_call(events)  # checked against the real schema afterwards
    code = json.loads(started.arguments).get("code", "")
    fits = isinstance(code, str) and re.search("[A-Z]{3}", code) is not None
    assert finished.approval == ("auto" if fits else "invalid")
    completed = events[-1]
    assert isinstance(completed, ToolLoopCompleted) and completed.response is not None


async def test_a_declined_local_call_is_not_run_and_the_answer_step_is_told(
    gemma: LlamaCppBackend,
) -> None:
    shown: list[ToolApprovalRequest] = []

    async def decline(request: ToolApprovalRequest) -> ApprovalDecision:
        shown.append(request)
        return ApprovalDecision.DENY

    model = RecordingBackend(gemma)
    async with SdkToolCaller.connect(calc_server()) as calc:
        loop = ToolLoop(model, calc, ApprovalPolicy(ask=decline))
        events = await run_loop(loop, ask("Note down: buy milk."), force_tool="calc__write_note")
    _, finished = only_call(events)
    assert finished.approval == "denied" and calc.calls == []
    (request,) = shown
    assert (request.server, request.tool) == ("calc", "write_note")
    assert isinstance(request.arguments.get("text"), str)
    assert "The user declined to run calc__write_note" in model.requests[-1].messages[-1].content


@pytest.mark.parametrize("as_text", [False, True], ids=["tool-messages", "tool-turns-as-text"])
async def test_the_provider_server_makes_a_forced_call_natively_and_answers_after_it(
    provider: OpenAICompatBackend, as_text: bool
) -> None:
    model = RecordingBackend(provider)
    async with SdkToolCaller.connect(calc_server()) as calc:
        loop = ToolLoop(model, calc, ApprovalPolicy(), tool_turns_as_text=as_text)
        events = await run_loop(loop, ask("Please add 17 and 25."), force_tool="calc__add")
    assert loop.mode == "native"
    started, finished = only_call(events)
    arguments = json.loads(started.arguments)
    assert calc.calls == [("add", arguments)]
    assert finished.outcome.text == str(arguments["a"] + arguments["b"])
    first, second = model.requests
    assert first.tool_choice == {"type": "function", "function": {"name": "calc__add"}}
    assert second.tool_choice == "auto" and len(second.tools) == 5
    roles = [m.role for m in second.messages]
    assert roles == (["user", "assistant", "user"] if as_text else ["user", "assistant", "tool"])
    assert finished.outcome.text in second.messages[-1].content
    completed = events[-1]
    assert isinstance(completed, ToolLoopCompleted)
    assert completed.rounds == 1 and completed.response is not None and completed.error is None


async def test_the_provider_server_answers_in_text_when_the_model_may_choose(
    provider: OpenAICompatBackend,
) -> None:
    async with SdkToolCaller.connect(calc_server()) as calc:
        loop = ToolLoop(provider, calc, ApprovalPolicy())
        events = await run_loop(loop, ask("Please add 17 and 25."))
    completed = events[-1]
    assert isinstance(completed, ToolLoopCompleted)
    assert completed.rounds == 0 and calc.calls == []
    assert completed.response is not None and completed.response.text


async def test_a_local_model_whose_template_takes_tools_is_offered_them_natively(
    tool_template_model: LlamaCppBackend,
) -> None:
    model = RecordingBackend(tool_template_model)
    async with SdkToolCaller.connect(calc_server()) as calc:
        loop = ToolLoop(model, calc, ApprovalPolicy())
        events = await run_loop(loop, ask("What is 17 plus 25?"))
    assert loop.mode == "native"
    (step,) = model.requests  # the tiny model answers without a call (see the module above)
    assert step.tool_choice == "auto" and step.response_format.type == "text"
    assert "calc__add" in {tool["function"]["name"] for tool in step.tools}
    completed = events[-1]
    assert isinstance(completed, ToolLoopCompleted) and completed.mode == "native"
    assert completed.response is not None and completed.rounds == 0
    assert streamed_text(events) == completed.response.text != ""


async def test_a_tool_the_user_picks_is_still_forced_by_grammar_on_such_a_model(
    tool_template_model: LlamaCppBackend,
) -> None:
    async with SdkToolCaller.connect(calc_server()) as calc:
        loop = ToolLoop(tool_template_model, calc, ApprovalPolicy())
        events = await run_loop(loop, ask("Please add 17 and 25."), force_tool="calc__add")
    started, finished = only_call(events)
    arguments = json.loads(started.arguments)
    assert calc.calls == [("add", arguments)]  # the real server ran it
    assert finished.outcome.text == str(arguments["a"] + arguments["b"])
    completed = events[-1]
    assert isinstance(completed, ToolLoopCompleted) and completed.mode == "grammar"
    assert completed.response is not None and completed.rounds == 1
