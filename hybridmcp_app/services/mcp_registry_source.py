"""The official MCP Registry as an optional, live source for "Add from catalogue…".

It speaks the Registry API v0.1 (OpenAPI "2025-12-01" of modelcontextprotocol/registry, the
stable twin of ``/v0``): ``GET /v0.1/servers?search=…&limit=…&cursor=…&version=latest`` pages
through ``servers`` with ``metadata.nextCursor``, and ``GET /v0.1/servers/{name}/versions/latest``
gives one server. Each ``server.json`` becomes catalogue entries (``mcp_registry_entries``).

Nothing is asked until the user searches. Only a plain GET goes out: no cookies, no credentials,
no redirects followed; the address is ``https`` (or ``http://127.0.0.1``, for tests); each
request has ``TIMEOUT_S`` in all and at most ``MAX_ANSWER_BYTES`` are read. A network failure,
time-out or HTTP error raises ``RegistryUnreachable``; a huge or malformed answer
``RegistryAnswerRefused``; both with a one-line reason.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import json
import logging
import re
import ssl
import urllib.parse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hybridmcp_app.core.errors import ConfigError, HybridMCPError
from hybridmcp_app.services.mcp_registry_entries import (
    RegistryServer,
    Unmappable,
    server_from_json,
)

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("hybridmcp.mcp.registry")

API = "/v0.1/servers"
PAGE_SIZE = 30
MAX_PAGE_SERVERS = 100
TIMEOUT_S = 20.0
MAX_ANSWER_BYTES = 4 * 1024 * 1024
ADDRESS = re.compile(
    r"^(https://[A-Za-z0-9.-]+(:\d{1,5})?|http://127\.0\.0\.1(:\d{1,5})?)(/[^\s?#]*)?$"
)


class RegistryError(HybridMCPError):
    """The registry could not be used; the message says why, in one line."""


class RegistryUnreachable(RegistryError):
    """No answer: no network, the name does not resolve, a time-out, or an HTTP error."""


class RegistryAnswerRefused(RegistryError):
    """An answer came but is not one to use: too large, not JSON, not the API's shape."""


def check_registry_url(url: str) -> str:
    """``url`` without a trailing slash; ``ConfigError`` unless it is ``https://host[/path]``
    (or ``http://127.0.0.1``), with no query, fragment or user name."""
    url = url.strip().rstrip("/")
    if not ADDRESS.match(url):
        raise ConfigError(f"the MCP Registry address {url[:80]!r} must be https://host[/path]")
    return url


@dataclass(frozen=True)
class RegistryPage:
    """One page of a search: the servers, the cursor of the next page (None: the last), and
    the documents that were left out whole (malformed), with why."""

    servers: tuple[RegistryServer, ...]
    next_cursor: str | None
    skipped: tuple[str, ...] = ()


def _why(error: Exception) -> str:
    """A failed connection, in words (DNS, refused, TLS), from the exception chain."""
    seen: Exception | BaseException | None = error
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return f"its TLS certificate is not trusted ({seen.reason or seen})"
        text = str(seen)
        if "Name or service not known" in text or "nodename nor servname" in text or (
            "getaddrinfo" in text or "Temporary failure in name resolution" in text
        ):  # fmt: skip
            return "its name does not resolve (no network, or no DNS)"
        if isinstance(seen, ConnectionRefusedError) or "Connection refused" in text:
            return "the connection was refused"
        seen = seen.__cause__ or seen.__context__
    return (f"{type(error).__name__}: {error}".rstrip(": "))[:200]


def _page(data: Any) -> RegistryPage:
    """Map a ``ServerList`` answer (blocking: run in a thread)."""
    if not isinstance(data, dict) or not isinstance(data.get("servers"), list):
        raise RegistryAnswerRefused("its answer is not a list of servers")
    items = data["servers"]
    if len(items) > MAX_PAGE_SERVERS:
        raise RegistryAnswerRefused(f"it sent {len(items)} servers for one page")
    servers: list[RegistryServer] = []
    skipped: list[str] = []
    for item in items:
        try:
            servers.append(_server(item))
        except Unmappable as reason:
            skipped.append(str(reason))
    metadata = data.get("metadata")
    cursor = metadata.get("nextCursor") if isinstance(metadata, dict) else None
    if not isinstance(cursor, str) or not cursor or len(cursor) > 2000 or not cursor.isprintable():
        cursor = None
    return RegistryPage(tuple(servers), cursor, tuple(skipped))


def _server(item: Any) -> RegistryServer:
    """A ``ServerResponse`` (``{"server": server.json, "_meta": …}``) as a server."""
    if not isinstance(item, dict) or not isinstance(item.get("server"), dict):
        raise Unmappable("an item that is not a server")
    return server_from_json(item["server"])


class McpRegistrySource:
    """Searches one registry. ``verify``: the TLS trust (True: the system's)."""

    def __init__(
        self,
        base_url: str,
        *,
        verify: ssl.SSLContext | bool = True,
        timeout_s: float = TIMEOUT_S,
        max_bytes: int = MAX_ANSWER_BYTES,
    ) -> None:
        self.base_url = check_registry_url(base_url)
        self._verify, self._timeout_s, self._max_bytes = verify, timeout_s, max_bytes

    async def search(
        self, query: str, cursor: str | None = None, limit: int = PAGE_SIZE
    ) -> RegistryPage:
        """Servers whose name (or description) holds ``query`` (all: empty), latest versions,
        one page; ``cursor``: the page after the one that gave it."""
        params = {"limit": str(limit), "version": "latest"}
        if query.strip():
            params["search"] = query.strip()[:200]
        if cursor:
            params["cursor"] = cursor
        data = await self._get(API, params)
        page = await asyncio.to_thread(_page, data)
        log.info("MCP Registry search %r: %d servers, %d left out%s", query, len(page.servers),
                 len(page.skipped), ", more to come" if page.next_cursor else "")  # fmt: skip
        return page

    async def details(self, name: str) -> RegistryServer:
        """The latest version of the server ``name`` (``io.github.user/weather``)."""
        quoted = urllib.parse.quote(name, safe="")
        data = await self._get(f"{API}/{quoted}/versions/latest", {}, missing=name)
        try:
            return await asyncio.to_thread(_server, data)
        except Unmappable as reason:
            raise RegistryAnswerRefused(
                f"its entry for {name[:80]} is malformed: {reason}"
            ) from None

    async def _get(self, path: str, params: dict[str, str], missing: str = "") -> Any:
        """The JSON answer to ``GET path?params``, within the time and size limits."""
        try:
            async with asyncio.timeout(self._timeout_s):
                body = await self._download(path, params, missing)
        except TimeoutError:
            raise RegistryUnreachable(f"no answer within {self._timeout_s:g} s") from None
        except RegistryError:
            raise
        except Exception as error:  # httpx's, TLS and socket errors
            raise RegistryUnreachable(_why(error)) from None
        try:
            return await asyncio.to_thread(json.loads, body)
        except (ValueError, RecursionError) as error:
            raise RegistryAnswerRefused(f"its answer is not JSON ({str(error)[:80]})") from None

    async def _download(self, path: str, params: dict[str, str], missing: str) -> bytes:
        import httpx  # with the first search, not at start-up

        if self._verify is True and self.base_url.startswith("https://"):
            self._verify = await asyncio.to_thread(httpx.create_ssl_context)
        no_cookies = http.cookiejar.CookieJar(
            http.cookiejar.DefaultCookiePolicy(allowed_domains=[])
        )
        headers = {"Accept": "application/json", "Accept-Encoding": "identity"}
        async with (
            httpx.AsyncClient(verify=self._verify, cookies=no_cookies, headers=headers,
                              follow_redirects=False, timeout=self._timeout_s) as client,
            client.stream("GET", self.base_url + path, params=params) as response,
        ):  # fmt: skip
            self._check_status(response, missing)
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self._max_bytes:
                raise RegistryAnswerRefused(self._too_large())
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > self._max_bytes:
                    raise RegistryAnswerRefused(self._too_large())
            return bytes(body)

    def _too_large(self) -> str:
        return f"its answer is larger than {self._max_bytes / 1024 / 1024:g} MiB"

    @staticmethod
    def _check_status(response: httpx.Response, missing: str) -> None:
        if response.status_code == 404 and missing:
            raise RegistryUnreachable(f"it has no server named {missing[:80]}")
        if response.is_redirect:
            where = response.headers.get("location", "")[:80]
            raise RegistryUnreachable(f"it redirects to {where!r}, which is not followed")
        if response.status_code != 200:
            raise RegistryUnreachable(
                f"it answered HTTP {response.status_code} {response.reason_phrase[:40]}".rstrip()
            )
