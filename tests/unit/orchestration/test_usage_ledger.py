from datetime import datetime
from pathlib import Path

from hybridmcp_app.orchestration.events import HybridTrace
from hybridmcp_app.orchestration.usage_ledger import UsageLedger, start_of_month


def trace(strategy: str, provider: int, baseline: int, cost: float | None) -> HybridTrace:
    return HybridTrace(
        strategy=strategy,
        provider_prompt_tokens=provider,
        baseline_prompt_tokens=baseline,
        cost_usd=cost,
    )


def test_this_months_cost_ignores_earlier_months_and_unknown_costs(tmp_path: Path) -> None:
    ledger = UsageLedger(tmp_path / "usage.sqlite3")
    now = datetime(2026, 11, 24, 12, 0).timestamp()
    ledger.record(trace("provider", 500, 500, 0.25), at=datetime(2026, 10, 31, 23, 0).timestamp())
    ledger.record(trace("provider", 500, 500, 0.5), at=datetime(2026, 11, 1, 0, 5).timestamp())
    ledger.record(trace("boost", 100, 500, 0.1), at=now)
    ledger.record(trace("boost", 100, 500, None), at=now)
    assert abs(ledger.month_cost(now) - 0.6) < 1e-9
    assert start_of_month(now) == datetime(2026, 11, 1).timestamp()


def test_savings_are_summed_per_strategy_and_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "usage.sqlite3"
    ledger = UsageLedger(path)
    ledger.record(trace("boost", 100, 500, None))
    ledger.record(trace("boost", 120, 600, None))
    ledger.record(trace("draft_refine", 700, 500, None))  # costs more: no negative saving
    assert UsageLedger(path).tokens_saved_by_strategy() == {"boost": 880, "draft_refine": 0}
