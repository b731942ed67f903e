"""``UploadSessions``: large objects written through MCP in parts — begin, parts in order, finish.

An MCP tool call carries JSON, so one call cannot hold a 50 MB object sensibly; a client sends it
in parts instead (each up to the storage's write limit). Every part goes straight to the
backend's own streaming upload (S3 multipart, Azure blocks, a GCS resumable upload, a partial
file beside the target on disk or in memory): memory holds about one backend block, and nothing
appears at the path until ``finish``. A part names the offset it starts at: a client may send a
few parts at once (the next is encoded and sent while the last one goes to the backend) and each
waits its turn, while a repeated part, or one whose predecessor never comes, is refused rather
than silently corrupting the object. Sessions left idle are aborted.
"""

from __future__ import annotations

import asyncio
import contextlib
import posixpath
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from fsspec.implementations.local import LocalFileSystem
from fsspec.implementations.memory import MemoryFileSystem

from hybridmcp_app.datastores.object_storage import ObjectStorage, StorageError, make_parent

IDLE_S = 600.0
MAX_OPEN = 16
PART_WAIT_S = 30.0  # how long a part that came early waits for the one before it
MAX_WAITING = 4  # parts of one upload that may wait at once (each holds its bytes)
MIN_BLOCK = 5 * 1024 * 1024  # S3's smallest multipart part
BLOCK_UNIT = 256 * 1024  # GCS wants blocks in multiples of this


@dataclass
class _Upload:
    path: str
    filesystem: Any
    target: str
    partial: str  # where the bytes go until finish (the target itself on object stores)
    writer: Any
    written: int = 0
    last_used: float = field(default_factory=time.monotonic)
    turn: asyncio.Condition = field(default_factory=asyncio.Condition)
    waiting: int = 0


class UploadSessions:
    """Open part-by-part uploads on one ``ObjectStorage``, by id."""

    def __init__(
        self,
        storage: ObjectStorage,
        *,
        idle_s: float = IDLE_S,
        max_open: int = MAX_OPEN,
        part_wait_s: float = PART_WAIT_S,
    ) -> None:
        self.storage, self.idle_s, self.max_open = storage, idle_s, max_open
        self.part_wait_s = part_wait_s
        # Each part the backend gets as it comes (a multipart part, a block): one part's size.
        units = -(-storage.max_write_bytes // BLOCK_UNIT)
        self.block_bytes = max(MIN_BLOCK, units * BLOCK_UNIT)
        self._open: dict[str, _Upload] = {}

    async def begin(self, path: str) -> str:
        """Start writing ``path``; returns the upload's id."""
        await self._expire_idle()
        if len(self._open) >= self.max_open:
            raise StorageError(
                f"{len(self._open)} uploads are open already; finish or abort one first"
            )
        filesystem, target, _ = self.storage.resolve(path)
        upload_id = secrets.token_hex(8)
        # Disk and memory files show while they are written: those get a hidden partial file
        # beside the target, moved into place at the finish.
        local = isinstance(filesystem, LocalFileSystem | MemoryFileSystem)
        partial = (
            posixpath.join(posixpath.dirname(target),
                           f".{posixpath.basename(target)}.upload-{upload_id}")
            if local else target
        )  # fmt: skip

        def open_writer() -> Any:
            make_parent(filesystem, partial)
            return filesystem.open(partial, "wb", block_size=self.block_bytes)

        writer = await self.storage.run(open_writer, path)
        self._open[upload_id] = _Upload(path, filesystem, target, partial, writer)
        return upload_id

    async def append(self, upload_id: str, data: bytes, offset: int) -> int:
        """Add the part that starts at ``offset``; returns the bytes written so far."""
        upload = self._get(upload_id)
        if len(data) > self.storage.max_write_bytes:
            raise StorageError(
                f"a part of {len(data):,} bytes; parts are limited to "
                f"{self.storage.max_write_bytes:,}"
            )
        async with upload.turn:
            if offset > upload.written:
                await self._wait_for_turn(upload_id, upload, offset)
            if offset != upload.written:
                raise StorageError(
                    f"upload {upload_id}: this part starts at byte {offset:,} but "
                    f"{upload.written:,} bytes have been written (was it sent twice?)"
                )
            await self._run(upload_id, upload, lambda: upload.writer.write(data))
            upload.written += len(data)
            upload.last_used = time.monotonic()
            upload.turn.notify_all()
            return upload.written

    async def finish(self, upload_id: str) -> tuple[str, int]:
        """Complete the object; returns its path and size."""
        upload = self._get(upload_id)
        async with upload.turn:
            del self._open[upload_id]
            upload.turn.notify_all()

            def complete() -> None:
                upload.writer.close()
                if upload.partial != upload.target:
                    upload.filesystem.mv(upload.partial, upload.target)

            try:
                await self.storage.run(complete, upload.path)
            except StorageError:
                await self._discard(upload)
                raise
            return upload.path, upload.written

    async def abort(self, upload_id: str) -> None:
        """Drop an upload: nothing is left at its path."""
        upload = self._get(upload_id)
        async with upload.turn:
            del self._open[upload_id]
            upload.turn.notify_all()
            await self._discard(upload)

    async def close(self) -> None:
        """Abort every open upload (the server is stopping)."""
        for upload_id in list(self._open):
            await self.abort(upload_id)

    # ---------------------------------------------------------------- helpers
    def _get(self, upload_id: str) -> _Upload:
        upload = self._open.get(upload_id)
        if upload is None:
            raise StorageError(
                f"no open upload {upload_id!r} (finished, aborted, or idle for more than "
                f"{self.idle_s:.0f} s)"
            )
        return upload

    async def _wait_for_turn(self, upload_id: str, upload: _Upload, offset: int) -> None:
        """Parts may be sent a few at a time; one that came early waits for its turn."""
        if upload.waiting >= MAX_WAITING:
            raise StorageError(f"upload {upload_id}: more than {MAX_WAITING} parts are waiting "
                               "for earlier ones; send fewer at once")  # fmt: skip
        upload.waiting += 1
        try:
            await asyncio.wait_for(
                upload.turn.wait_for(
                    lambda: upload.written >= offset or self._open.get(upload_id) is not upload
                ),
                self.part_wait_s,
            )
        except TimeoutError:
            raise StorageError(
                f"upload {upload_id}: this part starts at byte {offset:,} but only "
                f"{upload.written:,} bytes have been written, and the part before it did not "
                f"come within {self.part_wait_s:g} s (send each part once, in order)"
            ) from None
        finally:
            upload.waiting -= 1
        self._get(upload_id)  # finished or aborted meanwhile

    async def _run(self, upload_id: str, upload: _Upload, work: Any) -> None:
        """A failed part ends the upload: the backend's state is unknown after it."""
        try:
            await self.storage.run(work, upload.path)
        except StorageError:
            self._open.pop(upload_id, None)
            await self._discard(upload)
            raise

    async def _discard(self, upload: _Upload) -> None:
        def discard() -> None:
            if upload.partial != upload.target:  # a partial file on disk
                upload.writer.close()
                if upload.filesystem.exists(upload.partial):
                    upload.filesystem.rm(upload.partial)
                return
            upload.writer.discard()  # s3fs aborts its multipart upload here
            # Closing would complete the object (also when the writer is garbage-collected):
            # mark it closed instead; the backend drops uncommitted blocks on its own.
            upload.writer.closed = True

        # Best effort: an abandoned backend upload expires on its own.
        with contextlib.suppress(Exception):
            await asyncio.to_thread(discard)

    async def _expire_idle(self) -> None:
        now = time.monotonic()
        for upload_id, upload in list(self._open.items()):
            if now - upload.last_used > self.idle_s and not upload.turn.locked():
                await self.abort(upload_id)
