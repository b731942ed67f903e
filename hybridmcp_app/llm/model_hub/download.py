"""Download a GGUF file from the hub into the app's models folder, safely and resumably.

The bytes stream through ``huggingface_hub``'s HTTP session (``download_stream``) into
``<file>.part`` beside the target, with ``<file>.part.json`` saying which file version it holds
(``model_folder``); an interrupted download resumes with a Range request, also after a restart.
They are hashed as they arrive and written on a thread of their own (``download_sink``), and
the SHA-256 is checked against the hub's LFS hash; only then is the part fsynced and renamed to
its ``.gguf`` name, so nothing half-written or corrupt is ever offered. Folders and files are
opened without following links.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
import threading
from pathlib import Path

from hybridmcp_app.llm.model_hub.download_errors import DownloadCancelled, ModelDownloadError, mb
from hybridmcp_app.llm.model_hub.download_progress import (
    DownloadProgress,
    Meter,
    ProgressCallback,
)
from hybridmcp_app.llm.model_hub.download_sink import Sink
from hybridmcp_app.llm.model_hub.download_stream import fetch_into
from hybridmcp_app.llm.model_hub.hub_client import HubClient, HubFile
from hybridmcp_app.llm.model_hub.model_folder import (
    ModelFolder,
    PartialDownload,
    check_names,
    discard_partial,
    partial_downloads,
    state_text,
    target_path,
)

__all__ = [
    "DownloadCancelled",
    "DownloadProgress",
    "ModelDownloadError",
    "ModelDownloader",
    "PartialDownload",
    "ProgressCallback",
    "discard_partial",
    "download_file",
    "partial_downloads",
    "target_path",
]

RETRIES = 3  # reconnections after a dropped connection that had made progress


def download_file(
    client: HubClient,
    file: HubFile,
    models_dir: Path,
    *,
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    retries: int = RETRIES,
) -> Path:
    """Download ``file`` (blocking; run it off the loop) and return its verified path."""
    parts = check_names(file)
    if not file.sha256:
        raise ModelDownloadError(f"the hub publishes no SHA-256 for {file.filename}; refused")
    if file.split:
        raise ModelDownloadError(f"{file.filename} is one part of a split model; not supported")
    cancel = cancel or threading.Event()
    folder = ModelFolder.open_tree(models_dir, parts[:-1])
    try:
        return _download_into(client, file, folder, parts[-1], on_progress, cancel, retries)
    finally:
        folder.close()


def _download_into(
    client: HubClient,
    file: HubFile,
    folder: ModelFolder,
    name: str,
    on_progress: ProgressCallback | None,
    cancel: threading.Event,
    retries: int,
) -> Path:
    final = Path(folder.label) / name
    found = folder.entry(name)
    if found is not None:
        if stat.S_ISREG(found.st_mode) and found.st_size == file.size:
            return final  # only verified files ever get this name
        raise ModelDownloadError(f"{final} already exists and is not this download")
    part, state_name = f"{name}.part", f"{name}.part.json"
    state = state_text(file)
    same = folder.read_text(state_name) == state
    kept = folder.entry(part) if same else None
    kept_size = kept.st_size if kept is not None and kept.st_size <= file.size else 0
    folder.check_space(file.size - kept_size, final)  # before anything is written
    if not same:
        folder.remove(part)
        folder.write_text(state_name, state)
    fd = folder.open_file(part, os.O_RDWR | os.O_CREAT)
    try:
        done = os.fstat(fd).st_size
        if done > file.size:
            os.ftruncate(fd, 0)
            done = 0
        sink = Sink(fd, done, file.filename)
        try:
            meter = Meter(file.size, done, on_progress)
            done = fetch_into(client, file, sink, meter, cancel, retries)
        finally:
            digest = sink.finish()
        if done != file.size:
            raise ModelDownloadError(
                f"the download of {file.filename} ended at {mb(done)} of {mb(file.size)}; "
                "try again to resume")  # fmt: skip
        if digest != file.sha256:
            folder.remove(part)
            folder.remove(state_name)
            raise ModelDownloadError(
                f"{file.filename} arrived corrupt (its SHA-256 is not the one the hub publishes); "
                "it was removed, try again")  # fmt: skip
        os.fsync(fd)
    finally:
        os.close(fd)
    folder.rename(part, name)
    folder.remove(state_name)
    folder.sync()
    return final


class ModelDownloader:
    """Runs downloads off the event loop; cancelling the awaiting task pauses the download."""

    def __init__(self, client: HubClient, models_dir: Path) -> None:
        self.client = client
        self.models_dir = models_dir

    async def download(self, file: HubFile, on_progress: ProgressCallback | None = None) -> Path:
        cancel = threading.Event()
        job = asyncio.ensure_future(asyncio.to_thread(
            download_file, self.client, file, self.models_dir,
            on_progress=on_progress, cancel=cancel))  # fmt: skip
        try:
            return await asyncio.shield(job)
        except asyncio.CancelledError:
            cancel.set()
            with contextlib.suppress(ModelDownloadError):
                await job
            raise
