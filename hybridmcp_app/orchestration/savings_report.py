"""The savings view's model: the ledger's runs as running totals, one series per strategy."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from hybridmcp_app.orchestration.usage_ledger import SavingsPoint

TOOL_SAVING = "fewer_tool_tokens"  # the kind counted for runs whose tools the local side chose


@dataclass(frozen=True)
class StrategySavings:
    """One strategy's running totals after each of its runs that spared the provider something.

    ``cumulative_cost_usd`` counts runs with an unknown price as 0; ``priced`` says whether any
    run had one."""

    strategy: str
    times: tuple[float, ...]
    cumulative_tokens: tuple[int, ...]
    cumulative_cost_usd: tuple[float, ...]
    runs: int
    priced: bool

    @property
    def tokens_saved(self) -> int:
        return self.cumulative_tokens[-1]

    @property
    def cost_saved_usd(self) -> float | None:
        return self.cumulative_cost_usd[-1] if self.priced else None


@dataclass(frozen=True)
class SavingsReport:
    """Strategies that saved anything, in the order they first did."""

    series: tuple[StrategySavings, ...]
    # Runs by how they spared the provider (``events.Saving``: fewer_tokens, without_provider;
    # and ``TOOL_SAVING``: fewer tool definitions, a saving of its own kind that a run may have
    # besides the others); None counts the runs recorded before savings were audited.
    kinds: Mapping[str | None, int] = field(default_factory=dict)

    @classmethod
    def from_points(cls, points: Iterable[SavingsPoint]) -> SavingsReport:
        points = list(points)
        grouped: dict[str, list[SavingsPoint]] = {}
        kinds = Counter(point.saving for point in points if point.saving != "none")
        kinds.update(TOOL_SAVING for point in points if point.tool_tokens_saved > 0)
        for point in sorted(points, key=lambda point: point.time):
            if point.tokens_saved + point.tool_tokens_saved > 0 or (point.cost_saved_usd or 0) > 0:
                grouped.setdefault(point.strategy, []).append(point)
        series = []
        for strategy, runs in grouped.items():
            tokens, costs = [], []
            token_total, cost_total = 0, 0.0
            for run in runs:
                token_total += run.tokens_saved + run.tool_tokens_saved
                cost_total += run.cost_saved_usd or 0.0
                tokens.append(token_total)
                costs.append(cost_total)
            series.append(
                StrategySavings(
                    strategy=strategy,
                    times=tuple(run.time for run in runs),
                    cumulative_tokens=tuple(tokens),
                    cumulative_cost_usd=tuple(costs),
                    runs=len(runs),
                    priced=any(run.cost_saved_usd is not None for run in runs),
                )
            )
        return cls(tuple(series), dict(kinds))

    @property
    def empty(self) -> bool:
        return not self.series

    @property
    def tokens_saved(self) -> int:
        return sum(series.tokens_saved for series in self.series)

    @property
    def cost_saved_usd(self) -> float | None:
        known = [s.cost_saved_usd for s in self.series if s.cost_saved_usd is not None]
        return sum(known) if known else None

    @property
    def runs(self) -> int:
        return sum(series.runs for series in self.series)

    @property
    def since(self) -> float | None:
        return min((series.times[0] for series in self.series), default=None)
