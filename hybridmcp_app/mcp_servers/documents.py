"""The ``documents`` MCP server: HybridMCP's document library for any MCP client.

    python -m hybridmcp_app.mcp_servers.documents [--http [--host 127.0.0.1] [--port N]]

A thin layer over ``LibraryCatalog``: search by meaning with citations, list documents, read
one, add a file or folder (indexed offline, as in the app), remove one, and the library's
numbers; each document's text is also a resource (``library://documents/{id}``, its id completed
from the library's ids and paths; subscribers hear when this server re-indexes or removes it), and
the prompt ``answer_with_citations`` asks a model to answer from the library and cite it. The
library is the app's (its data folder, ``$HYBRIDMCP_HOME`` included, and its settings). It is
opened at the first request, so the server starts at once. While HybridMCP is open it owns the
library, and requests are relayed to the app (``documents_sharing``); while another process holds
it without sharing (``hybridmcp library watch``), requests get a tool error naming that process,
and the next request tries again.

No ``from __future__ import annotations`` here: the SDK reads the tools' signatures with
``eval_str`` (as in ``workspace``).
"""

import asyncio
import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path, PurePath
from typing import Annotated, Literal, Protocol, TypeVar

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from mcp.shared.exceptions import MCPError
from mcp.types import INTERNAL_ERROR
from pydantic import Field

from hybridmcp_app.config.settings import DocumentsSettings
from hybridmcp_app.documents.catalog_results import AddResult, CatalogError
from hybridmcp_app.documents.library_catalog import (
    DOCUMENT_URI_PREFIX,
    DocumentList,
    DocumentText,
    LibraryCatalog,
    RemoveResult,
    SearchResults,
    document_id,
)
from hybridmcp_app.documents.library_service import LibraryStats
from hybridmcp_app.mcp_servers.server_base import (
    READS,
    TOKEN_ENV,
    MCPServerBase,
    answer_or_refuse,
    tool_hints,
)
from hybridmcp_app.mcp_servers.server_protocol import Reference

T = TypeVar("T")
MAX_LISTED = 1000  # the most documents one list_documents gives

# indexes more files; adding the same path again changes nothing
ADDS = tool_hints(read_only=False, destructive=False, idempotent=True)
# takes a document and its chunks out of the library (not the file)
REMOVES = tool_hints(read_only=False, destructive=True, idempotent=True)

DocumentRef = Annotated[
    str,
    Field(
        min_length=1,
        max_length=4096,
        description="A document id (doc-…) or absolute path, from list_documents or search.",
    ),
]
State = Literal["queued", "parsing", "embedding", "indexed", "failed", "skipped"]
CITATION_PROMPT = """Answer the question below from the document library, with citations.

1. Call the `search` tool of the documents server with the question (or a few shorter queries
   for its parts); read the passages it returns.
2. Answer only from those passages. After each claim put the citation of the passage it comes
   from, like [1], and end with a "Sources" list: [n] file name, page (or lines).
3. If the passages do not answer the question, say so plainly; do not guess.

Question: {question}"""


class Catalog(Protocol):
    """What the tools use: ``LibraryCatalog`` here, or ``RemoteCatalog`` relaying to the app."""

    async def search(self, query: str, k: int = 8, paths: Sequence[str] = ()) -> SearchResults: ...
    async def list_documents(
        self, state: str | None = None, contains: str = "", limit: int = 100
    ) -> DocumentList: ...
    async def get_document(self, document: str) -> DocumentText: ...
    async def add_path(self, path: str) -> AddResult: ...
    async def remove_document(self, document: str) -> RemoveResult: ...
    async def stats(self) -> LibraryStats: ...


class CatalogSource(Protocol):
    """Gives the catalog, opening the library the first time (``CatalogError`` if it cannot)."""

    async def __call__(self) -> Catalog: ...


async def _answer(source: CatalogSource, call: Callable[[Catalog], Awaitable[T]]) -> T:
    """The catalog's answer (the library opened first), or its refusal as a tool error."""

    async def asked() -> T:
        return await call(await source())

    return await answer_or_refuse(asked(), CatalogError)


async def _holds(source: CatalogSource, document: str) -> bool:
    """Whether the library may hold ``document`` (an id): true unless its listing, complete and
    readable, lacks it."""
    try:
        listed = await (await source()).list_documents(None, "", MAX_LISTED)
    except CatalogError:
        return True
    found = any(info.id == document for info in listed.documents)
    return found or listed.total > len(listed.documents)


class DocumentsServer(MCPServerBase):
    """``LibraryCatalog``'s operations as MCP tools, a resource per document and a prompt."""

    name = "documents"

    def __init__(self, source: CatalogSource) -> None:
        self.source = source

    def build(self) -> MCPServer:
        server = MCPServer(
            self.name,
            instructions="HybridMCP's document library (indexed offline). `search` finds "
            "passages by meaning, with their file and page for citations; `get_document` reads "
            "a whole document. Adding and removing documents change the user's library.",
        )
        source = self.source

        @server.tool(annotations=READS)
        async def search(
            query: Annotated[str, Field(min_length=1, max_length=2000)],
            k: Annotated[int, Field(ge=1, le=50, description="Passages to return.")] = 8,
            paths: Annotated[
                list[DocumentRef],
                Field(max_length=50, description="Only these documents (ids or paths)."),
            ] = [],  # noqa: B006 (the SDK copies defaults; a tuple would change the schema)
        ) -> SearchResults:
            """Find the passages of the library closest in meaning to the query, best first,
            each with its citation number, file, page or lines, and similarity."""
            return await _answer(source, lambda catalog: catalog.search(query, k, paths))

        @server.tool(annotations=READS)
        async def list_documents(
            state: State | None = None,
            contains: Annotated[
                str, Field(max_length=500, description="Only paths containing this text.")
            ] = "",
            limit: Annotated[int, Field(ge=1, le=MAX_LISTED)] = 100,
        ) -> DocumentList:
            """The library's documents with their id, state, chunks and (failed or skipped)
            reason, in path order."""
            return await _answer(source, lambda c: c.list_documents(state, contains, limit))

        @server.tool(annotations=READS)
        async def get_document(document: DocumentRef) -> DocumentText:
            """A document's text, page by page, as its file reads now."""
            return await _answer(source, lambda catalog: catalog.get_document(document))

        @server.tool(annotations=ADDS)
        async def add_path(
            path: Annotated[
                str, Field(min_length=1, max_length=4096, description="An absolute path.")
            ],
            ctx: Context,
        ) -> AddResult:
            """Add a file or a folder (walked, .gitignore-aware) to the library and index it
            offline; returns what was indexed and why anything was not."""
            added = await _answer(source, lambda catalog: catalog.add_path(path))
            if added.indexed or added.failed:  # texts that may read differently now
                under = str(PurePath(path))
                listed = await _answer(source, lambda c: c.list_documents(None, under, MAX_LISTED))
                for info in listed.documents:
                    await ctx.notify_resource_updated(info.uri)
            return added

        @server.tool(annotations=REMOVES)
        async def remove_document(document: DocumentRef, ctx: Context) -> RemoveResult:
            """Take a document out of the library (the file itself stays on disk)."""
            removed = await _answer(source, lambda catalog: catalog.remove_document(document))
            if removed.removed:
                await ctx.notify_resource_updated(document_uri(document))
            return removed

        @server.tool(annotations=READS)
        async def library_stats() -> LibraryStats:
            """Files by state, chunks, and where the library is stored."""
            return await _answer(source, lambda catalog: catalog.stats())

        @server.resource(
            DOCUMENT_URI_PREFIX + "{document_id}",
            name="document",
            description="A library document's text (ids from list_documents).",
            mime_type="text/plain",
        )
        async def document_text(document_id: str) -> str:
            """An id the library does not hold is not found (the protocol's error); a library
            that cannot answer is a resource error saying why."""
            try:
                catalog = await source()
                text = await catalog.get_document(document_id)
            except CatalogError as error:
                if not await _holds(source, document_id):
                    missing = f"no document {document_id!r} in the library"
                    raise ResourceNotFoundError(missing) from None
                raise ResourceError(str(error)) from None
            return "\n\n".join(
                (f"[page {page.number}]\n" if page.number is not None else "") + page.text
                for page in text.pages
            )

        @server.prompt(name="answer_with_citations")
        def answer_with_citations(
            question: Annotated[str, Field(description="What to answer from the library.")],
        ) -> str:
            """Answer a question from the library, citing file and page."""
            return CITATION_PROMPT.format(question=question)

        return server

    async def complete(
        self, ref: Reference, argument: str, value: str, given: Mapping[str, str]
    ) -> Sequence[str]:
        """A document's id: the ids starting with ``value``, then those whose path contains it
        (a question, the prompt's argument, has nothing to complete)."""
        if argument != "document_id":
            return ()
        try:
            catalog = await self.source()
            listed = await catalog.list_documents(None, "", MAX_LISTED)
        except CatalogError as error:
            raise MCPError(INTERNAL_ERROR, str(error)) from None
        by_id = [info.id for info in listed.documents if info.id.startswith(value)]
        typed = value.lower()
        by_path = [
            info.id
            for info in listed.documents
            if typed in info.path.lower() and info.id not in by_id
        ]
        return by_id + by_path


def document_uri(document: str) -> str:
    """The resource of a document named by its id or its path."""
    named = document if document.startswith("doc-") else document_id(document)
    return DOCUMENT_URI_PREFIX + named


class LibraryOpener:
    """Opens the app's library at the first request (and again after a failure); while
    HybridMCP owns it, relays to the app's shared endpoint (``documents_sharing``). The library
    stays open for the process's life (the OS releases its lock when the process ends)."""

    def __init__(self) -> None:
        self._catalog: LibraryCatalog | None = None
        self._lock = asyncio.Lock()

    async def __call__(self) -> Catalog:
        async with self._lock:
            if self._catalog is None:
                from hybridmcp_app.documents.library_lock import LibraryBusy

                data_dir, settings = await asyncio.to_thread(app_data_and_settings)
                try:
                    self._catalog = await _open_catalog(data_dir, settings)
                except LibraryBusy as busy:
                    return await _relay(busy, data_dir)
            return self._catalog


def app_data_and_settings() -> tuple[Path, DocumentsSettings]:
    """The data folder of ``$HYBRIDMCP_HOME`` (or the user's) and the app's library settings
    (blocking: files are read)."""
    from hybridmcp_app.config.paths import AppPaths
    from hybridmcp_app.config.settings_store import SettingsStore

    paths = AppPaths.from_environment().ensure()
    settings, _report = SettingsStore(paths).load()
    return paths.data_dir, settings.documents


async def _open_catalog(data_dir: Path, settings: DocumentsSettings) -> LibraryCatalog:
    from hybridmcp_app.core.errors import HybridMCPError
    from hybridmcp_app.documents.library_lock import LibraryBusy
    from hybridmcp_app.documents.library_service import LibraryService
    from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder

    try:
        library = await LibraryService.open(settings, data_dir, OnnxEmbedder())
    except LibraryBusy:
        raise
    except HybridMCPError as error:
        raise CatalogError(f"the library cannot be opened: {error}") from None
    return LibraryCatalog(library)


async def _relay(busy: Exception, data_dir: Path) -> Catalog:
    """The app's shared library, or why it cannot be reached."""
    from hybridmcp_app.config.server_token import keychain_server_token
    from hybridmcp_app.mcp_servers.documents_sharing import RemoteCatalog
    from hybridmcp_app.mcp_servers.sharing_endpoint import read_endpoint

    endpoint = await asyncio.to_thread(read_endpoint, data_dir)
    if endpoint is None:
        raise CatalogError(f"the library cannot be opened: {busy}")
    # The token the app made for its run (no keychain there), else the keychain's.
    token = endpoint.token or os.environ.get(TOKEN_ENV)
    return RemoteCatalog(endpoint, token or await asyncio.to_thread(keychain_server_token))


def main(argv: Sequence[str] | None = None) -> None:
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)  # a relayed request is not news
    DocumentsServer(LibraryOpener()).main(argv)


if __name__ == "__main__":
    main()
