"""Our HTTP endpoints asked what a web page after DNS rebinding, a stranger without the token
and a rightful client would ask, over real sockets; and our MCP servers started with ``--http``
on any loopback address."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.helpers.llama_server import free_port
from tests.helpers.processes import stop
from tests.helpers.waiting import PATIENCE_S

FOREIGN_HOST = "evil.example"
MCP_ACCEPT = "application/json, text/event-stream"
# What each probe of ``refusals`` must get.
REFUSED = {"foreign Host": 421, "foreign Origin": 403, "missing token": 401, "wrong token": 401}
REFUSAL_STATUSES = (401, 403, 421)


def post(
    url: str,
    body: bytes = b"{}",
    *,
    authorization: str | None = None,
    host: str | None = None,
    origin: str | None = None,
    session: str | None = None,
) -> httpx.Response:
    """A POST as a client sends it; ``host`` and ``origin`` forge those headers."""
    headers = {"Content-Type": "application/json", "Accept": MCP_ACCEPT}
    for name, value in (("Authorization", authorization), ("Host", host), ("Origin", origin),
                        ("Mcp-Session-Id", session)):  # fmt: skip
        if value is not None:
            headers[name] = value
    with httpx.Client(timeout=PATIENCE_S) as client:
        return client.post(url, content=body, headers=headers)


def refusals(url: str, token: str, body: bytes = b"{}") -> dict[str, int]:
    """The status of each request that must be refused: from a page whose name was pointed at
    this machine (its own Host, or its Origin), and without the right token."""
    port = urlsplit(url).port
    right = f"Bearer {token}"
    return {
        "foreign Host": post(
            url, body, authorization=right, host=f"{FOREIGN_HOST}:{port}"
        ).status_code,
        "foreign Origin": post(
            url, body, authorization=right, origin=f"http://{FOREIGN_HOST}:{port}"
        ).status_code,
        "missing token": post(url, body).status_code,
        "wrong token": post(url, body, authorization="Bearer not-the-token").status_code,
    }


def mcp_message(method: str, params: dict[str, Any] | None = None, id_: int | None = 1) -> bytes:
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        message["params"] = params
    if id_ is not None:
        message["id"] = id_
    return json.dumps(message).encode()


def mcp_session(url: str, authorization: str) -> str:
    """Initialise an MCP session over Streamable HTTP as a rightful client; its id."""
    hello = mcp_message("initialize", {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "probe", "version": "1"},
    })  # fmt: skip
    answer = post(url, hello, authorization=authorization)
    assert answer.status_code == 200, answer.text
    session = answer.headers["mcp-session-id"]
    done = post(url, mcp_message("notifications/initialized", id_=None),
                authorization=authorization, session=session)  # fmt: skip
    assert done.status_code == 202, done.text
    return session


def _accepts(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError:
        return False
    return True


@contextmanager
def mcp_server_over_http(
    module_args: Sequence[str],
    host: str,
    env: Mapping[str, str],
    cwd: Path,
    timeout_s: float = PATIENCE_S,
) -> Iterator[str]:
    """``python -m <module_args> --http --host <host> --port N`` running; yields its URL."""
    port = free_port()
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [sys.executable, "-m", *module_args, "--http", "--host", host, "--port", str(port)],
            cwd=cwd, env=dict(env), stdout=subprocess.DEVNULL, stderr=log,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + timeout_s
            while not _accepts(host, port):
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    tail = log.read().decode(errors="replace")[-2000:]
                    raise RuntimeError(f"{module_args[0]} did not start over HTTP:\n{tail}")
                time.sleep(0.1)
            yield f"http://{host}:{port}/mcp"
        finally:
            stop(process)
