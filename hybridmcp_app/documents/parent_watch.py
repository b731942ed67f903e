"""Worker processes that end with their parent: a killed app leaves no parser running.

A pool worker waits for tasks on a pipe whose both ends it holds, so it never notices that its
parent is gone: after a ``kill -9`` of the app it would wait forever, and so would
multiprocessing's resource tracker, whose pipe the workers hold too. ``exit_with_parent`` (a
pool initializer) starts a thread that waits on multiprocessing's parent sentinel (on POSIX a
pipe only the parent holds, which the kernel closes when it dies; on Windows the parent's
process handle) and ends the worker at once when it fires. No polling, no Linux-only calls.
"""

from __future__ import annotations

import multiprocessing
import os
import threading

ORPHANED_EXIT_CODE = 3  # nobody waits for it; it only says why, to whoever traces the process


def exit_with_parent() -> None:
    """Run in a spawned worker: end this process as soon as its parent has ended."""
    parent = multiprocessing.parent_process()
    if parent is None:  # not a multiprocessing child: nothing to watch
        return
    threading.Thread(
        target=_exit_when_gone, args=(parent,), name="parent-watch", daemon=True
    ).start()


def _exit_when_gone(parent: multiprocessing.process.BaseProcess) -> None:
    parent.join()  # returns when the parent's sentinel fires: the parent process has ended
    os._exit(ORPHANED_EXIT_CODE)  # no clean-up: the results have nobody left to go to
