"""A server on the project's ``MCPServerBase``.

python -m tests.helpers.shout_server [--http [--host H] [--port N]]
"""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations

from hybridmcp_app.mcp_servers.server_base import MCPServerBase


class ShoutServer(MCPServerBase):
    name = "shout"

    def build(self) -> MCPServer:
        server = MCPServer(self.name)

        @server.tool(annotations=ToolAnnotations(read_only_hint=True))
        def shout(text: str) -> str:
            """The text in capitals."""
            return text.upper()

        return server


if __name__ == "__main__":
    ShoutServer().main()
