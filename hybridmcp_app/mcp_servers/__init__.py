"""The project's own MCP servers, one module each, every one a thin layer over a project service
on ``MCPServerBase``: ``python -m hybridmcp_app.mcp_servers.NAME [--http [--host H] [--port N]]``.
"""
