"""``MCPServerBase``: the shape of the project's own MCP servers (issue #8 builds on it).

A server is a thin layer over a project service: ``build`` returns the SDK's ``MCPServer`` with
its tools, resources and prompts. ``main`` runs it over stdio (what hosts like Claude Desktop
start), or with ``--http [--host H] [--port N]`` over Streamable HTTP. HTTP binds 127.0.0.1 by
default; bound anywhere else it needs a bearer token (``$HYBRIDMCP_MCP_TOKEN``, else the one
HybridMCP keeps in the keychain, made at first need: ``server_token``) and refuses to start
without one; every request must then carry ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import argparse
import hmac
import ipaddress
import os
import sys
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Sequence
from typing import Any, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations

T = TypeVar("T")
TOKEN_ENV = "HYBRIDMCP_MCP_TOKEN"
DEFAULT_PORT = 8765


def tool_hints(*, read_only: bool, destructive: bool, idempotent: bool) -> ToolAnnotations:
    """What a tool does to the world, for hosts deciding whether to ask (no open world: our
    servers reach only their own data)."""
    return ToolAnnotations(
        read_only_hint=read_only,
        destructive_hint=destructive,
        idempotent_hint=idempotent,
        open_world_hint=False,
    )


READS = tool_hints(read_only=True, destructive=False, idempotent=True)


async def answer_or_refuse(
    call: Awaitable[T], refusals: type[Exception] | tuple[type[Exception], ...]
) -> T:
    """A service's answer, or its refusal (one of ``refusals``) as an MCP tool error carrying
    the message alone, never a traceback."""
    try:
        return await call
    except refusals as error:
        raise ToolError(str(error)) from None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class BearerTokenGate:
    """ASGI middleware: HTTP requests without the right bearer token get 401."""

    def __init__(self, app: Any, token: str) -> None:
        self._app = app
        self._expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = dict(scope.get("headers") or ())
            given = headers.get(b"authorization", b"")
            if not hmac.compare_digest(given, self._expected):
                await send({"type": "http.response.start", "status": 401,
                            "headers": [(b"www-authenticate", b"Bearer"),
                                        (b"content-type", b"text/plain")]})  # fmt: skip
                await send({"type": "http.response.body", "body": b"missing or wrong token"})
                return
        await self._app(scope, receive, send)


class MCPServerBase(ABC):
    """Subclasses set ``name`` and build the SDK server over their service."""

    name: str = "hybridmcp"

    @abstractmethod
    def build(self) -> MCPServer:
        """The SDK server with this server's tools, resources and prompts."""

    def http_app(self, host: str, token: str | None) -> Any:
        """The Streamable HTTP ASGI app (at ``/mcp``), behind the token gate when one is set."""
        app = self.build().streamable_http_app(host=host)
        return BearerTokenGate(app, token) if token else app

    def main(self, argv: Sequence[str] | None = None) -> None:
        parser = argparse.ArgumentParser(prog=f"python -m hybridmcp_app.mcp_servers.{self.name}")
        parser.add_argument("--http", action="store_true", help="serve Streamable HTTP at /mcp")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=DEFAULT_PORT)
        args = parser.parse_args(argv)
        if not args.http:
            self.build().run()  # stdio
            return
        token = os.environ.get(TOKEN_ENV) or None
        if not is_loopback(args.host) and token is None:
            from hybridmcp_app.mcp_host.server_token import keychain_server_token

            token = keychain_server_token()
            if token is None:
                print(f"{self.name}: serving on {args.host} needs a bearer token in "
                      f"${TOKEN_ENV} (no keychain holds one)", file=sys.stderr)  # fmt: skip
                raise SystemExit(2)
            print(f"{self.name}: requests need the bearer token kept in the keychain "
                  "(HybridMCP: MCP tab, Use elsewhere)", file=sys.stderr)  # fmt: skip
        import uvicorn

        uvicorn.run(self.http_app(args.host, token), host=args.host, port=args.port,
                    log_level="warning")  # fmt: skip
