"""Fetching the ``https:`` icons ``mcp_icons`` allows: nothing but a plain GET.

No cookies, credentials or auth headers are sent; redirects are followed within the icon's own
origin only (at most ``MAX_REDIRECTS``); the whole fetch has ``FETCH_TIMEOUT_S``; at most
``MAX_ICON_BYTES`` are read (the download stops there); what comes back must be an image of an
allowed type that ``decodes``. Results are kept in memory for the session, and good icons also
on disk (keyed by the URL's sha256, written through ``SafeDir``): a fresh copy is used without
asking, a stale one when the site cannot be reached (offline).
"""

from __future__ import annotations

import asyncio
import hashlib
import http.cookiejar
import logging
import ssl
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from hybridmcp_app.core.frozen_model import FrozenModel
from hybridmcp_app.services.mcp_icons import MAX_ICON_BYTES, NOT_AN_IMAGE, origin_of, sniff_image
from hybridmcp_app.workspace.safe_files import SafeDir

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("hybridmcp.mcp.icons")

FETCH_TIMEOUT_S = 10.0
MAX_REDIRECTS = 3
DISK_FRESH_S = 7 * 24 * 3600.0
CACHE_HINT = "the icon cache must be a plain folder; remove the link"

# ``decodes(data, media)``: whether the image decodes (the UI's decoder; run in a thread).
Decodes = Callable[[bytes, str], bool]


class FetchedIcon(FrozenModel):
    """An icon's bytes and type, or why it could not be had."""

    media: str = ""
    data: bytes = b""
    problem: str = ""


class _Refused(Exception):
    """The fetch broke a rule (the message says which)."""


class McpIconFetcher:
    """One per app. ``cache_dir``: where icons are kept between sessions (None: memory only);
    ``verify``: the TLS trust (True: the system's, as ``httpx`` finds it)."""

    def __init__(
        self,
        cache_dir: Path | None,
        *,
        verify: ssl.SSLContext | bool = True,
        timeout_s: float = FETCH_TIMEOUT_S,
        fresh_s: float = DISK_FRESH_S,
    ) -> None:
        self._cache_dir, self._verify = cache_dir, verify
        self._timeout_s, self._fresh_s = timeout_s, fresh_s
        self._known: dict[str, FetchedIcon] = {}
        self._running: dict[str, asyncio.Task[FetchedIcon]] = {}

    def result(self, url: str) -> FetchedIcon | None:
        """What a fetch of ``url`` gave this session; None before one finished."""
        return self._known.get(url)

    async def fetch(self, url: str, decodes: Decodes | None = None) -> FetchedIcon:
        """The icon at ``url`` (one fetch at a time per URL; a failure is logged once)."""
        if url in self._known:
            return self._known[url]
        task = self._running.get(url)
        if task is None:
            task = asyncio.create_task(self._load(url, decodes), name="mcp-icon-fetch")
            self._running[url] = task
            task.add_done_callback(lambda _task: self._running.pop(url, None))
        found = await asyncio.shield(task)
        if url not in self._known:
            self._known[url] = found
            if found.problem:
                log.info("MCP server icon %s not shown: %s", url, found.problem)
        return found

    async def _load(self, url: str, decodes: Decodes | None) -> FetchedIcon:
        kept = await asyncio.to_thread(self._read_disk, url)
        if kept is not None and kept[1]:
            found = await self._checked(kept[0], decodes)
            if not found.problem:
                return found
        try:
            async with asyncio.timeout(self._timeout_s):
                data = await self._download(url)
        except TimeoutError:
            problem = f"it took longer than {self._timeout_s:g} s"
        except _Refused as error:
            problem = str(error)
        except Exception as error:  # httpx's, TLS and socket errors: an icon never breaks a view
            problem = f"{type(error).__name__}: {error}".rstrip(": ")
        else:
            found = await self._checked(data, decodes)
            if not found.problem:
                await asyncio.to_thread(self._write_disk, url, data)
            return found
        if kept is not None:  # offline, or the site fails: the copy from an earlier session
            found = await self._checked(kept[0], decodes)
            if not found.problem:
                return found
        return FetchedIcon(problem=problem)

    @staticmethod
    async def _checked(data: bytes, decodes: Decodes | None) -> FetchedIcon:
        media = sniff_image(data)
        if media is None:
            return FetchedIcon(problem=NOT_AN_IMAGE)
        try:
            decoded = decodes is None or await asyncio.to_thread(decodes, data, media)
        except Exception:  # a decoder's failure is the image's
            log.exception("decoding an MCP server icon failed")
            decoded = False
        if not decoded:
            return FetchedIcon(problem=f"it does not decode as {media}")
        return FetchedIcon(media=media, data=data)

    async def _download(self, url: str) -> bytes:
        import httpx  # with the first icon, not at start-up

        if self._verify is True:  # the system's trust, made once (loading it takes a moment)
            self._verify = await asyncio.to_thread(httpx.create_ssl_context)
        cookies = http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        headers = {"Accept": "image/*", "Accept-Encoding": "identity"}
        async with httpx.AsyncClient(
            verify=self._verify,
            cookies=cookies,
            headers=headers,
            follow_redirects=False,
            timeout=self._timeout_s,
        ) as client:
            current = url
            for _hop in range(MAX_REDIRECTS + 1):
                async with client.stream("GET", current) as response:
                    if response.is_redirect:
                        current = urllib.parse.urljoin(current, response.headers["location"])
                        if origin_of(current) != origin_of(url):
                            raise _Refused("it redirects to another site")
                        continue
                    if response.status_code != 200:
                        raise _Refused(f"the site answered HTTP {response.status_code}")
                    return await _limited(response)
        raise _Refused(f"it redirects more than {MAX_REDIRECTS} times")

    def _folder(self) -> SafeDir | None:
        if self._cache_dir is None:
            return None
        top = SafeDir.open(self._cache_dir.parent, hint=CACHE_HINT)
        try:
            return top.folder(self._cache_dir.name, create=True)
        finally:
            top.close()

    def _read_disk(self, url: str) -> tuple[bytes, bool] | None:
        """The kept copy of ``url`` and whether it is fresh; None when there is none."""
        name = _disk_name(url)
        try:
            folder = self._folder()
            if folder is None:
                return None
            with folder:
                facts = folder.regular(name)
                if facts is None:
                    return None
                data = folder.read(name, limit=MAX_ICON_BYTES)
        except OSError as error:
            log.info("the MCP icon cache could not be read: %s", error)
            return None
        if len(data) > MAX_ICON_BYTES:
            return None
        return data, time.time() - facts.st_mtime < self._fresh_s

    def _write_disk(self, url: str, data: bytes) -> None:
        try:
            folder = self._folder()
            if folder is not None:
                with folder:
                    folder.write(_disk_name(url), data)
        except OSError as error:
            log.info("the MCP icon cache could not be written: %s", error)


async def _limited(response: httpx.Response) -> bytes:
    """The body of a response, refused past ``MAX_ICON_BYTES`` (reading stops there)."""
    length = response.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_ICON_BYTES:
        raise _Refused(f"it is larger than {MAX_ICON_BYTES // 1024} KiB")
    chunks: list[bytes] = []
    total = 0
    async for chunk in response.aiter_raw():
        total += len(chunk)
        if total > MAX_ICON_BYTES:
            raise _Refused(f"it is larger than {MAX_ICON_BYTES // 1024} KiB")
        chunks.append(chunk)
    return b"".join(chunks)


def _disk_name(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()
