"""The MCP host: runs configured MCP servers (stdio subprocesses or remote), supervises them, and
offers their tools, resources and prompts to the models through ``McpRegistry``."""
