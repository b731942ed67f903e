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
from hybridmcp_app.llm.model_hub.hub_client import HubClient, HubFile, describe_hub_error

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_BINARY = getattr(os, "O_BINARY", 0)
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,199}$")
SPACE_MARGIN = 64 * 1024 * 1024  # left free after the download
PROGRESS_EVERY_S = 0.1
RETRIES = 3  # reconnections after a dropped connection that had made progress
_HASH_READ = 4 * 1024 * 1024


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


class _Hasher:
    """SHA-256 on its own thread, so hashing overlaps the network and the disk."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self._chunks: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="model-download-sha256")
        self._thread.start()

    def _run(self) -> None:
        while (chunk := self._chunks.get()) is not None:
            self.digest.update(chunk)

    def add(self, chunk: bytes) -> None:
        self._chunks.put(chunk)

    def finish(self) -> str:
        self._chunks.put(None)
        self._thread.join()
        return self.digest.hexdigest()


class _Meter:
    """Speed over the last few seconds and the time left, reported at most every 0.1 s."""

    def __init__(self, total: int, done: int, report: ProgressCallback | None) -> None:
        self.total, self.done, self._report = total, done, report
        self._samples: list[tuple[float, int]] = [(time.monotonic(), done)]
        self._last = 0.0

    def add(self, count: int, *, final: bool = False) -> None:
        self.done += count
        now = time.monotonic()
        if self._report is None or (not final and now - self._last < PROGRESS_EVERY_S):
            return
        self._last = now
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
    state = json.dumps({"repo_id": file.repo_id, "filename": file.filename,
                        "sha256": file.sha256, "size": file.size})  # fmt: skip
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
        hasher = _Hasher()
        try:
            _hash_existing(fd, done, hasher)
            meter = _Meter(file.size, done, on_progress)
            done = _fetch(client, file, fd, done, hasher, meter, cancel, retries)
        finally:
            digest = hasher.finish()
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


def _hash_existing(fd: int, done: int, hasher: _Hasher) -> None:
    os.lseek(fd, 0, os.SEEK_SET)
    left = done
    while left > 0:
        chunk = os.read(fd, min(_HASH_READ, left))
        if not chunk:
            break
        hasher.add(chunk)
        left -= len(chunk)


def _fetch(
    client: HubClient,
    file: HubFile,
    fd: int,
    done: int,
    hasher: _Hasher,
    meter: _Meter,
    cancel: threading.Event,
    retries: int,
) -> int:
    """Stream the rest of the file into ``fd``; reconnects with Range after a drop."""
    import httpx2
    from huggingface_hub import get_session, hf_hub_url, hf_raise_for_status
    from huggingface_hub.utils._headers import build_hf_headers

    url = hf_hub_url(file.repo_id, file.filename, revision=file.commit, endpoint=client.endpoint)
    while True:
        if cancel.is_set():
            raise DownloadCancelled(f"the download of {file.filename} was paused at {_mb(done)}")
        headers = build_hf_headers(token=client.token_value())
        if done:
            headers["Range"] = f"bytes={done}-"
        before = done
        try:
            with get_session().stream("GET", url, headers=headers, timeout=60.0) as response:
                try:
                    hf_raise_for_status(response)
                except Exception as error:
                    message = describe_hub_error(error, file.repo_id,
                                                 with_token=client.token is not None)  # fmt: skip
                    raise ModelDownloadError(message) from None
                if done and response.status_code != 206:
                    done = _restart(fd, hasher, meter)
                os.lseek(fd, done, os.SEEK_SET)
                for chunk in response.iter_raw():
                    if cancel.is_set():
                        raise DownloadCancelled(
                            f"the download of {file.filename} was paused at {_mb(done)}"
                        )
                    if done + len(chunk) > file.size:
                        raise ModelDownloadError(f"the hub sent more than {_mb(file.size)}")
                    _write_all(fd, chunk, file)
                    hasher.add(chunk)
                    done += len(chunk)
                    meter.add(len(chunk))
                meter.add(0, final=True)
                return done
        except (httpx2.TransportError, httpx2.StreamError) as error:
            if done == before or retries <= 0:
                detail = str(error).splitlines()[0][:160] if str(error) else type(error).__name__
                raise ModelDownloadError(
                    f"the download of {file.filename} stopped at {_mb(done)} of "
                    f"{_mb(file.size)} ({detail}); try again to resume") from None  # fmt: skip
            retries -= 1


def _restart(fd: int, hasher: _Hasher, meter: _Meter) -> int:
    """The server ignored our Range: start over (the old hash is thrown away)."""
    hasher.digest = hashlib.sha256()  # nothing queued: the chunks before were all hashed
    os.ftruncate(fd, 0)
    meter.done = 0
    return 0


def _write_all(fd: int, chunk: bytes, file: HubFile) -> None:
    view = memoryview(chunk)
    while view:
        try:
            written = os.write(fd, view)
        except OSError as error:
            if error.errno in (errno.ENOSPC, errno.EDQUOT):
                raise ModelDownloadError(
                    f"the disk filled up while downloading {file.filename}; free some space "
                    "and try again to resume") from None  # fmt: skip
            raise ModelDownloadError(
                f"cannot write {file.filename}: {error.strerror}") from None  # fmt: skip
        view = view[written:]


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
