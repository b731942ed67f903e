"""Timestamped copies of chosen files and folders of one root.

Where they go: ``<root>/.hybridmcp-workspace/backups/<id>/`` by default, or
``<backup dir>/<root name>/<id>/`` when the server was given a backup folder (``--backup-dir``);
inside, each path keeps its place relative to the root. Folders are copied whole (``.gitignore``
does not apply: a backup is of what is there), except the server's own folder and the backup
folder itself. Symbolic links are copied as links, never followed, so nothing outside the root
is copied. The total size is counted first and the backup refused when it is over the limit.

Both sides are walked with ``safe_files``: a folder of the root swapped for a link while the
backup runs is refused, not followed, and the backup's own folders are created without following
links, so no copy lands outside the backup folder.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hybridmcp_app.documents.document_scanner import human_size
from hybridmcp_app.workspace.internal_folder import open_internal_folder
from hybridmcp_app.workspace.safe_files import SafeDir
from hybridmcp_app.workspace.sandbox import (
    INTERNAL_DIR,
    SizeLimits,
    TooLarge,
    WorkspaceError,
    WorkspacePath,
    is_internal_name,
)
from hybridmcp_app.workspace.text_files import SWAPPED_HINT

BACKUPS = "backups"
BACKUP_DIR_HINT = "the backup folder may hold no symbolic links; remove the link and try again"


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


def backup_location(root: Path, backup_dir: Path | None, backup_id: str) -> Path:
    """Where the backup ``backup_id`` of ``root`` goes."""
    if backup_dir is None:
        return root / INTERNAL_DIR / BACKUPS / backup_id
    return backup_dir / root.name / backup_id


def open_destination(root: Path, backup_dir: Path | None, backup_id: str) -> SafeDir:
    """The new, empty folder of the backup ``backup_id`` (created; links on the way refused)."""
    if backup_dir is None:
        parent = open_internal_folder(root, BACKUPS)
    else:
        backup_dir.mkdir(parents=True, exist_ok=True)  # the operator's own folder
        with SafeDir.open(backup_dir, hint=BACKUP_DIR_HINT) as top:
            parent = top.folder(root.name, create=True)
    with parent:
        return parent.folder(backup_id, new=True)


def copy_backup(root: Path, entries: Sequence[_Entry], destination: SafeDir) -> tuple[int, int]:
    """Copy the planned entries of ``root`` into ``destination``: (files, bytes) copied."""
    files = size = 0
    with (
        SafeDir.open(root, hint=SWAPPED_HINT) as source_root,
        _Folders(source_root, create=False) as sources,
        _Folders(destination, create=True) as targets,
    ):
        for entry in entries:
            parts = entry.relative.parts
            if entry.kind == "folder":
                targets.get(parts)
                continue
            source, target, name = sources.get(parts[:-1]), targets.get(parts[:-1]), parts[-1]
            if entry.kind == "link":
                target.make_link(_link_of(source, name), name)
            else:
                copied, _digest = source.copy_to(name, target, name, keep_metadata=True)
                size += copied
            files += 1
    return files, size


def _link_of(folder: SafeDir, name: str) -> str:
    try:
        return folder.read_link(name)
    except OSError as error:
        if error.errno != errno.EINVAL:
            raise
        raise WorkspaceError(
            f"{folder.shown(name)} changed while the backup ran (it is no longer a symbolic "
            "link); try again"
        ) from None


class _Folders:
    """Open folders below one ``SafeDir``, by their parts, each opened once; closed together."""

    def __init__(self, top: SafeDir, *, create: bool) -> None:
        self._open: dict[tuple[str, ...], SafeDir] = {(): top}
        self._create = create

    def get(self, parts: tuple[str, ...]) -> SafeDir:
        if parts not in self._open:
            self._open[parts] = self.get(parts[:-1]).folder(parts[-1], create=self._create)
        return self._open[parts]

    def __enter__(self) -> _Folders:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for parts, folder in self._open.items():
            if parts:  # the top one belongs to the caller
                folder.close()


def _walk(folder: Path, root: Path, leave_out: Path | None) -> list[_Entry]:
    found = [_Entry(folder, folder.relative_to(root), "folder")]
    for current, subfolders, names in os.walk(folder, followlinks=False):
        here = Path(current)
        kept = []
        for name in sorted(subfolders):
            path = here / name
            if is_internal_name(name) or path == leave_out:
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
