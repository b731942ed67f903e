"""``LLMOrchestrator``: runs a strategy, streams every leg's events, and ends with the trace."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from hybridmcp_app.core.errors import BackendError
from hybridmcp_app.core.inference import InferenceRequest
from hybridmcp_app.core.llm_configs import WrapperConfig
from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder
from hybridmcp_app.llm.chat_backend import ChatBackend
from hybridmcp_app.orchestration.context_prompt import inline_context
from hybridmcp_app.orchestration.events import HybridTrace, RunCompleted, Saving
from hybridmcp_app.orchestration.run_context import RunContext, ToolUse, prompt_tokens_of
from hybridmcp_app.orchestration.semantic_cache import SemanticCache
from hybridmcp_app.orchestration.strategy import Strategy
from hybridmcp_app.orchestration.tool_events import RunEvent
from hybridmcp_app.orchestration.usage_ledger import UsageLedger


@dataclass(frozen=True)
class StartedRun:
    """A run under way: its strategy task and the context that collects its trace."""

    strategy: Strategy
    request: InferenceRequest
    context: RunContext
    task: asyncio.Future[str | None]

    async def cancel(self) -> None:
        """Stop the strategy (the consumer went away); nothing if it had ended."""
        if not self.task.done():
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task


class LLMOrchestrator:
    """Combines a local backend and a provider backend under a ``Strategy``."""

    def __init__(
        self,
        local: ChatBackend | None,
        provider: ChatBackend | None,
        config: WrapperConfig,
        *,
        embedder: OnnxEmbedder | None = None,
        cache: SemanticCache | None = None,
        ledger: UsageLedger | None = None,
        prompt_price_usd_per_token: float | None = None,
        standby: Callable[[], Awaitable[ChatBackend | None]] | None = None,
    ) -> None:
        self.ledger = ledger
        # Loads the local model when a failover needs it and none was loaded for the run.
        self.standby = standby
        # The provider's input price: what each prompt token kept from it would have cost.
        self.prompt_price_usd_per_token = prompt_price_usd_per_token
        self.local = local
        self.provider = provider
        self.config = config
        self.embedder = embedder
        self.cache = cache

    async def start(
        self,
        strategy: Strategy,
        request: InferenceRequest,
        emit: Callable[[RunEvent], None],
        *,
        tools: ToolUse | None = None,
    ) -> StartedRun:
        """Start the run as a task; its events go to ``emit`` as they happen (``finish``
        then gives the trace). With ``tools`` its answer legs may call MCP tools."""
        missing = [
            role
            for role, needed, backend in (
                ("local model", strategy.needs_local, self.local),
                ("provider", strategy.needs_provider, self.provider),
                ("embedder", strategy.needs_embedder, self.embedder),
            )
            if needed and backend is None
        ]
        if missing:
            raise BackendError(f"strategy {strategy.name!r} needs a {' and a '.join(missing)}")
        context = RunContext(
            self.local,
            self.provider,
            self.config,
            emit,
            embedder=self.embedder,
            cache=self.cache,
            tools=tools,
            spent_this_month_usd=(
                await asyncio.to_thread(self.ledger.month_cost) if self.ledger else 0.0
            ),
        )
        task = asyncio.ensure_future(self._execute(strategy, context, request))
        return StartedRun(strategy, request, context, task)

    async def _execute(
        self, strategy: Strategy, context: RunContext, request: InferenceRequest
    ) -> str | None:
        """The strategy's run, then failover: a run left without an answer by a failed provider
        call gets the local model's answer to the whole request (``failover_to_local``), unless
        the local model had its turn already (Failover, Route, Cascade… fall back themselves)."""
        shaped = request if strategy.shapes_context else inline_context(request)
        final = await strategy.execute(context, shaped)
        provider = self.provider.name if self.provider is not None else None
        failed = next(
            (leg for leg in context.legs if leg.backend == provider and leg.response is None),
            None,
        )
        if failed is None or not strategy.needs_provider:
            return final
        local = self.local.name if self.local is not None else None
        if final is not None:
            chosen = next((leg for leg in context.legs if leg.leg == final), None)
            if chosen is not None and chosen.backend == local and chosen.role != "fallback":
                context.note(f"the provider failed ({failed.error}): the local answer is final")
            return final
        if not self.config.failover_to_local or any(leg.backend == local for leg in context.legs):
            return None
        fallback = self.local
        if fallback is None and self.standby is not None:
            context.note(f"the provider failed ({failed.error}): loading the local model…")
            fallback = await self.standby()
        if fallback is None:
            return None
        context.note(f"failed over to the local model: {failed.error}")
        leg = await context.leg("local", fallback, "fallback", inline_context(request))
        return "local" if leg.response is not None else None

    async def finish(self, run: StartedRun) -> HybridTrace:
        """The finished run's trace, recorded in the ledger."""
        trace = self._trace(run.strategy, run.request, run.context, await run.task)
        if self.ledger is not None:
            await asyncio.to_thread(self.ledger.record, trace)
        return trace

    async def run(
        self, strategy: Strategy, request: InferenceRequest, *, tools: ToolUse | None = None
    ) -> AsyncIterator[RunEvent]:
        """Stream the run's events, then ``RunCompleted`` with its trace."""
        queue: asyncio.Queue[RunEvent | None] = asyncio.Queue()
        started = await self.start(strategy, request, queue.put_nowait, tools=tools)
        started.task.add_done_callback(lambda _: queue.put_nowait(None))
        try:
            while (item := await queue.get()) is not None:
                yield item
            trace = await self.finish(started)
        finally:
            await started.cancel()
        yield RunCompleted(trace=trace)

    def _trace(
        self, strategy: Strategy, request: InferenceRequest, context: RunContext, final: str | None
    ) -> HybridTrace:
        provider_name = self.provider.name if self.provider is not None else None
        provider_tokens = sum(
            leg.response.usage.prompt_tokens
            for leg in context.legs
            if leg.response is not None and leg.backend == provider_name
        )
        costs = [leg.response.cost_usd for leg in context.legs if leg.response is not None]
        known = [cost for cost in costs if cost is not None]
        baseline = prompt_tokens_of(inline_context(request))
        provider_legs = [leg for leg in context.legs if leg.backend == provider_name]
        # Counted like the baseline: a provider's own tokenizer may count fewer tokens than our
        # estimate for the very same prompt, which is no saving.
        sent = sum(
            leg.request.estimated_prompt_tokens if leg.request is not None else 0
            for leg in provider_legs
            if leg.response is not None
        )
        saving: Saving = "none"
        if (
            final is not None
            and self.provider is not None
            and strategy.needs_provider
            and all(leg.response is not None for leg in provider_legs)
        ):
            if not provider_legs:
                saving = "without_provider"
            elif sent < baseline:
                saving = "fewer_tokens"
        trace = HybridTrace(
            strategy=strategy.name,
            provider=provider_name,
            legs=tuple(context.legs),
            notes=tuple(context.notes),
            final_leg=final,
            provider_prompt_tokens=provider_tokens,
            baseline_prompt_tokens=baseline,
            provider_prompt_tokens_estimated=sent,
            cost_usd=sum(known) if known else None,
            saving=saving,
        )
        price = self.prompt_price_usd_per_token
        if price is None:
            return trace
        saved = trace.prompt_tokens_saved + trace.tool_tokens_saved
        return trace.model_copy(update={"cost_saved_usd": saved * price})
