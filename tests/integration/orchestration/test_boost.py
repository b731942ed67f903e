"""Boost: question-aware compression by the real local model and embedder, then the provider."""

import pytest

from hybridmcp_app.core.inference import ChatMessage, ContextDocument, InferenceRequest
from hybridmcp_app.core.llm_configs import WrapperConfig
from hybridmcp_app.core.parameters import ModelParameters
from hybridmcp_app.core.token_estimate import estimate_tokens
from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder
from hybridmcp_app.llm.llama_backend import LlamaCppBackend
from hybridmcp_app.llm.openai_backend import OpenAICompatBackend
from hybridmcp_app.orchestration.compression import compress_context, is_protected
from hybridmcp_app.orchestration.events import DecisionNote, RunCompleted
from hybridmcp_app.orchestration.orchestrator import LLMOrchestrator
from hybridmcp_app.orchestration.strategies import available_strategies

REPORT = ContextDocument(
    title="Greywater Valley utility report",
    text=" ".join(
        [
            "The Greywater Valley Water Board was founded in 1962 by engineer Tomasz Krol.",
            "Its main reservoir, Lake Ashby, holds 48,300 megalitres when full.",
            "In 2021 the board replaced 37 kilometres of old pipe at a cost of $14.2 million.",
            "Customer complaints fell by 18 percent in the following year.",
            "The treatment plant at Millbrook processes 91 megalitres per day.",
            "Chief chemist Adaeze Obi introduced ultraviolet disinfection on 4 May 2019.",
            "The board employs 212 people across four depots.",
            "Its annual report is published every September in the Valley Gazette.",
            "A new pumping station at Harlow Ridge is planned for 2027.",
            "The average household uses 146 litres of water per day.",
        ]
        * 3
    ),
)


@pytest.fixture(scope="module")
def embedder() -> OnnxEmbedder:
    return OnnxEmbedder()


def test_numbers_names_and_question_words_are_protected() -> None:
    terms = {"reservoir"}
    assert is_protected(" 48,300", terms)
    assert is_protected(" Krol.", terms)
    assert is_protected(" reservoir,", terms)
    assert not is_protected(" the", terms)
    assert not is_protected(" holds", terms)


async def test_compression_keeps_the_facts_the_question_needs(
    gemma: LlamaCppBackend, embedder: OnnxEmbedder
) -> None:
    question = "How many megalitres does the Lake Ashby reservoir hold when full?"
    original = estimate_tokens(REPORT.text)
    result = await compress_context(
        question, (REPORT,), budget_tokens=original // 5, embed=embedder.embed,
        score=gemma.token_surprisals,
    )  # fmt: skip
    kept = " ".join(doc.text for doc in result.documents)
    assert "48,300" in kept
    assert "Lake Ashby" in kept
    assert result.kept_tokens <= original // 5 + 5
    assert result.sentences_kept < result.sentences_total
    assert result.original_tokens == pytest.approx(original, rel=0.05)  # summed per sentence


async def test_compression_without_a_scorer_selects_sentences_only(embedder: OnnxEmbedder) -> None:
    question = "When did Adaeze Obi introduce ultraviolet disinfection?"
    result = await compress_context(
        question, (REPORT,), budget_tokens=60, embed=embedder.embed, score=None
    )
    kept = " ".join(doc.text for doc in result.documents)
    assert "4 May 2019" in kept
    assert result.words_dropped == 0


async def test_boost_sends_the_provider_a_fraction_of_the_prompt(
    gemma: LlamaCppBackend, provider: OpenAICompatBackend, embedder: OnnxEmbedder
) -> None:
    orchestrator = LLMOrchestrator(gemma, provider, WrapperConfig(), embedder=embedder)
    request = InferenceRequest(
        messages=(ChatMessage(role="user", content="How many people does the board employ?"),),
        parameters=ModelParameters(temperature=0.0, max_tokens=16),
        context=(REPORT,),
    )
    events = [event async for event in orchestrator.run(available_strategies()["boost"], request)]
    final = events[-1]
    assert isinstance(final, RunCompleted)
    trace = final.trace
    notes = [e.text for e in events if isinstance(e, DecisionNote)]
    assert notes[0].startswith("compressed the sources")
    assert trace.final_leg == "provider"
    assert trace.provider_prompt_tokens <= 0.25 * trace.baseline_prompt_tokens
    assert trace.prompt_tokens_saved > 0 and trace.saving == "fewer_tokens"
