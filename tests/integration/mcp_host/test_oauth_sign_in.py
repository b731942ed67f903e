"""Signing in to a remote MCP server behind OAuth, against a real authorization server on
127.0.0.1 (``tests.helpers.oauth_server``: the SDK's own server-side OAuth), with the app's
keychain storage, loopback redirect and the SDK's ``OAuthClientProvider``."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest

from hybridmcp_app.cli.mcp_conformance import follow_to_loopback
from hybridmcp_app.config.mcp_config import RemoteServerConfig
from hybridmcp_app.config.secrets import KeychainStatus, SecretStore
from hybridmcp_app.mcp_host.host_requests import HostRequests
from hybridmcp_app.mcp_host.mcp_client import MCPClient, McpConnectionError
from hybridmcp_app.mcp_host.oauth_sign_in import SignIns
from hybridmcp_app.mcp_host.oauth_state import SignInNeed, SignInRequired, SignInState
from tests.helpers.memory_keyring import MemoryKeyring
from tests.helpers.oauth_server import OAuthServer, oauth_mcp_server
from tests.helpers.waiting import PATIENCE_S

pytestmark = pytest.mark.integration
NAME = "remote"


@pytest.fixture
async def server() -> AsyncIterator[OAuthServer]:
    async with oauth_mcp_server() as running:
        yield running


@pytest.fixture
def sign_ins() -> SignIns:
    return SignIns(SecretStore(MemoryKeyring(), KeychainStatus(True, "memory")))


def config_of(server: OAuthServer) -> RemoteServerConfig:
    return RemoteServerConfig.model_validate({"url": server.url})


async def whoami(sign_ins: SignIns, server: OAuthServer) -> str:
    """Connect as the supervisor does (no browser) and call the server's tool."""
    client = MCPClient(
        NAME, config_of(server), request_timeout_s=PATIENCE_S,
        requests=HostRequests(auth=sign_ins.auth_for),
    )  # fmt: skip
    try:
        await client.connect()
        return (await client.call_tool("whoami", {})).text
    finally:
        await client.cleanup()


def sign_in_required(error: BaseException) -> bool:
    """Whether ``error`` (or one inside it: the SDK's task groups wrap it) is SignInRequired."""
    seen: list[BaseException | None] = [error]
    while seen:
        current = seen.pop()
        if isinstance(current, SignInRequired):
            return True
        if isinstance(current, BaseExceptionGroup):
            seen.extend(current.exceptions)
        elif current is not None:
            seen.extend([current.__cause__, current.__context__])
    return False


async def test_a_server_that_wants_a_sign_in_says_so_without_opening_a_browser(
    server: OAuthServer, sign_ins: SignIns
) -> None:
    with pytest.raises(BaseException) as failure:
        await whoami(sign_ins, server)
    assert sign_in_required(failure.value), repr(failure.value)
    assert sign_ins.state(NAME, server.url) is SignInState.NEEDS_SIGN_IN
    assert server.authorization.authorizations == 0
    assert server.authorization.clients == {}  # nor registered a client in the background


async def test_signing_in_through_the_browser_lets_later_connections_in_without_it(
    server: OAuthServer, sign_ins: SignIns
) -> None:
    opened: list[str] = []

    async def browser(url: str) -> None:
        opened.append(url)
        await follow_to_loopback(url)

    await sign_ins.sign_in(NAME, config_of(server), browser)
    assert len(opened) == 1 and "code_challenge_method=S256" in opened[0]
    assert "resource=" in opened[0]  # RFC 8707: the token is for this server only
    assert sign_ins.state(NAME, server.url) is SignInState.SIGNED_IN
    assert await whoami(sign_ins, server) == "a signed-in client"
    assert server.authorization.authorizations == 1  # no second trip through the browser


async def test_signing_in_again_on_another_loopback_port_works(
    server: OAuthServer, sign_ins: SignIns
) -> None:
    await sign_ins.sign_in(NAME, config_of(server), follow_to_loopback)
    sign_ins.sign_out(NAME, server.url)
    await sign_ins.sign_in(NAME, config_of(server), follow_to_loopback)  # a new redirect URI
    assert server.authorization.authorizations == 2
    assert await whoami(sign_ins, server) == "a signed-in client"


async def test_an_expired_access_token_is_refreshed_without_the_browser(
    server: OAuthServer, sign_ins: SignIns
) -> None:
    await sign_ins.sign_in(NAME, config_of(server), follow_to_loopback)
    server.authorization.expire_access_tokens()  # its hour passed while the app was closed
    storage = sign_ins.storage(server.url)
    record = storage.record()
    assert record is not None
    storage._save(record.model_copy(update={"expires_at": time.time() - 1}))

    assert await whoami(sign_ins, server) == "a signed-in client"
    assert server.authorization.refreshes == 1
    assert server.authorization.authorizations == 1
    renewed = storage.record()
    assert renewed is not None and renewed.expires_at is not None
    assert renewed.expires_at > time.time()


async def test_a_sign_in_that_cannot_be_refreshed_any_more_says_expired(
    server: OAuthServer, sign_ins: SignIns
) -> None:
    await sign_ins.sign_in(NAME, config_of(server), follow_to_loopback)
    server.authorization.expire_access_tokens()
    server.authorization.refresh.clear()  # revoked at the authorization server
    with pytest.raises(BaseException) as failure:
        await whoami(sign_ins, server)
    assert sign_in_required(failure.value), repr(failure.value)
    assert sign_ins.state(NAME, server.url) is SignInState.EXPIRED


async def test_signing_out_forgets_the_tokens_and_the_server_asks_again(
    server: OAuthServer, sign_ins: SignIns
) -> None:
    await sign_ins.sign_in(NAME, config_of(server), follow_to_loopback)
    assert sign_ins.sign_out(NAME, server.url)
    assert await sign_ins.storage(server.url).get_tokens() is None
    assert sign_ins.state(NAME, server.url) is SignInState.NEEDS_SIGN_IN  # its issuer is known
    with pytest.raises(BaseException) as failure:
        await whoami(sign_ins, server)
    assert sign_in_required(failure.value)
    assert sign_ins.state(NAME, server.url) is SignInState.NEEDS_SIGN_IN


async def test_a_call_refused_for_want_of_scope_says_more_permission_not_expired(
    sign_ins: SignIns,
) -> None:
    async with oauth_mcp_server(scopes=["read"]) as server:
        await sign_ins.sign_in(NAME, config_of(server), follow_to_loopback)
        assert await whoami(sign_ins, server) == "a signed-in client"
        server.require_scope("files:write")  # a call now needs a scope the token lacks

        with pytest.raises(BaseException) as failure:
            await whoami(sign_ins, server)
        assert sign_in_required(failure.value), repr(failure.value)
        asked = SignInNeed(state=SignInState.MORE_PERMISSION, scope="read files:write")
        assert sign_ins.need(NAME, server.url) == asked
        assert SignIns(sign_ins._secrets).need(NAME, server.url) == asked  # a later start too
        assert server.authorization.authorizations == 1  # no browser in the background


async def test_signing_in_after_a_step_up_asks_for_the_held_and_the_new_scopes(
    sign_ins: SignIns,
) -> None:
    async with oauth_mcp_server(scopes=["read"]) as server:
        await sign_ins.sign_in(NAME, config_of(server), follow_to_loopback)
        server.require_scope("files:write")
        with pytest.raises(BaseException) as failure:
            await whoami(sign_ins, server)
        assert sign_in_required(failure.value), repr(failure.value)
        opened: list[str] = []

        async def browser(url: str) -> None:
            opened.append(url)
            await follow_to_loopback(url)

        await sign_ins.sign_in(NAME, config_of(server), browser)  # the stored token still works
        assert len(opened) == 1 and "scope=read+files%3Awrite" in opened[0], opened
        assert sign_ins.state(NAME, server.url) is SignInState.SIGNED_IN
        assert await whoami(sign_ins, server) == "a signed-in client"
        assert server.authorization.authorizations == 2


async def test_a_connection_older_than_the_step_up_sign_in_does_not_ask_again(
    sign_ins: SignIns,
) -> None:
    async with oauth_mcp_server(scopes=["read"]) as server:
        await sign_ins.sign_in(NAME, config_of(server), follow_to_loopback)
        older = MCPClient(
            NAME, config_of(server), request_timeout_s=PATIENCE_S,
            requests=HostRequests(auth=sign_ins.auth_for),
        )  # fmt: skip
        try:
            await older.connect()  # holds the token without the new scope
            server.require_scope("files:write")
            with pytest.raises(BaseException) as failure:
                await whoami(sign_ins, server)
            assert sign_in_required(failure.value), repr(failure.value)
            await sign_ins.sign_in(NAME, config_of(server), follow_to_loopback)

            refused = server.refused_for_scope
            # Its token is the old one: refused once, then sent again with the new tokens.
            assert (await older.call_tool("whoami", {})).text == "a signed-in client"
            assert server.refused_for_scope == refused + 1
            assert sign_ins.state(NAME, server.url) is SignInState.SIGNED_IN
        finally:
            await older.cleanup()


async def test_a_live_connection_refused_for_want_of_scope_fails_that_call_and_lives_on(
    sign_ins: SignIns,
) -> None:
    """The supervisor's connection, not a new one: the refused call fails with a clear error
    (no hang, no cancellation escaping), the state asks for more permission, and the same
    connection goes on serving what its token allows."""
    async with oauth_mcp_server(scopes=["read"]) as server:
        await sign_ins.sign_in(NAME, config_of(server), follow_to_loopback)
        live = MCPClient(
            NAME, config_of(server), request_timeout_s=PATIENCE_S,
            requests=HostRequests(auth=sign_ins.auth_for),
        )  # fmt: skip
        await live.connect()
        try:
            server.require_scope("files:write")
            with pytest.raises(McpConnectionError, match=f"^{NAME}: needs more permission: "):
                await live.call_tool("whoami", {})
            asked = SignInNeed(state=SignInState.MORE_PERMISSION, scope="read files:write")
            assert sign_ins.need(NAME, server.url) == asked
            assert "whoami" in {tool.name for tool in await live.list_tools()}
            assert live.connected and server.authorization.authorizations == 1
        finally:
            await live.cleanup()
