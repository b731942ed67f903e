import json
from pathlib import Path

import pytest

from hybridmcp_app.config.mcp_config import McpConfig, RemoteServerConfig, StdioServerConfig
from hybridmcp_app.config.mcp_config_store import McpConfigStore
from hybridmcp_app.core.errors import ConfigError

REPO = Path(__file__).resolve().parents[3]


def test_the_shipped_example_is_valid() -> None:
    config = McpConfig.load(REPO / "mcp.json.example")
    assert isinstance(config.servers["filesystem"], StdioServerConfig)
    github = config.servers["github"]
    assert isinstance(github, StdioServerConfig)
    assert github.env == {"GITHUB_PERSONAL_ACCESS_TOKEN": "${secret:GITHUB_TOKEN}"}
    remote = config.servers["team-docs"]
    assert isinstance(remote, RemoteServerConfig)
    assert remote.transport == "streamable-http"


def test_vs_code_servers_key_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    path.write_text(json.dumps({"servers": {"fs": {"command": "npx", "args": ["-y", "x"]}}}))
    assert list(McpConfig.load(path).servers) == ["fs"]


def test_a_server_without_command_or_url_is_named_in_the_error(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    path.write_text(json.dumps({"mcpServers": {"broken": {"args": ["x"]}}}))
    with pytest.raises(ConfigError, match=r"mcp.json: mcpServers.broken"):
        McpConfig.load(path)


def test_invalid_json_is_reported_with_its_position(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    path.write_text('{"mcpServers": {,}}')
    with pytest.raises(ConfigError, match=r"not valid JSON \(line 1, column 17\)"):
        McpConfig.load(path)


def test_the_shipped_example_loads_without_any_problem_or_warning() -> None:
    loaded = McpConfigStore(REPO / "mcp.json.example").load()
    assert loaded.file_problem is None and loaded.problems == ()
    assert loaded.config == McpConfig.load(REPO / "mcp.json.example")
    assert loaded.servers["everything"].disabled
