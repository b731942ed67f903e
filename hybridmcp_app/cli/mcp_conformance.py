"""``hybridmcp mcp conformance-client URL``: the client the official MCP conformance suite drives
(``scripts/conformance.py clients``). Not for people: it reads the scenario from the suite's
environment variables and does what the scenario's server waits for, through the app's own
``MCPClient`` (``mode="auto"``: ``server/discover``, else the ``initialize`` handshake).

For every scenario it lists what the server offers, then calls the tools the suite names in
``MCP_CONFORMANCE_CONTEXT`` (``toolCalls``), or else every tool listed, with arguments made from
each tool's input schema; it reads the first resource and gets the first prompt. A server's
questions get the command line's answer (``--elicitation``). Exit 0 when all of it worked.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hybridmcp_app.mcp_host.mcp_client import MCPClient
    from hybridmcp_app.mcp_host.mcp_items import McpTool
    from hybridmcp_app.services.mcp_requests import UnattendedAnswer

SCENARIO_ENV = "MCP_CONFORMANCE_SCENARIO"
CONTEXT_ENV = "MCP_CONFORMANCE_CONTEXT"
REQUEST_TIMEOUT_S = 20.0  # the suite kills the client after 30 s
# json-schema-2020-12-preservation: give the echo tool the schema as this client parsed it.
ECHO_TOOL, ECHOED_TOOL = "json_schema_echo", "json_schema_2020_12_tool"
SAMPLES: dict[str, Any] = {"string": "x", "integer": 1, "number": 1, "boolean": True,
                           "array": [], "object": {}}  # fmt: skip


def sample_arguments(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Arguments for a tool from its input schema: each required property's default, else a
    value of its type."""
    properties = schema.get("properties")
    fields: Mapping[str, Any] = properties if isinstance(properties, Mapping) else {}
    arguments: dict[str, Any] = {}
    for name in schema.get("required") or ():
        field = fields.get(name)
        field = field if isinstance(field, Mapping) else {}
        if "default" in field:
            arguments[name] = field["default"]
        elif isinstance(field.get("enum"), list) and field["enum"]:
            arguments[name] = field["enum"][0]
        else:
            kind = field.get("type")
            arguments[name] = SAMPLES.get(kind if isinstance(kind, str) else "string", "x")
    return arguments


def planned_calls(
    tools: list[McpTool], context: Mapping[str, Any]
) -> list[tuple[str, dict[str, Any]]]:
    """The tool calls for one scenario: the suite's own list, else one call per tool."""
    named = context.get("toolCalls")
    if isinstance(named, list):
        return [(str(call["name"]), dict(call.get("arguments") or {})) for call in named]
    by_name = {tool.name: tool for tool in tools}
    calls = []
    for tool in tools:
        if tool.name == ECHO_TOOL and ECHOED_TOOL in by_name:
            calls.append((tool.name, {"schema": by_name[ECHOED_TOOL].input_schema}))
        else:
            calls.append((tool.name, sample_arguments(tool.input_schema)))
    return calls


async def exercise(client: MCPClient, context: Mapping[str, Any]) -> list[str]:
    """List and use what the server offers; returns the failures, one line each."""
    capabilities = client.capabilities
    failures: list[str] = []
    tools = await client.list_tools() if capabilities is None or capabilities.tools else []
    for name, arguments in planned_calls(tools, context):
        outcome = await client.call_tool(name, arguments)
        if outcome.is_error:
            failures.append(f"{name}: {outcome.text}")
    if capabilities is not None and capabilities.resources:
        resources = await client.list_resources()
        if resources:
            await client.read_resource(resources[0].uri)
    if capabilities is not None and capabilities.prompts:
        prompts = await client.list_prompts()
        if prompts:
            first = prompts[0]
            await client.get_prompt(first.name, {argument: "x" for argument in first.arguments})
    return failures


async def run_conformance_client(url: str, elicitation: UnattendedAnswer) -> int:
    from hybridmcp_app.config.mcp_config import RemoteServerConfig
    from hybridmcp_app.mcp_host.host_requests import HostRequests
    from hybridmcp_app.mcp_host.mcp_client import MCPClient
    from hybridmcp_app.services.elicitation import ElicitationService
    from hybridmcp_app.services.mcp_requests import unattended_asker

    context = json.loads(os.environ.get(CONTEXT_ENV) or "{}")
    scenario = os.environ.get(SCENARIO_ENV, "?")

    elicit = ElicitationService(unattended_asker(elicitation)).elicit
    client = MCPClient(
        "conformance", RemoteServerConfig.model_validate({"url": url}),
        request_timeout_s=REQUEST_TIMEOUT_S, requests=HostRequests(elicit=elicit),
    )  # fmt: skip
    await client.connect()
    try:
        print(f"{scenario}: protocol {client.protocol_version}", file=sys.stderr)
        failures = await exercise(client, context)
    finally:
        await client.cleanup()
    for failure in failures:
        print(f"hybridmcp mcp conformance-client: {failure}", file=sys.stderr)
    return 1 if failures else 0


def main_conformance_client(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(run_conformance_client(args.url, args.elicitation))
    except Exception as error:  # one line for the suite's log, whatever broke
        cause: BaseException = error
        while isinstance(cause, BaseExceptionGroup) and cause.exceptions:
            cause = cause.exceptions[0]
        print(f"hybridmcp mcp conformance-client: {cause!r}"[:500], file=sys.stderr)
        return 1
