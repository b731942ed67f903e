"""The sign-in's loopback redirect: only the first callback bringing back our state counts."""

from __future__ import annotations

import asyncio
import http.client
from urllib.parse import urlencode

import pytest

from hybridmcp_app.mcp_host.oauth_loopback import LoopbackRedirect
from hybridmcp_app.mcp_host.oauth_state import SignInFailed

AUTHORIZE = "https://auth.example/authorize?" + urlencode({"state": "our-state", "x": "1"})


def hit(port: int, target: str, host: str | None = None) -> tuple[int, str]:
    """One GET as a browser sends it (``host``: another Host header)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.putrequest("GET", target, skip_host=True)
        connection.putheader("Host", host or f"127.0.0.1:{port}")
        connection.endheaders()
        reply = connection.getresponse()
        return reply.status, reply.read().decode()
    finally:
        connection.close()


async def get(port: int, target: str, host: str | None = None) -> tuple[int, str]:
    return await asyncio.to_thread(hit, port, target, host)


async def test_the_callback_with_our_state_completes_the_sign_in_and_says_the_tab_can_close() -> (
    None
):
    async with LoopbackRedirect("docs") as loopback:
        assert loopback.redirect_uri == f"http://127.0.0.1:{loopback.port}/callback"
        loopback.expect(AUTHORIZE)
        status, page = await get(
            loopback.port, "/callback?code=abc&state=our-state&iss=https%3A%2F%2Fauth.example"
        )
        answer = await loopback.wait()
    assert status == 200 and "You can close this tab" in page and "docs" in page
    assert (answer.code, answer.state, answer.iss) == ("abc", "our-state", "https://auth.example")


async def test_a_callback_with_another_state_is_refused_and_the_sign_in_still_waits() -> None:
    async with LoopbackRedirect() as loopback:
        loopback.expect(AUTHORIZE)
        status, _page = await get(loopback.port, "/callback?code=evil&state=their-state")
        assert status == 400
        waiting = asyncio.create_task(loopback.wait())
        await get(loopback.port, "/callback?code=good&state=our-state")
        assert (await waiting).code == "good"


async def test_a_second_hit_after_the_sign_in_is_refused() -> None:
    async with LoopbackRedirect() as loopback:
        loopback.expect(AUTHORIZE)
        assert (
            loopback.receive(f"127.0.0.1:{loopback.port}", "/callback?code=a&state=our-state")[0]
            == 200
        )
        second = loopback.receive(f"127.0.0.1:{loopback.port}", "/callback?code=b&state=our-state")
        assert second[0] == 410
        assert (await loopback.wait()).code == "a"
        with pytest.raises(OSError):  # and nothing listens any more
            await get(loopback.port, "/callback?code=c&state=our-state")


async def test_a_hostile_host_header_is_refused() -> None:
    async with LoopbackRedirect() as loopback:
        loopback.expect(AUTHORIZE)
        status, _page = await get(loopback.port, "/callback?code=a&state=our-state", "evil.example")
        assert status == 400
        assert loopback.receive("localhost", "/callback?code=a&state=our-state")[0] == 400


async def test_a_refusal_by_the_authorization_server_ends_the_sign_in_with_its_reason() -> None:
    async with LoopbackRedirect() as loopback:
        loopback.expect(AUTHORIZE)
        await get(
            loopback.port, "/callback?error=access_denied&error_description=no+way&state=our-state"
        )
        with pytest.raises(SignInFailed, match="no way"):
            await loopback.wait()


def test_an_authorization_request_without_state_is_not_followed() -> None:
    async def attempt() -> None:
        async with LoopbackRedirect() as loopback:
            loopback.expect("https://auth.example/authorize?code_challenge=x")

    with pytest.raises(SignInFailed, match="no state"):
        asyncio.run(attempt())
