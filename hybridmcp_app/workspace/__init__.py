"""Workspace housekeeping confined to root folders: inventory, read, search, write and edit with
pre-edit snapshots, restore, backups. The service behind the ``workspace`` MCP server; no Qt."""
