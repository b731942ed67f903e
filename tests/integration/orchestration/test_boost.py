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


DISTRACTORS = (
    ContextDocument(
        title="Millbrook bus timetable",
        text=" ".join(
            f"Route {n} leaves the Millbrook depot at {6 + n % 12}:{n % 6}5 and stops at "
            f"{n + 3} villages before returning in the evening."
            for n in range(1, 31)
        ),
    ),
    ContextDocument(
        title="Harlow Ridge walking guide",
        text=" ".join(
            f"Stage {n} of the Harlow Ridge walk climbs {40 * n} metres past stone walls, "
            "sheep folds and a ruined chapel with views over the valley."
            for n in range(1, 26)
        ),
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


async def test_word_pruning_spares_the_relevant_sentences_and_trims_the_rest(
    gemma: LlamaCppBackend, embedder: OnnxEmbedder
) -> None:
    question = "How many megalitres does the Lake Ashby reservoir hold when full?"
    original = estimate_tokens(REPORT.text)
    budget = original // 5
    result = await compress_context(
        question, (REPORT,), budget_tokens=budget, embed=embedder.embed,
        score=gemma.token_surprisals,
    )  # fmt: skip
    kept = " ".join(doc.text for doc in result.documents)
    assert "Its main reservoir, Lake Ashby, holds 48,300 megalitres when full." in kept
    assert result.words_dropped > 0
    assert result.kept_tokens <= budget + 5
    assert result.sentences_kept < result.sentences_total
    assert result.original_tokens == pytest.approx(original, rel=0.05)  # summed per sentence
    assert f"{result.words_dropped} predictable words" in result.summary()


async def test_compression_without_a_scorer_selects_sentences_only(embedder: OnnxEmbedder) -> None:
    question = "When did Adaeze Obi introduce ultraviolet disinfection?"
    result = await compress_context(
        question, (REPORT,), budget_tokens=60, embed=embedder.embed, score=None
    )
    kept = " ".join(doc.text for doc in result.documents)
    assert "4 May 2019" in kept
    assert result.words_dropped == 0


async def test_boost_sends_the_provider_a_third_of_the_prompt_and_says_what_it_dropped(
    gemma: LlamaCppBackend, provider: OpenAICompatBackend, embedder: OnnxEmbedder
) -> None:
    orchestrator = LLMOrchestrator(gemma, provider, WrapperConfig(), embedder=embedder)
    request = InferenceRequest(
        messages=(ChatMessage(role="user", content="How many people does the board employ?"),),
        parameters=ModelParameters(temperature=0.0, max_tokens=16),
        context=(*DISTRACTORS, REPORT),
    )
    events = [event async for event in orchestrator.run(available_strategies()["boost"], request)]
    final = events[-1]
    assert isinstance(final, RunCompleted)
    trace = final.trace
    notes = [e.text for e in events if isinstance(e, DecisionNote)]
    assert notes[0].startswith("compressed the sources")
    assert "from 'Millbrook bus timetable' (" in notes[0]
    assert "word pruning is off" in notes[0]
    assert trace.final_leg == "provider"
    assert trace.provider_prompt_tokens <= 0.35 * trace.baseline_prompt_tokens
    assert trace.prompt_tokens_saved > 0 and trace.saving == "fewer_tokens"
