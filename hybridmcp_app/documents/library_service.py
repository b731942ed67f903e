"""The document library as the UI, the CLI and the MCP server see it: add, remove, search, status.

Indexing a batch of files runs in one worker thread: files are parsed by ``parse_pool`` (worker
processes, a window of files at a time), cut into chunks, embedded 64 chunks at a time (one
embedder call at a time, searches included) and upserted into Chroma under stable ids. The
ledger (``LibraryState``) follows every file: ``queued`` for the whole batch first, then
``parsing``, ``embedding``, and ``indexed`` only once the store holds exactly the file's current
chunks. A run that is killed therefore leaves rows that ``resume`` finishes: it deletes the
chunks of files caught half-way, then indexes them and the queued ones. A cancelled run (the
task cancelled, or ``cancel()``) cleans up the same way before it returns: the files it did not
finish are left ``queued``, with none of their chunks half-stored.

A full disk or an unreachable server stops the run with a ``LibraryStorageError`` saying so;
what was indexed stays, and ``resume`` carries on once the cause is gone. No Qt: progress is a
plain callback, called on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar, get_args

from hybridmcp_app.config.settings import DocumentsSettings
from hybridmcp_app.core.frozen_model import FrozenModel
from hybridmcp_app.documents.document_models import (
    FileState,
    FileStatus,
    ScannedFile,
    SearchHit,
    SkippedFile,
)
from hybridmcp_app.documents.library_indexer import (
    IndexParts,
    IndexProgress,
    IndexReport,
    IndexRun,
    ParseMany,
    Started,
)
from hybridmcp_app.documents.library_lock import LibraryLock
from hybridmcp_app.documents.library_state import PENDING, UNFINISHED, LibraryState
from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder

if TYPE_CHECKING:
    from hybridmcp_app.documents.chroma_store import ChromaStore
    from hybridmcp_app.documents.document_scanner import ScanResult
    from hybridmcp_app.documents.library_backup import BackupSummary, LibraryContents

log = logging.getLogger("hybridmcp.documents.library")
EMBED_BATCH = 64
T = TypeVar("T")
SearchMode = Literal["vector", "keyword", "hybrid"]
SEARCH_MODES: tuple[str, ...] = get_args(SearchMode)
__all__ = ["IndexProgress", "IndexReport", "LibraryService", "LibraryStats", "SearchMode"]


class LibraryStats(FrozenModel):
    """Files by state, chunks stored, and where the store is (a folder or a server's URL)."""

    files: int
    indexed: int
    failed: int
    pending: int
    chunks: int
    location: str


def _default_parse(
    files: Sequence[ScannedFile], cancel: threading.Event, started: Started
) -> Iterator[Any]:
    from hybridmcp_app.documents.parse_pool import parse_many

    return parse_many(files, cancel=cancel, started=started)


class LibraryService:
    """The library over a vector store, its ledger and the offline embedder."""

    def __init__(
        self,
        store: ChromaStore,
        state: LibraryState,
        embedder: OnnxEmbedder,
        settings: DocumentsSettings,
        *,
        parse: ParseMany | None = None,
        embed_batch: int = EMBED_BATCH,
    ) -> None:
        self.store, self.state, self.embedder, self.settings = store, state, embedder, settings
        self.parse = parse or _default_parse
        self.embed_batch = embed_batch
        self._embed_lock = threading.Lock()  # one embedder call at a time
        self._run_lock = asyncio.Lock()  # one run (or removal) at a time
        self._cancels: set[threading.Event] = set()  # of the runs going or waiting to
        self._lock: LibraryLock | None = None  # set by ``open`` for an embedded store

    @classmethod
    async def open(
        cls,
        settings: DocumentsSettings,
        data_dir: Path,
        embedder: OnnxEmbedder,
        *,
        parse: ParseMany | None = None,
    ) -> LibraryService:
        """Open the ledger and the store; an embedded store is locked to this process
        (``LibraryBusy`` if another one has it)."""
        from hybridmcp_app.documents.chroma_store import ChromaStore

        lock = LibraryLock(data_dir) if settings.chroma_mode == "embedded" else None
        if lock is not None:
            await asyncio.to_thread(lock.acquire)
        try:
            state = await asyncio.to_thread(LibraryState.open, data_dir)
            try:
                store = await asyncio.to_thread(ChromaStore.open, settings, data_dir, embedder)
            except BaseException:
                state.close()
                raise
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        library = cls(store, state, embedder, settings, parse=parse)
        library._lock = lock
        return library

    async def close(self) -> None:
        try:
            await asyncio.to_thread(self.store.close)
            await asyncio.to_thread(self.state.close)
        finally:
            if self._lock is not None:
                self._lock.release()
                self._lock = None

    @property
    def signature(self) -> str:
        """What the chunks depend on besides the file: a change re-indexes every file."""
        chunking = f"{self.settings.chunk_tokens}/{self.settings.chunk_overlap_tokens}"
        return f"{OnnxEmbedder.model_id}/{chunking}"

    # ---------------------------------------------------------------- indexing

    async def add(
        self,
        paths: Sequence[Path],
        progress: Callable[[IndexProgress], None] | None = None,
        *,
        force: bool = False,
    ) -> IndexReport:
        """Scan files and folders and index what is new or changed (everything if ``force``)."""
        from hybridmcp_app.documents.document_scanner import ScanCancelled, scan_documents

        async with self._exclusive_run() as cancel:
            known = await asyncio.to_thread(self.state.known)
            scan_paths = list(paths)

            def scan() -> ScanResult:
                return scan_documents(
                    scan_paths, self.settings.extensions, known=known, cancel=cancel
                )

            try:
                found = await _in_thread(cancel, scan)
            except ScanCancelled:
                return IndexReport(cancelled=True)
            removed = await asyncio.to_thread(self._prune, scan_paths, found.files)
            report = await self._index(found.files, progress, force, found.skipped, cancel)
            return report.model_copy(update={"removed": removed})

    async def index_files(
        self,
        files: Sequence[ScannedFile],
        progress: Callable[[IndexProgress], None] | None = None,
        *,
        force: bool = False,
    ) -> IndexReport:
        """Index files already scanned."""
        async with self._exclusive_run() as cancel:
            return await self._index(files, progress, force, (), cancel)

    async def resume(self, progress: Callable[[IndexProgress], None] | None = None) -> IndexReport:
        """Finish what an earlier run left: files queued, or caught half-way (their chunks are
        deleted first). Files gone since, or no longer indexable, leave the library."""
        from hybridmcp_app.documents.document_scanner import ScanCancelled, scan_documents

        async with self._exclusive_run() as cancel:
            pending = await asyncio.to_thread(self.state.pending)
            if not pending:
                return IndexReport()
            unfinished = [status.path for status in pending if status.state in UNFINISHED]
            await asyncio.to_thread(self._forget_chunks, unfinished)
            known = await asyncio.to_thread(self.state.known)
            paths = [status.path for status in pending]

            def scan() -> ScanResult:
                return scan_documents(paths, self.settings.extensions, known=known, cancel=cancel)

            try:
                found = await _in_thread(cancel, scan)
            except ScanCancelled:
                return IndexReport(cancelled=True)
            if found.skipped:
                await asyncio.to_thread(self._drop, [file.path for file in found.skipped])
            return await self._index(found.files, progress, True, found.skipped, cancel)

    def cancel(self) -> None:
        """Stop the current run at its next step (it cleans up and returns ``cancelled``), and
        the runs waiting for it."""
        for event in list(self._cancels):
            event.set()

    @contextlib.asynccontextmanager
    async def _exclusive_run(self) -> AsyncIterator[threading.Event]:
        """Wait for the runs before, then run; ``cancel()`` reaches this run while it waits."""
        event = threading.Event()
        self._cancels.add(event)
        try:
            async with self._run_lock:
                yield event
        finally:
            self._cancels.discard(event)

    async def _index(
        self,
        files: Sequence[ScannedFile],
        progress: Callable[[IndexProgress], None] | None,
        force: bool,
        left_out: Sequence[SkippedFile],
        cancel: threading.Event,
    ) -> IndexReport:
        loop = asyncio.get_running_loop()

        def report(event: IndexProgress) -> None:
            if progress is not None:
                with contextlib.suppress(RuntimeError):  # the loop closed: nobody is listening
                    loop.call_soon_threadsafe(progress, event)

        run = IndexRun(self._index_parts(), list(files), force=force, cancel=cancel, report=report)
        result = await _in_thread(cancel, run.run)
        return result.model_copy(update={"left_out": tuple(left_out)})

    def _index_parts(self) -> IndexParts:
        return IndexParts(
            store=self.store,
            state=self.state,
            parse=self.parse,
            embed=self.embed,
            count_tokens=self.embedder.count_tokens,
            signature=self.signature,
            chunk_tokens=self.settings.chunk_tokens,
            overlap_tokens=self.settings.chunk_overlap_tokens,
            embed_batch=self.embed_batch,
        )

    def _forget_chunks(self, paths: Sequence[Path]) -> None:
        for path in paths:
            self.store.delete_file(path)
        self.state.mark(paths, FileState.QUEUED)

    def _prune(self, scanned: Sequence[Path], found: Sequence[ScannedFile]) -> int:
        """Drop the library's files under ``scanned`` that the scan no longer found (deleted,
        now ignored, too large…), except under a folder that is missing; returns how many."""
        present = {file.path for file in found}
        known: set[Path] = set()
        for root in map(_absolute, scanned):
            under = self.state.paths_under(root)
            if not root.exists() and any(path != root for path in under):
                # A whole folder gone (an unplugged drive, a share away): its documents stay
                # until it is back or the user removes them; a deleted file leaves.
                log.warning("%s is missing; its %d document(s) are kept", root, len(under))
                continue
            known.update(under)
        gone = sorted(known - present)
        self._drop(gone)
        return len(gone)

    def _drop(self, paths: Sequence[Path]) -> None:
        for path in paths:
            self.store.delete_file(path)
        self.state.remove(paths)

    # ---------------------------------------------------------------- the rest

    async def remove(self, paths: Sequence[Path]) -> int:
        """Take files (or every file under folders) out of the library; waits for a run."""
        async with self._run_lock:

            def remove() -> int:
                roots = [_absolute(path) for path in paths]
                found = {path for root in roots for path in self.state.paths_under(root)}
                # A file path also loses chunks the ledger may not know of (a lost ledger).
                self._drop(sorted(found | {root for root in roots if not root.is_dir()}))
                return len(found)

            return await asyncio.to_thread(remove)

    @property
    def backups_dir(self) -> Path:
        return self.state.path.parent / "backups"

    async def backup(
        self, destination: Path, progress: Callable[[int], None] | None = None
    ) -> BackupSummary:
        """Write the library to one file (waits for a run); see ``library_backup``."""
        from hybridmcp_app.documents.library_backup import write_backup

        async with self._run_lock:
            return await asyncio.to_thread(write_backup, self._contents(), destination, progress)

    async def restore(
        self, source: Path, progress: Callable[[int], None] | None = None
    ) -> BackupSummary:
        """Replace the library by a backup; the current one is saved first (``backups_dir``)."""
        from hybridmcp_app.documents.library_backup import restore_backup

        async with self._run_lock:
            return await asyncio.to_thread(restore_backup, self._contents(), source, progress)

    def _contents(self) -> LibraryContents:
        from hybridmcp_app.documents.library_backup import LibraryContents

        return LibraryContents(
            store=self.store,
            state=self.state,
            embedder=self.embedder.model_id,
            signature=self.signature,
            backups_dir=self.backups_dir,
        )

    async def search(
        self, query: str, k: int = 8, where: Any = None, *, mode: SearchMode = "vector"
    ) -> list[SearchHit]:
        """The ``k`` best chunks for ``query``, best first: closest in meaning (``vector``),
        best by BM25 over its words (``keyword``), or both fused by reciprocal rank fusion
        (``hybrid``: finds exact names, codes and numbers that meaning alone ranks low)."""
        if mode not in SEARCH_MODES:
            raise ValueError(f"unknown search mode {mode!r}: use one of {', '.join(SEARCH_MODES)}")
        if mode == "keyword":
            return await asyncio.to_thread(self.store.keyword_query, query, k, where)
        vector = (await asyncio.to_thread(self.embed, [query]))[0].tolist()
        if mode == "hybrid":
            return await asyncio.to_thread(self.store.hybrid_query, query, vector, k, where)
        return await asyncio.to_thread(self.store.query, vector, k, where)

    def embed(self, texts: Sequence[str]) -> Any:
        """Blocking; waits while another batch is being embedded."""
        with self._embed_lock:
            return self.embedder.embed_sync(texts)

    async def status(self) -> list[FileStatus]:
        return await asyncio.to_thread(self.state.statuses)

    async def stats(self) -> LibraryStats:
        statuses = await self.status()
        chunks = await asyncio.to_thread(self.store.count)
        by_state = {state: 0 for state in FileState}
        for status in statuses:
            by_state[status.state] += 1
        return LibraryStats(
            files=len(statuses),
            indexed=by_state[FileState.INDEXED],
            failed=by_state[FileState.FAILED],
            pending=sum(by_state[state] for state in PENDING),
            chunks=chunks,
            location=self.store.location,
        )


def _absolute(path: Path) -> Path:
    """A path as the scanner records it: absolute and normalised, links kept."""
    return Path(os.path.normpath(Path(path).absolute()))


async def _in_thread(cancel: threading.Event, function: Callable[..., T], *args: Any) -> T:
    """Run blocking work in a thread; if the task is cancelled, ask the work to stop and wait
    for it (so it can clean up) before the cancellation goes on."""
    future = asyncio.ensure_future(asyncio.to_thread(function, *args))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        cancel.set()
        try:
            await future
        except Exception as error:  # the cancellation is what the caller hears about
            log.warning("library work ended with an error after it was cancelled: %s", error)
        raise
