"""Waiting for a condition inside a running event loop, with a deadline instead of a sleep.

``PATIENCE_S`` is the one safety-net deadline of the tests: how long to wait for something that
happens within a second on a quiet machine but may take much longer on a busy 2-core one (a
subprocess starting, a model loading, a signal arriving). A passing test never waits for it, so
it costs nothing; how fast things happen is measured by the benchmarks, never asserted here.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable

PATIENCE_S = 120.0
PATIENCE_MS = int(PATIENCE_S * 1000)  # the same, for Qt's and pytest-qt's milliseconds


async def wait_until(
    condition: Callable[[], bool | Awaitable[bool]], timeout_s: float = PATIENCE_S
) -> None:
    """Check ``condition`` (awaited when it returns an awaitable: a call to a server, say) until
    it holds; fail once ``timeout_s`` has passed without it."""
    deadline = time.monotonic() + timeout_s
    while not await _holds(condition):
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s} s")
        await asyncio.sleep(0.02)


async def _holds(condition: Callable[[], bool | Awaitable[bool]]) -> bool:
    result = condition()
    return await result if inspect.isawaitable(result) else bool(result)


def poll_until(condition: Callable[[], bool], what: str, timeout_s: float = PATIENCE_S) -> None:
    """``wait_until`` outside an event loop (a fixture starting a daemon): checks ``condition``
    until it holds; fails saying ``what`` did not happen within ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout_s:g} s")
        time.sleep(0.02)
