"""Signing in to remote MCP servers: OAuth 2.1 with PKCE through the SDK's ``OAuthClientProvider``.

The SDK does the protocol: protected-resource metadata discovery, authorization-server metadata
with ``iss`` validation, Client ID Metadata Documents or dynamic client registration, resource
indicators, step-up scopes and refresh. This module gives it what it needs from the host:
- the keychain (``KeychainTokenStorage``: tokens and registrations, keyed by server and issuer);
- for a sign-in, a loopback redirect on 127.0.0.1 and a browser (``OpenUrl``, injected: the
  system browser in the app, a non-interactive one for the conformance suite);
- for a connection (the supervisor's, in the background), no browser: a server that needs the
  user to sign in fails with ``SignInRequired`` and its state says "needs sign-in".

We publish no Client ID Metadata Document (it needs a public https URL we do not have), so a
server is registered with DCR unless its configuration names a ``client_metadata_url``.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx2
from mcp.client.auth import OAuthClientProvider
from mcp.client.auth.extensions.client_credentials import ClientCredentialsOAuthProvider
from mcp.client.auth.utils import extract_field_from_www_auth
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientMetadata
from pydantic import AnyUrl

from hybridmcp_app.config.mcp_config import RemoteServerConfig
from hybridmcp_app.config.mcp_references import resolved_server
from hybridmcp_app.config.oauth_tokens import KeychainTokenStorage
from hybridmcp_app.config.secrets import SecretStore
from hybridmcp_app.core.errors import HybridMCPError
from hybridmcp_app.mcp_host.host_requests import HostRequests
from hybridmcp_app.mcp_host.mcp_client import MCPClient
from hybridmcp_app.mcp_host.oauth_loopback import LoopbackRedirect
from hybridmcp_app.mcp_host.oauth_state import (
    SignInFailed,
    SignInNeed,
    SignInRequired,
    SignInState,
)

if TYPE_CHECKING:
    from hybridmcp_app.mcp_host.mcp_host_service import McpHost

log = logging.getLogger("hybridmcp.mcp.oauth")
OpenUrl = Callable[[str], Awaitable[None] | None]
CLIENT_NAME = "HybridMCP"
SIGN_IN_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class StaticClient:
    """Client credentials registered by hand, for a machine-to-machine server (the
    ``client_credentials`` grant): no browser, no user."""

    client_id: str
    client_secret: str
    issuer: str | None = None
    scope: str | None = None
    auth_method: str = "client_secret_basic"


class HostOAuthProvider(OAuthClientProvider):
    """The SDK's provider, with three additions.

    It restores the stored expiry time on start (the SDK keeps it only in memory), so an access
    token that ran out while the app was closed is refreshed rather than sent, refused and
    re-authorised in the browser. In the background (``needs_user`` given) it stops where only
    the user can go on: before registering a client (DCR) and before the browser, calling
    ``needs_user``, which raises; ``step_up_scope`` then tells whether a 403
    ``insufficient_scope`` led there, and which scopes the SDK would ask for. And a sign-in
    given ``step_up`` (those scopes) answers its first request with that challenge instead of
    sending it, so the SDK's own step-up (SEP-2350: the union of granted and asked scopes) runs
    in the browser even though the stored token still works for other calls."""

    def __init__(
        self,
        storage: KeychainTokenStorage,
        needs_user: Callable[[], Awaitable[None]] | None = None,
        step_up: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(storage=storage, **kwargs)
        self._keychain = storage
        self._needs_user = needs_user
        self._step_up = step_up
        self._stepping_up = False  # this flow's request was answered 403 insufficient_scope
        self._refusal: SignInRequired | None = None  # why a live connection's call was refused

    def take_refusal(self) -> SignInRequired | None:
        """Why the last refused request was refused (once), for the call's error."""
        refusal, self._refusal = self._refusal, None
        return refusal

    @property
    def step_up_scope(self) -> str | None:
        """In a flow that a 403 ``insufficient_scope`` started, the scopes it asks for."""
        return self.context.client_metadata.scope if self._stepping_up else None

    async def _initialize(self) -> None:
        await super()._initialize()
        record = await asyncio.to_thread(self._keychain.record)
        if record is not None and record.expires_at is not None:
            self.context.token_expiry_time = record.expires_at

    async def async_auth_flow(
        self, request: httpx2.Request
    ) -> AsyncGenerator[httpx2.Request, httpx2.Response]:
        flow = super().async_auth_flow(request)
        self._stepping_up = False
        try:
            outgoing = await flow.__anext__()
            while True:
                if self._needs_user is not None and _registration(request, outgoing):
                    await self._needs_user()
                if self._step_up is not None and outgoing is request:
                    response = _insufficient_scope(request, self._step_up)
                    self._step_up = None  # once: the retried request goes out
                else:
                    response = yield outgoing
                if outgoing is request:
                    self._stepping_up = _asks_more_scope(response)
                outgoing = await flow.asend(response)
        except StopAsyncIteration:
            return
        except SignInRequired as refusal:
            if self._needs_user is None or not self._stepping_up:
                raise
            # A live connection refused for want of scope. Raising here would end the whole
            # connection inside the SDK's transport; instead the request goes out once more:
            # with the tokens a sign-in stored since this connection began, when they hold the
            # scopes asked (it then succeeds), else as it was, failing with the server's refusal
            # (the state now says so; ``take_refusal`` tells the call why), and the connection
            # and its other calls live on.
            record = await asyncio.to_thread(self._keychain.record)
            asked = refusal.need.scope
            tokens = await self._keychain.get_tokens() if record and asked else None
            if tokens is not None and record is not None and asked and record.holds(asked):
                self.context.current_tokens = tokens
                self.context.update_token_expiry(tokens)
                self._add_auth_header(request)
            else:
                self._refusal = refusal
            yield request
            return
        finally:
            await flow.aclose()


def _asks_more_scope(response: httpx2.Response) -> bool:
    """A step-up, as the SDK tells one: 403 with ``error="insufficient_scope"``."""
    error = extract_field_from_www_auth(response, "error")
    return response.status_code == 403 and error == "insufficient_scope"


def _insufficient_scope(request: httpx2.Request, scope: str) -> httpx2.Response:
    """The step-up challenge (RFC 6750 §3.1) a server answered earlier, asking for ``scope``."""
    challenge = f'Bearer error="insufficient_scope", scope="{scope}"'
    return httpx2.Response(403, headers={"WWW-Authenticate": challenge}, request=request)


def _registration(request: httpx2.Request, outgoing: httpx2.Request) -> bool:
    """Whether the flow is about to register a client (RFC 7591: a JSON POST of its own)."""
    content_type = outgoing.headers.get("content-type", "")
    return outgoing is not request and outgoing.method == "POST" and "json" in content_type


def client_metadata(redirect_uri: str, scope: str | None = None) -> OAuthClientMetadata:
    """What we register as (DCR): a native app with a loopback redirect."""
    return OAuthClientMetadata(
        client_name=CLIENT_NAME,
        redirect_uris=[AnyUrl(redirect_uri)],
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
        scope=scope,
    )


async def system_browser(url: str) -> None:
    """Open ``url`` in the user's browser (``webbrowser``: ``$BROWSER`` if set; the window
    passes QDesktopServices instead)."""
    import webbrowser

    if not await asyncio.to_thread(webbrowser.open, url):
        raise SignInFailed(f"no browser could be opened; open this address yourself: {url}")


def first_cause(error: BaseException) -> str:
    """One line for what stopped a sign-in: the first error inside anyio's groups."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    if isinstance(error, SignInFailed):
        return str(error)
    return (str(error) or type(error).__name__).splitlines()[0][:300]


def _not_an_sdk_error(record: logging.LogRecord) -> bool:
    """The SDK logs every end of its OAuth flow with a traceback; a sign-in that only the user
    can give is an expected answer (the server's state says it), not an error."""
    error = record.exc_info[1] if record.exc_info else None
    return not isinstance(error, SignInRequired)


def quiet_expected_sign_ins() -> None:
    sdk = logging.getLogger("mcp.client.auth.oauth2")
    if _not_an_sdk_error not in sdk.filters:
        sdk.addFilter(_not_an_sdk_error)


async def _opened(open_url: OpenUrl, url: str) -> None:
    result = open_url(url)
    if inspect.isawaitable(result):
        await result


class SignIns:
    """Every remote server's sign-in: the auth each connection uses, the interactive sign-in,
    sign-out and the state the MCP tab shows (``state``, ``subscribe``). Qt-free."""

    def __init__(self, secrets: SecretStore) -> None:
        quiet_expected_sign_ins()
        self._secrets = secrets
        self._needed: dict[str, SignInNeed] = {}  # what connections found out
        self._listeners: list[Callable[[str], None]] = []
        self.client_metadata_url: str | None = None  # a published CIMD, if we had one

    def storage(self, url: str) -> KeychainTokenStorage:
        return KeychainTokenStorage(self._secrets, url)

    def subscribe(self, listener: Callable[[str], None]) -> None:
        """``listener(server)`` runs when that server's state may have changed."""
        self._listeners.append(listener)

    def _changed(self, server: str, need: SignInNeed | None) -> None:
        if need is None:
            self._needed.pop(server, None)
        else:
            self._needed[server] = need
        for listener in self._listeners:
            listener(server)

    def need(self, server: str, url: str, *, declared: bool = False) -> SignInNeed:
        """What the MCP tab shows for ``server``: what connections found out, else what the
        keychain holds (read here: call it off the event loop). Without tokens, a server that
        issued us a client (or whose ``oauth`` entry is ``declared``) needs a sign-in."""
        needed = self._needed.get(server)
        if needed is not None:
            return needed
        record = self.storage(url).record()
        if record is None or not record.signed_in:
            known = declared or (record is not None and record.issuer is not None)
            return SignInNeed(state=SignInState.NEEDS_SIGN_IN if known else SignInState.NONE)
        if record.wanted_scope:
            return SignInNeed(state=SignInState.MORE_PERMISSION, scope=record.wanted_scope)
        if record.expired(time.time()) and not record.refreshable:
            return SignInNeed(state=SignInState.EXPIRED)
        return SignInNeed(state=SignInState.SIGNED_IN)

    def state(self, server: str, url: str) -> SignInState:
        """``need``'s state (reads the keychain: not on the event loop)."""
        return self.need(server, url).state

    async def read_need(self, server: str, config: RemoteServerConfig) -> SignInNeed:
        """``need`` for a configured server, read off the event loop; a machine-to-machine
        server (client credentials) never asks for a sign-in."""
        oauth = config.oauth
        machine = oauth is not None and bool(oauth.client_secret)
        declared = oauth is not None and not machine
        need = await asyncio.to_thread(self.need, server, str(config.url), declared=declared)
        return SignInNeed() if machine and need.state.asks_user else need

    def connection_auth(
        self, server: str, url: str, static: StaticClient | None = None,
        client_metadata_url: str | None = None,
    ) -> httpx2.Auth:  # fmt: skip
        """The auth of a background connection: stored tokens, refreshed as needed; a server
        that wants the user to sign in (again) fails with ``SignInRequired``."""
        if static is not None:
            return self._static_auth(url, static)
        storage = self.storage(url)
        provider: HostOAuthProvider

        async def needs_user() -> None:
            record = await asyncio.to_thread(storage.record)
            signed_in, scope = record is not None and record.signed_in, provider.step_up_scope
            error = SignInRequired(server, expired=signed_in, scope=scope if signed_in else None)
            if record is not None and scope is not None and record.holds(scope):
                raise error  # a sign-in granted it since this connection began: nothing new
            if signed_in and scope is not None:  # a step-up: the user approves more scopes
                await asyncio.to_thread(storage.want_scope, scope)
            self._changed(server, error.need)
            raise error

        async def no_browser(_authorization_url: str) -> None:
            await needs_user()

        async def no_callback() -> AuthorizationCodeResult:
            raise SignInRequired(server)  # never reached: no_browser raises first

        provider = HostOAuthProvider(
            storage, needs_user, server_url=url,
            client_metadata=client_metadata("http://127.0.0.1/callback"),
            redirect_handler=no_browser, callback_handler=no_callback,
            client_metadata_url=client_metadata_url or self.client_metadata_url,
        )  # fmt: skip
        return provider

    def __call__(self, server: str, config: RemoteServerConfig) -> httpx2.Auth | None:
        return self.auth_for(server, config)

    def auth_for(self, server: str, config: RemoteServerConfig) -> httpx2.Auth | None:
        """``HostRequests.auth``: every remote server's connection gets ``connection_auth``
        (a server that wants no sign-in never sees it), with the client credentials or the
        Client ID Metadata Document its ``oauth`` entry names."""
        oauth = config.oauth
        static = None
        if oauth is not None and oauth.client_id and oauth.client_secret and oauth.issuer:
            static = StaticClient(
                oauth.client_id, oauth.client_secret, str(oauth.issuer), oauth.scope,
                oauth.token_endpoint_auth_method,
            )  # fmt: skip
        metadata_url = oauth.client_metadata_url if oauth is not None else None
        return self.connection_auth(
            server, str(config.url), static, str(metadata_url) if metadata_url else None
        )

    async def sign_in(
        self, server: str, config: RemoteServerConfig, open_url: OpenUrl = system_browser,
        *, timeout_s: float = 60.0,
    ) -> None:  # fmt: skip
        """Sign in to ``server`` (the browser opens; the user signs in), by connecting once;
        after a step-up, asking for the scopes it wanted too. The tokens land in the keychain;
        raises ``SignInFailed`` (or the SDK's OAuth errors)."""
        url = str(config.url)
        published = config.oauth.client_metadata_url if config.oauth is not None else None
        record = await asyncio.to_thread(self.storage(url).record)
        step_up = record.wanted_scope if record is not None and record.signed_in else None
        async with LoopbackRedirect(server) as loopback:
            auth = self.interactive_auth(
                server, url, loopback, open_url, str(published) if published else None,
                step_up=step_up,
            )  # fmt: skip
            client = MCPClient(
                server, config, request_timeout_s=timeout_s,
                requests=HostRequests(auth=lambda _name, _config: auth),
            )  # fmt: skip
            try:
                await client.connect()
            except Exception as error:
                raise SignInFailed(f"{server}: sign-in failed: {first_cause(error)}") from error
            finally:
                await client.cleanup()
        self.signed_in(server)

    def _static_auth(self, url: str, static: StaticClient) -> httpx2.Auth:
        method = static.auth_method
        return ClientCredentialsOAuthProvider(
            url, self.storage(url), static.client_id, static.client_secret,
            "client_secret_post" if method == "client_secret_post" else "client_secret_basic",
            static.scope, static.issuer,
        )  # fmt: skip

    def interactive_auth(
        self, server: str, url: str, loopback: LoopbackRedirect, open_url: OpenUrl,
        client_metadata_url: str | None = None, *, step_up: str | None = None,
    ) -> httpx2.Auth:  # fmt: skip
        """The auth of a sign-in: the browser opens the authorization page, and the loopback
        listener takes the answer; ``step_up``: the scopes a step-up asked for."""

        async def redirect(authorization_url: str) -> None:
            loopback.expect(authorization_url)
            log.info("%s: opening the sign-in page", server)
            await _opened(open_url, authorization_url)

        async def callback() -> AuthorizationCodeResult:
            try:
                async with asyncio.timeout(SIGN_IN_TIMEOUT_S):
                    answer = await loopback.wait()
            except TimeoutError:
                raise SignInFailed(
                    f"{server}: no answer from the sign-in page within {SIGN_IN_TIMEOUT_S:g} s"
                ) from None
            return AuthorizationCodeResult(code=answer.code, state=answer.state, iss=answer.iss)

        return HostOAuthProvider(
            KeychainTokenStorage(self._secrets, url, redirect_uri=loopback.redirect_uri),
            step_up=step_up, server_url=url, client_metadata=client_metadata(loopback.redirect_uri),
            redirect_handler=redirect, callback_handler=callback,
            client_metadata_url=client_metadata_url or self.client_metadata_url,
        )  # fmt: skip

    def signed_in(self, server: str) -> None:
        """A sign-in completed: forget what connections found out."""
        self._changed(server, None)

    def sign_out(self, server: str, url: str) -> bool:
        """Forget ``server``'s tokens; False when it was not signed in."""
        done = self.storage(url).sign_out()
        self._changed(server, None)
        return done


def _host_sign_ins(host: McpHost, secrets: SecretStore) -> SignIns:
    auth = host.requests.auth
    return auth if isinstance(auth, SignIns) else SignIns(secrets)


def _remote(host: McpHost, name: str, secrets: SecretStore) -> RemoteServerConfig:
    config = host.configured.servers.get(name)
    if not isinstance(config, RemoteServerConfig):
        raise SignInFailed(f"{name} is not a remote server: it has nothing to sign in to")
    resolved = resolved_server(name, config, secrets, os.environ)
    assert isinstance(resolved, RemoteServerConfig)
    return resolved


def watch_sign_ins(host: McpHost, listener: Callable[[str], None]) -> None:
    """``listener(server)`` runs when a server's sign-in may have changed (a sign-in, a
    sign-out, or what a connection found out), on the event loop."""
    auth = host.requests.auth
    if isinstance(auth, SignIns):
        auth.subscribe(listener)


async def read_sign_in_need(host: McpHost, name: str, secrets: SecretStore) -> SignInNeed:
    """What the MCP tab shows for ``name``'s sign-in (nothing for a local server), with the
    keychain read off the event loop."""
    if not isinstance(host.configured.servers.get(name), RemoteServerConfig):
        return SignInNeed()
    try:
        config = await asyncio.to_thread(_remote, host, name, secrets)  # reads the keychain
    except HybridMCPError:  # a reference that cannot be resolved: its start says why
        return SignInNeed()
    return await _host_sign_ins(host, secrets).read_need(name, config)


async def sign_in_and_restart(
    host: McpHost, name: str, secrets: SecretStore, open_url: OpenUrl
) -> None:
    """The MCP tab's Sign in: sign in to ``name`` in the browser, then start it again."""
    await _host_sign_ins(host, secrets).sign_in(name, _remote(host, name, secrets), open_url)
    await host.restart(name)


async def sign_out_and_restart(host: McpHost, name: str, secrets: SecretStore) -> bool:
    """The MCP tab's Sign out: forget ``name``'s tokens and start it again (it then says it
    needs a sign-in, if it does); False when it was not signed in."""
    config = _remote(host, name, secrets)
    done = _host_sign_ins(host, secrets).sign_out(name, str(config.url))  # listeners: this loop
    await host.restart(name)
    return done
