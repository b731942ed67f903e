"""The library's ledger: states, resumable rows, unchanged files, damaged files, messages."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import pytest

from hybridmcp_app.documents.document_models import FileState, ScannedFile
from hybridmcp_app.documents.library_state import (
    LEDGER_FILE_NAME,
    LibraryState,
    LibraryStorageError,
    describe_storage_error,
)

SIGNATURE = "model/200/40"


def scanned(path: str, digest: str = "h1", size: int = 10) -> ScannedFile:
    return ScannedFile(
        path=Path(path), size=size, mtime_ns=123, content_hash=digest, extension="md"
    )


@pytest.fixture
def state(tmp_path: Path) -> LibraryState:
    return LibraryState.open(tmp_path)


def test_a_run_moves_files_from_queued_to_indexed(state: LibraryState) -> None:
    a, b = scanned("/docs/a.md"), scanned("/docs/b.md")
    state.mark_queued([a, b])
    state.mark([a.path], FileState.EMBEDDING)
    assert [(s.path, s.state) for s in state.pending()] == [
        (a.path, FileState.EMBEDDING),
        (b.path, FileState.QUEUED),
    ]
    status = state.settle(a, FileState.INDEXED, signature=SIGNATURE, chunks=7)
    assert (status.state, status.chunks) == (FileState.INDEXED, 7)
    assert status.indexed_at is not None
    assert state.get(a.path) == status
    assert [s.path for s in state.pending()] == [b.path]
    assert state.known()[a.path] == (10, 123, "h1")


def test_a_settled_file_with_the_same_bytes_and_version_is_current(
    state: LibraryState,
) -> None:
    file = scanned("/docs/a.md")
    assert not state.is_current(file, SIGNATURE)
    state.settle(file, FileState.INDEXED, signature=SIGNATURE, chunks=1)
    assert state.is_current(file, SIGNATURE)
    assert not state.is_current(scanned("/docs/a.md", digest="h2"), SIGNATURE)
    assert not state.is_current(file, "model/100/20")
    state.settle(file, FileState.FAILED, signature=SIGNATURE, reason="encrypted")
    assert state.is_current(file, SIGNATURE)  # it would fail the same way again
    assert not state.is_current(scanned("/docs/a.md", digest="h2"), SIGNATURE)  # changed: retry
    state.mark([file.path], FileState.QUEUED)
    assert not state.is_current(file, SIGNATURE)  # a run that did not finish
    state.settle(file, FileState.SKIPPED, signature=SIGNATURE, reason="no text")
    assert state.is_current(file, SIGNATURE)


def test_rows_survive_reopening(tmp_path: Path) -> None:
    first = LibraryState.open(tmp_path)
    first.mark_queued([scanned("/docs/a.md")])
    first.close()
    again = LibraryState.open(tmp_path)
    assert [s.state for s in again.pending()] == [FileState.QUEUED]


def test_paths_under_a_folder_take_wildcards_literally(state: LibraryState) -> None:
    names = ["/d/a_b/x.md", "/d/aXb/y.md", "/d/100%/z.md", "/d/a_b.md", "/d/a_bc/w.md"]
    state.mark_queued([scanned(name) for name in names])
    assert state.paths_under(Path("/d/a_b")) == [Path("/d/a_b/x.md")]
    assert state.paths_under(Path("/d/100%")) == [Path("/d/100%/z.md")]
    assert state.paths_under(Path("/d/a_b.md")) == [Path("/d/a_b.md")]
    state.remove([Path("/d/a_b.md")])
    assert state.get(Path("/d/a_b.md")) is None


def test_a_damaged_ledger_is_moved_aside_and_a_new_one_started(tmp_path: Path) -> None:
    (tmp_path / LEDGER_FILE_NAME).write_bytes(b"not a database at all" * 100)
    state = LibraryState.open(tmp_path)
    assert state.recovered_from is not None
    assert state.recovered_from.exists()
    assert state.statuses() == []


def test_a_ledger_that_cannot_be_opened_is_a_storage_error_not_damage(tmp_path: Path) -> None:
    (tmp_path / LEDGER_FILE_NAME).mkdir()  # a folder where the file should be
    with pytest.raises(LibraryStorageError, match=LEDGER_FILE_NAME):
        LibraryState.open(tmp_path)
    assert (tmp_path / LEDGER_FILE_NAME).is_dir()  # nothing was moved aside


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), "is full"),
        (sqlite3.OperationalError("database or disk is full"), "is full"),
        (sqlite3.OperationalError("attempt to write a readonly database"), "read-only"),
        (OSError(errno.EROFS, "Read-only file system"), "read-only"),
        (RuntimeError("something else"), "failed while storing chunks: something else"),
    ],
)
def test_storage_errors_say_what_to_do(error: BaseException, expected: str) -> None:
    message = describe_storage_error("storing chunks", "/data/chroma", error)
    assert expected in message
    assert "/data/chroma" in message
