"""HybridMCP: local and provider LLMs side by side, with MCP servers and a document library."""

__version__ = "0.1.0"
APP_NAME = "HybridMCP"
