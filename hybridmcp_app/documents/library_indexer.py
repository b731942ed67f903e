"""One indexing run: parse, chunk, embed, store and record, as a pipeline (blocking).

The run's thread takes the parsed files (from the parse pool's processes), cuts them into chunks
and hands batches of ``embed_batch`` chunks to an embedding thread; a storing thread upserts each
embedded batch and records the files it completes. So the embedder, the slowest stage, never
waits for Chroma, the ledger or the chunker: they work on the batch before or after the one being
embedded. Every write to the store and the ledger is made by the storing thread, in batch order.

Each file's moves are reported as they happen: ``queued`` → ``parsing`` (a parser took it on)
→ ``embedding`` (cut into chunks, on its way to the store) → ``indexed``, or ``failed``/``skipped``
with the reason. The ledger records what a crash must know, one write per step that matters:
``queued``, then ``embedding`` just before the file's first chunks are stored, then the outcome
(a file being parsed has nothing in the store, so its row stays ``queued``). A file is
``indexed`` only once the store holds exactly
its current chunks (its last batch stored, and what an older version left deleted), so a run
killed half-way leaves rows that ``LibraryService.resume`` finishes. A cancelled run stores no
batch it has not started storing, then deletes the chunks of every file it did not finish.

A run is handed the pieces it works with (``IndexParts``: the store, the ledger, the parser, the
embedder's two calls and the chunking settings), not the ``LibraryService`` that owns them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field

from hybridmcp_app.core.frozen_model import FrozenModel
from hybridmcp_app.documents.document_models import (
    DocumentChunk,
    FileState,
    FileStatus,
    ParsedDocument,
    ScannedFile,
    SkippedFile,
    VectorDocument,
)
from hybridmcp_app.documents.parse_errors import DocumentParseError, EmptyDocument
from hybridmcp_app.documents.text_chunker import chunk_document

if TYPE_CHECKING:
    from hybridmcp_app.documents.chroma_store import ChromaStore
    from hybridmcp_app.documents.library_state import LibraryState

log = logging.getLogger("hybridmcp.documents.indexer")
PARSE_WINDOW = 256  # files handed to the parse pool at once (bounds the parsed text held)
BATCHES_AHEAD = 3  # batches handed to the embedder and not yet stored (bounds the chunks held)
# Chroma holds the GIL through a write (about 0.3 ms a chunk); one started while the embedder
# is between two ONNX calls (tokenising, pooling) stalls it. So a batch is stored just after the
# embedder has started the next one, inside that batch's long, GIL-free ONNX run.
ONNX_ENTRY_S = 0.005  # from the start of an embedding call to its ONNX run, and some margin
ENTRY_WAIT_S = 1.0  # the longest a write waits for the next embedding call to start

ParseOutcome = ParsedDocument | DocumentParseError
Started = Callable[[ScannedFile], None]  # a parser took the file on
ParseMany = Callable[
    [Sequence[ScannedFile], threading.Event, Started], Iterable[tuple[ScannedFile, Any]]
]


class IndexProgress(FrozenModel):
    """Where a run is: files settled of those it took on, speed, and the file that just moved."""

    done: int = Field(ge=0)
    total: int = Field(ge=0)
    chunks: int = Field(0, ge=0, description="Chunks stored by this run so far.")
    files_per_s: float = 0.0
    eta_s: float | None = None
    current: Path | None = None
    changed: FileStatus | None = Field(None, description="The file whose state just changed.")


class IndexReport(FrozenModel):
    """What a run did."""

    indexed: int = 0
    failed: int = 0
    skipped: int = Field(0, description="Read, but without text to index.")
    unchanged: int = Field(0, description="Already indexed in this version.")
    removed: int = Field(0, description="Gone from the folders scanned, so out of the library.")
    chunks: int = 0
    elapsed_s: float = 0.0
    cancelled: bool = False
    left_out: tuple[SkippedFile, ...] = Field((), description="What the scan left out, and why.")


@dataclass(frozen=True)
class IndexParts:
    """What a run works with: the library's store and ledger, how files are parsed, the
    embedder's calls (``embed`` waits its turn with the searches), and how text is cut."""

    store: ChromaStore
    state: LibraryState
    parse: ParseMany
    embed: Callable[[Sequence[str]], Any]
    count_tokens: Callable[[str], int]
    signature: str  # what the chunks depend on besides the file
    chunk_tokens: int
    overlap_tokens: int
    embed_batch: int


@dataclass
class _Pending:
    """A file with chunks, on its way to the embedder."""

    file: ScannedFile
    chunks: list[DocumentChunk]
    handed: int = 0  # chunks handed to the embedder


@dataclass
class _Batch:
    """Up to ``embed_batch`` chunks, the files they start and the files they complete."""

    chunks: list[DocumentChunk] = field(default_factory=list)
    starts: list[Path] = field(default_factory=list)
    completes: list[_Pending] = field(default_factory=list)
    current: Path | None = None  # the file it ends in the middle of
    number: int = 0  # batches handed to the embedder before it
    vectors: Future[Any] | None = None


class IndexRun:
    """One run: chunk in the calling thread, embed in one thread, store in another (blocking)."""

    def __init__(
        self,
        parts: IndexParts,
        files: list[ScannedFile],
        *,
        force: bool,
        cancel: threading.Event,
        report: Callable[[IndexProgress], None],
    ) -> None:
        self.parts, self.files, self.force = parts, files, force
        self.store, self.state = parts.store, parts.state
        self.cancel, self.report = cancel, report
        self.signature = parts.signature
        self.pending: deque[_Pending] = deque()
        self.queued = 0  # chunks in ``pending`` not handed to the embedder
        self.taken: list[ScannedFile] = []  # files with chunks (settled by the storing thread)
        self.settled: set[Path] = set()  # written by the storing thread only
        self.tasks: deque[tuple[Future[None], bool]] = deque()  # storing tasks; True: a batch
        self.broken = threading.Event()  # a storing task failed: store nothing more
        self.handed = 0  # batches handed to the embedder
        self.embedding_started = 0  # embedding calls started (written by the embedding thread)
        self.embedding_moved = threading.Condition()
        self.counts = {state: 0 for state in FileState}
        self.chunks = 0
        self.total = 0
        self.started = time.monotonic()

    def run(self) -> IndexReport:
        embedding = ThreadPoolExecutor(1, thread_name_prefix="library-embed")
        storing = ThreadPoolExecutor(1, thread_name_prefix="library-store")
        self._embedding, self._storing = embedding, storing
        try:
            unchanged = self._run()
        except BaseException:
            self.broken.set()
            raise
        finally:
            embedding.shutdown(wait=True, cancel_futures=True)
            storing.shutdown(wait=True, cancel_futures=True)
        return IndexReport(
            indexed=self.counts[FileState.INDEXED],
            failed=self.counts[FileState.FAILED],
            skipped=self.counts[FileState.SKIPPED],
            unchanged=unchanged,
            chunks=self.chunks,
            elapsed_s=time.monotonic() - self.started,
            cancelled=self.cancel.is_set(),
        )

    def _run(self) -> int:
        """Index what needs it; returns how many files were unchanged."""
        todo = [f for f in self.files if self.force or not self.state.is_current(f, self.signature)]
        self.state.mark_queued(todo)
        self.total = len(todo)
        self._emit(None, None)
        for start in range(0, len(todo), PARSE_WINDOW):
            window = todo[start : start + PARSE_WINDOW]
            if self.cancel.is_set():
                break
            outcomes = iter(self.parts.parse(window, self.cancel, self._parsing))
            try:
                for file, outcome in outcomes:
                    self._take(file, outcome)
                    while self.queued >= self.parts.embed_batch and not self.cancel.is_set():
                        self._hand_batch()
                    if self.cancel.is_set():
                        break
            finally:
                close = getattr(outcomes, "close", None)
                if close is not None:
                    close()
        while self.queued and not self.cancel.is_set():
            self._hand_batch()
        while self.tasks:  # every storing task done (or skipped, when cancelled)
            self._wait_oldest()
        if self.cancel.is_set():
            self._clean_up()
        return len(self.files) - len(todo)

    # ---------------------------------------------------------------- the calling thread

    def _parsing(self, file: ScannedFile) -> None:
        """A parser took ``file`` on (the others of its window wait, still ``queued``)."""
        self._moved(file, FileState.PARSING)

    def _moved(self, file: ScannedFile, state: FileState) -> None:
        """Say that an unfinished file moved (the ledger is written when its chunks are)."""
        moved = FileStatus(path=file.path, state=state, content_hash=file.content_hash)
        self._emit(file.path, moved)

    def _take(self, file: ScannedFile, outcome: ParseOutcome) -> None:
        """A parsed file: chunked and queued for embedding, or settled at once."""
        if isinstance(outcome, DocumentParseError):
            # No text (blank, or pages that are only images) is "skipped, and why"; the rest
            # (damaged, encrypted, unreadable) failed.
            empty = isinstance(outcome, EmptyDocument)
            state = FileState.SKIPPED if empty else FileState.FAILED
            self._submit(self._settle_empty, file, state, str(outcome))
            return
        parts = self.parts
        try:
            chunks = chunk_document(
                outcome,
                parts.count_tokens,
                chunk_tokens=parts.chunk_tokens,
                overlap_tokens=parts.overlap_tokens,
            )
        except Exception as error:  # a chunker bug must cost one file, not the run
            log.exception("chunking %s failed", file.path)
            reason = f"could not be cut into chunks: {error}"
            self._submit(self._settle_empty, file, FileState.FAILED, reason)
            return
        if not chunks:
            self._submit(self._settle_empty, file, FileState.SKIPPED, "no text to index")
            return
        self._moved(file, FileState.EMBEDDING)
        self.taken.append(file)
        self.pending.append(_Pending(file, chunks))
        self.queued += len(chunks)

    def _hand_batch(self) -> None:
        """Hand the next batch to the embedder, and its storing to the storing thread."""
        batch = _Batch(number=self.handed)
        room = self.parts.embed_batch
        while self.pending and room > 0:
            item = self.pending[0]
            if item.handed == 0:
                batch.starts.append(item.file.path)
            taken = item.chunks[item.handed : item.handed + room]
            batch.chunks.extend(taken)
            item.handed += len(taken)
            room -= len(taken)
            if item.handed == len(item.chunks):
                batch.completes.append(item)
                self.pending.popleft()
            else:
                batch.current = item.file.path
        self.queued -= len(batch.chunks)
        while sum(is_batch for _, is_batch in self.tasks) >= BATCHES_AHEAD:
            self._wait_oldest()
        texts = [chunk.text for chunk in batch.chunks]
        batch.vectors = self._embedding.submit(self._embed, texts)
        self.handed += 1
        self._submit(self._store_batch, batch, batch=True)

    def _embed(self, texts: list[str]) -> Any:
        """The embedding thread: vectors, or None when there is no point any more."""
        with self.embedding_moved:
            self.embedding_started += 1
            self.embedding_moved.notify_all()
        if self.cancel.is_set() or self.broken.is_set():
            return None
        return self.parts.embed(texts)

    def _submit(self, task: Callable[..., None], *args: Any, batch: bool = False) -> None:
        self.tasks.append((self._storing.submit(task, *args), batch))
        while self.tasks and self.tasks[0][0].done():  # a failure stops the run early
            self._wait_oldest()

    def _wait_oldest(self) -> None:
        future, _ = self.tasks.popleft()
        future.result()  # a storing failure (a full disk…) ends the run here

    def _clean_up(self) -> None:
        """After a cancel: no half-stored file; the files not finished go back to queued.
        Runs once the storing thread is idle."""
        unfinished = [file.path for file in self.taken if file.path not in self.settled]
        for path in unfinished:
            self.store.delete_file(path)
        self.state.mark(sorted(unfinished), FileState.QUEUED)
        self.pending.clear()

    # ---------------------------------------------------------------- the storing thread

    def _store_batch(self, batch: _Batch) -> None:
        """Store an embedded batch; settle the files it completes (their other chunks were
        stored by the batches before it)."""
        if self.broken.is_set() or self.cancel.is_set():
            return
        try:
            assert batch.vectors is not None
            vectors = batch.vectors.result()
            if vectors is None:
                return
            self._await_onnx_run(batch.number + 1)
            if self.cancel.is_set() or self.broken.is_set():
                return
            if batch.starts:
                self.state.mark(batch.starts, FileState.EMBEDDING)
            self.store.upsert(
                [
                    VectorDocument(chunk=chunk, embedding=tuple(vector.tolist()))
                    for chunk, vector in zip(batch.chunks, vectors, strict=True)
                ]
            )
            self.chunks += len(batch.chunks)
            for item in batch.completes:
                path, chunks = item.file.path, len(item.chunks)
                self.store.delete_stale(path, item.chunks[0].content_hash, chunks)
                self.settled.add(path)
                self._emit(path, self._settle(item.file, FileState.INDEXED, chunks=chunks))
            if batch.current is not None:
                self._emit(batch.current, None)
        except BaseException:
            self.broken.set()
            raise

    def _await_onnx_run(self, number: int) -> None:
        """Wait until batch ``number`` is in the embedder's ONNX run, if it is handed yet."""
        if self.handed <= number:
            return  # the embedder waits for the chunker: nothing to stall
        with self.embedding_moved:
            started = self.embedding_moved.wait_for(
                lambda: self.embedding_started > number, ENTRY_WAIT_S
            )
        if started:
            time.sleep(ONNX_ENTRY_S)

    def _settle_empty(self, file: ScannedFile, state: FileState, reason: str) -> None:
        if self.broken.is_set():
            return
        try:
            self.store.delete_file(file.path)  # what an older version left
            self._emit(file.path, self._settle(file, state, reason=reason))
        except BaseException:
            self.broken.set()
            raise

    def _settle(self, file: ScannedFile, state: FileState, **details: Any) -> FileStatus:
        self.counts[state] += 1
        return self.state.settle(file, state, signature=self.signature, **details)

    def _emit(self, current: Path | None, changed: FileStatus | None) -> None:
        done = sum(self.counts.values())
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = done / elapsed
        eta = (self.total - done) / rate if rate > 0 else None
        self.report(
            IndexProgress(
                done=done,
                total=self.total,
                chunks=self.chunks,
                files_per_s=rate,
                eta_s=eta,
                current=current,
                changed=changed,
            )
        )
