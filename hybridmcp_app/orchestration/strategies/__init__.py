"""One module per strategy; ``STRATEGIES`` names them for the UI and the command line."""

from __future__ import annotations

from hybridmcp_app.orchestration.strategies.boost import BoostStrategy
from hybridmcp_app.orchestration.strategies.cache import CacheStrategy
from hybridmcp_app.orchestration.strategies.cascade import CascadeStrategy
from hybridmcp_app.orchestration.strategies.draft_refine import DraftRefineStrategy
from hybridmcp_app.orchestration.strategies.failover import FailoverStrategy
from hybridmcp_app.orchestration.strategies.parallel import ParallelStrategy
from hybridmcp_app.orchestration.strategies.route import RouteStrategy
from hybridmcp_app.orchestration.strategies.single import LocalOnlyStrategy, ProviderOnlyStrategy
from hybridmcp_app.orchestration.strategies.verify import VerifyStrategy
from hybridmcp_app.orchestration.strategy import Strategy


def available_strategies() -> dict[str, Strategy]:
    """A fresh instance of each strategy, by name."""
    strategies: list[Strategy] = [
        LocalOnlyStrategy(),
        ProviderOnlyStrategy(),
        ParallelStrategy(),
        RouteStrategy(),
        CascadeStrategy(),
        BoostStrategy(),
        DraftRefineStrategy(),
        VerifyStrategy(),
        CacheStrategy(),
        FailoverStrategy(),
    ]
    return {strategy.name: strategy for strategy in strategies}
