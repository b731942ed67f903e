"""Every host judges real questions: the local model held to a grammar, the provider (the
llama.cpp server) held to a JSON schema, the hybrid host escalating when the local model is
unsure, and the embedding baseline. Answers are always one of the four words, so the bottom
cannot leak through them; accuracy is measured by benchmarks.game_host, not asserted here."""

from __future__ import annotations

import pytest

from hybridmcp_app.game.embedding_host import EmbeddingHost
from hybridmcp_app.game.fact_matcher import FactMatcher
from hybridmcp_app.game.llm_host import VERDICTS, HostError, HybridHost, LlmHost, parse_word
from hybridmcp_app.game.puzzle_models import ANSWERS, Puzzle
from hybridmcp_app.llm.llama_backend import LlamaCppBackend
from hybridmcp_app.llm.openai_backend import OpenAICompatBackend

pytestmark = pytest.mark.integration


async def test_the_local_host_answers_every_labelled_question_with_an_allowed_word(
    gemma: LlamaCppBackend, matcher: FactMatcher, umbrella: Puzzle
) -> None:
    host = LlmHost("local", gemma, matcher, "grammar")
    judged = [await host.answer(umbrella, q.question) for q in umbrella.questions]
    assert all(j.answer in ANSWERS and j.host == "local" for j in judged)
    assert all(j.confidence is not None and 0 < j.confidence <= 1 for j in judged)
    assert all(not j.facts for j in judged if j.answer in ("no", "irrelevant"))
    verdict = await host.judge_guess(umbrella, "She is bald because of chemotherapy.")
    assert verdict.verdict in VERDICTS and 0 in verdict.facts


async def test_the_provider_host_answers_in_json_and_a_guess_gets_a_verdict(
    provider: OpenAICompatBackend, matcher: FactMatcher, umbrella: Puzzle
) -> None:
    host = LlmHost("provider", provider, matcher, "json_schema", model="gemma")
    judged = [await host.answer(umbrella, q.question) for q in umbrella.questions[:4]]
    assert all(j.answer in ANSWERS and j.confidence is None for j in judged)
    verdict = await host.judge_guess(umbrella, "It was raining on someone else.")
    assert verdict.verdict in VERDICTS


async def test_the_hybrid_host_escalates_only_when_the_local_model_is_unsure(
    gemma: LlamaCppBackend,
    provider: OpenAICompatBackend,
    matcher: FactMatcher,
    umbrella: Puzzle,
) -> None:
    local = LlmHost("local", gemma, matcher, "grammar")
    remote = LlmHost("provider", provider, matcher, "json_schema", model="gemma")
    question = umbrella.questions[0].question
    never_sure = await HybridHost(local, remote, threshold=1.01).answer(umbrella, question)
    always_sure = await HybridHost(local, remote, threshold=0.0).answer(umbrella, question)
    assert (never_sure.escalated, never_sure.host, never_sure.confidence) == (True, "hybrid", None)
    assert (always_sure.escalated, always_sure.host) == (False, "hybrid")
    assert always_sure.confidence is not None


async def test_the_embedding_host_knows_a_key_fact_from_a_question_off_the_story(
    matcher: FactMatcher, umbrella: Puzzle
) -> None:
    host = EmbeddingHost(matcher)
    bald = await host.answer(umbrella, "Does she have no hair at all?")
    off = await host.answer(umbrella, "Is the stock market open on Sundays?")
    assert (bald.answer, bald.facts[:1]) == ("yes", (0,))
    assert off.answer == "irrelevant"
    guess = await host.judge_guess(umbrella, "She has no hair at all because of medical "
                                   "treatment, and her head itself did get wet.")  # fmt: skip
    assert guess.verdict == "correct" and set(guess.facts) == {0, 1, 2}


@pytest.mark.parametrize(
    ("text", "word"),
    [("Yes", "yes"), (" partly. ", "partly"), ('{"answer": "irrelevant"}', "irrelevant")],
)
def test_an_answer_is_read_only_as_one_of_the_allowed_words(text: str, word: str) -> None:
    assert parse_word(text, ANSWERS, "answer") == word


@pytest.mark.parametrize(
    "text", ["Yes, because she is bald after chemotherapy", '{"answer": "maybe"}', "{oops"]
)
def test_anything_else_is_not_well_formed(text: str) -> None:
    with pytest.raises(HostError):
        parse_word(text, ANSWERS, "answer")


async def test_a_question_less_similar_than_unrelated_text_is_irrelevant_with_full_confidence(
    matcher: FactMatcher, umbrella: Puzzle
) -> None:
    # Cosine similarity below zero (seen in a model race: best -0.025) made confidence > 1,
    # which the judgement refused with a validation error.
    question = "integral code ledger"
    to_facts, to_bottom = await matcher.similarities(umbrella, question)
    assert max(to_facts + to_bottom) < 0
    judged = await EmbeddingHost(matcher).answer(umbrella, question)
    assert (judged.answer, judged.confidence) == ("irrelevant", 1.0)
