"""A remote MCP server behind OAuth on 127.0.0.1, written with the SDK's server-side auth.

One uvicorn server in the test's event loop is both the authorization server (the SDK's
``create_auth_routes``: metadata, dynamic registration, ``/authorize``, ``/token``) and the
resource server (protected-resource metadata, bearer tokens checked, one tool ``whoami``). Like
the conformance suite's fixture, ``/authorize`` approves at once: a 302 to the client's
``redirect_uri`` with the code and state. The test can expire every access token, revoke the
refresh tokens, count authorizations and refreshes, and ask for a scope the tokens lack
(``require_scope``: a tool call then answers 403 ``insufficient_scope``).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import Future
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from mcp.server.auth.provider import (
    AccessToken,
    AuthorizationCode,
    AuthorizationParams,
    IdentityAssertionParams,
    RefreshToken,
    TokenError,
    construct_redirect_uri,
)
from mcp.server.auth.settings import AuthSettings, ClientRegistrationOptions
from mcp.server.mcpserver import MCPServer
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken

from tests.helpers.waiting import PATIENCE_S, wait_until

ACCESS_LIFETIME_S = 3600


@dataclass
class InMemoryAuthorization:
    """The SDK's ``OAuthAuthorizationServerProvider``, in memory, approving every request."""

    clients: dict[str, OAuthClientInformationFull] = field(default_factory=dict)
    codes: dict[str, AuthorizationCode] = field(default_factory=dict)
    access: dict[str, AccessToken] = field(default_factory=dict)
    refresh: dict[str, RefreshToken] = field(default_factory=dict)
    authorizations: int = 0
    refreshes: int = 0

    async def get_client(self, client_id: str) -> OAuthClientInformationFull | None:
        return self.clients.get(client_id)

    async def register_client(self, client_info: OAuthClientInformationFull) -> None:
        assert client_info.client_id is not None
        self.clients[client_info.client_id] = client_info

    async def authorize(
        self, client: OAuthClientInformationFull, params: AuthorizationParams
    ) -> str:
        self.authorizations += 1
        code = secrets.token_urlsafe(24)
        assert client.client_id is not None
        self.codes[code] = AuthorizationCode(
            code=code, scopes=params.scopes or [], expires_at=time.time() + 300,
            client_id=client.client_id, code_challenge=params.code_challenge,
            redirect_uri=params.redirect_uri,
            redirect_uri_provided_explicitly=params.redirect_uri_provided_explicitly,
            resource=params.resource,
        )  # fmt: skip
        return construct_redirect_uri(str(params.redirect_uri), code=code, state=params.state)

    async def load_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: str
    ) -> AuthorizationCode | None:
        return self.codes.get(authorization_code)

    def _issue(self, client_id: str, scopes: list[str], resource: str | None) -> OAuthToken:
        access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        self.access[access] = AccessToken(
            token=access, client_id=client_id, scopes=scopes,
            expires_at=int(time.time()) + ACCESS_LIFETIME_S, resource=resource,
        )  # fmt: skip
        self.refresh[refresh] = RefreshToken(
            token=refresh, client_id=client_id, scopes=scopes, resource=resource
        )
        return OAuthToken(
            access_token=access, token_type="Bearer", expires_in=ACCESS_LIFETIME_S,
            refresh_token=refresh, scope=" ".join(scopes) or None,
        )  # fmt: skip

    async def exchange_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: AuthorizationCode
    ) -> OAuthToken:
        del self.codes[authorization_code.code]
        assert client.client_id is not None
        return self._issue(client.client_id, authorization_code.scopes, authorization_code.resource)

    async def load_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: str
    ) -> RefreshToken | None:
        return self.refresh.get(refresh_token)

    async def exchange_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: RefreshToken, scopes: list[str]
    ) -> OAuthToken:
        self.refreshes += 1
        del self.refresh[refresh_token.token]
        assert client.client_id is not None
        return self._issue(client.client_id, scopes or refresh_token.scopes, refresh_token.resource)

    async def load_access_token(self, token: str) -> AccessToken | None:
        found = self.access.get(token)
        if found is None or (found.expires_at is not None and found.expires_at < time.time()):
            return None
        return found

    async def revoke_token(self, token: AccessToken | RefreshToken) -> None:
        self.access.pop(token.token, None)
        self.refresh.pop(token.token, None)

    async def exchange_identity_assertion(
        self, client: OAuthClientInformationFull, params: IdentityAssertionParams
    ) -> OAuthToken:
        raise TokenError("unsupported_grant_type", "no identity assertions here")

    def expire_access_tokens(self) -> None:
        """Every access token issued so far stops working (as if its hour had passed)."""
        self.access.clear()


@dataclass
class OAuthServer:
    url: str  # the MCP endpoint, http://127.0.0.1:PORT/mcp
    issuer: str
    authorization: InMemoryAuthorization
    required_scope: str | None = None  # what a POST's token must hold (None: nothing more)
    refused_for_scope: int = 0  # tool calls answered 403 insufficient_scope

    def require_scope(self, scope: str | None) -> None:
        """From now on a tool call whose valid token lacks ``scope`` gets 403
        ``insufficient_scope`` naming it in ``WWW-Authenticate`` (RFC 6750 §3.1), as a step-up
        asks; connecting and listing still work."""
        self.required_scope = scope


Asgi = Any  # an ASGI application: (scope, receive, send) -> None


async def _whole_body(receive: Any) -> list[dict[str, Any]]:
    messages = [await receive()]
    while messages[-1].get("more_body"):
        messages.append(await receive())
    return messages


def _calls_a_tool(messages: list[dict[str, Any]]) -> bool:
    try:
        request = json.loads(b"".join(m.get("body", b"") for m in messages))
    except ValueError:
        return False
    return isinstance(request, dict) and request.get("method") == "tools/call"


async def _refuse_for_scope(server: OAuthServer, wanted: str, send: Any) -> None:
    server.refused_for_scope += 1
    metadata = f"{server.issuer}/.well-known/oauth-protected-resource/mcp"
    challenge = (
        f'Bearer error="insufficient_scope", scope="{wanted}", resource_metadata="{metadata}"'
    )
    await send({
        "type": "http.response.start", "status": 403,
        "headers": [(b"www-authenticate", challenge.encode()), (b"content-length", b"0")],
    })  # fmt: skip
    await send({"type": "http.response.body", "body": b""})


def _scope_guard(app: Asgi, server: OAuthServer) -> Asgi:
    """``app`` behind ``OAuthServer.required_scope``: a tool call whose (valid) token lacks
    it is refused; every other request goes through as it came."""

    async def guarded(scope: dict[str, Any], receive: Any, send: Any) -> None:
        wanted = server.required_scope
        if not (wanted and scope["type"] == "http" and scope["method"] == "POST"):
            await app(scope, receive, send)
            return
        token = dict(scope["headers"]).get(b"authorization", b"").decode()
        granted = server.authorization.access.get(token.removeprefix("Bearer "))
        if scope["path"] != "/mcp" or granted is None or wanted in granted.scopes:
            await app(scope, receive, send)
            return
        messages = await _whole_body(receive)
        if _calls_a_tool(messages):
            await _refuse_for_scope(server, wanted, send)
            return
        replayed = iter(messages)

        async def replay() -> Any:
            return next(replayed, None) or await receive()

        await app(scope, replay, send)

    return guarded


@asynccontextmanager
async def oauth_mcp_server(scopes: list[str] | None = None) -> AsyncIterator[OAuthServer]:
    """The server running in this event loop until the block ends; every token must hold
    ``scopes`` (advertised in its protected-resource metadata, so a sign-in asks for them)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{listener.getsockname()[1]}"
    authorization = InMemoryAuthorization()
    server = MCPServer(
        "signed-in",
        auth_server_provider=authorization,
        auth=AuthSettings.model_validate({
            "issuer_url": base, "resource_server_url": f"{base}/mcp",
            "validate_token_resource": True, "required_scopes": scopes,
            "client_registration_options": ClientRegistrationOptions(enabled=True),
        }),
    )  # fmt: skip

    @server.tool()
    def whoami() -> str:
        """Say who asks."""
        return "a signed-in client"

    running = OAuthServer(f"{base}/mcp", base, authorization)
    app = _scope_guard(server.streamable_http_app(), running)
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    web = uvicorn.Server(config)
    task = asyncio.create_task(web.serve(sockets=[listener]))
    try:
        await wait_until(lambda: web.started or task.done(), timeout_s=PATIENCE_S)
        if task.done():
            task.result()
        yield running
    finally:
        web.should_exit = True
        await asyncio.wait_for(task, PATIENCE_S)
        listener.close()


@contextmanager
def oauth_mcp_server_in_thread(scopes: list[str] | None = None) -> Iterator[OAuthServer]:
    """The same server on a thread and event loop of its own (for Qt tests, whose qasync loop
    runs only in steps)."""
    started: Future[tuple[OAuthServer, asyncio.Event]] = Future()

    async def serve() -> None:
        try:
            async with oauth_mcp_server(scopes) as server:
                stop = asyncio.Event()
                started.set_result((server, stop))
                await stop.wait()
        except BaseException as error:
            if not started.done():
                started.set_exception(error)
            raise

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    server, stop = started.result(timeout=PATIENCE_S)
    try:
        yield server
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(PATIENCE_S)
        loop.close()
