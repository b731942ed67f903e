"""One thread that owns one llama.cpp model: every call on it runs there, one at a time.

llama-cpp-python's ``Llama`` is not thread-safe (two threads on one instance abort the process),
so callers never touch it: they submit jobs, which queue, and await the returned futures. Every
future is answered: a job submitted once the worker is stopping fails at once instead of
queueing behind the end of the thread, where nothing would ever run it.
"""

from __future__ import annotations

import concurrent.futures
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

log = logging.getLogger("hybridmcp.llm.worker")
M = TypeVar("M")
T = TypeVar("T")

_STOP = object()


class ModelWorker(Generic[M]):
    """Runs jobs ``fn(model)`` on its own thread. ``model`` is whatever the load job returned."""

    def __init__(self, name: str) -> None:
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._model: M | None = None
        self._queueing = threading.Lock()  # a job is queued either before the stop or not at all
        self._stopped: concurrent.futures.Future[None] | None = None
        self._thread = threading.Thread(target=self._run, name=f"llm-{name}", daemon=True)
        self._thread.start()

    def load(self, loader: Callable[[], M]) -> concurrent.futures.Future[M]:
        """Build the model on the worker thread (so the thread that uses it also made it)."""

        def job(_: M | None) -> M:
            self._model = loader()
            return self._model

        return self._submit(job)

    def submit(self, fn: Callable[[M], T]) -> concurrent.futures.Future[T]:
        """Queue ``fn(model)``; it fails with RuntimeError if no model is loaded by then."""

        def job(model: M | None) -> T:
            if model is None:
                raise RuntimeError("no model is loaded")
            return fn(model)

        return self._submit(job)

    def unload(self, closer: Callable[[M], None] | None = None) -> concurrent.futures.Future[None]:
        return self._submit(self._unload_job(closer))

    def _unload_job(self, closer: Callable[[M], None] | None) -> Callable[[M | None], None]:
        def job(model: M | None) -> None:
            if model is not None and closer is not None:
                closer(model)
            self._model = None

        return job

    def stop(self, closer: Callable[[M], None] | None = None) -> concurrent.futures.Future[None]:
        """Queue the unload and the end of the thread; the future is done once unloaded.

        Jobs submitted from now on fail at once. Stopping again returns the first stop's future.
        """
        with self._queueing:
            if self._stopped is None:
                self._stopped = self._queue(self._unload_job(closer))
                self._jobs.put(_STOP)
            return self._stopped

    def shutdown(self, closer: Callable[[M], None] | None = None, timeout_s: float = 2.0) -> bool:
        """Stop and wait; returns False if the thread did not end within ``timeout_s``."""
        if self._thread.is_alive():
            self.stop(closer)
            self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def _submit(self, job: Callable[[M | None], T]) -> concurrent.futures.Future[T]:
        with self._queueing:
            if self._stopped is None:
                return self._queue(job)
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        future.set_exception(RuntimeError("the model worker has stopped"))
        return future

    def _queue(self, job: Callable[[M | None], T]) -> concurrent.futures.Future[T]:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._jobs.put((job, future))
        return future

    def _run(self) -> None:
        while True:
            item = self._jobs.get()
            if item is _STOP:
                return
            job, future = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(job(self._model))
            except BaseException as error:  # delivered to the awaiting caller
                future.set_exception(error)
