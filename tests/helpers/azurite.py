"""Azure Blob Storage for tests: Azurite (Microsoft's emulator, from npm) on a free port of
127.0.0.1. It rejects the current SDK's API versions unless ``--skipApiVersionCheck``; its
binary is run directly so that there is one process to stop."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from tests.helpers.llama_server import free_port
from tests.helpers.npm_packages import npm_binary
from tests.helpers.processes import stop, wait_for_port

AZURITE_VERSION = "3.35.0"
ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def connection_string(port: int, key: str = KEY) -> str:
    """Azurite's well-known development account (the key is public, documented by Microsoft)."""
    return (
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={key};"
        f"BlobEndpoint=http://127.0.0.1:{port}/{ACCOUNT};"
    )


@contextmanager
def azurite() -> Iterator[int]:
    """A running blob endpoint; yields its port."""
    binary = npm_binary("azurite", AZURITE_VERSION, "azurite-blob")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="hybridmcp-azurite-") as location:
        process = subprocess.Popen(
            [str(binary), "--blobHost", "127.0.0.1", "--blobPort", str(port), "--location",
             location, "--skipApiVersionCheck", "--disableTelemetry", "--silent"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_for_port(process, port, "Azurite")
            yield port
        finally:
            stop(process)
