import pytest

from hybridmcp_app.orchestration.savings_report import SavingsReport
from hybridmcp_app.orchestration.usage_ledger import SavingsPoint


def test_savings_become_running_totals_per_strategy_in_time_order() -> None:
    report = SavingsReport.from_points(
        [
            SavingsPoint(300, "boost", 200, 0.002),
            SavingsPoint(100, "boost", 400, 0.004),
            SavingsPoint(200, "route", 1000, None),
            SavingsPoint(250, "provider", 0, None),  # spared nothing: no line of its own
        ]
    )
    boost, route = report.series
    assert (boost.strategy, boost.times, boost.cumulative_tokens) == (
        "boost",
        (100, 300),
        (400, 600),
    )
    assert boost.cumulative_cost_usd == pytest.approx((0.004, 0.006))
    assert route.cumulative_tokens == (1000,)
    assert route.cost_saved_usd is None  # no price was known for its runs
    assert report.tokens_saved == 1600
    assert report.cost_saved_usd == pytest.approx(0.006)
    assert (report.runs, report.since) == (3, 100)


def test_a_history_without_savings_is_an_empty_report() -> None:
    report = SavingsReport.from_points([SavingsPoint(1, "provider", 0, None)])
    assert report.empty
    assert report.tokens_saved == 0
    assert report.cost_saved_usd is None
    assert report.since is None
