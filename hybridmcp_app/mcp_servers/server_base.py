"""``MCPServerBase``: the shape of the project's own MCP servers (issue #8 builds on it).

A server is a thin layer over a project service: ``build`` returns the SDK's ``MCPServer`` with
its tools, resources and prompts. ``main`` runs it over stdio (what hosts like Claude Desktop
start), or with ``--http [--host H] [--port N]`` over Streamable HTTP behind ``HttpGuard``
(Host, Origin, token, body size). HTTP binds 127.0.0.1 by default; bound anywhere but
127.0.0.1, localhost or ::1 it needs a bearer token (``$HYBRIDMCP_MCP_TOKEN``, else the one
HybridMCP keeps in the keychain, made at first need: ``server_token``) and refuses to start
without one; every request must then carry ``Authorization: Bearer <token>``. Requests must name
the address they reached (``--allow-host NAME`` adds a DNS name of this machine).

Every subclass's ``build`` is wrapped, so each server it builds answers what the protocol asks
of it at both revisions (2025-11-25 and 2026-07-28): ``strict_prompts`` (an unknown prompt or bad
prompt arguments get ``INVALID_PARAMS``, -32602, where the SDK sends code 0), then
``serve_protocol`` (the app's version, logging, resource subscriptions, and completion through
``complete`` where a subclass overrides it). Over HTTP, each stream starts with a priming event
and the ``retry`` hint, and its events are kept (``BoundedEventStore``) so a client that lost the
stream resumes it with ``Last-Event-ID``.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations

from hybridmcp_app import __version__
from hybridmcp_app.http_serving.http_guard import LOOPBACK_BINDS, HttpGuard, token_required
from hybridmcp_app.mcp_servers.event_store import BoundedEventStore
from hybridmcp_app.mcp_servers.server_protocol import Reference, serve_protocol
from hybridmcp_app.mcp_servers.strict_prompts import strict_prompts

T = TypeVar("T")
TOKEN_ENV = "HYBRIDMCP_MCP_TOKEN"
DEFAULT_PORT = 8765
SSE_RETRY_MS = 1000  # how long a client waits before resuming a stream the server closed


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
    the message alone, never a traceback. An operating-system error the service did not turn
    into a refusal still says what went wrong (the SDK would answer with the tool's name only)."""
    try:
        return await call
    except refusals as error:
        raise ToolError(str(error) or type(error).__name__) from None
    except OSError as error:
        raise ToolError(error.strerror or type(error).__name__) from None


class MCPServerBase(ABC):
    """Subclasses set ``name`` and build the SDK server over their service."""

    name: str = "hybridmcp"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        build: Callable[[Any], MCPServer] | None = cls.__dict__.get("build")
        if build is not None and not getattr(build, "__isabstractmethod__", False):

            @functools.wraps(build)
            def strict_build(self: MCPServerBase) -> MCPServer:
                completes = type(self).complete is not MCPServerBase.complete
                completer = self.complete if completes else None
                return serve_protocol(strict_prompts(build(self)), __version__, completer)

            cls.build = strict_build  # type: ignore[method-assign]

    @abstractmethod
    def build(self) -> MCPServer:
        """The SDK server with this server's tools, resources and prompts."""

    async def complete(
        self, ref: Reference, argument: str, value: str, given: Mapping[str, str]
    ) -> Sequence[str]:
        """Values for ``argument`` of a prompt or resource template starting from ``value``
        (``given``: the arguments already chosen), best first. Overridden by a server with
        something to complete; one that does not override it answers no ``completion/complete``
        (the SDK then says "Method not found" and declares no ``completions``)."""
        return ()

    def http_app(self, host: str, token: str | None, extra_hosts: Sequence[str] = ()) -> Any:
        """The Streamable HTTP ASGI app (at ``/mcp``) behind ``HttpGuard``, its streams
        resumable."""
        app = self.build().streamable_http_app(
            host=host, event_store=BoundedEventStore(), retry_interval=SSE_RETRY_MS
        )
        return HttpGuard(app, token=token, extra_hosts=extra_hosts)

    def main(self, argv: Sequence[str] | None = None) -> None:
        parser = argparse.ArgumentParser(prog=f"python -m hybridmcp_app.mcp_servers.{self.name}")
        parser.add_argument("--http", action="store_true", help="serve Streamable HTTP at /mcp")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=DEFAULT_PORT)
        parser.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                            help="also answer requests addressed to NAME (a DNS name of this "
                            "machine); by default only the address it is reached at")  # fmt: skip
        args = parser.parse_args(argv)
        if not args.http:
            self.build().run()  # stdio
            return
        token = os.environ.get(TOKEN_ENV) or None
        if token is None and token_required(args.host):
            from hybridmcp_app.config.server_token import keychain_server_token

            token = keychain_server_token()
            if token is None:
                print(f"{self.name}: serving on {args.host} needs a bearer token in "
                      f"${TOKEN_ENV} (no keychain holds one); only {', '.join(LOOPBACK_BINDS)} "
                      "are served without one", file=sys.stderr)  # fmt: skip
                raise SystemExit(2)
            print(f"{self.name}: requests need the bearer token kept in the keychain "
                  "(HybridMCP: MCP tab, Use elsewhere)", file=sys.stderr)  # fmt: skip
        import uvicorn

        app = self.http_app(args.host, token, args.allow_host)
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
