"""The sandbox: paths resolve inside the roots or are refused, with a message that says why."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hybridmcp_app.workspace.sandbox import (
    INTERNAL_DIR,
    PathRefused,
    Sandbox,
    SizeLimits,
    TooLarge,
    WorkspaceError,
)
from tests.unit.workspace.conftest import Workspace


@pytest.fixture
def sandbox(workspace: Workspace) -> Sandbox:
    return Sandbox([workspace.root, workspace.second])


def test_a_relative_path_starts_at_the_first_root(sandbox: Sandbox, workspace: Workspace) -> None:
    target = sandbox.resolve("src/app.py")

    assert target.real == workspace.root.resolve() / "src" / "app.py"
    assert target.root == workspace.root.resolve()
    assert (target.shown, target.relative) == ("src/app.py", "src/app.py")


def test_the_root_itself_is_shown_as_a_dot(sandbox: Sandbox) -> None:
    assert sandbox.resolve(".").shown == "."


@pytest.mark.parametrize("path", ["../outside/secret.txt", "src/../notes.md", "..", "a/../../x"])
def test_dot_dot_is_refused_even_when_it_would_stay_inside(sandbox: Sandbox, path: str) -> None:
    with pytest.raises(PathRefused, match=r"'\.\.' is not allowed"):
        sandbox.resolve(path)


def test_an_absolute_path_inside_a_root_is_accepted(sandbox: Sandbox, workspace: Workspace) -> None:
    assert sandbox.resolve(str(workspace.root / "notes.md")).shown == "notes.md"


def test_a_file_of_the_second_root_is_shown_with_its_absolute_path(
    sandbox: Sandbox, workspace: Workspace
) -> None:
    target = sandbox.resolve(str(workspace.second / "other.txt"))

    assert target.root == workspace.second.resolve()
    assert target.shown == str(workspace.second.resolve() / "other.txt")
    assert target.relative == "other.txt"


@pytest.mark.parametrize("path", ["/etc/passwd", "/"])
def test_an_absolute_path_elsewhere_is_refused(sandbox: Sandbox, path: str) -> None:
    with pytest.raises(PathRefused, match="is outside the workspace roots"):
        sandbox.resolve(path)


def test_the_outside_folder_by_its_absolute_path_is_refused(
    sandbox: Sandbox, workspace: Workspace
) -> None:
    with pytest.raises(PathRefused, match="is outside the workspace roots"):
        sandbox.resolve(str(workspace.outside / "secret.txt"))


@pytest.mark.parametrize("path", ["escape.txt", "escape_dir", "escape_dir/secret.txt"])
def test_a_symbolic_link_out_of_the_roots_is_refused(sandbox: Sandbox, path: str) -> None:
    with pytest.raises(PathRefused, match="a symbolic link leads outside the workspace roots"):
        sandbox.resolve(path)


def test_a_symbolic_link_that_stays_inside_is_followed(
    sandbox: Sandbox, workspace: Workspace
) -> None:
    target = sandbox.resolve("inner.txt")

    assert target.real == workspace.root.resolve() / "notes.md"
    assert target.shown == "notes.md"


def test_a_symbolic_link_loop_is_refused(sandbox: Sandbox, workspace: Workspace) -> None:
    (workspace.root / "loop_a").symlink_to(workspace.root / "loop_b")
    (workspace.root / "loop_b").symlink_to(workspace.root / "loop_a")

    with pytest.raises(PathRefused):
        sandbox.resolve("loop_a/file.txt")


def test_a_path_not_yet_there_resolves_for_writing(sandbox: Sandbox, workspace: Workspace) -> None:
    target = sandbox.resolve("new/folder/file.txt", for_write=True)

    assert target.real == workspace.root.resolve() / "new" / "folder" / "file.txt"


def test_the_servers_own_folder_can_be_read_but_not_written(sandbox: Sandbox) -> None:
    assert sandbox.resolve(f"{INTERNAL_DIR}/inventory.md").relative.startswith(INTERNAL_DIR)
    with pytest.raises(PathRefused, match="the server's own folder"):
        sandbox.resolve(f"{INTERNAL_DIR}/snapshots/x.snapshot", for_write=True)


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("", "the path is empty"),
        ("a\0b", "holds a NUL character"),
        ("x" * 5000, "the path is too long: 5000 characters, at most 4096 allowed"),
        ("x" * 300, "is too long (300 bytes); a file or folder name may have at most 255 bytes"),
        ("a/" + "é" * 200 + "/b", "is too long (400 bytes)"),
    ],
)
def test_empty_overlong_and_nul_paths_are_refused_saying_which(
    sandbox: Sandbox, path: str, reason: str
) -> None:
    with pytest.raises(PathRefused, match=re.escape(reason)):
        sandbox.resolve(path)


@pytest.mark.parametrize(
    "path", [".HybridMCP-Workspace/x", "src/.HYBRIDMCP-WORKSPACE/x", f"{INTERNAL_DIR}/x"]
)
def test_the_servers_own_folder_is_refused_for_writes_in_any_letter_case(
    sandbox: Sandbox, path: str
) -> None:
    with pytest.raises(PathRefused, match="the server's own folder"):
        sandbox.resolve(path, for_write=True)


def test_contains_follows_links(sandbox: Sandbox, workspace: Workspace) -> None:
    assert sandbox.contains(workspace.root / "inner.txt")
    assert not sandbox.contains(workspace.root / "escape.txt")


def test_a_root_that_is_not_a_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="is not a folder"):
        Sandbox([tmp_path / "missing"])
    with pytest.raises(WorkspaceError, match="at least one root"):
        Sandbox([])


def test_a_nested_root_owns_the_paths_below_it(workspace: Workspace) -> None:
    sandbox = Sandbox([workspace.root, workspace.root / "src"])

    assert sandbox.resolve("src/app.py").root == (workspace.root / "src").resolve()


def test_size_limits_name_the_file_and_both_sizes() -> None:
    limits = SizeLimits(max_read_bytes=1024, max_write_bytes=2048)

    limits.check_read("a.txt", 1024)
    limits.check_write("a.txt", 2048)
    with pytest.raises(TooLarge, match=r"a\.txt is 1\.5 KiB; files up to 1\.0 KiB can be read"):
        limits.check_read("a.txt", 1536)
    with pytest.raises(TooLarge, match=r"would be 3\.0 KiB; at most 2\.0 KiB can be written"):
        limits.check_write("a.txt", 3072)
