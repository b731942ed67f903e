"""``MCPClient`` (``Client(mode="auto")``) with both eras of servers: a 2026-07-28 server
(stateless, ``server/discover``) over Streamable HTTP and over stdio, and npm's reference server,
which knows only the 2025 ``initialize`` handshake and its session."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from hybridmcp_app.config.mcp_config import RemoteServerConfig, StdioServerConfig
from hybridmcp_app.mcp_host.mcp_client import MCPClient, ServerConfig
from hybridmcp_app.mcp_servers.server_base import TOKEN_ENV
from tests.helpers.llama_server import free_port
from tests.helpers.processes import stop, wait_for_port
from tests.helpers.waiting import PATIENCE_S
from tests.integration.mcp_host.conftest import mcp_test_server


@asynccontextmanager
async def connected(config: ServerConfig) -> AsyncIterator[MCPClient]:
    client = MCPClient("era", config, request_timeout_s=PATIENCE_S)
    await client.connect()
    try:
        yield client
    finally:
        await client.cleanup()


async def test_a_2026_server_over_http_is_used_stateless_after_server_discover(
    http_test_server: str,
) -> None:
    async with connected(RemoteServerConfig.model_validate({"url": http_test_server})) as client:
        assert (client.protocol_version, client.stateless) == ("2026-07-28", True)
        assert "add" in {tool.name for tool in await client.list_tools()}
        assert (await client.call_tool("add", {"a": 20, "b": 22})).text == "42"
        assert await client.read_resource("test://greeting") == "hello from the test server"
        await client.ping(timeout_s=PATIENCE_S)  # server/discover: a 2026 server has no ping


async def test_a_2026_server_over_stdio_is_used_stateless_too() -> None:
    async with connected(mcp_test_server()) as client:
        assert (client.protocol_version, client.stateless) == ("2026-07-28", True)
        assert (await client.call_tool("echo", {"text": "hi"})).text == "hi"
        await client.ping(timeout_s=PATIENCE_S)


async def test_a_2025_only_server_gets_the_initialize_handshake_and_a_session(
    everything_server: Path,
) -> None:
    async with connected(StdioServerConfig(command=str(everything_server))) as client:
        assert (client.protocol_version, client.stateless) == ("2025-11-25", False)
        assert len(await client.list_tools()) == 13
        echoed = await client.call_tool("echo", {"message": "hi"})
        assert (echoed.text, echoed.is_error) == ("Echo: hi", False)
        await client.ping(timeout_s=PATIENCE_S)


@pytest.fixture
def workspace_over_http(tmp_path: Path) -> Iterator[str]:
    """Our workspace server over Streamable HTTP on 127.0.0.1 (a scratch root); yields its URL."""
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if k != TOKEN_ENV}  # no bearer token asked
    root = tmp_path / "root"
    root.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-m", "hybridmcp_app.mcp_servers.workspace", "--root", str(root),
         "--http", "--port", str(port)],
        env={**environ, "HYBRIDMCP_HOME": str(tmp_path / "home")},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for_port(process, port, "the workspace server", PATIENCE_S)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        stop(process)


async def test_one_of_our_own_servers_over_http_is_used_stateless(workspace_over_http: str) -> None:
    config = RemoteServerConfig.model_validate({"url": workspace_over_http})
    async with connected(config) as client:
        assert (client.protocol_version, client.stateless) == ("2026-07-28", True)
        assert "read_file" in {tool.name for tool in await client.list_tools()}
