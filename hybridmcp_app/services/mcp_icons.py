"""Icons MCP servers send for tools, resources and prompts (2025-11-25): which ones the app
shows, and why the others are not.

Fetching an icon tells its host that this user runs this server, so:
- ``data:`` icons of image types are shown (decoded once per URI);
- ``https:`` icons on the origin of the remote server's own URL are fetched (that host already
  knows), others only when the user allows icons from other sites;
- any other scheme (``http:``, ``file:``, ``javascript:``…) or an address with credentials never.

Only PNG, JPEG, GIF, WebP and SVG are shown, recognised by their bytes.
"""

from __future__ import annotations

import base64
import binascii
import urllib.parse
from collections.abc import Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any, Literal

from hybridmcp_app.core.frozen_model import FrozenModel
from hybridmcp_app.mcp_host.mcp_items import McpIcon

if TYPE_CHECKING:
    from hybridmcp_app.services.mcp_icon_fetch import Decodes, McpIconFetcher

MAX_ICON_BYTES = 256 * 1024
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml"})
DEFAULT_PORTS = {"https": 443, "http": 80}
SETTING = "Settings → MCP servers → “Load MCP server icons from other sites”"
NOT_AN_IMAGE = "it is not a PNG, JPEG, GIF, WebP or SVG image"

IconRule = Literal["data", "fetch", "other-site", "never"]
Spawn = Callable[[Coroutine[Any, Any, None]], object]


def data_uri_bytes(src: str) -> tuple[str, bytes] | None:
    """A ``data:`` URI's media type and bytes; None for any other URI, a non-image type, a
    damaged URI or one over ``MAX_ICON_BYTES``."""
    if not src.startswith("data:") or "," not in src:
        return None
    header, _, payload = src[5:].partition(",")
    parts = header.split(";")
    media = parts[0].strip().lower() or "text/plain"
    if media not in IMAGE_TYPES or len(payload) > MAX_ICON_BYTES * 2:
        return None
    try:
        data = (
            base64.b64decode(payload, validate=True)
            if "base64" in parts[1:]
            else urllib.parse.unquote_to_bytes(payload)
        )
    except (binascii.Error, ValueError):
        return None
    return (media, data) if 0 < len(data) <= MAX_ICON_BYTES else None


def sniff_image(data: bytes) -> str | None:
    """The image type ``data`` starts as (PNG, JPEG, GIF, WebP or SVG); None for anything else
    (an HTML page named ``icon.png`` included)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    try:
        head = data[:4096].decode("utf-8-sig").lstrip().lower()
    except UnicodeDecodeError:
        return None
    starts_as_xml = head.startswith(("<svg", "<?xml", "<!--", "<!doctype svg"))
    return "image/svg+xml" if starts_as_xml and "<svg" in head and "<html" not in head else None


def origin_of(url: str) -> str | None:
    """``scheme://host:port`` of a URL (default ports filled in); None when it has no host."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if not parts.hostname:
        return None
    return f"{scheme}://{parts.hostname.lower()}:{port or DEFAULT_PORTS.get(scheme, 0)}"


def icon_rule(src: str, server_url: str | None, other_sites: bool) -> IconRule:
    """What the app may do with an icon at ``src`` of a server reached at ``server_url`` (None
    for a local server): show the data, fetch it, leave it (another site) or never touch it."""
    if src.startswith("data:"):
        return "data"
    try:
        parts = urllib.parse.urlsplit(src)
    except ValueError:
        return "never"
    if parts.scheme.lower() != "https" or not parts.hostname or parts.username or parts.password:
        return "never"
    if server_url is not None and origin_of(src) == origin_of(server_url):
        return "fetch"
    return "fetch" if other_sites else "other-site"


class IconChoice(FrozenModel):
    """The icon to draw (``data`` of type ``media``), the URL to fetch first, or why none is
    shown (the placeholder's tooltip)."""

    media: str = ""
    data: bytes = b""
    fetch: str = ""
    why: str = ""


def _never_why(src: str) -> str:
    scheme = src.partition(":")[0].lower() if ":" in src else "a relative address"
    if scheme == "https":
        return "Its icon is not loaded: its https: address carries a user name or password."
    return f"Its icon is not loaded: the app loads https: and data: icons only, not {scheme}:."


def _other_site_why(src: str) -> str:
    host = urllib.parse.urlsplit(src).hostname or "?"
    return (
        f"Its icon is on another site ({host}) and is not loaded: that site would learn that "
        f"you use this server. {SETTING} loads such icons."
    )


class McpIconSource:
    """The icons of one app: the rules above over the servers' URLs and the user's setting,
    ``data:`` icons decoded once, ``https:`` ones fetched by ``fetcher`` (None: never)."""

    def __init__(
        self,
        fetcher: McpIconFetcher | None = None,
        server_url: Callable[[str], str | None] = lambda _server: None,
        other_sites: Callable[[], bool] = lambda: False,
        spawn: Spawn | None = None,
    ) -> None:
        """``server_url(name)``: the URL of a remote server (None for a local one);
        ``other_sites()``: the setting; ``spawn(coro)`` runs a fetch in the background."""
        self._fetcher, self._server_url = fetcher, server_url
        self._other_sites, self._spawn = other_sites, spawn
        self._decoded: dict[str, tuple[str, bytes] | None] = {}
        self._waiting: dict[str, list[Callable[[], None]]] = {}  # fetches running, who waits

    def choose(self, server: str, icons: Sequence[McpIcon]) -> IconChoice:
        """The first icon of ``icons`` that can be shown now; else the first to fetch; else
        why none is shown."""
        url, other_sites = self._server_url(server), self._other_sites()
        whys: list[str] = []
        pending: IconChoice | None = None
        for icon in icons:
            rule = icon_rule(icon.src, url, other_sites)
            if rule == "data":
                found = self._data(icon.src)
                if found is not None:
                    return IconChoice(media=found[0], data=found[1])
                whys.append(f"Its icon is not shown: {NOT_AN_IMAGE}.")
            elif rule == "fetch":
                choice = self._fetched(icon.src)
                if choice.data:
                    return choice
                if choice.fetch:
                    pending = pending or choice
                else:
                    whys.append(choice.why)
            else:
                other = rule == "other-site"
                whys.append(_other_site_why(icon.src) if other else _never_why(icon.src))
        return pending or IconChoice(why=whys[0] if whys else "")

    def load(self, url: str, decodes: Decodes, done: Callable[[], None]) -> None:
        """Fetch ``url`` in the background (once per session); ``done()`` once it is known,
        for every caller that asked while it ran (each view draws its own rows again)."""
        if self._fetcher is None or self._spawn is None:
            return
        if self._fetcher.result(url) is not None:
            return
        waiting = self._waiting.get(url)
        if waiting is not None:
            if done not in waiting:
                waiting.append(done)
            return
        self._waiting[url] = [done]
        fetcher = self._fetcher

        async def fetch() -> None:
            try:
                await fetcher.fetch(url, decodes)
            finally:
                for waiter in self._waiting.pop(url, []):
                    waiter()

        self._spawn(fetch())

    def _data(self, src: str) -> tuple[str, bytes] | None:
        if src not in self._decoded:
            found = data_uri_bytes(src)
            media = sniff_image(found[1]) if found is not None else None
            self._decoded[src] = (media, found[1]) if found is not None and media else None
        return self._decoded[src]

    def _fetched(self, src: str) -> IconChoice:
        if self._fetcher is None:
            return IconChoice(why="Its icon is not loaded here.")
        result = self._fetcher.result(src)
        if result is None:
            return IconChoice(fetch=src, why="Loading its icon…")
        if result.problem:
            return IconChoice(why=f"Its icon could not be loaded: {result.problem}.")
        return IconChoice(media=result.media, data=result.data)
