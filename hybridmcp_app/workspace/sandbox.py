"""The workspace's fence: every path a client names is resolved inside one of the roots, or refused.

A relative path is taken from the first (primary) root; an absolute path must lie inside one of
the roots. A ``..`` component is refused outright, even one that would stay inside (clients have
no reason to write one, and refusing it leaves no room for lexical tricks). After that the path
is resolved with its symbolic links followed, and the real path must still lie inside a root: a
link that leads out of the workspace is refused, one that stays inside is fine.

The server's own folder (``.hybridmcp-workspace`` in each root: snapshots, backups, inventory)
may be read but not written through the file tools.

What this does not stop: a link swapped in between the check and the use (a race with another
process on the same machine). The fence is against a client naming paths, not against local users.
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
        if not raw or "\0" in raw or len(raw) > MAX_PATH_CHARS:
            raise PathRefused("the path is empty, too long, or holds a NUL character")
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
        if for_write and INTERNAL_DIR in real.relative_to(root).parts:
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
