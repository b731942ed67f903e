"""Fetching MCP server icons from a real HTTPS site on 127.0.0.1: what is refused (too big,
another site, not an image, too slow, too many redirects), what is sent (no cookies), and the
disk cache, used without asking while fresh and when the site is gone."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from hybridmcp_app.services.mcp_icon_fetch import McpIconFetcher
from hybridmcp_app.services.mcp_icons import McpIconSource
from tests.helpers.icon_site import IconSite, client_context, icon_site, png_bytes


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def site(ca: trustme.CA) -> Iterator[IconSite]:
    with icon_site(ca) as serving:
        yield serving


def fetcher(ca: trustme.CA, cache: Path | None = None, **options: float) -> McpIconFetcher:
    return McpIconFetcher(cache, verify=client_context(ca), **options)


async def test_a_png_is_fetched_once_per_session(site: IconSite, ca: trustme.CA) -> None:
    icons = fetcher(ca)

    first = await icons.fetch(site.url + "/icon.png")
    again = await icons.fetch(site.url + "/icon.png")

    assert (first.media, first.data, first.problem) == ("image/png", png_bytes(), "")
    assert again == first and site.hits("/icon.png") == 1
    assert icons.result(site.url + "/icon.png") == first


async def test_an_icon_over_256_kib_is_refused_without_reading_it_all(
    site: IconSite, ca: trustme.CA
) -> None:
    found = await fetcher(ca).fetch(site.url + "/big.png")

    assert found.data == b"" and found.problem == "it is larger than 256 KiB"


async def test_redirects_are_followed_within_the_site_only_and_at_most_three_times(
    site: IconSite, ca: trustme.CA
) -> None:
    icons = fetcher(ca)

    moved = await icons.fetch(site.url + "/moved.png")
    elsewhere = await icons.fetch(site.url + "/elsewhere.png")
    looping = await icons.fetch(site.url + "/loop.png")

    assert moved.data == png_bytes()
    assert elsewhere.problem == "it redirects to another site"
    assert looping.problem == "it redirects more than 3 times" and site.hits("/loop.png") == 4


async def test_no_cookie_a_site_sets_is_sent_back(site: IconSite, ca: trustme.CA) -> None:
    found = await fetcher(ca).fetch(site.url + "/cookie.png")

    assert found.data == png_bytes()
    headers = [seen for path, seen in site.requests if path == "/icon.png"]
    assert headers and all("cookie" not in h and "authorization" not in h for h in headers)


async def test_an_html_page_named_png_is_refused_and_logged_once(
    site: IconSite, ca: trustme.CA, caplog: pytest.LogCaptureFixture
) -> None:
    icons = fetcher(ca)
    caplog.set_level(logging.INFO, logger="hybridmcp.mcp.icons")

    found = await icons.fetch(site.url + "/page.png")
    await icons.fetch(site.url + "/page.png")

    assert found.problem == "it is not a PNG, JPEG, GIF, WebP or SVG image"
    assert [r.levelno for r in caplog.records if "/page.png" in r.getMessage()] == [logging.INFO]


async def test_an_image_that_does_not_decode_is_refused(site: IconSite, ca: trustme.CA) -> None:
    found = await fetcher(ca).fetch(site.url + "/icon.png", lambda _data, _media: False)

    assert found.problem == "it does not decode as image/png"


async def test_a_site_that_never_finishes_runs_out_of_time(site: IconSite, ca: trustme.CA) -> None:
    found = await fetcher(ca, timeout_s=1.0).fetch(site.url + "/slow.png")

    assert found.problem == "it took longer than 1 s"


async def test_a_certificate_the_app_does_not_trust_is_refused(site: IconSite) -> None:
    found = await McpIconFetcher(None, verify=client_context(trustme.CA())).fetch(
        site.url + "/icon.png"
    )

    assert found.data == b"" and "CERTIFICATE_VERIFY_FAILED" in found.problem


async def test_the_disk_copy_is_used_while_fresh_and_when_the_site_is_gone(
    ca: trustme.CA, tmp_path: Path
) -> None:
    cache = tmp_path / "mcp-icons"
    with icon_site(ca) as site:
        url = site.url + "/icon.png"
        assert (await fetcher(ca, cache).fetch(url)).data == png_bytes()
        assert (await fetcher(ca, cache).fetch(url)).data == png_bytes()
        assert site.hits("/icon.png") == 1  # the second session asked nobody
    assert len(list(cache.iterdir())) == 1

    offline = await fetcher(ca, cache, fresh_s=0.0).fetch(url)  # stale, and the site is gone

    assert offline.data == png_bytes()
    assert (await fetcher(ca, None).fetch(url)).problem.startswith("ConnectError")


async def test_every_view_that_asks_for_an_icon_while_it_loads_is_told_when_it_arrives(
    site: IconSite, ca: trustme.CA
) -> None:
    """Two views (the tools table, the chat's commands) ask for the same icon: one fetch, and
    both draw again when it is in."""
    url = site.url + "/icon.png"
    running: list[asyncio.Task[None]] = []
    told: list[str] = []
    source = McpIconSource(
        fetcher(ca), lambda _server: site.url + "/mcp", spawn=lambda work: running.append(
            asyncio.create_task(work)
        ),
    )  # fmt: skip

    source.load(url, lambda _data, _media: True, lambda: told.append("tools"))
    source.load(url, lambda _data, _media: True, lambda: told.append("commands"))
    await asyncio.gather(*running)
    source.load(url, lambda _data, _media: True, lambda: told.append("late"))  # known: no fetch

    assert sorted(told) == ["commands", "tools"] and len(running) == 1
    assert site.hits("/icon.png") == 1
