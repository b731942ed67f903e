"""Verify: the provider answers; each sentence of the answer is checked against the sources."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hybridmcp_app.core.inference import InferenceRequest
from hybridmcp_app.orchestration.context_prompt import inline_context, split_sentences
from hybridmcp_app.orchestration.strategy import Strategy

if TYPE_CHECKING:
    from hybridmcp_app.orchestration.run_context import RunContext


class VerifyStrategy(Strategy):
    """Flags answer sentences whose best match among the source sentences is too weak."""

    name = "verify"
    label = "Verify"
    kind = "hybrid"
    needs_local = False
    needs_embedder = True
    shapes_context = True

    async def execute(self, context: RunContext, request: InferenceRequest) -> str | None:
        assert context.provider is not None and context.embedder is not None
        leg = await context.leg("provider", context.provider, "answer", inline_context(request))
        if leg.response is None:
            return None
        sources = [s for doc in request.context for s in split_sentences(doc.text)]
        claims = split_sentences(leg.response.text)
        if not sources:
            context.note("nothing to verify against: the request has no sources")
            return "provider"
        if not claims:
            return "provider"
        vectors = await context.embedder.embed(claims + sources)
        similarity = vectors[: len(claims)] @ vectors[len(claims) :].T
        best = similarity.max(axis=1)
        threshold = context.config.verify_min_similarity
        weak = [
            (claim, float(score))
            for claim, score in zip(claims, best, strict=True)
            if score < threshold
        ]
        if not weak:
            context.note(f"verified: all {len(claims)} sentence(s) are supported by the sources")
        else:
            listed = "; ".join(f"“{claim}” ({score:.2f})" for claim, score in weak)
            context.note(
                f"{len(weak)} of {len(claims)} sentence(s) not supported by the sources: {listed}"
            )
        return "provider"
