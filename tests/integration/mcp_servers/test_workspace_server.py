"""The workspace MCP server, four ways: in memory with the SDK, as a stdio subprocess, over
Streamable HTTP on 127.0.0.1 (and behind a token on 0.0.0.0), and through the MCP Inspector's CLI.
Every refusal (traversal, links out, oversized inputs, missing files) must come back as a tool
error with a useful message and no traceback."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from hybridmcp_app.config.paths import HOME_ENV_VAR, AppPaths
from hybridmcp_app.config.settings import Settings
from hybridmcp_app.config.settings_store import SettingsStore
from hybridmcp_app.mcp_servers.server_base import TOKEN_ENV
from hybridmcp_app.mcp_servers.workspace import WorkspaceServer
from hybridmcp_app.workspace.sandbox import INTERNAL_DIR, SizeLimits
from hybridmcp_app.workspace.workspace_service import WorkspaceService
from tests.helpers.file_keyring import keyring_env
from tests.helpers.llama_server import free_port
from tests.helpers.mcp_http import http_server, status_of
from tests.helpers.mcp_inspector import InspectorCli
from tests.helpers.mcp_results import assert_refused, text_of
from tests.helpers.waiting import PATIENCE_S

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
MODULE = "hybridmcp_app.mcp_servers.workspace"
LIMIT = 1000  # bytes a call may read or write, in every test here
TOOLS = {  # name: (readOnlyHint, destructiveHint, idempotentHint)
    "inventory": (False, False, True),
    "read_file": (True, False, True),
    "search_files": (True, False, True),
    "write_file": (False, True, True),
    "edit_file": (False, True, False),
    "list_snapshots": (True, False, True),
    "restore_snapshot": (False, True, True),
    "backup": (False, False, False),
}
# (tool, arguments, a part of the message); "{outside}" is the folder next to the root
ATTACKS: list[tuple[str, dict[str, Any], str]] = [
    ("read_file", {"path": "../outside/secret.txt"}, "'..' is not allowed"),
    ("read_file", {"path": "{outside}/secret.txt"}, "is outside the workspace roots"),
    ("read_file", {"path": "/etc/passwd"}, "is outside the workspace roots"),
    ("read_file", {"path": "escape.txt"}, "a symbolic link leads outside the workspace roots"),
    ("read_file", {"path": "escape_dir/secret.txt"}, "a symbolic link leads outside"),
    ("search_files", {"query": "fox", "path": "escape_dir"}, "a symbolic link leads outside"),
    ("read_file", {"path": "big.txt"}, "big.txt is 1.5 KiB; files up to 1000 B can be read"),
    ("write_file", {"path": "new.txt", "content": "x" * (LIMIT + 1)}, "at most 1000 characters"),
    ("write_file", {"path": "new.txt", "content": "é" * 600}, "at most 1000 B can be written"),
    ("write_file", {"path": "escape.txt", "content": "x"}, "a symbolic link leads outside"),
    ("write_file", {"path": f"{INTERNAL_DIR}/x", "content": "x"}, "the server's own folder"),
    ("edit_file", {"path": "missing.md", "old_text": "a", "new_text": "b"}, "does not exist"),
    ("edit_file", {"path": "notes.md", "old_text": "wolf", "new_text": "b"}, "was not found"),
    ("restore_snapshot", {"snapshot_id": "../../etc/passwd"}, "should match pattern"),
    ("backup", {"paths": ["escape_dir"]}, "a symbolic link leads outside"),
    ("read_file", {}, "path"),  # a required argument missing
]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "src").mkdir(parents=True)
    outside.mkdir()
    (root / "notes.md").write_text("# Notes\nThe quick brown fox\n")
    (root / "src" / "app.py").write_text("def main():\n    return 'fox'\n")
    (root / "big.txt").write_text("x" * 1536)
    (outside / "secret.txt").write_text("the fox outside\n")
    (root / "escape.txt").symlink_to(outside / "secret.txt")
    (root / "escape_dir").symlink_to(outside, target_is_directory=True)
    return root


def server_args(*roots: Path) -> list[str]:
    options = [f"--root={root}" for root in roots]
    return ["-m", MODULE, *options, f"--max-read-bytes={LIMIT}", f"--max-write-bytes={LIMIT}"]


def filled_in(arguments: dict[str, Any], root: Path) -> dict[str, Any]:
    outside = root.parent / "outside"
    return {
        key: value.format(outside=outside) if isinstance(value, str) else value
        for key, value in arguments.items()
    }


async def check_attacks(client: Client, root: Path) -> None:
    for tool, arguments, fragment in ATTACKS:
        assert_refused(await client.call_tool(tool, filled_in(arguments, root)), fragment)
    assert (root.parent / "outside" / "secret.txt").read_text() == "the fox outside\n"
    assert not (root / "new.txt").exists()


async def check_round_trip(client: Client, root: Path) -> None:
    """Write, edit, list the snapshots, restore: the file ends as it began."""
    written = await client.call_tool("write_file", {"path": "notes.md", "content": "v2 fox\n"})
    assert not written.is_error, text_of(written)
    edited = await client.call_tool(
        "edit_file", {"path": "notes.md", "old_text": "fox", "new_text": "dog"}
    )
    assert edited.structured_content is not None and edited.structured_content["line"] == 1
    assert (root / "notes.md").read_text() == "v2 dog\n"
    listed = (await client.call_tool("list_snapshots", {"path": "notes.md"})).structured_content
    assert listed is not None
    first = listed["snapshots"][-1]
    assert [each["reason"] for each in listed["snapshots"]] == ["edit_file", "write_file"]
    restored = await client.call_tool("restore_snapshot", {"snapshot_id": first["id"]})
    assert not restored.is_error, text_of(restored)
    assert (root / "notes.md").read_text() == "# Notes\nThe quick brown fox\n"


# ---------------------------------------------------------------- in memory


@pytest.fixture
def in_memory(root: Path) -> WorkspaceServer:
    limits = SizeLimits(max_read_bytes=LIMIT, max_write_bytes=LIMIT)
    return WorkspaceServer(WorkspaceService([root], limits=limits))


async def test_in_memory_the_tools_are_listed_with_accurate_annotations(
    in_memory: WorkspaceServer,
) -> None:
    async with Client(in_memory.build()) as client:
        tools = (await client.list_tools()).tools

    hints = {
        tool.name: (a.read_only_hint, a.destructive_hint, a.idempotent_hint)
        for tool in tools
        if (a := tool.annotations) is not None
    }
    assert hints == TOOLS
    assert all(tool.annotations and tool.annotations.open_world_hint is False for tool in tools)
    assert all(tool.output_schema for tool in tools)
    write = next(tool for tool in tools if tool.name == "write_file")
    assert write.input_schema["properties"]["content"]["maxLength"] == LIMIT


@pytest.mark.parametrize(("tool", "arguments", "fragment"), ATTACKS)
async def test_in_memory_each_attack_is_a_tool_error_with_a_reason(
    in_memory: WorkspaceServer, root: Path, tool: str, arguments: dict[str, Any], fragment: str
) -> None:
    outside = root.parent / "outside"
    filled = {
        k: v.format(outside=outside) if isinstance(v, str) else v for k, v in arguments.items()
    }
    async with Client(in_memory.build()) as client:
        assert_refused(await client.call_tool(tool, filled), fragment)


async def test_in_memory_write_edit_and_restore_round_trip(
    in_memory: WorkspaceServer, root: Path
) -> None:
    async with Client(in_memory.build()) as client:
        await check_round_trip(client, root)
        inventory = await client.call_tool("inventory", {})
        backup = await client.call_tool("backup", {"paths": ["notes.md", "src"]})
        found = await client.call_tool("search_files", {"query": "FOX"})

    assert inventory.structured_content is not None
    assert inventory.structured_content["roots"][0]["files"] == 3  # not escape.txt, the link out
    assert (root / INTERNAL_DIR / "file_registry.json").exists()
    assert backup.structured_content is not None
    assert (Path(backup.structured_content["location"]) / "src" / "app.py").exists()
    assert found.structured_content is not None
    assert [hit["path"] for hit in found.structured_content["hits"]] == ["notes.md", "src/app.py"]


# ---------------------------------------------------------------- stdio subprocess


async def test_as_a_subprocess_over_stdio(root: Path, tmp_path: Path) -> None:
    second = tmp_path / "second"
    second.mkdir()
    (second / "other.txt").write_text("second root\n")
    parameters = StdioServerParameters(
        command=sys.executable, args=server_args(root, second), cwd=REPO
    )
    async with asyncio.timeout(PATIENCE_S), Client(parameters) as client:
        assert {tool.name for tool in (await client.list_tools()).tools} == set(TOOLS)
        other = await client.call_tool("read_file", {"path": str(second / "other.txt")})
        assert other.structured_content is not None
        assert other.structured_content["text"] == "second root\n"
        await check_round_trip(client, root)
        await check_attacks(client, root)


def test_with_no_root_chosen_it_refuses_to_start_in_the_folder_it_was_launched_from(
    root: Path, tmp_path: Path
) -> None:
    env = {**os.environ, HOME_ENV_VAR: str(tmp_path / "home")}  # settings without roots
    result = subprocess.run(
        [sys.executable, "-m", MODULE], cwd=root, env=env,
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert result.returncode == 2
    assert result.stderr.startswith("workspace: no workspace folder chosen: choose one when ")
    assert "--root DIR" in result.stderr and "Traceback" not in result.stderr
    assert not (root / ".hybridmcp-workspace").exists()  # nothing written where it was started


async def test_with_no_root_the_roots_in_the_apps_settings_are_the_workspace(
    root: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    settings = Settings.model_validate({"mcp": {"workspace_roots": [str(root)]}})
    SettingsStore(AppPaths.under(home).ensure()).save(settings)
    env = {**os.environ, HOME_ENV_VAR: str(home)}
    parameters = StdioServerParameters(
        command=sys.executable, args=["-m", MODULE], cwd=tmp_path, env=env
    )

    async with asyncio.timeout(PATIENCE_S), Client(parameters) as client:
        result = await client.call_tool("read_file", {"path": "notes.md"})

    assert "The quick brown fox" in text_of(result)


def test_a_root_that_does_not_exist_stops_the_server_with_a_message(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", MODULE, "--root", str(tmp_path / "nowhere")],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert result.returncode == 2
    assert f"workspace: workspace root {tmp_path / 'nowhere'} is not a folder" in result.stderr
    assert "Traceback" not in result.stderr


# ---------------------------------------------------------------- Streamable HTTP


def workspace_http(
    root: Path, *, host: str = "127.0.0.1", token: str | None = None
) -> AbstractContextManager[str]:
    """The server over Streamable HTTP; its URL on 127.0.0.1."""
    env = {key: value for key, value in os.environ.items() if key != TOKEN_ENV}
    if token is not None:
        env[TOKEN_ENV] = token
    arguments = [*server_args(root)[1:], "--host", host]  # without the leading "-m"
    return http_server(arguments, free_port(), env, REPO)


@asynccontextmanager
async def bearer(url: str, token: str) -> AsyncIterator[Any]:
    async with (
        create_mcp_http_client(headers={"Authorization": f"Bearer {token}"}) as http_client,
        streamable_http_client(url, http_client=http_client) as streams,
    ):
        yield streams


async def test_over_http_on_localhost(root: Path) -> None:
    with workspace_http(root) as url:
        async with asyncio.timeout(PATIENCE_S), Client(url) as client:
            assert {tool.name for tool in (await client.list_tools()).tools} == set(TOOLS)
            await check_round_trip(client, root)
            await check_attacks(client, root)


async def test_over_http_beyond_localhost_a_token_is_required(root: Path) -> None:
    token = secrets.token_urlsafe(24)
    with workspace_http(root, host="0.0.0.0", token=token) as url:
        assert await asyncio.to_thread(status_of, url) == 401
        assert await asyncio.to_thread(status_of, url, "wrong-token") == 401
        async with asyncio.timeout(PATIENCE_S), Client(bearer(url, token)) as client:
            result = await client.call_tool("read_file", {"path": "notes.md"})
    assert "quick brown fox" in text_of(result)


def test_binding_beyond_localhost_without_a_token_is_refused(root: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key != TOKEN_ENV}
    env |= keyring_env(None)  # no keychain to take a token from
    result = subprocess.run(
        [sys.executable, *server_args(root), "--http", "--host", "0.0.0.0"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert result.returncode == 2
    assert "workspace: serving on 0.0.0.0 needs a bearer token in $HYBRIDMCP_MCP_TOKEN (no" in (
        result.stderr
    )


# ---------------------------------------------------------------- the MCP Inspector


def test_the_inspector_lists_the_tools_with_their_annotations(
    inspector_script: Path, root: Path
) -> None:
    inspector = InspectorCli(inspector_script, [sys.executable, *server_args(root)], cwd=REPO)

    tools = inspector.list_tools()

    hints = {
        tool["name"]: tuple(
            tool["annotations"][key]
            for key in ("readOnlyHint", "destructiveHint", "idempotentHint")
        )
        for tool in tools
    }
    assert hints == TOOLS


def test_the_inspector_calls_a_tool_and_gets_a_refusal_as_a_tool_error(
    inspector_script: Path, root: Path
) -> None:
    inspector = InspectorCli(inspector_script, [sys.executable, *server_args(root)], cwd=REPO)

    found = inspector.call_tool("search_files", query="fox", max_results="5")
    refused = inspector.call_tool("read_file", path="../outside/secret.txt")

    assert found["isError"] is False
    assert [hit["path"] for hit in found["structuredContent"]["hits"]] == [
        "notes.md", "src/app.py",
    ]  # fmt: skip
    assert refused["isError"] is True
    assert "'..' is not allowed" in refused["content"][0]["text"]


def test_the_inspector_reaches_the_server_over_http(inspector_script: Path, root: Path) -> None:
    with workspace_http(root) as url:
        inspector = InspectorCli(inspector_script, [url, "--transport", "http"], cwd=REPO)
        result = inspector.call_tool("read_file", path="notes.md")

    assert result["structuredContent"]["text"] == "# Notes\nThe quick brown fox\n"
