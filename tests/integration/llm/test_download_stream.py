"""Reading a file's bytes over HTTP from a real server on 127.0.0.1: big reads where the body is
plain, httpx where it is not, and a connection read that way is never reused."""

from __future__ import annotations

import gzip
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from huggingface_hub import get_session

from hybridmcp_app.llm.model_hub.download import download_file
from hybridmcp_app.llm.model_hub.download_stream import READ_SIZE, ConnectionDropped, body_chunks
from hybridmcp_app.llm.model_hub.hub_client import HubClient, HubFile
from tests.helpers.loopback_http import serving

BODY = os.urandom(3 * READ_SIZE + 12345)
H11_READ = 64 * 1024  # what httpcore asks of the connection at a time


@dataclass
class Served:
    """How the server answers (``plain``, ``chunked``, ``gzip`` if asked for, ``short``), and
    each request it saw: its headers and the client's port (one per connection)."""

    mode: str = "plain"
    seen: list[dict[str, Any]] = field(default_factory=list)
    endpoint: str = ""


def _handler(served: Served) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def do_GET(self) -> None:
            served.seen.append({"headers": dict(self.headers), "port": self.client_address[1]})
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            wants_gzip = "gzip" in self.headers.get("Accept-Encoding", "")
            if served.mode == "chunked":
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for start in range(0, len(BODY), 100_000):
                    piece = BODY[start : start + 100_000]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.write(b"0\r\n\r\n")
                return
            body = gzip.compress(BODY, 1) if served.mode == "gzip" and wants_gzip else BODY
            if body is not BODY:
                self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(BODY if served.mode == "short" else body)))
            self.end_headers()
            if served.mode == "short":
                body, self.close_connection = body[: len(body) // 2], True
            self.wfile.write(body)

    return Handler


@pytest.fixture
def server() -> Iterator[Served]:
    served = Served()
    with serving(_handler(served)) as served.endpoint:
        yield served


def _read(url: str) -> list[bytes]:
    with get_session().stream("GET", url, headers={"Accept-Encoding": "identity"}) as response:
        return list(body_chunks(response))


def test_a_plain_body_is_read_whole_in_pieces_bigger_than_h11s(server: Served) -> None:
    chunks = _read(f"{server.endpoint}/file")
    assert b"".join(chunks) == BODY
    assert max(len(chunk) for chunk in chunks) > H11_READ


def test_a_connection_read_past_h11_is_not_reused_for_the_next_request(server: Served) -> None:
    assert b"".join(_read(f"{server.endpoint}/one")) == BODY
    assert b"".join(_read(f"{server.endpoint}/two")) == BODY
    assert server.seen[0]["port"] != server.seen[1]["port"]


def test_a_chunked_body_is_read_through_httpx_without_its_framing(server: Served) -> None:
    server.mode = "chunked"
    assert b"".join(_read(f"{server.endpoint}/file")) == BODY


def test_a_body_cut_short_by_the_server_is_reported_as_a_dropped_connection(
    server: Served,
) -> None:
    server.mode = "short"
    with pytest.raises(ConnectionDropped, match="closed the connection"):
        _read(f"{server.endpoint}/file")


def test_a_server_that_would_compress_the_file_is_asked_for_its_own_bytes(
    server: Served, tmp_path: Path
) -> None:
    server.mode = "gzip"
    file = HubFile(repo_id="someone/plain-GGUF", filename="plain-Q4_K_M.gguf", commit="c" * 40,
                   size=len(BODY), sha256=hashlib.sha256(BODY).hexdigest())  # fmt: skip
    path = download_file(HubClient(server.endpoint), file, tmp_path / "models")
    assert path.read_bytes() == BODY
    assert server.seen[-1]["headers"]["Accept-Encoding"] == "identity"
