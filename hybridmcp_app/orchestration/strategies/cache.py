"""Semantic cache: a question close to one answered before gets that answer, clearly labelled."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from hybridmcp_app.core.inference import InferenceRequest, InferenceResponse
from hybridmcp_app.orchestration.context_prompt import inline_context, question_of
from hybridmcp_app.orchestration.strategy import Strategy

if TYPE_CHECKING:
    from hybridmcp_app.orchestration.run_context import RunContext


class CacheStrategy(Strategy):
    """Cache hit: no model runs. Miss (or ``bypass``): the provider answers and is remembered."""

    name = "cache"
    label = "Cache"
    kind = "hybrid"
    needs_local = False
    needs_embedder = True
    shapes_context = True  # the cache key holds the sources; the provider gets them inlined

    def __init__(self, *, bypass: bool = False) -> None:
        self.bypass = bypass

    async def execute(self, context: RunContext, request: InferenceRequest) -> str | None:
        assert context.provider is not None
        if context.cache is None:
            context.note("no cache is configured: the provider answers")
            leg = await context.leg("provider", context.provider, "answer", inline_context(request))
            return "provider" if leg.response is not None else None
        question = question_of(request)
        threshold = context.config.cache_similarity_threshold
        hit = (
            None
            if self.bypass
            else await context.cache.lookup(question, request.context, threshold)
        )
        if hit is not None:
            age_min = (time.time() - hit.created) / 60
            context.note(
                f"answered from the cache (similarity {hit.similarity:.2f} to “{hit.question}”, "
                f"{age_min:.0f} min old): no model was called"
            )
            context.replay(
                "cache",
                "cache",
                InferenceResponse(
                    request_id=request.request_id, backend="cache", model=hit.model,
                    text=hit.answer, cost_usd=0.0,
                ),
            )  # fmt: skip
            return "cache"
        context.note("cache bypassed" if self.bypass else "not in the cache: the provider answers")
        leg = await context.leg("provider", context.provider, "answer", inline_context(request))
        if leg.response is None:
            return None
        await context.cache.store(question, request.context, leg.response.text, leg.response.model)
        return "provider"
