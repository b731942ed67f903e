"""A site serving MCP server icons over HTTPS on 127.0.0.1 (a CA made per test with trustme):
a PNG, an oversized one, redirects within and out of the site, an HTML page named ``.png``, a
cookie, and one that never finishes until released. Every request's headers are kept."""

from __future__ import annotations

import contextlib
import ssl
import struct
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import trustme

from tests.helpers.waiting import PATIENCE_S

RED = (255, 0, 0)


def png_bytes(rgb: tuple[int, int, int] = RED, size: int = 16) -> bytes:
    """A ``size``² PNG of one colour, made without an image library."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    rows = b"".join(b"\x00" + bytes(rgb) * size for _ in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def client_context(ca: trustme.CA) -> ssl.SSLContext:
    """A client's TLS context that trusts ``ca`` (and nothing else)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ca.configure_trust(context)
    return context


@dataclass
class IconSite:
    """What the site saw: each request's path and headers; ``release`` ends /slow.png."""

    url: str = ""
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def hits(self, path: str) -> int:
        return sum(1 for seen, _headers in self.requests if seen == path)


def _handler(site: IconSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: object) -> None:
            pass

        def do_GET(self) -> None:
            site.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
            # the client may stop reading (over the limit, out of time)
            with contextlib.suppress(BrokenPipeError, ConnectionResetError, ssl.SSLError):
                self._answer()

        def _answer(self) -> None:
            if self.path == "/icon.png":
                self._send(200, png_bytes(), "image/png")
            elif self.path == "/big.png":  # no Content-Length: the client must stop reading
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.end_headers()
                self.wfile.write(png_bytes())
                for _ in range(64):
                    self.wfile.write(b"\x00" * 16384)
            elif self.path in ("/moved.png", "/elsewhere.png", "/loop.png", "/cookie.png"):
                target = {
                    "/moved.png": "/icon.png",
                    "/elsewhere.png": site.url.replace("127.0.0.1", "localhost") + "/icon.png",
                    "/loop.png": "/loop.png",
                    "/cookie.png": "/icon.png",
                }[self.path]
                self.send_response(302)
                self.send_header("Location", target)
                self.send_header("Set-Cookie", "tracker=1; Path=/")
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif self.path == "/page.png":
                self._send(
                    200, b"<!DOCTYPE html><html><body>not an icon</body></html>", "image/png"
                )
            elif self.path == "/slow.png":
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", "4096")
                self.end_headers()
                self.wfile.write(png_bytes()[:16])
                self.wfile.flush()
                site.release.wait(PATIENCE_S)
            else:
                self._send(404, b"no such icon", "text/plain")

        def _send(self, status: int, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@contextmanager
def icon_site(ca: trustme.CA) -> Iterator[IconSite]:
    """The site on a free port of 127.0.0.1 (``https://127.0.0.1:PORT``) until the block ends."""
    site = IconSite()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
    server.daemon_threads = True
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(tls)
    server.socket = tls.wrap_socket(server.socket, server_side=True)
    site.url = f"https://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        site.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=PATIENCE_S)
