"""What a strategy works with: the two backends, the wrapper settings, and the trace it builds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hybridmcp_app.core.inference import (
    InferenceRequest,
    InferenceResponse,
    StreamCompleted,
    StreamFailed,
    TextDelta,
)
from hybridmcp_app.core.llm_configs import WrapperConfig
from hybridmcp_app.core.token_estimate import estimate_tokens
from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder
from hybridmcp_app.llm.chat_backend import ChatBackend
from hybridmcp_app.orchestration.events import (
    DecisionNote,
    LegEvent,
    LegRole,
    LegStarted,
    LegTrace,
    SentRequest,
)
from hybridmcp_app.orchestration.semantic_cache import SemanticCache

if TYPE_CHECKING:
    from hybridmcp_app.mcp_host.mcp_items import ToolCaller
    from hybridmcp_app.orchestration.approval_policy import ApprovalPolicy
    from hybridmcp_app.orchestration.tool_events import RunEvent
    from hybridmcp_app.orchestration.tool_offer import ToolChooser


def prompt_tokens_of(request: InferenceRequest) -> int:
    """Our estimate of a request's prompt tokens (what the baseline is counted in)."""
    return estimate_tokens("\n".join(message.content for message in request.messages))


def sent_request(backend: ChatBackend, request: InferenceRequest) -> SentRequest:
    """What ``backend`` sent for ``request``: its own JSON body where it can say (provider
    backends, ``request_body``), else the request's fields."""
    body_of = getattr(backend, "request_body", None)
    body: dict[str, Any] = (
        dict(body_of(request))
        if callable(body_of)
        else {
            "model": request.model or "",
            "messages": [m.model_dump(exclude_defaults=True) for m in request.messages],
            **request.parameters.model_dump(exclude_none=True),
        }
    )
    return SentRequest(
        model=str(body.pop("model", "") or ""),
        messages=tuple(body.pop("messages", ())),
        parameters=body,
        estimated_prompt_tokens=prompt_tokens_of(request),
    )


@dataclass(frozen=True)
class ToolUse:
    """The MCP tools a run's answer legs may call, who approves, and the tool the user picked."""

    caller: ToolCaller
    policy: ApprovalPolicy
    force_tool: str | None = None
    tool_turns_as_text: bool = False  # for providers whose chat format drops tool messages
    chooser: ToolChooser | None = None  # picks the tools a provider request carries


@dataclass
class RunContext:
    """Shared by one run's strategy: legs stream through ``emit``; the trace collects here."""

    local: ChatBackend | None
    provider: ChatBackend | None
    config: WrapperConfig
    emit: Callable[[RunEvent], None]
    embedder: OnnxEmbedder | None = None
    cache: SemanticCache | None = None
    spent_this_month_usd: float = 0.0
    tools: ToolUse | None = None
    legs: list[LegTrace] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        self.notes.append(text)
        self.emit(DecisionNote(text=text))

    async def leg(
        self, leg: str, backend: ChatBackend, role: LegRole, request: InferenceRequest
    ) -> LegTrace:
        """Run one model to the end of its stream, forwarding every event; never raises for
        a model failure (the trace says what went wrong)."""
        if self.tools is not None and role == "answer" and self.tools.caller.tools():
            return await self._tool_leg(leg, backend, request, self.tools)
        self.emit(LegStarted(leg=leg, backend=backend.name, role=role))
        trace = LegTrace(leg=leg, backend=backend.name, role=role, error="ended without a result")
        async for event in backend.stream(request):
            self.emit(LegEvent(leg=leg, event=event))
            if isinstance(event, StreamCompleted):
                trace = LegTrace(leg=leg, backend=backend.name, role=role, response=event.response)
            elif isinstance(event, StreamFailed):
                trace = LegTrace(leg=leg, backend=backend.name, role=role, error=event.message)
        return self._record(trace, backend, request)

    def _record(self, trace: LegTrace, backend: ChatBackend, request: InferenceRequest) -> LegTrace:
        """Add the leg to the trace; a provider leg with the request it sent (read after the
        stream: a backend may have adapted its body to a refusal)."""
        if backend is self.provider:
            trace = trace.model_copy(update={"request": sent_request(backend, request)})
        self.legs.append(trace)
        return trace

    async def _tool_leg(
        self, leg: str, backend: ChatBackend, request: InferenceRequest, tools: ToolUse
    ) -> LegTrace:
        """An answer leg that may call tools: the tool loop streams its steps and calls."""
        from hybridmcp_app.orchestration.tool_events import ToolLoopCompleted
        from hybridmcp_app.orchestration.tool_loop import ToolLoop

        loop = ToolLoop(
            backend, tools.caller, tools.policy, leg=leg,
            tool_turns_as_text=tools.tool_turns_as_text and backend is self.provider,
            chooser=tools.chooser if backend is self.provider else None,
        )  # fmt: skip
        trace = LegTrace(
            leg=leg, backend=backend.name, role="answer", error="ended without a result"
        )
        async for event in loop.run(request, force_tool=tools.force_tool):
            if isinstance(event, ToolLoopCompleted):
                response = event.response
                if response is not None:  # what the whole exchange used, not its last step
                    response = response.model_copy(
                        update={"usage": event.usage, "cost_usd": event.cost_usd}
                    )
                trace = LegTrace(
                    leg=leg, backend=backend.name, role="answer", response=response,
                    error=event.error if response is None else None, tools=event.tools,
                )  # fmt: skip
            else:
                self.emit(event)
        return self._record(trace, backend, request)

    def replay(self, leg: str, backend: str, response: InferenceResponse) -> LegTrace:
        """Show an answer that no model produced now (e.g. from the cache) as a finished leg."""
        self.emit(LegStarted(leg=leg, backend=backend, role="answer"))
        self.emit(LegEvent(leg=leg, event=TextDelta(text=response.text)))
        self.emit(LegEvent(leg=leg, event=StreamCompleted(response=response)))
        trace = LegTrace(leg=leg, backend=backend, role="answer", response=response)
        self.legs.append(trace)
        return trace
