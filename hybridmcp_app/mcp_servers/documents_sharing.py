"""Sharing the app's library with other MCP clients while the app owns it.

An embedded library has one owner (``library_lock``). While HybridMCP is open that is the app,
so a ``documents`` server that Claude Desktop starts could not open it. Instead the app serves its
in-process documents server over Streamable HTTP on 127.0.0.1 (a free port, behind ``HttpGuard``
and always a bearer token made for this run) and writes where, with the token, in the endpoint
file (``sharing_endpoint``: 0600 in a 0700 folder); a ``documents`` server that finds the library
busy reads that file and relays each request there (``RemoteCatalog``). The file is removed when
the app stops sharing; one left by a killed app names a dead process and is ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import uvicorn
from mcp import Client
from pydantic import BaseModel

from hybridmcp_app.documents.catalog_results import AddResult, CatalogError
from hybridmcp_app.documents.library_catalog import (
    DocumentList,
    DocumentText,
    RemoveResult,
    SearchResults,
)
from hybridmcp_app.documents.library_service import LibraryStats
from hybridmcp_app.http_serving.in_loop_server import InLoopServer
from hybridmcp_app.http_serving.streamable_http import streamable_http
from hybridmcp_app.mcp_servers.server_base import MCPServerBase
from hybridmcp_app.mcp_servers.sharing_endpoint import (
    DocumentsEndpoint,
    private_folder,
    remove_endpoint,
    write_endpoint,
)
from hybridmcp_app.mcp_servers.sharing_endpoint import read_endpoint as read_endpoint

log = logging.getLogger("hybridmcp.mcp.documents")
M = TypeVar("M", bound=BaseModel)


async def share_library(server: MCPServerBase, data_dir: Path, token: str | None = None) -> None:
    """Serve ``server`` over HTTP on 127.0.0.1 and advertise it until cancelled. Without a
    ``token`` (the app's way) one is made for this run and written only into the private
    endpoint file; a given one (tests, benchmarks) is left to the relay's own sources.
    ``SharingRefused`` (before anything is served) when that file cannot be kept private."""
    await asyncio.to_thread(private_folder, data_dir)
    run_token = None if token else secrets.token_urlsafe(32)
    config = uvicorn.Config(
        server.http_app("127.0.0.1", token or run_token),
        host="127.0.0.1", port=0, log_level="warning",
    )  # fmt: skip
    http = InLoopServer(config)
    serving = asyncio.create_task(http.serve_bound(), name="documents-over-http")
    try:
        while not http.started:
            if serving.done():
                serving.result()  # its error
                raise RuntimeError("the documents endpoint stopped before it started")
            await asyncio.sleep(0.02)
        port = http.servers[0].sockets[0].getsockname()[1]
        url = f"http://127.0.0.1:{port}/mcp"
        endpoint = DocumentsEndpoint(url=url, pid=os.getpid(), token=run_token)
        await asyncio.to_thread(write_endpoint, data_dir, endpoint)
        log.info("library shared with other MCP clients at %s (token %s)", endpoint.url,
                 "in the endpoint file" if run_token else "in the keychain")  # fmt: skip
        await asyncio.shield(serving)  # cancelled: uvicorn shuts down below, closing its socket
    finally:
        remove_endpoint(data_dir)
        http.should_exit = True
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(serving), 5)


class RemoteCatalog:
    """The catalog's operations, answered by the app's documents server (one connection a
    request: the app may close between two)."""

    def __init__(self, endpoint: DocumentsEndpoint, token: str | None) -> None:
        self.endpoint = endpoint
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}

    async def _call(self, tool: str, arguments: dict[str, Any], model: type[M]) -> M:
        try:
            async with Client(streamable_http(self.endpoint.url, self._headers)) as client:
                result = await client.call_tool(tool, arguments)
        except Exception as error:  # the transport's many errors: the app went away, a bad token
            raise CatalogError(
                f"HybridMCP holds the library but its sharing endpoint did not answer "
                f"({type(error).__name__}); try again, or close HybridMCP"
            ) from None
        if result.is_error:
            text = " ".join(getattr(block, "text", "") for block in result.content)
            raise CatalogError(text.removeprefix(f"Error executing tool {tool}: "))
        return model.model_validate(result.structured_content)

    async def search(self, query: str, k: int = 8, paths: Sequence[str] = ()) -> SearchResults:
        arguments = {"query": query, "k": k, "paths": list(paths)}
        return await self._call("search", arguments, SearchResults)

    async def list_documents(
        self, state: str | None = None, contains: str = "", limit: int = 100
    ) -> DocumentList:
        arguments: dict[str, Any] = {"contains": contains, "limit": limit}
        if state is not None:
            arguments["state"] = state
        return await self._call("list_documents", arguments, DocumentList)

    async def get_document(self, document: str) -> DocumentText:
        return await self._call("get_document", {"document": document}, DocumentText)

    async def add_path(self, path: str) -> AddResult:
        return await self._call("add_path", {"path": path}, AddResult)

    async def remove_document(self, document: str) -> RemoveResult:
        return await self._call("remove_document", {"document": document}, RemoveResult)

    async def stats(self) -> LibraryStats:
        return await self._call("library_stats", {}, LibraryStats)
