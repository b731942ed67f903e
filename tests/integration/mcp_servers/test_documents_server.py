"""The documents MCP server over a real library (Chroma, the ONNX embedder, real files): in
memory with the SDK, as a stdio subprocess (opening the library of ``$HYBRIDMCP_HOME``, or
saying which process holds it), over Streamable HTTP, and through the MCP Inspector's CLI."""

from __future__ import annotations

import asyncio
import os
import sys
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import mcp.types as types
import pytest
from mcp import Client, StdioServerParameters

from hybridmcp_app.config.paths import HOME_ENV_VAR, AppPaths
from hybridmcp_app.config.settings import DocumentsSettings
from hybridmcp_app.documents.library_catalog import LibraryCatalog, document_id
from hybridmcp_app.documents.library_service import LibraryService
from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder
from hybridmcp_app.mcp_servers.documents import DocumentsServer
from hybridmcp_app.mcp_servers.server_base import TOKEN_ENV
from tests.helpers.chroma_corpus import FACT, FACT_QUESTION, write_corpus
from tests.helpers.documents_corpus import write_garbage
from tests.helpers.llama_server import free_port
from tests.helpers.mcp_http import http_server
from tests.helpers.mcp_inspector import InspectorCli
from tests.helpers.mcp_results import assert_refused, structured_of, text_of
from tests.helpers.waiting import PATIENCE_S

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
MODULE = "hybridmcp_app.mcp_servers.documents"
TOOLS = {  # name: (readOnlyHint, destructiveHint, idempotentHint)
    "search": (True, False, True),
    "list_documents": (True, False, True),
    "get_document": (True, False, True),
    "add_path": (False, False, True),
    "remove_document": (False, True, True),
    "library_stats": (True, False, True),
}


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    write_corpus(folder, files=4)
    write_garbage(folder / "broken.pdf")
    return folder


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


async def add_and_find_the_fact(client: Client, corpus: Path) -> dict[str, Any]:
    """add_path then search: the passage holding the fact comes first, ready to cite."""
    added = structured_of(await client.call_tool("add_path", {"path": str(corpus)}))
    assert (added["indexed"], added["failed"]) == (5, 1)
    assert any("broken.pdf" in failure for failure in added["failures"])
    found = structured_of(await client.call_tool("search", {"query": FACT_QUESTION, "k": 3}))
    best: dict[str, Any] = found["passages"][0]
    assert FACT in best["text"]
    assert (best["citation"], Path(best["path"]).name) == ("[1]", "keeper.txt")
    assert best["first_line"] == 1 and best["score"] > 0.4
    return best


# ---------------------------------------------------------------- in memory


@pytest.fixture
def in_memory(library: LibraryService) -> DocumentsServer:
    catalog = LibraryCatalog(library)

    async def source() -> LibraryCatalog:
        return catalog

    return DocumentsServer(source)


async def test_in_memory_tools_resources_and_the_prompt_are_listed(
    in_memory: DocumentsServer,
) -> None:
    async with Client(in_memory.build()) as client:
        tools = (await client.list_tools()).tools
        templates = (await client.list_resource_templates()).resource_templates
        prompts = (await client.list_prompts()).prompts

    hints = {
        tool.name: (a.read_only_hint, a.destructive_hint, a.idempotent_hint)
        for tool in tools
        if (a := tool.annotations) is not None
    }
    assert hints == TOOLS
    assert all(tool.output_schema for tool in tools)
    assert [template.uri_template for template in templates] == [
        "library://documents/{document_id}"
    ]
    assert [prompt.name for prompt in prompts] == ["answer_with_citations"]


async def test_in_memory_add_search_read_and_remove_a_document(
    in_memory: DocumentsServer, corpus: Path
) -> None:
    keeper = corpus / "keeper.txt"
    async with Client(in_memory.build()) as client:
        best = await add_and_find_the_fact(client, corpus)
        assert best["document_id"] == document_id(keeper)
        listed = structured_of(await client.call_tool("list_documents", {"state": "failed"}))
        read = structured_of(await client.call_tool("get_document", {"document": best["path"]}))
        resource = await client.read_resource(f"library://documents/{best['document_id']}")
        stats = structured_of(await client.call_tool("library_stats", {}))
        removed = structured_of(
            await client.call_tool("remove_document", {"document": best["document_id"]})
        )
        after = structured_of(await client.call_tool("search", {"query": FACT_QUESTION, "k": 50}))
        prompt = await client.get_prompt("answer_with_citations", {"question": FACT_QUESTION})

    assert [Path(doc["path"]).name for doc in listed["documents"]] == ["broken.pdf"]
    assert listed["documents"][0]["reason"]
    assert FACT in read["pages"][0]["text"] and read["kind"] == "text"
    contents = resource.contents[0]
    assert isinstance(contents, types.TextResourceContents) and FACT in contents.text
    assert (stats["files"], stats["indexed"], stats["failed"]) == (6, 5, 1)
    assert removed == {"removed": 1}
    assert all(FACT not in passage["text"] for passage in after["passages"])
    assert keeper.exists()  # out of the library, not off the disk
    message = prompt.messages[0].content
    assert isinstance(message, types.TextContent)
    assert "search" in message.text and FACT_QUESTION in message.text


@pytest.mark.parametrize(
    ("tool", "arguments", "fragment"),
    [
        ("add_path", {"path": "relative/folder"}, "give an absolute path"),
        ("add_path", {"path": "/no/such/folder"}, "/no/such/folder does not exist"),
        ("add_path", {"path": "/tmp/" + "n" * 300}, "file name too long"),
        ("add_path", {"path": "/etc/hostname/inside"}, "not a directory"),
        ("get_document", {"document": "doc-000000000000"}, "no document 'doc-000000000000'"),
        ("remove_document", {"document": "/etc/passwd"}, "no document '/etc/passwd'"),
        ("search", {"query": ""}, "at least 1 character"),
        ("search", {"query": "x", "k": 0}, "greater than or equal to 1"),
        ("search", {"query": "x", "paths": ["doc-ffffffffffff"]}, "no document"),
        ("list_documents", {"state": "lost"}, "'queued'"),
        ("search", {"query": "x" * 2001}, "at most 2000 characters"),
    ],
)
async def test_in_memory_bad_requests_are_tool_errors_with_a_reason(
    in_memory: DocumentsServer, tool: str, arguments: dict[str, Any], fragment: str
) -> None:
    async with Client(in_memory.build()) as client:
        assert_refused(await client.call_tool(tool, arguments), fragment)


async def test_in_memory_a_document_gone_from_disk_says_so(
    in_memory: DocumentsServer, corpus: Path
) -> None:
    async with Client(in_memory.build()) as client:
        await client.call_tool("add_path", {"path": str(corpus)})
        (corpus / "keeper.txt").unlink()
        result = await client.call_tool("get_document", {"document": str(corpus / "keeper.txt")})
    assert_refused(result, "cannot be read now")


# ---------------------------------------------------------------- stdio subprocess


def parameters(home: Path) -> StdioServerParameters:
    env = {**os.environ, HOME_ENV_VAR: str(home)}
    return StdioServerParameters(command=sys.executable, args=["-m", MODULE], cwd=REPO, env=env)


async def test_as_a_subprocess_over_stdio_on_the_apps_library(
    home: Path, corpus: Path, embedder: OnnxEmbedder
) -> None:
    async with asyncio.timeout(PATIENCE_S), Client(parameters(home)) as client:
        assert {tool.name for tool in (await client.list_tools()).tools} == set(TOOLS)
        await add_and_find_the_fact(client, corpus)
    # The library it wrote is the app's: the app (here, its service) finds the fact.
    paths = AppPaths.under(home)
    library = await LibraryService.open(DocumentsSettings(), paths.data_dir, embedder)
    try:
        assert FACT in (await library.search(FACT_QUESTION, k=1))[0].text
    finally:
        await library.close()


async def test_while_another_process_holds_the_library_requests_say_who_and_then_work(
    home: Path, corpus: Path, embedder: OnnxEmbedder
) -> None:
    paths = AppPaths.under(home).ensure()
    holder = await LibraryService.open(DocumentsSettings(), paths.data_dir, embedder)
    async with asyncio.timeout(PATIENCE_S), Client(parameters(home)) as client:
        try:
            busy = await client.call_tool("library_stats", {})
        finally:
            await holder.close()
        freed = await client.call_tool("library_stats", {})
    assert_refused(busy, "the library is open in ")
    assert f"(process {os.getpid()}, since" in text_of(busy)  # named: this process holds it
    assert structured_of(freed)["files"] == 0


# ---------------------------------------------------------------- Streamable HTTP


def documents_http(home: Path) -> AbstractContextManager[str]:
    env = {key: value for key, value in os.environ.items() if key != TOKEN_ENV}
    return http_server([MODULE], free_port(), env | {HOME_ENV_VAR: str(home)}, REPO)


async def test_over_http_on_localhost(home: Path, corpus: Path) -> None:
    with documents_http(home) as url:
        async with asyncio.timeout(PATIENCE_S), Client(url) as client:
            await add_and_find_the_fact(client, corpus)
            assert_refused(
                await client.call_tool("add_path", {"path": "notes"}), "give an absolute path"
            )


# ---------------------------------------------------------------- the MCP Inspector


def test_the_inspector_lists_the_tools_and_searches(
    inspector_script: Path, home: Path, corpus: Path
) -> None:
    env = {**os.environ, HOME_ENV_VAR: str(home)}
    inspector = InspectorCli(inspector_script, [sys.executable, "-m", MODULE], cwd=REPO, env=env)

    tools = inspector.list_tools()
    added = inspector.call_tool("add_path", path=str(corpus))
    found = inspector.call_tool("search", query=FACT_QUESTION, k="1")

    assert {
        tool["name"]: tuple(
            tool["annotations"][key]
            for key in ("readOnlyHint", "destructiveHint", "idempotentHint")
        )
        for tool in tools
    } == TOOLS
    assert added["structuredContent"]["indexed"] == 5
    assert FACT in found["structuredContent"]["passages"][0]["text"]
