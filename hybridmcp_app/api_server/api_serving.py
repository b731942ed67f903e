"""Serving the API inside the app's event loop (uvicorn, 127.0.0.1 by default)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import uvicorn

from hybridmcp_app.api_server.openai_api import OpenAIApi
from hybridmcp_app.http_serving.in_loop_server import InLoopServer


@contextlib.asynccontextmanager
async def serving(api: OpenAIApi, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[int]:
    """Serve ``api`` until the block ends; yields the port it listens on (0: a free one)."""
    config = uvicorn.Config(api.app, host=host, port=port, log_level="warning")
    server = InLoopServer(config)
    task = asyncio.create_task(server.serve_bound(), name="openai-api")
    try:
        while not server.started:
            if task.done():
                task.result()  # its error (the port is taken…)
                raise OSError(f"the API server on {host}:{port} stopped before it started")
            await asyncio.sleep(0.02)
        yield int(server.servers[0].sockets[0].getsockname()[1])
    finally:
        server.should_exit = True
        await asyncio.gather(task, return_exceptions=True)
