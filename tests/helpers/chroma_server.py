"""A real Chroma server (``chroma run``) on 127.0.0.1 for the library's client/server path."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.helpers.llama_server import free_port
from tests.helpers.processes import stop
from tests.helpers.waiting import PATIENCE_S


def chroma_cli() -> str:
    """The ``chroma`` command installed next to this Python (it comes with chromadb)."""
    beside = Path(sys.executable).parent / "chroma"
    found = str(beside) if beside.exists() else shutil.which("chroma")
    if found is None:
        raise RuntimeError("the chroma command is missing: pip install chromadb")
    return found


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def chroma_server(path: Path, port: int | None = None) -> Iterator[str]:
    """``chroma run --path PATH`` on a free port; yields its URL once its heartbeat answers."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    command = [chroma_cli(), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)]
    with tempfile.TemporaryFile() as log:  # a pipe nobody reads would fill up and block it
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + PATIENCE_S
            while not _ready(url):
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    output = log.read().decode(errors="replace")[-2000:]
                    raise RuntimeError(f"chroma run did not answer in {PATIENCE_S:g} s: {output}")
                time.sleep(0.05)
            yield url
        finally:
            stop(process)
