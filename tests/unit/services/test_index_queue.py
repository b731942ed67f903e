"""The index queue over a real library (embedded Chroma in a temporary folder, the offline
embedder, real Markdown files), parsed in this process so a test can hold a run midway."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from hybridmcp_app.config.settings import DocumentsSettings
from hybridmcp_app.documents.document_models import FileState, ScannedFile
from hybridmcp_app.documents.library_indexer import Started
from hybridmcp_app.documents.library_service import LibraryService
from hybridmcp_app.documents.library_state import LibraryStorageError
from hybridmcp_app.documents.parse_pool import parse_one
from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder
from hybridmcp_app.services.index_queue import (
    IndexEvent,
    IndexQueue,
    QueueIdle,
    RunFailed,
    RunFinished,
    RunProgress,
    RunStarted,
    WaitingChanged,
)
from tests.helpers.waiting import PATIENCE_S, wait_until

Parse = Callable[[Sequence[ScannedFile], threading.Event, Started], Iterator[Any]]
OpenLibrary = Callable[..., Awaitable[LibraryService]]


class HeldParse:
    """The real parsers, in this process. The first run holds before its first file until the
    test lets it go (``release``) or the run is cancelled; later runs go straight on."""

    def __init__(self, *, released: bool = False) -> None:
        self.holding = threading.Event()  # the first run waits
        self.release = threading.Event()
        if released:
            self.release.set()

    def __call__(
        self, files: Sequence[ScannedFile], cancel: threading.Event, started: Started
    ) -> Iterator[Any]:
        for file in files:
            if not self.holding.is_set():
                self.holding.set()
                deadline = time.monotonic() + PATIENCE_S  # a safety net: the test lets it go
                while not (self.release.is_set() or cancel.is_set()):
                    assert time.monotonic() < deadline, "the held run was never let go"
                    self.release.wait(0.01)  # or a cancel: whichever comes first
            if cancel.is_set():
                return
            started(file)
            yield file, parse_one(file)


def write_notes(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(count):
        path = folder / f"note-{number}.md"
        path.write_text(f"# Note {number}\n\nOtters hold hands, note {number}.\n", "utf-8")
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def embedder() -> OnnxEmbedder:
    return OnnxEmbedder(threads=1)


@pytest.fixture
async def open_library(tmp_path: Path, embedder: OnnxEmbedder) -> AsyncIterator[OpenLibrary]:
    """Opens the library in ``tmp_path/data`` (``parse``: how files are parsed, by default at
    once); closed after the test."""
    opened: list[LibraryService] = []

    async def open_it(parse: Parse | None = None) -> LibraryService:
        library = await LibraryService.open(
            DocumentsSettings(),
            tmp_path / "data",
            embedder,
            parse=parse or HeldParse(released=True),
        )
        opened.append(library)
        return library

    yield open_it
    for library in opened:
        await library.close()


def follow(queue: IndexQueue) -> list[IndexEvent]:
    events: list[IndexEvent] = []
    queue.subscribe(events.append)
    return events


def runs(events: Sequence[IndexEvent]) -> list[tuple[str, tuple[Path, ...]]]:
    return [(event.kind, event.paths) for event in events if isinstance(event, RunStarted)]


async def states(library: LibraryService) -> dict[str, FileState]:
    return {status.path.name: status.state for status in await library.status()}


async def test_paths_dropped_during_a_run_are_merged_into_one_run_after_it(
    open_library: OpenLibrary, tmp_path: Path
) -> None:
    first = write_notes(tmp_path / "first", 2)
    later = write_notes(tmp_path / "later", 3)
    parse = HeldParse()
    library = await open_library(parse)
    queue = IndexQueue(library)
    events = follow(queue)

    assert queue.add([tmp_path / "first"]) is not None
    await wait_until(parse.holding.is_set)
    assert queue.running
    queue.add([later[0], later[1]])
    queue.add([later[1]])  # queued already: nothing more to do
    assert queue.waiting == 2
    queue.add([tmp_path / "later"])  # the folder takes the place of its files
    assert queue.waiting == 1
    parse.release.set()
    await asyncio.wait_for(queue.wait_idle(), PATIENCE_S)

    assert runs(events) == [("add", (tmp_path / "first",)), ("add", (tmp_path / "later",))]
    assert [event.waiting for event in events if isinstance(event, WaitingChanged)] == [1, 2, 1]
    reports = [event.report for event in events if isinstance(event, RunFinished)]
    assert [report.indexed for report in reports] == [len(first), len(later)]
    assert isinstance(events[-1], QueueIdle) and events[-1].report == reports[-1]
    assert not queue.running and queue.waiting == 0
    assert set((await states(library)).values()) == {FileState.INDEXED}


async def test_each_run_reports_its_progress_between_its_start_and_its_end(
    open_library: OpenLibrary, tmp_path: Path
) -> None:
    notes = write_notes(tmp_path / "notes", 3)
    queue = IndexQueue(await open_library())
    events = follow(queue)
    queue.add([tmp_path / "notes"])
    await asyncio.wait_for(queue.wait_idle(), PATIENCE_S)

    kinds = [type(event) for event in events]
    assert kinds[0] is WaitingChanged and kinds[1] is RunStarted
    assert kinds[-2:] == [RunFinished, QueueIdle]
    progress = [event.progress for event in events if isinstance(event, RunProgress)]
    assert set(kinds[2:-2]) == {RunProgress}
    assert progress[-1].done == progress[-1].total == len(notes)
    settled = {event.changed.path for event in progress if event.changed is not None}
    assert settled == set(notes)


async def test_a_path_already_queued_or_inside_a_queued_folder_adds_nothing(
    open_library: OpenLibrary, tmp_path: Path
) -> None:
    folder, other = tmp_path / "folder", tmp_path / "other"
    write_notes(folder, 2)
    write_notes(other, 1)
    queue = IndexQueue()  # the library is not open yet: everything waits
    events = follow(queue)
    assert queue.add([folder / "note-0.md"]) is None
    queue.add([folder])
    queue.add([folder / "note-1.md", folder])
    queue.add([other, other])
    assert queue.waiting == 2 and not queue.running

    library = await open_library()
    assert queue.attach(library) is not None
    await asyncio.wait_for(queue.wait_idle(), PATIENCE_S)
    assert runs(events) == [("add", (folder, other))]
    assert len(await library.status()) == 3


async def test_cancel_stops_the_run_keeps_what_was_dropped_and_resume_finishes_both(
    open_library: OpenLibrary, tmp_path: Path
) -> None:
    notes = write_notes(tmp_path / "notes", 4)
    later = write_notes(tmp_path / "later", 1)
    parse = HeldParse()
    library = await open_library(parse)
    queue = IndexQueue(library)
    events = follow(queue)
    queue.add([tmp_path / "notes"])
    await wait_until(parse.holding.is_set)
    queue.add([tmp_path / "later"])

    assert queue.cancel()
    assert not queue.cancel()  # stopping already
    await asyncio.wait_for(queue.wait_idle(), PATIENCE_S)
    finished = [event for event in events if isinstance(event, RunFinished)]
    assert len(finished) == 1 and finished[0].report.cancelled
    idle = events[-1]
    assert isinstance(idle, QueueIdle) and idle.waiting == 1 and idle.report == finished[0].report
    assert set((await states(library)).values()) == {FileState.QUEUED}  # nothing half-stored
    assert len(await states(library)) == len(notes)

    events.clear()
    assert queue.resume() is not None
    await asyncio.wait_for(queue.wait_idle(), PATIENCE_S)
    started = [event for event in events if isinstance(event, RunStarted)]
    assert [(event.kind, event.pending) for event in started] == [("resume", 4), ("add", 0)]
    assert started[0].waiting == 1  # the dropped folder, next
    reports = [event.report for event in events if isinstance(event, RunFinished)]
    assert [report.indexed for report in reports] == [len(notes), len(later)]
    assert set((await states(library)).values()) == {FileState.INDEXED}


async def test_cancel_with_queued_also_drops_what_waits(
    open_library: OpenLibrary, tmp_path: Path
) -> None:
    write_notes(tmp_path / "notes", 2)
    write_notes(tmp_path / "later", 1)
    parse = HeldParse()
    queue = IndexQueue(await open_library(parse))
    events = follow(queue)
    queue.add([tmp_path / "notes"])
    await wait_until(parse.holding.is_set)
    queue.add([tmp_path / "later"])
    assert queue.cancel(queued=True)
    await asyncio.wait_for(queue.wait_idle(), PATIENCE_S)
    assert [event.waiting for event in events if isinstance(event, WaitingChanged)] == [1, 1, 0]
    assert runs(events) == [("add", (tmp_path / "notes",))]
    finished, idle = events[-2:]
    assert isinstance(finished, RunFinished) and finished.report.cancelled
    assert idle == QueueIdle(finished.report, 0)
    assert queue.resume() is not None  # what the run left, and nothing else
    await asyncio.wait_for(queue.wait_idle(), PATIENCE_S)
    assert runs(events)[1:] == [("resume", ())]


async def test_resume_with_nothing_left_runs_nothing_and_is_idle_again(
    open_library: OpenLibrary,
) -> None:
    queue = IndexQueue(await open_library())
    events = follow(queue)
    assert queue.resume() is not None
    await asyncio.wait_for(queue.wait_idle(), PATIENCE_S)
    assert events == [QueueIdle(None, 0)]


async def test_a_failed_run_is_reported_and_holds_the_rest_for_resume(
    open_library: OpenLibrary, tmp_path: Path
) -> None:
    write_notes(tmp_path / "notes", 1)
    write_notes(tmp_path / "forced", 1)
    broken = True

    def parse(
        files: Sequence[ScannedFile], cancel: threading.Event, started: Started
    ) -> Iterator[Any]:
        if broken:
            raise LibraryStorageError("the disk is full")
        for file in files:
            yield file, parse_one(file)

    library = await open_library(parse)
    queue = IndexQueue()
    events = follow(queue)
    queue.add([tmp_path / "notes"])
    queue.add([tmp_path / "forced"], force=True)  # a run of its own, after the first
    queue.attach(library)
    await asyncio.wait_for(queue.wait_idle(), PATIENCE_S)
    failed = [event for event in events if isinstance(event, RunFailed)]
    assert [str(event.error) for event in failed] == ["the disk is full"]
    assert events[-1] == QueueIdle(None, 1)

    broken = False
    queue.resume()
    await asyncio.wait_for(queue.wait_idle(), PATIENCE_S)
    assert runs(events)[-2:] == [("resume", ()), ("add", (tmp_path / "forced",))]
    assert set((await states(library)).values()) == {FileState.INDEXED}


async def test_closing_the_queue_cancels_its_run_and_waits_for_the_clean_up(
    open_library: OpenLibrary, tmp_path: Path
) -> None:
    write_notes(tmp_path / "notes", 3)
    parse = HeldParse()
    library = await open_library(parse)
    async with IndexQueue(library) as queue:
        queue.add([tmp_path / "notes"])
        await wait_until(parse.holding.is_set)
    assert not queue.running
    assert set((await states(library)).values()) == {FileState.QUEUED}


async def test_a_listener_that_fails_does_not_stop_the_runs(
    open_library: OpenLibrary, tmp_path: Path
) -> None:
    write_notes(tmp_path / "notes", 1)
    library = await open_library()
    queue = IndexQueue(library)

    def broken_listener(event: IndexEvent) -> None:
        raise RuntimeError("a bug in a front end")

    queue.subscribe(broken_listener)
    unsubscribe = queue.subscribe(lambda event: None)
    unsubscribe()
    unsubscribe()  # a second time does nothing
    queue.add([tmp_path / "notes"])
    await asyncio.wait_for(queue.wait_idle(), PATIENCE_S)
    assert set((await states(library)).values()) == {FileState.INDEXED}


async def test_a_run_task_cancelled_before_it_starts_leaves_the_queue_idle(
    open_library: OpenLibrary, tmp_path: Path
) -> None:
    write_notes(tmp_path / "notes", 1)
    queue = IndexQueue(await open_library())
    task = queue.add([tmp_path / "notes"])
    assert task is not None and queue.running
    task.cancel()
    await asyncio.wait_for(queue.wait_idle(), PATIENCE_S)
    assert not queue.running and queue.waiting == 1  # kept: the next add or resume runs it
