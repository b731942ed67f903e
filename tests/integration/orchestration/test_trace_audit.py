"""The trace's audit against what a real HTTP provider on 127.0.0.1 received: the request as
sent, the provider's own token counts where it reported them, our estimate where it did not."""

import json
from pathlib import Path

import pytest
from pydantic import SecretStr

from hybridmcp_app.core.inference import ChatMessage, ContextDocument, InferenceRequest
from hybridmcp_app.core.llm_configs import WrapperConfig
from hybridmcp_app.core.parameters import ModelParameters
from hybridmcp_app.llm.llama_backend import LlamaCppBackend
from hybridmcp_app.llm.openai_backend import OpenAICompatBackend
from hybridmcp_app.orchestration.events import HybridTrace, RunCompleted
from hybridmcp_app.orchestration.orchestrator import LLMOrchestrator
from hybridmcp_app.orchestration.strategies import available_strategies
from hybridmcp_app.orchestration.trace_audit import audit_of
from hybridmcp_app.orchestration.usage_ledger import UsageLedger
from tests.helpers.failing_provider import FailingProvider, Reply, chunk, failing_provider
from tests.helpers.llama_server import provider_config

SOURCE = ContextDocument(title="Harbour", text="The Elmsworth harbour has 42 berths.")
USAGE = json.dumps(
    {
        "id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "fake",
        "choices": [], "usage": {"prompt_tokens": 57, "completion_tokens": 2, "total_tokens": 59},
    }
)  # fmt: skip


def ask() -> InferenceRequest:
    return InferenceRequest(
        messages=(
            ChatMessage(role="system", content="You are terse."),
            ChatMessage(role="user", content="How many berths?"),
        ),
        parameters=ModelParameters(temperature=0.0, max_tokens=9, stop=("\n",), seed=7),
        context=(SOURCE,),
    )


async def run_against(server: FailingProvider, strategy: str, **extra: object) -> HybridTrace:
    config = provider_config(server.base_url, max_retries=0)
    async with OpenAICompatBackend(config, SecretStr("k")) as backend:
        orchestrator = LLMOrchestrator(None, backend, WrapperConfig(), **extra)  # type: ignore[arg-type]
        async for event in orchestrator.run(available_strategies()[strategy], ask()):
            if isinstance(event, RunCompleted):
                return event.trace
    raise AssertionError("the run did not complete")


@pytest.fixture
def ledger(tmp_path: Path) -> UsageLedger:
    return UsageLedger(tmp_path / "usage.sqlite3")


def reported(ledger: UsageLedger) -> list[bool | None]:
    return [point.usage_reported for point in ledger.savings_history()]


async def test_the_audit_shows_the_request_exactly_as_the_provider_received_it() -> None:
    reply = Reply(sse=[chunk("42"), chunk("", "stop"), USAGE, "[DONE]"])
    with failing_provider([reply]) as server:
        trace = await run_against(server, "provider")
    received = server.requests[-1]["body"]
    (call,) = audit_of(trace).provider_calls
    assert call.request is not None
    assert call.request.model == received.pop("model") == "gemma"
    assert list(call.request.messages) == received.pop("messages")
    assert call.request.parameters == received  # max_tokens, temperature, stop, seed, stream…
    assert (received["max_tokens"], received["stop"], received["seed"]) == (9, ["\n"], 7)
    # The sources were inlined into the question before it left.
    assert "42 berths" in call.request.messages[-1]["content"]


async def test_the_providers_own_usage_is_shown_as_reported_and_stored_so(
    ledger: UsageLedger,
) -> None:
    reply = Reply(sse=[chunk("42"), chunk("", "stop"), USAGE, "[DONE]"])
    with failing_provider([reply]) as server:
        trace = await run_against(server, "provider", ledger=ledger)
    audit = audit_of(trace)
    (call,) = audit.provider_calls
    assert (call.prompt_tokens, call.completion_tokens, call.usage_reported) == (57, 2, True)
    assert call.estimated_prompt_tokens is not None and call.estimated_prompt_tokens > 0
    assert audit.provider_usage_reported is True
    assert audit.provider_prompt_tokens == 57
    assert (audit.saving, audit.prompt_tokens_saved, audit.failed_over) == ("none", 0, False)
    assert reported(ledger) == [True]


async def test_a_provider_counting_fewer_tokens_than_our_estimate_is_no_saving(
    ledger: UsageLedger,
) -> None:
    # A tokenizer thriftier than our estimate for the very same prompt: provider-only sent
    # everything, so nothing was spared (the saving compares our estimate with our estimate).
    thrifty = USAGE.replace('"prompt_tokens": 57', '"prompt_tokens": 3')
    reply = Reply(sse=[chunk("42"), chunk("", "stop"), thrifty, "[DONE]"])
    with failing_provider([reply]) as server:
        trace = await run_against(server, "provider", ledger=ledger)
    assert trace.provider_prompt_tokens == 3 < trace.baseline_prompt_tokens
    assert trace.provider_prompt_tokens_estimated == trace.baseline_prompt_tokens
    assert (trace.saving, trace.prompt_tokens_saved) == ("none", 0)
    assert [point.tokens_saved for point in ledger.savings_history()] == [0]


async def test_a_count_the_provider_did_not_report_is_our_estimate_and_says_so(
    ledger: UsageLedger,
) -> None:
    reply = Reply(sse=[chunk("42"), chunk("", "stop"), "[DONE]"])  # no usage chunk
    with failing_provider([reply]) as server:
        trace = await run_against(server, "provider", ledger=ledger)
    audit = audit_of(trace)
    (call,) = audit.provider_calls
    assert call.usage_reported is False and audit.provider_usage_reported is False
    assert call.prompt_tokens == pytest.approx(call.estimated_prompt_tokens, abs=2)
    assert reported(ledger) == [False]


async def test_a_failed_call_keeps_the_request_it_sent_and_has_no_counts(
    ledger: UsageLedger,
) -> None:
    with failing_provider([Reply(status=400, body={"error": {"message": "bad"}})]) as server:
        trace = await run_against(server, "provider", ledger=ledger)
    (call,) = audit_of(trace).provider_calls
    assert call.error is not None and call.request is not None
    assert list(call.request.messages) == server.requests[-1]["body"]["messages"]
    assert (call.prompt_tokens, call.usage_reported) == (None, False)
    assert audit_of(trace).provider_usage_reported is None
    assert reported(ledger) == [None]


async def test_a_real_provider_answer_is_audited_with_its_baseline(
    gemma: LlamaCppBackend, provider: OpenAICompatBackend
) -> None:
    orchestrator = LLMOrchestrator(gemma, provider, WrapperConfig())
    async for event in orchestrator.run(available_strategies()["draft_refine"], ask()):
        if isinstance(event, RunCompleted):
            trace = event.trace
    audit = audit_of(trace)
    assert [call.role for call in audit.provider_calls] == ["refine"]
    (call,) = audit.provider_calls
    assert call.request is not None and call.request.model == "gemma"
    assert "Draft answer:" in call.request.messages[-1]["content"]
    assert call.prompt_tokens is not None and call.prompt_tokens > 0
    assert audit.provider_prompt_tokens == call.prompt_tokens
    assert audit.baseline_prompt_tokens == trace.baseline_prompt_tokens > 0
    # The local draft has no request recorded: only provider calls are audited.
    assert trace.legs[0].request is None
