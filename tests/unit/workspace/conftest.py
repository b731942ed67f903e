"""A workspace on disk for the sandbox and service tests: a root, a second root, and a folder
outside both that links try to reach."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest


def write_tree(root: Path, files: Mapping[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


@dataclass(frozen=True)
class Workspace:
    root: Path
    second: Path
    outside: Path


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    root, second, outside = tmp_path / "root", tmp_path / "second", tmp_path / "outside"
    write_tree(root, {
        "notes.md": "# Notes\nThe quick brown fox\n",
        "src/app.py": "def main():\n    return 'fox'\n",
        ".gitignore": "build/\n",
        "build/out.txt": "a fox in a build folder\n",
    })  # fmt: skip
    write_tree(second, {"other.txt": "in the second root\n"})
    write_tree(outside, {"secret.txt": "the fox outside\n"})
    (root / "escape.txt").symlink_to(outside / "secret.txt")
    (root / "escape_dir").symlink_to(outside, target_is_directory=True)
    (root / "inner.txt").symlink_to(root / "notes.md")
    return Workspace(root=root, second=second, outside=outside)
