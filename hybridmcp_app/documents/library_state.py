"""The library's ledger: one SQLite row per file saying how far its indexing got.

A file is ``queued`` when a run takes it on (and while it waits for a parser and is read: the
run reports those steps as they happen, without a write each), ``embedding`` from the moment its
chunks may start reaching the vector store, and ``indexed`` only once all of them are there and
the store holds nothing else of it. So after a crash or a kill, a row still ``embedding`` (or
``parsing``, as older versions wrote) names a file whose chunks cannot be trusted: they are
deleted and the file indexed again (``LibraryService.resume``). The ledger also keeps each
file's size, mtime and hash, which lets a rescan skip hashing unchanged files and skip
re-indexing them.

Blocking calls (the library service runs them off the event loop); safe from several threads.
A ledger SQLite cannot read is moved aside and a new one started: the vector store still holds
the chunks, and a re-scan rebuilds the rows.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from hybridmcp_app.core.errors import HybridMCPError
from hybridmcp_app.core.sqlite_files import SqliteFile
from hybridmcp_app.documents.document_models import FileState, FileStatus, ScannedFile

log = logging.getLogger("hybridmcp.documents.state")
LEDGER_FILE_NAME = "library.sqlite3"
LOW_SPACE_BYTES = 8 * 1024 * 1024  # a storage error with less free than this: the disk is full
# Rows whose chunks may be half written: deleted before the file is indexed again.
UNFINISHED = (FileState.PARSING, FileState.EMBEDDING)
PENDING = (FileState.QUEUED, *UNFINISHED)
# Settled in this version: not indexed again until the file changes (or a run is forced). A file
# that failed fails the same way while its bytes are the same (parse errors are deterministic).
_SETTLED = (FileState.INDEXED, FileState.SKIPPED, FileState.FAILED)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    chunks INTEGER NOT NULL DEFAULT 0,
    indexed_at REAL,
    signature TEXT NOT NULL DEFAULT '',
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS files_by_state ON files (state);
"""
_COLUMNS = "path, state, reason, chunks, content_hash, indexed_at"
_ALL_NAMES = (
    "path", "size", "mtime_ns", "content_hash", "state", "reason", "chunks", "indexed_at",
    "signature", "updated_at",
)  # fmt: skip
_ALL_COLUMNS = ", ".join(_ALL_NAMES)


class LibraryStorageError(HybridMCPError):
    """The library's storage (vector store or ledger) failed: disk full, read-only, unreachable."""


def describe_storage_error(
    action: str, location: str, error: BaseException, *, local: Path | None = None
) -> str:
    """A message for users: what failed, where, and what to do about it.

    ``local``: the file or folder on this machine, looked at when the error itself does not
    say (Chroma's internal errors rarely do): little free space means a full disk.
    """
    text = str(error) or type(error).__name__
    lowered = text.lower()
    number = getattr(error, "errno", None)
    full = number == errno.ENOSPC or "disk is full" in lowered or "no space left" in lowered
    read_only = number in (errno.EROFS, errno.EACCES, errno.EPERM) or "readonly" in lowered
    if not (full or read_only) and local is not None:  # the error does not say: look
        read_only = not _writable(local)
        full = not read_only and _free_bytes(local) < LOW_SPACE_BYTES
    if full:
        return (
            f"the disk holding the library is full ({location}): free some space, then index "
            f"again; what was indexed before is kept (while {action})"
        )
    if read_only:
        return (
            f"the library cannot write to {location}: the folder is read-only or not yours "
            f"(while {action})"
        )
    return f"the library's storage at {location} failed while {action}: {text}"


def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _free_bytes(path: Path) -> int:
    try:
        return shutil.disk_usage(_existing(path)).free
    except OSError:
        return LOW_SPACE_BYTES  # unknown: not "full"


def _writable(path: Path) -> bool:
    existing = _existing(path)
    try:
        read_only = bool(os.statvfs(existing).f_flag & os.ST_RDONLY)
    except OSError:
        read_only = False
    return not read_only and os.access(existing, os.W_OK)


class LibraryState:
    """The per-file ledger in ``data_dir/library.sqlite3``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        # One connection for every thread (under ``_lock``); WAL keeps a commit per file cheap.
        ledger = SqliteFile(path, "library ledger", wal=True, shared=True)
        try:
            self._connection: sqlite3.Connection | None = ledger.open(_create_tables)
        except (OSError, sqlite3.OperationalError) as error:  # not damage: nothing moved aside
            message = describe_storage_error("opening the ledger", str(path), error, local=path)
            raise LibraryStorageError(message) from None
        self.recovered_from = ledger.recovered_from

    @classmethod
    def open(cls, data_dir: Path) -> LibraryState:
        return cls(data_dir / LEDGER_FILE_NAME)

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    @contextmanager
    def _transaction(self, action: str) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._connection is None:
                raise LibraryStorageError("the library ledger is closed")
            try:
                with self._connection:
                    yield self._connection
            except sqlite3.Error as error:
                message = describe_storage_error(action, str(self.path), error, local=self.path)
                raise LibraryStorageError(message) from None

    # ---------------------------------------------------------------- reading

    def statuses(self) -> list[FileStatus]:
        with self._transaction("reading the ledger") as connection:
            rows = connection.execute(f"SELECT {_COLUMNS} FROM files ORDER BY path").fetchall()
        return [_status(row) for row in rows]

    def get(self, path: Path) -> FileStatus | None:
        with self._transaction("reading the ledger") as connection:
            row = connection.execute(
                f"SELECT {_COLUMNS} FROM files WHERE path = ?", (str(path),)
            ).fetchone()
        return None if row is None else _status(row)

    def pending(self) -> list[FileStatus]:
        """Files a run took on but did not finish (queued, parsing or embedding)."""
        marks = ",".join("?" * len(PENDING))
        with self._transaction("reading the ledger") as connection:
            rows = connection.execute(
                f"SELECT {_COLUMNS} FROM files WHERE state IN ({marks}) ORDER BY path",
                [state.value for state in PENDING],
            ).fetchall()
        return [_status(row) for row in rows]

    def known(self) -> dict[Path, tuple[int, int, str]]:
        """path -> (size, mtime_ns, hash), for the scanner to skip hashing unchanged files."""
        with self._transaction("reading the ledger") as connection:
            rows = connection.execute("SELECT path, size, mtime_ns, content_hash FROM files")
            return {Path(path): (size, mtime, digest) for path, size, mtime, digest in rows}

    def is_current(self, file: ScannedFile, signature: str) -> bool:
        """Whether ``file`` was indexed (or found without text) in this very version."""
        with self._transaction("reading the ledger") as connection:
            row = connection.execute(
                "SELECT content_hash, state, signature FROM files WHERE path = ?",
                (str(file.path),),
            ).fetchone()
        return (
            row is not None
            and row[0] == file.content_hash
            and row[1] in {state.value for state in _SETTLED}
            and row[2] == signature
        )

    def paths_under(self, path: Path) -> list[Path]:
        """Ledger paths equal to ``path`` or inside it (when it is a folder)."""
        prefix = str(path).rstrip("/\\") + "/"
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        with self._transaction("reading the ledger") as connection:
            rows = connection.execute(
                "SELECT path FROM files WHERE path = ? OR path LIKE ? ESCAPE '\\'",
                (str(path), escaped + "%"),
            ).fetchall()
        return [Path(row[0]) for row in rows]

    # ---------------------------------------------------------------- writing

    def mark_queued(self, files: Sequence[ScannedFile]) -> None:
        """Record a run's files as queued, in one transaction (what ``resume`` picks up)."""
        now = time.time()
        with self._transaction("queueing files") as connection:
            connection.executemany(
                "INSERT INTO files (path, size, mtime_ns, content_hash, state, reason, chunks, "
                "indexed_at, signature, updated_at) VALUES (?, ?, ?, ?, ?, '', 0, NULL, '', ?) "
                "ON CONFLICT (path) DO UPDATE SET size = excluded.size, "
                "mtime_ns = excluded.mtime_ns, content_hash = excluded.content_hash, "
                "state = excluded.state, reason = '', chunks = 0, signature = '', "
                "updated_at = excluded.updated_at",
                [(str(f.path), f.size, f.mtime_ns, f.content_hash, "queued", now) for f in files],
            )

    def mark(self, paths: Sequence[Path], state: FileState, reason: str = "") -> None:
        """Move files already in the ledger to ``state`` (queued, parsing, embedding)."""
        now = time.time()
        with self._transaction(f"marking files {state.value}") as connection:
            connection.executemany(
                "UPDATE files SET state = ?, reason = ?, updated_at = ? WHERE path = ?",
                [(state.value, reason, now, str(path)) for path in paths],
            )

    def settle(
        self,
        file: ScannedFile,
        state: FileState,
        *,
        signature: str,
        chunks: int = 0,
        reason: str = "",
    ) -> FileStatus:
        """Record a file's outcome: indexed (all its chunks stored), failed or skipped."""
        now = time.time()
        indexed_at = now if state is FileState.INDEXED else None
        with self._transaction(f"recording {file.path.name} as {state.value}") as connection:
            connection.execute(
                "INSERT OR REPLACE INTO files (path, size, mtime_ns, content_hash, state, "
                "reason, chunks, indexed_at, signature, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    str(file.path),
                    file.size,
                    file.mtime_ns,
                    file.content_hash,
                    state.value,
                    reason,
                    chunks,
                    indexed_at,
                    signature,
                    now,
                ),
            )
        return FileStatus(
            path=file.path,
            state=state,
            reason=reason,
            chunks=chunks,
            content_hash=file.content_hash,
            indexed_at=indexed_at,
        )

    def export_rows(self) -> list[dict[str, object]]:
        """Every row as a dict (for a backup)."""
        with self._transaction("reading the ledger") as connection:
            cursor = connection.execute(f"SELECT {_ALL_COLUMNS} FROM files ORDER BY path")
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def replace_rows(self, rows: Sequence[dict[str, object]]) -> None:
        """Replace the whole ledger by ``rows`` (from ``export_rows``), in one transaction."""
        marks = ", ".join("?" * len(_ALL_NAMES))
        with self._transaction("restoring the ledger") as connection:
            connection.execute("DELETE FROM files")
            connection.executemany(
                f"INSERT INTO files ({_ALL_COLUMNS}) VALUES ({marks})",
                [tuple(row[name] for name in _ALL_NAMES) for row in rows],
            )

    def remove(self, paths: Sequence[Path]) -> None:
        with self._transaction("removing files") as connection:
            connection.executemany(
                "DELETE FROM files WHERE path = ?", [(str(path),) for path in paths]
            )


def _create_tables(connection: sqlite3.Connection) -> None:
    if not connection.execute("SELECT 1 FROM sqlite_master WHERE name='files'").fetchone():
        connection.executescript(_SCHEMA)  # only then: an old ledger opens on a full disk


def _status(row: tuple[str, str, str, int, str, float | None]) -> FileStatus:
    path, state, reason, chunks, content_hash, indexed_at = row
    return FileStatus(
        path=Path(path),
        state=FileState(state),
        reason=reason,
        chunks=chunks,
        content_hash=content_hash,
        indexed_at=indexed_at,
    )
