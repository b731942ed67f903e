"""``hybridmcp mcp sign-in`` / ``sign-out`` as a user runs them: the real command in a
subprocess, the "system browser" through ``$BROWSER`` (a stand-in that follows the authorization
server's redirect), a remote server behind OAuth on 127.0.0.1 and a keychain in a file."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.helpers.file_keyring import keyring_env
from tests.helpers.oauth_server import OAuthServer, oauth_mcp_server
from tests.helpers.waiting import PATIENCE_S

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
async def server() -> AsyncIterator[OAuthServer]:
    async with oauth_mcp_server() as running:
        yield running


def browser_command(folder: Path) -> str:
    """``$BROWSER``: one program, given the address (``webbrowser`` runs ``PROGRAM URL``)."""
    script = folder / "browser"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m tests.helpers.oauth_browser "$1"\n')
    script.chmod(0o755)
    return str(script)


async def mcp(home: Path, keyring: Path, *args: str) -> tuple[int, str, str]:
    """The command, run while this test's event loop keeps serving the server."""
    env = {**keyring_env(keyring), "BROWSER": browser_command(keyring.parent)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hybridmcp_app", "--home", str(home), "mcp", *args,
        cwd=REPO, env={**_inherited(), **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), PATIENCE_S * 2)
    assert b"Traceback" not in err, err.decode()
    return process.returncode or 0, out.decode(), err.decode()


def _inherited() -> dict[str, str]:
    import os

    return {key: value for key, value in os.environ.items() if key != "BROWSER"}


async def test_sign_in_keeps_the_tokens_in_the_keychain_and_never_in_mcp_json_or_a_log(
    server: OAuthServer, tmp_path: Path
) -> None:
    home, keyring = tmp_path / "user", tmp_path / "keyring.json"
    (home / "config").mkdir(parents=True)
    mcp_json = home / "config" / "mcp.json"
    mcp_json.write_text(json.dumps({"mcpServers": {"remote": {"url": server.url}}}))

    before = await mcp(home, keyring, "tools", "remote")
    assert before[0] == 1 and "needs sign-in: remote asks you to sign in" in before[2]
    assert "hybridmcp mcp sign-in remote" in before[2]

    code, out, err = await mcp(home, keyring, "sign-in", "remote")
    assert (code, out.strip()) == (0, "signed in to remote"), err
    assert server.authorization.authorizations == 1
    tools = await mcp(home, keyring, "tools", "remote", "--json")
    assert tools[0] == 0 and [t["name"] for t in json.loads(tools[1])["tools"]] == ["whoami"]
    assert server.authorization.authorizations == 1  # the stored sign-in served

    tokens = [*server.authorization.access, *server.authorization.refresh]
    registered = [c.client_secret for c in server.authorization.clients.values() if c.client_secret]
    issued = [*tokens, *registered]  # the client registration's secret too
    assert tokens and registered and all(secret in keyring.read_text() for secret in issued)
    written = [path for path in home.rglob("*") if path.is_file()]
    assert mcp_json in written and any(path.suffix == ".log" for path in written)
    for path in written:
        text = path.read_text(errors="replace")
        assert not any(token in text for token in issued), path

    signed_out = await mcp(home, keyring, "sign-out", "remote")
    assert (signed_out[0], signed_out[1].strip()) == (0, "signed out of remote")
    assert not any(token in keyring.read_text() for token in tokens)  # the registration stays
    after = await mcp(home, keyring, "tools", "remote")
    assert after[0] == 1 and "needs sign-in: remote asks you to sign in" in after[2]


async def test_sign_in_refuses_a_server_that_is_not_remote(tmp_path: Path) -> None:
    home = tmp_path / "user"
    (home / "config").mkdir(parents=True)
    (home / "config" / "mcp.json").write_text(
        json.dumps({"mcpServers": {"local": {"command": sys.executable}}})
    )
    code, _out, err = await mcp(home, tmp_path / "keyring.json", "sign-in", "local")
    assert code == 2 and "'local' is not a remote server" in err
