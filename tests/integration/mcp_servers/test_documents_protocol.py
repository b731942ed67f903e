"""The documents server's protocol beyond its tools, over a real library (Chroma, the ONNX
embedder, real files), in memory with the SDK at both revisions: a document's id completed from
the library, subscribers told when a document is re-indexed or removed, and an unknown document
not found."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPDeprecationWarning, MCPError
from mcp.shared.subscriptions import ResourceUpdated
from mcp.types import (
    INVALID_PARAMS,
    PromptReference,
    ResourceTemplateReference,
    ResourceUpdatedNotification,
)

from hybridmcp_app.documents.library_catalog import LibraryCatalog, document_id
from hybridmcp_app.documents.library_service import LibraryService
from hybridmcp_app.mcp_servers.documents import DocumentsServer
from hybridmcp_app.mcp_servers.server_protocol import RESOURCE_NOT_FOUND
from tests.helpers.chroma_corpus import write_corpus
from tests.helpers.waiting import PATIENCE_S, wait_until

pytestmark = pytest.mark.integration

MODERN = "2026-07-28"
FILES = 3  # notes, and keeper.txt
TEMPLATE = ResourceTemplateReference(type="ref/resource", uri="library://documents/{document_id}")


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    write_corpus(folder, files=FILES)
    return folder


@pytest.fixture
def server(library: LibraryService) -> DocumentsServer:
    catalog = LibraryCatalog(library)

    async def source() -> LibraryCatalog:
        return catalog

    return DocumentsServer(source)


def uri(path: Path) -> str:
    return f"library://documents/{document_id(path)}"


@pytest.mark.parametrize("mode", ["legacy", MODERN])
async def test_a_document_id_is_completed_from_the_librarys_ids_and_paths(
    server: DocumentsServer, corpus: Path, mode: str
) -> None:
    keeper = document_id(corpus / "keeper.txt")
    names = ["keeper.txt", *(f"note-{number:03}.md" for number in range(FILES))]
    ids = sorted(document_id(corpus / name) for name in names)
    async with Client(server.build(), mode=mode) as client:
        await client.call_tool("add_path", {"path": str(corpus)})
        everything = await client.complete(TEMPLATE, {"name": "document_id", "value": ""})
        by_id = await client.complete(TEMPLATE, {"name": "document_id", "value": keeper[:8]})
        by_path = await client.complete(TEMPLATE, {"name": "document_id", "value": "KEEPER"})
        question = await client.complete(
            PromptReference(type="ref/prompt", name="answer_with_citations"),
            {"name": "question", "value": "what"},
        )
    assert sorted(everything.completion.values) == ids
    assert everything.completion.total == FILES + 1
    assert keeper in by_id.completion.values
    assert all(value.startswith(keeper[:8]) for value in by_id.completion.values)
    assert by_path.completion.values == [keeper]
    assert question.completion.values == []  # a question has nothing to complete


async def test_completing_an_argument_the_template_lacks_is_invalid_params(
    server: DocumentsServer,
) -> None:
    async with Client(server.build(), mode="legacy") as client:
        with pytest.raises(MCPError, match="has no argument 'path'") as refused:
            await client.complete(TEMPLATE, {"name": "path", "value": ""})
    assert refused.value.code == INVALID_PARAMS


async def test_2025_a_subscriber_hears_when_its_document_is_reindexed_and_removed(
    server: DocumentsServer, corpus: Path
) -> None:
    keeper, other = corpus / "keeper.txt", corpus / "note-000.md"
    heard: list[str] = []

    async def updates(message: Any) -> None:
        root = getattr(message, "root", message)
        if isinstance(root, ResourceUpdatedNotification):
            heard.append(root.params.uri)

    async with Client(server.build(), mode="legacy", message_handler=updates) as client:
        await client.call_tool("add_path", {"path": str(corpus)})
        with pytest.warns(MCPDeprecationWarning):
            await client.subscribe_resource(uri(keeper))
        keeper.write_text("Rewritten: the lighthouse keeper moved away.\n", encoding="utf-8")
        await client.call_tool("add_path", {"path": str(keeper)})
        await wait_until(lambda: len(heard) == 1)
        await client.call_tool("remove_document", {"document": str(other)})  # not subscribed
        await client.call_tool("remove_document", {"document": document_id(keeper)})
        await wait_until(lambda: len(heard) == 2)
    assert heard == [uri(keeper), uri(keeper)]


async def test_2026_a_listen_stream_hears_when_its_document_is_removed(
    server: DocumentsServer, corpus: Path
) -> None:
    keeper = corpus / "keeper.txt"
    async with Client(server.build(), mode=MODERN) as client:
        await client.call_tool("add_path", {"path": str(corpus)})
        async with client.listen(resource_subscriptions=[uri(keeper)]) as subscription:
            await client.call_tool("remove_document", {"document": str(corpus / "note-001.md")})
            await client.call_tool("remove_document", {"document": str(keeper)})
            with anyio.fail_after(PATIENCE_S):
                event = await anext(aiter(subscription))
    assert event == ResourceUpdated(uri=uri(keeper))


@pytest.mark.parametrize(
    ("mode", "code"), [("legacy", RESOURCE_NOT_FOUND), (MODERN, INVALID_PARAMS)]
)
async def test_a_document_the_library_lacks_is_a_resource_not_found(
    server: DocumentsServer, mode: str, code: int
) -> None:
    missing = "library://documents/doc-000000000000"
    async with Client(server.build(), mode=mode) as client:
        with pytest.raises(MCPError, match="no document 'doc-000000000000'") as refused:
            await client.read_resource(missing)
    assert (refused.value.code, refused.value.data) == (code, {"uri": missing})
