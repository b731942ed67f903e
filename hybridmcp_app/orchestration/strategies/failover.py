"""Failover: the provider answers; if it cannot, the local model does, and says so."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hybridmcp_app.core.inference import InferenceRequest
from hybridmcp_app.orchestration.strategy import Strategy

if TYPE_CHECKING:
    from hybridmcp_app.orchestration.run_context import RunContext


class FailoverStrategy(Strategy):
    """No turn is lost to a dead, slow or refusing provider (after the SDK's own retries)."""

    name = "failover"
    label = "Failover"
    kind = "hybrid"

    async def execute(self, context: RunContext, request: InferenceRequest) -> str | None:
        assert context.local is not None and context.provider is not None
        provider = await context.leg("provider", context.provider, "answer", request)
        if provider.response is not None:
            return "provider"
        context.note(f"failed over to the local model: {provider.error}")
        local = await context.leg("local", context.local, "fallback", request)
        return "local" if local.response is not None else None
