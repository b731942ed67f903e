"""Settings, paths, secrets, logging and the mcp.json schema. No Qt here."""
