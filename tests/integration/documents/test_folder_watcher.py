"""Watched folders with real file-system events, real Chroma and the real embedder: edits,
additions, deletions and renames reach the library, and only what changed is indexed again."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

import pytest

from hybridmcp_app.core.errors import HybridMCPError
from hybridmcp_app.documents.document_models import FileState
from hybridmcp_app.documents.folder_watcher import FolderWatcher
from hybridmcp_app.documents.library_service import IndexProgress, LibraryService
from tests.helpers.chroma_corpus import essay, write_corpus
from tests.helpers.waiting import PATIENCE_S, wait_until

pytestmark = pytest.mark.integration


async def indexed_paths(library: LibraryService) -> dict[Path, str]:
    return {status.path: status.content_hash for status in await library.status()}


async def test_changes_in_a_watched_folder_reach_the_library_and_only_they_are_indexed(
    tmp_path: Path, library: LibraryService
) -> None:
    folder = tmp_path / "notes"
    files = write_corpus(folder, files=4, paragraphs=2)
    saved: list[tuple[Path, ...]] = []
    indexed_now: list[Path] = []

    def follow(event: IndexProgress) -> None:
        if event.changed is not None and event.changed.state is FileState.INDEXED:
            indexed_now.append(event.changed.path)

    watcher = FolderWatcher(library, save=saved.append, progress=follow, debounce_ms=200)
    first = await watcher.watch(folder)
    assert first.indexed == len(files) == 5  # four notes and keeper.txt
    assert saved[-1] == (folder,)
    (shown,) = watcher.folders()
    assert shown.path == folder and shown.documents == 5 and shown.last_indexed_at is not None
    running = asyncio.ensure_future(watcher.run())
    try:
        await wait_until(
            lambda: watcher.folders()[0].last_indexed_at != shown.last_indexed_at
        )  # the catch-up is done, and the folder is watched from the same step on
        indexed_now.clear()  # the catch-up at start found nothing new
        before = await indexed_paths(library)

        files[0].write_text(essay("tide pools", seed=99, paragraphs=2), encoding="utf-8")
        (folder / "new.md").write_text("# Fresh\n\nThe beekeeper counts otters on Tuesdays.\n")
        files[1].unlink()
        files[2].rename(folder / "renamed.md")

        async def settled() -> bool:
            now = await indexed_paths(library)
            return set(now) == {files[0], folder / "new.md", folder / "renamed.md", *files[3:]}

        deadline = time.monotonic() + PATIENCE_S  # embedding is slow on a busy machine
        while not (await settled() and not watcher.folders()[0].syncing):
            assert time.monotonic() < deadline, "the changes did not reach the library"
            await asyncio.sleep(0.1)
        after = await indexed_paths(library)
        assert after[files[0]] != before[files[0]]
        assert after[files[3]] == before[files[3]]
        # Only the edited, new and renamed files were embedded again.
        assert set(indexed_now) == {files[0], folder / "new.md", folder / "renamed.md"}
        hits = await library.search("who counts otters on Tuesdays", k=1)
        assert hits[0].provenance.path == folder / "new.md"
        assert watcher.syncs >= 1
    finally:
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running


async def test_a_watched_folder_that_goes_missing_keeps_its_documents_and_comes_back(
    tmp_path: Path, library: LibraryService
) -> None:
    folder = tmp_path / "usb" / "docs"
    write_corpus(folder, files=2, paragraphs=1)
    watcher = FolderWatcher(library, debounce_ms=200)
    await watcher.watch(folder)
    parked = tmp_path / "parked"
    shutil.move(folder, parked)  # the drive is unplugged

    await watcher.sync(folder)
    (shown,) = watcher.folders()
    assert "missing" in shown.problem and shown.documents == 3
    assert len(await library.status()) == 3
    # A plain add of the missing folder does not drop its documents either.
    report = await library.add([folder])
    assert report.removed == 0 and len(await library.status()) == 3

    shutil.move(parked, folder)  # plugged back in
    await watcher.sync(folder)
    assert watcher.folders()[0].problem == ""
    assert {s.state for s in await library.status()} == {FileState.INDEXED}


async def test_a_deleted_file_leaves_the_library_but_unwatching_keeps_the_rest(
    tmp_path: Path, library: LibraryService
) -> None:
    folder = tmp_path / "papers"
    files = write_corpus(folder, files=3, paragraphs=1)
    saved: list[tuple[Path, ...]] = []
    watcher = FolderWatcher(library, save=saved.append)
    await watcher.watch(folder)
    files[0].unlink()
    report = await watcher.sync(folder)
    assert report.removed == 1
    assert set(await indexed_paths(library)) == set(files[1:])

    assert await watcher.unwatch(folder) == 0
    assert saved[-1] == () and watcher.folders() == []
    assert set(await indexed_paths(library)) == set(files[1:])
    with pytest.raises(HybridMCPError, match="not a watched folder"):
        await watcher.unwatch(folder)
    with pytest.raises(HybridMCPError, match="not a folder"):
        await watcher.watch(tmp_path / "nowhere")


async def test_writes_under_an_ignored_path_start_no_rescan(
    tmp_path: Path, library: LibraryService
) -> None:
    folder = tmp_path / "everything"
    write_corpus(folder, files=1, paragraphs=1)
    inside = folder / "app-data"
    inside.mkdir()
    indexed: list[Path] = []

    def follow(event: IndexProgress) -> None:
        if event.changed is not None and event.changed.state is FileState.INDEXED:
            indexed.append(event.changed.path)

    watcher = FolderWatcher(library, ignore=[inside], progress=follow, debounce_ms=100)
    await watcher.watch(folder)
    (shown,) = watcher.folders()
    running = asyncio.ensure_future(watcher.run())
    try:
        await wait_until(
            lambda: watcher.folders()[0].last_indexed_at != shown.last_indexed_at
        )  # the catch-up is done, and the folder is watched from the same step on
        syncs = watcher.syncs
        for index in range(5):
            (inside / f"log{index}.txt").write_text("noise\n")
            # Apart, so that noise wrongly followed would start rescans of its own; written
            # together with the real note below, it would only hide such a bug.
            await asyncio.sleep(0.1)
        # After the noise, a real note moved in whole (one event, so one rescan). Changes come
        # in order: once the note is in, the noise has been seen too.
        staged = tmp_path / "real.txt"
        staged.write_text("A real note about otters holding hands.\n")
        staged.rename(folder / "real.txt")
        await wait_until(
            lambda: folder / "real.txt" in indexed and not watcher.folders()[0].syncing
        )
        assert watcher.syncs == syncs + 1  # the note's rescan, none for the noise
    finally:
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
