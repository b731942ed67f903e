"""The labelled set Boost's answer retention is measured on, and how the benchmark reads it."""

from __future__ import annotations

from collections import Counter

from benchmarks.boost_retention import (
    SOURCES_PER_QUESTION,
    MemoEmbedder,
    check_verbatim,
    library_passages,
    load_questions,
    retained,
    sources_for,
    verdict,
)
from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder


def test_the_set_has_sixty_questions_over_ten_documents_with_verbatim_answers() -> None:
    questions, documents = load_questions()
    assert len(questions) >= 60
    assert len({q["document"] for q in questions}) >= 10 and len(documents) >= 10
    check_verbatim(questions, documents)  # raises on an answer not in its text


def test_the_library_chunker_cuts_each_document_into_several_passages() -> None:
    _, documents = load_questions()
    passages = library_passages(documents, OnnxEmbedder().count_tokens)
    per_document = Counter(p.document for p in passages)
    assert set(per_document) == set(documents)
    assert min(per_document.values()) >= 3
    for key, document in documents.items():
        assert all(p.source.text in document.text for p in passages if p.document == key)


async def test_each_question_gets_five_passages_one_of_which_holds_its_answer() -> None:
    questions, documents = load_questions()
    embedder = MemoEmbedder()  # the passages are embedded once
    passages = library_passages(documents, embedder.count_tokens)
    for question in questions[::12]:
        sources, _ = await sources_for(question, passages, embedder)
        assert len(sources) == SOURCES_PER_QUESTION
        assert any(retained(s.text, question["answers"][:1]) for s in sources)


def test_an_answer_counts_as_retained_only_when_it_reached_the_provider_verbatim() -> None:
    assert retained("the dam was\n finished in 1958.", ["1958"])
    assert retained("Ottoline  Brasch leads it", ["Ottoline Brasch"])
    assert not retained("the dam was finished in 19 58", ["1958"])


def test_the_verdict_says_not_met_when_no_budget_reaches_the_target() -> None:
    missed = {"boost_retention_at_0.20": 0.90, "boost_ratio_at_0.20": 0.22,
              "boost_retention_at_0.50": 0.99, "boost_ratio_at_0.50": 0.52}  # fmt: skip
    assert "NOT met" in verdict(missed)
    met = {**missed, "boost_retention_at_0.35": 0.97, "boost_ratio_at_0.35": 0.34}
    assert "met at budget(s) 0.35" in verdict(met)
