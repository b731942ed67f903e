"""The loopback redirect of a sign-in (RFC 8252 §7.3): a one-shot HTTP listener on 127.0.0.1.

It listens on a random port from the moment it is made (so the redirect URI can be registered),
learns the ``state`` the authorization request carries, and takes the first callback that brings
that state back with a code. Anything else gets an error page and changes nothing: a callback
with another state, a Host header other than ``127.0.0.1:PORT`` (DNS rebinding), another path,
and every hit after the first good one. Then it stops listening.
"""

from __future__ import annotations

import asyncio
import html
import logging
import secrets
import threading
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from hybridmcp_app.mcp_host.oauth_state import SignInFailed

log = logging.getLogger("hybridmcp.mcp.oauth")
CALLBACK_PATH = "/callback"
DONE_PAGE = "<p>Signed in to {what}. You can close this tab and return to HybridMCP.</p>"


@dataclass(frozen=True)
class Callback:
    """What the authorization server sent back through the browser."""

    code: str
    state: str
    iss: str | None = None


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        status, text = self.server.owner.receive(self.headers.get("Host", ""), self.path)
        body = f"<!doctype html><meta charset=utf-8><title>HybridMCP</title>{text}".encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # never the code in a log
        log.debug("loopback redirect: %s", self.command)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, owner: LoopbackRedirect) -> None:
        self.owner = owner
        super().__init__(("127.0.0.1", 0), _Handler)


class LoopbackRedirect:
    """One sign-in's redirect target. Use as an async context manager; ``redirect_uri`` to
    register, ``expect(authorization_url)`` before the browser opens, then ``wait()``."""

    def __init__(self, what: str = "the server") -> None:
        self._what = what
        self._server = _Server(self)
        self.port = int(self._server.server_address[1])
        self.redirect_uri = f"http://127.0.0.1:{self.port}{CALLBACK_PATH}"
        self._lock = threading.Lock()
        self._state: str | None = None
        self._result: Callback | SignInFailed | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._arrived = asyncio.Event()
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="oauth-loopback", daemon=True
        )

    async def __aenter__(self) -> LoopbackRedirect:
        self._loop = asyncio.get_running_loop()
        self._thread.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Stop listening (a later hit is refused by the system: nothing listens)."""
        if self._thread.is_alive():
            await asyncio.to_thread(self._server.shutdown)
        self._server.server_close()

    def expect(self, authorization_url: str) -> None:
        """Learn the ``state`` of the authorization request about to open in the browser."""
        state = parse_qs(urlsplit(authorization_url).query).get("state", [""])[0]
        if not state:
            raise SignInFailed("the authorization request carries no state")
        with self._lock:
            self._state = state

    async def wait(self) -> Callback:
        """The first good callback; the listener stops before this returns."""
        await self._arrived.wait()
        await self.close()
        if isinstance(self._result, SignInFailed):
            raise self._result
        assert self._result is not None
        return self._result

    def receive(self, host: str, target: str) -> tuple[HTTPStatus, str]:
        """Judge one request (on the listener's thread): the answer's status and page."""
        if host != f"127.0.0.1:{self.port}":
            return HTTPStatus.BAD_REQUEST, "<p>Wrong address.</p>"
        parts = urlsplit(target)
        if parts.path != CALLBACK_PATH:
            return HTTPStatus.NOT_FOUND, "<p>Not found.</p>"
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        with self._lock:
            if self._result is not None:
                return HTTPStatus.GONE, "<p>This sign-in is already complete.</p>"
            expected = self._state
            state = query.get("state", "")
            if expected is None or not secrets.compare_digest(state, expected):
                log.warning("loopback redirect: a callback with an unknown state was refused")
                return HTTPStatus.BAD_REQUEST, "<p>This sign-in link is not HybridMCP's.</p>"
            code = query.get("code")
            if "error" in query or not code:
                why = query.get("error_description") or query.get("error") or "no code"
                self._result = SignInFailed(f"the authorization server refused: {why[:200]}")
                page = f"<p>Sign-in refused: {html.escape(why[:200])}</p>"
            else:
                self._result = Callback(code=code, state=state, iss=query.get("iss"))
                page = DONE_PAGE.format(what=html.escape(self._what))
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._arrived.set)
        return HTTPStatus.OK, page
