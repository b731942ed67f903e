"""``ToolAccess``: the MCP tools a turn may call and who approves each call, from the settings
(``mcp.approval``) and ``mcp.json``'s per-tool switches, the same for every front end.

A front end brings only its way to ask the user (the window's dialog); one that cannot ask
(a script, the local API) gets tools that run without approval and a clear refusal for the
rest. "Allow always" is written into ``mcp.json`` off the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from hybridmcp_app.config.settings import Settings
from hybridmcp_app.core.background_tasks import BackgroundTasks
from hybridmcp_app.orchestration.approval_policy import ApprovalPolicy, AskApproval

if TYPE_CHECKING:  # the MCP SDK and the tool loop are imported after start-up
    from hybridmcp_app.mcp_host.mcp_host_service import McpHost
    from hybridmcp_app.orchestration.run_context import ToolUse
    from hybridmcp_app.services.tool_selection import ToolSelector


class ToolAccess:
    """Builds each turn's ``ToolUse`` over the MCP host, once it exists."""

    def __init__(
        self,
        host: Callable[[], McpHost | None],
        settings: Callable[[], Settings],
        tasks: BackgroundTasks,
        *,
        selector: Callable[[], ToolSelector] | None = None,
    ) -> None:
        """``selector``: the local side's tool selection (``mcp.choose_tools``); None: every
        provider request carries every enabled tool."""
        self._host, self._settings, self._tasks = host, settings, tasks
        self._selector = selector
        self._listeners: list[Callable[[], None]] = []

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """``listener`` hears that an "allow always" reached ``mcp.json``; call the returned
        function to stop."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def for_turn(self, ask: AskApproval | None, forced_tool: str | None = None) -> ToolUse | None:
        """The tools of the running servers (None before the host exists); ``forced_tool``
        (``server__tool``) is one the user picked for this turn."""
        from hybridmcp_app.mcp_host.mcp_items import split_qualified_name
        from hybridmcp_app.orchestration.run_context import ToolUse

        host = self._host()
        if host is None:
            return None
        settings = self._settings()
        source, allow_all = host.source, settings.mcp.approval == "allow_all"

        def auto_approved(server: str, tool: str, read_only: bool) -> bool:
            return allow_all or source.tool_auto_approved(server, tool, read_only)

        def remember(server: str, tool: str) -> None:
            known = host.registry.tool(f"{server}__{tool}")
            read_only = known is not None and known.read_only

            async def save() -> None:
                await asyncio.to_thread(source.set_tool_auto_approve, server, tool, True, read_only)
                for listener in list(self._listeners):
                    listener()

            self._tasks.spawn(save(), name="mcp-remember-approval")

        if forced_tool is not None:
            split_qualified_name(forced_tool)  # a picker entry is always namespaced
        provider = settings.providers.choose()
        mcp = settings.mcp
        chooser = (
            self._selector().chooser(
                mcp.chosen_tools,
                mcp.pinned_tools,
                mcp.choose_tools_above,
                check=mcp.tool_check_by_local_model,
            )
            if self._selector is not None and mcp.choose_tools
            else None
        )
        return ToolUse(
            host.registry,
            ApprovalPolicy(auto_approved, ask, remember=remember),
            force_tool=forced_tool,
            tool_turns_as_text=provider is not None and provider.tool_results_as_text,
            chooser=chooser,
        )
