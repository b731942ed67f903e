"""The processes tests start: waiting until one listens, stopping it (terminate, wait, kill)."""

from __future__ import annotations

import socket
import subprocess
import time
from typing import Any

from tests.helpers.waiting import PATIENCE_S


def stop(process: subprocess.Popen[Any], grace_s: float = 10) -> None:
    """Terminate ``process``; kill it if it has not ended after ``grace_s`` (not a deadline: a
    slow end is cut short, never reported)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=PATIENCE_S)


def wait_for_port(
    process: subprocess.Popen[Any], port: int, what: str, timeout_s: float = PATIENCE_S
) -> None:
    """Return once ``process`` accepts connections on 127.0.0.1:``port``; raise if it exits or
    takes longer than ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start") from None
            time.sleep(0.2)
