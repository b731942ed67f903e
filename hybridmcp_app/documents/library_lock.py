"""One process at a time owns an embedded library.

Chroma's ``PersistentClient`` is not process-safe: two processes writing the same folder can
corrupt its HNSW index (chroma-core/chroma#961, #3792). So the window, ``hybridmcp library`` and
the documents MCP server take an OS file lock before opening an embedded library; whoever comes
second gets a clear ``LibraryBusy`` naming the owner. The OS drops the lock when its process
dies, so a killed owner never leaves the library locked. A Chroma server (``chroma_mode: http``)
needs no lock: that is the way to share one library between processes.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from pathlib import Path

from filelock import FileLock, Timeout

from hybridmcp_app.documents.library_state import LibraryStorageError, describe_storage_error

LOCK_FILE_NAME = "library.lock"
OWNER_FILE_NAME = "library.owner.json"


class LibraryBusy(LibraryStorageError):
    """Another process has the embedded library open."""


def _describe_owner(path: Path) -> str:
    try:
        owner = json.loads(path.read_text(encoding="utf-8"))
        since = time.strftime("%H:%M", time.localtime(float(owner["since"])))
        return f"{owner['program']} (process {int(owner['pid'])}, since {since})"
    except (OSError, ValueError, KeyError, TypeError):
        return "another HybridMCP process"


class LibraryLock:
    """The exclusive lock on ``data_dir``'s embedded library."""

    def __init__(self, data_dir: Path) -> None:
        self._lock = FileLock(data_dir / LOCK_FILE_NAME, thread_local=False)
        self._owner = data_dir / OWNER_FILE_NAME

    def acquire(self) -> None:
        try:
            self._owner.parent.mkdir(parents=True, exist_ok=True)
            self._lock.acquire(timeout=0)
        except Timeout:  # before OSError: it is a TimeoutError
            raise LibraryBusy(
                f"the library is open in {_describe_owner(self._owner)}: close it there first, "
                "or share the library through a Chroma server (Settings → Documents → "
                "chroma_mode http)"
            ) from None
        except OSError as error:  # a read-only or full disk: said like the store's errors
            folder = self._owner.parent
            message = describe_storage_error(
                "opening the library", str(folder), error, local=folder
            )
            raise LibraryStorageError(message) from None
        program = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
        details = {"pid": os.getpid(), "program": program, "since": time.time()}
        with contextlib.suppress(OSError):  # only for the message a second process shows
            self._owner.write_text(json.dumps(details), encoding="utf-8")

    def release(self) -> None:
        if self._lock.is_locked:
            self._lock.release()
