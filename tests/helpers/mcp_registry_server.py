"""An MCP Registry on 127.0.0.1: the API v0.1 list and details endpoints over ``server.json``
documents the test writes, with the official registry's paging and search.

``GET /v0.1/servers?search=&limit=&cursor=&version=latest`` answers a ``ServerList``
(``servers``: ``{"server": …, "_meta": …}``, ``metadata``: ``nextCursor``, ``count``), searching
names and descriptions case-insensitively; ``GET /v0.1/servers/{name}/versions/latest`` answers
one ``ServerResponse`` or 404. ``raw`` replaces every answer with other bytes (malformed JSON,
an endless body, a redirect) to play a hostile registry. Every request is recorded.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.helpers.loopback_http import serving

LIST = "/v0.1/servers"


@dataclass
class RawAnswer:
    """An answer other than the API's: ``status``, ``headers`` and ``body``, repeated
    ``repeat`` times (a body of 1 MiB repeated 64 times: a 64 MiB answer, sent lazily)."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    repeat: int = 1
    sent: int = 0  # bytes written before the client hung up


@dataclass
class RegistryServer:
    """What the registry holds, an answer to play instead, and the requests it saw."""

    documents: list[dict[str, Any]] = field(default_factory=list)
    raw: RawAnswer | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, path: str, query: dict[str, str]) -> tuple[int, Any]:
        if path == LIST:
            return 200, self._list(query)
        prefix, suffix = LIST + "/", "/versions/latest"
        if path.startswith(prefix) and path.endswith(suffix):
            name = urllib.parse.unquote(path[len(prefix) : -len(suffix)])
            found = [d for d in self.documents if d.get("name") == name]
            if found:
                return 200, _response(found[0])
        return 404, {"title": "Not Found", "status": 404, "detail": "Server not found"}

    def _list(self, query: dict[str, str]) -> dict[str, Any]:
        wanted = query.get("search", "").lower()
        matches = [
            d for d in self.documents
            if wanted in str(d.get("name", "")).lower()
            or wanted in str(d.get("description", "")).lower()
        ]  # fmt: skip
        start = int(query.get("cursor", "0") or 0)
        limit = min(int(query.get("limit", "30")), 100)
        page = matches[start : start + limit]
        metadata: dict[str, Any] = {"count": len(page)}
        if start + limit < len(matches):
            metadata["nextCursor"] = str(start + limit)
        return {"servers": [_response(d) for d in page], "metadata": metadata}


def _response(document: dict[str, Any]) -> dict[str, Any]:
    official = {"status": "active", "publishedAt": "2026-01-10T09:00:00Z",
                "updatedAt": "2026-01-10T09:00:00Z", "isLatest": True}  # fmt: skip
    return {"server": document, "_meta": {"io.modelcontextprotocol.registry/official": official}}


def _handler(registry: RegistryServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            parts = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(parts.query))
            with registry.lock:
                registry.requests.append(
                    {"path": parts.path, "query": query, "headers": dict(self.headers)}
                )
            if registry.raw is not None:
                self._send_raw(registry.raw)
                return
            status, data = registry.answer(parts.path, query)
            body = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _send_raw(self, raw: RawAnswer) -> None:
            self.send_response(raw.status)
            for name, value in raw.headers.items():
                self.send_header(name, value)
            self.send_header("Connection", "close")
            self.end_headers()
            try:
                for _ in range(raw.repeat):
                    self.wfile.write(raw.body)
                    raw.sent += len(raw.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client stopped reading: what a size limit does
            self.close_connection = True

    return Handler


@contextmanager
def registry_serving(registry: RegistryServer) -> Iterator[str]:
    """Serve ``registry`` until the block ends; yields its base URL."""
    with serving(_handler(registry)) as url:
        yield url
