"""Which server icons are shown: data: URIs of images only, never a URL to fetch."""

from __future__ import annotations

import base64

from hybridmcp_app.mcp_host.mcp_items import McpIcon
from hybridmcp_app.services.mcp_icons import MAX_ICON_BYTES, McpIconCache, data_uri_bytes

PNG_HEADER = b"\x89PNG\r\n\x1a\n"


def data_uri(media: str, data: bytes) -> str:
    return f"data:{media};base64,{base64.b64encode(data).decode('ascii')}"


def test_a_base64_image_data_uri_gives_its_type_and_bytes() -> None:
    assert data_uri_bytes(data_uri("image/png", PNG_HEADER)) == ("image/png", PNG_HEADER)


def test_a_percent_encoded_svg_data_uri_is_decoded() -> None:
    assert data_uri_bytes("data:image/svg+xml,%3Csvg%2F%3E") == ("image/svg+xml", b"<svg/>")


def test_urls_other_types_damaged_and_oversized_icons_are_not_shown() -> None:
    assert data_uri_bytes("https://example.com/icon.png") is None
    assert data_uri_bytes("http://127.0.0.1/icon.png") is None
    assert data_uri_bytes(data_uri("text/html", b"<script>")) is None
    assert data_uri_bytes("data:image/png;base64,@@@") is None
    assert data_uri_bytes(data_uri("image/png", b"x" * (MAX_ICON_BYTES + 1))) is None


def test_the_first_showable_icon_of_a_list_is_chosen_and_cached() -> None:
    cache = McpIconCache()
    icons = [McpIcon(src="https://example.com/a.png"), McpIcon(src=data_uri("image/png", b"A"))]

    assert cache.image(icons) == ("image/png", b"A")
    assert cache.image(icons) == ("image/png", b"A")
    assert cache.image([McpIcon(src="http://example.com/a.png")]) is None
