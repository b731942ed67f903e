"""The library end to end with real Chroma: scan, parse, chunk, embed, store, search, and its
faults (a killed indexer, a cancelled run, a full or read-only disk)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from pydantic import AnyHttpUrl

from hybridmcp_app.config.settings import DocumentsSettings
from hybridmcp_app.documents.document_models import FileState
from hybridmcp_app.documents.library_lock import LibraryBusy
from hybridmcp_app.documents.library_service import IndexProgress, LibraryService
from hybridmcp_app.documents.library_state import LibraryStorageError
from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder
from tests.helpers.chroma_corpus import FACT, FACT_QUESTION, essay, expected_chunk_ids, write_corpus
from tests.helpers.chroma_disk import can_mount, fill, remount, small_tmpfs
from tests.helpers.chroma_server import chroma_server
from tests.helpers.documents_corpus import (
    write_encrypted_pdf,
    write_garbage,
    write_png_named,
    write_truncated_pdf,
)
from tests.helpers.processes import stop
from tests.helpers.waiting import PATIENCE_S

pytestmark = pytest.mark.integration
REPOSITORY = Path(__file__).resolve().parents[3]
SETTINGS = DocumentsSettings()


@pytest.fixture
def corpus(tmp_path: Path) -> list[Path]:
    return write_corpus(tmp_path / "corpus", files=12)


async def assert_exactly_indexed(
    library: LibraryService, paths: Sequence[Path], embedder: OnnxEmbedder
) -> None:
    """The store holds each file's current chunks and nothing else; the ledger and the
    keyword index agree."""
    expected = expected_chunk_ids(paths, embedder, library.settings)
    keywords = library.store.keywords
    for path, ids in expected.items():
        assert await asyncio.to_thread(library.store.chunk_ids, path) == ids, path
        assert await asyncio.to_thread(keywords.ids_for, path) == ids, path
    total = sum(len(ids) for ids in expected.values())
    assert await asyncio.to_thread(library.store.count) == total
    assert await asyncio.to_thread(keywords.count) == total
    statuses = {status.path: status for status in await library.status()}
    assert {path: (s.state, s.chunks) for path, s in statuses.items()} == {
        path: (FileState.INDEXED, len(ids)) for path, ids in expected.items()
    }


async def test_adding_a_folder_indexes_every_file_and_search_finds_the_answer(
    tmp_path: Path, corpus: list[Path], embedder: OnnxEmbedder
) -> None:
    library = await LibraryService.open(SETTINGS, tmp_path / "data", embedder)
    events: list[IndexProgress] = []
    try:
        report = await library.add([tmp_path / "corpus"], events.append)
        assert (report.indexed, report.failed, report.cancelled) == (len(corpus), 0, False)
        await assert_exactly_indexed(library, corpus, embedder)
        best = (await library.search(FACT_QUESTION, k=3))[0]
        assert FACT in best.text
        assert best.provenance.path == corpus[-1]
        assert [event.done for event in events] == sorted(event.done for event in events)
        assert events[-1].done == events[-1].total == len(corpus)
        assert events[-1].chunks == report.chunks
        assert {event.changed.path for event in events if event.changed} == set(corpus)
        stats = await library.stats()
        assert (stats.files, stats.indexed, stats.chunks) == (
            len(corpus),
            len(corpus),
            report.chunks,
        )
    finally:
        await library.close()


async def test_adding_again_skips_unchanged_files_and_replaces_changed_or_deleted_ones(
    tmp_path: Path, corpus: list[Path], embedder: OnnxEmbedder
) -> None:
    library = await LibraryService.open(SETTINGS, tmp_path / "data", embedder)
    try:
        await library.add([tmp_path / "corpus"])
        changed, deleted, *others = corpus
        changed.write_text(essay("a much shorter new version", 99, paragraphs=1))
        deleted.unlink()
        report = await library.add([tmp_path / "corpus"])
        assert (report.indexed, report.unchanged, report.removed) == (1, len(others), 1)
        await assert_exactly_indexed(library, [changed, *others], embedder)
        forced = await library.add([tmp_path / "corpus"], force=True)
        assert forced.indexed == len(others) + 1
        await assert_exactly_indexed(library, [changed, *others], embedder)
    finally:
        await library.close()


async def test_an_unreadable_file_fails_with_its_reason_and_the_rest_is_indexed(
    tmp_path: Path, corpus: list[Path], embedder: OnnxEmbedder
) -> None:
    broken = write_garbage(tmp_path / "corpus" / "broken.pdf")
    library = await LibraryService.open(SETTINGS, tmp_path / "data", embedder)
    try:
        report = await library.add([tmp_path / "corpus"])
        assert (report.indexed, report.failed) == (len(corpus), 1)
        status = next(s for s in await library.status() if s.path == broken)
        assert status.state is FileState.FAILED
        assert status.reason
        assert await asyncio.to_thread(library.store.chunk_ids, broken) == set()
    finally:
        await library.close()


async def test_bad_files_of_every_kind_get_their_reason_and_the_rest_is_indexed(
    tmp_path: Path, corpus: list[Path], embedder: OnnxEmbedder
) -> None:
    folder = tmp_path / "corpus"
    with (folder / "huge.pdf").open("wb") as huge:  # sparse: 101 MiB without writing them
        huge.truncate(101 * 1024 * 1024)
    bad = {
        "broken.pdf": write_garbage(folder / "broken.pdf"),
        "locked.pdf": write_encrypted_pdf(folder / "locked.pdf"),
        "photo.pdf": write_png_named(folder / "photo.pdf"),
        "cut.pdf": write_truncated_pdf(folder / "cut.pdf", keep=0.8),
    }
    (folder / "empty.md").touch()
    library = await LibraryService.open(SETTINGS, tmp_path / "data", embedder)
    try:
        report = await library.add([folder])
        assert (report.indexed, report.failed) == (len(corpus), len(bad))
        assert {item.path.name: item.reason for item in report.left_out} == {
            "huge.pdf": "too large: 101.0 MiB (limit 100.0 MiB)",
            "empty.md": "empty file",
        }
        statuses = {status.path.name: status for status in await library.status()}
        for name in bad:
            assert statuses[name].state in (FileState.FAILED, FileState.SKIPPED), name
            assert statuses[name].reason, name
        assert "password" in statuses["locked.pdf"].reason
        # Dropped on its own, the huge file is refused the same way.
        alone = await library.add([folder / "huge.pdf"])
        assert [item.reason for item in alone.left_out] == [
            "too large: 101.0 MiB (limit 100.0 MiB)"
        ]
        assert FACT in (await library.search(FACT_QUESTION, k=1))[0].text
    finally:
        await library.close()


async def test_removing_a_folder_takes_its_files_and_chunks_out(
    tmp_path: Path, corpus: list[Path], embedder: OnnxEmbedder
) -> None:
    other = write_corpus(tmp_path / "other", files=2)
    library = await LibraryService.open(SETTINGS, tmp_path / "data", embedder)
    try:
        await library.add([tmp_path / "corpus", tmp_path / "other"])
        assert await library.remove([tmp_path / "corpus"]) == len(corpus)
        await assert_exactly_indexed(library, other, embedder)
    finally:
        await library.close()


@pytest.mark.parametrize("how", ["cancel()", "task.cancel()"])
async def test_a_cancelled_run_leaves_no_half_indexed_file_and_resume_finishes(
    tmp_path: Path, embedder: OnnxEmbedder, how: str
) -> None:
    corpus = write_corpus(tmp_path / "corpus", files=16)
    library = await LibraryService.open(SETTINGS, tmp_path / "data", embedder)
    try:
        first_file = asyncio.Event()

        def on_progress(event: IndexProgress) -> None:
            if event.changed is not None and event.changed.state is FileState.INDEXED:
                first_file.set()

        run = asyncio.create_task(library.add([tmp_path / "corpus"], on_progress))
        await asyncio.wait_for(first_file.wait(), PATIENCE_S)
        if how == "cancel()":
            library.cancel()
            assert (await asyncio.wait_for(run, PATIENCE_S)).cancelled
        else:
            run.cancel()
            with pytest.raises(asyncio.CancelledError):
                await asyncio.wait_for(run, PATIENCE_S)
        statuses = await library.status()
        assert {status.state for status in statuses} == {FileState.INDEXED, FileState.QUEUED}
        expected = expected_chunk_ids(corpus, embedder, SETTINGS)
        for status in statuses:
            stored = await asyncio.to_thread(library.store.chunk_ids, status.path)
            assert stored == (expected[status.path] if status.state is FileState.INDEXED else set())
        report = await library.resume()
        assert report.indexed == sum(s.state is FileState.QUEUED for s in statuses)
        await assert_exactly_indexed(library, corpus, embedder)
    finally:
        await library.close()


def test_a_killed_indexer_resumes_without_duplicate_or_orphan_chunks(
    tmp_path: Path, embedder: OnnxEmbedder
) -> None:
    corpus = write_corpus(tmp_path / "corpus", files=30)
    data = tmp_path / "data"
    module = "tests.helpers.chroma_indexing"
    command = [sys.executable, "-m", module, str(data), str(tmp_path / "corpus")]
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY)}
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(
            command,
            cwd=REPOSITORY,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            start_new_session=True,  # its parse workers die with it
        )
        assert process.stdout is not None
        try:
            for line in process.stdout:
                if line.startswith("finished"):
                    pytest.fail("the indexer finished before it could be killed")
                if line.startswith("settled") and int(line.split()[1]) >= 4:
                    os.killpg(process.pid, signal.SIGKILL)
                    break
            process.wait(timeout=PATIENCE_S)
        finally:
            stop(process)
            process.stdout.close()
        errors.seek(0)
        assert process.returncode == -signal.SIGKILL, errors.read()[-3000:]
    finished = subprocess.run(
        command,
        cwd=REPOSITORY,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert finished.stdout.strip().splitlines()[-1].startswith("finished")

    async def check() -> None:
        library = await LibraryService.open(SETTINGS, data, embedder)
        try:
            await assert_exactly_indexed(library, corpus, embedder)
        finally:
            await library.close()

    asyncio.run(check())


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    if not can_mount():
        pytest.skip("needs root to mount a small tmpfs (a read-only folder is tested without)")
    with small_tmpfs(tmp_path / "disk", "16m") as mounted:
        yield mounted


async def test_a_full_disk_stops_indexing_with_a_clear_error_and_the_library_still_opens(
    tmp_path: Path, disk: Path, embedder: OnnxEmbedder
) -> None:
    corpus = write_corpus(tmp_path / "corpus", files=40)
    data = disk / "data"
    library = await LibraryService.open(SETTINGS, data, embedder)
    try:
        await library.add([corpus[0]])
        filler = fill(disk, leave_bytes=256 * 1024)
        with pytest.raises(LibraryStorageError, match="disk holding the library is full"):
            await library.add([tmp_path / "corpus"])
    finally:
        await library.close()
    full = await LibraryService.open(SETTINGS, data, embedder)  # still opens, disk still full
    try:
        statuses = {status.path: status.state for status in await full.status()}
        assert statuses[corpus[0]] is FileState.INDEXED
        assert len(statuses) == len(corpus)
    finally:
        await full.close()
    filler.unlink()
    freed = await LibraryService.open(SETTINGS, data, embedder)
    try:
        await freed.resume()
        await assert_exactly_indexed(freed, corpus, embedder)
    finally:
        await freed.close()


async def test_a_read_only_library_folder_is_a_clear_error(
    tmp_path: Path, corpus: list[Path], embedder: OnnxEmbedder
) -> None:
    if can_mount():
        with small_tmpfs(tmp_path / "disk", "16m") as disk:
            await _check_read_only(disk, corpus, embedder, lambda: remount(disk, read_only=True))
    else:
        folder = tmp_path / "disk"
        folder.mkdir()
        await _check_read_only(folder, corpus, embedder, lambda: _chmod_tree(folder, 0o555, 0o444))
        _chmod_tree(folder, 0o755, 0o644)


async def _check_read_only(
    folder: Path, corpus: list[Path], embedder: OnnxEmbedder, make_read_only: Callable[[], None]
) -> None:
    library = await LibraryService.open(SETTINGS, folder / "data", embedder)
    await library.add([corpus[0]])
    await library.close()
    make_read_only()
    with pytest.raises(LibraryStorageError, match="read-only") as raised:
        reopened = await LibraryService.open(SETTINGS, folder / "data", embedder)
        try:
            await reopened.add([corpus[0].parent])
        finally:
            await reopened.close()
    assert str(folder) in str(raised.value)


def _chmod_tree(folder: Path, directories: int, files: int) -> None:
    for path in [folder, *folder.rglob("*")]:
        path.chmod(directories if path.is_dir() else files)


async def test_a_chroma_server_backs_the_library_like_the_embedded_store(
    tmp_path: Path, corpus: list[Path], embedder: OnnxEmbedder
) -> None:
    with chroma_server(tmp_path / "server") as url:
        settings = DocumentsSettings(chroma_mode="http", chroma_url=AnyHttpUrl(url))
        library = await LibraryService.open(settings, tmp_path / "data", embedder)
        try:
            report = await library.add([tmp_path / "corpus"])
            assert report.indexed == len(corpus)
            assert FACT in (await library.search(FACT_QUESTION, k=1))[0].text
            assert (await library.add([tmp_path / "corpus"])).unchanged == len(corpus)
            await assert_exactly_indexed(library, corpus, embedder)
        finally:
            await library.close()
    assert not (tmp_path / "data" / "chroma").exists()


def test_a_second_process_cannot_open_the_embedded_library_until_the_first_is_gone(
    tmp_path: Path, embedder: OnnxEmbedder
) -> None:
    data = tmp_path / "data"

    async def open_and_close() -> None:
        library = await LibraryService.open(SETTINGS, data, embedder)
        await library.close()

    asyncio.run(open_and_close())  # creates the library; closing frees it at once
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LIBRARY, str(data)],
        cwd=REPOSITORY, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        with pytest.raises(LibraryBusy, match=r"open in .*process \d+.*Chroma server"):
            asyncio.run(open_and_close())
        holder.send_signal(signal.SIGKILL)  # the OS drops the lock with its owner
        holder.wait(timeout=PATIENCE_S)
        asyncio.run(open_and_close())
    finally:
        stop(holder)
        if holder.stdout is not None:
            holder.stdout.close()


HOLD_LIBRARY = """
import asyncio, sys, time
from pathlib import Path
from hybridmcp_app.config.settings import DocumentsSettings
from hybridmcp_app.documents.library_service import LibraryService
from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder

async def hold():
    library = await LibraryService.open(
        DocumentsSettings(), Path(sys.argv[1]), OnnxEmbedder(threads=1)
    )
    print("open", flush=True)
    time.sleep(3600)  # until the test kills it
    await library.close()

asyncio.run(hold())
"""


async def test_cancel_reaches_a_run_still_waiting_for_the_one_before(
    tmp_path: Path, corpus: list[Path], embedder: OnnxEmbedder
) -> None:
    library = await LibraryService.open(SETTINGS, tmp_path / "data", embedder)
    try:
        first = asyncio.ensure_future(library.add([tmp_path / "corpus"]))
        await asyncio.sleep(0)  # the first run holds the lock
        second = asyncio.ensure_future(library.add([corpus[0]], force=True))
        await asyncio.sleep(0)
        library.cancel()
        reports = await asyncio.gather(first, second)
        assert [report.cancelled for report in reports] == [True, True]
        assert await library.remove([tmp_path / "never-added.md"]) == 0
    finally:
        await library.close()
