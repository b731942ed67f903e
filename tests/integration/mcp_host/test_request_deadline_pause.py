"""A request's deadline stops while the server's question is before the user: a real SDK server
(tests/helpers/elicit_server.py, stdio) asks during a tool call whose deadline is short, and the
"user" (a Qt-free asker) answers only once that deadline has passed; the call still succeeds.
Where no one is asked, the same deadline ends a call the server never answers."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import mcp.types as types
import pytest

from hybridmcp_app.config.mcp_config import StdioServerConfig
from hybridmcp_app.mcp_host.host_requests import HostRequests
from hybridmcp_app.mcp_host.mcp_client import McpCallTimeout, MCPClient, ServerConfig
from tests.helpers.waiting import PATIENCE_S, wait_until
from tests.integration.mcp_host.conftest import REPO, mcp_test_server

pytestmark = pytest.mark.integration
# The call's deadline: long enough for the server's own steps on a busy machine, short enough
# that the user's answer comes after it.
DEADLINE_S = 10.0
ELICIT_SERVER = StdioServerConfig(
    command=sys.executable, args=("-m", "tests.helpers.elicit_server"), cwd=REPO
)


@asynccontextmanager
async def connected(
    config: ServerConfig, requests: HostRequests, mode: str = "auto"
) -> AsyncIterator[MCPClient]:
    """Connected patiently; every request then has the short deadline."""
    client = MCPClient(
        "diner", config, requests=requests, request_timeout_s=DEADLINE_S,
        connect_timeout_s=PATIENCE_S, mode=mode,
    )  # fmt: skip
    await client.connect()
    try:
        yield client
    finally:
        await client.cleanup()


@pytest.mark.parametrize("mode", ["auto", "legacy"])  # 2026-07-28, and a 2025 session
async def test_a_call_whose_question_the_user_answers_after_its_deadline_still_succeeds(
    mode: str,
) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    asked_at: list[float] = []

    async def user(
        server: str, params: types.ElicitRequestParams
    ) -> types.ElicitResult | types.ErrorData:
        asked_at.append(loop.time())
        await wait_until(lambda: loop.time() > started + DEADLINE_S + 0.5)  # the deadline passed
        return types.ElicitResult(action="accept", content={"name": "Ada", "guests": 2})

    async with connected(ELICIT_SERVER, HostRequests(elicit=user), mode) as client:
        assert (mode == "legacy") != client.stateless
        started = loop.time()
        outcome = await client.call_tool("book_table", {})
    assert not outcome.is_error, outcome.text
    assert json.loads(outcome.text) == {"action": "accept", "content": {"name": "Ada", "guests": 2}}
    (asked,) = asked_at
    assert asked - started < DEADLINE_S  # asked in time, answered after the deadline
    assert loop.time() - started > DEADLINE_S


async def test_without_a_question_to_the_user_the_same_deadline_ends_a_call_that_hangs() -> None:
    async with connected(mcp_test_server(), HostRequests()) as client:
        with pytest.raises(McpCallTimeout, match=f"did not answer within {DEADLINE_S:g} s"):
            await client.call_tool("hang", {})
