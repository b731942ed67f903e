"""The last lines of a server's log (its stderr), for the status and the log view."""

from __future__ import annotations

from pathlib import Path

STDERR_TAIL_LINES = 20


def read_tail(path: Path, lines: int = STDERR_TAIL_LINES) -> tuple[str, ...]:
    try:
        with path.open("rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - 16_384))
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return ()
    return tuple(line for line in text.splitlines()[-lines:] if line.strip())
