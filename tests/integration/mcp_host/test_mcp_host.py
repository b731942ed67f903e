"""The host over a real mcp.json: parallel start, switches that persist, bad entries, shutdown."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from hybridmcp_app.config.mcp_json_file import McpJsonFile
from hybridmcp_app.config.mcp_references import resolved_server
from hybridmcp_app.config.secrets import KeychainStatus, SecretStore
from hybridmcp_app.mcp_host.mcp_host_service import McpHost
from hybridmcp_app.mcp_host.server_status import ServerState
from tests.helpers.memory_keyring import MemoryKeyring
from tests.helpers.waiting import wait_until
from tests.integration.mcp_host.conftest import FAST, REPO, server_processes


def entry(*options: str, **extra: object) -> dict[str, object]:
    return {"command": sys.executable, "cwd": str(REPO),
            "args": ["-m", "tests.helpers.mcp_test_server", *options], **extra}  # fmt: skip


def host_over(path: Path, secrets: SecretStore) -> McpHost:
    """A host over ``path`` whose references resolve from ``secrets``, logging beside it."""
    return McpHost(
        McpJsonFile(path), path.parent / "logs", policy=FAST,
        resolve=lambda name, config: resolved_server(name, config, secrets, {}),
    )  # fmt: skip


async def test_enabled_servers_start_bad_ones_are_reported_and_switches_persist(
    tmp_path: Path,
) -> None:
    path = tmp_path / "mcp.json"
    path.write_text(json.dumps({"mcpServers": {
        "one": entry(), "two": entry(), "off": entry(disabled=True),
        "secretive": entry(env={"TOKEN": "${secret:SERVICE_TOKEN}"}),
        "typo": {"comand": "x"},
    }}))  # fmt: skip
    keyring = MemoryKeyring()
    secrets = SecretStore(keyring, KeychainStatus(True, "memory"))
    secrets.set("SERVICE_TOKEN", "s3cret")
    host = host_over(path, secrets)
    try:
        await host.start()
        assert host.configured.problems[0].startswith("typo: needs either 'command'")
        await wait_until(lambda: host.ready_count() == 3)
        assert host.supervisors["off"].status.state is ServerState.STOPPED
        token = await host.registry.call("secretive__env", {"name": "TOKEN"})
        assert token.text == "s3cret"
        assert "s3cret" not in (tmp_path / "logs" / "secretive.log").read_text()

        await host.set_enabled("one", False)
        assert host.supervisors["one"].status.state is ServerState.STOPPED
        assert json.loads(path.read_text())["mcpServers"]["one"]["disabled"] is True
        assert "one__add" not in {tool.qualified_name for tool in host.registry.tools()}
        await host.set_enabled("off", True)
        await wait_until(lambda: host.supervisors["off"].status.state is ServerState.READY)
    finally:
        assert await host.shutdown() == []
    assert server_processes() == []


async def test_a_missing_secret_fails_that_server_only_until_it_is_stored(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    path.write_text(json.dumps({"mcpServers": {
        "fine": entry(), "needs-key": entry(env={"TOKEN": "${secret:NOT_STORED}"}),
    }}))  # fmt: skip
    secrets = SecretStore(MemoryKeyring(), KeychainStatus(True, "memory"))
    host = host_over(path, secrets)
    try:
        await host.start()
        needs_key = host.supervisors["needs-key"]
        await wait_until(lambda: needs_key.status.state is ServerState.FAILED)
        assert needs_key.status.message == (
            "needs-key.env.TOKEN: no secret NOT_STORED in the keychain "
            "(store it with Secrets… in the MCP Servers tab)"
        )
        await wait_until(lambda: host.supervisors["fine"].status.state is ServerState.READY)
        secrets.set("NOT_STORED", "now-stored")  # what Secrets… in the MCP tab does
        await host.restart("needs-key")
        await wait_until(lambda: needs_key.status.state is ServerState.READY)
        token = await host.registry.call("needs-key__env", {"name": "TOKEN"})
        assert token.text == "now-stored"
    finally:
        await host.shutdown()
