"""The project's own servers in the host, out of the box: a new mcp.json lists documents (on)
and workspace (off); the app serves documents in its own process over its open library (the
library has one owner), its reads run without asking and its writes wait for approval."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hybridmcp_app.config.mcp_config import StdioServerConfig
from hybridmcp_app.config.mcp_json_file import McpJsonFile
from hybridmcp_app.config.settings import DocumentsSettings
from hybridmcp_app.documents.app_library_source import AppLibrarySource
from hybridmcp_app.documents.library_service import LibraryService
from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder
from hybridmcp_app.mcp_host.builtin_servers import (
    DOCUMENTS_MODULE,
    builtin_entries,
    builtin_module,
    claude_desktop_snippet,
)
from hybridmcp_app.mcp_host.mcp_host_service import McpHost
from hybridmcp_app.mcp_host.server_status import ServerState
from hybridmcp_app.mcp_servers.documents import DocumentsServer
from hybridmcp_app.orchestration.approval_policy import ApprovalDecision, ApprovalPolicy
from tests.helpers.chroma_corpus import FACT, FACT_QUESTION, write_corpus
from tests.helpers.waiting import PATIENCE_S, wait_until
from tests.integration.mcp_host.conftest import FAST

pytestmark = pytest.mark.integration


@pytest.fixture
async def library(tmp_path: Path) -> AsyncIterator[LibraryService]:
    opened = await LibraryService.open(DocumentsSettings(), tmp_path / "data", OnnxEmbedder())
    try:
        yield opened
    finally:
        await opened.close()


def test_a_new_mcp_json_starts_with_documents_on_and_workspace_off(tmp_path: Path) -> None:
    source = McpJsonFile(tmp_path / "mcp.json", builtin_entries("/opt/python"))

    servers = source.read().servers

    assert set(servers) == {"documents", "workspace", "docstore", "storage", "turtle_soup"}
    assert all(servers[name].disabled for name in ("docstore", "storage", "turtle_soup"))
    documents, workspace = servers["documents"], servers["workspace"]
    assert isinstance(documents, StdioServerConfig) and not documents.disabled
    assert documents.command == "/opt/python"
    assert list(documents.args) == ["-m", "hybridmcp_app.mcp_servers.documents"]
    assert workspace.disabled
    assert builtin_module(workspace) == "hybridmcp_app.mcp_servers.workspace"
    snippet = json.loads(claude_desktop_snippet("documents", documents))
    assert snippet == {
        "mcpServers": {
            "documents": {
                "command": "/opt/python",
                "args": ["-m", "hybridmcp_app.mcp_servers.documents"],
            }
        }
    }


def test_a_file_the_user_wrote_keeps_exactly_its_servers(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    path.write_text(json.dumps({"mcpServers": {}}))
    assert McpJsonFile(path, builtin_entries()).read().servers == {}


async def test_the_app_serves_documents_in_process_reads_run_and_writes_wait_for_approval(
    tmp_path: Path, library: LibraryService
) -> None:
    corpus = write_corpus(tmp_path / "corpus", files=3)[0].parent
    changes: list[str] = []
    source = AppLibrarySource(on_change=lambda: changes.append("changed"))
    config = McpJsonFile(tmp_path / "mcp.json", builtin_entries(sys.executable))
    host = McpHost(
        config,
        tmp_path / "logs",
        policy=FAST,
        in_process={DOCUMENTS_MODULE: DocumentsServer(source).build},
    )
    try:
        await host.start()
        source.opened(library, None)  # the library opens while the host starts
        await wait_until(lambda: host.ready_count() == 1)
        assert host.supervisors["workspace"].status.state is ServerState.STOPPED
        assert host.supervisors["docstore"].status.state is ServerState.STOPPED
        tools = {tool.name: tool for tool in host.registry.tools() if tool.server == "documents"}
        policy = ApprovalPolicy(config.tool_auto_approved)  # no way to ask: writes are denied
        assert (await policy.decide(tools["search"], {})).approval == "auto"
        denied = await policy.decide(tools["add_path"], {"path": str(corpus)})
        assert denied.approval == "denied"
        assert (await library.stats()).files == 0  # nothing was added without approval

        async def allow(_request: object) -> ApprovalDecision:
            return ApprovalDecision.ALLOW_ONCE

        asked = ApprovalPolicy(config.tool_auto_approved, allow)
        assert (await asked.decide(tools["add_path"], {"path": str(corpus)})).approved
        added = await host.registry.call("documents__add_path", {"path": str(corpus)})
        assert not added.is_error, added.text
        found = await host.registry.call("documents__search", {"query": FACT_QUESTION, "k": 1})
        assert FACT in found.text
        assert (await library.stats()).indexed == 4  # the app's own library, not a copy
        assert changes == ["changed"]  # the Library tab is told (it redraws)
    finally:
        assert await host.shutdown() == []


async def test_requests_before_the_library_opens_wait_and_a_failure_is_explained() -> None:
    source = AppLibrarySource(wait_s=PATIENCE_S)
    waiting = asyncio.create_task(source())
    await asyncio.sleep(0)  # one turn: the request runs up to its wait for the library
    assert not waiting.done()
    source.opened(None, "the disk is full")
    from hybridmcp_app.documents.catalog_results import CatalogError

    with pytest.raises(CatalogError, match="could not open: the disk is full"):
        await waiting
    late = AppLibrarySource(wait_s=0.1)
    with pytest.raises(CatalogError, match="still opening"):
        await late()
