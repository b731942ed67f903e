"""One model alone: the provider-only baseline every hybrid is measured against, and local-only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hybridmcp_app.core.inference import InferenceRequest
from hybridmcp_app.orchestration.strategy import Strategy

if TYPE_CHECKING:
    from hybridmcp_app.orchestration.run_context import RunContext


class ProviderOnlyStrategy(Strategy):
    """The provider answers the prompt as it is."""

    name = "provider"
    label = "Provider only"
    kind = "provider"
    needs_local = False

    async def execute(self, context: RunContext, request: InferenceRequest) -> str | None:
        assert context.provider is not None
        leg = await context.leg("provider", context.provider, "answer", request)
        return "provider" if leg.response is not None else None


class LocalOnlyStrategy(Strategy):
    """The local model answers; nothing leaves the machine."""

    name = "local"
    label = "Local only"
    kind = "local"
    needs_provider = False

    async def execute(self, context: RunContext, request: InferenceRequest) -> str | None:
        assert context.local is not None
        leg = await context.leg("local", context.local, "answer", request)
        return "local" if leg.response is not None else None
