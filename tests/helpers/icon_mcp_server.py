"""An SDK MCP server over Streamable HTTP and TLS on 127.0.0.1 whose tool, resource and prompt
name an icon on its own site (``/icon.png``, a red PNG it serves itself).

python -m tests.helpers.icon_mcp_server PORT CERT_AND_KEY_PEM
"""

from __future__ import annotations

import sys

from mcp.server.mcpserver import MCPServer
from mcp.types import Icon
from starlette.requests import Request
from starlette.responses import Response

from tests.helpers.icon_site import png_bytes


def build(port: int) -> MCPServer:
    server = MCPServer("iconic")
    icons = [Icon(src=f"https://127.0.0.1:{port}/icon.png", mime_type="image/png")]

    @server.tool(icons=icons)
    def ping() -> str:
        """Answer pong."""
        return "pong"

    @server.resource("note://today", name="today", icons=icons)
    def today() -> str:
        return "buy milk"

    @server.prompt(icons=icons)
    def greet() -> str:
        """Say hello."""
        return "Hello!"

    async def icon(_request: Request) -> Response:
        return Response(png_bytes(), media_type="image/png")

    server.custom_route("/icon.png", methods=["GET"])(icon)  # on the server's own site
    return server


if __name__ == "__main__":
    import uvicorn

    port, pem = int(sys.argv[1]), sys.argv[2]
    app = build(port).streamable_http_app(host="127.0.0.1")
    uvicorn.run(
        app, host="127.0.0.1", port=port, ssl_certfile=pem, ssl_keyfile=pem, log_level="warning"
    )
