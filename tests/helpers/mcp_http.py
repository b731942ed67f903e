"""An MCP server subprocess serving Streamable HTTP, for the tests of our servers."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from tests.helpers.processes import stop
from tests.helpers.waiting import PATIENCE_S


def status_of(url: str, token: str | None = None) -> int | None:
    """The HTTP status of a bare POST; None while nothing listens (a refused connection)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(url, data=b"{}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=PATIENCE_S) as reply:
            return int(reply.status)
    except urllib.error.HTTPError as error:
        error.close()
        return error.code
    except OSError:
        return None


@contextmanager
def http_server(
    module_args: Sequence[str],
    port: int,
    env: Mapping[str, str],
    cwd: Path,
    timeout_s: float = PATIENCE_S,
) -> Iterator[str]:
    """``python -m <module_args> --http --port N`` running; yields its URL on 127.0.0.1."""
    process = subprocess.Popen(
        [sys.executable, "-m", *module_args, "--http", "--port", str(port)],
        cwd=cwd, env=dict(env), stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        deadline = time.monotonic() + timeout_s
        while status_of(url) is None:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{module_args[0]} did not start over HTTP")
            time.sleep(0.1)
        yield url
    finally:
        stop(process)
