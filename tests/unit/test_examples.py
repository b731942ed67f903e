"""The example configs parse, and the three clouds' storage entries differ only in the URL."""

from __future__ import annotations

from pathlib import Path

from hybridmcp_app.config.mcp_config import McpConfig, StdioServerConfig

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_the_three_cloud_storage_entries_differ_only_in_their_url() -> None:
    servers = McpConfig.load(EXAMPLES / "storage-clouds.mcp.json").servers
    named = [servers[name] for name in ("storage-aws", "storage-azure", "storage-gcp")]
    entries = [entry for entry in named if isinstance(entry, StdioServerConfig)]
    assert len(entries) == 3
    urls = [entry.args[-1].split("=", 1)[1] for entry in entries]
    assert [url.split("://")[0] for url in urls] == ["s3", "az", "gs"]
    assert len({url.split("://")[1] for url in urls}) == 1  # same bucket path everywhere
    shapes = {(entry.command, entry.args[:-1]) for entry in entries}
    assert shapes == {("python", ("-m", "hybridmcp_app.mcp_servers.storage", "--mount"))}
    for entry in entries:
        assert all(value.startswith(("${secret:", "${env:")) for value in entry.env.values())
