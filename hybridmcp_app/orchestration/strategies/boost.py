"""Boost: the local model compresses the sources; the provider answers from the short version."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from hybridmcp_app.core.inference import InferenceRequest
from hybridmcp_app.core.token_estimate import estimate_tokens
from hybridmcp_app.orchestration.context_prompt import question_of, with_context
from hybridmcp_app.orchestration.strategy import Strategy

if TYPE_CHECKING:
    from hybridmcp_app.orchestration.run_context import RunContext


class BoostStrategy(Strategy):
    """Sends the provider about ``boost_target_ratio`` of the sources, keeping relevant ones."""

    name = "boost"
    label = "Boost (compress sources)"
    kind = "hybrid"
    needs_embedder = True
    shapes_context = True

    async def execute(self, context: RunContext, request: InferenceRequest) -> str | None:
        assert context.local is not None and context.provider is not None
        assert context.embedder is not None
        if not request.context:
            context.note("no sources to compress: the provider answers the prompt as it is")
            leg = await context.leg("provider", context.provider, "answer", request)
            return "provider" if leg.response is not None else None
        # numpy: imported when a turn first compresses, never at startup.
        from hybridmcp_app.orchestration.compression import compress_context, sources_budget

        config = context.config
        source_tokens = sum(estimate_tokens(document.text) for document in request.context)
        scorer = getattr(context.local, "token_surprisals", None)
        score = scorer if config.boost_prune_words else None
        started = time.perf_counter()
        result = await compress_context(
            question_of(request),
            request.context,
            budget_tokens=sources_budget(source_tokens, config.boost_target_ratio),
            embed=context.embedder.embed,
            score=score,
        )
        took = time.perf_counter() - started
        why_no_pruning = (
            " (word pruning is off)"
            if not config.boost_prune_words
            else " (the local model cannot score tokens)"
            if scorer is None
            else ""
        )
        summary = result.summary() if result.as_is else result.summary() + why_no_pruning
        context.note(f"{summary}; {took:.1f} s on this machine")
        leg = await context.leg(
            "provider", context.provider, "answer", with_context(request, result.documents)
        )
        return "provider" if leg.response is not None else None
