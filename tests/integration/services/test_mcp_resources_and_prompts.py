"""Attachments and /commands against npm's reference MCP server (a real subprocess): its
resources and templates listed, a template's argument completed, text read, binary refused,
and its prompts filled in as turns."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hybridmcp_app.config.mcp_config import StdioServerConfig
from hybridmcp_app.core.errors import HybridMCPError
from hybridmcp_app.mcp_host.mcp_registry import McpRegistry
from hybridmcp_app.mcp_host.server_status import ServerState
from hybridmcp_app.mcp_host.server_supervisor import ServerSupervisor
from hybridmcp_app.services.mcp_attachments import McpAttachments
from hybridmcp_app.services.mcp_prompts import McpPrompts
from tests.helpers.npm_packages import npm_binary
from tests.helpers.waiting import wait_until
from tests.integration.mcp_host.conftest import EVERYTHING_VERSION, FAST

TEXT_TEMPLATE = "demo://resource/dynamic/text/{resourceId}"


@pytest.fixture
async def registry(tmp_path: Path) -> AsyncIterator[McpRegistry]:
    """The reference server, ready, in a registry."""
    binary = npm_binary(
        "@modelcontextprotocol/server-everything", EVERYTHING_VERSION, "mcp-server-everything"
    )
    config = StdioServerConfig(command=str(binary))
    supervisor = ServerSupervisor("ev", lambda: config, tmp_path / "ev.log", FAST)
    registry = McpRegistry()
    registry.attach(supervisor)
    supervisor.start()
    try:
        await wait_until(lambda: supervisor.status.state is ServerState.READY)
        yield registry
    finally:
        await supervisor.stop()


async def test_a_listed_text_resource_is_read_into_an_attachment(registry: McpRegistry) -> None:
    attachments = McpAttachments(registry)
    resource = next(r for r in attachments.resources() if r.name == "architecture.md")

    attached = await attachments.read(resource.server, resource.uri, resource.name)

    assert attached.text.startswith("# Everything Server")
    assert (attached.server, attached.label) == ("ev", "ev: architecture.md")


async def test_a_template_is_listed_completed_and_read_with_the_completed_value(
    registry: McpRegistry,
) -> None:
    attachments = McpAttachments(registry)
    template = next(t for t in await attachments.templates() if t.uri_template == TEXT_TEMPLATE)

    suggested = await attachments.complete(template, "resourceId", "1", {})
    attached = await attachments.read_template(template, {"resourceId": suggested[0]})

    assert suggested == ["1"]
    assert attached.uri == "demo://resource/dynamic/text/1"
    assert attached.title == "Dynamic Text Resource (1)"
    assert "1" in attached.text


async def test_a_blob_resource_is_refused_with_a_one_line_reason(registry: McpRegistry) -> None:
    attachments = McpAttachments(registry)
    template = next(t for t in await attachments.templates() if "blob" in t.uri_template)

    with pytest.raises(HybridMCPError) as refused:
        await attachments.read_template(template, {"resourceId": "2"})

    assert "is binary" in str(refused.value) and "\n" not in str(refused.value)


async def test_prompts_are_offered_as_commands_with_their_arguments(registry: McpRegistry) -> None:
    prompts = McpPrompts(registry)

    listed = prompts.matching("/ev:args")

    assert [p.name for p in listed] == ["args-prompt"]
    assert [(a.name, a.required) for a in listed[0].parameters] == [
        ("city", True),
        ("state", False),
    ]


async def test_a_prompt_argument_is_completed_by_the_server(registry: McpRegistry) -> None:
    prompts = McpPrompts(registry)
    (team,) = prompts.matching("/ev:completable")

    assert await prompts.complete(team, "department", "", {}) == [
        "Engineering", "Sales", "Marketing", "Support",
    ]  # fmt: skip


async def test_a_filled_in_prompt_becomes_the_turns_question(registry: McpRegistry) -> None:
    prompts = McpPrompts(registry)
    (weather,) = prompts.matching("/ev:args-prompt")

    turn = await prompts.turn(weather, {"city": "Paris", "state": ""})

    assert (turn.history, turn.prompt) == ((), "What's weather in Paris?")


async def test_a_prompt_with_an_embedded_resource_includes_its_text(registry: McpRegistry) -> None:
    prompts = McpPrompts(registry)
    (embedding,) = prompts.matching("/ev:resource-prompt")

    turn = await prompts.turn(embedding, {"resourceType": "Text", "resourceId": "3"})

    assert "[resource demo://resource/dynamic/text/3]" in (
        "\n".join(m.content for m in turn.history) + turn.prompt
    )


async def test_a_missing_required_argument_and_a_server_refusal_are_one_line_errors(
    registry: McpRegistry,
) -> None:
    prompts = McpPrompts(registry)
    (embedding,) = prompts.matching("/ev:resource-prompt")

    with pytest.raises(HybridMCPError, match="needs resourceId"):
        await prompts.turn(embedding, {"resourceType": "Text"})
    with pytest.raises(HybridMCPError) as refused:
        await prompts.turn(embedding, {"resourceType": "Nope", "resourceId": "1"})
    assert str(refused.value).startswith("/ev:resource-prompt: ")
    assert "Invalid resourceType" in str(refused.value) and "\n" not in str(refused.value)
