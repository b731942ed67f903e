"""``InLoopServer``: uvicorn inside the app's event loop (the shared library endpoint, the local
API)."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator

import uvicorn


class InLoopServer(uvicorn.Server):
    """uvicorn inside the app's event loop: the app keeps its own signal handlers. Start it with
    ``serve_bound``: uvicorn meets a port already in use with ``sys.exit(1)``, which would end
    the whole app, so the socket is bound here and a taken port is an ``OSError``."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def serve_bound(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        with listener:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((self.config.host, self.config.port))
            await self.serve(sockets=[listener])
