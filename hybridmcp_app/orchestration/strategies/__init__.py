"""One module per strategy, each registered once here, in ``STRATEGIES``.

The command line, the chat's strategy combo, the savings view, the local API and the settings'
default strategy (checked when settings load, ``services.app_services``) take the names, labels
and kinds from ``STRATEGIES``. Importing this package stays light (no numpy, no SDKs).
"""

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
from hybridmcp_app.orchestration.strategy_registry import StrategyRegistry

STRATEGIES = StrategyRegistry(
    LocalOnlyStrategy,
    ProviderOnlyStrategy,
    ParallelStrategy,
    RouteStrategy,
    CascadeStrategy,
    BoostStrategy,
    DraftRefineStrategy,
    VerifyStrategy,
    CacheStrategy,
    FailoverStrategy,
)


def available_strategies() -> dict[str, Strategy]:
    """A fresh instance of each strategy, by name."""
    return STRATEGIES.create_all()
