"""The local OpenAI-compatible API (issue #19, holes 4 and 8): a page whose name was pointed at
127.0.0.1 is refused, the token's scheme is read in any case, and a body nested 100,000 deep or
50 MB long gets a clear 4xx (not a 500, not read whole) while the API goes on answering."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.helpers.http_probes import REFUSED, refusals
from tests.helpers.served_endpoints import api_url
from tests.helpers.waiting import PATIENCE_S

pytestmark = pytest.mark.integration
TOKEN = "api-test-token-0123456789"
RIGHT = {"Authorization": f"Bearer {TOKEN}"}
MAX_NESTING = 64  # json_body's limit


@pytest.fixture
async def base_url() -> AsyncIterator[str]:
    async with api_url(TOKEN) as url:
        yield url


async def models(client: httpx.AsyncClient, base_url: str, authorization: str) -> httpx.Response:
    return await client.get(f"{base_url}/models", headers={"Authorization": authorization})


async def test_a_rebound_page_and_strangers_are_refused_and_a_lowercase_bearer_gets_in(
    base_url: str,
) -> None:
    refused = await asyncio.to_thread(refusals, f"{base_url}/chat/completions", TOKEN)
    async with httpx.AsyncClient(timeout=PATIENCE_S) as client:
        lower = await models(client, base_url, f"bearer {TOKEN}")
        upper = await models(client, base_url, f"BEARER  {TOKEN}")
        stranger = await models(client, base_url, "Basic dXNlcjpwYXNz")

    assert refused == REFUSED
    assert lower.status_code == upper.status_code == 200
    assert [model["id"] for model in lower.json()["data"]][:2] == ["local", "provider/lab"]
    assert stranger.status_code == 401 and stranger.headers["www-authenticate"] == "Bearer"


async def test_deep_nesting_and_a_huge_body_get_a_clear_4xx_and_the_api_goes_on(
    base_url: str,
) -> None:
    def chat(messages: bytes) -> bytes:
        return b'{"model": "local", "messages": ' + messages + b"}"

    deepest = chat(b"[" * 100_000 + b"]" * 100_000)
    just_too_deep = chat(b"[" * MAX_NESTING + b"]" * MAX_NESTING)
    huge = chat(b'[{"role": "user", "content": "' + b"x" * 50_000_000 + b'"}]')
    url = f"{base_url}/chat/completions"
    async with httpx.AsyncClient(timeout=PATIENCE_S) as client:
        deep_answers = [await client.post(url, content=body, headers=RIGHT)
                        for body in (deepest, just_too_deep)]  # fmt: skip
        huge_answer = await client.post(url, content=huge, headers=RIGHT)
        after = await models(client, base_url, f"Bearer {TOKEN}")

    for answer in deep_answers:
        assert answer.status_code == 400
        message = answer.json()["error"]["message"]
        assert message == f"the request body nests deeper than {MAX_NESTING} levels"
    assert huge_answer.status_code == 413
    assert after.status_code == 200
