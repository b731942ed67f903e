"""A server on 127.0.0.1 that accepts connections, records what arrives and never finishes an
answer: a hung provider, or an attacker's server waiting for a key."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from tests.helpers.waiting import PATIENCE_S


@dataclass
class SilentServer:
    """``base_url`` for an OpenAI client; ``received`` holds the raw bytes of each connection."""

    base_url: str
    received: list[bytearray] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def requests(self) -> list[bytes]:
        with self.lock:
            return [bytes(data) for data in self.received]

    def saw(self, text: str) -> bool:
        """Whether ``text`` arrived in any request (headers or body)."""
        return any(text.encode() in data for data in self.requests())


@contextmanager
def silent_server(first_bytes: bytes = b"") -> Iterator[SilentServer]:
    """Serve until the block ends. ``first_bytes`` is sent once a request's headers are in (for
    example the start of an event stream), then nothing more."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = SilentServer(base_url=f"http://127.0.0.1:{port}/v1")
    connections: list[socket.socket] = []
    stop = threading.Event()

    def handle(connection: socket.socket) -> None:
        data = bytearray()
        with server.lock:
            server.received.append(data)
        answered = False
        while not stop.is_set():
            try:
                piece = connection.recv(65536)
            except OSError:
                return
            if not piece:
                return
            with server.lock:
                data.extend(piece)
            if first_bytes and not answered and b"\r\n\r\n" in data:
                answered = True
                connection.sendall(first_bytes)

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            connections.append(connection)
            threading.Thread(target=handle, args=(connection,), daemon=True).start()

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    try:
        yield server
    finally:
        stop.set()
        for each in (listener, *connections):  # shutdown wakes a thread blocked in accept/recv
            with contextlib.suppress(OSError):
                each.shutdown(socket.SHUT_RDWR)
            each.close()
        acceptor.join(timeout=PATIENCE_S)
