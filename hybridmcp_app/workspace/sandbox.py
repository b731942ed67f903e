"""The workspace's fence: every path a client names is resolved inside one of the roots, or refused.

A relative path is taken from the first (primary) root; an absolute path must lie inside one of
the roots. A ``..`` component is refused outright, even one that would stay inside (clients have
no reason to write one, and refusing it leaves no room for lexical tricks). After that the path
is resolved with its symbolic links followed, and the real path must still lie inside a root: a
link that leads out of the workspace is refused, one that stays inside is fine.

The server's own folder (``.hybridmcp-workspace`` in each root: snapshots, backups, inventory)
may be read but not written through the file tools; its name is matched in any letter case, as
a case-insensitive file system (macOS, Windows) takes ``.HybridMCP-Workspace`` for the same folder.

The check here is on names. A link swapped in between this check and the use is caught where the
files are opened: ``safe_files`` walks the resolved path from the root without following links.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath

from hybridmcp_app.core.errors import HybridMCPError
from hybridmcp_app.documents.document_scanner import human_size

INTERNAL_DIR = ".hybridmcp-workspace"  # per root: snapshots/, backups/, the inventory
MAX_PATH_CHARS = 4096
NAME_MAX_BYTES = 255  # in one file or folder name: the limit of ext4, APFS, NTFS and most others


class WorkspaceError(HybridMCPError):
    """A workspace request was refused or failed; the message says why, for users and models."""


class PathRefused(WorkspaceError):
    """The path leads outside the workspace roots, or into a place the tools may not write."""


class TooLarge(WorkspaceError):
    """A file or an input is over the size limit."""


@dataclass(frozen=True)
class SizeLimits:
    """How much one call may read, write or copy."""

    max_read_bytes: int = 1024 * 1024
    max_write_bytes: int = 1024 * 1024
    max_backup_bytes: int = 512 * 1024 * 1024

    def check_read(self, shown: str, size: int) -> None:
        if size > self.max_read_bytes:
            raise TooLarge(
                f"{shown} is {human_size(size)}; files up to "
                f"{human_size(self.max_read_bytes)} can be read"
            )

    def check_write(self, shown: str, size: int) -> None:
        if size > self.max_write_bytes:
            raise TooLarge(
                f"the new content of {shown} would be {human_size(size)}; at most "
                f"{human_size(self.max_write_bytes)} can be written in one call"
            )


@dataclass(frozen=True)
class WorkspacePath:
    """A path that passed the fence: its real location and the root it lies in."""

    root: Path  # resolved
    real: Path  # resolved, links followed
    shown: str  # how tools show it: relative to the primary root, else absolute

    @property
    def relative(self) -> str:
        """The path relative to its own root, POSIX style ("." for the root itself)."""
        return self.real.relative_to(self.root).as_posix()


class Sandbox:
    """Resolves client paths inside a fixed set of root folders; refuses everything else."""

    def __init__(self, roots: Sequence[Path]) -> None:
        if not roots:
            raise WorkspaceError("a workspace needs at least one root folder")
        resolved: list[Path] = []
        for root in roots:
            if not Path(root).is_dir():
                raise WorkspaceError(f"workspace root {root} is not a folder")
            real = Path(root).resolve(strict=True)
            if real not in resolved:
                resolved.append(real)
        self.roots: tuple[Path, ...] = tuple(resolved)

    @property
    def primary(self) -> Path:
        """The first root: relative paths start here."""
        return self.roots[0]

    def resolve(self, raw: str, *, for_write: bool = False) -> WorkspacePath:
        """The real path that ``raw`` names, checked against the roots; raises ``PathRefused``."""
        if not raw:
            raise PathRefused("the path is empty; name a file or folder of the workspace")
        if len(raw) > MAX_PATH_CHARS:
            raise PathRefused(
                f"the path is too long: {len(raw)} characters, at most {MAX_PATH_CHARS} allowed"
            )
        if "\0" in raw:
            raise PathRefused("the path holds a NUL character, which no file name can")
        given = PurePath(raw)
        if ".." in given.parts:
            raise PathRefused(f"{raw}: '..' is not allowed; name paths inside the workspace roots")
        if given.is_absolute() or given.anchor:  # also Windows' "\\x" and "C:x"
            lexical = Path(os.path.normpath(given))
            if self.root_of(lexical) is None:
                raise PathRefused(f"{raw} is outside the workspace roots ({self._listed()})")
        else:
            lexical = self.primary / given
        try:
            real = lexical.resolve(strict=False)
        except (OSError, RuntimeError):  # a link loop
            raise PathRefused(f"{raw}: its symbolic links cannot be resolved (a loop?)") from None
        root = self.root_of(real)
        if root is None:
            raise PathRefused(f"{raw}: a symbolic link leads outside the workspace roots")
        parts = real.relative_to(root).parts
        _check_names(raw, parts)
        if for_write and any(is_internal_name(part) for part in parts):
            raise PathRefused(
                f"{raw} is inside {INTERNAL_DIR}, the server's own folder; it is not written "
                "through the file tools"
            )
        return WorkspacePath(root=root, real=real, shown=self.shown(real, root))

    def root_of(self, path: Path) -> Path | None:
        """The deepest root that holds ``path`` (already normalised), or None."""
        holders = [root for root in self.roots if path == root or root in path.parents]
        return max(holders, key=lambda root: len(root.parts)) if holders else None

    def contains(self, path: Path) -> bool:
        """Whether ``path``, its links followed, lies inside a root."""
        try:
            return self.root_of(path.resolve(strict=False)) is not None
        except (OSError, RuntimeError):
            return False

    def shown(self, real: Path, root: Path | None = None) -> str:
        """Relative to the primary root when it lies there, else absolute: usable as a path."""
        if (root or self.root_of(real)) == self.primary:
            return real.relative_to(self.primary).as_posix()
        return str(real)

    def _listed(self) -> str:
        return ", ".join(str(root) for root in self.roots)


def is_internal_name(name: str) -> bool:
    """Whether ``name`` is the server's own folder, in any letter case."""
    return name.casefold() == INTERNAL_DIR


def _check_names(raw: str, parts: Sequence[str]) -> None:
    """Refuse a file or folder name longer than file systems take (255 bytes on most)."""
    for part in parts:
        size = len(os.fsencode(part))
        if size > NAME_MAX_BYTES:
            raise PathRefused(
                f"{_short(raw)}: the name {_short(part)} is too long ({size} bytes); a file or "
                f"folder name may have at most {NAME_MAX_BYTES} bytes"
            )


def _short(text: str, keep: int = 40) -> str:
    return text if len(text) <= keep else text[: keep - 1] + "…"
