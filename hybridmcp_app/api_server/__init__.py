"""The local OpenAI-compatible API server (off by default). No Qt here."""

TOKEN_SECRET_NAME = "api-server-token"  # its bearer token, kept in the keychain
