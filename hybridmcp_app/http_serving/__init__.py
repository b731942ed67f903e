"""HTTP as HybridMCP serves it: the guard in front of every server it runs (our MCP servers'
``--http``, the shared library endpoint, the local API) and uvicorn inside the app's event loop.
Imports only ``config`` and ``core`` of the project. No Qt here."""
