"""What a strategy works with: the two backends, the wrapper settings, and the trace it builds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from hybridmcp_app.core.inference import (
    InferenceRequest,
    InferenceResponse,
    StreamCompleted,
    StreamFailed,
    TextDelta,
)
from hybridmcp_app.core.llm_configs import WrapperConfig
from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder
from hybridmcp_app.llm.chat_backend import ChatBackend
from hybridmcp_app.orchestration.events import (
    DecisionNote,
    LegEvent,
    LegRole,
    LegStarted,
    LegTrace,
    OrchestratorEvent,
)
from hybridmcp_app.orchestration.semantic_cache import SemanticCache


@dataclass
class RunContext:
    """Shared by one run's strategy: legs stream through ``emit``; the trace collects here."""

    local: ChatBackend | None
    provider: ChatBackend | None
    config: WrapperConfig
    emit: Callable[[OrchestratorEvent], None]
    embedder: OnnxEmbedder | None = None
    cache: SemanticCache | None = None
    spent_this_month_usd: float = 0.0
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
        self.emit(LegStarted(leg=leg, backend=backend.name, role=role))
        trace = LegTrace(leg=leg, backend=backend.name, role=role, error="ended without a result")
        async for event in backend.stream(request):
            self.emit(LegEvent(leg=leg, event=event))
            if isinstance(event, StreamCompleted):
                trace = LegTrace(leg=leg, backend=backend.name, role=role, response=event.response)
            elif isinstance(event, StreamFailed):
                trace = LegTrace(leg=leg, backend=backend.name, role=role, error=event.message)
        self.legs.append(trace)
        return trace

    def replay(self, leg: str, backend: str, response: InferenceResponse) -> LegTrace:
        """Show an answer that no model produced now (e.g. from the cache) as a finished leg."""
        self.emit(LegStarted(leg=leg, backend=backend, role="answer"))
        self.emit(LegEvent(leg=leg, event=TextDelta(text=response.text)))
        self.emit(LegEvent(leg=leg, event=StreamCompleted(response=response)))
        trace = LegTrace(leg=leg, backend=backend, role="answer", response=response)
        self.legs.append(trace)
        return trace
