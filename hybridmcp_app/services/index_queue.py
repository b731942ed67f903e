"""The library's one queue of indexing work, shared by the Library tab and ``hybridmcp library``.

Files and folders are queued with ``add`` (while a run goes on, too) and merged: one run scans
everything queued with the same ``force``, and a path already queued, or inside a queued folder,
adds nothing. ``resume`` puts "finish what an earlier run left" at the head of the queue (the
library's own ``resume``: files queued or caught half-way); it is skipped when nothing is left.
Runs go one at a time through ``LibraryService``; what the queue does is told to its listeners
as plain events, in this order for each run: ``RunStarted``, ``RunProgress``…, then
``RunFinished`` or ``RunFailed``; ``WaitingChanged`` whenever paths are queued or dropped; and
``QueueIdle`` once nothing runs.

``cancel`` stops the run going on (it cleans up and reports ``cancelled``) and holds the queue:
the paths waiting are kept for the next ``resume`` or ``add`` (or dropped with
``queued=True``). A run that fails or is cancelled from elsewhere holds the queue the same way.

No Qt: the window turns the events into widgets, the command line into lines on stderr. The
queue starts its runs with ``spawn`` (by default a task on the running loop), so the window can
track them with its other background tasks.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from hybridmcp_app.core.errors import HybridMCPError

if TYPE_CHECKING:  # chromadb, numpy and onnxruntime come with the library, not at start-up
    from hybridmcp_app.documents.library_indexer import IndexProgress, IndexReport
    from hybridmcp_app.documents.library_service import LibraryService

log = logging.getLogger("hybridmcp.services.index_queue")
RunKind = Literal["add", "resume"]
Spawn = Callable[[Coroutine[Any, Any, None], str], asyncio.Task[None]]


@dataclass(frozen=True)
class RunStarted:
    """A run begins: an ``add`` of ``paths``, or a ``resume`` of ``pending`` files."""

    kind: RunKind
    paths: tuple[Path, ...] = ()
    pending: int = 0
    waiting: int = 0  # paths still queued behind this run


@dataclass(frozen=True)
class RunProgress:
    kind: RunKind
    progress: IndexProgress


@dataclass(frozen=True)
class RunFinished:
    """The run is over, cancelled or not (``report.cancelled``)."""

    kind: RunKind
    report: IndexReport


@dataclass(frozen=True)
class RunFailed:
    """The run stopped on an error (a full disk, an unreachable server…); what it indexed stays.
    Also, without a ``RunStarted``, when a resume could not read what was left."""

    kind: RunKind
    error: Exception


@dataclass(frozen=True)
class WaitingChanged:
    waiting: int  # paths queued and not started


@dataclass(frozen=True)
class QueueIdle:
    """Nothing runs now. ``report``: the last run's (None if it failed or none ran);
    ``waiting``: paths kept queued after a cancel or a failure, which ``resume`` runs."""

    report: IndexReport | None
    waiting: int


IndexEvent = RunStarted | RunProgress | RunFinished | RunFailed | WaitingChanged | QueueIdle
Listener = Callable[[IndexEvent], None]


@dataclass
class _Job:
    kind: RunKind
    paths: list[Path] = field(default_factory=list)
    force: bool = False


class IndexQueue:
    """Indexing runs for one library, one after another; see the module's docstring."""

    def __init__(self, library: LibraryService | None = None, *, spawn: Spawn | None = None):
        self._library = library
        self._spawn = spawn or _spawn_on_loop
        self._jobs: list[_Job] = []
        self._listeners: list[Listener] = []
        self._worker: asyncio.Task[None] | None = None
        self._busy = False
        self._stopping = False
        self._idle = asyncio.Event()
        self._idle.set()

    # ---------------------------------------------------------------- state
    @property
    def library(self) -> LibraryService | None:
        return self._library

    @property
    def running(self) -> bool:
        """A run goes on, or starts next (False from ``QueueIdle`` on)."""
        return self._busy

    @property
    def waiting(self) -> int:
        """Paths queued and not started (a queued ``resume`` is not counted)."""
        return sum(len(job.paths) for job in self._jobs if job.kind == "add")

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with every event from now on, on the event loop; returns the
        unsubscribe call."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    async def wait_idle(self) -> None:
        """Return once nothing runs (at once if nothing does)."""
        while self._busy:
            await self._idle.wait()

    # ---------------------------------------------------------------- work
    def attach(self, library: LibraryService | None) -> asyncio.Task[None] | None:
        """Run on ``library`` from now on, starting with what was queued before it opened; None
        (the library could not open) drops what was queued."""
        self._library = library
        if library is None:
            self._drop_queued()
            return None
        return self._kick()

    def add(self, paths: Sequence[Path], *, force: bool = False) -> asyncio.Task[None] | None:
        """Queue files and folders (everything re-indexed if ``force``); starts a run unless one
        goes on or the queue is held. Returns the task that runs the queue, if any."""
        queued = False
        for path in map(_absolute, paths):
            adds = [job for job in self._jobs if job.kind == "add"]
            if any(job.force >= force and any(_covers(known, path) for known in job.paths)
                   for job in adds):  # fmt: skip
                continue  # queued already, as is or in a folder, with at least this force
            for job in adds:  # what the new path covers is scanned with it
                if job.force <= force:
                    job.paths[:] = [known for known in job.paths if not _covers(path, known)]
            target = next((job for job in adds if job.force == force), None)
            if target is None:
                target = _Job("add", force=force)
                self._jobs.append(target)
            target.paths.append(path)
            queued = True
        self._jobs = [job for job in self._jobs if job.kind == "resume" or job.paths]
        if queued:
            self._emit(WaitingChanged(self.waiting))
        return self._kick()

    def resume(self) -> asyncio.Task[None] | None:
        """Finish what an earlier run left (before anything queued), then go on with the queue:
        also how a held queue (after a cancel or a failure) starts again."""
        if not any(job.kind == "resume" for job in self._jobs):
            self._jobs.insert(0, _Job("resume"))
        return self._kick()

    def cancel(self, *, queued: bool = False) -> bool:
        """Stop the run going on and hold the queue; ``queued``: drop the paths waiting too.
        True if a run is being stopped now (False: none ran, or it was stopping already)."""
        if queued:
            self._drop_queued()
        if not self._busy or self._stopping:
            return False
        self._stopping = True
        if self._library is not None:
            self._library.cancel()  # the run going on, or the one waiting for the library
        return True

    async def aclose(self) -> None:
        """Cancel everything and wait for the run going on to clean up."""
        self.cancel(queued=True)
        await self.wait_idle()

    async def __aenter__(self) -> IndexQueue:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    # ---------------------------------------------------------------- the runs
    def _kick(self) -> asyncio.Task[None] | None:
        if self._busy:
            return self._worker
        if self._library is None or not self._jobs:
            return None
        self._busy, self._stopping = True, False
        self._idle.clear()
        worker = self._spawn(self._work(), "library-index")
        self._worker = worker
        worker.add_done_callback(lambda task: self._worker_done(task))
        return worker

    async def _work(self) -> None:
        report: IndexReport | None = None
        try:
            while self._library is not None and self._jobs and not self._stopping:
                library, job = self._library, self._jobs.pop(0)
                pending = 0
                if job.kind == "resume":
                    try:
                        pending = await _pending(library)
                    except Exception as error:  # the ledger cannot be read: as a failed run
                        self._failed(job.kind, error)
                        report = None
                        break
                    if not pending:
                        continue
                    if self._stopping:  # cancelled before it started: kept for next time
                        self._jobs.insert(0, job)
                        break
                report = await self._run(library, job, pending)
                if report is None or report.cancelled:
                    break
        finally:
            self._worker_done(self._worker)
        self._emit(QueueIdle(report, self.waiting))

    async def _run(self, library: LibraryService, job: _Job, pending: int) -> IndexReport | None:
        kind = job.kind
        self._emit(RunStarted(kind, tuple(job.paths), pending, self.waiting))

        def progress(event: IndexProgress) -> None:
            self._emit(RunProgress(kind, event))

        try:
            if kind == "resume":
                report = await library.resume(progress)
            else:
                report = await library.add(job.paths, progress, force=job.force)
        except Exception as error:  # the run stopped: say why; what it did stays
            self._failed(kind, error)
            return None
        self._emit(RunFinished(kind, report))
        return report

    def _failed(self, kind: RunKind, error: Exception) -> None:
        if not isinstance(error, HybridMCPError):
            log.exception("indexing failed", exc_info=error)
        self._emit(RunFailed(kind, error))

    def _worker_done(self, task: asyncio.Task[None] | None) -> None:
        """The worker ended (or was cancelled before it began): nothing runs any more."""
        if task is not None and task is self._worker:
            self._worker = None
            self._busy = self._stopping = False
            self._idle.set()

    # ---------------------------------------------------------------- helpers
    def _drop_queued(self) -> None:
        if self.waiting:
            self._jobs = [job for job in self._jobs if job.kind != "add"]
            self._emit(WaitingChanged(0))

    def _emit(self, event: IndexEvent) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a listener's bug must not stop the runs
                log.exception("an index queue listener failed on %s", type(event).__name__)


async def _pending(library: LibraryService) -> int:
    """Files an earlier run left queued or half-way."""
    from hybridmcp_app.documents.library_state import PENDING

    return sum(status.state in PENDING for status in await library.status())


def _spawn_on_loop(work: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
    return asyncio.get_running_loop().create_task(work, name=name)


def _absolute(path: Path) -> Path:
    """A path as the library records it: absolute and normalised, links kept."""
    return Path(os.path.normpath(Path(path).absolute()))


def _covers(outer: Path, inner: Path) -> bool:
    return inner == outer or outer in inner.parents
