"""A real ``.mcpb`` bundle installed into the real keychain and mcp.json, run by the host."""

from __future__ import annotations

import json
from pathlib import Path

from hybridmcp_app.config.mcp_json_file import McpJsonFile
from hybridmcp_app.config.mcp_references import resolved_server
from hybridmcp_app.config.secrets import SecretStore, system_keychain
from hybridmcp_app.mcp_host.mcp_host_service import McpHost
from hybridmcp_app.mcp_host.server_status import ServerState
from hybridmcp_app.services.mcpb_bundles import McpbBundles
from tests.helpers.mcpb_files import write_bundle
from tests.helpers.waiting import wait_until
from tests.integration.mcp_host.conftest import FAST


async def test_an_installed_bundle_answers_through_the_host_once_on_and_uninstall_leaves_nothing(
    tmp_path: Path, secret_service: str
) -> None:
    secrets = SecretStore(*system_keychain())
    config = tmp_path / "mcp.json"
    bundles = McpbBundles(tmp_path / "data" / "mcpb", McpJsonFile(config), secrets)
    record = bundles.install(
        write_bundle(tmp_path / "greeter.mcpb"),
        {"key": "sk-0123456789", "greeting": "Bonjour", "extra_dirs": ["/srv/a"]},
    )
    assert "sk-0123456789" not in config.read_text()
    host = McpHost(
        McpJsonFile(config), tmp_path / "logs", policy=FAST,
        resolve=lambda name, server: resolved_server(name, server, secrets, {}),
    )  # fmt: skip
    try:
        await host.start()
        assert host.supervisors["greeter"].status.state is ServerState.STOPPED  # installed off
        await host.set_enabled("greeter", True)
        await wait_until(lambda: host.registry.tool("greeter__greet") is not None)
        answer = await host.registry.call("greeter__greet", {"name": "Ada"})
        assert answer.text == "Bonjour, Ada! (key of 13 chars, args ['/srv/a'])"
        await host.set_enabled("greeter", False)
        bundles.uninstall(record.server)
        await host.reload()
        assert "greeter" not in host.supervisors
    finally:
        await host.shutdown()
    assert json.loads(config.read_text())["mcpServers"] == {}
    assert not (tmp_path / "data" / "mcpb" / "greeter").exists()
    assert secrets.get("MCPB_GREETER_KEY") is None
