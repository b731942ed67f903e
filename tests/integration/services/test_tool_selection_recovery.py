"""Tool selection by the local side, end to end: the real embedder ranks a real MCP server's tools
(SDK, in memory), a scripted OpenAI-compatible provider on 127.0.0.1 plays a provider that asks
for tools the selection left out (by name, or through ``search_tools``), the real tool loop runs
under the orchestrator, and the usage ledger records the tool tokens saved.

The provider is scripted (tests/helpers/failing_provider.py) because no real model can be made to
call a left-out tool on cue; what the loop sent is read back from the requests it received.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from hybridmcp_app.core.inference import ChatMessage, InferenceRequest
from hybridmcp_app.core.llm_configs import WrapperConfig
from hybridmcp_app.core.parameters import ModelParameters
from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder
from hybridmcp_app.llm.openai_backend import OpenAICompatBackend
from hybridmcp_app.orchestration.approval_policy import ApprovalPolicy
from hybridmcp_app.orchestration.events import DecisionNote, HybridTrace, RunCompleted
from hybridmcp_app.orchestration.orchestrator import LLMOrchestrator
from hybridmcp_app.orchestration.run_context import ToolUse
from hybridmcp_app.orchestration.strategies import available_strategies
from hybridmcp_app.orchestration.tool_events import ToolCallFinished
from hybridmcp_app.orchestration.tool_offer import SEARCH_TOOLS, tool_tokens
from hybridmcp_app.orchestration.usage_ledger import UsageLedger
from hybridmcp_app.services.tool_index import ToolIndex
from hybridmcp_app.services.tool_selection import ToolSelector
from tests.helpers.failing_provider import FailingProvider, Reply, chunk, failing_provider
from tests.helpers.in_memory_tools import SdkToolCaller, calc_server
from tests.helpers.llama_server import provider_config

pytestmark = pytest.mark.integration

QUESTION = "Please add 2 and 3 for me."


def tool_chunk(call_id: str, name: str, arguments: str) -> str:
    call = {"index": 0, "id": call_id, "type": "function",
            "function": {"name": name, "arguments": arguments}}  # fmt: skip
    return json.dumps(
        {
            "id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "scripted",
            "choices": [{"index": 0, "delta": {"tool_calls": [call]}, "finish_reason": None}],
        }
    )  # fmt: skip


def calls(name: str, arguments: dict[str, Any]) -> Reply:
    chunks = [tool_chunk("call_1", name, json.dumps(arguments))]
    return Reply(sse=[*chunks, chunk("", finish="tool_calls"), "[DONE]"])


def answer(text: str) -> Reply:
    return Reply(sse=[chunk(text), chunk("", finish="stop"), "[DONE]"])


def offered_names(server: FailingProvider, index: int) -> list[str]:
    body = server.requests[index]["body"]
    assert body is not None
    return [tool["function"]["name"] for tool in body.get("tools", [])]


@pytest.fixture(scope="module")
def selector(embedder: OnnxEmbedder) -> ToolSelector:
    return ToolSelector(ToolIndex(embedder))


async def run_turn(
    server: FailingProvider,
    calc: SdkToolCaller,
    selector: ToolSelector | None,
    ledger: UsageLedger,
    *,
    k: int = 1,
) -> tuple[HybridTrace, list[Any]]:
    chooser = selector.chooser(k, (), above=0) if selector is not None else None
    tools = ToolUse(calc, ApprovalPolicy(lambda *_: True), chooser=chooser)
    request = InferenceRequest(
        messages=(ChatMessage(role="user", content=QUESTION),),
        parameters=ModelParameters(temperature=0.0, max_tokens=32),
    )
    config = provider_config(server.base_url, max_retries=0)
    events: list[Any] = []
    async with OpenAICompatBackend(config, SecretStr("k")) as backend:
        orchestrator = LLMOrchestrator(None, backend, WrapperConfig(), ledger=ledger)
        strategy = available_strategies()["provider"]
        async for event in orchestrator.run(strategy, request, tools=tools):
            events.append(event)
            if isinstance(event, RunCompleted):
                return event.trace, events
    raise AssertionError("the run did not complete")


@pytest.fixture
def ledger(tmp_path: Path) -> UsageLedger:
    return UsageLedger(tmp_path / "usage.sqlite3")


async def test_a_left_out_tool_the_provider_calls_runs_and_joins_the_next_offer(
    selector: ToolSelector, ledger: UsageLedger
) -> None:
    script = [calls("calc__currency", {"code": "EUR"}), answer("The euro.")]
    async with SdkToolCaller.connect(calc_server()) as calc:
        with failing_provider(script) as server:
            trace, events = await run_turn(server, calc, selector, ledger)
    first, second = offered_names(server, 0), offered_names(server, 1)
    # The question is about adding: the local side offered add alone, and search_tools.
    assert first == ["calc__add", SEARCH_TOOLS]
    assert calc.calls == [("currency", {"code": "EUR"})]  # the left-out tool ran anyway
    (finished,) = [e for e in events if isinstance(e, ToolCallFinished)]
    assert finished.approved and finished.outcome.text == "euro"
    assert second == ["calc__add", "calc__currency", SEARCH_TOOLS]
    assert trace.final is not None and trace.final.text == "The euro."
    (leg,) = trace.provider_legs
    assert leg.tools is not None
    reasons = {tool.name: tool.reason for tool in leg.tools.offered}
    assert reasons == {"calc__add": "ranked", "calc__currency": "recovered"}
    notes = [e.text for e in events if isinstance(e, DecisionNote)]
    assert any("calc__currency" in note and "left out" in note for note in notes)


async def test_search_tools_brings_in_the_matching_definitions_for_the_next_request(
    selector: ToolSelector, ledger: UsageLedger
) -> None:
    script = [
        calls(SEARCH_TOOLS, {"query": "name of a currency from its three-letter code"}),
        calls("calc__currency", {"code": "USD"}),
        answer("The US dollar."),
    ]
    async with SdkToolCaller.connect(calc_server()) as calc:
        with failing_provider(script) as server:
            trace, events = await run_turn(server, calc, selector, ledger)
    search, currency = [e for e in events if isinstance(e, ToolCallFinished)]
    assert search.tool == SEARCH_TOOLS and search.approval == "auto"
    definitions = json.loads(search.outcome.text)
    assert definitions[0]["name"] == "calc__currency"  # the best match comes first
    assert "calc__currency" in offered_names(server, 1)
    assert currency.approved and currency.outcome.text == "US dollar"
    assert trace.final is not None and trace.final.text == "The US dollar."
    (leg,) = trace.provider_legs
    assert leg.tools is not None
    searched = [tool for tool in leg.tools.offered if tool.reason == "searched"]
    assert searched[0].name == "calc__currency" and searched[0].score is not None


async def test_the_ledger_counts_the_tool_tokens_the_selection_cut_from_each_answered_request(
    selector: ToolSelector, ledger: UsageLedger
) -> None:
    async with SdkToolCaller.connect(calc_server()) as calc:
        with failing_provider([answer("5.")]) as server:
            trace, _ = await run_turn(server, calc, selector, ledger)
        every = tool_tokens(tool.openai_schema() for tool in calc.tools())
    body = server.requests[0]["body"]
    sent = tool_tokens(body["tools"])
    (leg,) = trace.provider_legs
    assert leg.tools is not None
    assert (leg.tools.tool_tokens_sent, leg.tools.tool_tokens_all) == (sent, every)
    assert 0 < sent < every and trace.tool_tokens_saved == every - sent
    (point,) = ledger.savings_history()
    assert point.tool_tokens_saved == every - sent


async def test_without_selection_or_with_a_failed_request_no_tool_saving_is_recorded(
    selector: ToolSelector, ledger: UsageLedger
) -> None:
    async with SdkToolCaller.connect(calc_server()) as calc:
        with failing_provider([answer("5.")]) as server:
            everything, _ = await run_turn(server, calc, None, ledger)
        refused = Reply(status=500, body={"error": {"message": "down"}})
        with failing_provider([refused]) as server:
            failed, _ = await run_turn(server, calc, selector, ledger)
    assert len(offered_names(server, 0)) == 2  # it went out with the selection, and failed
    assert everything.tool_tokens_saved == 0 and failed.tool_tokens_saved == 0
    assert [point.tool_tokens_saved for point in ledger.savings_history()] == [0, 0]
