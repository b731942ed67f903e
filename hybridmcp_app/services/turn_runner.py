"""``TurnRunner``: the one way a chat turn runs, whoever asks — the window, ``hybridmcp ask``
or the local API.

A turn picks its strategy, leases the provider from the ``BackendRegistry`` (with its prices,
so every run records its cost and savings), waits for a local model that is still loading, adds
the library's passages, offers the MCP tools it was given, and runs the orchestrator with the
app's embedder, answer cache and usage ledger. Its events reach the caller straight from the
orchestrator's queue; ``record`` hears the finished turn (or what streamed before it stopped).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hybridmcp_app.config.settings import Settings
from hybridmcp_app.core.errors import BackendError, HybridMCPError
from hybridmcp_app.core.inference import (
    ChatMessage,
    ContextDocument,
    InferenceRequest,
    TextDelta,
)
from hybridmcp_app.core.parameters import ModelParameters
from hybridmcp_app.llm.local_model_service import LocalModelService, LocalModelState
from hybridmcp_app.orchestration.conversation import PaneRecord, TurnRecord
from hybridmcp_app.orchestration.events import (
    DecisionNote,
    HybridTrace,
    LegEvent,
    LegStarted,
    RunCompleted,
)
from hybridmcp_app.orchestration.library_sources import (
    DEFAULT_SOURCES,
    LibrarySearch,
    SourceCitation,
    SourcesFound,
    context_documents,
    find_sources,
)
from hybridmcp_app.orchestration.tool_events import RunEvent
from hybridmcp_app.orchestration.usage_ledger import UsageLedger

if TYPE_CHECKING:  # imported when the first turn runs: numpy and the openai SDK stay off start-up
    from hybridmcp_app.core.llm_configs import LocalLLMConfig
    from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder
    from hybridmcp_app.llm.backend_registry import BackendRegistry
    from hybridmcp_app.llm.chat_backend import ChatBackend
    from hybridmcp_app.orchestration.run_context import ToolUse
    from hybridmcp_app.orchestration.semantic_cache import SemanticCache

ChatEvent = RunEvent | SourcesFound
RecordTurn = Callable[[TurnRecord], Awaitable[None]]


@dataclass(frozen=True)
class Turn:
    """What one turn asks: the prompt, the strategy, and what comes with them."""

    prompt: str
    strategy: str
    history: tuple[ChatMessage, ...] = ()  # earlier messages, system prompts included
    context: tuple[ContextDocument, ...] = ()
    raw: bool = False  # the text alone, for a base model to continue (no template, no history)
    parameters: ModelParameters | None = None  # None: the local model's settings
    provider: str | None = None  # a provider by name; None: the active one
    sources_k: int = DEFAULT_SOURCES
    # With no provider set up, a strategy that combines both models answers with the local one
    # (the chat's first question before any provider); off: such a turn is refused.
    local_without_provider: bool = False


@dataclass(frozen=True)
class TurnParts:
    """What the app lends every turn: the embedder and the answer cache (made on first use)."""

    embedder: Callable[[], OnnxEmbedder]
    cache: Callable[[], SemanticCache | None]
    ledger: UsageLedger


class TurnRunner:
    """Runs turns over the app's local model, providers, embedder, cache and ledger."""

    def __init__(
        self,
        settings: Callable[[], Settings],
        local_model: LocalModelService,
        providers: BackendRegistry,
        parts: TurnParts,
    ) -> None:
        self._settings, self._local_model = settings, local_model
        self.providers, self._parts = providers, parts

    @property
    def ledger(self) -> UsageLedger:
        """Where every run's provider tokens, cost and savings are recorded."""
        return self._parts.ledger

    def provider_names(self) -> list[str]:
        """The enabled providers' names."""
        return self.providers.names()

    async def run(
        self,
        turn: Turn,
        *,
        tools: ToolUse | None = None,
        library: LibrarySearch | None = None,
        record: RecordTurn | None = None,
    ) -> AsyncGenerator[ChatEvent, None]:
        """Stream the turn: ``SourcesFound`` first when it reads the library, then the
        orchestrator's events, ending with ``RunCompleted``. Problems found before any model
        runs (no provider, no key, no local model) raise a ``HybridMCPError``."""
        from hybridmcp_app.orchestration.orchestrator import LLMOrchestrator
        from hybridmcp_app.orchestration.strategies import available_strategies

        text = turn.prompt.strip()
        if not text:
            raise HybridMCPError("the prompt is empty")
        strategies = available_strategies()
        strategy = strategies.get(turn.strategy)
        if strategy is None:
            raise HybridMCPError(f"unknown strategy {turn.strategy!r}")
        settings = self._settings()
        if (
            turn.local_without_provider
            and strategy.needs_provider
            and strategy.kind != "provider"
            and turn.provider is None
            and not self.providers.names()
        ):
            yield DecisionNote(
                text="no provider is set up, so the local model answers alone (add one in "
                "Settings → Providers)"
            )
            strategy = strategies["local"]
        sources: tuple[SourceCitation, ...] = ()
        streamed: dict[str, tuple[LegStarted, list[str]]] = {}
        trace: HybridTrace | None = None
        async with contextlib.AsyncExitStack() as resources:
            provider = (
                await resources.enter_async_context(self.providers.lease(turn.provider))
                if strategy.needs_provider
                else None
            )
            if strategy.needs_local and self._local_model.status.state is LocalModelState.LOADING:
                yield DecisionNote(text="waiting for the local model to finish loading…")
                await self._local_model.settled()
            local = self._local_model.backend
            if strategy.needs_local and local is None:
                raise BackendError("the local model is not loaded yet")
            embedder = (
                await asyncio.to_thread(self._parts.embedder) if strategy.needs_embedder else None
            )
            context = turn.context
            if library is not None:
                found = await find_sources(library, text, turn.sources_k)
                sources = found.sources
                context = (*context, *context_documents(sources))
                yield found
            history = () if turn.raw else turn.history
            request = InferenceRequest(
                messages=(*history, ChatMessage(role="user", content=text)),
                parameters=turn.parameters or self._local_model.parameters(settings.llm.local),
                context=context,
                raw_prompt=turn.raw,
            )
            orchestrator = LLMOrchestrator(
                local, provider, settings.llm.hybrid,
                embedder=embedder, cache=self._parts.cache(), ledger=self._parts.ledger,
                prompt_price_usd_per_token=(
                    await self.providers.prompt_price(provider.config) if provider else None
                ),
                standby=lambda: self._standby(settings.llm.local),
            )  # fmt: skip
            queue: asyncio.Queue[RunEvent | None] = asyncio.Queue()
            started = await orchestrator.start(strategy, request, queue.put_nowait, tools=tools)
            started.task.add_done_callback(lambda _: queue.put_nowait(None))
            try:
                while (event := await queue.get()) is not None:
                    if isinstance(event, LegEvent) and isinstance(event.event, TextDelta):
                        streamed[event.leg][1].append(event.event.text)
                    elif isinstance(event, LegStarted):
                        streamed[event.leg] = (event, [])
                    yield event
                trace = await orchestrator.finish(started)
                yield RunCompleted(trace=trace)
            finally:  # once models ran, the turn is recorded however it ended
                await started.cancel()
                if record is not None:
                    await record(_turn_record(turn, text, trace, sources, streamed))

    async def _standby(self, config: LocalLLMConfig) -> ChatBackend | None:
        """The local model for a failover: the one loaded (or loading), else ``config``'s,
        loaded now (None when it cannot be; the model's status says why)."""
        await self._local_model.settled()
        if self._local_model.backend is None:
            await self._local_model.try_load(config)
        return self._local_model.backend


def _turn_record(
    turn: Turn,
    text: str,
    trace: HybridTrace | None,
    sources: tuple[SourceCitation, ...],
    streamed: dict[str, tuple[LegStarted, list[str]]],
) -> TurnRecord:
    """The finished turn, or (stopped, failed, the window closed) what had streamed."""
    if trace is not None:
        return TurnRecord.from_trace(text, trace, sources=sources)
    panes = tuple(
        PaneRecord(leg=leg.leg, backend=leg.backend, role=leg.role, text="".join(parts))
        for leg, parts in streamed.values()
    )
    return TurnRecord(
        prompt=text, strategy=turn.strategy, panes=panes, partial=True, sources=sources
    )
