"""Icons MCP servers send for tools, resources and prompts (2025-11-25): which ones the app
shows and their bytes. ``data:`` URIs of image types are shown, decoded once and cached by
URI; ``https:`` icons are not fetched yet, ``http:`` and other schemes never are."""

from __future__ import annotations

import base64
import binascii
import urllib.parse
from collections.abc import Sequence

from hybridmcp_app.mcp_host.mcp_items import McpIcon

MAX_ICON_BYTES = 256 * 1024
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml"})


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


class McpIconCache:
    """The first showable icon of a list, decoded once per URI."""

    def __init__(self) -> None:
        self._decoded: dict[str, tuple[str, bytes] | None] = {}

    def image(self, icons: Sequence[McpIcon]) -> tuple[str, bytes] | None:
        for icon in icons:
            if icon.src not in self._decoded:
                self._decoded[icon.src] = data_uri_bytes(icon.src)
            found = self._decoded[icon.src]
            if found is not None:
                return found
        return None
