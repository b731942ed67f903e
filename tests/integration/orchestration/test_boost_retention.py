"""Boost against a provider that echoes its prompt: does the answer reach the provider?"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import openai
import pytest
from pydantic import SecretStr

from benchmarks.boost_retention import library_passages, load_questions, sources_for
from hybridmcp_app.core.inference import ChatMessage, ContextDocument, InferenceRequest
from hybridmcp_app.core.llm_configs import ProviderConfig, WrapperConfig
from hybridmcp_app.core.parameters import ModelParameters
from hybridmcp_app.core.token_estimate import estimate_tokens
from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder
from hybridmcp_app.llm.llama_backend import LlamaCppBackend
from hybridmcp_app.llm.openai_backend import OpenAICompatBackend
from hybridmcp_app.orchestration.events import DecisionNote, HybridTrace, RunCompleted
from hybridmcp_app.orchestration.orchestrator import LLMOrchestrator
from hybridmcp_app.orchestration.strategies import available_strategies
from tests.helpers.echo_provider import EchoProvider, echo_provider


@pytest.fixture
def echo() -> Iterator[EchoProvider]:
    with echo_provider(api_key="echo-test-key") as server:
        yield server


@pytest.fixture
async def echo_backend(echo: EchoProvider) -> AsyncIterator[OpenAICompatBackend]:
    config = ProviderConfig.model_validate(
        {"name": "echo", "base_url": echo.base_url, "default_model": "echo"}
    )
    async with OpenAICompatBackend(config, SecretStr(echo.api_key)) as backend:
        yield backend


async def run(
    orchestrator: LLMOrchestrator,
    strategy: str,
    question: str,
    sources: tuple[ContextDocument, ...],
) -> tuple[HybridTrace, list[str]]:
    request = InferenceRequest(
        messages=(ChatMessage(role="user", content=question),),
        parameters=ModelParameters(temperature=0.0, max_tokens=16),
        context=sources,
    )
    events = [e async for e in orchestrator.run(available_strategies()[strategy], request)]
    final = events[-1]
    assert isinstance(final, RunCompleted)
    return final.trace, [e.text for e in events if isinstance(e, DecisionNote)]


def test_the_echo_provider_answers_with_the_prompt_and_counts_its_tokens(
    echo: EchoProvider,
) -> None:
    client = openai.OpenAI(base_url=echo.base_url, api_key=echo.api_key, max_retries=0)
    try:
        reply = client.chat.completions.create(
            model="echo",
            messages=[
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "What is in the reservoir?"},
            ],
        )
    finally:
        client.close()
    prompt = "Be brief.\n\nWhat is in the reservoir?"
    assert reply.choices[0].message.content == prompt
    assert reply.usage is not None and reply.usage.prompt_tokens == estimate_tokens(prompt)
    assert echo.prompts == [prompt]


def test_the_echo_provider_refuses_a_wrong_key(echo: EchoProvider) -> None:
    client = openai.OpenAI(base_url=echo.base_url, api_key="not-the-key", max_retries=0)
    try:
        with pytest.raises(openai.AuthenticationError, match="Incorrect API key"):
            client.chat.completions.create(
                model="echo", messages=[{"role": "user", "content": "hello"}]
            )
    finally:
        client.close()
    assert echo.prompts == []


async def test_boost_sends_the_answer_in_a_third_of_provider_only_prompt_tokens(
    gemma: LlamaCppBackend, echo_backend: OpenAICompatBackend, echo: EchoProvider
) -> None:
    questions, documents = load_questions()
    embedder = OnnxEmbedder(threads=2)
    orchestrator = LLMOrchestrator(gemma, echo_backend, WrapperConfig(), embedder=embedder)
    question = next(q for q in questions if q["answers"][0] == "1958")
    passages = library_passages(documents, embedder.count_tokens)
    sources, _ = await sources_for(question, passages, embedder)
    assert len(sources) == 5

    full, _ = await run(orchestrator, "provider", question["question"], sources)
    boosted, notes = await run(orchestrator, "boost", question["question"], sources)

    assert "1958" in echo.prompts[1]
    assert boosted.provider_prompt_tokens <= 0.35 * full.provider_prompt_tokens
    assert notes[0].startswith("compressed the sources")
    distractors = [s.title for s in sources if "1958" not in s.text]
    assert any(f"'{title}' (" in notes[0] for title in distractors)


async def test_short_sources_reach_the_provider_whole_and_the_trace_says_so(
    gemma: LlamaCppBackend, echo_backend: OpenAICompatBackend, echo: EchoProvider
) -> None:
    orchestrator = LLMOrchestrator(
        gemma, echo_backend, WrapperConfig(), embedder=OnnxEmbedder(threads=2)
    )
    note = ContextDocument(
        title="Gate code", text="The gate code for the Sorrel Hill works is 4471. Staff only."
    )
    _, notes = await run(orchestrator, "boost", "What is the gate code?", (note,))
    assert note.text in echo.prompts[0]
    assert notes[0].startswith("sent the sources as they are")
