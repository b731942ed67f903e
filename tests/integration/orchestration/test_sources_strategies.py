"""Strategies that work with the request's sources: Verify and the semantic cache (real provider,
real embedder, a real SQLite file)."""

from pathlib import Path

import pytest

from hybridmcp_app.core.inference import ChatMessage, ContextDocument, InferenceRequest
from hybridmcp_app.core.llm_configs import WrapperConfig
from hybridmcp_app.core.parameters import ModelParameters
from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder
from hybridmcp_app.llm.llama_backend import LlamaCppBackend
from hybridmcp_app.llm.openai_backend import OpenAICompatBackend
from hybridmcp_app.orchestration.events import DecisionNote, HybridTrace, RunCompleted
from hybridmcp_app.orchestration.orchestrator import LLMOrchestrator
from hybridmcp_app.orchestration.semantic_cache import SemanticCache
from hybridmcp_app.orchestration.strategies import available_strategies
from hybridmcp_app.orchestration.strategies.cache import CacheStrategy
from hybridmcp_app.orchestration.strategy import Strategy

SOURCE = ContextDocument(
    title="Harbour report",
    text=(
        "The Elmsworth harbour was rebuilt in 1987 after the great storm. "
        "It now has 42 berths and a lighthouse painted red and white. "
        "The harbour master, Ines Varga, keeps the log in the customs house."
    ),
)


@pytest.fixture(scope="module")
def embedder() -> OnnxEmbedder:
    return OnnxEmbedder()


def ask(question: str, *documents: ContextDocument) -> InferenceRequest:
    return InferenceRequest(
        messages=(ChatMessage(role="user", content=question),),
        parameters=ModelParameters(temperature=0.0, max_tokens=24),
        context=documents,
    )


async def run(
    orchestrator: LLMOrchestrator, strategy: Strategy, request: InferenceRequest
) -> tuple[list[str], HybridTrace]:
    events = [event async for event in orchestrator.run(strategy, request)]
    final = events[-1]
    assert isinstance(final, RunCompleted)
    notes = [event.text for event in events if isinstance(event, DecisionNote)]
    return notes, final.trace


async def test_verify_reports_how_many_answer_sentences_the_sources_support(
    gemma: LlamaCppBackend, provider: OpenAICompatBackend, embedder: OnnxEmbedder
) -> None:
    orchestrator = LLMOrchestrator(gemma, provider, WrapperConfig(), embedder=embedder)
    notes, trace = await run(
        orchestrator, available_strategies()["verify"], ask("How many berths?", SOURCE)
    )
    assert trace.final_leg == "provider"
    assert len(notes) == 1
    assert notes[0].startswith("verified: all") or "not supported by the sources" in notes[0]


async def test_verify_flags_an_answer_unrelated_to_the_sources(
    embedder: OnnxEmbedder,
) -> None:
    from hybridmcp_app.orchestration.context_prompt import split_sentences

    claims = split_sentences("The harbour has 42 berths. Bananas are rich in potassium.")
    sources = split_sentences(SOURCE.text)
    vectors = embedder.embed_sync(claims + sources)
    best = (vectors[:2] @ vectors[2:].T).max(axis=1)
    threshold = WrapperConfig().verify_min_similarity
    assert best[0] >= threshold > best[1]


async def test_the_cache_answers_a_rephrased_question_without_calling_a_model(
    gemma: LlamaCppBackend,
    provider: OpenAICompatBackend,
    embedder: OnnxEmbedder,
    tmp_path: Path,
) -> None:
    cache = SemanticCache(tmp_path / "cache.sqlite3", embedder)
    orchestrator = LLMOrchestrator(
        gemma,
        provider,
        WrapperConfig(cache_similarity_threshold=0.8),
        embedder=embedder,
        cache=cache,
    )
    notes, first = await run(
        orchestrator, CacheStrategy(), ask("Who is the harbour master?", SOURCE)
    )
    assert notes == ["not in the cache: the provider answers"]
    assert first.final_leg == "provider"
    notes, second = await run(
        orchestrator, CacheStrategy(), ask("Who's the harbour master?", SOURCE)
    )
    assert second.final_leg == "cache"
    assert notes[0].startswith("answered from the cache (similarity 0.9")
    assert second.provider_prompt_tokens == 0
    assert (first.saving, second.saving) == ("none", "without_provider")
    assert second.prompt_tokens_saved == second.baseline_prompt_tokens > 0
    assert second.final is not None and first.final is not None
    assert second.final.text == first.final.text
    assert cache.count() == 1


async def test_the_cache_misses_for_the_same_question_over_other_sources_and_can_be_bypassed(
    gemma: LlamaCppBackend,
    provider: OpenAICompatBackend,
    embedder: OnnxEmbedder,
    tmp_path: Path,
) -> None:
    cache = SemanticCache(tmp_path / "cache.sqlite3", embedder)
    orchestrator = LLMOrchestrator(gemma, provider, WrapperConfig(), embedder=embedder, cache=cache)
    other = ContextDocument(title="Other", text="The Brantley harbour has 7 berths.")
    await run(orchestrator, CacheStrategy(), ask("How many berths?", SOURCE))
    notes, trace = await run(orchestrator, CacheStrategy(), ask("How many berths?", other))
    assert trace.final_leg == "provider"
    notes, trace = await run(
        orchestrator, CacheStrategy(bypass=True), ask("How many berths?", SOURCE)
    )
    assert notes == ["cache bypassed"]
    assert trace.final_leg == "provider"
    assert cache.count() == 3


async def test_the_cache_survives_a_restart(embedder: OnnxEmbedder, tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite3"
    await SemanticCache(path, embedder).store(
        "What colour is the lighthouse?", (SOURCE,), "Red and white", "m"
    )
    hit = await SemanticCache(path, embedder).lookup(
        "What colour is the lighthouse?", (SOURCE,), 0.9
    )
    assert hit is not None and hit.answer == "Red and white"


async def test_route_sends_an_easy_prompt_to_the_local_model_and_a_hard_one_out(
    gemma: LlamaCppBackend, provider: OpenAICompatBackend, embedder: OnnxEmbedder
) -> None:
    orchestrator = LLMOrchestrator(gemma, provider, WrapperConfig(), embedder=embedder)
    strategy = available_strategies()["route"]
    notes, trace = await run(orchestrator, strategy, ask("What is the capital of Portugal?"))
    assert notes[0].startswith("routed locally: looks easy")
    assert trace.final_leg == "local"
    notes, trace = await run(
        orchestrator, strategy, ask("Compare the trade-offs of event sourcing and CRUD for a bank.")
    )
    assert notes[0].startswith("routed to the provider: looks hard")
    assert trace.final_leg == "provider"
