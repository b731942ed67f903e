"""Which server icons are shown: data: URIs of images; https: icons on the remote server's own
site, or on other sites once the user allows it; never another scheme."""

from __future__ import annotations

import base64

from hybridmcp_app.mcp_host.mcp_items import McpIcon
from hybridmcp_app.services.mcp_icons import (
    MAX_ICON_BYTES,
    McpIconSource,
    data_uri_bytes,
    icon_rule,
    origin_of,
    sniff_image,
)

PNG_HEADER = b"\x89PNG\r\n\x1a\n"
SERVER = "https://mcp.example.com/mcp"


def data_uri(media: str, data: bytes) -> str:
    return f"data:{media};base64,{base64.b64encode(data).decode('ascii')}"


def test_a_base64_image_data_uri_gives_its_type_and_bytes() -> None:
    assert data_uri_bytes(data_uri("image/png", PNG_HEADER)) == ("image/png", PNG_HEADER)


def test_a_percent_encoded_svg_data_uri_is_decoded() -> None:
    assert data_uri_bytes("data:image/svg+xml,%3Csvg%2F%3E") == ("image/svg+xml", b"<svg/>")


def test_urls_other_types_damaged_and_oversized_data_uris_give_no_bytes() -> None:
    assert data_uri_bytes("https://example.com/icon.png") is None
    assert data_uri_bytes(data_uri("text/html", b"<script>")) is None
    assert data_uri_bytes("data:image/png;base64,@@@") is None
    assert data_uri_bytes(data_uri("image/png", b"x" * (MAX_ICON_BYTES + 1))) is None


def test_images_are_recognised_by_their_bytes_and_html_is_not_an_image() -> None:
    assert sniff_image(PNG_HEADER + b"rest") == "image/png"
    assert sniff_image(b"\xff\xd8\xff\xe0") == "image/jpeg"
    assert sniff_image(b"GIF89a...") == "image/gif"
    assert sniff_image(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert sniff_image(b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>') == (
        "image/svg+xml"
    )
    assert sniff_image(b"<!DOCTYPE html><html><svg/></html>") is None
    assert sniff_image(b"BM\x00\x00") is None  # a BMP: Qt reads it, the app does not show it
    assert sniff_image(b"\xff\xfe\x00") is None


def test_origins_fill_in_default_ports_and_ignore_case() -> None:
    assert origin_of("https://MCP.example.com/a.png") == origin_of("https://mcp.example.com:443/")
    assert origin_of("https://mcp.example.com:8443/") != origin_of(SERVER)
    assert origin_of("http://mcp.example.com/") != origin_of(SERVER)
    assert origin_of("data:image/png;base64,AA") is None


def test_https_icons_come_from_the_servers_own_site_and_elsewhere_only_when_allowed() -> None:
    assert icon_rule("data:image/png;base64,AA", None, False) == "data"
    assert icon_rule("https://mcp.example.com/icon.png", SERVER, False) == "fetch"
    assert icon_rule("https://cdn.example.com/icon.png", SERVER, False) == "other-site"
    assert icon_rule("https://cdn.example.com/icon.png", SERVER, True) == "fetch"
    assert icon_rule("https://mcp.example.com/icon.png", None, False) == "other-site"  # stdio


def test_other_schemes_and_addresses_with_credentials_are_never_fetched() -> None:
    for src in (
        "http://mcp.example.com/icon.png",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "ftp://mcp.example.com/icon.png",
        "https://user:secret@mcp.example.com/icon.png",
        "/icon.png",
    ):
        assert icon_rule(src, SERVER, True) == "never", src


def test_the_first_showable_icon_wins_over_one_still_to_fetch() -> None:
    source = McpIconSource()
    icons = [
        McpIcon(src="https://example.com/a.png"),
        McpIcon(src=data_uri("image/png", PNG_HEADER)),
    ]

    assert source.choose("s", icons).data == PNG_HEADER
    assert source.choose("s", icons).media == "image/png"


def test_an_icon_not_loaded_says_why() -> None:
    allowed = McpIconSource(server_url=lambda _server: SERVER)

    other = allowed.choose("s", [McpIcon(src="https://cdn.example.com/a.png")])
    plain = allowed.choose("s", [McpIcon(src="http://mcp.example.com/a.png")])
    not_image = allowed.choose("s", [McpIcon(src=data_uri("image/png", b"<html>"))])

    assert other.data == b"" and other.fetch == ""
    assert "another site (cdn.example.com)" in other.why
    assert "Load MCP server icons from other sites" in other.why
    assert plain.why.endswith("https: and data: icons only, not http:.")
    assert not_image.why == "Its icon is not shown: it is not a PNG, JPEG, GIF, WebP or SVG image."
    assert allowed.choose("s", []).why == ""
