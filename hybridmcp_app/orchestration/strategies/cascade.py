"""Cascade: the local model answers first; if it is unsure of its own tokens, the provider too."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hybridmcp_app.core.inference import InferenceRequest, InferenceResponse
from hybridmcp_app.orchestration.strategy import Strategy

if TYPE_CHECKING:
    from hybridmcp_app.orchestration.run_context import RunContext


def surprisal(response: InferenceResponse) -> tuple[float, float] | None:
    """Mean and maximum surprisal (−log p, in nats) of the answer's tokens."""
    if not response.token_logprobs:
        return None
    values = [-logprob for logprob in response.token_logprobs]
    return sum(values) / len(values), max(values)


class CascadeStrategy(Strategy):
    """Keeps both answers; the final one is local when its mean surprisal is low enough."""

    name = "cascade"
    label = "Cascade"
    kind = "hybrid"

    async def execute(self, context: RunContext, request: InferenceRequest) -> str | None:
        assert context.local is not None and context.provider is not None
        local = await context.leg(
            "local", context.local, "answer", request.model_copy(update={"logprobs": True})
        )
        mean_limit = context.config.cascade_max_mean_surprisal
        token_limit = context.config.cascade_max_token_surprisal
        scores = surprisal(local.response) if local.response is not None else None
        if scores is not None and scores[0] <= mean_limit and scores[1] <= token_limit:
            context.note(
                f"kept the local answer: mean surprisal {scores[0]:.2f} ≤ {mean_limit:.2f}, "
                f"least likely token {scores[1]:.2f} ≤ {token_limit:.2f}"
            )
            return "local"
        if scores is None:
            reason = f"no local answer ({local.error})"
        elif scores[0] > mean_limit:
            reason = f"mean surprisal {scores[0]:.2f} > {mean_limit:.2f}"
        else:
            reason = f"a token with surprisal {scores[1]:.2f} > {token_limit:.2f}"
        context.note(f"escalated to the provider: {reason}")
        provider = await context.leg("provider", context.provider, "answer", request)
        if provider.response is not None:
            return "provider"
        return "local" if local.response is not None else None
