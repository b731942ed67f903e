"""The client end of what this package serves: Streamable HTTP with our headers (the bearer
token), used by the MCP host for remote servers and by a ``documents`` server relaying to the
app's shared library."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client


@asynccontextmanager
async def streamable_http(
    url: str, headers: dict[str, str], auth: httpx2.Auth | None = None
) -> AsyncIterator[Any]:
    """Streamable HTTP with our headers (and ``auth``: an OAuth sign-in); the HTTP client we
    make is ours to close."""
    async with (
        create_mcp_http_client(headers=headers or None, auth=auth) as http_client,
        streamable_http_client(url, http_client=http_client) as streams,
    ):
        yield streams
