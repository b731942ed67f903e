"""Keep track of the app's asyncio tasks so shutdown can cancel and await every one."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
log = logging.getLogger("hybridmcp.tasks")


class BackgroundTasks:
    """A registry of named tasks on one loop: errors are logged, not lost; ``shutdown`` cancels
    the rest. Tasks may be spawned before the loop runs (they start when it does)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False

    def spawn(self, coro: Coroutine[Any, Any, T], *, name: str) -> asyncio.Task[T]:
        if self._closed:
            coro.close()
            raise RuntimeError(f"cannot start task {name!r}: the app is shutting down")
        task = self._loop.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._forget)
        return task

    @property
    def closed(self) -> bool:
        """True once shutdown began: nothing new may start."""
        return self._closed

    @property
    def running(self) -> list[str]:
        return sorted(task.get_name() for task in self._tasks if not task.done())

    def _forget(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s failed", task.get_name(), exc_info=task.exception())

    def cancel_all(self) -> list[asyncio.Task[Any]]:
        """Refuse new tasks and cancel every running one, at once (no loop needed): called as
        soon as the app is asked to quit, so that no task resumes into a window being deleted.
        Returns the tasks still to finish."""
        self._closed = True
        pending = [task for task in self._tasks if not task.done()]
        for task in pending:
            task.cancel()
        return pending

    async def shutdown(self, timeout_s: float = 2.0) -> list[str]:
        """Cancel every task and wait up to ``timeout_s``; returns the names that did not stop."""
        pending = self.cancel_all()
        if not pending:
            return []
        _, still_running = await asyncio.wait(pending, timeout=timeout_s)
        stuck = sorted(task.get_name() for task in still_running)
        if stuck:
            log.warning("tasks still running after %.1f s at shutdown: %s", timeout_s, stuck)
        return stuck
