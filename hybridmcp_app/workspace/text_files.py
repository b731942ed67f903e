"""Reading and writing the workspace's text files: size and binary checks, atomic writes.

Plain blocking functions; the service runs them off the event loop. Errors come out as
``WorkspaceError`` with a message that names the file as the client gave it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from hybridmcp_app.workspace.sandbox import SizeLimits, WorkspaceError, WorkspacePath

SNIFF_BYTES = 8192  # a NUL byte in here makes a file binary, as git and grep decide
MAX_HIT_CHARS = 300


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
    return WorkspaceError(f"{shown}: {error.strerror or type(error).__name__}")


def read_bytes(target: WorkspacePath, limits: SizeLimits) -> bytes:
    """A regular file's bytes, refused when it is over the read limit or binary."""
    try:
        if not target.real.is_file():
            if target.real.is_dir():
                raise WorkspaceError(f"{target.shown} is a folder, not a file")
            raise WorkspaceError(f"{target.shown} does not exist")
        limits.check_read(target.shown, target.real.stat().st_size)
        data = target.real.read_bytes()
    except OSError as error:
        raise os_failure(target.shown, error) from None
    limits.check_read(target.shown, len(data))  # it may have grown since the stat
    if b"\0" in data[:SNIFF_BYTES]:
        raise WorkspaceError(f"{target.shown} is a binary file; only text files can be read")
    return data


def decode_strict(target: WorkspacePath, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise WorkspaceError(
            f"{target.shown} is not UTF-8 text (byte {error.start}); it cannot be edited as text"
        ) from None


def write_atomically(target: WorkspacePath, data: bytes) -> None:
    """Write beside the file, flush to disk, then rename over it; keeps an existing file's mode."""
    real = target.real
    try:
        if real.is_dir():
            raise WorkspaceError(f"{target.shown} is a folder, not a file")
        mode = real.stat().st_mode & 0o7777 if real.exists() else None
        real.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(dir=real.parent, prefix=f".{real.name}.", suffix=".tmp")
    except OSError as error:
        raise os_failure(target.shown, error) from None
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            temp.chmod(mode)
        temp.replace(real)
    except OSError as error:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise os_failure(target.shown, error) from None


def matching_lines(text: str, query: str, *, case_sensitive: bool) -> list[tuple[int, str]]:
    """(line number, line) for each line that holds ``query``."""
    needle = query if case_sensitive else query.casefold()
    found: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in (line if case_sensitive else line.casefold()):
            shown = line if len(line) <= MAX_HIT_CHARS else line[: MAX_HIT_CHARS - 1] + "…"
            found.append((number, shown))
    return found
