"""``ToolLoop``: a model, the enabled MCP tools, and the user's approval, until an answer.

Two modes:

* **native** (providers, and local models whose GGUF chat template takes tools: the template
  renders the tools and tool turns, ``llm/template_tools`` reads the calls back): the request
  carries the tools as OpenAI ``tools``; the model calls
  what it chooses; each call is checked, approved, run, and its result sent back; this repeats
  until the model answers without calls or ``max_rounds`` rounds of calls have run, after which
  the model is asked for a final answer with ``tool_choice="none"``.
* **grammar** (other backends that take grammars, i.e. local llama.cpp models without tools in
  their template): such a model cannot
  decide on its own whether or which tool to call, so one step is *forced*: its output must be
  ``{"tool": ..., "arguments": {...}}`` (see ``tool_call_grammar``). That call is checked,
  approved and run like any other, then one answer step without the grammar sees the result. A
  call that cannot run (not a call, arguments that do not fit) is reported in one line, and the
  answer step answers without it.
  Exactly one tool round: ``max_rounds`` does not apply. Pass ``force_tool`` (the tool the user
  picked) for reliable results; without it the model picks among all enabled tools, which small
  base models do poorly.

``force_tool`` (or a request whose ``tool_choice`` names a function) forces the first step in
native mode too; later steps are ``"auto"``, or the loop would never end. A local model forced
to one tool runs that run in grammar mode even if its template takes tools: a grammar makes the
call certain, which a template cannot.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

from hybridmcp_app.core.errors import HybridMCPError
from hybridmcp_app.core.inference import (
    ChatMessage,
    InferenceRequest,
    InferenceResponse,
    ResponseFormat,
    StreamCompleted,
    StreamFailed,
    StreamStarted,
    TextDelta,
    ToolCall,
)
from hybridmcp_app.llm.chat_backend import ChatBackend
from hybridmcp_app.llm.template_tools import UNREADABLE
from hybridmcp_app.mcp_host.mcp_items import (
    McpTool,
    ToolCaller,
    ToolCallOutcome,
    split_qualified_name,
)
from hybridmcp_app.orchestration.approval_policy import ApprovalPolicy
from hybridmcp_app.orchestration.events import DecisionNote, LegEvent, LegStarted
from hybridmcp_app.orchestration.tool_arguments import (
    DEFAULT_MAX_RESULT_CHARS,
    check_arguments,
    truncate_outcome,
)
from hybridmcp_app.orchestration.tool_call_grammar import (
    as_plain_chat,
    call_schema,
    generic_call_schema,
    parse_forced_call,
    tool_instruction,
    with_note_on_last_user_turn,
)
from hybridmcp_app.orchestration.tool_events import (
    Approval,
    ToolCallFinished,
    ToolCallStarted,
    ToolLoopCompleted,
    ToolLoopEvent,
    ToolMode,
)
from hybridmcp_app.orchestration.tool_offer import (
    SEARCH_TOOLS,
    ToolChooser,
    ToolOffer,
    first_offer,
    recovered_call,
    run_search,
)

log = logging.getLogger("hybridmcp.orchestration.tools")
DEFAULT_MAX_ROUNDS = 5
MIN_CALL_TOKENS = 256  # a forced call cut off at the token limit would be broken JSON
ANSWER_WITH_RESULT = "Answer the request above using this result."


class ToolUnavailableError(HybridMCPError):
    """The tool the user picked is not offered (its server or the tool itself is off)."""


def _one_line(text: str, limit: int = 240) -> str:
    """``text`` on one line, cut to ``limit`` characters."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def mode_for(backend: ChatBackend) -> ToolMode:
    """Grammar-forced calls for a backend that takes grammars but not tools (a local model whose
    template has no tools), else native."""
    capabilities = backend.capabilities
    return (
        "grammar" if capabilities.supports_grammar and not capabilities.supports_tools else "native"
    )


def _named_choice(choice: str | dict[str, Any] | None) -> str | None:
    if isinstance(choice, dict):
        function = choice.get("function")
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            return str(function["name"])
    return None


def _forced_choice(name: str) -> dict[str, Any]:
    return {"type": "function", "function": {"name": name}}


@dataclass
class _Exchange:
    """One run's state: the messages so far, the model steps, and how the last step ended."""

    messages: list[ChatMessage]
    mode: ToolMode
    steps: list[InferenceResponse] = field(default_factory=list)
    rounds: int = 0
    last: InferenceResponse | None = None
    error: str | None = None
    started: bool = False  # whether the last step's model got as far as generating
    offer: ToolOffer | None = None  # the tools shown when the local side chooses them


class ToolLoop:
    """Runs one request with tools; ``run`` streams ``ToolLoopEvent``s as one leg."""

    def __init__(
        self,
        backend: ChatBackend,
        tools: ToolCaller,
        policy: ApprovalPolicy,
        *,
        leg: str | None = None,
        mode: ToolMode | None = None,
        max_rounds: int = DEFAULT_MAX_ROUNDS,
        max_result_chars: int = DEFAULT_MAX_RESULT_CHARS,
        tool_turns_as_text: bool = False,
        chooser: ToolChooser | None = None,
    ) -> None:
        """``tool_turns_as_text`` sends tool turns as plain text in native mode too, for
        OpenAI-compatible servers whose chat format drops ``tool`` messages (llama-cpp-python's
        format-based handlers such as ``--chat_format gemma`` do). ``chooser``: see tool_offer."""
        if max_rounds < 1:
            raise ValueError("max_rounds must be at least 1")
        if max_result_chars < 1:
            raise ValueError("max_result_chars must be at least 1")
        self.backend = backend
        self.tools = tools
        self.policy = policy
        self.leg = leg or backend.name
        self.mode: ToolMode = mode or mode_for(backend)
        self.max_rounds = max_rounds
        self.max_result_chars = max_result_chars
        self.tool_turns_as_text = tool_turns_as_text
        self.chooser = chooser

    async def run(
        self, request: InferenceRequest, *, force_tool: str | None = None
    ) -> AsyncGenerator[ToolLoopEvent, None]:
        """Stream the run. Raises ``ToolUnavailableError`` (before any event) when the forced
        tool is not among the enabled tools."""
        offered = {tool.qualified_name: tool for tool in self.tools.tools()}
        force_tool = force_tool or _named_choice(request.tool_choice)
        if force_tool is not None and force_tool not in offered:
            raise ToolUnavailableError(
                f"the tool {force_tool!r} is not available: its server is off or not ready, "
                "or the tool is switched off"
            )
        # A forced tool on a model that takes grammars: the grammar makes the call certain.
        grammar = self.mode == "grammar" or (
            force_tool is not None and self.backend.capabilities.supports_grammar
        )
        exchange = _Exchange(
            messages=list(request.messages), mode="grammar" if grammar else self.mode
        )
        yield LegStarted(leg=self.leg, backend=self.backend.name, role="answer")
        if not offered:
            yield DecisionNote(text="no tools are enabled: answering without tools")
        forcing = grammar and bool(offered) and request.tool_choice != "none"
        steps = self._grammar if forcing else self._native
        async with aclosing(steps(request, exchange, offered, force_tool)) as events:
            async for event in events:
                yield event
        yield ToolLoopCompleted(
            leg=self.leg,
            mode=exchange.mode,
            response=exchange.last if exchange.error is None else None,
            error=exchange.error,
            messages=tuple(exchange.messages),
            rounds=exchange.rounds,
            steps=tuple(exchange.steps),
            tools=exchange.offer.trace() if exchange.offer is not None else None,
        )

    # ------------------------------------------------------------------ modes
    async def _native(
        self,
        request: InferenceRequest,
        exchange: _Exchange,
        offered: dict[str, McpTool],
        force_tool: str | None,
    ) -> AsyncGenerator[ToolLoopEvent, None]:
        all_schemas = tuple(tool.openai_schema() for tool in offered.values())
        if self.chooser is not None and offered:  # a failing chooser offers every tool
            exchange.offer, note = await first_offer(
                self.chooser, offered, exchange.messages, force_tool
            )
            if note:
                yield DecisionNote(text=note)
        first_choice: str | dict[str, Any] | None = (
            _forced_choice(force_tool) if force_tool else request.tool_choice or "auto"
        )
        for round_index in range(self.max_rounds + 1):
            final = round_index == self.max_rounds
            if final:
                note = (
                    f"stopped after {self.max_rounds} round(s) of tool calls: "
                    "asking the model for a final answer without tools"
                )
                log.info("%s: %s", self.leg, note)
                yield DecisionNote(text=note)
            choice = "none" if final else (first_choice if round_index == 0 else "auto")
            offer = exchange.offer
            schemas = offer.schemas() if offer is not None else all_schemas
            step = self._step_request(
                request,
                self._shown(exchange.messages),
                tools=schemas,
                tool_choice=choice if schemas else None,
            )
            async with aclosing(self._step(step, exchange, forward_text=True)) as events:
                async for event in events:
                    yield event
            response = exchange.last
            if offer is not None and response is not None:
                offer.count(schemas)  # the request went out with these tools, and was answered
            if exchange.error is not None or response is None or not response.tool_calls:
                return
            if final:
                yield DecisionNote(text="the model asked for tools after the limit; not run")
                return
            calls = self._round(exchange, response.text, response.tool_calls, offered)
            async with aclosing(calls) as events:
                async for event in events:
                    yield event

    async def _grammar(
        self,
        request: InferenceRequest,
        exchange: _Exchange,
        offered: dict[str, McpTool],
        force_tool: str | None,
    ) -> AsyncGenerator[ToolLoopEvent, None]:
        choices = [offered[force_tool]] if force_tool else list(offered.values())
        prompt = with_note_on_last_user_turn(
            as_plain_chat(exchange.messages), tool_instruction(choices)
        )
        yield DecisionNote(
            text=f"local model: call of {force_tool} forced by grammar"
            if force_tool
            else f"local model: forced to call one of {len(choices)} tool(s), chosen by the model"
        )
        attempts = ((call_schema(choices), True), (generic_call_schema(choices), False))
        for attempt_schema, precise in attempts:
            step = self._step_request(
                request,
                prompt,
                response_format=ResponseFormat(type="json_schema", json_schema=attempt_schema),
            )
            if step.parameters.max_tokens < MIN_CALL_TOKENS:  # room for the whole call
                parameters = step.parameters.model_copy(update={"max_tokens": MIN_CALL_TOKENS})
                step = step.model_copy(update={"parameters": parameters})
            async with aclosing(self._step(step, exchange, forward_text=False)) as events:
                async for event in events:
                    yield event
            # A step that fails before the model starts is a request the backend refused
            # (for a grammar backend: a schema it cannot turn into a grammar).
            refused = exchange.error is not None and not exchange.started
            if not (refused and precise):
                break
            yield DecisionNote(
                text=f"the tools' own argument schemas could not be used ({exchange.error}): "
                "falling back to any JSON object as arguments"
            )
        if exchange.error is not None or exchange.last is None:
            return
        fallback = choices[0].qualified_name if len(choices) == 1 else None
        call = parse_forced_call(exchange.last.text, fallback)
        before_call = tuple(exchange.messages)
        failure: str | None = None
        async with aclosing(self._round(exchange, "", (call,), offered)) as events:
            async for event in events:
                if isinstance(event, ToolCallFinished) and event.approval == "invalid":
                    failure = event.outcome.text
                yield event
        if failure is None:
            shown = with_note_on_last_user_turn(
                as_plain_chat(exchange.messages), ANSWER_WITH_RESULT
            )
        else:
            # A small model shown its failed call copies it, JSON and all, into the answer.
            yield DecisionNote(
                text=f"local model: {_one_line(failure)}: answering without the tool"
            )
            shown = as_plain_chat(before_call)
        answer = self._step_request(request, shown)
        async with aclosing(self._step(answer, exchange, forward_text=True)) as events:
            async for event in events:
                yield event

    # ------------------------------------------------------------------ steps and calls
    def _shown(self, messages: Sequence[ChatMessage]) -> tuple[ChatMessage, ...]:
        return as_plain_chat(messages) if self.tool_turns_as_text else tuple(messages)

    @staticmethod
    def _step_request(
        request: InferenceRequest,
        messages: Sequence[ChatMessage],
        *,
        tools: tuple[dict[str, Any], ...] = (),
        tool_choice: str | dict[str, Any] | None = None,
        response_format: ResponseFormat | None = None,
    ) -> InferenceRequest:
        return request.model_copy(
            update={
                "request_id": uuid.uuid4().hex,
                "messages": tuple(messages),
                "tools": tools,
                "tool_choice": tool_choice,
                "response_format": response_format or request.response_format,
            }
        )

    async def _step(
        self, request: InferenceRequest, exchange: _Exchange, *, forward_text: bool
    ) -> AsyncGenerator[ToolLoopEvent, None]:
        """One model step; its stream goes upward (a forced call's JSON text does not: the
        ``ToolCallStarted`` that follows shows it)."""
        exchange.last, exchange.started = None, False
        exchange.error = f"{self.backend.name} ended its stream without a result"
        stream = self.backend.stream(request)
        try:
            async for event in stream:
                if isinstance(event, StreamStarted):
                    exchange.started = True
                elif isinstance(event, StreamCompleted):
                    exchange.last, exchange.error = event.response, None
                    exchange.steps.append(event.response)
                    if not forward_text:
                        continue  # its text is the call itself
                elif isinstance(event, StreamFailed):
                    exchange.error = event.message
                elif isinstance(event, TextDelta) and not forward_text:
                    continue
                yield LegEvent(leg=self.leg, event=event)
        finally:  # stopping early stops the model (every backend's stream is a generator)
            close = getattr(stream, "aclose", None)
            if close is not None:
                await close()

    async def _round(
        self,
        exchange: _Exchange,
        text: str,
        calls: Sequence[ToolCall],
        offered: dict[str, McpTool],
    ) -> AsyncGenerator[ToolLoopEvent, None]:
        """Record the model's calls, run each in turn, and add their results."""
        exchange.rounds += 1
        exchange.messages.append(
            ChatMessage(role="assistant", content=text, tool_calls=tuple(calls))
        )
        for call in calls:
            async with aclosing(self._call(exchange, call, offered)) as events:
                async for event in events:
                    yield event

    async def _call(
        self, exchange: _Exchange, call: ToolCall, offered: dict[str, McpTool]
    ) -> AsyncGenerator[ToolLoopEvent, None]:
        offer = exchange.offer
        if offer is not None:
            if call.name == SEARCH_TOOLS:
                async with aclosing(self._search(exchange, call, offer)) as events:
                    async for event in events:
                        yield event
                return
            call, note = recovered_call(call, offer)
            if note:
                yield DecisionNote(text=note)
        tool = offered.get(call.name)
        if tool is not None:
            server, name = tool.server, tool.name
        else:
            try:
                server, name = split_qualified_name(call.name)
            except ValueError:
                server, name = "", call.name
        checked = check_arguments(call.arguments, tool.input_schema if tool else None)
        yield ToolCallStarted(
            leg=self.leg,
            call_id=call.id,
            server=server,
            tool=name,
            qualified_name=call.name,
            arguments=checked.pretty(call.arguments),
        )
        started = time.perf_counter()
        approval: Approval
        # A model that can call again is told how; a forced call (grammar mode) has no second
        # try, so its reason is one line for the user.
        again = exchange.mode == "native"
        if tool is None:
            known = ", ".join(offered) or "none"
            if call.name != UNREADABLE:
                text = f"There is no tool named {call.name!r}. Available tools: {known}."
            elif again:
                text = (
                    f"The tool call could not be read: {_one_line(call.arguments, 160)}. "
                    f"Available tools: {known}."
                )
            else:
                text = f"the model's reply is not a tool call: {checked.error or call.arguments}"
            outcome = ToolCallOutcome(text=text, is_error=True)
            approval = "invalid"
        elif checked.error is not None:
            schema = json.dumps(tool.input_schema, separators=(",", ":"), ensure_ascii=False)
            retry = (
                f". Call it again with arguments that match its input schema: {schema}"
                if again
                else ""
            )
            outcome = ToolCallOutcome(
                text=f"{call.name} was not run: {checked.error}{retry}", is_error=True
            )
            approval = "invalid"
        else:
            verdict = await self.policy.decide(tool, checked.arguments, call.id)
            approval = verdict.approval
            if verdict.approved:
                outcome = await self._invoke(call.name, checked.arguments)
            else:
                outcome = ToolCallOutcome(text=verdict.message, is_error=True)
        sent, truncated = truncate_outcome(outcome, self.max_result_chars)
        content = sent.text if sent.text.strip() else "(the tool returned no output)"
        if sent.is_error and not content.startswith("Error"):
            content = f"Error: {content}"
        exchange.messages.append(ChatMessage(role="tool", tool_call_id=call.id, content=content))
        yield ToolCallFinished(
            leg=self.leg,
            call_id=call.id,
            server=server,
            tool=name,
            outcome=sent,
            approval=approval,
            truncated=truncated,
            duration_s=time.perf_counter() - started,
        )

    async def _search(
        self, exchange: _Exchange, call: ToolCall, offer: ToolOffer
    ) -> AsyncGenerator[ToolLoopEvent, None]:
        """Answer ``search_tools`` with the best matching left-out tools; they join the offer."""
        yield ToolCallStarted(
            leg=self.leg, call_id=call.id, server="", tool=SEARCH_TOOLS,
            qualified_name=SEARCH_TOOLS, arguments=call.arguments,
        )  # fmt: skip
        outcome, note = await run_search(offer, call.arguments)
        yield DecisionNote(text=note)
        reply = ChatMessage(role="tool", tool_call_id=call.id, content=outcome.text)
        exchange.messages.append(reply)
        yield ToolCallFinished(
            leg=self.leg, call_id=call.id, server="", tool=SEARCH_TOOLS, outcome=outcome,
            approval="auto",
        )  # fmt: skip

    async def _invoke(self, qualified: str, arguments: dict[str, Any]) -> ToolCallOutcome:
        try:
            return await self.tools.call(qualified, arguments)
        except Exception as error:  # the protocol says outcomes, but a host may still raise
            log.exception("tool %s raised", qualified)
            return ToolCallOutcome(text=f"{qualified} failed: {error}", is_error=True)
