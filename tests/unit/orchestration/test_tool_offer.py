"""The offer a tool loop makes when the local side chooses the tools: what each request carries,
what it costs in tool-definition tokens, and how the saving reaches the ledger and the report."""

from __future__ import annotations

import json
from pathlib import Path

from hybridmcp_app.core.inference import InferenceResponse
from hybridmcp_app.mcp_host.mcp_items import McpTool
from hybridmcp_app.orchestration.events import (
    HybridTrace,
    LegTrace,
    OfferedTool,
    ToolSelectionTrace,
)
from hybridmcp_app.orchestration.savings_report import TOOL_SAVING, SavingsReport
from hybridmcp_app.orchestration.tool_offer import (
    SEARCH_TOOLS,
    ToolOffer,
    first_offer,
    offer_text,
    run_search,
    tool_meter,
    tool_tokens,
)
from hybridmcp_app.orchestration.usage_ledger import UsageLedger

LONG = " It is documented at length, as real servers' tools are." * 8
TOOLS = {
    tool.qualified_name: tool
    for tool in (
        McpTool(server="calc", name="add", description="Add two integers." + LONG),
        McpTool(server="calc", name="repeat", description="Repeat a text." + LONG),
        McpTool(server="time", name="now", description="The current time." + LONG),
    )
}


class NoChooser:
    async def choose(self, tools: object, messages: object) -> tuple[OfferedTool, ...]:
        return (OfferedTool(name="time__now", reason="ranked", score=0.5),)

    async def search(self, query: str, candidates: object, limit: int) -> list[tuple[str, float]]:
        raise AssertionError("not asked here")


def names(schemas: tuple[dict[str, object], ...]) -> list[str]:
    return [str(schema["function"]["name"]) for schema in schemas]  # type: ignore[index]


def test_a_request_carries_the_shown_tools_and_search_tools_only_while_some_are_left_out() -> None:
    offer = ToolOffer(dict(TOOLS), NoChooser())
    assert offer.add("calc__add", "ranked", 0.7) and not offer.add("calc__add", "recovered")
    assert not offer.add("nope__tool", "recovered")  # only tools that exist join
    assert names(offer.schemas()) == ["calc__add", SEARCH_TOOLS]
    offer.add("calc__repeat", "searched", 0.3)
    offer.add("time__now", "recovered")
    assert names(offer.schemas()) == ["calc__add", "calc__repeat", "time__now"]


def test_tool_tokens_are_counted_over_the_json_the_provider_receives() -> None:
    schemas = [tool.openai_schema() for tool in TOOLS.values()]
    text = json.dumps(schemas, separators=(",", ":"), ensure_ascii=False)
    assert tool_tokens(schemas) == round(len(text) / 4)
    assert tool_tokens([]) == 0


def test_each_answered_request_adds_its_tool_tokens_sent_and_with_every_tool() -> None:
    offer = ToolOffer(dict(TOOLS), NoChooser())
    offer.add("time__now", "pinned")
    offer.count(offer.schemas())
    offer.count(offer.schemas())
    trace = offer.trace()
    every = tool_tokens(tool.openai_schema() for tool in TOOLS.values())
    assert trace.requests == 2 and trace.tool_tokens_all == 2 * every
    assert trace.tool_tokens_sent == 2 * tool_tokens(offer.schemas())
    assert trace.tool_tokens_saved == trace.tool_tokens_all - trace.tool_tokens_sent > 0
    assert offer_text(trace).startswith("Tools offered: 1 of 3: time__now (pinned) · tool")


async def test_tools_too_short_to_be_worth_a_search_tools_are_all_offered() -> None:
    chosen, note = await first_offer(NoChooser(), dict(TOOLS), (), None)
    assert chosen is not None and "1 of 3 tools + search_tools" in note
    short = {
        name: tool.model_copy(update={"description": "Short."}) for name, tool in TOOLS.items()
    }
    assert await first_offer(NoChooser(), short, (), None) == (None, "")


def chosen_trace(sent: int, every: int) -> HybridTrace:
    tools = ToolSelectionTrace(
        available=40, requests=1, tool_tokens_sent=sent, tool_tokens_all=every
    )
    leg = LegTrace(
        leg="provider", backend="p", role="answer", tools=tools,
        response=InferenceResponse(request_id="r", backend="p", text="ok", model="m"),
    )  # fmt: skip
    return HybridTrace(
        strategy="provider", provider="p", legs=(leg,), final_leg="provider",
        provider_prompt_tokens=50, baseline_prompt_tokens=50, saving="none",
        cost_saved_usd=0.002,
    )  # fmt: skip


def test_the_meter_shows_a_requests_tool_tokens_with_and_without_selection() -> None:
    assert (
        tool_meter(chosen_trace(300, 2_400))
        == "tools sent: 0 of 40, ≈ 300 tokens a request (every tool: ≈ 2,400)"
    )
    assert tool_meter(HybridTrace(strategy="provider")) == ""


def test_the_ledger_keeps_the_tool_saving_as_a_kind_of_its_own(tmp_path: Path) -> None:
    ledger = UsageLedger(tmp_path / "usage.sqlite3")
    ledger.record(chosen_trace(300, 2_400), at=100)
    ledger.record(HybridTrace(strategy="provider", saving="none", cost_saved_usd=0.0), at=200)
    first, second = ledger.savings_history()
    assert (first.saving, first.tokens_saved, first.tool_tokens_saved) == ("none", 0, 2_100)
    assert first.cost_saved_usd == 0.002  # a tool saving is priced though the prompt saved none
    assert (second.tool_tokens_saved, second.cost_saved_usd) == (0, 0.0)
    assert ledger.tokens_saved_by_strategy() == {"provider": 2_100}
    report = SavingsReport.from_points(ledger.savings_history())
    assert report.kinds == {TOOL_SAVING: 1} and report.tokens_saved == 2_100


class BrokenChooser:
    async def choose(self, tools: object, messages: object) -> tuple[OfferedTool, ...]:
        raise RuntimeError("the embedder could not load")

    async def search(self, query: str, candidates: object, limit: int) -> list[tuple[str, float]]:
        raise RuntimeError("the embedder could not load")


async def test_a_chooser_that_fails_offers_every_tool_and_says_why() -> None:
    chosen, note = await first_offer(BrokenChooser(), dict(TOOLS), (), None)
    assert chosen is None
    assert note == "tool selection failed (the embedder could not load): offering every tool"


async def test_a_search_that_fails_still_brings_in_left_out_tools() -> None:
    offer = ToolOffer(dict(TOOLS), BrokenChooser())
    offer.add("calc__add", "ranked", 0.9)
    outcome, note = await run_search(offer, '{"query": "repeat a text"}')
    found = [definition["name"] for definition in json.loads(outcome.text)]
    assert found == ["calc__repeat", "time__now"] and not offer.left_out
    assert note == "search_tools('repeat a text') brought in calc__repeat, time__now"
    again, _ = await run_search(offer, "anything")
    assert again.text == "No other tools match. Answer with the tools you have."
