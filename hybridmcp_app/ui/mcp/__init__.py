"""The MCP Servers tab: servers, their dialogs, client snippets, secrets and tool approval."""
