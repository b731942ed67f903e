"""Boost's compression: the sources' own tokens budgeted, relevant sentences kept whole."""

from __future__ import annotations

import pytest

from hybridmcp_app.core.inference import ContextDocument
from hybridmcp_app.core.token_estimate import estimate_tokens
from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder
from hybridmcp_app.orchestration.compression import (
    MIN_BUDGET_TOKENS,
    SHORT_SOURCES_TOKENS,
    CompressionResult,
    compress_context,
    sources_budget,
)

RESERVOIR = ContextDocument(
    title="Kettlewick Reservoir",
    text=" ".join(
        [
            "The Kettlewick Reservoir holds up to 6.3 million cubic metres of water when full.",
            "Its dam was finished in 1958 by the county engineers.",
            "Anglers may fish from the north shore between April and October.",
            "A footpath of 9 kilometres circles the water.",
            "The visitor centre sells maps, tea and cake at weekends.",
            "Swimming is forbidden because of the cold currents near the outflow.",
        ]
    ),
)
BAKERY = ContextDocument(
    title="Hollins Bakery history",
    text=" ".join(
        [
            f"In {1901 + year} the Hollins family bakery on Mill Street sold {40 + year} loaves "
            f"a day and took on apprentice number {year + 1}."
            for year in range(24)
        ]
    ),
)
CHOIR = ContextDocument(
    title="Pell Crossing choir",
    text=" ".join(
        [
            f"The Pell Crossing choir sang concert number {n} of its season in the old chapel, "
            f"with {12 + n} singers and an organist from the next village."
            for n in range(1, 19)
        ]
    ),
)
CAPACITY = "How many cubic metres does the Kettlewick Reservoir hold when full?"


@pytest.fixture(scope="module")
def embedder() -> OnnxEmbedder:
    return OnnxEmbedder(threads=2)


def test_the_budget_is_a_share_of_the_sources_tokens_never_below_the_quality_floor() -> None:
    assert sources_budget(10_000, 0.2) == 2_000
    assert sources_budget(3_000, 0.35) == 1_050
    assert sources_budget(300, 0.2) == MIN_BUDGET_TOKENS


async def test_short_sources_are_sent_as_they_are(embedder: OnnxEmbedder) -> None:
    assert estimate_tokens(RESERVOIR.text) < SHORT_SOURCES_TOKENS
    result = await compress_context(
        CAPACITY, (RESERVOIR,), budget_tokens=10, embed=embedder.embed, score=None
    )
    assert result.documents == (RESERVOIR,)
    assert result.as_is
    assert "as they are" in result.summary()


async def test_the_answer_and_its_source_survive_while_unrelated_sources_are_dropped(
    embedder: OnnxEmbedder,
) -> None:
    sources = (BAKERY, RESERVOIR, CHOIR)
    total = sum(estimate_tokens(source.text) for source in sources)
    result = await compress_context(
        CAPACITY, sources, budget_tokens=total // 8, embed=embedder.embed, score=None
    )
    kept = {document.title: document.text for document in result.documents}
    assert "6.3 million cubic metres" in kept["Kettlewick Reservoir"]
    assert result.kept_tokens <= total // 8
    assert result.sentences_kept < result.sentences_total
    gone = {title: (dropped, of) for title, dropped, of in result.dropped_from}
    assert gone["Hollins Bakery history"][0] > 0
    assert sum(dropped for dropped, _ in gone.values()) == (
        result.sentences_total - result.sentences_kept
    )


async def test_every_sentence_past_the_relevance_floor_is_kept_even_past_the_budget(
    embedder: OnnxEmbedder,
) -> None:
    facts = ContextDocument(
        title="Reservoir facts",
        text=" ".join(
            f"The Kettlewick Reservoir held {n}.{n} million cubic metres when full in {1990 + n}."
            for n in range(1, 9)
        ),
    )
    result = await compress_context(
        CAPACITY, (BAKERY, facts, CHOIR), budget_tokens=20, embed=embedder.embed, score=None
    )
    kept = " ".join(document.text for document in result.documents)
    for n in range(1, 9):
        assert f"{n}.{n} million cubic metres" in kept
    assert result.relevant_kept >= 8
    assert result.kept_tokens > 20


def test_the_summary_says_what_was_kept_and_which_sources_lost_what() -> None:
    result = CompressionResult(
        documents=(RESERVOIR,),
        original_tokens=900,
        kept_tokens=180,
        sentences_kept=7,
        sentences_total=48,
        words_dropped=0,
        budget_tokens=180,
        relevant_kept=2,
        dropped_from=(("Hollins Bakery history", 24, 24), ("Kettlewick Reservoir", 1, 6)),
    )
    summary = result.summary()
    assert "900 → 180 tokens (budget 180)" in summary
    assert "kept 2 relevant sentence(s) whole and 5 more by rank" in summary
    assert "dropped 41 of 48 sentences" in summary
    assert "'Hollins Bakery history' (all 24 of 24)" in summary
    assert "'Kettlewick Reservoir' (1 of 6)" in summary
