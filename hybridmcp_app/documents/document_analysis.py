"""What a document is about, at a glance: pages, words, language, key phrases, and (on request)
a summary written by the local model. Shown in the Library tab's details pane.

Language comes from ``py3langid`` (langid.py's model, bundled: no download) and key phrases from
YAKE (unsupervised, per document, no corpus needed). Both are blocking and run off the event loop.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from pydantic import Field

from hybridmcp_app.core.frozen_model import FrozenModel
from hybridmcp_app.core.inference import ChatMessage, InferenceRequest, InferenceResponse
from hybridmcp_app.core.parameters import ModelParameters
from hybridmcp_app.documents.document_models import ParsedDocument
from hybridmcp_app.documents.parse_errors import DocumentParseError


class Completer(Protocol):
    """A model that answers a request whole (every ``Completer`` does)."""

    async def complete(self, request: InferenceRequest) -> InferenceResponse: ...


_WORD = re.compile(r"\w+(?:['’-]\w+)*")
KEYWORD_SAMPLE_CHARS = 200_000  # YAKE's cost grows with the text; the start says enough
LANGUAGE_SAMPLE_CHARS = 20_000
SUMMARY_SOURCE_CHARS = 3_000  # what a small local model's context takes with room to answer
# YAKE knows stop words for these; others fall back to English ones (numbers, punctuation…).
_YAKE_LANGUAGES = {"de", "en", "es", "fr", "it", "nl", "pt", "ru", "pl", "sv", "tr", "zh"}


class DocumentAnalysis(FrozenModel):
    """Stats of one document, and a summary once asked for."""

    path: Path
    kind: str
    title: str = ""
    pages: int | None = None
    words: int = Field(0, ge=0)
    characters: int = Field(0, ge=0)
    language: str = Field("", description="ISO 639-1 code, '' when the text is too short.")
    keywords: tuple[str, ...] = ()
    summary: str = ""
    summary_of_start: bool = Field(False, description="The summary covers the start only.")
    error: str = Field("", description="Why the file could not be analysed.")


def document_text(document: ParsedDocument) -> str:
    return "\n\n".join(page.text for page in document.pages)


def analyze_parsed(document: ParsedDocument, *, keywords: int = 8) -> DocumentAnalysis:
    """Stats of a parsed document (blocking: language and key phrases take milliseconds)."""
    import py3langid
    import yake

    text = document_text(document)
    words = len(_WORD.findall(text))
    language = ""
    if words >= 5:
        language = str(py3langid.classify(text[:LANGUAGE_SAMPLE_CHARS])[0])
    phrases: tuple[str, ...] = ()
    if words >= 3 and keywords > 0:
        extractor = yake.KeywordExtractor(
            lan=language if language in _YAKE_LANGUAGES else "en",
            n=2,
            dedup_lim=0.7,
            top=keywords,
        )
        found = extractor.extract_keywords(text[:KEYWORD_SAMPLE_CHARS])
        phrases = tuple(str(phrase) for phrase, _score in found)
    return DocumentAnalysis(
        path=document.path,
        kind=document.kind,
        title=document.title,
        pages=document.page_count,
        words=words,
        characters=len(text),
        language=language,
        keywords=phrases,
    )


def analyze_file(path: Path, *, password: str | None = None) -> DocumentAnalysis:
    """Parse and analyse one file (blocking); a file that cannot be read gets ``error``."""
    return _analyze_file(path, password)[0]


def _analyze_file(path: Path, password: str | None = None) -> tuple[DocumentAnalysis, str]:
    from hybridmcp_app.documents.document_parsers import document_kind, parse_document

    try:
        parsed = parse_document(Path(path), password=password)
    except DocumentParseError as error:
        kind = document_kind(path.suffix)
        return DocumentAnalysis(path=Path(path), kind=kind, error=str(error)), ""
    return analyze_parsed(parsed), document_text(parsed)


async def analyze_documents(
    paths: Sequence[Path], *, summarize_with: Completer | None = None
) -> list[DocumentAnalysis]:
    """Analyse files off the event loop; with ``summarize_with``, each also gets a summary."""
    results = []
    for path in paths:
        analysis, text = await asyncio.to_thread(_analyze_file, path)
        if summarize_with is not None and text.strip():
            analysis = await summarize(analysis, text, summarize_with)
        results.append(analysis)
    return results


async def summarize(analysis: DocumentAnalysis, text: str, backend: Completer) -> DocumentAnalysis:
    """A short summary of ``text`` (the document's start) by ``backend``, the local model."""
    source = text[:SUMMARY_SOURCE_CHARS]
    request = InferenceRequest(
        messages=(
            ChatMessage(
                role="user",
                content=(
                    "Summarise this document in two or three sentences. Say what it is about; "
                    f"do not add facts.\n\nTitle: {analysis.title}\n\n{source}"
                ),
            ),
        ),
        parameters=ModelParameters(temperature=0.2, max_tokens=160),
    )
    response = await backend.complete(request)
    return analysis.model_copy(
        update={
            "summary": response.text.strip(),
            "summary_of_start": len(text) > SUMMARY_SOURCE_CHARS,
        }
    )
