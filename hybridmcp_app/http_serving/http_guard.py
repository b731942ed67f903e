"""``HttpGuard``: what every HTTP server of HybridMCP checks before a request reaches it.

Our MCP servers over ``--http``, the shared library endpoint and the local API sit behind it:

- ``Host`` must name the address the connection reached, with its port: on loopback
  (127.0.0.1, ::1) ``127.0.0.1:PORT``, ``localhost:PORT`` or ``[::1]:PORT``, elsewhere that IP
  (``127.0.0.2:PORT``, ``192.168.1.5:PORT``), or a name given in ``extra_hosts``. Anything else
  is 421: a web page whose name was pointed at this machine (DNS rebinding) sends its own name.
- ``Origin``, which browsers send, must be ``http://`` and one of those hosts: else 403.
- with a token, ``Authorization: Bearer <token>`` (the scheme in any case), compared in constant
  time: else 401 with ``WWW-Authenticate: Bearer``.
- a request body over ``max_body`` bytes: 413.

The address and port come from each connection (the ASGI scope's ``server``), so a server bound
to port 0 or to every interface needs nothing more. ``token_required`` says which binds must
have a token: all but 127.0.0.1, localhost and ::1.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from collections.abc import Iterable
from typing import NamedTuple

from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger("hybridmcp.http")
LOOPBACK_BINDS = ("127.0.0.1", "localhost", "::1")  # served without a token
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")  # what clients of those call them
DEFAULT_MAX_BODY = 10 * 1024 * 1024
MISSING_TOKEN = "a missing or wrong token: send 'Authorization: Bearer <token>'"


def token_required(bind: str) -> bool:
    """Whether a server bound to ``bind`` must have a token (any bind but the three
    loopback names: other 127.x addresses, 0.0.0.0 and real interfaces all need one)."""
    return bind.lower() not in LOOPBACK_BINDS


def bearer_matches(authorization: bytes, token: str) -> bool:
    """Whether an ``Authorization`` value is ``Bearer <token>`` (scheme in any case)."""
    scheme, _, given = authorization.strip().partition(b" ")
    return scheme.lower() == b"bearer" and hmac.compare_digest(given.strip(), token.encode())


def host_names(address: str) -> tuple[str, ...]:
    """What a ``Host`` header may call a server reached at the IP ``address``."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return ()
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # a dual-stack socket reached over IPv4
    if str(ip) in ("127.0.0.1", "::1"):
        return LOOPBACK_NAMES
    return (f"[{ip}]",) if ip.version == 6 else (str(ip),)


class Refusal(NamedTuple):
    """Why a request is turned away, as the short plain answer it gets."""

    status: int
    message: str

    def response(self) -> PlainTextResponse:
        challenge = {"WWW-Authenticate": "Bearer"} if self.status == 401 else None
        return PlainTextResponse(self.message, status_code=self.status, headers=challenge)


class HttpGuard:
    """ASGI middleware: Host, Origin, bearer token and body size, checked before ``app``."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        token: str | None,
        extra_hosts: Iterable[str] = (),
        max_body: int = DEFAULT_MAX_BODY,
    ) -> None:
        if token is not None and not token:
            raise ValueError("an empty bearer token")
        self._app = RequestBodyLimitMiddleware(app, max_body)
        self._token = token
        self._extra_hosts = tuple(name.lower() for name in extra_hosts)

    def _allowed_hosts(self, scope: Scope) -> set[str]:
        server = scope.get("server")
        if not server or server[1] is None:
            return set()
        address, port = server
        names = (*host_names(str(address)), *self._extra_hosts)
        return {f"{name}:{port}" for name in names} | (set(names) if port == 80 else set())

    def _refusal(self, scope: Scope) -> Refusal | None:
        headers: dict[bytes, list[bytes]] = {}
        for key, value in scope.get("headers") or ():
            headers.setdefault(key.lower(), []).append(value)
        allowed = self._allowed_hosts(scope)
        hosts = headers.get(b"host", [])
        if len(hosts) != 1 or hosts[0].decode("latin-1").lower() not in allowed:
            shown = b", ".join(hosts).decode("latin-1")[:100] or "none"
            return Refusal(421, f"this server does not answer for Host {shown!r}")
        for origin in headers.get(b"origin", []):
            shown = origin.decode("latin-1")
            scheme, _, host = shown.lower().partition("://")
            if scheme != "http" or host not in allowed:
                return Refusal(403, f"requests from the web page {shown[:100]!r} are refused")
        if self._token is not None:
            given = headers.get(b"authorization", [])
            if len(given) != 1 or not bearer_matches(given[0], self._token):
                return Refusal(401, MISSING_TOKEN)
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):  # lifespan
            await self._app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is None:
            await self._app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
        else:
            log.info("refused %s %s: %s", scope.get("method"), scope.get("path"),
                     refusal.message)  # fmt: skip
            await refusal.response()(scope, receive, send)
