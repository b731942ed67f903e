"""Folders and files reached without following links: every step refuses a link, writes are
atomic and leave nothing behind, and the by-path mode (Windows, no ``dir_fd``) behaves the same
where no race is involved."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from hybridmcp_app.workspace.internal_folder import IGNORE_ALL, find_internal, open_internal
from hybridmcp_app.workspace.safe_files import LinkRefused, SafeDir
from hybridmcp_app.workspace.sandbox import INTERNAL_DIR, PathRefused

HINT = "remove it"


def names_in(folder: Path) -> list[str]:
    return sorted(child.name for child in folder.iterdir())


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "b" / "file.txt").write_text("in b\n")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_text("secret\n")
    (root / "out").symlink_to(tmp_path / "outside", target_is_directory=True)
    (root / "a" / "secret.txt").symlink_to(tmp_path / "outside" / "secret.txt")
    return root


@pytest.fixture(params=["descriptors", "paths"])
def top(request: pytest.FixtureRequest, tree: Path) -> Iterator[SafeDir]:
    """The root opened with descriptors, and the by-path mode that Windows uses."""
    if request.param == "paths":
        yield SafeDir(tree, None, label="root", hint=HINT)
        return
    with SafeDir.open(tree, label="root", hint=HINT) as opened:
        yield opened


def test_a_folder_is_walked_and_its_file_read(top: SafeDir) -> None:
    with top.walk(["a", "b"]) as folder:
        assert folder.read("file.txt") == b"in b\n"
        assert folder.label == "root/a/b"


def test_a_link_to_a_folder_on_the_way_is_refused_naming_it(top: SafeDir) -> None:
    with pytest.raises(LinkRefused, match=r"^root/out is a symbolic link; remove it$"):
        top.walk(["out"], create=True)


def test_a_link_to_a_file_is_neither_read_nor_written_through(top: SafeDir, tree: Path) -> None:
    with top.folder("a") as folder:
        with pytest.raises(LinkRefused, match=r"root/a/secret\.txt is a symbolic link"):
            folder.read("secret.txt")
        with pytest.raises(LinkRefused, match=r"root/a/secret\.txt is a symbolic link"):
            folder.write("secret.txt", b"overwritten")

    assert (tree.parent / "outside" / "secret.txt").read_text() == "secret\n"
    assert names_in(tree / "a") == ["b", "secret.txt"]


def test_missing_folders_are_created_and_a_new_file_written_with_the_usual_mode(
    top: SafeDir, tree: Path
) -> None:
    with top.walk(["new", "deeper"], create=True) as folder:
        folder.write("made.txt", b"made\n")

    made = tree / "new" / "deeper" / "made.txt"
    assert made.read_bytes() == b"made\n"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(made.stat().st_mode) == 0o666 & ~umask
    assert names_in(made.parent) == ["made.txt"]  # no temporary file left


def test_replacing_a_file_keeps_its_mode(top: SafeDir, tree: Path) -> None:
    script = tree / "a" / "b" / "file.txt"
    script.chmod(0o751)

    with top.walk(["a", "b"]) as folder:
        folder.write("file.txt", b"replaced\n")

    assert script.read_bytes() == b"replaced\n"
    assert stat.S_IMODE(script.stat().st_mode) == 0o751


def test_a_failed_write_leaves_no_temporary_file(top: SafeDir, tree: Path) -> None:
    with top.folder("a") as folder, pytest.raises(IsADirectoryError):
        folder.write("b", b"a folder is in the way")

    assert names_in(tree / "a") == ["b", "secret.txt"]


def test_a_name_with_a_separator_is_not_a_name(top: SafeDir) -> None:
    with pytest.raises(PathRefused, match="not a plain file or folder name"):
        top.read("a/b/file.txt")
    with pytest.raises(PathRefused, match="not a plain file or folder name"):
        top.folder("..")


def test_a_new_folder_must_not_exist_yet(top: SafeDir) -> None:
    with pytest.raises(FileExistsError):
        top.folder("a", new=True)


def test_a_pipe_is_refused_without_blocking(tree: Path) -> None:
    os.mkfifo(tree / "pipe")

    with SafeDir.open(tree, hint=HINT) as top, pytest.raises(PathRefused, match="not a regular"):
        top.read("pipe")


def test_a_copy_keeps_mode_and_times_and_reports_size_and_hash(tree: Path) -> None:
    source = tree / "a" / "b" / "file.txt"
    source.chmod(0o640)
    os.utime(source, ns=(1_000_000_000, 2_000_000_000))

    with SafeDir.open(tree, hint=HINT) as top, top.walk(["a", "b"]) as folder:
        size, digest = folder.copy_to("file.txt", top, "copy.txt", keep_metadata=True)

    copy = tree / "copy.txt"
    assert (size, copy.read_bytes()) == (5, b"in b\n")
    assert digest == hashlib.sha256(b"in b\n").hexdigest()
    assert stat.S_IMODE(copy.stat().st_mode) == 0o640
    assert copy.stat().st_mtime_ns == 2_000_000_000


def test_a_root_that_is_a_link_is_refused(tree: Path) -> None:
    with pytest.raises(LinkRefused, match="is a symbolic link"):
        SafeDir.open(tree / "out", hint=HINT)


# ---------------------------------------------------------------- the server's own folder


def test_the_servers_folder_is_created_with_a_gitignore(tree: Path) -> None:
    assert find_internal(tree) is None

    open_internal(tree).close()

    assert (tree / INTERNAL_DIR / ".gitignore").read_bytes() == IGNORE_ALL


@pytest.mark.parametrize("name", [INTERNAL_DIR, ".HybridMCP-Workspace", ".HYBRIDMCP-WORKSPACE"])
def test_the_servers_folder_as_a_link_in_any_letter_case_is_refused(tree: Path, name: str) -> None:
    (tree / name).symlink_to(tree.parent / "outside", target_is_directory=True)

    for opening in (find_internal, open_internal):
        with pytest.raises(LinkRefused, match=f"{name} is a symbolic link; the workspace server"):
            opening(tree)

    assert names_in(tree.parent / "outside") == ["secret.txt"]


def test_a_link_anywhere_directly_in_the_servers_folder_is_refused(tree: Path) -> None:
    (tree / INTERNAL_DIR).mkdir()
    (tree / INTERNAL_DIR / "anything").symlink_to(tree / "a")

    with pytest.raises(LinkRefused, match=f"{INTERNAL_DIR}/anything is a symbolic link"):
        open_internal(tree)
