"""Google Cloud Storage for tests: ``gcp-storage-emulator`` (PyPI) on a free port of 127.0.0.1,
in memory. gcsfs 2026.x tries gRPC bucket lookups that take 40-86 s a call against it unless
``GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT=false`` is set before gcsfs is imported (``GCS_ENV``)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.helpers.llama_server import free_port
from tests.helpers.processes import stop

GCS_ENV = {"GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT": "false"}


def gcs_options(endpoint: str) -> dict[str, str]:
    """gcsfs options for the emulator: its URL, no credentials."""
    return {"endpoint_url": endpoint, "token": "anon", "project": "hybridmcp-tests"}


@contextmanager
def gcs_emulator() -> Iterator[str]:
    """A running GCS endpoint; yields its URL."""
    os.environ.update(GCS_ENV)  # before gcsfs is first imported, in this process too
    script = Path(sys.executable).parent / "gcp-storage-emulator"
    port = free_port()
    process = subprocess.Popen(
        [str(script), "start", "--host", "127.0.0.1", "--port", str(port), "--in-memory"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("gcp-storage-emulator did not start") from None
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)
