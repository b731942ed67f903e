"""Where a download's bytes go: hashed as they arrive, written and flushed on threads of their own.

SHA-256 runs on the thread that reads the network, on each chunk just read (still in the CPU's
cache; on a busy 2-core machine a hash thread of its own, fed by a queue, was the slowest part
and made a download 0.75-0.9 of curl's speed, hashing here 1.1). The chunks go on to a writer
thread in batches of about 1 MB (a list of the chunks, never joined: written with one
``writev``, no copy), and the file is flushed to disk as it grows (``fdatasync`` every
``SYNC_EVERY`` bytes, on a third thread, so the writes never wait for the disk), which leaves
the final ``fsync`` little to do. A bounded queue keeps memory flat (at most 64 batches) when the
disk is slower than the network. A part being resumed is hashed from disk first.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import queue
import threading

from hybridmcp_app.llm.model_hub.download_errors import ModelDownloadError

_BATCH = 1024 * 1024  # chunks are handed to the writer in batches of this many bytes…
_BATCH_CHUNKS = 64  # …or of this many chunks (well under any system's writev limit)
_QUEUE_BATCHES = 64  # batches waiting for the disk: about 64 MB in memory
_DISK_READ = 4 * 1024 * 1024  # a resumed part is read back for its hash in blocks this size
SYNC_EVERY = 32 * 1024 * 1024  # flushed to disk as it grows; the final fsync finds little left
_SYNC_DATA = getattr(os, "fdatasync", os.fsync)
_WRITEV = hasattr(os, "writev")


class Sink:
    """Writes the bytes handed to ``add`` at the end of the part and hashes the whole part."""

    def __init__(self, fd: int, existing: int, label: str) -> None:
        self.fd, self._offset, self.label = fd, existing, label
        self.digest = hashlib.sha256()
        self.error: ModelDownloadError | None = None
        self._batch: list[bytes] = []
        self._batch_bytes = 0
        self._to_write: queue.Queue[tuple[int, list[bytes]] | None] = queue.Queue(_QUEUE_BATCHES)
        self._sync_wanted = threading.Event()
        self._closing = False
        self._threads = [
            threading.Thread(target=self._write, name="model-download-write", daemon=True),
            threading.Thread(target=self._sync, name="model-download-sync", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        self._hash_existing(existing)

    def _hash_existing(self, count: int) -> None:
        """Hash the part already on disk (before any new byte is written)."""
        try:
            os.lseek(self.fd, 0, os.SEEK_SET)
            while count > 0 and (block := os.read(self.fd, min(_DISK_READ, count))):
                self.digest.update(block)
                count -= len(block)
        except OSError as error:
            with contextlib.suppress(ModelDownloadError):
                self.finish()
            raise ModelDownloadError(f"cannot read {self.label}: {error.strerror}") from None

    def _write(self) -> None:
        unsynced, position = 0, -1
        while (item := self._to_write.get()) is not None:
            offset, chunks = item
            if self.error is None:
                try:
                    if offset != position:
                        os.lseek(self.fd, offset, os.SEEK_SET)
                    position = offset + write_all(self.fd, chunks, self.label)
                    unsynced += position - offset
                    if unsynced >= SYNC_EVERY:
                        self._sync_wanted.set()
                        unsynced = 0
                except ModelDownloadError as error:
                    self.error = error
                except OSError as error:
                    self.error = ModelDownloadError(f"cannot write {self.label}: {error.strerror}")
            self._to_write.task_done()
        self._to_write.task_done()

    def _sync(self) -> None:
        """Flush what was written so far while the writer goes on (a writer that waited for
        the disk would fall behind the network)."""
        while True:
            self._sync_wanted.wait()
            self._sync_wanted.clear()
            if self._closing:
                return
            try:
                _SYNC_DATA(self.fd)
            except OSError as error:
                self.error = ModelDownloadError(f"cannot write {self.label}: {error.strerror}")

    def add(self, chunk: bytes) -> None:
        """Bytes from the network: hashed, and written at the current offset."""
        self.digest.update(chunk)
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
            self._offset += self._batch_bytes
            self._batch, self._batch_bytes = [], 0

    def drain(self) -> None:
        """Wait until every chunk handed over is written."""
        self._hand_on()
        self._to_write.join()
        if self.error is not None:
            raise self.error

    def restart(self) -> None:
        """The server ignored our Range: start over (the old hash is thrown away)."""
        self.drain()
        self.digest = hashlib.sha256()
        os.ftruncate(self.fd, 0)
        self._offset = 0

    def finish(self) -> str:
        """Stop the threads; the SHA-256 of everything handed over (raises a write error)."""
        with contextlib.suppress(ModelDownloadError):  # raised below, once the threads stop
            self._hand_on()
        self._to_write.put(None)
        self._closing = True
        self._sync_wanted.set()
        for thread in self._threads:
            thread.join()
        if self.error is not None:
            raise self.error
        return self.digest.hexdigest()


def write_all(fd: int, chunks: list[bytes], label: str) -> int:
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
