"""``hybridmcp mcp``'s pure parts: its parser, its answers to a server's questions, the
approval it gives with nobody to ask, and the conformance client's plan of calls."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import Any, get_args

import mcp.types as types
import pytest

from hybridmcp_app.cli import main as cli_main
from hybridmcp_app.cli.mcp import McpUsageError, cli_approval, describe_target, tool_arguments
from hybridmcp_app.cli.mcp_conformance import planned_calls, sample_arguments
from hybridmcp_app.config.mcp_config import RemoteServerConfig, StdioServerConfig
from hybridmcp_app.mcp_host.mcp_items import McpTool
from hybridmcp_app.orchestration.approval_policy import ApprovalDecision, ToolApprovalRequest
from hybridmcp_app.services.elicitation import ElicitationService
from hybridmcp_app.services.mcp_requests import UnattendedAnswer, unattended_asker

FORM = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "default": "John Doe"},
        "age": {"type": "integer", "default": 30},
        "note": {"type": "string"},
    },
    "required": ["name"],
}


def test_the_parser_offers_the_same_elicitation_answers_as_the_services() -> None:
    assert get_args(UnattendedAnswer) == cli_main.ELICITATION_ANSWERS


def test_call_takes_its_arguments_with_json_and_repeatable_yes() -> None:
    args = cli_main.build_parser().parse_args(
        ["mcp", "call", "fs", "write", "--json", '{"a": 1}', "--yes", "write", "--yes", "fs__rm"]
    )
    assert (args.server, args.tool, args.json_arguments) == ("fs", "write", '{"a": 1}')
    assert args.yes == ["write", "fs__rm"] and args.elicitation == "decline"


def test_the_conformance_client_is_not_listed_in_the_help() -> None:
    mcp_help = subprocess.run(
        [sys.executable, "-m", "hybridmcp_app", "mcp", "--help"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    assert "conformance-client" not in mcp_help
    assert "call" in mcp_help


def test_tool_arguments_must_be_a_json_object() -> None:
    assert tool_arguments(None) == {}
    assert tool_arguments('{"x": [1]}') == {"x": [1]}
    with pytest.raises(McpUsageError, match="must be a JSON object, not list"):
        tool_arguments("[1, 2]")
    with pytest.raises(McpUsageError, match="not valid JSON"):
        tool_arguments("{a: 1}")


def test_a_listed_server_shows_its_command_or_its_url() -> None:
    stdio = StdioServerConfig(command="uvx", args=("mcp-server-git", "--repo", "."))
    remote = RemoteServerConfig.model_validate({"url": "https://example.test/mcp"})
    assert describe_target(stdio) == ("stdio", "uvx mcp-server-git --repo .")
    assert describe_target(remote) == ("streamable-http", "https://example.test/mcp")


def _request(tool: str) -> ToolApprovalRequest:
    return ToolApprovalRequest(
        call_id="1", server="fs", tool=tool, qualified_name=f"fs__{tool}", arguments={}
    )


def test_only_a_tool_named_by_yes_is_allowed_and_only_once() -> None:
    allowed = ("write", "fs__move")
    assert asyncio.run(cli_approval(allowed, _request("write"))) is ApprovalDecision.ALLOW_ONCE
    assert asyncio.run(cli_approval(allowed, _request("move"))) is ApprovalDecision.ALLOW_ONCE
    assert asyncio.run(cli_approval(allowed, _request("delete"))) is ApprovalDecision.DENY
    assert asyncio.run(cli_approval((), _request("write"))) is ApprovalDecision.DENY


def _answer(how: UnattendedAnswer, params: types.ElicitRequestParams) -> types.ElicitResult:
    result = asyncio.run(ElicitationService(unattended_asker(how)).elicit("srv", params))
    assert isinstance(result, types.ElicitResult), result
    return result


def test_a_question_is_declined_unless_defaults_are_asked_for() -> None:
    form = types.ElicitRequestFormParams(message="Who?", requested_schema=FORM)
    assert _answer("decline", form).action == "decline"
    accepted = _answer("defaults", form)
    assert (accepted.action, accepted.content) == ("accept", {"name": "John Doe", "age": 30})


def test_defaults_that_leave_a_required_field_empty_decline_the_form() -> None:
    unanswerable = types.ElicitRequestFormParams(
        message="Who?", requested_schema={**FORM, "required": ["note"]}
    )
    assert _answer("defaults", unanswerable).action == "decline"


def test_a_url_mode_question_is_always_declined() -> None:
    url = types.ElicitRequestURLParams(
        message="Sign in", url="https://example.test/login", elicitation_id="e1"
    )
    assert _answer("defaults", url).action == "decline"


def test_sample_arguments_fill_each_required_field_by_default_enum_or_type() -> None:
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "number"}, "b": {"type": "integer", "default": 7},
            "mode": {"type": "string", "enum": ["fast", "slow"]}, "flag": {"type": "boolean"},
            "optional": {"type": "string"},
        },
        "required": ["a", "b", "mode", "flag"],
    }  # fmt: skip
    assert sample_arguments(schema) == {"a": 1, "b": 7, "mode": "fast", "flag": True}


def _tool(name: str, schema: dict[str, Any]) -> McpTool:
    return McpTool(server="s", name=name, input_schema=schema)


def test_the_suites_own_tool_calls_come_first_then_one_call_per_listed_tool() -> None:
    tools = [_tool("add", {"type": "object", "properties": {"a": {"type": "number"}},
                           "required": ["a"]})]  # fmt: skip
    context = {"toolCalls": [{"name": "x", "arguments": {"q": 1}}, {"name": "y"}]}
    assert planned_calls(tools, context) == [("x", {"q": 1}), ("y", {})]
    assert planned_calls(tools, {}) == [("add", {"a": 1})]


def test_the_schema_echo_tool_gets_the_other_tools_schema_as_parsed() -> None:
    rich = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
            "$defs": {"id": {"type": "string"}}}  # fmt: skip
    echo = {"type": "object", "properties": {"schema": {"type": "object"}}, "required": ["schema"]}
    calls = planned_calls(
        [_tool("json_schema_2020_12_tool", rich), _tool("json_schema_echo", echo)], {}
    )
    assert ("json_schema_echo", {"schema": rich}) in calls
