"""Index progress of ``hybridmcp library`` on stderr."""

from __future__ import annotations

import time
from typing import Any, TextIO

from tqdm import tqdm

from hybridmcp_app.documents.document_models import FileStatus
from hybridmcp_app.documents.library_service import IndexProgress

PLAIN_PROGRESS_EVERY_S = 2.0


class ProgressReporter:
    """Index progress on stderr: a tqdm bar on a terminal, else a plain line every few seconds
    (and at the end), so a log file or a pipe never fills with carriage returns."""

    def __init__(
        self,
        stream: TextIO,
        label: str,
        *,
        interactive: bool | None = None,
        every_s: float = PLAIN_PROGRESS_EVERY_S,
    ) -> None:
        self.stream, self.label, self.every_s = stream, label, every_s
        self.interactive = stream.isatty() if interactive is None else interactive
        self.bar: tqdm[Any] | None = None
        self.last_line: float | None = None
        self.last_done = -1
        self.changed: list[FileStatus] = []  # every file that settled in this run, in order

    def __call__(self, event: IndexProgress) -> None:
        if event.changed is not None:
            self.changed.append(event.changed)
        if event.total == 0:
            return
        if self.interactive:
            self._update_bar(event)
        else:
            self._print_line(event)

    def _update_bar(self, event: IndexProgress) -> None:
        if self.bar is None:
            self.bar = tqdm(
                total=event.total, desc=self.label, unit="file", file=self.stream, leave=True,
                dynamic_ncols=True,
            )  # fmt: skip
        self.bar.total = event.total
        self.bar.n = event.done
        name = event.current.name if event.current is not None else ""
        postfix = f"{event.chunks} chunks" + (f" · {name[:40]}" if name else "")
        self.bar.set_postfix_str(postfix, refresh=False)
        self.bar.refresh()

    def _print_line(self, event: IndexProgress) -> None:
        now = time.monotonic()
        finished = event.done == event.total
        due = self.last_line is None or now - self.last_line >= self.every_s
        if event.done == self.last_done or not (due or finished):
            return
        self.last_line, self.last_done = now, event.done
        left = f", about {event.eta_s:.0f} s left" if event.eta_s and not finished else ""
        print(
            f"{self.label}: {event.done}/{event.total} files, {event.chunks} chunks{left}",
            file=self.stream,
            flush=True,
        )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
