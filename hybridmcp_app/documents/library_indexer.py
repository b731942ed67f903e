"""One indexing run, in one worker thread: parse, chunk, embed, store and record (blocking).

The ledger follows every file (``queued`` → ``parsing`` → ``embedding`` → ``indexed``, or
``failed``/``skipped`` with the reason); a file is ``indexed`` only once the store holds exactly
its current chunks, so a run killed half-way leaves rows that ``LibraryService.resume`` finishes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
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
from hybridmcp_app.documents.parse_errors import DocumentParseError
from hybridmcp_app.documents.text_chunker import chunk_document

if TYPE_CHECKING:
    from hybridmcp_app.documents.library_service import LibraryService

log = logging.getLogger("hybridmcp.documents.indexer")
PARSE_WINDOW = 256  # files handed to the parse pool at once (bounds the parsed text held)

ParseOutcome = ParsedDocument | DocumentParseError
ParseMany = Callable[[Sequence[ScannedFile], threading.Event], Iterable[tuple[ScannedFile, Any]]]


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


@dataclass
class _Pending:
    """A file whose chunks are being embedded and stored."""

    file: ScannedFile
    chunks: list[DocumentChunk]
    stored: int = 0


class IndexRun:
    """One run, in one worker thread: parse, chunk, embed, store, record (blocking)."""

    def __init__(
        self,
        service: LibraryService,
        files: list[ScannedFile],
        *,
        force: bool,
        cancel: threading.Event,
        report: Callable[[IndexProgress], None],
    ) -> None:
        self.service, self.files, self.force = service, files, force
        self.store, self.state = service.store, service.state
        self.cancel, self.report = cancel, report
        self.signature = service.signature
        self.pending: deque[_Pending] = deque()
        self.counts = {state: 0 for state in FileState}
        self.chunks = 0
        self.total = 0
        self.started = time.monotonic()

    def run(self) -> IndexReport:
        todo = [f for f in self.files if self.force or not self.state.is_current(f, self.signature)]
        unchanged = len(self.files) - len(todo)
        self.state.mark_queued(todo)
        self.total = len(todo)
        self._emit(None, None)
        parsing: set[Path] = set()
        for start in range(0, len(todo), PARSE_WINDOW):
            window = todo[start : start + PARSE_WINDOW]
            if self.cancel.is_set():
                break
            parsing = {file.path for file in window}
            self.state.mark(sorted(parsing), FileState.PARSING)
            outcomes = iter(self.service.parse(window, self.cancel))
            try:
                for file, outcome in outcomes:
                    parsing.discard(file.path)
                    self._take(file, outcome)
                    while self._queued() >= self.service.embed_batch and not self.cancel.is_set():
                        self._store_batch()
                    if self.cancel.is_set():
                        break
            finally:
                close = getattr(outcomes, "close", None)
                if close is not None:
                    close()
        while self.pending and not self.cancel.is_set():
            self._store_batch()
        if self.cancel.is_set():
            self._clean_up(parsing)
        return IndexReport(
            indexed=self.counts[FileState.INDEXED],
            failed=self.counts[FileState.FAILED],
            skipped=self.counts[FileState.SKIPPED],
            unchanged=unchanged,
            chunks=self.chunks,
            elapsed_s=time.monotonic() - self.started,
            cancelled=self.cancel.is_set(),
        )

    def _take(self, file: ScannedFile, outcome: ParseOutcome) -> None:
        """A parsed file: chunked and queued for embedding, or settled at once."""
        if isinstance(outcome, DocumentParseError):
            self._settle_empty(file, FileState.FAILED, str(outcome))
            return
        settings = self.service.settings
        try:
            chunks = chunk_document(
                outcome,
                self.service.embedder.count_tokens,
                chunk_tokens=settings.chunk_tokens,
                overlap_tokens=settings.chunk_overlap_tokens,
            )
        except Exception as error:  # a chunker bug must cost one file, not the run
            log.exception("chunking %s failed", file.path)
            self._settle_empty(file, FileState.FAILED, f"could not be cut into chunks: {error}")
            return
        if not chunks:
            self._settle_empty(file, FileState.SKIPPED, "no text to index")
            return
        self.state.mark([file.path], FileState.EMBEDDING)
        self.pending.append(_Pending(file, chunks))

    def _settle_empty(self, file: ScannedFile, state: FileState, reason: str) -> None:
        self.store.delete_file(file.path)  # what an older version left
        self._emit(file.path, self._settle(file, state, reason=reason))

    def _settle(self, file: ScannedFile, state: FileState, **details: Any) -> FileStatus:
        self.counts[state] += 1
        return self.state.settle(file, state, signature=self.signature, **details)

    def _queued(self) -> int:
        return sum(len(item.chunks) - item.stored for item in self.pending)

    def _store_batch(self) -> None:
        """Embed and store up to one batch of chunks; settle the files now fully stored."""
        batch: list[DocumentChunk] = []
        for item in self.pending:
            room = self.service.embed_batch - len(batch)
            if room <= 0:
                break
            batch.extend(item.chunks[item.stored : item.stored + room])
        vectors = self.service.embed([chunk.text for chunk in batch])
        self.store.upsert(
            [
                VectorDocument(chunk=chunk, embedding=tuple(vector.tolist()))
                for chunk, vector in zip(batch, vectors, strict=True)
            ]
        )
        self.chunks += len(batch)
        left = len(batch)
        while left and self.pending:
            item = self.pending[0]
            taken = min(left, len(item.chunks) - item.stored)
            item.stored += taken
            left -= taken
            if item.stored < len(item.chunks):
                break
            self.pending.popleft()
            path, content_hash = item.file.path, item.chunks[0].content_hash
            self.store.delete_stale(path, content_hash, len(item.chunks))
            status = self._settle(item.file, FileState.INDEXED, chunks=len(item.chunks))
            self._emit(path, status)
        if self.pending:
            self._emit(self.pending[0].file.path, None)

    def _clean_up(self, parsing: set[Path]) -> None:
        """After a cancel: no half-stored file; the files not finished go back to queued."""
        unfinished = [item.file.path for item in self.pending]
        for path in unfinished:
            self.store.delete_file(path)
        self.state.mark(sorted({*unfinished, *parsing}), FileState.QUEUED)
        self.pending.clear()

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
