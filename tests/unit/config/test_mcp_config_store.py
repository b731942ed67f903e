"""McpConfigStore: typed servers with named problems, and typed writes that keep the rest."""

import json
from pathlib import Path

import pytest

from hybridmcp_app.config.mcp_config import McpConfig, RemoteServerConfig, StdioServerConfig
from hybridmcp_app.config.mcp_config_store import McpConfigStore
from hybridmcp_app.config.mcp_problems import ServerConfigProblem
from hybridmcp_app.config.mcp_secret_migration import PlaintextSecret
from hybridmcp_app.config.secrets import KeychainStatus, SecretStore
from hybridmcp_app.core.errors import ConfigError
from tests.helpers.memory_keyring import MemoryKeyring

CLAUDE_CONFIG = {
    "globalShortcut": "Ctrl+Space",
    "mcpServers": {
        "fs": {"command": "npx", "args": ["-y", "server-filesystem", "/d"], "timeout": 30},
        "no-command": {"args": ["x"]},
        "bad-url": {"url": "not a url"},
        "bad name": {"command": "npx"},
        "wrong-type": {"command": "npx", "args": "not a list"},
        "gh": {"command": "npx", "env": {"GITHUB_TOKEN": "ghp_plain"}},
        "remote": {"url": "http://127.0.0.1:9/mcp", "headers": {"Authorization": "Bearer abc"}},
    },
}


@pytest.fixture
def store(tmp_path: Path) -> McpConfigStore:
    path = tmp_path / "mcp.json"
    path.write_text(json.dumps(CLAUDE_CONFIG))
    return McpConfigStore(path)


@pytest.fixture
def secrets() -> SecretStore:
    return SecretStore(MemoryKeyring(), KeychainStatus(True, "memory"))


def test_valid_servers_load_while_each_invalid_entry_names_its_server_and_field(
    store: McpConfigStore,
) -> None:
    loaded = store.load()
    assert sorted(loaded.servers) == ["fs", "gh", "remote"]
    assert loaded.file_problem is None
    assert [(p.server, p.field) for p in loaded.errors] == [
        ("no-command", "command"),
        ("bad-url", "url"),
        ("bad name", ""),
        ("wrong-type", "args"),
    ]
    assert "URL" in loaded.errors[1].message
    assert [(p.server, p.field) for p in loaded.warnings] == [
        ("gh", "env.GITHUB_TOKEN"),
        ("remote", "headers.Authorization"),
    ]
    assert "keychain" in loaded.warnings[0].message
    assert store.tool_enabled("fs", "read_file")  # the switches read what load() found


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"mcpServers": {,}}', "mcp.json is not valid JSON (line 1, column 17)"),
        ("[1, 2]", "mcp.json: the top level must be an object"),
        ('{"mcpServers": []}', "the servers entry is not an object"),
    ],
)
def test_a_broken_file_is_a_problem_not_a_crash_and_is_never_overwritten(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = tmp_path / "mcp.json"
    path.write_text(text)
    store = McpConfigStore(path)
    loaded = store.load()
    assert (loaded.servers, loaded.file_problem) == ({}, problem)
    assert loaded.lines()[0] == problem
    with pytest.raises(ConfigError):
        store.set_server_enabled("fs", False)
    with pytest.raises(ConfigError):
        store.add_server("new", StdioServerConfig(command="x"))
    with pytest.raises(ConfigError):
        store.save(McpConfig())
    assert path.read_text() == text


def test_a_missing_file_loads_empty_and_the_first_save_creates_it(tmp_path: Path) -> None:
    store = McpConfigStore(tmp_path / "config" / "mcp.json")
    assert store.load().servers == {} and store.load().file_problem is None
    store.add_server("echo", {"command": "python3", "args": ["-m", "echo"]})
    assert json.loads(store.path.read_text()) == {
        "mcpServers": {"echo": {"command": "python3", "args": ["-m", "echo"]}}
    }


def test_save_round_trips_and_keeps_unknown_keys_of_the_file_and_of_kept_servers(
    store: McpConfigStore,
) -> None:
    config = store.load().config
    fs = config.servers["fs"]
    assert isinstance(fs, StdioServerConfig)
    changed = McpConfig(
        servers={
            "fs": fs.model_copy(update={"disabled_tools": ("write_file",)}),
            "added": RemoteServerConfig.model_validate({"url": "http://127.0.0.1:8/mcp"}),
        }
    )
    store.save(changed)
    text = store.path.read_text()
    assert text.startswith('{\n  "globalShortcut"')
    data = json.loads(text)
    assert data["globalShortcut"] == "Ctrl+Space"
    assert data["mcpServers"] == {
        "fs": {
            "command": "npx",
            "args": ["-y", "server-filesystem", "/d"],
            "disabledTools": ["write_file"],
            "timeout": 30,
        },
        "added": {"url": "http://127.0.0.1:8/mcp"},
    }
    assert McpConfigStore(store.path).load().config == changed


def test_switches_persist_across_a_fresh_load(store: McpConfigStore) -> None:
    store.set_server_enabled("remote", False)
    store.set_tool_enabled("fs", "write_file", False)
    store.set_tool_auto_approve("fs", "move_file", True, read_only=False)
    store.set_tool_auto_approve("fs", "read_file", False, read_only=True)
    fs = McpConfigStore(store.path).load().servers["fs"]
    assert McpConfigStore(store.path).load().servers["remote"].disabled
    assert not fs.tool_enabled("write_file") and fs.tool_enabled("read_file")
    assert fs.tool_auto_approved("move_file", read_only=False)
    assert not fs.tool_auto_approved("read_file", read_only=True)
    assert fs.tool_auto_approved("list_directory", read_only=True)
    assert not fs.tool_auto_approved("delete_file", read_only=False)


def test_each_update_rereads_the_file_so_hand_edits_made_meanwhile_are_kept(
    store: McpConfigStore,
) -> None:
    store.load()
    data = json.loads(store.path.read_text())
    data["mcpServers"]["by-hand"] = {"command": "uvx", "args": ["tool"]}
    store.path.write_text(json.dumps(data))
    store.set_tool_enabled("fs", "write_file", False)
    assert "by-hand" in json.loads(store.path.read_text())["mcpServers"]


def test_servers_are_added_renamed_in_place_duplicated_and_removed(
    store: McpConfigStore,
) -> None:
    store.add_server("echo", StdioServerConfig(command="python3"))
    with pytest.raises(ConfigError, match="already exists"):
        store.add_server("echo", StdioServerConfig(command="other"))
    with pytest.raises(ConfigError, match="the name may use"):
        store.add_server("has space", StdioServerConfig(command="x"))
    store.rename_server("fs", "files")
    names = list(json.loads(store.path.read_text())["mcpServers"])
    assert names[0] == "files" and "fs" not in names
    with pytest.raises(ConfigError, match="already exists"):
        store.rename_server("files", "echo")
    with pytest.raises(ConfigError, match="no server named 'nope'"):
        store.rename_server("nope", "other")
    copy = store.duplicate_server("echo")
    assert copy == "echo-copy" and store.load().servers[copy].disabled
    store.remove_server("echo")
    assert "echo" not in store.load().servers


def test_a_plaintext_token_moves_into_the_keychain_and_the_file_refers_to_it(
    store: McpConfigStore, secrets: SecretStore
) -> None:
    name = store.move_secret_to_keychain(PlaintextSecret("gh", "env", "GITHUB_TOKEN"), secrets)
    header = store.move_secret_to_keychain(
        PlaintextSecret("remote", "headers", "Authorization"), secrets
    )
    assert (name, header) == ("GITHUB_TOKEN", "REMOTE_AUTHORIZATION")
    stored = {key: secrets.get(key) for key in (name, header)}
    assert {key: v.get_secret_value() for key, v in stored.items() if v} == {
        "GITHUB_TOKEN": "ghp_plain",
        "REMOTE_AUTHORIZATION": "abc",
    }
    servers = json.loads(store.path.read_text())["mcpServers"]
    assert servers["gh"]["env"] == {"GITHUB_TOKEN": "${secret:GITHUB_TOKEN}"}
    assert servers["remote"]["headers"] == {
        "Authorization": "Bearer ${secret:REMOTE_AUTHORIZATION}"
    }
    assert "ghp_plain" not in store.path.read_text()
    assert store.load().warnings == ()


def test_problems_read_as_server_field_and_message() -> None:
    problem = ServerConfigProblem("gh", "env.TOKEN", "looks like a secret", "warning")
    assert str(problem) == "gh: env.TOKEN: looks like a secret"
    assert str(ServerConfigProblem("bad name", "", "bad")) == "bad name: bad"
