import sqlite3
from datetime import datetime
from pathlib import Path

import pytest

from hybridmcp_app.core.inference import ChatMessage, InferenceRequest, InferenceResponse, Usage
from hybridmcp_app.core.llm_configs import ProviderConfig, WrapperConfig
from hybridmcp_app.llm.openai_backend import OpenAICompatBackend
from hybridmcp_app.orchestration.events import HybridTrace, LegTrace, RunCompleted, Saving
from hybridmcp_app.orchestration.orchestrator import LLMOrchestrator
from hybridmcp_app.orchestration.run_context import RunContext
from hybridmcp_app.orchestration.strategy import Strategy
from hybridmcp_app.orchestration.usage_ledger import SavingsPoint, UsageLedger, start_of_month


def trace(
    strategy: str,
    provider: int,
    baseline: int,
    cost: float | None,
    *,
    saved: float | None = None,
    saving: Saving = "fewer_tokens",
) -> HybridTrace:
    return HybridTrace(
        strategy=strategy,
        provider_prompt_tokens=provider,
        baseline_prompt_tokens=baseline,
        cost_usd=cost,
        cost_saved_usd=saved,
        saving=saving,
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
    ledger.record(trace("local", 0, 500, None, saving="none"))  # chosen by the user
    ledger.record(trace("failover", 0, 500, None, saving="none"))  # the provider failed
    assert UsageLedger(path).tokens_saved_by_strategy() == {
        "boost": 880, "draft_refine": 0, "local": 0, "failover": 0,
    }  # fmt: skip


def test_an_older_ledger_keeps_its_runs_marked_unaudited_and_counting_no_saving(
    tmp_path: Path,
) -> None:
    path = tmp_path / "usage.sqlite3"
    with sqlite3.connect(path) as connection:  # the schema before cost_saved_usd
        connection.executescript(
            "CREATE TABLE runs (id INTEGER PRIMARY KEY, time REAL NOT NULL, "
            "strategy TEXT NOT NULL, provider_prompt_tokens INTEGER NOT NULL, "
            "baseline_prompt_tokens INTEGER NOT NULL, cost_usd REAL);"
            "INSERT INTO runs (time, strategy, provider_prompt_tokens, baseline_prompt_tokens, "
            "cost_usd) VALUES (100, 'boost', 200, 500, 0.01);"
        )
    connection.close()
    ledger = UsageLedger(path)
    ledger.record(trace("boost", 100, 400, 0.02, saved=0.0009), at=200)
    assert ledger.savings_history() == [
        SavingsPoint(100, "boost", tokens_saved=0, cost_saved_usd=None, saving=None),
        SavingsPoint(200, "boost", tokens_saved=300, cost_saved_usd=0.0009, saving="fewer_tokens"),
    ]
    assert UsageLedger(path).tokens_saved_by_strategy() == {"boost": 300}


def test_savings_history_is_in_time_order_and_can_start_later(tmp_path: Path) -> None:
    ledger = UsageLedger(tmp_path / "usage.sqlite3")
    ledger.record(trace("route", 0, 800, None, saved=0.002, saving="without_provider"), at=300)
    ledger.record(trace("boost", 100, 500, 0.1, saved=0.001), at=100)
    ledger.record(trace("provider", 500, 500, 0.5, saving="none"), at=200)
    history = ledger.savings_history()
    assert [(point.time, point.strategy, point.tokens_saved) for point in history] == [
        (100, "boost", 400),
        (200, "provider", 0),
        (300, "route", 800),
    ]
    assert [point.strategy for point in ledger.savings_history(since=150)] == ["provider", "route"]


def test_a_corrupt_ledger_is_moved_aside_and_a_new_one_started(tmp_path: Path) -> None:
    path = tmp_path / "usage.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    ledger = UsageLedger(path)
    assert ledger.recovered_from is not None
    assert ledger.recovered_from.read_bytes().startswith(b"this is not a database")
    ledger.record(trace("boost", 100, 500, None), at=1)
    assert [point.tokens_saved for point in ledger.savings_history()] == [400]


class _Remembered(Strategy):
    """Answers from memory, as a cache hit does: the provider, standing by, is spared."""

    name = "remembered"
    needs_local = False

    async def execute(self, context: RunContext, request: InferenceRequest) -> str | None:
        answer = InferenceResponse(request_id="r", backend="cache", model="cache", text="42")
        context.replay("cache", "cache", answer)
        return "cache"


async def run_once(ledger: UsageLedger, price: float | None) -> HybridTrace:
    # Configured, never called: the run answers without it.
    standing_by = OpenAICompatBackend(
        ProviderConfig.model_validate(
            {"name": "p", "base_url": "http://127.0.0.1:9/v1", "default_model": "m"}
        ),
        None,
    )
    orchestrator = LLMOrchestrator(
        None, standing_by, WrapperConfig(), ledger=ledger, prompt_price_usd_per_token=price
    )
    request = InferenceRequest(messages=(ChatMessage(role="user", content="x" * 4000),))
    async for event in orchestrator.run(_Remembered(), request):
        if isinstance(event, RunCompleted):
            await standing_by.close()
            return event.trace
    raise AssertionError("the run did not complete")


async def test_cost_saved_is_recorded_only_when_the_providers_price_is_known(
    tmp_path: Path,
) -> None:
    ledger = UsageLedger(tmp_path / "usage.sqlite3")
    priced = await run_once(ledger, price=2.5e-6)
    unpriced = await run_once(ledger, price=None)
    assert priced.prompt_tokens_saved > 0
    assert priced.cost_saved_usd == pytest.approx(priced.prompt_tokens_saved * 2.5e-6)
    assert unpriced.cost_saved_usd is None
    history = ledger.savings_history()
    assert [point.cost_saved_usd for point in history] == [priced.cost_saved_usd, None]
    assert [point.tokens_saved for point in history] == [priced.prompt_tokens_saved] * 2


def answered(estimated: bool) -> InferenceResponse:
    return InferenceResponse(
        request_id="r", backend="p", model="m", usage=Usage(prompt_tokens=9, estimated=estimated)
    )


def test_whether_the_provider_counted_its_tokens_itself_is_kept_and_older_rows_say_unknown(
    tmp_path: Path,
) -> None:
    path = tmp_path / "usage.sqlite3"
    with sqlite3.connect(path) as connection:  # the schema before usage_reported
        connection.executescript(
            "CREATE TABLE runs (id INTEGER PRIMARY KEY, time REAL NOT NULL, "
            "strategy TEXT NOT NULL, provider_prompt_tokens INTEGER NOT NULL, "
            "baseline_prompt_tokens INTEGER NOT NULL, cost_usd REAL, cost_saved_usd REAL, "
            "saving TEXT);"
            "INSERT INTO runs (time, strategy, provider_prompt_tokens, baseline_prompt_tokens, "
            "saving) VALUES (100, 'provider', 9, 9, 'none');"
        )
    connection.close()
    ledger = UsageLedger(path)
    for at, estimated in ((200, False), (300, True)):
        leg = LegTrace(leg="provider", backend="p", role="answer", response=answered(estimated))
        ledger.record(HybridTrace(strategy="provider", provider="p", legs=(leg,)), at=at)
    failed = LegTrace(leg="provider", backend="p", role="answer", error="down")
    ledger.record(HybridTrace(strategy="provider", provider="p", legs=(failed,)), at=400)
    history = UsageLedger(path).savings_history()
    assert [point.usage_reported for point in history] == [None, True, False, None]
