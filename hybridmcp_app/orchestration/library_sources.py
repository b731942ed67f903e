"""Answers from the document library: the chunks closest to the question become the turn's
context (numbered as the model sees them, so "[2]" in an answer names a source), and the turn
keeps them as citations: file, page or lines, heading, score and the text that was used.

The chunks go in as ``ContextDocument``s, the orchestrator's context source: provider-only sends
them whole, Boost has the local model compress them first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Protocol

from pydantic import Field

from hybridmcp_app.core.frozen_model import FrozenModel
from hybridmcp_app.core.inference import ContextDocument
from hybridmcp_app.documents.document_models import SearchHit

DEFAULT_SOURCES = 5
MIN_SCORE = 0.15  # cosine similarity under which a chunk is noise, not a source


class LibrarySearch(Protocol):
    """What the chat needs of the library (``LibraryService`` is one)."""

    async def search(self, query: str, k: int = ...) -> list[SearchHit]: ...


class SourceCitation(FrozenModel):
    """A library chunk given to the model, numbered as in its context."""

    number: int = Field(ge=1)
    path: Path
    page: int | None = None
    first_line: int | None = None
    last_line: int | None = None
    heading: str = ""
    score: float
    chunk_id: str
    text: str

    @property
    def label(self) -> str:
        """``report.pdf, p. 3`` or ``notes.md, lines 4–9``."""
        if self.page is not None:
            return f"{self.path.name}, p. {self.page}"
        if self.first_line is not None and self.last_line not in (None, self.first_line):
            return f"{self.path.name}, lines {self.first_line}–{self.last_line}"
        if self.first_line is not None:
            return f"{self.path.name}, line {self.first_line}"
        return self.path.name


class SourcesFound(FrozenModel):
    """The first event of a turn that answers from the library."""

    type: Literal["sources"] = "sources"
    sources: tuple[SourceCitation, ...]
    query: str


def citations(hits: list[SearchHit], *, min_score: float = MIN_SCORE) -> tuple[SourceCitation, ...]:
    kept = [hit for hit in hits if hit.score >= min_score]
    return tuple(
        SourceCitation(
            number=number,
            path=hit.provenance.path,
            page=hit.provenance.page,
            first_line=hit.provenance.first_line,
            last_line=hit.provenance.last_line,
            heading=hit.provenance.heading,
            score=hit.score,
            chunk_id=hit.chunk_id,
            text=hit.text,
        )
        for number, hit in enumerate(kept, 1)
    )


def context_documents(sources: tuple[SourceCitation, ...]) -> tuple[ContextDocument, ...]:
    """The sources as the model reads them: ``[n] label`` then the chunk's text."""
    return tuple(
        ContextDocument(
            title=f"({source.label}{' — ' + source.heading if source.heading else ''})",
            text=source.text,
        )
        for source in sources
    )


async def find_sources(
    library: LibrarySearch, question: str, k: int = DEFAULT_SOURCES
) -> SourcesFound:
    """The library's best chunks for ``question``, as citations."""
    hits = await library.search(question, k)
    return SourcesFound(sources=citations(hits), query=question)


def sources_markdown(sources: tuple[SourceCitation, ...]) -> str:
    """A "Sources" list for exports and transcripts."""
    if not sources:
        return ""
    lines = ["**Sources**", ""]
    lines += [f"{source.number}. {source.label} — `{source.path}`" for source in sources]
    return "\n".join(lines)
