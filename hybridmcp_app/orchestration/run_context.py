"""What a strategy works with: the two backends, the wrapper settings, and the trace it builds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from hybridmcp_app.core.inference import (
    InferenceRequest,
    StreamCompleted,
    StreamFailed,
)
from hybridmcp_app.core.llm_configs import WrapperConfig
from hybridmcp_app.llm.chat_backend import ChatBackend
from hybridmcp_app.orchestration.events import (
    DecisionNote,
    LegEvent,
    LegRole,
    LegStarted,
    LegTrace,
    OrchestratorEvent,
)


@dataclass
class RunContext:
    """Shared by one run's strategy: legs stream through ``emit``; the trace collects here."""

    local: ChatBackend | None
    provider: ChatBackend | None
    config: WrapperConfig
    emit: Callable[[OrchestratorEvent], None]
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
