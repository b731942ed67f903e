"""``SqliteFile``: the one way the app opens its SQLite files (history, usage, game stats, library
ledger): the busy timeout, WAL where asked, and a damaged file moved aside, never a healthy one."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from hybridmcp_app.core import sqlite_files
from hybridmcp_app.core.sqlite_files import SqliteFile

SCHEMA = "CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"


def create(connection: sqlite3.Connection) -> None:
    connection.execute(SCHEMA)


def write_notes(path: Path, count: int) -> None:
    connection = sqlite3.connect(path)
    with connection:
        connection.execute(SCHEMA)
        connection.execute("CREATE INDEX notes_by_body ON notes (body)")
        connection.executemany(
            "INSERT INTO notes (body) VALUES (?)", [(f"note {n} " * 20,) for n in range(count)]
        )
    connection.close()


def asides(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if ".corrupt-" in path.name)


def test_a_new_file_gets_its_tables_and_reports_no_recovery(tmp_path: Path) -> None:
    file = SqliteFile(tmp_path / "data" / "notes.sqlite3", "notes")
    connection = file.open(create)
    connection.execute("INSERT INTO notes (body) VALUES ('kept')")
    connection.commit()
    connection.close()
    assert file.recovered_from is None
    with file.connect() as again:
        assert again.execute("SELECT body FROM notes").fetchall() == [("kept",)]
    again.close()


def test_a_file_that_is_not_a_database_is_moved_aside_and_a_new_one_started(
    tmp_path: Path,
) -> None:
    path = tmp_path / "notes.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    file = SqliteFile(path, "notes")
    file.open(create).close()
    assert file.recovered_from is not None
    assert file.recovered_from.name.startswith("notes.sqlite3.corrupt-")
    assert file.recovered_from.read_bytes().startswith(b"this is not a database")
    with file.connect() as connection:
        assert connection.execute("SELECT COUNT(*) FROM notes").fetchone() == (0,)
    connection.close()


def test_a_database_with_damaged_pages_is_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite3"
    write_notes(path, 400)
    data = bytearray(path.read_bytes())
    page = 4096
    data[3 * page : 6 * page] = b"\xa5" * (3 * page)  # pages of the table and its index
    path.write_bytes(bytes(data))
    file = SqliteFile(path, "notes")
    file.open(create).close()
    assert file.recovered_from is not None
    assert file.recovered_from.read_bytes() == bytes(data)


def test_a_damaged_files_write_ahead_log_goes_aside_with_it(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    for suffix in ("-wal", "-shm"):  # a stray rollback journal SQLite itself discards
        path.with_name(path.name + suffix).write_bytes(b"left over " + suffix.encode())
    file = SqliteFile(path, "notes", wal=True)
    file.open(create).close()
    assert file.recovered_from is not None
    aside = file.recovered_from.name
    assert asides(tmp_path) == [aside, f"{aside}-shm", f"{aside}-wal"]
    assert (tmp_path / f"{aside}-wal").read_bytes() == b"left over -wal"


def test_a_folder_where_the_file_should_be_is_an_error_not_damage(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite3"
    path.mkdir()
    file = SqliteFile(path, "notes")
    with pytest.raises(sqlite3.OperationalError):
        file.open(create)
    assert path.is_dir()
    assert asides(tmp_path) == []
    assert file.recovered_from is None


def test_a_file_locked_past_the_busy_timeout_is_an_error_and_stays_where_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "notes.sqlite3"
    write_notes(path, 3)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    monkeypatch.setattr(sqlite_files, "BUSY_TIMEOUT_S", 0.05)
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            SqliteFile(path, "notes").open(create)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert asides(tmp_path) == []
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT COUNT(*) FROM notes").fetchone() == (3,)
    connection.close()


def test_connections_wait_for_a_lock_up_to_the_busy_timeout(tmp_path: Path) -> None:
    assert sqlite_files.BUSY_TIMEOUT_S == 10.0
    path = tmp_path / "notes.sqlite3"
    file = SqliteFile(path, "notes")
    file.open(create).close()
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    released = threading.Timer(0.3, lambda: holder.execute("COMMIT"))
    released.start()
    try:
        with file.connect() as connection:  # waits for the holder instead of failing at once
            connection.execute("INSERT INTO notes (body) VALUES ('after the lock')")
        connection.close()
    finally:
        released.join()
        holder.close()


def test_a_wal_file_is_in_wal_mode_with_normal_sync_on_every_connection(tmp_path: Path) -> None:
    file = SqliteFile(tmp_path / "notes.sqlite3", "notes", wal=True)
    first = file.open(create)
    assert first.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert first.execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL
    first.close()
    later = file.connect()
    assert later.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert later.execute("PRAGMA synchronous").fetchone() == (1,)
    later.close()


def test_a_file_not_asked_for_wal_keeps_the_rollback_journal(tmp_path: Path) -> None:
    connection = SqliteFile(tmp_path / "notes.sqlite3", "notes").open(create)
    assert connection.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    connection.close()


def test_only_a_shared_connection_may_be_used_from_another_thread(tmp_path: Path) -> None:
    errors: dict[bool, BaseException | None] = {}
    for shared in (True, False):
        connection = SqliteFile(tmp_path / f"{shared}.sqlite3", "notes", shared=shared).open(create)

        def use(connection: sqlite3.Connection = connection, shared: bool = shared) -> None:
            try:
                connection.execute("SELECT COUNT(*) FROM notes").fetchone()
                errors[shared] = None
            except sqlite3.ProgrammingError as error:
                errors[shared] = error

        thread = threading.Thread(target=use)
        thread.start()
        thread.join()
        connection.close()
    assert errors[True] is None
    assert isinstance(errors[False], sqlite3.ProgrammingError)


def test_a_failure_while_creating_the_tables_is_raised_and_moves_nothing(
    tmp_path: Path,
) -> None:
    def broken(connection: sqlite3.Connection) -> None:
        connection.execute(SCHEMA)
        raise ValueError("no")

    path = tmp_path / "notes.sqlite3"
    with pytest.raises(ValueError, match="no"):
        SqliteFile(path, "notes").open(broken)
    assert asides(tmp_path) == []
    assert path.exists()
