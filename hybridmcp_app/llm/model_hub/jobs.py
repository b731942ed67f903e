"""One model download as the user sees it: running, paused, failed or done, with its progress.

A job runs ``download_file`` off the event loop; pausing sets its cancel event (the part stays
for a later resume, also after a restart), cancelling also removes the part. Progress arrives
from the download thread and is handed to the subscribers on the event loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path

from hybridmcp_app.llm.model_hub.download import (
    DownloadCancelled,
    DownloadProgress,
    ModelDownloadError,
    discard_partial,
    download_file,
    target_path,
)
from hybridmcp_app.llm.model_hub.hub_client import HubClient, HubFile


class JobState(StrEnum):
    RUNNING = "downloading"
    PAUSED = "paused"
    FAILED = "failed"
    CANCELLED = "cancelled"
    DONE = "done"


def _mb(count: float) -> str:
    return f"{count / 1e6:,.1f} MB"


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def describe_progress(progress: DownloadProgress) -> str:
    """``12.3 MB of 98.0 MB · 4.5 MB/s · 19 s left``."""
    text = f"{_mb(progress.done_bytes)} of {_mb(progress.total_bytes)}"
    if progress.bytes_per_s > 0:
        text += f" · {_mb(progress.bytes_per_s)}/s"
    if progress.seconds_left is not None and progress.done_bytes < progress.total_bytes:
        text += f" · {_duration(progress.seconds_left)} left"
    return text


class DownloadJob:
    """A file to download into ``models_dir``; ``subscribe`` to hear of every change."""

    def __init__(self, file: HubFile, models_dir: Path, done_bytes: int = 0) -> None:
        self.file = file
        self.models_dir = models_dir
        self.path = target_path(models_dir, file)
        self.state = JobState.PAUSED
        self.error = ""
        self.progress = DownloadProgress(done_bytes=done_bytes, total_bytes=file.size,
                                         bytes_per_s=0.0, seconds_left=None)  # fmt: skip
        self._cancel = threading.Event()
        self._job: asyncio.Future[Path] | None = None
        self._listeners: list[Callable[[DownloadJob], None]] = []

    def __repr__(self) -> str:
        return f"DownloadJob({self.file.repo_id}/{self.file.filename}, {self.state})"

    @property
    def fraction(self) -> float:
        return self.progress.done_bytes / self.file.size if self.file.size else 0.0

    def subscribe(self, listener: Callable[[DownloadJob], None]) -> Callable[[], None]:
        """Call ``listener(job)`` on each change; returns the call that stops it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _changed(self) -> None:
        for listener in list(self._listeners):
            listener(self)

    def _set(self, state: JobState, error: str = "") -> None:
        self.state, self.error = state, error
        self._changed()

    def _progress(self, progress: DownloadProgress) -> None:
        self.progress = progress
        self._changed()

    async def run(self, client: HubClient) -> Path | None:
        """Download (or resume) until done, paused or failed; the file's path once verified."""
        if self.state is JobState.RUNNING:
            raise ModelDownloadError(f"{self.file.filename} is already downloading")
        loop = asyncio.get_running_loop()
        self._cancel = cancel = threading.Event()
        self._set(JobState.RUNNING)

        def report(progress: DownloadProgress) -> None:  # on the download thread
            loop.call_soon_threadsafe(self._progress, progress)

        self._job = job = asyncio.ensure_future(
            asyncio.to_thread(
                download_file, client, self.file, self.models_dir, on_progress=report, cancel=cancel
            )
        )
        try:
            path = await asyncio.shield(job)
        except DownloadCancelled:
            self._set(JobState.CANCELLED if self.state is JobState.CANCELLED else JobState.PAUSED)
            return None
        except ModelDownloadError as error:
            self._set(JobState.FAILED, str(error))
            return None
        except asyncio.CancelledError:  # the app is closing: the thread stops, the part stays
            cancel.set()
            raise
        self.progress = self.progress.model_copy(update={"done_bytes": self.file.size,
                                                         "seconds_left": 0.0})  # fmt: skip
        self._set(JobState.DONE)
        return path

    def pause(self) -> None:
        """Stop after the current chunk; the part is kept for a resume."""
        self._cancel.set()

    async def cancel(self) -> None:
        """Stop and remove what was downloaded so far."""
        self.state = JobState.CANCELLED
        self._cancel.set()
        if self._job is not None and not self._job.done():
            await asyncio.wait([self._job])  # the thread has let go of the part
        await asyncio.to_thread(discard_partial, self.models_dir, self.file)
        self.progress = self.progress.model_copy(update={"done_bytes": 0, "bytes_per_s": 0.0,
                                                         "seconds_left": None})  # fmt: skip
        self._set(JobState.CANCELLED)
