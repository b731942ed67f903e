"""Parse many files at once: in worker processes for a batch, in this process for a handful.

PyMuPDF is not thread-safe (``pymupdf_parser`` lets one thread in at a time), so threads would
not parse in parallel; processes do, and a crash in MuPDF takes down a worker, not the app.
Workers are *spawned* (forking a Qt app is unsafe), which takes them most of a second (importing
PyMuPDF); while no worker has a result ready, the caller parses a text file itself (text needs no
MuPDF), so indexing starts at once. Results come back as each file finishes; a file's failure is
returned with it, never raised, so one bad file cannot stop the batch. A plain blocking
generator: the library service iterates it off the event loop. Each worker ends with its parent
(``parent_watch``): a killed app or command leaves no parser running.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from hybridmcp_app.documents.document_models import ParsedDocument, ScannedFile
from hybridmcp_app.documents.document_parsers import parse_document
from hybridmcp_app.documents.parent_watch import exit_with_parent
from hybridmcp_app.documents.parse_errors import DocumentParseError
from hybridmcp_app.documents.pymupdf_parser import PAGED_KINDS

log = logging.getLogger("hybridmcp.documents.parse")

IN_PROCESS_BELOW = 4  # fewer files than this are not worth starting processes for
_CANCEL_POLL_S = 0.2

ParseOutcome = ParsedDocument | DocumentParseError
Started = Callable[[ScannedFile], None]


def parse_many(
    files: Iterable[ScannedFile],
    *,
    workers: int | None = None,
    cancel: threading.Event | None = None,
    started: Started | None = None,
) -> Iterator[tuple[ScannedFile, ParseOutcome]]:
    """Each file with its parsed document or the error saying why it could not be parsed.

    ``workers``: processes to use (default: one per CPU); 0 parses in this process.
    ``started``: told each file once it is being parsed (held by the pool: a worker's, or next
    in line; or parsed here), before its outcome is yielded; the others wait their turn.

    Yields in the order files finish. Setting ``cancel`` (or closing the generator) stops it:
    files not started are dropped; those being parsed finish in the background. When no result
    is ready, a text file no worker has started is parsed here instead of waiting.
    """
    tell = started or _ignore
    batch = list(files)
    if len(batch) < IN_PROCESS_BELOW or workers == 0:
        for file in batch:
            if cancel is not None and cancel.is_set():
                return
            tell(file)
            yield file, parse_one(file)
        return
    count = min(len(batch), workers or os.cpu_count() or 1)
    pool = ProcessPoolExecutor(
        count, mp_context=multiprocessing.get_context("spawn"), initializer=exit_with_parent
    )
    pending: dict[Future[ParseOutcome], ScannedFile] = {}
    told: set[Future[ParseOutcome]] = set()  # the futures whose file was said to start
    try:
        pending.update((pool.submit(parse_one, file), file) for file in batch)
        while pending:
            done, _ = wait(pending, timeout=0, return_when=FIRST_COMPLETED)
            if not done:
                _tell_started(pending, told, tell)
                text_file = _take_text_file(pending)
                if text_file is not None:
                    tell(text_file)
                    yield text_file, parse_one(text_file)
                    if cancel is not None and cancel.is_set():
                        return
                    continue
                done, _ = wait(pending, timeout=_CANCEL_POLL_S, return_when=FIRST_COMPLETED)
            _tell_started(pending, told, tell)
            for future in done:
                if cancel is not None and cancel.is_set():
                    return
                file = pending.pop(future)
                if future not in told:  # started and finished between two looks
                    tell(file)
                told.discard(future)
                yield file, _outcome(future, file)
            if cancel is not None and cancel.is_set():
                return
    finally:  # all done: wait for the workers to exit; cancelled: let the busy ones finish alone
        pool.shutdown(wait=not pending, cancel_futures=True)


def _ignore(_file: ScannedFile) -> None:
    return None


def _tell_started(
    pending: dict[Future[ParseOutcome], ScannedFile],
    told: set[Future[ParseOutcome]],
    tell: Started,
) -> None:
    """Say which files the pool has taken on (a worker's, or next in line) since the last look.
    So at most twice what the pool holds at once (``2 * workers + 1``) are said to be parsing
    and not answered yet: those it holds now, and those it held that finished since."""
    for future, file in pending.items():
        if future not in told and future.running():
            told.add(future)
            tell(file)


def _take_text_file(pending: dict[Future[ParseOutcome], ScannedFile]) -> ScannedFile | None:
    """A file without pages (no MuPDF) taken back from the pool before a worker started it."""
    for future, file in reversed(pending.items()):  # the last submitted start last
        if file.extension not in PAGED_KINDS and future.cancel():
            del pending[future]
            return file
    return None


def parse_one(file: ScannedFile) -> ParseOutcome:
    """Parse a file, returning the error instead of raising it (runs in a worker process)."""
    try:
        return parse_document(file)
    except DocumentParseError as error:
        return error
    except Exception as error:  # a parser bug must cost one file, not the batch
        log.exception("unexpected failure parsing %s", file.path)
        return DocumentParseError(f"unexpected error while reading it: {type(error).__name__}")


def _outcome(future: Future[ParseOutcome], file: ScannedFile) -> ParseOutcome:
    try:
        return future.result()
    except BrokenProcessPool:
        log.error("a parser process died while %s was among the files being parsed", file.path)
        return DocumentParseError("the parser crashed (on this file or one parsed beside it)")
    except Exception as error:  # the result could not come back (e.g. it would not unpickle)
        log.exception("parsing %s failed in its worker", file.path)
        return DocumentParseError(f"unexpected error while reading it: {type(error).__name__}")
