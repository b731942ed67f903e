"""An HTTP server on 127.0.0.1 that fails the way remote providers do (only for failures that
would otherwise need the internet: unknown models, rate limits, broken or malformed streams)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.helpers.loopback_http import serving


@dataclass
class Reply:
    """One scripted answer: a status with a JSON body, or an SSE stream (maybe broken)."""

    status: int = 200
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    sse: list[str] | None = None  # raw data lines; the connection closes after them


def chunk(text: str, finish: str | None = None) -> str:
    return json.dumps(
        {
            "id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "fake",
            "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}],
        }
    )  # fmt: skip


class FailingProvider:
    """Serves the scripted replies in order (the last one repeats); records each request."""

    def __init__(self, replies: list[Reply]) -> None:
        self.replies = replies
        self.requests: list[dict[str, Any]] = []
        self.base_url = ""

    def next_reply(self) -> Reply:
        index = min(len(self.requests) - 1, len(self.replies) - 1)
        return self.replies[index]


def _handler(provider: FailingProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def do_GET(self) -> None:
            self._answer()

        def do_POST(self) -> None:
            self._answer()

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            payload = self.rfile.read(length) if length else b""
            provider.requests.append(
                {"path": self.path, "time": time.monotonic(),
                 "body": json.loads(payload) if payload else None}
            )  # fmt: skip
            reply = provider.next_reply()
            time.sleep(reply.delay_s)
            try:
                if reply.sse is not None:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.send_header("Connection", "close")
                    self.end_headers()
                    for line in reply.sse:
                        self.wfile.write(f"data: {line}\n\n".encode())
                        self.wfile.flush()
                    self.close_connection = True
                    return
                data = json.dumps(reply.body or {}).encode()
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout tests)

    return Handler


@contextmanager
def failing_provider(replies: list[Reply]) -> Iterator[FailingProvider]:
    provider = FailingProvider(replies)
    with serving(_handler(provider)) as address:
        provider.base_url = f"{address}/v1"
        yield provider
