"""Route: decide per request which model answers, and say why."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hybridmcp_app.config.paths import resources_dir
from hybridmcp_app.core.inference import InferenceRequest
from hybridmcp_app.orchestration.context_prompt import question_of
from hybridmcp_app.orchestration.route_rules import decide_route
from hybridmcp_app.orchestration.strategy import Strategy

if TYPE_CHECKING:
    from hybridmcp_app.orchestration.difficulty import DifficultyClassifier
    from hybridmcp_app.orchestration.run_context import RunContext


class RouteStrategy(Strategy):
    """One model answers, chosen by the route rules."""

    name = "route"
    label = "Route"
    kind = "hybrid"

    def __init__(self) -> None:
        self._classifier: DifficultyClassifier | None = None

    async def execute(self, context: RunContext, request: InferenceRequest) -> str | None:
        assert context.local is not None and context.provider is not None
        verdict = None
        if context.embedder is not None:
            if self._classifier is None:
                from hybridmcp_app.orchestration.difficulty import DifficultyClassifier  # numpy

                self._classifier = await DifficultyClassifier.load(
                    resources_dir() / "routing" / "difficulty.json", context.embedder
                )
            vector = (await context.embedder.embed([question_of(request)]))[0]
            verdict = self._classifier.classify(vector)
        decision = decide_route(
            request,
            context.config,
            local_window=context.local.context_window,
            local_supports_tools=context.local.capabilities.supports_tools,
            spent_this_month_usd=context.spent_this_month_usd,
            difficulty=verdict,
        )
        where = "locally" if decision.target == "local" else "to the provider"
        context.note(f"routed {where}: {decision.reason}")
        if decision.target == "local":
            local = await context.leg("local", context.local, "answer", request)
            return "local" if local.response is not None else None
        # A failed provider falls back to the local model in the orchestrator, as in every
        # strategy (``failover_to_local``).
        provider = await context.leg("provider", context.provider, "answer", request)
        return "provider" if provider.response is not None else None
