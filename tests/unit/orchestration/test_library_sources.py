"""Library passages as citations and as the model's numbered context."""

from pathlib import Path

from hybridmcp_app.core.inference import ChatMessage, InferenceRequest
from hybridmcp_app.documents.document_models import ChunkProvenance, SearchHit
from hybridmcp_app.orchestration.context_prompt import inline_context
from hybridmcp_app.orchestration.library_sources import (
    citations,
    context_documents,
    sources_markdown,
)


def hit(name: str, score: float, **where: int) -> SearchHit:
    provenance = ChunkProvenance(path=Path("/docs") / name, heading="Intro", **where)
    return SearchHit(chunk_id=f"{name}-{score}", text=f"text of {name}", score=score,
                     provenance=provenance)  # fmt: skip


def test_weak_matches_are_dropped_and_the_rest_numbered_best_first() -> None:
    found = citations([hit("a.pdf", 0.8, page=3), hit("b.md", 0.5, first_line=4, last_line=9),
                       hit("c.txt", 0.05)])  # fmt: skip
    assert [(c.number, c.path.name) for c in found] == [(1, "a.pdf"), (2, "b.md")]


def test_labels_name_the_page_or_the_lines() -> None:
    found = citations([
        hit("a.pdf", 0.9, page=3), hit("b.md", 0.9, first_line=4, last_line=9),
        hit("c.md", 0.9, first_line=7, last_line=7), hit("d.txt", 0.9),
    ])  # fmt: skip
    assert [c.label for c in found] == [
        "a.pdf, p. 3", "b.md, lines 4–9", "c.md, line 7", "d.txt",
    ]  # fmt: skip


def test_the_model_sees_the_passages_numbered_as_the_citations() -> None:
    found = citations([hit("a.pdf", 0.9, page=3), hit("b.md", 0.7, first_line=1, last_line=2)])
    request = InferenceRequest(
        messages=(ChatMessage(role="user", content="What?"),), context=context_documents(found)
    )
    prompt = inline_context(request).messages[-1].content
    assert "[1] (a.pdf, p. 3 — Intro)\ntext of a.pdf" in prompt
    assert "[2] (b.md, lines 1–2 — Intro)\ntext of b.md" in prompt
    assert prompt.endswith("Question: What?")


def test_the_sources_list_for_exports() -> None:
    found = citations([hit("a.pdf", 0.9, page=3)])
    assert sources_markdown(found) == "**Sources**\n\n1. a.pdf, p. 3 — `/docs/a.pdf`"
    assert sources_markdown(()) == ""
