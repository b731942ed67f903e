"""A repository that ships links in (or as) the workspace server's own folder (issue #19, hole 2).

``.hybridmcp-workspace/inventory.md -> ~/.bashrc``, ``snapshots -> /elsewhere``, the folder
itself as a link, the same in another letter case, a snapshot whose content is a link to a
secret: whatever the tools are asked, the files outside the root stay byte for byte as they were,
nothing new appears outside the root, and the tool answers with a refusal that names the link.
The real ``WorkspaceService``, and the real server as a subprocess over stdio.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

from hybridmcp_app.workspace.sandbox import INTERNAL_DIR, WorkspaceError
from hybridmcp_app.workspace.workspace_service import WorkspaceService
from tests.helpers.mcp_results import assert_refused
from tests.helpers.waiting import PATIENCE_S

REPO = Path(__file__).resolve().parents[2]
SECRET = b"export PATH=$HOME/bin:$PATH  # the user's own\n"
NOTES = "# Notes\nThe quick brown fox\n"


@dataclass(frozen=True)
class Planted:
    root: Path
    outside: Path  # the folder the links lead to, beside the root

    @property
    def internal(self) -> Path:
        return self.root / INTERNAL_DIR


def tree_of(folder: Path, *, leave_out: Collection[Path] = ()) -> dict[str, str | bytes]:
    """Every entry below ``folder``: a file's bytes, a link's target, "folder" for a folder."""
    found: dict[str, str | bytes] = {}
    for path in sorted(folder.rglob("*")):
        if any(path == left or left in path.parents for left in leave_out):
            continue
        name = path.relative_to(folder).as_posix()
        if path.is_symlink():
            found[name] = f"link to {path.readlink()}"
        elif path.is_dir():
            found[name] = "folder"
        else:
            found[name] = path.read_bytes()
    return found


def outside_the_root(planted: Planted) -> dict[str, str | bytes]:
    """Everything beside the root (the app's own data folder left out: not the workspace's)."""
    top = planted.root.parent
    return tree_of(top, leave_out=[planted.root, top / "home"])


@pytest.fixture
def planted(tmp_path: Path) -> Planted:
    root, outside = tmp_path / "repo", tmp_path / "outside"
    (root / "src").mkdir(parents=True)
    (root / "notes.md").write_text(NOTES)
    (root / "src" / "app.py").write_text("def main():\n    return 'fox'\n")
    (outside / "folder").mkdir(parents=True)
    (outside / "bashrc").write_bytes(SECRET)
    (outside / "folder" / "kept.txt").write_bytes(b"kept as it was\n")
    return Planted(root=root, outside=outside)


def link_in_folder(name: str, to: str) -> Callable[[Planted], str]:
    """A plant: ``.hybridmcp-workspace/<name>`` as a link to ``outside/<to>``."""

    def plant(planted: Planted) -> str:
        planted.internal.mkdir(exist_ok=True)
        (planted.internal / name).symlink_to(planted.outside / to)
        return name

    return plant


def folder_as_link(name: str) -> Callable[[Planted], str]:
    """A plant: ``<root>/<name>`` (the server's folder in some letter case) as a link out."""

    def plant(planted: Planted) -> str:
        (planted.root / name).symlink_to(planted.outside / "folder", target_is_directory=True)
        return name

    return plant


PLANTS = {
    "inventory.md": link_in_folder("inventory.md", "bashrc"),
    "file_registry.json": link_in_folder("file_registry.json", "bashrc"),
    ".gitignore": link_in_folder(".gitignore", "bashrc"),
    "snapshots": link_in_folder("snapshots", "folder"),
    "backups": link_in_folder("backups", "folder"),
    "the folder itself": folder_as_link(INTERNAL_DIR),
    "the folder in another letter case": folder_as_link(".HybridMCP-Workspace"),
}
# every tool that reads or writes the server's own folder, as a call on the service
CALLS: dict[str, Callable[[WorkspaceService], Awaitable[object]]] = {
    "inventory": lambda service: service.inventory(),
    "write_file": lambda service: service.write_file("notes.md", "a changed fox\n"),
    "edit_file": lambda service: service.edit_file("notes.md", "fox", "dog"),
    "backup": lambda service: service.backup(["src"]),
    "list_snapshots": lambda service: service.list_snapshots(),
    "search_files": lambda service: service.search_files("fox"),
}


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("plant", PLANTS)
async def test_a_link_planted_in_or_as_the_servers_folder_is_refused_and_nothing_leaves_the_root(
    planted: Planted, plant: str, call: str
) -> None:
    link = PLANTS[plant](planted)
    outside_before = outside_the_root(planted)
    service = WorkspaceService([planted.root])

    with pytest.raises(WorkspaceError) as refused:
        await CALLS[call](service)

    assert f"{link} is a symbolic link" in str(refused.value)
    assert "remove the link" in str(refused.value)
    assert outside_the_root(planted) == outside_before
    assert (planted.root / "notes.md").read_text() == NOTES


async def test_a_snapshot_whose_content_is_a_link_to_a_secret_is_not_restored(
    planted: Planted,
) -> None:
    """A shipped record for notes.md whose content file links to the user's secret: restoring it
    would copy the secret into the repository."""
    service = WorkspaceService([planted.root])
    written = await service.write_file("notes.md", "changed\n")
    assert written.snapshot is not None
    content = planted.internal / "snapshots" / f"{written.snapshot.id}.snapshot"
    content.unlink()
    content.symlink_to(planted.outside / "bashrc")
    outside_before = outside_the_root(planted)

    with pytest.raises(WorkspaceError, match=rf"{written.snapshot.id}.snapshot is a symbolic link"):
        await service.restore_snapshot(written.snapshot.id)
    with pytest.raises(WorkspaceError, match="is a symbolic link"):
        await service.list_snapshots("notes.md")

    assert (planted.root / "notes.md").read_text() == "changed\n"
    assert outside_the_root(planted) == outside_before


async def test_a_snapshot_record_that_is_a_link_is_refused_not_read(planted: Planted) -> None:
    service = WorkspaceService([planted.root])
    written = await service.write_file("notes.md", "changed\n")
    assert written.snapshot is not None
    record = planted.internal / "snapshots" / f"{written.snapshot.id}.json"
    (planted.outside / "record.json").write_bytes(record.read_bytes())
    record.unlink()
    record.symlink_to(planted.outside / "record.json")

    with pytest.raises(WorkspaceError, match=rf"{written.snapshot.id}.json is a symbolic link"):
        await service.restore_snapshot(written.snapshot.id)


async def test_a_file_planted_where_the_server_keeps_a_folder_is_an_error_with_a_reason(
    planted: Planted,
) -> None:
    planted.internal.mkdir()
    (planted.internal / "snapshots").write_text("not a folder")
    service = WorkspaceService([planted.root])

    with pytest.raises(
        WorkspaceError, match=r"snapshot of notes\.md: a part of the path is a file"
    ):
        await service.write_file("notes.md", "changed\n")

    assert (planted.root / "notes.md").read_text() == NOTES


async def test_without_planted_links_the_servers_folder_works_as_before(planted: Planted) -> None:
    service = WorkspaceService([planted.root])

    for call in CALLS.values():
        await call(service)

    assert (planted.internal / ".gitignore").read_text().endswith("*\n")
    assert (planted.internal / "inventory.md").read_text().startswith("# Workspace inventory")
    assert len(list((planted.internal / "snapshots").glob("*.snapshot"))) == 2
    assert len(list((planted.internal / "backups").iterdir())) == 1


@pytest.mark.integration
async def test_the_server_as_a_subprocess_refuses_a_linked_folder_with_a_readable_error(
    planted: Planted,
) -> None:
    link = folder_as_link(INTERNAL_DIR)(planted)
    outside_before = outside_the_root(planted)
    parameters = StdioServerParameters(
        command=sys.executable,
        args=["-m", "hybridmcp_app.mcp_servers.workspace", f"--root={planted.root}"],
        cwd=REPO,
    )

    tools: list[tuple[str, dict[str, Any]]] = [
        ("inventory", {}),
        ("write_file", {"path": "notes.md", "content": "changed\n"}),
        ("edit_file", {"path": "notes.md", "old_text": "fox", "new_text": "dog"}),
        ("backup", {"paths": ["src"]}),
        ("list_snapshots", {}),
    ]

    async with asyncio.timeout(PATIENCE_S), Client(parameters) as client:
        for tool, arguments in tools:
            assert_refused(await client.call_tool(tool, arguments), f"{link} is a symbolic link")
        assert_refused(
            await client.call_tool("write_file", {"path": f"{link}/x", "content": "x"}),
            "a symbolic link leads outside the workspace roots",
        )

    assert outside_the_root(planted) == outside_before
    assert (planted.root / "notes.md").read_text() == NOTES
