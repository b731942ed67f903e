"""Timestamped copies of chosen files and folders of one root.

Where they go: ``<root>/.hybridmcp-workspace/backups/<id>/`` by default, or
``<backup dir>/<root name>/<id>/`` when the server was given a backup folder (``--backup-dir``);
inside, each path keeps its place relative to the root. Folders are copied whole (``.gitignore``
does not apply: a backup is of what is there), except the server's own folder and the backup
folder itself. Symbolic links are copied as links, never followed, so nothing outside the root
is copied. The total size is counted first and the backup refused when it is over the limit.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hybridmcp_app.documents.document_scanner import human_size
from hybridmcp_app.workspace.sandbox import INTERNAL_DIR, SizeLimits, TooLarge, WorkspacePath


@dataclass(frozen=True)
class _Entry:
    source: Path
    relative: Path  # to the root
    kind: str  # "file", "link" or "folder"
    size: int = 0


def plan_backup(
    targets: Sequence[WorkspacePath], *, leave_out: Path | None, limits: SizeLimits
) -> list[_Entry]:
    """What a backup of ``targets`` (all in one root) copies; raises ``TooLarge`` over the limit."""
    entries: dict[Path, _Entry] = {}
    for target in targets:
        if target.real.is_dir():
            for entry in _walk(target.real, target.root, leave_out):
                entries.setdefault(entry.relative, entry)
        else:
            size = target.real.stat().st_size
            relative = target.real.relative_to(target.root)
            entries.setdefault(relative, _Entry(target.real, relative, "file", size))
    total = sum(entry.size for entry in entries.values())
    if total > limits.max_backup_bytes:
        raise TooLarge(
            f"the backup would copy {human_size(total)}; one backup may copy at most "
            f"{human_size(limits.max_backup_bytes)}"
        )
    return sorted(entries.values(), key=lambda entry: entry.relative)


def copy_backup(entries: Sequence[_Entry], destination: Path) -> tuple[int, int]:
    """Copy the planned entries under ``destination``; (files copied, bytes copied)."""
    files = size = 0
    destination.mkdir(parents=True)
    for entry in entries:
        target = destination / entry.relative
        if entry.kind == "folder":
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if entry.kind == "link":
            target.symlink_to(entry.source.readlink())
        else:
            shutil.copy2(entry.source, target, follow_symlinks=False)
            size += entry.size
        files += 1
    return files, size


def _walk(folder: Path, root: Path, leave_out: Path | None) -> list[_Entry]:
    found = [_Entry(folder, folder.relative_to(root), "folder")]
    for current, subfolders, names in os.walk(folder, followlinks=False):
        here = Path(current)
        kept = []
        for name in sorted(subfolders):
            path = here / name
            if name == INTERNAL_DIR or path == leave_out:
                continue
            if path.is_symlink():  # os.walk lists links to folders as folders
                found.append(_Entry(path, path.relative_to(root), "link"))
                continue
            kept.append(name)
            found.append(_Entry(path, path.relative_to(root), "folder"))
        subfolders[:] = kept
        for name in sorted(names):
            path = here / name
            if path.is_symlink():
                found.append(_Entry(path, path.relative_to(root), "link"))
            elif path.is_file():
                found.append(_Entry(path, path.relative_to(root), "file", path.stat().st_size))
    return found
