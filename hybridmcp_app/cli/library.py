"""``hybridmcp library``: the document library without the window, through the same
``LibraryService`` as the Library tab: ``add``, ``search``, ``status`` and ``remove``; ``add``
indexes through the same ``IndexQueue`` as the tab.

Results go to stdout (``--json``: one JSON document); progress, warnings and errors go to stderr,
as a tqdm bar on a terminal and as a plain line every few seconds otherwise. An error is one line,
never a traceback. Exit codes are ``EXIT_*`` below (and in ``hybridmcp library --help``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from hybridmcp_app.cli.library_progress import ProgressReporter
from hybridmcp_app.config.logging_setup import configure_logging
from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.config.settings import LoggingSettings
from hybridmcp_app.config.settings_store import SettingsStore
from hybridmcp_app.core.errors import HybridMCPError
from hybridmcp_app.documents.document_models import FileState, FileStatus, SearchHit
from hybridmcp_app.documents.library_service import IndexProgress, IndexReport, LibraryService
from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder
from hybridmcp_app.services.index_queue import (
    IndexEvent,
    IndexQueue,
    RunFailed,
    RunFinished,
    RunProgress,
    RunStarted,
)

EXIT_OK = 0
EXIT_INCOMPLETE = 1  # some files failed, nothing found, nothing removed
EXIT_USAGE = 2
EXIT_LIBRARY = 3  # the library could not be used: busy, storage unreachable or full, no embedder
EXIT_INTERRUPTED = 130  # Ctrl+C (128 + SIGINT)
SNIPPET_CHARS = 160


class LibraryUsageError(HybridMCPError):
    """The command's arguments cannot be used; nothing was done."""


class IndexingCancelled(HybridMCPError):
    """The run was cancelled (Ctrl+C, or ``LibraryService.cancel``) and cleaned up."""


@dataclass(frozen=True)
class Streams:
    out: TextIO
    err: TextIO


# ---------------------------------------------------------------- add


_COUNTS = {"indexed", "failed", "skipped", "unchanged", "removed", "chunks"}


@dataclass
class AddOutcome:
    """What ``add`` did: the run that finished what an interrupted one left (if any), then the
    run asked for; and the files that failed or had no text, with why."""

    report: IndexReport = field(default_factory=IndexReport)
    resumed: IndexReport | None = None
    settled: dict[Path, FileStatus] = field(default_factory=dict)  # the last word on each
    elapsed_s: float = 0.0

    @property
    def failed(self) -> list[FileStatus]:
        return [s for s in self.settled.values() if s.state is FileState.FAILED]

    @property
    def without_text(self) -> list[FileStatus]:
        return [s for s in self.settled.values() if s.state is FileState.SKIPPED]

    def as_json(self) -> dict[str, Any]:
        resumed = self.resumed
        return {
            **self.report.model_dump(include=_COUNTS),
            "elapsed_s": round(self.elapsed_s, 3),
            "resumed": None if resumed is None else resumed.model_dump(include=_COUNTS),
            "failures": [_reason_json(status) for status in self.failed],
            "without_text": [_reason_json(status) for status in self.without_text],
            "left_out": [
                {"path": str(item.path), "reason": item.reason} for item in self.report.left_out
            ],
        }


def check_add(args: argparse.Namespace) -> None:
    missing = [path for path in args.paths if not path.exists()]
    if missing:
        raise LibraryUsageError(f"no such file or folder: {', '.join(map(str, missing))}")


class AddFollower:
    """Follows the queue's runs for ``add``: a line before each, progress on stderr, then the
    reports and the files that settled into ``outcome``; ``problem()``: what stopped them."""

    def __init__(self, outcome: AddOutcome, paths: Sequence[Path], err: TextIO) -> None:
        self.outcome, self.paths, self.err = outcome, paths, err
        self.reporter: ProgressReporter | None = None
        self.error: Exception | None = None
        self.cancelled = False

    def __call__(self, event: IndexEvent) -> None:
        if isinstance(event, RunStarted):
            if event.kind == "resume":
                print(f"finishing {event.pending} file(s) an interrupted run left…", file=self.err)
            else:
                listed = ", ".join(map(str, self.paths))
                print(f"scanning {listed}…", file=self.err, flush=True)
            label = "resuming" if event.kind == "resume" else "indexing"
            self.reporter = ProgressReporter(self.err, label)
        elif isinstance(event, RunProgress) and self.reporter is not None:
            self.reporter(event.progress)
        elif isinstance(event, RunFinished | RunFailed):
            self.close()
            if isinstance(event, RunFailed):
                self.error = event.error
            elif event.kind == "resume":
                self.outcome.resumed = event.report
            else:
                self.outcome.report = event.report
            self.cancelled = self.cancelled or (
                isinstance(event, RunFinished) and event.report.cancelled
            )

    def close(self) -> None:
        reporter, self.reporter = self.reporter, None
        if reporter is not None:
            reporter.close()
            self.outcome.settled.update((status.path, status) for status in reporter.changed)

    def problem(self) -> Exception | None:
        if self.error is not None:
            return self.error
        return IndexingCancelled("the run was cancelled") if self.cancelled else None


async def run_add(args: argparse.Namespace, library: LibraryService, streams: Streams) -> int:
    started = time.monotonic()
    outcome = AddOutcome()
    follower = AddFollower(outcome, args.paths, streams.err)
    try:
        async with IndexQueue(library) as queue:
            queue.subscribe(follower)
            queue.resume()  # what an interrupted run left, if anything, first
            queue.add(args.paths, force=args.force)
            await queue.wait_idle()
    finally:
        follower.close()
    problem = follower.problem()
    if problem is not None:
        raise problem
    outcome.elapsed_s = time.monotonic() - started
    if args.json:
        print(json.dumps(outcome.as_json(), indent=2), file=streams.out)
    else:
        _print_add_summary(outcome, streams.out)
    return EXIT_INCOMPLETE if outcome.failed else EXIT_OK


def _print_add_summary(outcome: AddOutcome, out: TextIO, listed: int = 10) -> None:
    if outcome.resumed is not None:
        done = outcome.resumed
        print(
            f"finished an interrupted run: indexed {done.indexed} file(s) ({done.chunks} "
            f"chunks), failed {done.failed}, without text {done.skipped}",
            file=out,
        )
    report = outcome.report
    print(
        f"indexed {report.indexed} file(s) ({report.chunks} chunks), failed {report.failed}, "
        f"without text {report.skipped}, unchanged {report.unchanged}, "
        f"removed {report.removed}, in {outcome.elapsed_s:.1f} s",
        file=out,
    )
    sections = (
        ("failed", [(s.path, s.reason) for s in outcome.failed]),
        ("without text", [(s.path, s.reason) for s in outcome.without_text]),
        ("left out", [(item.path, item.reason) for item in report.left_out]),
    )
    for title, items in sections:
        if items:
            print(f"{title}:", file=out)
        for path, reason in items[:listed]:
            print(f"  {_display(path)}: {reason}", file=out)
        if len(items) > listed:
            print(f"  … and {len(items) - listed} more (--json lists them all)", file=out)


# ---------------------------------------------------------------- search


def check_search(args: argparse.Namespace) -> None:
    if not args.query.strip():
        raise LibraryUsageError("the query is empty")


async def run_search(args: argparse.Namespace, library: LibraryService, streams: Streams) -> int:
    hits = await library.search(args.query.strip(), k=args.k)
    if args.json:
        print(json.dumps([_hit_json(hit) for hit in hits], indent=2), file=streams.out)
    else:
        for rank, hit in enumerate(hits, start=1):
            _print_hit(rank, hit, streams.out)
    if hits:
        return EXIT_OK
    print(
        "nothing found: the library holds no indexed text "
        "(add documents with `hybridmcp library add PATH`)",
        file=streams.err,
    )
    return EXIT_INCOMPLETE


def _print_hit(rank: int, hit: SearchHit, out: TextIO) -> None:
    where = _where(hit)
    heading = hit.provenance.heading
    print(
        f"{rank:>2}. {hit.score:.3f}  {_display(hit.provenance.path)}"
        + (f"  ({where})" if where else "")
        + (f"  § {_snippet(heading, 60)}" if heading else ""),
        file=out,
    )
    print(f"    {_snippet(hit.text)}", file=out)


def _hit_json(hit: SearchHit) -> dict[str, Any]:
    where = hit.provenance
    return {
        "chunk_id": hit.chunk_id,
        "score": round(hit.score, 6),
        "path": str(where.path),
        "page": where.page,
        "first_line": where.first_line,
        "last_line": where.last_line,
        "heading": where.heading,
        "text": hit.text,
    }


def _where(hit: SearchHit) -> str:
    where = hit.provenance
    parts = [f"p. {where.page}"] if where.page is not None else []
    if where.first_line is not None:
        last = where.last_line if where.last_line is not None else where.first_line
        parts.append(
            f"line {last}" if last == where.first_line else f"lines {where.first_line}–{last}"
        )
    return ", ".join(parts)


def _snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


# ---------------------------------------------------------------- status


async def run_status(args: argparse.Namespace, library: LibraryService, streams: Streams) -> int:
    statuses = await library.status()
    stats = await library.stats()
    shown = [s for s in statuses if s.state is FileState.FAILED] if args.failed else statuses
    if args.json:
        payload = {"files": [_status_json(s) for s in shown], "totals": stats.model_dump()}
        print(json.dumps(payload, indent=2), file=streams.out)
        return EXIT_OK
    if shown:
        print(f"{'STATE':<10}{'CHUNKS':>7}  {'INDEXED':<17} FILE", file=streams.out)
    for status in shown:
        when = _local_time(status.indexed_at) if status.indexed_at is not None else "-"
        reason = f" — {status.reason}" if status.reason else ""
        line = f"{status.state.value:<10}{status.chunks:>7}  {when:<17} {_display(status.path)}"
        print(line + reason, file=streams.out)
    if not statuses:
        print(
            "the library is empty: add documents with `hybridmcp library add PATH`",
            file=streams.out,
        )
    print(
        f"{stats.files} file(s): {stats.indexed} indexed, {stats.failed} failed, "
        f"{stats.pending} pending; {stats.chunks} chunks in {stats.location}",
        file=streams.out,
    )
    if stats.pending:
        print(
            f"{stats.pending} file(s) were left by an interrupted run: "
            "the next `hybridmcp library add` finishes them",
            file=streams.out,
        )
    return EXIT_OK


def _status_json(status: FileStatus) -> dict[str, Any]:
    return {
        "path": str(status.path),
        "state": status.state.value,
        "chunks": status.chunks,
        "reason": status.reason,
        "indexed_at": status.indexed_at,
    }


def _local_time(timestamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(timestamp))


# ---------------------------------------------------------------- remove


async def run_remove(args: argparse.Namespace, library: LibraryService, streams: Streams) -> int:
    before = {status.path for status in await library.status()}
    await library.remove(args.paths)
    removed = len(before - {status.path for status in await library.status()})
    if args.json:
        print(json.dumps({"removed": removed}), file=streams.out)
    elif removed:
        print(f"removed {removed} file(s) from the library (they stay on disk)", file=streams.out)
    if removed:
        return EXIT_OK
    listed = ", ".join(map(str, args.paths))
    print(f"nothing in the library is at or under {listed}", file=streams.err)
    return EXIT_INCOMPLETE


# ---------------------------------------------------------------- watch


def check_watch(args: argparse.Namespace) -> None:
    wrong = [path for path in args.paths if not path.is_dir()]
    if wrong:
        raise LibraryUsageError(f"not a folder: {', '.join(map(str, wrong))}")


async def run_watch(args: argparse.Namespace, library: LibraryService, streams: Streams) -> int:
    from hybridmcp_app.documents.folder_watcher import FolderWatcher

    paths = AppPaths.from_environment()
    store = SettingsStore(paths)
    settings, _report = store.load()

    def save(folders: tuple[Path, ...]) -> None:
        current, _ = store.load()
        documents = current.documents.model_copy(update={"watch_folders": folders})
        store.save(current.model_copy(update={"documents": documents}))

    def synced(folder: Path, report: IndexReport) -> None:
        if report.indexed or report.removed or report.failed:
            print(
                f"{_display(folder)}: {report.indexed} indexed, {report.removed} removed, "
                f"{report.failed} failed ({report.chunks} chunks)",
                file=streams.out,
                flush=True,
            )

    def settled(event: IndexProgress) -> None:
        status = event.changed
        if status is not None and status.state is FileState.FAILED:
            print(f"failed: {_display(status.path)}: {status.reason}", file=streams.out)

    watcher = FolderWatcher(
        library, settings.documents.watch_folders, save=save, progress=settled,
        ignore=[paths.data_dir, paths.log_dir, paths.cache_dir],
    )  # fmt: skip
    watcher.on_synced = synced
    for folder in args.paths:
        await watcher.watch(folder)
    folders = watcher.folders()
    if not folders:
        raise LibraryUsageError("no folder to watch: name one (hybridmcp library watch PATH)")
    if args.once:
        for folder in folders:
            await watcher.sync(folder.path)
        return EXIT_OK
    listed = ", ".join(_display(folder.path) for folder in folders)
    print(f"watching {listed} (Ctrl+C stops)", file=streams.err, flush=True)
    await watcher.run()
    return EXIT_OK


# ---------------------------------------------------------------- the command


@dataclass(frozen=True)
class LibraryAction:
    """One ``hybridmcp library ACTION``: ``check`` looks at the arguments before the library is
    opened (a ``LibraryUsageError`` means exit 2, nothing done), ``run`` does the work."""

    run: Callable[[argparse.Namespace, LibraryService, Streams], Awaitable[int]]
    check: Callable[[argparse.Namespace], None] = lambda args: None


ACTIONS: dict[str, LibraryAction] = {
    "add": LibraryAction(run_add, check_add),
    "search": LibraryAction(run_search, check_search),
    "status": LibraryAction(run_status),
    "remove": LibraryAction(run_remove),
    "watch": LibraryAction(run_watch, check_watch),
}


async def run_library(
    args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    streams = Streams(out or sys.stdout, err or sys.stderr)
    action = ACTIONS[args.library_command]
    action.check(args)
    paths = AppPaths.from_environment().ensure()
    # Logging first, so that what loading the settings says goes to the log, not to stderr.
    configure_logging(paths, LoggingSettings(), verbose=args.verbose)
    settings, report = SettingsStore(paths).load()
    configure_logging(paths, settings.logging, verbose=args.verbose)
    if not report.ok:
        print(f"warning: {report.user_message()}", file=streams.err)
    library = await LibraryService.open(settings.documents, paths.data_dir, OnnxEmbedder())
    try:
        return await action.run(args, library, streams)
    finally:
        await library.close()


def main_library(args: argparse.Namespace) -> int:
    prefix = f"hybridmcp library {args.library_command}"
    try:
        return asyncio.run(run_library(args))
    except LibraryUsageError as error:
        print(f"{prefix}: {error}", file=sys.stderr)
        return EXIT_USAGE
    except (KeyboardInterrupt, IndexingCancelled):
        if args.library_command == "watch":  # Ctrl+C is how watching ends
            print(f"{prefix}: stopped", file=sys.stderr)
            return EXIT_OK
        detail = (
            ": what was indexed stays, and the next `hybridmcp library add` finishes the rest"
            if args.library_command == "add"
            else ""
        )
        print(f"{prefix}: cancelled{detail}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except HybridMCPError as error:
        print(f"{prefix}: {error}", file=sys.stderr)
        return EXIT_LIBRARY
    except BrokenPipeError:  # `hybridmcp library status | head`: the reader left
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_INCOMPLETE
    except OSError as error:
        where = f" ({error.filename})" if error.filename else ""
        print(f"{prefix}: {error.strerror or error}{where}", file=sys.stderr)
        return EXIT_LIBRARY


def _reason_json(status: FileStatus) -> dict[str, str]:
    return {"path": str(status.path), "reason": status.reason}


def _display(path: Path) -> str:
    """A path relative to the working folder when it is inside it, else absolute."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
