"""The service's file operations: read, write, edit, and the snapshots that make them undoable."""

from __future__ import annotations

import stat

import pytest

from hybridmcp_app.workspace.sandbox import INTERNAL_DIR, PathRefused, SizeLimits, TooLarge
from hybridmcp_app.workspace.sandbox import WorkspaceError as Refused
from hybridmcp_app.workspace.workspace_service import WorkspaceService
from tests.unit.workspace.conftest import Workspace


@pytest.fixture
def service(workspace: Workspace) -> WorkspaceService:
    limits = SizeLimits(max_read_bytes=4096, max_write_bytes=4096, max_backup_bytes=10_000)
    return WorkspaceService([workspace.root, workspace.second], limits=limits)


async def test_a_file_is_read_with_its_size_hash_and_line_count(service: WorkspaceService) -> None:
    content = await service.read_file("notes.md")

    assert content.text == "# Notes\nThe quick brown fox\n"
    assert (content.path, content.size, content.lines) == ("notes.md", 28, 2)
    assert len(content.sha256) == 64
    assert not content.replaced_invalid_utf8


async def test_bytes_that_are_not_utf8_are_shown_replaced(
    service: WorkspaceService, workspace: Workspace
) -> None:
    (workspace.root / "latin1.txt").write_bytes("café".encode("latin-1"))

    content = await service.read_file("latin1.txt")

    assert content.text == "caf\ufffd"
    assert content.replaced_invalid_utf8


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("big.txt", b"x" * 5000, r"big\.txt is 4\.9 KiB; files up to 4\.0 KiB can be read"),
        ("blob.bin", b"\x00\x01\x02", r"blob\.bin is a binary file"),
    ],
)
async def test_oversized_and_binary_files_are_refused(
    service: WorkspaceService, workspace: Workspace, name: str, data: bytes, message: str
) -> None:
    (workspace.root / name).write_bytes(data)

    with pytest.raises(Refused, match=message):
        await service.read_file(name)


@pytest.mark.parametrize(
    ("path", "message"), [("missing.txt", "does not exist"), ("src", "is a folder, not a file")]
)
async def test_reading_a_missing_file_or_a_folder_says_so(
    service: WorkspaceService, path: str, message: str
) -> None:
    with pytest.raises(Refused, match=f"{path} {message}"):
        await service.read_file(path)


async def test_a_new_file_is_written_with_its_folders_and_no_snapshot(
    service: WorkspaceService, workspace: Workspace
) -> None:
    result = await service.write_file("docs/new/readme.md", "hello\n")

    assert (workspace.root / "docs/new/readme.md").read_text() == "hello\n"
    assert (result.created, result.changed, result.snapshot) == (True, True, None)
    assert not list((workspace.root / "docs/new").glob(".*.tmp"))


async def test_overwriting_saves_the_previous_content_first(
    service: WorkspaceService, workspace: Workspace
) -> None:
    result = await service.write_file("notes.md", "replaced\n")

    assert (workspace.root / "notes.md").read_text() == "replaced\n"
    assert result.snapshot is not None
    assert (result.snapshot.path, result.snapshot.reason) == ("notes.md", "write_file")
    saved = workspace.root / INTERNAL_DIR / "snapshots" / f"{result.snapshot.id}.snapshot"
    assert saved.read_text() == "# Notes\nThe quick brown fox\n"
    assert (workspace.root / INTERNAL_DIR / ".gitignore").read_text().endswith("*\n")


async def test_writing_the_same_content_again_changes_nothing(service: WorkspaceService) -> None:
    await service.write_file("notes.md", "v2\n")

    again = await service.write_file("notes.md", "v2\n")

    assert (again.changed, again.snapshot) == (False, None)
    assert len((await service.list_snapshots("notes.md")).snapshots) == 1


async def test_a_write_keeps_the_files_permissions(
    service: WorkspaceService, workspace: Workspace
) -> None:
    script = workspace.root / "run.sh"
    script.write_text("echo 1\n")
    script.chmod(0o750)

    await service.write_file("run.sh", "echo 2\n")

    assert stat.S_IMODE(script.stat().st_mode) == 0o750


async def test_the_snapshot_of_a_private_file_stays_private(
    service: WorkspaceService, workspace: Workspace
) -> None:
    secret = workspace.root / ".env"
    secret.write_text("TOKEN=1\n")
    secret.chmod(0o600)

    result = await service.write_file(".env", "TOKEN=2\n")

    assert result.snapshot is not None
    saved = workspace.root / INTERNAL_DIR / "snapshots" / f"{result.snapshot.id}.snapshot"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600


async def test_a_write_over_the_limit_is_refused_and_leaves_the_file(
    service: WorkspaceService, workspace: Workspace
) -> None:
    with pytest.raises(TooLarge, match=r"at most 4\.0 KiB can be written"):
        await service.write_file("notes.md", "é" * 2100)  # 4200 bytes in UTF-8

    assert (workspace.root / "notes.md").read_text().startswith("# Notes")


@pytest.mark.parametrize("path", ["../x.txt", "escape.txt", "/tmp/x.txt", f"{INTERNAL_DIR}/x"])
async def test_writes_outside_the_roots_or_into_the_servers_folder_are_refused(
    service: WorkspaceService, workspace: Workspace, path: str
) -> None:
    with pytest.raises(PathRefused):
        await service.write_file(path, "nope")

    assert (workspace.outside / "secret.txt").read_text() == "the fox outside\n"


async def test_a_write_through_a_link_inside_changes_the_file_it_names(
    service: WorkspaceService, workspace: Workspace
) -> None:
    result = await service.write_file("inner.txt", "through the link\n")

    assert result.path == "notes.md"
    assert (workspace.root / "inner.txt").is_symlink()
    assert (workspace.root / "notes.md").read_text() == "through the link\n"


async def test_edit_replaces_the_one_occurrence_and_says_on_which_line(
    service: WorkspaceService, workspace: Workspace
) -> None:
    result = await service.edit_file("src/app.py", "'fox'", "'dog'")

    assert (workspace.root / "src/app.py").read_text() == "def main():\n    return 'dog'\n"
    assert result.line == 2
    assert result.snapshot.reason == "edit_file"


async def test_edit_keeps_windows_line_ends(
    service: WorkspaceService, workspace: Workspace
) -> None:
    (workspace.root / "crlf.txt").write_bytes(b"one\r\ntwo\r\n")

    await service.edit_file("crlf.txt", "two", "2")

    assert (workspace.root / "crlf.txt").read_bytes() == b"one\r\n2\r\n"


@pytest.mark.parametrize(
    ("old", "message"),
    [
        ("wolf", r"old_text was not found in notes\.md; nothing changed"),
        ("o", r"old_text occurs 3 times in notes\.md; include more of the surrounding text"),
        ("", "old_text is empty"),
    ],
)
async def test_edit_refuses_missing_ambiguous_and_empty_old_text(
    service: WorkspaceService, workspace: Workspace, old: str, message: str
) -> None:
    with pytest.raises(Refused, match=message):
        await service.edit_file("notes.md", old, "x")

    assert not (workspace.root / INTERNAL_DIR / "snapshots").exists()


async def test_edit_on_a_missing_file_says_it_does_not_exist(service: WorkspaceService) -> None:
    with pytest.raises(Refused, match=r"nothing\.md does not exist"):
        await service.edit_file("nothing.md", "a", "b")


async def test_edit_refuses_a_file_that_is_not_utf8(
    service: WorkspaceService, workspace: Workspace
) -> None:
    (workspace.root / "latin1.txt").write_bytes("café au lait".encode("latin-1"))

    with pytest.raises(Refused, match=r"latin1\.txt is not UTF-8 text \(byte 3\)"):
        await service.edit_file("latin1.txt", "lait", "milk")


async def test_edit_refuses_a_result_over_the_write_limit(service: WorkspaceService) -> None:
    with pytest.raises(TooLarge):
        await service.edit_file("notes.md", "fox", "x" * 5000)


async def test_snapshots_are_listed_newest_first_per_file_and_limited(
    service: WorkspaceService,
) -> None:
    for version in range(3):
        await service.write_file("notes.md", f"v{version}\n")
    await service.edit_file("src/app.py", "fox", "cat")

    everything = await service.list_snapshots()
    of_notes = await service.list_snapshots("notes.md")
    newest = await service.list_snapshots(limit=1)

    assert [record.path for record in everything.snapshots] == ["src/app.py", *["notes.md"] * 3]
    assert [record.size for record in of_notes.snapshots] == [3, 3, 28]  # v1, v0, the original
    assert (len(newest.snapshots), newest.truncated) == (1, True)
    assert not everything.truncated


async def test_restore_puts_the_content_back_and_can_itself_be_undone(
    service: WorkspaceService, workspace: Workspace
) -> None:
    written = await service.write_file("notes.md", "changed\n")
    assert written.snapshot is not None

    restored = await service.restore_snapshot(written.snapshot.id)

    notes = workspace.root / "notes.md"
    assert notes.read_text() == "# Notes\nThe quick brown fox\n"
    assert (restored.path, restored.restored_from, restored.changed) == (
        "notes.md", written.snapshot.id, True,
    )  # fmt: skip
    assert restored.snapshot is not None
    assert restored.snapshot.reason == f"restore_snapshot {written.snapshot.id}"

    await service.restore_snapshot(restored.snapshot.id)
    assert notes.read_text() == "changed\n"


async def test_restoring_the_content_already_there_changes_nothing(
    service: WorkspaceService,
) -> None:
    written = await service.write_file("notes.md", "changed\n")
    assert written.snapshot is not None
    await service.restore_snapshot(written.snapshot.id)

    again = await service.restore_snapshot(written.snapshot.id)

    assert (again.changed, again.snapshot) == (False, None)


async def test_a_deleted_file_is_restored_from_its_snapshot(
    service: WorkspaceService, workspace: Workspace
) -> None:
    written = await service.write_file("src/app.py", "gone soon\n")
    assert written.snapshot is not None
    (workspace.root / "src/app.py").unlink()

    restored = await service.restore_snapshot(written.snapshot.id)

    assert (restored.changed, restored.snapshot) == (True, None)
    assert (workspace.root / "src/app.py").read_text().startswith("def main")


async def test_an_unknown_snapshot_id_is_an_error(service: WorkspaceService) -> None:
    with pytest.raises(Refused, match=r"no snapshot 20990101T000000\.000000Z-abcdef"):
        await service.restore_snapshot("20990101T000000.000000Z-abcdef")
    with pytest.raises(Refused, match="no snapshot"):
        await service.restore_snapshot("../../etc/passwd")


async def test_snapshots_live_in_the_root_of_the_file(
    service: WorkspaceService, workspace: Workspace
) -> None:
    other = str(workspace.second / "other.txt")

    result = await service.write_file(other, "changed\n")

    assert result.path == str(workspace.second.resolve() / "other.txt")
    assert result.snapshot is not None
    assert result.snapshot.root == str(workspace.second.resolve())
    assert (workspace.second / INTERNAL_DIR / "snapshots" / f"{result.snapshot.id}.json").exists()


async def test_a_snapshot_record_without_its_content_is_not_listed(
    service: WorkspaceService, workspace: Workspace
) -> None:
    written = await service.write_file("notes.md", "changed\n")
    assert written.snapshot is not None
    folder = workspace.root / INTERNAL_DIR / "snapshots"
    (folder / f"{written.snapshot.id}.snapshot").unlink()
    (folder / "junk.json").write_text("{not json")

    assert (await service.list_snapshots()).snapshots == ()
