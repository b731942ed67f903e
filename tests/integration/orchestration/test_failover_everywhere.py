"""A provider that breaks mid-answer, under every strategy that uses one: the real local model
answers instead (``failover_to_local``), once, saying why, and the run saves nothing. The
provider here is a real HTTP server on 127.0.0.1 that streams part of an answer and hangs up."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from hybridmcp_app.core.inference import ChatMessage, ContextDocument, InferenceRequest
from hybridmcp_app.core.llm_configs import WrapperConfig
from hybridmcp_app.core.parameters import ModelParameters
from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder
from hybridmcp_app.llm.llama_backend import LlamaCppBackend
from hybridmcp_app.llm.openai_backend import OpenAICompatBackend
from hybridmcp_app.orchestration.events import DecisionNote, HybridTrace, RunCompleted
from hybridmcp_app.orchestration.orchestrator import LLMOrchestrator
from hybridmcp_app.orchestration.semantic_cache import SemanticCache
from hybridmcp_app.orchestration.strategies import STRATEGIES, available_strategies
from hybridmcp_app.orchestration.trace_audit import audit_of
from tests.helpers.failing_provider import FailingProvider, Reply, chunk, failing_provider
from tests.helpers.llama_server import provider_config

BROKEN = "ended the stream before finishing the answer"
USING_THE_PROVIDER = [
    name for name in STRATEGIES.names if available_strategies()[name].needs_provider
]
# Strategies in which no local model answers unless there is a failover.
PROVIDER_ANSWERS = ["provider", "route", "boost", "verify", "cache"]
SOURCE = ContextDocument(
    title="Harbour report",
    text="The Elmsworth harbour has 42 berths. Its lighthouse is painted red and white.",
)


@pytest.fixture(scope="module")
def embedder() -> OnnxEmbedder:
    return OnnxEmbedder()


@pytest.fixture
def breaking() -> Iterator[FailingProvider]:
    """Streams two pieces of an answer, then closes the connection without finishing."""
    with failing_provider([Reply(sse=[chunk("The harbour"), chunk(" has")])]) as server:
        yield server


@pytest.fixture
async def broken_provider(breaking: FailingProvider) -> AsyncIterator[OpenAICompatBackend]:
    config = provider_config(breaking.base_url, max_retries=0)
    async with OpenAICompatBackend(config, SecretStr("k")) as backend:
        yield backend


def ask() -> InferenceRequest:
    return InferenceRequest(
        messages=(ChatMessage(role="user", content="How many berths does the harbour have?"),),
        parameters=ModelParameters(temperature=0.0, max_tokens=12),
        context=(SOURCE,),
    )


async def run(
    name: str,
    local: LlamaCppBackend,
    provider: OpenAICompatBackend,
    embedder: OnnxEmbedder,
    tmp_path: Path,
    config: WrapperConfig,
) -> tuple[list[str], HybridTrace]:
    strategy = available_strategies()[name]
    orchestrator = LLMOrchestrator(
        local, provider, config,
        # Route decides by the rules alone (the difficulty model might keep it local).
        embedder=embedder if strategy.needs_embedder else None,
        cache=SemanticCache(tmp_path / "cache.sqlite3", embedder),
    )  # fmt: skip
    events = [event async for event in orchestrator.run(strategy, ask())]
    completed = events[-1]
    assert isinstance(completed, RunCompleted)
    return [e.text for e in events if isinstance(e, DecisionNote)], completed.trace


def test_every_strategy_that_uses_the_provider_is_covered() -> None:
    assert set(USING_THE_PROVIDER) == set(STRATEGIES.names) - {"local"}
    assert set(PROVIDER_ANSWERS) < set(USING_THE_PROVIDER)


@pytest.mark.parametrize("name", USING_THE_PROVIDER)
async def test_a_provider_failing_mid_answer_is_answered_by_the_local_model_once(
    name: str,
    gemma: LlamaCppBackend,
    broken_provider: OpenAICompatBackend,
    breaking: FailingProvider,
    embedder: OnnxEmbedder,
    tmp_path: Path,
) -> None:
    # Cascade escalates every answer, so that it too asks the provider.
    config = WrapperConfig(cascade_max_mean_surprisal=0.001)
    notes, trace = await run(name, gemma, broken_provider, embedder, tmp_path, config)
    assert breaking.requests, "the provider was asked"
    provider_legs = trace.provider_legs
    assert provider_legs and all(leg.error == f"provider {BROKEN}" for leg in provider_legs)
    final = trace.final
    assert final is not None and final.text.strip()
    local_legs = [leg for leg in trace.legs if leg.backend == gemma.name]
    assert len(local_legs) == 1 and local_legs[0].leg == trace.final_leg  # no second fallback
    assert any(BROKEN in note for note in notes), notes
    if name in PROVIDER_ANSWERS:
        assert local_legs[0].role == "fallback"
        assert f"failed over to the local model: provider {BROKEN}" in notes
    # A failover spares the provider nothing: it failed.
    assert (trace.saving, trace.prompt_tokens_saved) == ("none", 0)
    assert audit_of(trace).failed_over


@pytest.mark.parametrize("name", PROVIDER_ANSWERS)
async def test_with_failover_off_a_failed_provider_leaves_the_run_without_an_answer(
    name: str,
    gemma: LlamaCppBackend,
    broken_provider: OpenAICompatBackend,
    embedder: OnnxEmbedder,
    tmp_path: Path,
) -> None:
    config = WrapperConfig(failover_to_local=False)
    notes, trace = await run(name, gemma, broken_provider, embedder, tmp_path, config)
    assert trace.final_leg is None
    assert all(leg.backend != gemma.name for leg in trace.legs)
    assert not any("failed over" in note for note in notes)
    assert trace.saving == "none" and not audit_of(trace).failed_over


async def test_a_fallback_that_cannot_fit_the_sources_ends_the_run_without_an_answer(
    gemma: LlamaCppBackend,
    broken_provider: OpenAICompatBackend,
    breaking: FailingProvider,
    embedder: OnnxEmbedder,
) -> None:
    """The local model gets the whole request; its own failure is shown, nothing is retried."""
    long = ContextDocument(title="Log", text="The harbour opened at dawn. " * 600)  # > 2,048
    orchestrator = LLMOrchestrator(gemma, broken_provider, WrapperConfig())
    request = ask().model_copy(update={"context": (long,)})
    events = [e async for e in orchestrator.run(available_strategies()["provider"], request)]
    completed = events[-1]
    assert isinstance(completed, RunCompleted)
    trace = completed.trace
    assert trace.final_leg is None
    assert [(leg.leg, leg.role) for leg in trace.legs] == [
        ("provider", "answer"), ("local", "fallback"),
    ]  # fmt: skip
    local = trace.legs[1]
    assert local.error is not None and "context window" in local.error
    assert len(breaking.requests) == 1
