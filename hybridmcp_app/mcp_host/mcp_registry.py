"""``McpRegistry``: the tools, resources and prompts of every ready server, namespaced
``server__name``, kept current as servers start, stop and announce ``list_changed``.

Listeners hear of changes once per event-loop turn (``ChangeNotice``): attaching a thousand
servers, or a thousand status changes at once, costs them one walk over the servers."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from hybridmcp_app.mcp_host.change_notice import ChangeNotice
from hybridmcp_app.mcp_host.mcp_client import MCPClient
from hybridmcp_app.mcp_host.mcp_items import (
    McpPrompt,
    McpResource,
    McpTool,
    ToolCallOutcome,
    split_qualified_name,
)
from hybridmcp_app.mcp_host.server_status import ServerState, ServerStatus
from hybridmcp_app.mcp_host.server_supervisor import ServerSupervisor

log = logging.getLogger("hybridmcp.mcp.registry")
ToolSwitch = Callable[[str, str], bool]  # (server, tool) → enabled


class McpRegistry:
    """Implements ``ToolCaller`` for the tool loop; the UI lists everything through it."""

    def __init__(self, tool_enabled: ToolSwitch = lambda _server, _tool: True) -> None:
        self._supervisors: dict[str, ServerSupervisor] = {}
        self._tool_enabled = tool_enabled
        self._notice = ChangeNotice(log)

    def set_tool_switch(self, tool_enabled: ToolSwitch) -> None:
        self._tool_enabled = tool_enabled
        self._changed()

    def attach(self, supervisor: ServerSupervisor) -> None:
        self._supervisors[supervisor.name] = supervisor
        supervisor.subscribe(self._status_changed)
        self._changed()

    def detach(self, name: str) -> None:
        if self._supervisors.pop(name, None) is not None:
            self._changed()

    def subscribe(self, listener: Callable[[], None]) -> None:
        """``listener`` runs whenever what the registry offers may have changed (once per
        event-loop turn, however many changes came in it)."""
        self._notice.subscribe(listener)

    def _status_changed(self, _status: ServerStatus) -> None:
        self._changed()

    def _changed(self) -> None:
        self._notice.changed()

    def _ready(self) -> list[ServerStatus]:
        return [
            supervisor.status
            for supervisor in self._supervisors.values()
            if supervisor.status.state is ServerState.READY
        ]

    # ------------------------------------------------------------------ listing
    def all_tools(self) -> list[McpTool]:
        """Every tool of every ready server, switched on or not."""
        return [tool for status in self._ready() for tool in status.tools]

    def tools(self) -> list[McpTool]:
        return [tool for tool in self.all_tools() if self._tool_enabled(tool.server, tool.name)]

    def tool(self, qualified: str) -> McpTool | None:
        return next((tool for tool in self.tools() if tool.qualified_name == qualified), None)

    def resources(self) -> list[McpResource]:
        return [resource for status in self._ready() for resource in status.resources]

    def prompts(self) -> list[McpPrompt]:
        return [prompt for status in self._ready() for prompt in status.prompts]

    # ------------------------------------------------------------------ using
    async def call(self, qualified: str, arguments: dict[str, Any]) -> ToolCallOutcome:
        try:
            server, name = split_qualified_name(qualified)
        except ValueError as error:
            return ToolCallOutcome(text=str(error), is_error=True)
        supervisor = self._supervisors.get(server)
        if supervisor is None:
            return ToolCallOutcome(text=f"no MCP server named {server!r}", is_error=True)
        offered = any(tool.name == name for tool in supervisor.status.tools)
        if not offered or not self._tool_enabled(server, name):
            return ToolCallOutcome(
                text=f"tool {name!r} of {server!r} is not available (off, or server not ready)",
                is_error=True,
            )
        return await supervisor.call_tool(name, arguments)

    async def read_resource(self, server: str, uri: str) -> str:
        client = self._client(server)
        return await client.read_resource(uri)

    async def get_prompt(self, qualified: str, arguments: dict[str, str]) -> str:
        server, name = split_qualified_name(qualified)
        return await self._client(server).get_prompt(name, arguments)

    def ready_servers(self) -> list[str]:
        return [status.name for status in self._ready()]

    def client(self, server: str) -> MCPClient:
        """The connection to a ready server (templates, completion, prompts' messages);
        LookupError when it is not ready."""
        return self._client(server)

    def _client(self, server: str) -> MCPClient:
        supervisor = self._supervisors.get(server)
        client = supervisor.client if supervisor is not None else None
        if client is None:
            raise LookupError(f"MCP server {server!r} is not ready")
        return client
