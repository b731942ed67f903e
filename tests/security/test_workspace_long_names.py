"""An over-long file name or path gets a message that says so (issue #19, the smaller ones).

A 300-character name used to escape as a bare ``OSError`` (ENAMETOOLONG), which the MCP layer
showed as an empty "Error executing tool write_file". Through the service and through the server
(in memory, the SDK's real client), each tool now says the name is too long.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from hybridmcp_app.mcp_servers.workspace import WorkspaceServer
from hybridmcp_app.workspace.sandbox import WorkspaceError
from hybridmcp_app.workspace.workspace_service import WorkspaceService
from tests.helpers.mcp_results import assert_refused

LONG_NAME = "x" * 300
NAME_TOO_LONG = ("is too long (3", "bytes); a file or folder name may have at most 255 bytes")
PATHS = [LONG_NAME, f"folder/{LONG_NAME}/file.txt", f"{LONG_NAME}.md"]


def calls(path: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        ("write_file", {"path": path, "content": "text\n"}),
        ("read_file", {"path": path}),
        ("edit_file", {"path": path, "old_text": "a", "new_text": "b"}),
        ("search_files", {"query": "fox", "path": path}),
        ("list_snapshots", {"path": path}),
        ("backup", {"paths": [path]}),
    ]


def names_in(folder: Path) -> list[str]:
    return sorted(child.name for child in folder.iterdir())


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "notes.md").write_text("# Notes\nThe quick brown fox\n")
    return root


@pytest.mark.parametrize("path", PATHS)
async def test_each_tool_says_a_name_is_too_long(root: Path, path: str) -> None:
    async with Client(WorkspaceServer(WorkspaceService([root])).build()) as client:
        for tool, arguments in calls(path):
            result = await client.call_tool(tool, arguments)
            for fragment in NAME_TOO_LONG:
                assert_refused(result, fragment)

    assert await asyncio.to_thread(names_in, root) == ["notes.md"]


async def test_a_path_over_the_length_limit_is_refused_saying_how_long(root: Path) -> None:
    service = WorkspaceService([root])

    with pytest.raises(WorkspaceError, match="the path is too long: 5000 characters, at most 4096"):
        await service.write_file("a/" * 2500, "text\n")
    async with Client(WorkspaceServer(service).build()) as client:
        result = await client.call_tool("read_file", {"path": "q" * 5000})

    assert_refused(result, "at most 4096 characters")
