"""A small MCP server for the host's tests, built with the ``mcp`` SDK; its behaviour is chosen on
the command line so one script covers the failure cases:

    python -m tests.helpers.mcp_test_server [--crash-after-s S] [--exit-at-start]
        [--hang-at-start] [--http PORT] [--name NAME]

Tools: ``echo(text)``, ``add(a, b)`` (read-only), ``hang()`` (never answers), ``crash()`` (exits the
process), ``env(name)`` (a variable of its environment, to check what the host passes),
``toggle_extra()`` (adds or removes the tool ``extra`` and notifies the client).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import threading
import time

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import ToolAnnotations


def build(name: str) -> MCPServer:
    server = MCPServer(name)

    @server.tool(annotations=ToolAnnotations(read_only_hint=True))
    def echo(text: str) -> str:
        """Return the text unchanged."""
        return text

    @server.tool(annotations=ToolAnnotations(read_only_hint=True))
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @server.tool()
    async def hang() -> str:
        """Never answers."""
        await asyncio.sleep(3600)
        return "late"

    @server.tool(annotations=ToolAnnotations(destructive_hint=True))
    def crash() -> str:
        """Exit the server process at once."""
        os._exit(3)

    @server.tool(annotations=ToolAnnotations(read_only_hint=True))
    def env(name: str) -> str:
        """One variable of the server's environment ('<unset>' if it has none)."""
        return os.environ.get(name, "<unset>")

    def extra() -> str:
        """Exists only after toggle_extra."""
        return "extra"

    @server.tool()
    async def toggle_extra(ctx: Context) -> str:
        """Add or remove the tool 'extra' and tell the client the list changed."""
        names = {tool.name for tool in await server.list_tools()}
        if "extra" in names:
            server.remove_tool("extra")
        else:
            server.add_tool(extra)
        await ctx.notify_tools_changed()  # 2026-07-28 clients: subscriptions/listen
        await ctx.session.send_tool_list_changed()  # older clients: the notification
        return "toggled"

    @server.resource("test://greeting")
    def greeting() -> str:
        """A fixed text resource."""
        return "hello from the test server"

    @server.prompt()
    def summarise(topic: str) -> str:
        """Ask for a summary of a topic."""
        return f"Summarise {topic} in one sentence."

    return server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", default="test")
    parser.add_argument("--crash-after-s", type=float)
    parser.add_argument("--exit-at-start", action="store_true")
    parser.add_argument("--hang-at-start", action="store_true")
    parser.add_argument("--http", type=int, metavar="PORT")
    args = parser.parse_args()
    print(f"test server {args.name} starting (pid {os.getpid()})", file=sys.stderr, flush=True)
    if args.exit_at_start:
        print("fatal: exiting at start as asked", file=sys.stderr, flush=True)
        sys.exit(2)
    if args.hang_at_start:
        time.sleep(3600)
    if args.crash_after_s is not None:
        delay = args.crash_after_s

        def crash_later() -> None:
            time.sleep(delay)
            print("fatal: crashing as asked", file=sys.stderr, flush=True)
            os._exit(4)

        threading.Thread(target=crash_later, daemon=True).start()
    server = build(args.name)
    if args.http is not None:
        server.run("streamable-http", host="127.0.0.1", port=args.http)
    else:
        server.run()


if __name__ == "__main__":
    main()
