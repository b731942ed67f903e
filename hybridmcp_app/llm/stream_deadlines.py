"""Deadlines around a provider's stream: one for its first chunk, one for the whole of it.

The SDK's own timeout applies to each attempt and each wait for bytes, and it retries: a server
that accepts the connection and never answers costs ``timeout × (retries + 1)`` (four minutes with
the defaults). ``within_deadlines`` bounds the request as a whole instead. The stream is read by
a task of its own, which enters and leaves the SDK's stream (its HTTP connection) in one task, and
is cancelled when a deadline passes or the reader stops early.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class StreamDeadlineExceeded(TimeoutError):
    """The first chunk, or the whole stream, took longer than allowed."""

    def __init__(self, first_chunk: bool, seconds: float) -> None:
        what = "sent nothing" if first_chunk else "did not finish the answer"
        super().__init__(f"{what} within {seconds:g} s")
        self.first_chunk = first_chunk
        self.seconds = seconds


class _End:
    """Put on the queue when the source ended (normally or with ``error``)."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


class _Chunk(Generic[T]):
    def __init__(self, item: T) -> None:
        self.item = item


S = TypeVar("S", bound=AsyncIterator[Any])


async def within_deadlines(
    open_stream: Callable[[], Awaitable[S]],
    close_stream: Callable[[S], Awaitable[object]],
    *,
    first_chunk_s: float,
    total_s: float,
) -> AsyncGenerator[Any, None]:
    """The chunks of the stream ``open_stream()`` gives (closed with ``close_stream``); raises
    ``StreamDeadlineExceeded`` when nothing came within ``first_chunk_s`` (opening and the SDK's
    retries included) or it has not ended within ``total_s``."""
    queue: asyncio.Queue[_Chunk[Any] | _End] = asyncio.Queue(maxsize=64)

    async def produce() -> None:
        try:
            stream = await open_stream()
            try:
                async for item in stream:
                    await queue.put(_Chunk(item))
            finally:
                await close_stream(stream)
        except asyncio.CancelledError:
            raise
        except BaseException as error:  # handed to the reader, who raises it
            await queue.put(_End(error))
        else:
            await queue.put(_End())

    started = time.monotonic()
    producer = asyncio.create_task(produce(), name="provider-stream")
    first = True
    try:
        while True:
            limit = min(first_chunk_s, total_s) if first else total_s
            remaining = started + limit - time.monotonic()
            try:
                async with asyncio.timeout(max(0.0, remaining)):
                    received = await queue.get()
            except TimeoutError:
                raise StreamDeadlineExceeded(first, limit) from None
            if isinstance(received, _End):
                if received.error is not None:
                    raise received.error
                return
            first = False
            yield received.item
    finally:
        producer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await producer
