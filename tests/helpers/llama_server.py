"""llama-cpp-python's OpenAI-compatible server on 127.0.0.1: the real "provider" in tests."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from hybridmcp_app.core.llm_configs import ProviderConfig
from tests.helpers.processes import stop
from tests.helpers.waiting import PATIENCE_S


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class LlamaServer:
    base_url: str
    api_key: str
    process: subprocess.Popen[bytes]


def _ready(base_url: str, api_key: str) -> bool:
    request = urllib.request.Request(
        f"{base_url}/models", headers={"Authorization": f"Bearer {api_key}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=1) as response:
            return bool(json.loads(response.read()).get("data"))
    except (urllib.error.URLError, OSError, ValueError):
        return False


@contextmanager
def llama_server(
    model: Path,
    *,
    api_key: str,
    port: int | None = None,
    threads: int = 1,
    batch_threads: int = 1,
    n_ctx: int = 2048,
    module: str = "llama_cpp.server",
    chat_format: str = "gemma",
) -> Iterator[LlamaServer]:
    """Start the server (``python -m module``), wait until ``/v1/models`` answers (about
    2 s), stop it afterwards."""
    port = port or free_port()
    command = [
        sys.executable, "-m", module,
        "--model", str(model), "--host", "127.0.0.1", "--port", str(port),
        "--chat_format", chat_format, "--n_ctx", str(n_ctx),
        "--n_threads", str(threads), "--n_threads_batch", str(batch_threads),
        # A second concurrent request would otherwise silently cut off the first.
        "--interrupt_requests", "False",
        "--api_key", api_key, "--verbose", "False",
    ]  # fmt: skip
    # Its log goes to a file: a pipe nobody reads fills up and blocks the server.
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        base_url = f"http://127.0.0.1:{port}/v1"
        try:
            deadline = time.monotonic() + PATIENCE_S
            while not _ready(base_url, api_key):
                if process.poll() is not None:
                    log.seek(0)
                    output = log.read().decode(errors="replace")
                    raise RuntimeError(f"llama_cpp.server exited: {output[-2000:]}")
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"llama_cpp.server did not answer /v1/models within {PATIENCE_S:g} s"
                    )
                time.sleep(0.1)
            yield LlamaServer(base_url, api_key, process)
        finally:
            stop(process)


def provider_config(base_url: str, **extra: object) -> ProviderConfig:
    """The llama.cpp server as a configured provider (its model answers to "gemma"), with
    patient deadlines: on a busy machine its first token may take a while."""
    return ProviderConfig.model_validate({
        "name": "provider", "base_url": base_url, "default_model": "gemma",
        "timeout_s": PATIENCE_S, "first_token_timeout_s": PATIENCE_S, **extra,
    })  # fmt: skip
