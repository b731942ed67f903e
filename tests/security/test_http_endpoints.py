"""Every HTTP endpoint we serve refuses a foreign Host, a foreign Origin and a missing or wrong
token (issue #19, holes 3 and 4): our MCP servers over ``--http`` (real subprocesses, bound to
127.0.0.2, which Linux routes to the loopback interface like all of 127/8), the library the
running app shares without a keychain, and the local OpenAI-compatible API."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from hybridmcp_app.mcp_servers.server_base import TOKEN_ENV
from tests.helpers.file_keyring import keyring_env
from tests.helpers.http_probes import (
    REFUSAL_STATUSES,
    REFUSED,
    mcp_message,
    mcp_server_over_http,
    mcp_session,
    post,
    refusals,
)
from tests.helpers.served_endpoints import api_url, shared_library

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
TOKEN = secrets.token_urlsafe(24)
OTHER_LOOPBACK = "127.0.0.2"
WORKSPACE = "hybridmcp_app.mcp_servers.workspace"


def server_env(token: str | None) -> dict[str, str]:
    """The environment of a server started by hand: no keychain, the token if given."""
    env = {key: value for key, value in os.environ.items() if key != TOKEN_ENV}
    env |= keyring_env(None)
    if token is not None:
        env[TOKEN_ENV] = token
    return env


def server_args(name: str, tmp_path: Path) -> list[str]:
    """Each of our servers, with what it needs to start."""
    (tmp_path / "root").mkdir(exist_ok=True)
    options = {
        "documents": [],
        "workspace": ["--root", str(tmp_path / "root")],
        "docstore": ["--sqlite", str(tmp_path / "store.sqlite3")],
        "storage": ["--mount", "scratch=memory://scratch"],
        "turtle_soup": [],
    }[name]
    return [f"hybridmcp_app.mcp_servers.{name}", *options]


@pytest.fixture
def workspace_root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    root.mkdir()
    (root / "notes.md").write_text("# Notes\n")
    return root


@pytest.fixture
def workspace_on_other_loopback(workspace_root: Path) -> Iterator[str]:
    args = [WORKSPACE, "--root", str(workspace_root)]
    with mcp_server_over_http(args, OTHER_LOOPBACK, server_env(TOKEN), REPO) as url:
        yield url


# ---------------------------------------------------------------- MCP servers


def test_without_a_token_a_server_refuses_to_serve_another_loopback_address(
    workspace_root: Path,
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", WORKSPACE, "--root", str(workspace_root), "--http", "--host",
         OTHER_LOOPBACK],
        cwd=REPO, env=server_env(None), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip

    assert result.returncode == 2
    assert (
        f"workspace: serving on {OTHER_LOOPBACK} needs a bearer token in $HYBRIDMCP_MCP_TOKEN"
        in result.stderr
    )
    assert "only 127.0.0.1, localhost, ::1 are served without one" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_forged_host_or_origin_never_reaches_write_file_on_another_loopback_address(
    workspace_on_other_loopback: str, workspace_root: Path
) -> None:
    """A rightful session, then the same write_file call from a rebound page (its Host, its
    Origin) and without the token: all refused, the file never written; then done rightly."""
    url = workspace_on_other_loopback
    session = mcp_session(url, f"Bearer {TOKEN}")
    write = mcp_message("tools/call", {
        "name": "write_file", "arguments": {"path": "planted.txt", "content": "planted"},
    }, id_=2)  # fmt: skip
    port = url.split(":")[2].split("/")[0]

    forged_host = post(url, write, authorization=f"Bearer {TOKEN}", session=session,
                       host=f"evil.example:{port}")  # fmt: skip
    forged_origin = post(url, write, authorization=f"Bearer {TOKEN}", session=session,
                         origin=f"http://evil.example:{port}")  # fmt: skip
    no_token = post(url, write, session=session)
    assert (forged_host.status_code, forged_origin.status_code, no_token.status_code) == (
        421, 403, 401,
    )  # fmt: skip
    assert "evil.example" in forged_host.text and no_token.headers["www-authenticate"] == "Bearer"
    assert not (workspace_root / "planted.txt").exists()

    rightful = post(url, write, authorization=f"bearer {TOKEN}", session=session)
    assert rightful.status_code == 200, rightful.text
    assert (workspace_root / "planted.txt").read_text() == "planted"


async def test_on_127_0_0_1_a_rebound_page_is_refused_and_a_lowercase_bearer_is_accepted(
    workspace_root: Path,
) -> None:
    args = [WORKSPACE, "--root", str(workspace_root)]
    with mcp_server_over_http(args, "127.0.0.1", server_env(TOKEN), REPO) as url:
        refused = await asyncio.to_thread(refusals, url, TOKEN)
        for scheme in ("bearer", "BEARER"):
            accepted = await asyncio.to_thread(mcp_session, url, f"{scheme} {TOKEN}")
            assert accepted
    assert refused == REFUSED


# ---------------------------------------------------------------- every endpoint


@pytest.fixture
async def endpoint(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[str, str]]:
    """(URL, token) of one of the endpoints we serve."""
    kind: str = request.param
    if kind == "shared library":
        async with shared_library(tmp_path) as (url, token):
            yield url, token
    elif kind == "local API":
        async with api_url(TOKEN) as url:
            yield f"{url}/chat/completions", TOKEN
    else:
        args = server_args(kind, tmp_path)
        with mcp_server_over_http(args, OTHER_LOOPBACK, server_env(TOKEN), REPO) as url:
            yield url, TOKEN


@pytest.mark.parametrize(
    "endpoint",
    ["documents", "workspace", "docstore", "storage", "turtle_soup", "shared library",
     "local API"],
    indirect=True,
)  # fmt: skip
async def test_every_endpoint_refuses_a_foreign_host_origin_and_a_missing_or_wrong_token(
    endpoint: tuple[str, str],
) -> None:
    url, token = endpoint

    refused = await asyncio.to_thread(refusals, url, token)
    rightful = await asyncio.to_thread(post, url, authorization=f"bearer {token}")

    assert refused == REFUSED
    assert rightful.status_code not in REFUSAL_STATUSES  # in: {} is only not a valid request
