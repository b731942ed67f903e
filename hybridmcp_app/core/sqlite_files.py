"""The app's own SQLite files (history, usage ledger, game stats, library ledger), opened alike.

Every connection waits up to ``BUSY_TIMEOUT_S`` for a lock. A file SQLite cannot read (damaged,
or not a database at all) is moved aside as ``<name>.corrupt-<time>``, with its journal and
write-ahead log, and a new one started, so that a damaged file never stops the app. An error that
is not damage (locked, disk full, read-only, a folder where the file should be) is raised as it
is and the file stays where it was. Blocking: call it off the event loop.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

log = logging.getLogger("hybridmcp.sqlite")
BUSY_TIMEOUT_S = 10.0
# SQLite's files beside the database: moved aside with it, or a new database would pair with them.
SIDECAR_SUFFIXES = ("-journal", "-wal", "-shm")


def check_integrity(connection: sqlite3.Connection) -> None:
    """Raise ``sqlite3.DatabaseError`` unless SQLite's quick check passes."""
    if connection.execute("PRAGMA quick_check").fetchone()[0] != "ok":
        raise sqlite3.DatabaseError("integrity check failed")


class SqliteFile:
    """One SQLite file of the app: how it is opened, checked and, when damaged, replaced.

    ``what`` names it in the log ("history database"). ``wal``: a write-ahead log with
    ``synchronous=NORMAL`` (cheap commits, readers never wait for the writer). ``shared``: one
    connection used from several threads, which its owner serialises with a lock.
    """

    def __init__(self, path: Path, what: str, *, wal: bool = False, shared: bool = False) -> None:
        self.path = path
        self.what = what
        self.wal = wal
        self.shared = shared
        self.recovered_from: Path | None = None  # where a damaged file went, once one did

    def connect(self) -> sqlite3.Connection:
        """A new connection with the common settings (no check: ``open`` did that)."""
        connection = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_S, check_same_thread=not self.shared
        )
        if self.wal:
            connection.execute("PRAGMA synchronous=NORMAL")
        return connection

    def open(self, create: Callable[[sqlite3.Connection], object]) -> sqlite3.Connection:
        """Connect, check the file and let ``create`` make its tables; return the connection.

        A file that fails the check is moved aside (``recovered_from`` says where) and a new one
        started; ``sqlite3.OperationalError`` and ``OSError`` are not damage and are raised."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            return self._open_checked(create)
        except sqlite3.OperationalError:
            raise
        except sqlite3.DatabaseError as error:
            self.recovered_from = self._move_aside(error)
        return self._open_checked(create)

    def _open_checked(self, create: Callable[[sqlite3.Connection], object]) -> sqlite3.Connection:
        connection = self.connect()
        try:
            check_integrity(connection)
            if self.wal and connection.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                connection.execute("PRAGMA journal_mode=WAL")  # once: it stays with the file
            with connection:
                create(connection)
        except BaseException:
            connection.close()
            raise
        return connection

    def _move_aside(self, error: sqlite3.DatabaseError) -> Path:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        self.path.replace(aside)
        for suffix in SIDECAR_SUFFIXES:
            sidecar = self.path.with_name(self.path.name + suffix)
            if sidecar.exists():
                sidecar.replace(aside.with_name(aside.name + suffix))
        log.error("%s unreadable (%s); moved to %s", self.what, error, aside)
        return aside
