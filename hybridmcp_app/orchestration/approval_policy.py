"""``ApprovalPolicy``: whether one tool call runs at once or the user is asked first.

The switches are separate, as users ask for them: a server on/off and a tool on/off decide which
tools the model sees at all (the ``ToolCaller``); this decides, for a tool the model called,
auto-approve or ask. The setting comes from the config layer as a callable; tools the server
annotates ``readOnlyHint`` may default to auto (``auto_approve_read_only``). "Allow always" in
the dialog holds for the rest of this policy's life and is reported through ``remember`` so the
caller can persist it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any

from hybridmcp_app.core.frozen_model import FrozenModel
from hybridmcp_app.mcp_host.mcp_items import McpTool
from hybridmcp_app.orchestration.tool_events import Approval

log = logging.getLogger("hybridmcp.orchestration.approval")


class ApprovalDecision(StrEnum):
    """The user's answer in the approval dialog."""

    ALLOW_ONCE = "allow_once"
    ALLOW_ALWAYS = "allow_always"
    DENY = "deny"


class ToolApprovalRequest(FrozenModel):
    """What the dialog shows: the server, the tool, and the full arguments."""

    call_id: str
    server: str
    tool: str
    qualified_name: str
    title: str | None = None
    description: str = ""
    arguments: dict[str, Any]
    read_only: bool = False
    destructive: bool = True

    @property
    def arguments_text(self) -> str:
        """Every argument, indented, nothing shortened."""
        return json.dumps(self.arguments, indent=2, ensure_ascii=False)


class ApprovalVerdict(FrozenModel):
    """The policy's answer for one call; ``message`` tells the model why it did not run."""

    approval: Approval
    message: str = ""

    @property
    def approved(self) -> bool:
        return self.approval in ("auto", "allowed_once", "allowed_always")


AutoApproved = Callable[[str, str, bool], bool]  # (server, tool, read_only) -> run without asking
AskApproval = Callable[[ToolApprovalRequest], Awaitable[ApprovalDecision]]
RememberApproval = Callable[[str, str], None]  # (server, tool): the user chose "allow always"


def auto_approve_read_only(_server: str, _tool: str, read_only: bool) -> bool:
    """The default setting: tools their server marks read-only run, others ask."""
    return read_only


def never_auto_approve(_server: str, _tool: str, _read_only: bool) -> bool:
    return False


class ApprovalPolicy:
    """Decides per call; asks through ``ask`` (one dialog at a time), denies when it cannot ask."""

    def __init__(
        self,
        auto_approved: AutoApproved = auto_approve_read_only,
        ask: AskApproval | None = None,
        *,
        remember: RememberApproval | None = None,
    ) -> None:
        self._auto_approved = auto_approved
        self._ask = ask
        self._remember = remember
        self._always: set[str] = set()
        self._dialog = asyncio.Lock()

    def always_allowed(self, tool: McpTool) -> bool:
        """Whether the user chose "allow always" for this tool during this policy's life."""
        return tool.qualified_name in self._always

    async def decide(
        self, tool: McpTool, arguments: dict[str, Any], call_id: str = ""
    ) -> ApprovalVerdict:
        if self._auto_approved(tool.server, tool.name, tool.read_only):
            return ApprovalVerdict(approval="auto")
        if self.always_allowed(tool):
            return ApprovalVerdict(approval="allowed_always")
        if self._ask is None:
            return ApprovalVerdict(
                approval="denied",
                message=(
                    f"{tool.qualified_name} needs the user's approval, and there is no way to ask "
                    "the user here, so it was not run. Answer without it."
                ),
            )
        request = ToolApprovalRequest(
            call_id=call_id,
            server=tool.server,
            tool=tool.name,
            qualified_name=tool.qualified_name,
            title=tool.title,
            description=tool.description,
            arguments=arguments,
            read_only=tool.read_only,
            destructive=tool.destructive,
        )
        async with self._dialog:
            if self.always_allowed(tool):  # answered in the dialog just before this one
                return ApprovalVerdict(approval="allowed_always")
            try:
                decision = ApprovalDecision(await self._ask(request))
            except (asyncio.CancelledError, KeyboardInterrupt):
                raise
            except Exception as error:
                log.exception("the approval prompt failed for %s", tool.qualified_name)
                return ApprovalVerdict(
                    approval="denied",
                    message=f"{tool.qualified_name} was not run: asking the user failed ({error}).",
                )
        if decision is ApprovalDecision.DENY:
            return ApprovalVerdict(
                approval="denied",
                message=(
                    f"The user declined to run {tool.qualified_name}. Do not call it again; "
                    "answer without it or say what you would need."
                ),
            )
        if decision is ApprovalDecision.ALLOW_ALWAYS:
            self._always.add(tool.qualified_name)
            if self._remember is not None:
                try:
                    self._remember(tool.server, tool.name)
                except Exception:
                    log.exception("could not remember the approval of %s", tool.qualified_name)
            return ApprovalVerdict(approval="allowed_always")
        return ApprovalVerdict(approval="allowed_once")
