"""Data stores behind the cloud-neutral MCP servers (docstore; storage comes next)."""
