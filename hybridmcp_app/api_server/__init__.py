"""The local OpenAI-compatible API server (off by default). No Qt here."""
