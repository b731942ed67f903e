"""ApprovalPolicy on its own: settings, the dialog's three answers, and no dialog at all."""

from __future__ import annotations

import asyncio

from hybridmcp_app.mcp_host.mcp_items import McpTool
from hybridmcp_app.orchestration.approval_policy import (
    ApprovalDecision,
    ApprovalPolicy,
    ToolApprovalRequest,
    never_auto_approve,
)

READER = McpTool(server="files", name="read", read_only=True, destructive=False)
WRITER = McpTool(server="files", name="write", description="Write a file.")
LONG_TEXT = "x" * 20_000


class ScriptedUser:
    """Answers the approval dialog with the given decisions, in order; records what it saw."""

    def __init__(self, *decisions: ApprovalDecision) -> None:
        self.decisions = list(decisions)
        self.seen: list[ToolApprovalRequest] = []

    async def __call__(self, request: ToolApprovalRequest) -> ApprovalDecision:
        self.seen.append(request)
        await asyncio.sleep(0.01)  # a dialog takes a while
        return self.decisions.pop(0)


async def test_read_only_tools_run_without_asking_by_default() -> None:
    user = ScriptedUser()
    verdict = await ApprovalPolicy(ask=user).decide(READER, {"path": "a.txt"})
    assert verdict.approval == "auto" and verdict.approved
    assert user.seen == []


async def test_the_settings_decide_with_server_tool_and_read_only_hint() -> None:
    asked: list[tuple[str, str, bool]] = []

    def writes_allowed(server: str, tool: str, read_only: bool) -> bool:
        asked.append((server, tool, read_only))
        return tool == "write"

    policy = ApprovalPolicy(writes_allowed)
    assert (await policy.decide(WRITER, {})).approved
    assert not (await policy.decide(READER, {})).approved
    assert asked == [("files", "write", False), ("files", "read", True)]


async def test_without_a_dialog_a_call_that_needs_approval_is_denied_and_says_why() -> None:
    verdict = await ApprovalPolicy().decide(WRITER, {"path": "a.txt"})
    assert verdict.approval == "denied"
    assert "files__write needs the user's approval" in verdict.message
    assert "no way to ask" in verdict.message


async def test_the_dialog_sees_server_tool_and_the_full_arguments() -> None:
    user = ScriptedUser(ApprovalDecision.ALLOW_ONCE)
    arguments = {"path": "a.txt", "text": LONG_TEXT, "nested": {"mode": "append"}}
    verdict = await ApprovalPolicy(ask=user).decide(WRITER, arguments, call_id="call_1")
    assert verdict.approval == "allowed_once"
    (request,) = user.seen
    assert (request.server, request.tool, request.qualified_name) == (
        "files",
        "write",
        "files__write",
    )
    assert request.call_id == "call_1" and request.description == "Write a file."
    assert request.arguments == arguments
    assert LONG_TEXT in request.arguments_text and '"mode": "append"' in request.arguments_text
    assert request.destructive and not request.read_only


async def test_allow_once_asks_again_next_time() -> None:
    user = ScriptedUser(ApprovalDecision.ALLOW_ONCE, ApprovalDecision.DENY)
    policy = ApprovalPolicy(never_auto_approve, user)
    assert (await policy.decide(WRITER, {})).approval == "allowed_once"
    assert (await policy.decide(WRITER, {})).approval == "denied"
    assert len(user.seen) == 2


async def test_allow_always_is_asked_once_and_reported_for_saving() -> None:
    saved: list[tuple[str, str]] = []
    user = ScriptedUser(ApprovalDecision.ALLOW_ALWAYS)
    policy = ApprovalPolicy(never_auto_approve, user, remember=lambda s, t: saved.append((s, t)))
    assert (await policy.decide(WRITER, {"n": 1})).approval == "allowed_always"
    assert (await policy.decide(WRITER, {"n": 2})).approval == "allowed_always"
    assert policy.always_allowed(WRITER) and not policy.always_allowed(READER)
    assert saved == [("files", "write")]
    assert len(user.seen) == 1


async def test_a_denied_call_tells_the_model_that_the_user_declined() -> None:
    verdict = await ApprovalPolicy(ask=ScriptedUser(ApprovalDecision.DENY)).decide(WRITER, {})
    assert not verdict.approved
    assert verdict.message.startswith("The user declined to run files__write")


async def test_a_dialog_that_fails_counts_as_denied() -> None:
    async def broken(_request: ToolApprovalRequest) -> ApprovalDecision:
        raise RuntimeError("window closed")

    verdict = await ApprovalPolicy(ask=broken).decide(WRITER, {})
    assert verdict.approval == "denied" and "window closed" in verdict.message


async def test_dialogs_come_one_at_a_time_and_always_covers_the_waiting_call() -> None:
    user = ScriptedUser(ApprovalDecision.ALLOW_ALWAYS)
    policy = ApprovalPolicy(ask=user)
    first, second = await asyncio.gather(policy.decide(WRITER, {}), policy.decide(WRITER, {}))
    assert first.approval == second.approval == "allowed_always"
    assert len(user.seen) == 1
