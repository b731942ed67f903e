"""``MCPClient.roots_changed`` when the user changes a server's folders: a 2025 session's server
hears ``notifications/roots/list_changed`` (npm's reference server, which keeps the roots it
fetched until told they changed), with the SDK's deprecation warning kept out; a 2026-07-28
stateless connection has no channel, so nothing is sent and the server
(``tests.helpers.sampling_server``) reads its roots with its next request."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from hybridmcp_app.config.mcp_config import StdioServerConfig
from hybridmcp_app.config.mcp_grants import McpGrantsStore
from hybridmcp_app.mcp_host.host_requests import HostRequests
from hybridmcp_app.mcp_host.mcp_client import MCPClient
from hybridmcp_app.services.mcp_roots import McpRoots
from tests.helpers.waiting import PATIENCE_S, wait_until
from tests.integration.mcp_host.conftest import REPO

pytestmark = pytest.mark.integration


async def roots_listed(client: MCPClient, folder: Path) -> str:
    """The reference server's ``get-roots-list`` once it names ``folder`` (it fetches the new
    list when notified, while this polls)."""
    listed = ""

    async def names_it() -> bool:
        nonlocal listed
        listed = (await client.call_tool("get-roots-list", {})).text
        return folder.as_uri() in listed

    await wait_until(names_it)
    return listed


async def test_a_2025_server_that_keeps_its_roots_hears_of_a_newly_granted_folder(
    everything_server: Path, tmp_path: Path
) -> None:
    roots = McpRoots(McpGrantsStore(tmp_path / "mcp-grants.json"))
    config = StdioServerConfig(command=str(everything_server))
    client = MCPClient(
        "everything", config, requests=HostRequests(roots=roots), request_timeout_s=PATIENCE_S
    )
    await client.connect()
    try:
        assert not client.stateless
        before = (await client.call_tool("get-roots-list", {})).text
        roots.subscribe(lambda _server: client.roots_changed())
        (granted,) = await roots.grant("everything", [tmp_path])
        after = await roots_listed(client, granted)
    finally:
        await client.cleanup()
    assert "no roots are currently configured" in before
    assert granted.as_uri() in after


async def test_a_2026_server_is_sent_nothing_and_reads_the_new_folder_with_its_next_request(
    tmp_path: Path,
) -> None:
    roots = McpRoots(McpGrantsStore(tmp_path / "mcp-grants.json"))
    config = StdioServerConfig(
        command=sys.executable, args=("-m", "tests.helpers.sampling_server"), cwd=REPO
    )
    client = MCPClient(
        "sampler", config, requests=HostRequests(roots=roots), request_timeout_s=PATIENCE_S
    )
    await client.connect()
    try:
        assert client.stateless
        roots.subscribe(lambda _server: client.roots_changed())
        (granted,) = await roots.grant("sampler", [tmp_path])
        heard = await client.call_tool("roots_changes", {})
        listed = await client.call_tool("roots", {})
    finally:
        await client.cleanup()
    assert heard.text == "0"
    assert json.loads(listed.text) == [granted.as_uri()]
