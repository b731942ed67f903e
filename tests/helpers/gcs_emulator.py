"""Google Cloud Storage for tests: ``gcp-storage-emulator`` (PyPI) on a free port of 127.0.0.1,
in memory. gcsfs 2026.x tries gRPC bucket lookups that take 40-86 s a call against it unless
``GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT=false`` is set before gcsfs is imported (``GCS_ENV``)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.helpers.llama_server import free_port
from tests.helpers.processes import stop, wait_for_port

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
        wait_for_port(process, port, "gcp-storage-emulator")
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)
