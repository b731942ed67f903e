"""Download a GGUF file from the hub into the app's models folder, safely and resumably.

The bytes stream through ``huggingface_hub``'s HTTP session (``HF_ENDPOINT``, proxies, its
headers) into ``<file>.part`` beside the target, with ``<file>.part.json`` saying which file
version it holds; an interrupted download resumes with a Range request, also after a restart.
The SHA-256 is computed while the bytes arrive (on a second thread) and checked against the
hub's LFS hash; only then is the part renamed to its ``.gguf`` name, so nothing half-written or
corrupt is ever offered. Folders and files are opened without following links.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import json
import os
import queue
import re
import shutil
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from hybridmcp_app.core.errors import HybridMCPError
from hybridmcp_app.llm.model_hub.hub_client import (
    HubClient,
    HubFile,
    describe_hub_error,
    quantization_of,
)

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_BINARY = getattr(os, "O_BINARY", 0)
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,199}$")
SPACE_MARGIN = 64 * 1024 * 1024  # left free after the download
PROGRESS_EVERY_S = 0.1  # progress is reported this often, or each 1 % of the file
RETRIES = 3  # reconnections after a dropped connection that had made progress
_HASH_READ = 4 * 1024 * 1024
_BATCH = 1024 * 1024  # network chunks (64 KB) are handed on in batches of this many bytes
_BATCH_CHUNKS = 64  # …or of this many chunks (well under any system's writev limit)
_QUEUE_BATCHES = 64  # batches waiting for the disk or the hash: at most 64 MB in memory
SYNC_EVERY = 32 * 1024 * 1024  # flushed to disk as it grows; the final fsync finds little left
_SYNC_DATA = getattr(os, "fdatasync", os.fsync)
_WRITEV = hasattr(os, "writev")


class ModelDownloadError(HybridMCPError):
    """A download failed; its message is one line saying what happened."""


class DownloadCancelled(ModelDownloadError):
    """The user paused or cancelled; the part file is kept for a later resume."""


class DownloadProgress(BaseModel):
    """Where a download stands: bytes so far, speed and time left (None until known)."""

    model_config = ConfigDict(frozen=True)

    done_bytes: int
    total_bytes: int
    bytes_per_s: float
    seconds_left: float | None


ProgressCallback = Callable[[DownloadProgress], None]


def _mb(count: int) -> str:
    return f"{count / 1e6:,.1f} MB"


def _check_names(file: HubFile) -> list[str]:
    """The folders and file name below the models folder: owner, repo, and the file's path."""
    parts = [*file.repo_id.split("/"), *file.filename.split("/")]
    for part in parts:
        if part in (".", "..") or not _SAFE_NAME.fullmatch(part):
            raise ModelDownloadError(f"refusing the unsafe name {part!r} in {file.repo_id}")
    if not parts[-1].lower().endswith(".gguf"):
        raise ModelDownloadError(f"{file.filename} is not a GGUF file")
    return parts


def target_path(models_dir: Path, file: HubFile) -> Path:
    """Where ``file`` lands: ``models/<owner>/<repo>/<file>``."""
    return models_dir.joinpath(*_check_names(file))


class _Folder:
    """An open folder; children opened with ``dir_fd`` and ``O_NOFOLLOW`` (no links followed)."""

    def __init__(self, fd: int, label: str) -> None:
        self.fd, self.label = fd, label

    @classmethod
    def open_tree(cls, root: Path, parts: list[str]) -> _Folder:
        root.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(root, os.O_RDONLY | _DIRECTORY | _NOFOLLOW)
        except OSError as error:
            raise ModelDownloadError(f"cannot open the models folder {root}: {error}") from None
        folder = cls(fd, str(root))
        for part in parts:
            with contextlib.suppress(FileExistsError):
                os.mkdir(part, 0o755, dir_fd=folder.fd)
            try:
                child = os.open(part, os.O_RDONLY | _DIRECTORY | _NOFOLLOW, dir_fd=folder.fd)
            except OSError as error:
                folder.close()
                raise ModelDownloadError(
                    f"{folder.label}/{part} is not a plain folder (a link?): {error.strerror}"
                ) from None
            folder.close()
            folder = cls(child, f"{folder.label}/{part}")
        return folder

    def close(self) -> None:
        os.close(self.fd)

    def entry(self, name: str) -> os.stat_result | None:
        try:
            return os.stat(name, dir_fd=self.fd, follow_symlinks=False)
        except FileNotFoundError:
            return None

    def open_file(self, name: str, flags: int) -> int:
        fd = os.open(name, flags | _NOFOLLOW | _BINARY, 0o644, dir_fd=self.fd)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise ModelDownloadError(f"{self.label}/{name} is not a regular file")
        return fd

    def read_text(self, name: str) -> str | None:
        try:
            fd = self.open_file(name, os.O_RDONLY)
        except (OSError, ModelDownloadError):
            return None
        with os.fdopen(fd, "r", encoding="utf-8") as handle:
            return handle.read(10_000)

    def write_text(self, name: str, text: str) -> None:
        fd = self.open_file(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)

    def remove(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name, dir_fd=self.fd)

    def rename(self, old: str, new: str) -> None:
        os.rename(old, new, src_dir_fd=self.fd, dst_dir_fd=self.fd)


class _Sink:
    """Writes and hashes the bytes on two threads of their own, so the network, the disk and
    SHA-256 overlap. The network's chunks go on in batches of about 1 MB (a list of the chunks,
    never joined: written with one ``writev``, hashed chunk by chunk, no copy). The file is
    flushed to disk as it grows (``fdatasync`` every ``SYNC_EVERY`` bytes), which leaves the
    final ``fsync`` little to do. Bounded queues keep memory flat when the disk is slow."""

    def __init__(self, fd: int, offset: int, label: str) -> None:
        self.fd, self._offset, self.label = fd, offset, label
        self.digest = hashlib.sha256()
        self.error: ModelDownloadError | None = None
        self._batch: list[bytes] = []
        self._batch_bytes = 0
        self._to_hash: queue.Queue[list[bytes] | None] = queue.Queue(_QUEUE_BATCHES)
        self._to_write: queue.Queue[tuple[int, list[bytes]] | None] = queue.Queue(_QUEUE_BATCHES)
        self._threads = [
            threading.Thread(target=self._hash, name="model-download-sha256", daemon=True),
            threading.Thread(target=self._write, name="model-download-write", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _hash(self) -> None:
        while (chunks := self._to_hash.get()) is not None:
            for chunk in chunks:
                self.digest.update(chunk)
            self._to_hash.task_done()
        self._to_hash.task_done()

    def _write(self) -> None:
        unsynced, position = 0, -1
        while (item := self._to_write.get()) is not None:
            offset, chunks = item
            if self.error is None:
                try:
                    if offset != position:
                        os.lseek(self.fd, offset, os.SEEK_SET)
                    position = offset + _write_all(self.fd, chunks, self.label)
                    unsynced += position - offset
                    if unsynced >= SYNC_EVERY:
                        _SYNC_DATA(self.fd)
                        unsynced = 0
                except ModelDownloadError as error:
                    self.error = error
                except OSError as error:
                    self.error = ModelDownloadError(f"cannot write {self.label}: {error.strerror}")
            self._to_write.task_done()
        self._to_write.task_done()

    def hash_only(self, chunk: bytes) -> None:
        """Bytes already on disk (a part being resumed)."""
        self._to_hash.put([chunk])

    def add(self, chunk: bytes) -> None:
        """Bytes from the network: written at the current offset and hashed."""
        self._batch.append(chunk)
        self._batch_bytes += len(chunk)
        if self._batch_bytes >= _BATCH or len(self._batch) >= _BATCH_CHUNKS:
            self._hand_on()

    @property
    def offset(self) -> int:
        """The bytes handed over so far: where the file ends once they are written."""
        return self._offset + self._batch_bytes

    def _hand_on(self) -> None:
        if self.error is not None:
            raise self.error
        if self._batch:
            self._to_write.put((self._offset, self._batch))
            self._to_hash.put(self._batch)
            self._offset += self._batch_bytes
            self._batch, self._batch_bytes = [], 0

    def drain(self) -> None:
        """Wait until every chunk handed over is written and hashed."""
        self._hand_on()
        self._to_write.join()
        self._to_hash.join()
        if self.error is not None:
            raise self.error

    def restart(self) -> None:
        """The server ignored our Range: start over (the old hash is thrown away)."""
        self.drain()
        self.digest = hashlib.sha256()
        os.ftruncate(self.fd, 0)
        self._offset = 0

    def finish(self) -> str:
        """Stop both threads; the SHA-256 of everything handed over (raises a write error)."""
        with contextlib.suppress(ModelDownloadError):  # raised below, once both threads stop
            self._hand_on()
        self._to_write.put(None)
        self._to_hash.put(None)
        for thread in self._threads:
            thread.join()
        if self.error is not None:
            raise self.error
        return self.digest.hexdigest()


class _Meter:
    """Speed over the last few seconds and the time left, reported at most every 0.1 s."""

    def __init__(self, total: int, done: int, report: ProgressCallback | None) -> None:
        self.total, self.done, self._report = total, done, report
        self._samples: list[tuple[float, int]] = [(time.monotonic(), done)]
        self._last, self._last_done, self._step = 0.0, done, max(total // 100, 1)

    def restart(self) -> None:
        self.done = self._last_done = 0
        self._samples = [(time.monotonic(), 0)]

    def add(self, count: int, *, final: bool = False) -> None:
        self.done += count
        if self._report is None:
            return
        now = time.monotonic()
        if (
            not final
            and now - self._last < PROGRESS_EVERY_S
            and (self.done - self._last_done < self._step)
        ):
            return
        self._last, self._last_done = now, self.done
        self._samples.append((now, self.done))
        while len(self._samples) > 2 and now - self._samples[0][0] > 3.0:
            self._samples.pop(0)
        (t0, d0) = self._samples[0]
        speed = (self.done - d0) / (now - t0) if now > t0 else 0.0
        left = (self.total - self.done) / speed if speed > 0 else None
        self._report(DownloadProgress(done_bytes=self.done, total_bytes=self.total,
                                      bytes_per_s=speed, seconds_left=left))  # fmt: skip


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
    parts = _check_names(file)
    if not file.sha256:
        raise ModelDownloadError(f"the hub publishes no SHA-256 for {file.filename}; refused")
    if file.split:
        raise ModelDownloadError(f"{file.filename} is one part of a split model; not supported")
    cancel = cancel or threading.Event()
    folder = _Folder.open_tree(models_dir, parts[:-1])
    try:
        return _download_into(client, file, folder, parts[-1], on_progress, cancel, retries)
    finally:
        folder.close()


def _download_into(
    client: HubClient,
    file: HubFile,
    folder: _Folder,
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
    state = _state_text(file)
    same = folder.read_text(state_name) == state
    kept = folder.entry(part) if same else None
    kept_size = kept.st_size if kept is not None and kept.st_size <= file.size else 0
    _check_space(folder, file.size - kept_size, final)  # before anything is written
    if not same:
        folder.remove(part)
        folder.write_text(state_name, state)
    fd = folder.open_file(part, os.O_RDWR | os.O_CREAT)
    try:
        done = os.fstat(fd).st_size
        if done > file.size:
            os.ftruncate(fd, 0)
            done = 0
        sink = _Sink(fd, done, file.filename)
        try:
            _hash_existing(fd, done, sink)
            meter = _Meter(file.size, done, on_progress)
            done = _fetch(client, file, sink, meter, cancel, retries)
        finally:
            digest = sink.finish()
        if done != file.size:
            raise ModelDownloadError(
                f"the download of {file.filename} ended at {_mb(done)} of {_mb(file.size)}; "
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
    with contextlib.suppress(OSError):
        os.fsync(folder.fd)
    return final


def _state_text(file: HubFile) -> str:
    """What ``<file>.part.json`` holds: which version of which file the part belongs to."""
    return json.dumps({"repo_id": file.repo_id, "filename": file.filename, "commit": file.commit,
                       "sha256": file.sha256, "size": file.size})  # fmt: skip


class PartialDownload(BaseModel):
    """A download left unfinished (paused, cut off, or the app closed): resumable."""

    model_config = ConfigDict(frozen=True)

    file: HubFile
    done_bytes: int


def partial_downloads(models_dir: Path) -> list[PartialDownload]:
    """The unfinished downloads under ``models_dir`` (read from their ``.part.json``)."""
    found: list[PartialDownload] = []
    if not models_dir.is_dir():
        return found
    for state_path in sorted(models_dir.rglob("*.gguf.part.json")):
        try:
            data = json.loads(state_path.read_text(encoding="utf-8"))
            file = HubFile(repo_id=data["repo_id"], filename=data["filename"],
                           commit=data["commit"], size=data["size"], sha256=data["sha256"],
                           quantization=quantization_of(data["filename"]))  # fmt: skip
            if target_path(models_dir, file).with_name(state_path.name) != state_path:
                continue  # not where this file's part would be
            part = state_path.with_suffix("")
            done = part.stat().st_size if part.is_file() and not part.is_symlink() else 0
        except (OSError, ValueError, KeyError, TypeError, ModelDownloadError):
            continue  # an older or damaged state file: not offered
        found.append(PartialDownload(file=file, done_bytes=min(done, file.size)))
    return found


def discard_partial(models_dir: Path, file: HubFile) -> None:
    """Remove a cancelled download's part and state (never the finished file)."""
    parts = _check_names(file)
    folder = _Folder.open_tree(models_dir, parts[:-1])
    try:
        folder.remove(f"{parts[-1]}.part")
        folder.remove(f"{parts[-1]}.part.json")
    finally:
        folder.close()


def _check_space(folder: _Folder, needed: int, final: Path) -> None:
    if os.statvfs in os.supports_fd:
        found = os.statvfs(folder.fd)
        free = found.f_bavail * found.f_frsize
    else:
        free = shutil.disk_usage(final.parent).free
    if needed + SPACE_MARGIN > free:
        raise ModelDownloadError(
            f"not enough free disk space for {final.name}: it needs {_mb(needed)} more, "
            f"{_mb(free)} are free in {final.parent}")  # fmt: skip


def _hash_existing(fd: int, done: int, sink: _Sink) -> None:
    """Hash the part already on disk (before any new byte is written)."""
    os.lseek(fd, 0, os.SEEK_SET)
    left = done
    while left > 0:
        chunk = os.read(fd, min(_HASH_READ, left))
        if not chunk:
            break
        sink.hash_only(chunk)
        left -= len(chunk)


def _fetch(
    client: HubClient,
    file: HubFile,
    sink: _Sink,
    meter: _Meter,
    cancel: threading.Event,
    retries: int,
) -> int:
    """Stream the rest of the file into ``sink``; reconnects with Range after a drop."""
    import httpx2
    from huggingface_hub import get_session, hf_hub_url, hf_raise_for_status
    from huggingface_hub.utils._headers import build_hf_headers

    url = hf_hub_url(file.repo_id, file.filename, revision=file.commit, endpoint=client.endpoint)
    paused = f"the download of {file.filename} was paused at {{}}"
    while True:
        if cancel.is_set():
            raise DownloadCancelled(paused.format(_mb(sink.offset)))
        headers = build_hf_headers(token=client.token_value())
        if sink.offset:
            headers["Range"] = f"bytes={sink.offset}-"
        before = sink.offset
        try:
            with get_session().stream("GET", url, headers=headers, timeout=60.0) as response:
                try:
                    hf_raise_for_status(response)
                except Exception as error:
                    message = describe_hub_error(error, file.repo_id,
                                                 with_token=client.token is not None)  # fmt: skip
                    raise ModelDownloadError(message) from None
                if sink.offset and response.status_code != 206:
                    sink.restart()
                    meter.restart()
                for chunk in response.iter_raw():
                    if cancel.is_set():
                        raise DownloadCancelled(paused.format(_mb(sink.offset)))
                    if sink.offset + len(chunk) > file.size:
                        raise ModelDownloadError(f"the hub sent more than {_mb(file.size)}")
                    sink.add(chunk)
                    meter.add(len(chunk))
                sink.drain()
                meter.add(0, final=True)
                return sink.offset
        except (httpx2.TransportError, httpx2.StreamError) as error:
            if sink.offset == before or retries <= 0:
                detail = str(error).splitlines()[0][:160] if str(error) else type(error).__name__
                raise ModelDownloadError(
                    f"the download of {file.filename} stopped at {_mb(sink.offset)} of "
                    f"{_mb(file.size)} ({detail}); try again to resume") from None  # fmt: skip
            retries -= 1


def _write_all(fd: int, chunks: list[bytes], label: str) -> int:
    """Write ``chunks`` in order (one ``writev`` where there is one); the bytes written."""
    total = sum(len(chunk) for chunk in chunks)
    try:
        written = os.writev(fd, chunks) if _WRITEV else 0
        for chunk in chunks:
            if written >= len(chunk):
                written -= len(chunk)
                continue
            view = memoryview(chunk)[written:]
            written = 0
            while view:
                view = view[os.write(fd, view) :]
    except OSError as error:
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            raise ModelDownloadError(
                f"the disk filled up while downloading {label}; free some space "
                "and try again to resume") from None  # fmt: skip
        raise ModelDownloadError(f"cannot write {label}: {error.strerror}") from None
    return total


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
