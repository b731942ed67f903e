"""The base of the project's own servers, used three ways: in memory, stdio, Streamable HTTP."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp import Client

from hybridmcp_app import APP_NAME
from hybridmcp_app.config.mcp_config import RemoteServerConfig, StdioServerConfig
from hybridmcp_app.config.server_token import TOKEN_SECRET_NAME
from hybridmcp_app.mcp_host.server_status import ServerState
from hybridmcp_app.mcp_servers.server_base import TOKEN_ENV
from tests.helpers.file_keyring import keyring_env
from tests.helpers.llama_server import free_port
from tests.helpers.mcp_http import http_server, status_of
from tests.helpers.processes import stop
from tests.helpers.shout_server import ShoutServer
from tests.helpers.waiting import PATIENCE_S, wait_until
from tests.integration.mcp_host.conftest import REPO, SupervisorFactory


@pytest.fixture
def token_server() -> Iterator[str]:
    env = {**os.environ, TOKEN_ENV: "s3cret-token"}
    with http_server(["tests.helpers.shout_server"], free_port(), env, REPO) as url:
        yield url


async def test_in_memory_with_the_sdk() -> None:
    async with Client(ShoutServer().build()) as client:
        result = await client.call_tool("shout", {"text": "hi"})
    assert result.content[0].text == "HI"  # type: ignore[union-attr]


async def test_as_a_subprocess_over_stdio(supervise: SupervisorFactory) -> None:
    config = StdioServerConfig(
        command=sys.executable, args=("-m", "tests.helpers.shout_server"), cwd=REPO
    )
    supervisor = supervise("shout", config)
    supervisor.start()
    await wait_until(lambda: supervisor.status.state is ServerState.READY)
    assert (await supervisor.call_tool("shout", {"text": "stdio"})).text == "STDIO"


async def test_over_http_a_token_is_required_when_one_is_set(
    token_server: str,
    supervise: SupervisorFactory,  # the client stops before the server
) -> None:
    assert await asyncio.to_thread(status_of, token_server) == 401
    supervisor = supervise("shout", RemoteServerConfig.model_validate(
        {"url": token_server, "headers": {"Authorization": "Bearer s3cret-token"}}
    ))  # fmt: skip
    supervisor.start()
    await wait_until(lambda: supervisor.status.state is ServerState.READY)
    assert (await supervisor.call_tool("shout", {"text": "http"})).text == "HTTP"


def test_binding_beyond_localhost_without_a_token_is_refused() -> None:
    env = {k: v for k, v in os.environ.items() if k != TOKEN_ENV} | keyring_env(None)
    result = subprocess.run(
        [sys.executable, "-m", "tests.helpers.shout_server", "--http", "--host", "0.0.0.0"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=PATIENCE_S, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "needs a bearer token in $HYBRIDMCP_MCP_TOKEN (no keychain holds one)" in result.stderr


def test_beyond_localhost_the_keychain_token_is_made_once_and_then_required(
    tmp_path: Path,
) -> None:
    """No token in the environment: the server makes one in the keychain (what HybridMCP shows
    in its MCP tab), and requests without it get 401."""
    keychain = tmp_path / "keychain.json"
    env = {k: v for k, v in os.environ.items() if k != TOKEN_ENV} | keyring_env(keychain)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.helpers.shout_server", "--http", "--host", "0.0.0.0",
         "--port", str(port)],
        cwd=REPO, env=env, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        deadline = time.monotonic() + PATIENCE_S
        while status_of(url) is None:
            assert process.poll() is None and time.monotonic() < deadline, "did not start"
            time.sleep(0.1)
        assert status_of(url) == 401
        token = json.loads(keychain.read_text())[f"{APP_NAME}/{TOKEN_SECRET_NAME}"]
        assert len(token) >= 40
        request = urllib.request.Request(
            url, data=b"{}", headers={"Authorization": f"Bearer {token}"}
        )
        with pytest.raises(urllib.error.HTTPError) as refused:  # in, but not valid JSON-RPC
            urllib.request.urlopen(request, timeout=PATIENCE_S)
        refused.value.close()
        assert refused.value.code not in (401, 403)
    finally:
        stop(process)
    assert process.stderr is not None
    with process.stderr:
        assert token not in process.stderr.read()  # never printed
