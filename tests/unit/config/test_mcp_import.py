"""Importing servers from Claude Desktop, Cursor and VS Code files in a fake home."""

import json
from pathlib import Path

import pytest

from hybridmcp_app.config.mcp_config_store import McpConfigStore
from hybridmcp_app.config.mcp_import import apply_import, move_secrets_to_keychain, read_import
from hybridmcp_app.config.mcp_import_sources import (
    ImportSource,
    candidate_sources,
    find_importable,
)
from hybridmcp_app.config.mcp_secret_migration import PlaintextSecret
from hybridmcp_app.config.secrets import KeychainStatus, SecretStore
from hybridmcp_app.core.errors import ConfigError
from tests.helpers.memory_keyring import MemoryKeyring

CLAUDE = {
    "globalShortcut": "Alt+Space",
    "mcpServers": {
        "filesystem": {"command": "npx", "args": ["-y", "server-filesystem", "/home/me"]},
        "github": {
            "command": "npx",
            "args": ["-y", "server-github"],
            "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_plaintext"},
        },
        "memory": {"command": "npx", "args": ["-y", "server-memory"]},
        "broken": {"args": ["no command"]},
        "my server": {"command": "uvx", "args": ["my-server"]},
    },
}
CURSOR = {"mcpServers": {"docs": {"url": "http://127.0.0.1:8765/mcp"}}}
VS_CODE_SETTINGS = """{
  // Editor
  "editor.tabSize": 2,
  "mcp": {
    "servers": {
      /* a remote one */
      "search": {
        "type": "http",
        "url": "http://127.0.0.1:9000/mcp",
        "headers": {"Authorization": "Bearer sk-plain"},
      },
    },
  },
}
"""
VS_CODE_MCP = """{
  "inputs": [{"type": "promptString", "id": "key"}],
  "servers": {
    "fetch": {"type": "stdio", "command": "uvx", "args": ["mcp-server-fetch"],
              "env": {"API_KEY": "${input:key}"}}, // asks in VS Code
  }
}
"""


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    config = home / ".config"
    _write(config / "Claude" / "claude_desktop_config.json", json.dumps(CLAUDE))
    _write(home / ".cursor" / "mcp.json", json.dumps(CURSOR))
    _write(config / "Code" / "User" / "settings.json", VS_CODE_SETTINGS)
    _write(config / "Code" / "User" / "mcp.json", VS_CODE_MCP)
    _write(config / "Code - Insiders" / "User" / "settings.json", '{"editor.tabSize": 4}')
    return home


@pytest.fixture
def store(tmp_path: Path) -> McpConfigStore:
    path = _write(
        tmp_path / "app" / "mcp.json",
        json.dumps(
            {
                "mcpServers": {
                    "filesystem": {"command": "npx", "args": ["-y", "server-filesystem", "/d"]},
                    "memory": {"command": "npx", "args": ["-y", "server-memory"]},
                }
            }
        ),
    )
    return McpConfigStore(path)


@pytest.fixture
def secrets() -> SecretStore:
    return SecretStore(MemoryKeyring(), KeychainStatus(True, "memory"))


def _source(home: Path, client: str, file_name: str = "") -> ImportSource:
    sources = find_importable(home, "linux", {})
    return next(s for s in sources if s.client == client and s.path.name.endswith(file_name))


def test_the_clients_files_are_found_and_a_settings_file_without_servers_is_left_out(
    home: Path,
) -> None:
    found = [
        (s.client, s.path.relative_to(home).as_posix()) for s in find_importable(home, "linux", {})
    ]
    assert found == [
        ("Claude Desktop", ".config/Claude/claude_desktop_config.json"),
        ("Cursor", ".cursor/mcp.json"),
        ("VS Code", ".config/Code/User/mcp.json"),
        ("VS Code", ".config/Code/User/settings.json"),
    ]


def test_each_platform_looks_in_its_own_places(tmp_path: Path) -> None:
    home = tmp_path
    mac = {s.path for s in candidate_sources(home, "darwin", {})}
    support = home / "Library" / "Application Support"
    assert support / "Claude" / "claude_desktop_config.json" in mac
    assert support / "Code" / "User" / "mcp.json" in mac
    windows = {s.path for s in candidate_sources(home, "win32", {"APPDATA": str(tmp_path / "R")})}
    assert tmp_path / "R" / "Claude" / "claude_desktop_config.json" in windows
    assert tmp_path / "R" / "Code" / "User" / "settings.json" in windows
    linux = {s.path for s in candidate_sources(home, "linux", {"XDG_CONFIG_HOME": "/x"})}
    assert Path("/x/Claude/claude_desktop_config.json") in linux
    assert home / ".cursor" / "mcp.json" in linux
    workspace = {s.path for s in candidate_sources(home, "linux", {}, workspace=tmp_path / "w")}
    assert tmp_path / "w" / ".vscode" / "mcp.json" in workspace


def test_the_preview_tells_new_changed_and_identical_servers_and_names_broken_ones(
    home: Path, store: McpConfigStore
) -> None:
    preview = read_import(_source(home, "Claude Desktop"), store.load().servers)
    assert preview.file_problem is None
    assert {s.name: s.status for s in preview.servers} == {
        "filesystem": "changed",
        "github": "new",
        "memory": "identical",
        "my-server": "new",
    }
    assert preview.server("my-server").original_name == "my server"
    assert [(p.server, p.field, p.severity) for p in preview.problems] == [
        ("broken", "command", "error"),
        ("my server", "", "warning"),
    ]
    assert preview.plaintext_secrets == (
        PlaintextSecret("github", "env", "GITHUB_PERSONAL_ACCESS_TOKEN"),
    )


def test_vs_code_files_with_comments_and_trailing_commas_are_read(home: Path) -> None:
    settings = read_import(_source(home, "VS Code", "settings.json"), {})
    search = settings.server("search")
    assert str(search.config.model_dump()["url"]) == "http://127.0.0.1:9000/mcp"
    assert settings.plaintext_secrets == (PlaintextSecret("search", "headers", "Authorization"),)
    own = read_import(_source(home, "VS Code", "mcp.json"), {})
    assert [s.name for s in own.servers] == ["fetch"]
    assert [(p.field, p.severity) for p in own.problems] == [("env.API_KEY", "warning")]
    assert "${input:key} is not understood here" in own.problems[0].message


def test_a_broken_client_file_is_offered_with_its_problem(tmp_path: Path) -> None:
    _write(tmp_path / ".cursor" / "mcp.json", "{not json")
    (source,) = find_importable(tmp_path, "linux", {})
    preview = read_import(source, {})
    assert preview.servers == ()
    assert preview.file_problem == "mcp.json is not valid JSON (line 1, column 2)"


def test_importing_renames_clashes_skips_identical_and_keeps_the_rest_of_the_file(
    home: Path, store: McpConfigStore
) -> None:
    preview = read_import(_source(home, "Claude Desktop"), store.load().servers)
    written = apply_import(store, preview, ["filesystem", "github", "memory", "my-server"])
    assert written == {
        "filesystem": "filesystem-claude",
        "github": "github",
        "my-server": "my-server",
    }
    servers = store.load().servers
    assert sorted(servers) == ["filesystem", "filesystem-claude", "github", "memory", "my-server"]
    assert servers["filesystem"].model_dump()["args"] == ("-y", "server-filesystem", "/d")
    again = read_import(_source(home, "Claude Desktop"), store.load().servers)
    assert apply_import(store, again, ["filesystem", "github"]) == {}  # nothing new


def test_importing_without_renaming_replaces_the_namesake(
    home: Path, store: McpConfigStore
) -> None:
    preview = read_import(_source(home, "Claude Desktop"), store.load().servers)
    assert apply_import(store, preview, ["filesystem"], rename_clashes=False) == {
        "filesystem": "filesystem"
    }
    args = json.loads(store.path.read_text())["mcpServers"]["filesystem"]["args"]
    assert args == ["-y", "server-filesystem", "/home/me"]
    with pytest.raises(ConfigError, match="no server 'broken' to import"):
        apply_import(store, preview, ["broken"])


def test_plaintext_tokens_found_while_importing_move_into_the_keychain(
    home: Path, store: McpConfigStore, secrets: SecretStore
) -> None:
    preview = read_import(_source(home, "Claude Desktop"), store.load().servers)
    moved = move_secrets_to_keychain(preview, preview.plaintext_secrets, secrets)
    assert moved.plaintext_secrets == ()
    stored = secrets.get("GITHUB_PERSONAL_ACCESS_TOKEN")
    assert stored is not None and stored.get_secret_value() == "ghp_plaintext"
    apply_import(store, moved, ["github"])
    text = store.path.read_text()
    assert "ghp_plaintext" not in text
    env = json.loads(text)["mcpServers"]["github"]["env"]
    assert env == {"GITHUB_PERSONAL_ACCESS_TOKEN": "${secret:GITHUB_PERSONAL_ACCESS_TOKEN}"}
    assert store.load().warnings == ()


def test_a_secret_name_in_use_for_another_value_is_not_overwritten(
    home: Path, secrets: SecretStore
) -> None:
    secrets.set("GITHUB_PERSONAL_ACCESS_TOKEN", "someone else's")
    preview = read_import(_source(home, "Claude Desktop"), {})
    moved = move_secrets_to_keychain(preview, preview.plaintext_secrets, secrets)
    env = moved.server("github").config.model_dump()["env"]
    assert env == {"GITHUB_PERSONAL_ACCESS_TOKEN": "${secret:GITHUB_GITHUB_PERSONAL_ACCESS_TOKEN}"}
    kept = secrets.get("GITHUB_PERSONAL_ACCESS_TOKEN")
    assert kept is not None and kept.get_secret_value() == "someone else's"
