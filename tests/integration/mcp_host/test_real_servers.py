"""The host with servers it did not write: npm's reference server, and Streamable HTTP."""

from __future__ import annotations

from pathlib import Path

from hybridmcp_app.config.mcp_config import RemoteServerConfig, StdioServerConfig
from hybridmcp_app.mcp_host.login_path import login_shell_path, resolve_command
from hybridmcp_app.mcp_host.mcp_registry import McpRegistry
from hybridmcp_app.mcp_host.server_status import ServerState
from tests.helpers.waiting import wait_until
from tests.integration.mcp_host.conftest import SupervisorFactory, mcp_test_server


async def test_the_reference_server_offers_13_tools_7_resources_4_prompts_through_the_registry(
    supervise: SupervisorFactory, everything_server: Path
) -> None:
    registry = McpRegistry()
    supervisor = supervise("everything", StdioServerConfig(command=str(everything_server)))
    registry.attach(supervisor)
    supervisor.start()
    await wait_until(lambda: supervisor.status.state is ServerState.READY)
    assert (len(registry.tools()), len(registry.resources()), len(registry.prompts())) == (13, 7, 4)
    assert "everything__get-sum" in {tool.qualified_name for tool in registry.tools()}
    outcome = await registry.call("everything__echo", {"message": "hi"})
    assert (outcome.text, outcome.is_error) == ("Echo: hi", False)
    total = await registry.call("everything__get-sum", {"a": 2, "b": 3})
    assert "5" in total.text and not total.is_error


async def test_a_tool_switched_off_is_neither_listed_nor_callable(
    supervise: SupervisorFactory,
) -> None:
    registry = McpRegistry(tool_enabled=lambda server, tool: tool != "add")
    supervisor = supervise("test", mcp_test_server())
    registry.attach(supervisor)
    supervisor.start()
    await wait_until(lambda: supervisor.status.state is ServerState.READY)
    assert "test__add" not in {tool.qualified_name for tool in registry.tools()}
    assert "test__add" in {tool.qualified_name for tool in registry.all_tools()}
    refused = await registry.call("test__add", {"a": 1, "b": 2})
    assert refused.is_error and "not available" in refused.text
    unknown = await registry.call("nobody__add", {})
    assert unknown.is_error and "no MCP server named 'nobody'" in unknown.text


async def test_a_server_over_streamable_http_on_localhost_is_used_like_a_local_one(
    supervise: SupervisorFactory, http_test_server: str
) -> None:
    supervisor = supervise("remote", RemoteServerConfig.model_validate({"url": http_test_server}))
    supervisor.start()
    await wait_until(lambda: supervisor.status.state is ServerState.READY)
    outcome = await supervisor.call_tool("add", {"a": 20, "b": 22})
    assert outcome.text == "42"
    await supervisor.stop()
    assert supervisor.status.state is ServerState.STOPPED


def test_bare_commands_are_found_on_the_login_shell_path() -> None:
    path = login_shell_path({"PATH": "/nonexistent", "SHELL": "/bin/sh", "HOME": "/root"})
    node = resolve_command("node", path)
    assert Path(node).is_absolute() and Path(node).name == "node"
    assert resolve_command("./local-script", path) == "./local-script"
