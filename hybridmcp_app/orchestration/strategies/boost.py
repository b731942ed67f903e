"""Boost: the local model compresses the sources; the provider answers from the short version."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from hybridmcp_app.core.inference import InferenceRequest
from hybridmcp_app.core.token_estimate import estimate_tokens
from hybridmcp_app.orchestration.context_prompt import inline_context, question_of, with_context
from hybridmcp_app.orchestration.strategy import Strategy

if TYPE_CHECKING:
    from hybridmcp_app.orchestration.run_context import RunContext


class BoostStrategy(Strategy):
    """Sends the provider about ``boost_target_ratio`` of what provider-only would send."""

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
        full = estimate_tokens("\n".join(m.content for m in inline_context(request).messages))
        # Everything but the sources' text stays: instructions, question, source headers.
        overhead = full - sum(estimate_tokens(document.text) for document in request.context)
        budget = max(8, int(full * context.config.boost_target_ratio) - overhead - 2)
        score = getattr(context.local, "token_surprisals", None)
        from hybridmcp_app.orchestration.compression import compress_context  # numpy

        started = time.perf_counter()
        result = await compress_context(
            question_of(request),
            request.context,
            budget_tokens=budget,
            embed=context.embedder.embed,
            score=score,
        )
        took = time.perf_counter() - started
        how = (
            f"kept {result.sentences_kept} of {result.sentences_total} sentences, "
            f"dropped {result.words_dropped} predictable words"
            if score is not None
            else f"kept {result.sentences_kept} of {result.sentences_total} sentences "
            "(the local model cannot score tokens: no word pruning)"
        )
        context.note(
            f"compressed the sources {result.original_tokens:,} → {result.kept_tokens:,} tokens "
            f"({how}; {took:.1f} s on this machine)"
        )
        leg = await context.leg(
            "provider", context.provider, "answer", with_context(request, result.documents)
        )
        return "provider" if leg.response is not None else None
