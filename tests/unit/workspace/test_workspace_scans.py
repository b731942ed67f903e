"""The service's whole-tree operations: text search, inventory, backups — all kept to the roots."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hybridmcp_app.workspace.sandbox import INTERNAL_DIR, SizeLimits, TooLarge
from hybridmcp_app.workspace.sandbox import WorkspaceError as Refused
from hybridmcp_app.workspace.workspace_service import WorkspaceService
from tests.unit.workspace.conftest import Workspace, write_tree


@pytest.fixture
def service(workspace: Workspace) -> WorkspaceService:
    limits = SizeLimits(max_read_bytes=4096, max_write_bytes=4096, max_backup_bytes=10_000)
    return WorkspaceService([workspace.root, workspace.second], limits=limits)


async def test_search_finds_lines_in_path_order_and_skips_what_gitignore_excludes(
    service: WorkspaceService,
) -> None:
    result = await service.search_files("fox")

    assert [(hit.path, hit.line, hit.text) for hit in result.hits] == [
        ("notes.md", 2, "The quick brown fox"),
        ("src/app.py", 2, "    return 'fox'"),
    ]  # not build/out.txt (ignored), not the link to the outside folder
    assert (result.files_searched, result.truncated) == (2, False)


async def test_search_is_case_insensitive_unless_asked(service: WorkspaceService) -> None:
    assert len((await service.search_files("FOX")).hits) == 2
    assert (await service.search_files("FOX", case_sensitive=True)).hits == ()


async def test_search_can_be_narrowed_to_a_folder_or_a_glob(service: WorkspaceService) -> None:
    in_src = await service.search_files("fox", "src")
    python = await service.search_files("fox", glob="*.py")

    assert [hit.path for hit in in_src.hits] == ["src/app.py"]
    assert [hit.path for hit in python.hits] == ["src/app.py"]


async def test_search_stops_at_the_result_limit(
    service: WorkspaceService, workspace: Workspace
) -> None:
    write_tree(workspace.root, {"many.txt": "fox\n" * 20})

    result = await service.search_files("fox", max_results=5)

    assert (len(result.hits), result.truncated) == (5, True)


async def test_search_shortens_very_long_lines(
    service: WorkspaceService, workspace: Workspace
) -> None:
    write_tree(workspace.root, {"long.txt": "fox " + "x" * 1000 + "\n"})

    result = await service.search_files("fox", glob="long.txt")

    assert len(result.hits[0].text) == 300
    assert result.hits[0].text.endswith("…")


async def test_search_leaves_out_files_over_the_read_limit(
    service: WorkspaceService, workspace: Workspace
) -> None:
    write_tree(workspace.root, {"huge.txt": "fox\n" * 2000})

    assert "huge.txt" not in {hit.path for hit in (await service.search_files("fox")).hits}


async def test_search_refuses_a_path_outside_and_a_missing_one(service: WorkspaceService) -> None:
    with pytest.raises(Refused, match="symbolic link leads outside"):
        await service.search_files("fox", "escape_dir")
    with pytest.raises(Refused, match="nowhere does not exist"):
        await service.search_files("fox", "nowhere")


async def test_the_inventory_writes_the_registry_and_the_report_into_each_root(
    service: WorkspaceService, workspace: Workspace
) -> None:
    result = await service.inventory()

    first, second = result.roots
    folder = workspace.root.resolve() / INTERNAL_DIR
    assert first.root == str(workspace.root.resolve())
    assert (first.registry, first.report_path) == (
        str(folder / "file_registry.json"), str(folder / "inventory.md"),
    )  # fmt: skip
    # src/app.py and notes.md (as inner.txt, the link to it that sorts first); nothing outside
    assert first.files == 2
    registry = json.loads((folder / "file_registry.json").read_text())
    names = sorted(Path(entry["path"]).name for entry in registry["files"])
    assert names == ["app.py", "inner.txt"]
    assert not any("outside" in entry["path"] for entry in registry["files"] + registry["skipped"])
    assert (folder / "inventory.md").read_text() == first.report
    assert first.report.startswith("# Workspace inventory")
    assert second.files == 1


async def test_a_second_inventory_reuses_the_hashes_of_unchanged_files(
    service: WorkspaceService, workspace: Workspace
) -> None:
    for link in ("escape_dir", "escape.txt"):  # the scanner hashes what links lead to, outside
        (workspace.root / link).unlink()  # too (only its results are kept to the roots)
    first = await service.inventory(".")

    again = await service.inventory(".")

    assert [(each.files, each.hashed) for each in first.roots] == [(2, 2)]
    assert [(each.files, each.hashed) for each in again.roots] == [(2, 0)]


async def test_the_inventory_covers_roots_only(service: WorkspaceService) -> None:
    with pytest.raises(Refused, match="src is not a workspace root"):
        await service.inventory("src")


async def test_a_backup_copies_files_and_folders_with_their_places(
    service: WorkspaceService, workspace: Workspace
) -> None:
    await service.write_file("notes.md", "snapshotted first\n")  # fills the server's folder

    result = await service.backup(["notes.md", "src"])

    location = Path(result.location)
    assert location.parent == workspace.root.resolve() / INTERNAL_DIR / "backups"
    assert location.name == result.id
    assert (location / "notes.md").read_text() == "snapshotted first\n"
    assert (location / "src/app.py").read_text().startswith("def main")
    assert (result.paths, result.files) == (("notes.md", "src"), 2)


async def test_backing_up_the_root_leaves_out_the_servers_folder_and_copies_links_as_links(
    service: WorkspaceService, workspace: Workspace
) -> None:
    await service.write_file("notes.md", "changed\n")

    result = await service.backup(["."])

    location = Path(result.location)
    assert not (location / INTERNAL_DIR).exists()
    assert (location / "escape.txt").is_symlink()
    assert not (location / "escape_dir").is_dir() or (location / "escape_dir").is_symlink()
    assert (location / "build/out.txt").exists()  # a backup is of what is there


async def test_a_backup_goes_to_the_configured_folder(workspace: Workspace, tmp_path: Path) -> None:
    service = WorkspaceService([workspace.root], backup_dir=tmp_path / "backups")

    result = await service.backup(["notes.md"])

    assert Path(result.location).parent == (tmp_path / "backups").resolve() / "root"
    assert (Path(result.location) / "notes.md").exists()


async def test_a_backup_over_the_limit_is_refused_before_copying(
    service: WorkspaceService, workspace: Workspace
) -> None:
    write_tree(workspace.root, {"big/a.bin": b"x" * 6000, "big/b.bin": b"y" * 6000})

    with pytest.raises(TooLarge, match=r"would copy 11\.7 KiB; one backup may copy at most 9\.8"):
        await service.backup(["big"])

    assert not (workspace.root / INTERNAL_DIR / "backups").exists()


async def test_a_backup_across_roots_or_of_nothing_is_refused(
    service: WorkspaceService, workspace: Workspace
) -> None:
    with pytest.raises(Refused, match="different roots"):
        await service.backup(["notes.md", str(workspace.second / "other.txt")])
    with pytest.raises(Refused, match="at least one"):
        await service.backup([])
    with pytest.raises(Refused, match="symbolic link leads outside"):
        await service.backup(["escape_dir"])
