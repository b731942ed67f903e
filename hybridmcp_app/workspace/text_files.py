"""Reading and writing the workspace's text files: size and binary checks, atomic writes.

A file is reached through ``TargetFile``: its folder is walked from the root without following
links (``safe_files``), so a folder swapped for a link after the sandbox's check is refused,
never followed out of the workspace. Plain blocking functions; the service runs them off the
event loop. Errors come out as ``WorkspaceError`` with a message that names the file as the
client gave it.
"""

from __future__ import annotations

import errno
import os
from pathlib import PurePosixPath
from types import TracebackType

from hybridmcp_app.workspace.safe_files import SafeDir
from hybridmcp_app.workspace.sandbox import SizeLimits, WorkspaceError, WorkspacePath

SNIFF_BYTES = 8192  # a NUL byte in here makes a file binary, as git and grep decide
MAX_HIT_CHARS = 300
SWAPPED_HINT = (
    "it was not one when the path was checked, so something changed it meanwhile; nothing was "
    "read or written through it"
)


def os_failure(shown: str, error: OSError) -> WorkspaceError:
    """An OS error as a message for the client (no paths beyond the one it gave)."""
    if isinstance(error, FileNotFoundError):
        return WorkspaceError(f"{shown} does not exist")
    if isinstance(error, IsADirectoryError):
        return WorkspaceError(f"{shown} is a folder, not a file")
    if isinstance(error, NotADirectoryError):
        return WorkspaceError(f"{shown}: a part of the path is a file, not a folder")
    if isinstance(error, PermissionError):
        return WorkspaceError(f"{shown}: permission denied")
    if error.errno == errno.ENAMETOOLONG:
        return WorkspaceError(f"{shown}: the path, or a name in it, is too long")
    return WorkspaceError(f"{shown}: {error.strerror or type(error).__name__}")


class TargetFile:
    """A file of the workspace with its folder open: read and written without following links."""

    def __init__(self, target: WorkspacePath, parent: SafeDir) -> None:
        self.target = target
        self.parent = parent
        self.name = target.real.name

    @classmethod
    def open(cls, target: WorkspacePath, *, create_folders: bool = False) -> TargetFile:
        """Open the folder that holds ``target`` (creating missing folders when asked)."""
        parts = PurePosixPath(target.relative).parts
        if not parts:
            raise WorkspaceError(f"{target.shown} is a folder, not a file")
        label = "." if target.shown == target.relative else str(target.root)
        try:
            with SafeDir.open(target.root, label=label, hint=SWAPPED_HINT) as root:
                return cls(target, root.walk(parts[:-1], create=create_folders))
        except OSError as error:
            raise os_failure(target.shown, error) from None

    def __enter__(self) -> TargetFile:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.parent.close()

    def facts(self) -> os.stat_result | None:
        """The file's stat, or None when there is none; a folder or a link there is an error."""
        try:
            return self.parent.regular(self.name)
        except OSError as error:
            raise os_failure(self.target.shown, error) from None

    def holds(self, data: bytes) -> bool:
        """Whether the file holds exactly ``data`` (size compared before content)."""
        facts = self.facts()
        if facts is None or facts.st_size != len(data):
            return False
        try:
            return self.parent.read(self.name, limit=len(data)) == data
        except OSError:
            return False

    def read(self, limits: SizeLimits) -> bytes:
        """A regular file's bytes, refused when it is over the read limit or binary."""
        shown = self.target.shown
        facts = self.facts()
        if facts is None:
            raise WorkspaceError(f"{shown} does not exist")
        limits.check_read(shown, facts.st_size)
        try:
            data = self.parent.read(self.name, limit=limits.max_read_bytes)
        except OSError as error:
            raise os_failure(shown, error) from None
        limits.check_read(shown, len(data))  # it may have grown since the stat
        if b"\0" in data[:SNIFF_BYTES]:
            raise WorkspaceError(f"{shown} is a binary file; only text files can be read")
        return data

    def write(self, data: bytes) -> None:
        """Write beside the file, flush to disk, rename over it; keeps an existing file's mode."""
        try:
            self.parent.write(self.name, data)
        except OSError as error:
            raise os_failure(self.target.shown, error) from None


def decode_strict(target: WorkspacePath, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise WorkspaceError(
            f"{target.shown} is not UTF-8 text (byte {error.start}); it cannot be edited as text"
        ) from None


def matching_lines(text: str, query: str, *, case_sensitive: bool) -> list[tuple[int, str]]:
    """(line number, line) for each line that holds ``query``."""
    needle = query if case_sensitive else query.casefold()
    found: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in (line if case_sensitive else line.casefold()):
            shown = line if len(line) <= MAX_HIT_CHARS else line[: MAX_HIT_CHARS - 1] + "…"
            found.append((number, shown))
    return found
