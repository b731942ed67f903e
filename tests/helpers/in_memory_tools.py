"""A real MCP server (built with the SDK) reached in memory through the SDK's ``Client``, behind a
small ``ToolCaller`` adapter: what the tool loop sees of the MCP host, without subprocesses."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations
from pydantic import Field

from hybridmcp_app.mcp_host.mcp_client import outcome_of, tool_of
from hybridmcp_app.mcp_host.mcp_items import McpTool, ToolCallOutcome, split_qualified_name


def calc_server() -> MCPServer:
    """Tools: ``add``, ``repeat`` and ``currency`` (read-only; ``currency``'s pattern is one
    llama.cpp cannot turn into a grammar), ``write_note`` (writes), ``fail`` (raises)."""
    server = MCPServer("calc")
    notes: list[str] = []

    @server.tool(annotations=ToolAnnotations(read_only_hint=True))
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @server.tool(annotations=ToolAnnotations(read_only_hint=True))
    def repeat(text: str, times: int) -> str:
        """The text repeated a number of times."""
        return text * times

    @server.tool(annotations=ToolAnnotations(read_only_hint=True))
    def currency(code: Annotated[str, Field(pattern="[A-Z]{3}")]) -> str:
        """The name of a currency, by its three-letter code."""
        return {"EUR": "euro", "USD": "US dollar"}.get(code, "unknown")

    @server.tool(annotations=ToolAnnotations(destructive_hint=False))
    def write_note(text: str) -> str:
        """Keep a note."""
        notes.append(text)
        return f"noted ({len(notes)} notes)"

    @server.tool()
    def fail() -> str:
        """Always fails."""
        raise RuntimeError("the disk is on fire")

    return server


class SdkToolCaller:
    """``ToolCaller`` over one connected SDK client; records each call it passes on."""

    def __init__(
        self, name: str, client: Client, tools: list[McpTool], enabled: Callable[[str], bool]
    ) -> None:
        self.name = name
        self._client = client
        self._tools = tools
        self._enabled = enabled
        self.calls: list[tuple[str, dict[str, Any]]] = []

    @classmethod
    @asynccontextmanager
    async def connect(
        cls,
        server: MCPServer,
        name: str = "calc",
        enabled: Callable[[str], bool] = lambda _tool: True,
    ) -> AsyncIterator[SdkToolCaller]:
        async with Client(server) as client:
            listed = await client.list_tools()
            yield cls(name, client, [tool_of(name, tool) for tool in listed.tools], enabled)

    def tools(self) -> list[McpTool]:
        return [tool for tool in self._tools if self._enabled(tool.name)]

    async def call(self, qualified: str, arguments: dict[str, Any]) -> ToolCallOutcome:
        server, tool = split_qualified_name(qualified)
        assert server == self.name
        self.calls.append((tool, arguments))
        return outcome_of(await self._client.call_tool(tool, arguments))
