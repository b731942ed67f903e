"""The Qt-free side of the chat: builds the orchestrator from the current settings, runs turns,
and keeps the conversation, its history and the usage ledger up to date."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hybridmcp_app.config.paths import AppPaths, resources_dir
from hybridmcp_app.config.secrets import SecretStore
from hybridmcp_app.config.settings import Settings
from hybridmcp_app.core.errors import BackendError, HybridMCPError
from hybridmcp_app.core.inference import (
    ChatMessage,
    ContextDocument,
    InferenceRequest,
    TextDelta,
)
from hybridmcp_app.llm.local_model_service import LocalModelService, LocalModelState
from hybridmcp_app.orchestration.conversation import ConversationRecord, PaneRecord, TurnRecord
from hybridmcp_app.orchestration.events import (
    DecisionNote,
    HybridTrace,
    LegEvent,
    LegStarted,
    RunCompleted,
)
from hybridmcp_app.orchestration.history_store import HistoryStore
from hybridmcp_app.orchestration.library_sources import (
    DEFAULT_SOURCES,
    LibrarySearch,
    SourceCitation,
    SourcesFound,
    context_documents,
    find_sources,
)
from hybridmcp_app.orchestration.tool_events import RunEvent
from hybridmcp_app.orchestration.usage_ledger import SavingsPoint, UsageLedger

if TYPE_CHECKING:  # imported when first used: the openai SDK and numpy stay off start-up
    from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder
    from hybridmcp_app.llm.provider_catalog import PriceTable
    from hybridmcp_app.orchestration.run_context import ToolUse
    from hybridmcp_app.orchestration.semantic_cache import SemanticCache

log = logging.getLogger("hybridmcp.chat")
ChatEvent = RunEvent | SourcesFound


@dataclass(frozen=True)
class Availability:
    """What a chat can use right now, for the view's empty and error states."""

    local: bool
    provider: str | None  # the provider's name, or None
    provider_problem: str | None = None


class ChatSession:
    """One conversation at a time; every turn is saved, even one stopped half-way."""

    def __init__(
        self,
        paths: AppPaths,
        settings: Callable[[], Settings],
        secrets: SecretStore,
        local_model: LocalModelService,
        history: HistoryStore,
    ) -> None:
        self._paths = paths
        self._settings = settings
        self._secrets = secrets
        self._local_model = local_model
        self.history = history
        self.conversation = ConversationRecord()
        self._ledger = UsageLedger(paths.data_dir / "usage.sqlite3")
        self._embedder: OnnxEmbedder | None = None
        self._prices: PriceTable | None = None  # read once, when the first provider turn runs
        self._cache: SemanticCache | None = None

    def availability(self) -> Availability:
        settings = self._settings()
        active = settings.providers.choose()
        problem = None
        if active is not None and active.api_key_secret and not self._secrets.available:
            problem = "no keychain to read its API key from"
        return Availability(
            local=self._local_model.backend is not None,
            provider=active.name if active is not None else None,
            provider_problem=problem,
        )

    def shared_embedder(self) -> OnnxEmbedder:
        """The one offline embedder of the app (semantic cache, routing, library)."""
        from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder
        from hybridmcp_app.orchestration.semantic_cache import SemanticCache

        if self._embedder is None:
            self._embedder = OnnxEmbedder()
            self._cache = SemanticCache(
                self._paths.data_dir / "semantic_cache.sqlite3", self._embedder
            )
        return self._embedder

    @property
    def ledger(self) -> UsageLedger:
        """Where every run's provider tokens and savings are recorded."""
        return self._ledger

    @property
    def semantic_cache(self) -> SemanticCache | None:
        """The answer cache, once ``shared_embedder`` has made it."""
        return self._cache

    def new_conversation(self) -> None:
        self.conversation = ConversationRecord()

    async def savings_history(self, since: float | None = None) -> list[SavingsPoint]:
        """What each run spared the provider, oldest first (for the savings view)."""
        return await asyncio.to_thread(self._ledger.savings_history, since)

    async def open(self, conversation_id: str) -> ConversationRecord | None:
        found = await asyncio.to_thread(self.history.get, conversation_id)
        if found is not None:
            self.conversation = found
        return found

    async def ask(
        self,
        prompt: str,
        strategy_name: str,
        *,
        context: tuple[ContextDocument, ...] = (),
        raw: bool = False,
        tools: ToolUse | None = None,
        library: LibrarySearch | None = None,
        sources_k: int = DEFAULT_SOURCES,
    ) -> AsyncGenerator[ChatEvent, None]:
        """Run one turn; the turn is saved when it ends, also when it is stopped or fails.

        With ``library``, the ``sources_k`` chunks closest to the prompt join the context
        (``SourcesFound`` comes first) and the turn keeps them as its sources."""
        from hybridmcp_app.llm.openai_backend import OpenAICompatBackend
        from hybridmcp_app.llm.provider_catalog import PriceTable
        from hybridmcp_app.orchestration.orchestrator import LLMOrchestrator
        from hybridmcp_app.orchestration.strategies import available_strategies

        text = prompt.strip()
        if not text:
            raise HybridMCPError("the prompt is empty")
        strategies = available_strategies()
        if strategy_name not in strategies:
            raise HybridMCPError(f"unknown strategy {strategy_name!r}")
        strategy = strategies[strategy_name]
        settings = self._settings()
        provider = None
        prompt_price: float | None = None  # USD per provider prompt token, when known
        if strategy.needs_provider:
            config = settings.providers.choose()
            if config is None:
                raise BackendError("no provider is configured: add one in Settings → Providers")
            if self._prices is None:
                self._prices = await asyncio.to_thread(
                    PriceTable.load, resources_dir(), self._paths.config_dir / "prices.json"
                )
            # Off the loop: the key comes from the keychain, the client builds an SSL context.
            provider = await asyncio.to_thread(
                OpenAICompatBackend.from_settings, config, self._secrets, self._prices
            )
            model_price = self._prices.price(config.default_model)
            prompt_price = model_price.input / 1e6 if model_price is not None else None
        if strategy.needs_local and self._local_model.status.state is LocalModelState.LOADING:
            yield DecisionNote(text="waiting for the local model to finish loading…")
            await self._local_model.settled()
        local = self._local_model.backend
        if strategy.needs_local and local is None:
            raise BackendError("the local model is not loaded yet")
        embedder = self.shared_embedder() if strategy.needs_embedder else None
        sources: tuple[SourceCitation, ...] = ()
        if library is not None:
            found = await find_sources(library, text, sources_k)
            sources = found.sources
            context = (*context, *context_documents(sources))
            yield found
        # Raw: the text alone, for a base model to continue (no chat template, no history).
        history = () if raw else self.conversation.messages()
        request = InferenceRequest(
            messages=(*history, ChatMessage(role="user", content=text)),
            parameters=settings.llm.local.inference.parameters,
            context=context,
            raw_prompt=raw,
        )
        orchestrator = LLMOrchestrator(
            local, provider, settings.llm.hybrid,
            embedder=embedder, cache=self._cache, ledger=self._ledger,
            prompt_price_usd_per_token=prompt_price,
        )  # fmt: skip
        trace: HybridTrace | None = None
        streamed: dict[str, PaneRecord] = {}
        try:
            async for event in orchestrator.run(strategy, request, tools=tools):
                if isinstance(event, LegStarted):
                    streamed[event.leg] = PaneRecord(
                        leg=event.leg, backend=event.backend, role=event.role
                    )
                elif isinstance(event, LegEvent) and isinstance(event.event, TextDelta):
                    pane = streamed[event.leg]
                    streamed[event.leg] = pane.model_copy(
                        update={"text": pane.text + event.event.text}
                    )
                elif isinstance(event, RunCompleted):
                    trace = event.trace
                yield event
        finally:
            if provider is not None:
                await provider.close()
            if trace is not None:
                turn = TurnRecord.from_trace(text, trace, sources=sources)
            else:  # stopped, or the window closed: keep what had streamed
                turn = TurnRecord(
                    prompt=text, strategy=strategy_name, panes=tuple(streamed.values()),
                    partial=True, sources=sources,
                )  # fmt: skip
            self.conversation = self.conversation.with_turn(turn)
            await asyncio.to_thread(self.history.save, self.conversation)
