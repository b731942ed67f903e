"""mcp.json as the app reads and edits it: per-server problems, switches, edits, references."""

import json
from pathlib import Path

import pytest

from hybridmcp_app.config.mcp_config import RemoteServerConfig, StdioServerConfig
from hybridmcp_app.config.mcp_json_file import McpJsonFile
from hybridmcp_app.config.mcp_references import (
    UnresolvedReference,
    plaintext_secrets,
    resolved_server,
)
from hybridmcp_app.config.secrets import KeychainStatus, SecretStore
from hybridmcp_app.core.errors import ConfigError
from tests.helpers.memory_keyring import MemoryKeyring

CLAUDE_CONFIG = {
    "globalShortcut": "Ctrl+Space",
    "mcpServers": {
        "fs": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/d"]},
        "broken": {"args": ["no command"]},
        "bad url": {"url": "not a url"},
        "remote": {"url": "http://127.0.0.1:9/mcp", "type": "sse", "timeout": 30},
    },
}


@pytest.fixture
def mcp_file(tmp_path: Path) -> McpJsonFile:
    path = tmp_path / "mcp.json"
    path.write_text(json.dumps(CLAUDE_CONFIG))
    return McpJsonFile(path)


def test_valid_servers_load_while_each_broken_one_is_named(mcp_file: McpJsonFile) -> None:
    contents = mcp_file.read()
    assert sorted(contents.servers) == ["fs", "remote"]
    remote = contents.servers["remote"]
    assert isinstance(remote, RemoteServerConfig) and remote.transport == "sse"
    assert contents.problems == (
        "broken: needs either 'command' (a program to start) or 'url' (a running server)",
        "bad url: the name may use letters, digits, '.', '_' and '-' (≤ 64)",
    )


def test_a_file_that_is_not_json_is_reported_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    path.write_text('{"mcpServers": {,}}')
    store = McpJsonFile(path)
    assert store.read().problems == ("mcp.json is not valid JSON (line 1, column 17)",)
    with pytest.raises(ConfigError, match="not valid JSON"):
        store.set_server_enabled("fs", False)
    assert path.read_text() == '{"mcpServers": {,}}'


def test_switches_persist_and_everything_else_in_the_file_is_kept(mcp_file: McpJsonFile) -> None:
    mcp_file.set_server_enabled("fs", False)
    mcp_file.set_tool_enabled("fs", "write_file", False)
    mcp_file.set_tool_auto_approve("fs", "move_file", True, read_only=False)
    mcp_file.set_tool_auto_approve("fs", "read_file", False, read_only=True)
    data = json.loads(mcp_file.path.read_text())
    assert data["globalShortcut"] == "Ctrl+Space"
    assert data["mcpServers"]["broken"] == {"args": ["no command"]}
    assert data["mcpServers"]["fs"]["disabled"] is True
    reread = McpJsonFile(mcp_file.path)
    fs = reread.read().servers["fs"]
    assert fs.disabled
    assert not reread.tool_enabled("fs", "write_file") and reread.tool_enabled("fs", "read_file")
    assert reread.tool_auto_approved("fs", "move_file", read_only=False)
    assert not reread.tool_auto_approved("fs", "read_file", read_only=True)  # asked
    assert reread.tool_auto_approved("fs", "list_directory", read_only=True)  # read-only: auto
    assert not reread.tool_auto_approved("fs", "delete", read_only=False)
    mcp_file.set_server_enabled("fs", True)
    assert "disabled" not in json.loads(mcp_file.path.read_text())["mcpServers"]["fs"]


def test_servers_are_added_duplicated_renamed_and_removed_with_their_entry_returned(
    mcp_file: McpJsonFile,
) -> None:
    mcp_file.put_server("echo", {"command": "python3", "args": ["-m", "echo"]})
    with pytest.raises(ConfigError, match="already exists"):
        mcp_file.put_server("echo", {"command": "other"})
    with pytest.raises(ConfigError, match="needs either 'command'"):
        mcp_file.put_server("nothing", {})
    copy = mcp_file.duplicate_server("echo")
    assert copy == "echo-copy" and mcp_file.read().servers[copy].disabled
    mcp_file.put_server("echo2", mcp_file.entry(copy), replacing=copy)
    assert "echo-copy" not in mcp_file.read().servers
    removed = mcp_file.remove_server("echo2")
    assert removed["command"] == "python3" and "echo2" not in mcp_file.read().servers


def test_references_resolve_from_the_keychain_and_the_environment() -> None:
    keyring = MemoryKeyring()
    secrets = SecretStore(keyring, KeychainStatus(True, "memory"))
    secrets.set("GITHUB_TOKEN", "ghp-secret")
    config = StdioServerConfig(
        command="npx",
        args=("--root", "${env:HOME_DIR}/docs"),
        env={"TOKEN": "${secret:GITHUB_TOKEN}", "BOTH": "${env:USER_NAME}:${secret:GITHUB_TOKEN}"},
    )
    resolved = resolved_server("gh", config, secrets, {"HOME_DIR": "/h", "USER_NAME": "me"})
    assert isinstance(resolved, StdioServerConfig)
    assert resolved.args == ("--root", "/h/docs")
    assert resolved.env == {"TOKEN": "ghp-secret", "BOTH": "me:ghp-secret"}
    assert config.env["TOKEN"] == "${secret:GITHUB_TOKEN}"  # the original keeps the reference
    with pytest.raises(UnresolvedReference, match=r"gh.env.TOKEN: no secret MISSING"):
        resolved_server(
            "gh", StdioServerConfig(command="x", env={"TOKEN": "${secret:MISSING}"}), secrets, {}
        )
    with pytest.raises(UnresolvedReference, match=r"gh.args\[0\]: environment variable NOPE"):
        resolved_server("gh", StdioServerConfig(command="x", args=("${env:NOPE}",)), secrets, {})


def test_plaintext_secrets_are_pointed_out() -> None:
    config = StdioServerConfig(
        command="x", env={"API_KEY": "sk-live", "SAFE": "${secret:A}", "DEBUG": "1"}
    )
    assert plaintext_secrets("svc", config) == ["svc.env.API_KEY"]
