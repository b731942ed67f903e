"""Our MCP servers answer an unknown prompt and bad prompt arguments with JSON-RPC
``INVALID_PARAMS`` (-32602) and a short reason, not code 0 (issue #19, hole 8): through the SDK's
client, in memory and over stdio from a real subprocess."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters
from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS

from hybridmcp_app.documents.app_library_source import AppLibrarySource
from hybridmcp_app.mcp_servers.documents import DocumentsServer
from hybridmcp_app.mcp_servers.server_base import MCPServerBase
from tests.helpers.waiting import PATIENCE_S

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
# (prompt, arguments, the reason given)
BAD_REQUESTS: list[tuple[str, dict[str, str], str]] = [
    ("no_such_prompt", {}, "no prompt 'no_such_prompt'"),
    ("answer_with_citations", {}, "prompt 'answer_with_citations' needs question"),
    ("answer_with_citations", {"question": "Why?", "colour": "red"},
     "prompt 'answer_with_citations' has no argument colour"),
]  # fmt: skip


async def refusals(client: Client) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for name, arguments, _reason in BAD_REQUESTS:
        with pytest.raises(MCPError) as refused:
            await client.get_prompt(name, arguments)
        found.append((refused.value.code, refused.value.message))
    good = await client.get_prompt("answer_with_citations", {"question": "Why?"})
    assert "Question: Why?" in str(good.messages[0].content)
    return found


EXPECTED = [(INVALID_PARAMS, reason) for _name, _arguments, reason in BAD_REQUESTS]


async def test_in_memory_bad_prompt_requests_are_invalid_params() -> None:
    server = DocumentsServer(AppLibrarySource()).build()
    async with asyncio.timeout(PATIENCE_S), Client(server) as client:
        assert await refusals(client) == EXPECTED


async def test_over_stdio_bad_prompt_requests_are_invalid_params() -> None:
    env: dict[str, Any] = dict(os.environ)
    module = "hybridmcp_app.mcp_servers.documents"
    parameters = StdioServerParameters(command=sys.executable, args=["-m", module], cwd=REPO,
                                       env=env)  # fmt: skip
    async with asyncio.timeout(PATIENCE_S), Client(parameters) as client:
        assert await refusals(client) == EXPECTED


class CountingServer(MCPServerBase):
    """Any server on the base: a prompt whose argument must be a number."""

    name = "counting"

    def build(self) -> MCPServer:
        server = MCPServer(self.name)

        @server.prompt()
        def count_to(n: int) -> str:
            """Count to n."""
            return " ".join(str(i) for i in range(1, n + 1))

        return server


async def test_an_argument_the_prompt_function_refuses_is_invalid_params() -> None:
    async with asyncio.timeout(PATIENCE_S), Client(CountingServer().build()) as client:
        with pytest.raises(MCPError) as refused:
            await client.get_prompt("count_to", {"n": "many"})
        counted = await client.get_prompt("count_to", {"n": "3"})

    assert refused.value.code == INVALID_PARAMS
    assert refused.value.message.startswith("bad arguments for prompt 'count_to': n: ")
    assert "1 2 3" in str(counted.messages[0].content)
