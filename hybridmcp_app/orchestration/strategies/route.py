"""Route: decide per request which model answers, and say why."""

from __future__ import annotations

from hybridmcp_app.core.inference import InferenceRequest
from hybridmcp_app.orchestration.route_rules import decide_route
from hybridmcp_app.orchestration.run_context import RunContext
from hybridmcp_app.orchestration.strategy import Strategy


class RouteStrategy(Strategy):
    """One model answers; a failed provider falls back to the local model when allowed."""

    name = "route"

    async def execute(self, context: RunContext, request: InferenceRequest) -> str | None:
        assert context.local is not None and context.provider is not None
        decision = decide_route(
            request,
            context.config,
            local_window=context.local.context_window,
            local_supports_tools=context.local.capabilities.supports_tools,
        )
        where = "locally" if decision.target == "local" else "to the provider"
        context.note(f"routed {where}: {decision.reason}")
        if decision.target == "local":
            local = await context.leg("local", context.local, "answer", request)
            return "local" if local.response is not None else None
        provider = await context.leg("provider", context.provider, "answer", request)
        if provider.response is not None:
            return "provider"
        if not context.config.failover_to_local:
            return None
        context.note(f"failed over to the local model: {provider.error}")
        local = await context.leg("local", context.local, "fallback", request)
        return "local" if local.response is not None else None
