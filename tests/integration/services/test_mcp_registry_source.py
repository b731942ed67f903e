"""The MCP Registry as a live source, against a registry on 127.0.0.1 serving documents these
tests write: search and paging, details, adding a registry server to mcp.json (off, its secret
in the keychain), and the failures — closed port, HTTP errors, huge, malformed, redirecting."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from hybridmcp_app.config.mcp_json_file import McpJsonFile
from hybridmcp_app.config.secrets import KeychainStatus, SecretStore
from hybridmcp_app.core.errors import ConfigError
from hybridmcp_app.services.mcp_catalog import add
from hybridmcp_app.services.mcp_registry_entries import NOT_REVIEWED
from hybridmcp_app.services.mcp_registry_source import (
    McpRegistrySource,
    RegistryAnswerRefused,
    RegistryUnreachable,
    check_registry_url,
)
from tests.helpers import registry_documents as documents
from tests.helpers.mcp_registry_server import RawAnswer, RegistryServer, registry_serving
from tests.helpers.memory_keyring import MemoryKeyring

TOKEN = "notes-token-5f3a9c"


@pytest.fixture
def registry() -> RegistryServer:
    return RegistryServer(documents=documents.servers() + documents.fillers(12))


@pytest.fixture
def registry_url(registry: RegistryServer) -> Iterator[str]:
    with registry_serving(registry) as url:
        yield url


@pytest.fixture
def secrets() -> SecretStore:
    return SecretStore(MemoryKeyring(), KeychainStatus(True, "memory"))


def closed_port_url() -> str:
    with socket.socket() as probe:  # a port just freed: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


async def test_a_search_maps_each_way_a_server_runs_to_an_entry_and_says_what_was_left_out(
    registry: RegistryServer, registry_url: str
) -> None:
    page = await McpRegistrySource(registry_url).search("")
    by_name = {server.name: server for server in page.servers}
    assert len(page.skipped) == 1 and "not a reverse-dns name" in page.skipped[0]

    (filesystem,) = by_name["io.github.modelcontextprotocol/server-filesystem"].entries
    assert (filesystem.id, filesystem.name) == ("server-filesystem", "Filesystem")
    assert filesystem.way == "npm package"
    assert filesystem.publisher == "io.github.modelcontextprotocol"
    assert filesystem.run.kind == "npx"
    assert filesystem.run.package == "@modelcontextprotocol/server-filesystem@2025.8.21"
    assert filesystem.run.args == (("{allowed_directory}",),)
    assert filesystem.homepage == "https://github.com/modelcontextprotocol/servers"
    assert filesystem.setting("allowed_directory").required
    assert NOT_REVIEWED in filesystem.note

    (weather,) = by_name["io.github.weatherfolk/mcp-weather"].entries
    assert (weather.run.kind, weather.run.package) == ("uvx", "mcp-weather-server==0.5.2")
    assert weather.run.env == {"OPENWEATHER_API_KEY": "{openweather_api_key}",
                               "WEATHER_UNITS": "{weather_units}"}  # fmt: skip
    assert weather.run.args == ("--cache-minutes", "10")
    assert weather.setting("openweather_api_key").secret
    assert weather.setting("weather_units").choices == ("metric", "imperial")

    (postgres,) = by_name["io.github.crystaldba/postgres-mcp"].entries
    assert postgres.run.kind == "docker"
    assert postgres.run.package == "docker.io/crystaldba/postgres-mcp:0.3.0"
    assert postgres.run.args == (("--access-mode", "{access_mode}"),)
    assert postgres.setting("database_uri").secret

    (notes,) = by_name["com.notesapp/notes"].entries
    assert (notes.transport, notes.run.url) == ("http", "https://mcp.notesapp.example.com/mcp")
    assert notes.run.headers == {"Authorization": "Bearer {api_token}"}
    assert notes.setting("api_token").secret and notes.way == "remote (streamable-http)"

    dotnet = by_name["io.github.dotnetfolk/azure-tools"]
    assert dotnet.entries == () and "'nuget' package is not a kind HybridMCP runs" in (
        dotnet.skipped[0]
    )  # fmt: skip
    leaky = by_name["io.github.badactor/helpful-tools"]
    assert leaky.entries == () and "'${'" in leaky.skipped[0]
    (mixed,) = by_name["io.github.mixfolk/everything-mixed"].entries
    assert mixed.run.package == "everything-mixed@1.0.0" and "'mcpb' package" in mixed.note

    (request,) = registry.requests
    assert request["path"] == "/v0.1/servers" and request["query"]["version"] == "latest"
    sent = {name.lower() for name in request["headers"]}
    assert not sent & {"authorization", "cookie", "proxy-authorization"}


async def test_a_search_pages_through_the_registry_with_its_cursor(registry_url: str) -> None:
    source = McpRegistrySource(registry_url)
    first = await source.search("filler", limit=5)
    assert [s.name[-7:] for s in first.servers] == [f"tool-{n:02}" for n in range(5)]
    names = [s.name for s in first.servers]
    cursor = first.next_cursor
    while cursor is not None:
        page = await source.search("filler", cursor=cursor, limit=5)
        names += [s.name for s in page.servers]
        cursor = page.next_cursor
    assert names == [f"io.github.filler/tool-{n:02}" for n in range(12)]
    found = await source.search("OpenWeatherMap")
    assert [s.name for s in found.servers] == ["io.github.weatherfolk/mcp-weather"]


async def test_details_then_add_writes_the_server_off_with_its_token_only_in_the_keychain(
    registry_url: str, secrets: SecretStore, tmp_path: Path
) -> None:
    source = McpRegistrySource(registry_url)
    server = await source.details("com.notesapp/notes")
    (entry,) = server.entries
    mcp_json = McpJsonFile(tmp_path / "mcp.json")
    added = add(mcp_json, entry, {}, {"api_token": TOKEN}, secrets)
    written = json.loads(mcp_json.path.read_text())["mcpServers"][added.name]
    assert added.name == "notes" and added.secret_names == ("NOTES_API_TOKEN",)
    assert written == {
        "url": "https://mcp.notesapp.example.com/mcp",
        "transport": "streamable-http",
        "disabled": True,
        "headers": {"Authorization": "Bearer ${secret:NOTES_API_TOKEN}"},
    }
    stored = secrets.get("NOTES_API_TOKEN")
    assert stored is not None and stored.get_secret_value() == TOKEN
    assert TOKEN not in mcp_json.path.read_text()
    assert mcp_json.read().problems == ()

    with pytest.raises(RegistryUnreachable, match=r"has no server named io\.github\.nobody/none"):
        await source.details("io.github.nobody/none")


async def test_a_closed_port_is_an_unreachable_registry_with_the_reason() -> None:
    with pytest.raises(RegistryUnreachable) as caught:
        await McpRegistrySource(closed_port_url()).search("filesystem")
    assert str(caught.value) == "the connection was refused"


@pytest.mark.parametrize(
    ("answer", "error", "message"),
    [
        (RawAnswer(b'{"servers": [', headers={"Content-Type": "application/json"}),
         RegistryAnswerRefused, "its answer is not JSON"),
        (RawAnswer(b'{"servers": 3}'), RegistryAnswerRefused,
         "its answer is not a list of servers"),
        (RawAnswer(b'["x"]' * 10, status=503), RegistryUnreachable,
         "it answered HTTP 503 Service Unavailable"),
        (RawAnswer(status=302, headers={"Location": "https://evil.example/v0.1/servers"}),
         RegistryUnreachable, "it redirects to 'https://evil.example/v0.1/servers'"),
        (RawAnswer(b"[" * 200_000), RegistryAnswerRefused, "its answer is not JSON"),
    ],
)  # fmt: skip
async def test_a_bad_answer_is_one_line_naming_what_is_wrong(
    registry: RegistryServer,
    registry_url: str,
    answer: RawAnswer,
    error: type[Exception],
    message: str,
) -> None:
    registry.raw = answer
    with pytest.raises(error) as caught:
        await McpRegistrySource(registry_url).search("x")
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)


async def test_a_huge_answer_is_cut_off_at_the_limit(
    registry: RegistryServer, registry_url: str
) -> None:
    registry.raw = RawAnswer(b" " * 1024 * 1024, repeat=256)  # 256 MiB, no length announced
    with pytest.raises(RegistryAnswerRefused, match="its answer is larger than 1 MiB"):
        await McpRegistrySource(registry_url, max_bytes=1024 * 1024).search("x")
    assert registry.raw.sent < 64 * 1024 * 1024


@pytest.mark.parametrize(
    "url", ["http://registry.example.com", "ftp://x", "https://user@host", "https://h/?q=1", ""]
)
def test_only_https_or_the_loopback_is_a_registry_address(url: str) -> None:
    with pytest.raises(ConfigError, match="must be https://host"):
        check_registry_url(url)
    assert check_registry_url("https://registry.modelcontextprotocol.io/") == (
        "https://registry.modelcontextprotocol.io"
    )
