"""An OpenAI-compatible provider on 127.0.0.1 that answers with the prompt it received.

What a strategy sends the provider becomes the reply, so a test (or the ``hybrid`` benchmark)
can check which facts survived compression without a capable model. It speaks chat completions
as the ``openai`` SDK uses them (a JSON reply, or server-sent events with a final usage chunk
when asked), lists one model, checks the bearer token, and reports ``usage`` honestly: the
prompt's and the reply's tokens counted by ``count_tokens`` (the project's estimate unless given).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from hybridmcp_app.core.token_estimate import estimate_tokens
from tests.helpers.loopback_http import serving

MODEL = "echo"


def prompt_text(messages: list[dict[str, Any]]) -> str:
    """The messages' text as the echo answers it: each content, a blank line between."""
    parts = []
    for message in messages:
        content = message.get("content") or ""
        if isinstance(content, list):  # content parts: only the text ones count
            content = "".join(part.get("text", "") for part in content)
        parts.append(str(content))
    return "\n\n".join(parts)


@dataclass
class EchoProvider:
    """The running server: its URL and key, and every prompt it was sent (and each request's
    body), in order."""

    api_key: str
    count_tokens: Callable[[str], int]
    base_url: str = ""
    prompts: list[str] = field(default_factory=list)
    bodies: list[dict[str, Any]] = field(default_factory=list)  # each request as sent
    lock: threading.Lock = field(default_factory=threading.Lock)

    def usage(self, prompt: str) -> dict[str, int]:
        tokens = self.count_tokens(prompt)
        return {"prompt_tokens": tokens, "completion_tokens": tokens, "total_tokens": 2 * tokens}


def _completion(prompt: str, usage: dict[str, int]) -> dict[str, Any]:
    return {
        "id": "echo-1", "object": "chat.completion", "created": 0, "model": MODEL,
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": prompt}}],
        "usage": usage,
    }  # fmt: skip


def _chunk(delta: dict[str, str], finish: str | None) -> dict[str, Any]:
    return {
        "id": "echo-1", "object": "chat.completion.chunk", "created": 0, "model": MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }  # fmt: skip


def _handler(provider: EchoProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def do_GET(self) -> None:
            if self._authorised():
                if self.path.rstrip("/").endswith("/models"):
                    self._json(200, {"object": "list", "data": [{"id": MODEL, "object": "model"}]})
                else:
                    self._error(404, f"no route {self.path}")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            payload = self.rfile.read(length) if length else b""
            if not self._authorised():
                return
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._error(404, f"no route {self.path}")
                return
            try:
                body = json.loads(payload)
                prompt = prompt_text(body["messages"])
            except (ValueError, KeyError, TypeError, AttributeError) as error:
                self._error(400, f"not a chat completion request: {error}")
                return
            with provider.lock:
                provider.prompts.append(prompt)
                provider.bodies.append(body)
            usage = provider.usage(prompt)
            if not body.get("stream"):
                self._json(200, _completion(prompt, usage))
                return
            events = [_chunk({"role": "assistant", "content": prompt}, None), _chunk({}, "stop")]
            if (body.get("stream_options") or {}).get("include_usage"):
                events.append({**_chunk({}, None), "choices": [], "usage": usage})
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            for event in events:
                self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
            self.close_connection = True

        def _authorised(self) -> bool:
            if self.headers.get("Authorization") == f"Bearer {provider.api_key}":
                return True
            self._error(401, "Incorrect API key provided", "invalid_api_key")
            return False

        def _error(self, status: int, message: str, code: str | None = None) -> None:
            error = {"message": message, "type": "invalid_request_error", "code": code}
            self._json(status, {"error": error})

        def _json(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


@contextmanager
def echo_provider(
    api_key: str = "echo-key", count_tokens: Callable[[str], int] = estimate_tokens
) -> Iterator[EchoProvider]:
    """Serve on a free port of 127.0.0.1 until the block ends."""
    provider = EchoProvider(api_key, count_tokens)
    with serving(_handler(provider)) as address:
        provider.base_url = f"{address}/v1"
        yield provider
