"""The offline MCP catalogue: the shipped file and its schema, validation of a broken file,
search ranking, and adding an entry to mcp.json with its secrets in the keychain."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from hybridmcp_app.config.mcp_config import RemoteServerConfig, StdioServerConfig
from hybridmcp_app.config.mcp_json_file import McpJsonFile
from hybridmcp_app.config.paths import resources_dir
from hybridmcp_app.config.secrets import KeychainStatus, SecretStore
from hybridmcp_app.core.errors import ConfigError
from hybridmcp_app.mcp_host.builtin_servers import BUILTIN_SERVERS
from hybridmcp_app.services.mcp_catalog import (
    CatalogEntry,
    McpCatalog,
    add,
    load_catalog,
    search,
)
from tests.helpers.memory_keyring import MemoryKeyring

TOKEN = "ghp_the-real-token-0123456789"


@pytest.fixture(scope="module")
def catalog() -> McpCatalog:
    return load_catalog()


@pytest.fixture
def keyring() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def secrets(keyring: MemoryKeyring) -> SecretStore:
    return SecretStore(keyring, KeychainStatus(True, "memory"))


@pytest.fixture
def source(tmp_path: Path) -> McpJsonFile:
    return McpJsonFile(tmp_path / "mcp.json")


def entry(catalog: McpCatalog, entry_id: str) -> CatalogEntry:
    return next(e for e in catalog.servers if e.id == entry_id)


def servers_in(source: McpJsonFile) -> dict[str, Any]:
    servers: dict[str, Any] = json.loads(source.path.read_text())["mcpServers"]
    return servers


def write_catalog(tmp_path: Path, servers: list[dict[str, Any]]) -> Path:
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps({"written": "2026-12-07", "servers": servers}), encoding="utf-8")
    return path


def tiny(**changes: Any) -> dict[str, Any]:
    server: dict[str, Any] = {
        "id": "tiny", "name": "Tiny", "description": "A tiny server.", "publisher": "Me",
        "homepage": "https://example.org/tiny", "license": "MIT", "transport": "stdio",
        "run": {"kind": "npx", "package": "tiny-mcp"},
    }  # fmt: skip
    server.update(changes)
    return server


# ------------------------------------------------------------------------ the shipped file
def test_the_shipped_catalogue_lists_the_well_known_servers_and_all_of_ours(
    catalog: McpCatalog,
) -> None:
    ids = {e.id for e in catalog.servers}
    assert len(catalog.servers) >= 14
    assert {"filesystem", "git", "fetch", "memory", "sqlite", "time", "sequential-thinking",
            "everything", "github", "postgres", "playwright", "brave-search"} <= ids  # fmt: skip
    ours = {e.run.server for e in catalog.servers if e.run.kind == "builtin"}
    assert ours == set(BUILTIN_SERVERS)
    github = entry(catalog, "github")
    assert github.run.url == "https://api.githubcopilot.com/mcp/" and github.transport == "http"
    assert all(s.secret for s in github.settings if s.id == "token")


def test_the_schema_file_beside_the_catalogue_is_the_models_own() -> None:
    published = json.loads((resources_dir() / "mcp" / "catalog.schema.json").read_text())
    assert published == McpCatalog.model_json_schema(), (
        "regenerate resources/mcp/catalog.schema.json"
    )


def test_every_entry_adds_as_a_valid_server_that_starts_switched_off(
    catalog: McpCatalog, source: McpJsonFile, secrets: SecretStore, tmp_path: Path
) -> None:
    for item in catalog.servers:
        values: dict[str, str] = {}
        hidden: dict[str, str] = {}
        for setting in item.settings:
            if setting.secret:
                hidden[setting.id] = f"s3cret-{item.id}-{setting.id}"
            elif setting.kind in ("folder", "file"):
                values[setting.id] = str(tmp_path / ("" if setting.kind == "folder" else "x.db"))
            else:
                values[setting.id] = setting.choices[0] if setting.choices else "value"
        add(source, item, values, hidden, secrets)
    contents = source.read()
    assert contents.problems == ()
    assert set(contents.servers) == {e.id for e in catalog.servers}
    assert all(server.disabled for server in contents.servers.values())
    assert "s3cret" not in source.path.read_text()


# ------------------------------------------------------------------------ a broken file
def test_a_bad_entry_is_refused_in_one_line_naming_the_entry_and_field(tmp_path: Path) -> None:
    path = write_catalog(tmp_path, [tiny(), tiny(id="other", homepage="http://insecure")])
    with pytest.raises(ConfigError) as caught:
        load_catalog(path)
    assert "\n" not in str(caught.value)
    assert "servers.1.homepage" in str(caught.value) and "servers.0" not in str(caught.value)


@pytest.mark.parametrize(
    ("server", "problem"),
    [
        (tiny(run={"kind": "npx", "package": "t", "args": ["{folder}"]}), "unknown settings"),
        (tiny(settings=[{"id": "x", "label": "X", "description": "d"}]), "never uses: x"),
        (
            tiny(
                run={"kind": "remote", "url": "https://t.example/{key}"},
                transport="http",
                settings=[{"id": "key", "label": "K", "description": "d", "secret": True}],
            ),
            "secret may not be part of the URL",
        ),
        (
            tiny(
                run={"kind": "npx", "package": "t", "args": [["--key", "{key}"]]},
                settings=[{"id": "key", "label": "K", "description": "d", "secret": True}],
            ),
            "secret may not be a command-line argument",
        ),
        (tiny(transport="http"), "transport 'http' goes with a remote run"),
        (tiny(run={"kind": "builtin", "server": "nonesuch"}), "not one of our servers"),
        (tiny(typo=1), "servers.0.typo"),
    ],
)
def test_a_catalogue_entry_that_does_not_hold_together_is_refused(
    tmp_path: Path, server: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ConfigError, match=problem):
        load_catalog(write_catalog(tmp_path, [server]))


def test_a_catalogue_that_is_not_json_or_repeats_an_id_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="used twice"):
        load_catalog(write_catalog(tmp_path, [tiny(), tiny()]))
    path = tmp_path / "catalog.json"
    path.write_text('{"servers": [', encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_catalog(path)


# ------------------------------------------------------------------------ search
def test_search_ranks_name_matches_first_and_ignores_case(catalog: McpCatalog) -> None:
    found = [e.id for e in search(catalog, "GIT")]
    assert found[:3] == ["git", "github", "github-docker"]
    assert {"sqlite", "postgres", "docstore"} <= {e.id for e in search(catalog, "database")}
    by_publisher = {e.id for e in search(catalog, "microsoft")}
    assert by_publisher == {"playwright"}


def test_every_word_of_a_search_must_match(catalog: McpCatalog) -> None:
    assert {e.id for e in search(catalog, "search api key")} == {"brave-search", "tavily"}
    assert search(catalog, "nothing-like-this") == []
    assert [e.id for e in search(catalog, "  ")] == [e.id for e in catalog.servers]


# ------------------------------------------------------------------------ adding
def test_adding_a_remote_server_keeps_its_token_in_the_keychain_bound_to_its_origin(
    catalog: McpCatalog,
    source: McpJsonFile,
    secrets: SecretStore,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    result = add(source, entry(catalog, "github"), {"read_only": "true"}, {"token": TOKEN}, secrets)
    assert result.name == "github" and result.secret_names == ("GITHUB_TOKEN",)
    assert servers_in(source) == {"github": {
        "url": "https://api.githubcopilot.com/mcp/", "transport": "streamable-http",
        "headers": {"Authorization": "Bearer ${secret:GITHUB_TOKEN}", "X-MCP-Readonly": "true"},
        "disabled": True,
    }}  # fmt: skip
    stored = secrets.get("GITHUB_TOKEN")
    assert stored is not None and stored.get_secret_value() == TOKEN
    assert secrets.origin("GITHUB_TOKEN") == "https://api.githubcopilot.com:443"
    assert TOKEN not in source.path.read_text()
    assert TOKEN not in caplog.text and "GITHUB_TOKEN" in caplog.text
    assert isinstance(source.read().servers["github"], RemoteServerConfig)


def test_a_secret_name_already_in_the_keychain_is_never_overwritten(
    catalog: McpCatalog, source: McpJsonFile, secrets: SecretStore
) -> None:
    secrets.set("BRAVE_SEARCH_API_KEY", "someone-elses-key")
    result = add(source, entry(catalog, "brave-search"), {}, {"api_key": "mine"}, secrets)
    assert result.secret_names == ("BRAVE_SEARCH_API_KEY_2",)
    assert "BRAVE_SEARCH_API_KEY_2" in result.message
    old, new = secrets.get("BRAVE_SEARCH_API_KEY"), secrets.get("BRAVE_SEARCH_API_KEY_2")
    assert old is not None and old.get_secret_value() == "someone-elses-key"
    assert new is not None and new.get_secret_value() == "mine"
    brave = source.read().servers["brave-search"]
    assert isinstance(brave, StdioServerConfig)
    assert brave.env == {"BRAVE_API_KEY": "${secret:BRAVE_SEARCH_API_KEY_2}"}
    assert list(brave.args) == ["-y", "@brave/brave-search-mcp-server", "--transport", "stdio"]


def test_a_missing_required_setting_is_named_and_nothing_is_written(
    catalog: McpCatalog, source: McpJsonFile, secrets: SecretStore, keyring: MemoryKeyring
) -> None:
    with pytest.raises(ConfigError) as caught:
        add(source, entry(catalog, "github"), {"toolsets": "repos"}, {"token": "  "}, secrets)
    message = str(caught.value)
    assert "\n" not in message and "“Personal access token” is required" in message
    assert not source.path.exists() and keyring.entries == {}


def test_a_taken_name_gets_a_number_and_the_server_there_is_kept(
    catalog: McpCatalog, source: McpJsonFile, secrets: SecretStore, tmp_path: Path
) -> None:
    source.put_server("filesystem", {"command": "mine", "args": ["--keep"]})
    result = add(source, entry(catalog, "filesystem"), {"folder": str(tmp_path)}, {}, secrets)
    assert result.name == "filesystem-2" and result.requested == "filesystem"
    assert "filesystem was taken" in result.message
    written = servers_in(source)
    assert written["filesystem"] == {"command": "mine", "args": ["--keep"]}
    assert written["filesystem-2"] == {
        "command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", str(tmp_path)],
        "disabled": True,
    }  # fmt: skip


def test_empty_optional_settings_leave_their_arguments_environment_and_headers_out(
    catalog: McpCatalog, source: McpJsonFile, secrets: SecretStore
) -> None:
    add(source, entry(catalog, "git"), {}, {}, secrets, name="repo-tools")
    add(source, entry(catalog, "github-docker"), {}, {"token": TOKEN}, secrets)
    written = servers_in(source)
    assert written["repo-tools"] == {"command": "uvx", "args": ["mcp-server-git"], "disabled": True}
    image = "ghcr.io/github/github-mcp-server"
    assert written["github-docker"]["args"] == [
        "run", "-i", "--rm", "-e", "GITHUB_PERSONAL_ACCESS_TOKEN", image
    ]  # fmt: skip
    assert written["github-docker"]["env"] == {
        "GITHUB_PERSONAL_ACCESS_TOKEN": "${secret:GITHUB_DOCKER_TOKEN}"
    }


def test_our_servers_run_with_the_given_python_and_their_options(
    catalog: McpCatalog, source: McpJsonFile, secrets: SecretStore, tmp_path: Path
) -> None:
    database = tmp_path / "docs.sqlite3"
    add(source, entry(catalog, "docstore"), {"sqlite_file": str(database)}, {}, secrets,
        python="/opt/python")  # fmt: skip
    assert servers_in(source)["docstore"] == {
        "command": "/opt/python",
        "args": ["-m", "hybridmcp_app.mcp_servers.docstore", "--sqlite", str(database)],
        "disabled": True,
    }


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"folder": "relative/dir"}, "needs a full path"),
        ({"folder": "/no/such/folder/here"}, "there is no folder /no/such/folder/here"),
        ({"folder": "/tmp\nrm -rf"}, "may not hold line breaks"),
        ({"folder": "${secret:OTHER}"}, "'\\$\\{'"),
        ({"color": "blue"}, "has no setting 'color'"),
    ],
)
def test_bad_values_are_refused_in_one_line_before_anything_is_written(
    catalog: McpCatalog,
    source: McpJsonFile,
    secrets: SecretStore,
    values: dict[str, str],
    problem: str,
) -> None:
    with pytest.raises(ConfigError, match=problem) as caught:
        add(source, entry(catalog, "filesystem"), values, {}, secrets)
    assert "\n" not in str(caught.value)
    assert not source.path.exists()


def test_a_choice_outside_its_list_and_a_secret_passed_in_plain_are_refused(
    catalog: McpCatalog, source: McpJsonFile, secrets: SecretStore
) -> None:
    with pytest.raises(ConfigError, match="must be one of chrome, firefox, webkit, msedge"):
        add(source, entry(catalog, "playwright"), {"browser": "lynx"}, {}, secrets)
    with pytest.raises(ConfigError, match="'token' is a secret"):
        add(source, entry(catalog, "github"), {"token": TOKEN}, {}, secrets)


def test_when_mcp_json_cannot_be_written_no_secret_is_left_in_the_keychain(
    catalog: McpCatalog, source: McpJsonFile, secrets: SecretStore, keyring: MemoryKeyring
) -> None:
    source.path.write_text("{ not json", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid JSON"):
        add(source, entry(catalog, "github"), {}, {"token": TOKEN}, secrets)
    assert keyring.entries == {}
    assert source.path.read_text() == "{ not json"
