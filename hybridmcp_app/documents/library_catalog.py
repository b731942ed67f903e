"""``LibraryCatalog``: the library as documents with ids, cited passages and plain answers.

What the ``documents`` MCP server offers, over ``LibraryService``: every answer is a pydantic
model (the tools' structured output) with paths as plain strings, and every refusal a
``CatalogError`` with a message meant for the person or model that asked. A document is named by
its id (``doc-`` and 12 hex digits of its path's hash, stable while the file stays where it is)
or by its absolute path.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import Field

from hybridmcp_app.core.frozen_model import FrozenModel
from hybridmcp_app.documents.catalog_results import AddResult, CatalogError
from hybridmcp_app.documents.document_models import FileState, FileStatus, SearchHit
from hybridmcp_app.documents.document_parsers import parse_document
from hybridmcp_app.documents.library_lock import LibraryBusy
from hybridmcp_app.documents.library_service import LibraryService, LibraryStats
from hybridmcp_app.documents.library_state import LibraryStorageError
from hybridmcp_app.documents.parse_errors import DocumentParseError

DOCUMENT_URI_PREFIX = "library://documents/"
T = TypeVar("T")
MAX_TEXT_CHARS = 200_000  # one get_document answer; longer documents are cut, and say so


class DocumentInfo(FrozenModel):
    """A file of the library and its state."""

    id: str
    path: str
    uri: str = Field(description="The resource holding its text.")
    state: str = Field(description="queued, parsing, embedding, indexed, failed or skipped.")
    chunks: int = 0
    reason: str = Field("", description="Why it failed or was skipped.")
    indexed_at: float | None = Field(None, description="Unix time of its last indexing.")


class DocumentList(FrozenModel):
    documents: list[DocumentInfo]
    total: int = Field(description="Documents matching, before the limit.")


class Passage(FrozenModel):
    """A passage found by meaning, with what a citation needs."""

    citation: str = Field(description="[n] as used in answers.")
    document_id: str
    path: str
    page: int | None = None
    first_line: int | None = None
    last_line: int | None = None
    heading: str = ""
    score: float = Field(description="Cosine similarity, 1 = identical.")
    text: str


class SearchResults(FrozenModel):
    query: str
    passages: list[Passage]


class DocumentPage(FrozenModel):
    number: int | None = Field(None, description="Page number, for paged formats.")
    text: str


class DocumentText(FrozenModel):
    """A document's text as read from its file now."""

    id: str
    path: str
    kind: str
    title: str = ""
    pages: list[DocumentPage]
    truncated: bool = Field(False, description=f"Cut at {MAX_TEXT_CHARS:,} characters.")


class RemoveResult(FrozenModel):
    removed: int = Field(description="Files taken out of the library.")


def document_id(path: Path | str) -> str:
    return "doc-" + hashlib.sha256(str(path).encode()).hexdigest()[:12]


class LibraryCatalog:
    """The library's operations as the ``documents`` server offers them."""

    def __init__(
        self, library: LibraryService, on_change: Callable[[], None] | None = None
    ) -> None:
        self.library = library
        self._on_change = on_change  # told after an add or a remove (the Library tab redraws)

    async def search(self, query: str, k: int = 8, paths: Sequence[str] = ()) -> SearchResults:
        where: Any = None
        if paths:
            resolved = [str(await self._path(path)) for path in paths]
            where = {"path": resolved[0]} if len(resolved) == 1 else {"path": {"$in": resolved}}
        hits = await self._guard(self.library.search(query, k, where))
        return SearchResults(
            query=query, passages=[_passage(number, hit) for number, hit in enumerate(hits, 1)]
        )

    async def list_documents(
        self, state: str | None = None, contains: str = "", limit: int = 100
    ) -> DocumentList:
        statuses = await self._guard(self.library.status())
        chosen = [
            status
            for status in sorted(statuses, key=lambda status: str(status.path))
            if (state is None or status.state.value == state)
            and contains.lower() in str(status.path).lower()
        ]
        shown = [_info(status) for status in chosen[:limit]]
        return DocumentList(documents=shown, total=len(chosen))

    async def get_document(self, document: str) -> DocumentText:
        path = await self._path(document)
        try:
            parsed = await asyncio.to_thread(parse_document, path)
        except DocumentParseError as error:
            raise CatalogError(f"{path} cannot be read now: {error}") from None
        pages, used, truncated = [], 0, False
        for page in parsed.pages:
            room = MAX_TEXT_CHARS - used
            if room <= 0:
                truncated = True
                break
            text = page.text[:room]
            truncated = truncated or len(text) < len(page.text)
            pages.append(DocumentPage(number=page.number, text=text))
            used += len(text)
        return DocumentText(
            id=document_id(path),
            path=str(path),
            kind=parsed.kind,
            title=parsed.title,
            pages=pages,
            truncated=truncated,
        )

    async def add_path(self, path: str) -> AddResult:
        target = await asyncio.to_thread(_existing, path)
        report = await self._guard(self.library.add([target]))
        self._changed()
        statuses = await self._guard(self.library.status())
        failures = [
            f"{status.path}: {status.reason}"
            for status in statuses
            if status.state is FileState.FAILED and status.path.is_relative_to(target)
        ]
        return AddResult(
            indexed=report.indexed,
            failed=report.failed,
            skipped=report.skipped,
            unchanged=report.unchanged,
            chunks=report.chunks,
            left_out=[f"{item.path}: {item.reason}" for item in report.left_out],
            failures=failures,
        )

    async def remove_document(self, document: str) -> RemoveResult:
        path = await self._path(document)
        removed = await self._guard(self.library.remove([path]))
        self._changed()
        return RemoveResult(removed=removed)

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change()

    async def stats(self) -> LibraryStats:
        return await self._guard(self.library.stats())

    async def _path(self, document: str) -> Path:
        """The library file that ``document`` (an id or a path) names."""
        statuses = await self._guard(self.library.status())
        for status in statuses:
            if document in (str(status.path), document_id(status.path)):
                return status.path
        raise CatalogError(
            f"no document {document!r} in the library: list_documents gives ids and paths"
        )

    async def _guard(self, call: Awaitable[T]) -> T:
        try:
            return await call
        except (LibraryStorageError, LibraryBusy) as error:
            raise CatalogError(str(error)) from None


def _existing(path: str) -> Path:
    target = Path(path).expanduser()
    if not target.is_absolute():
        raise CatalogError(f"give an absolute path, not {path!r}")
    try:
        target.stat()
    except FileNotFoundError:
        raise CatalogError(f"{target} does not exist") from None
    except OSError as error:  # a name too long, a part that is a file, no permission…
        reason = error.strerror or type(error).__name__
        raise CatalogError(f"{_shortened(path)}: {reason.lower()}") from None
    return target.absolute()


def _shortened(path: str, limit: int = 120) -> str:
    return path if len(path) <= limit else f"{path[: limit - 1]}… ({len(path)} characters)"


def _info(status: FileStatus) -> DocumentInfo:
    identifier = document_id(status.path)
    return DocumentInfo(
        id=identifier,
        path=str(status.path),
        uri=DOCUMENT_URI_PREFIX + identifier,
        state=status.state.value,
        chunks=status.chunks,
        reason=status.reason,
        indexed_at=status.indexed_at,
    )


def _passage(number: int, hit: SearchHit) -> Passage:
    provenance = hit.provenance
    return Passage(
        citation=f"[{number}]",
        document_id=document_id(provenance.path),
        path=str(provenance.path),
        page=provenance.page,
        first_line=provenance.first_line,
        last_line=provenance.last_line,
        heading=provenance.heading,
        score=round(hit.score, 4),
        text=hit.text,
    )
