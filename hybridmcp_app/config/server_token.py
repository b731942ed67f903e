"""The bearer token of the project's MCP servers when they serve HTTP beyond this machine.

One token, generated at first need and kept in the OS keychain under ``TOKEN_SECRET_NAME``:
HybridMCP shows it (MCP tab, "Use elsewhere") to paste into the remote client, and a server
started with ``--http --host <not loopback>`` reads it from there when ``$HYBRIDMCP_MCP_TOKEN``
is not set. It is never written to a config file or a log.
"""

from __future__ import annotations

import logging
import secrets as random_secrets

from hybridmcp_app.config.secrets import SecretStore, system_keychain
from hybridmcp_app.core.errors import SecretStoreError

log = logging.getLogger("hybridmcp.mcp.token")
TOKEN_SECRET_NAME = "mcp-server-token"


def ensure_server_token(store: SecretStore, name: str = TOKEN_SECRET_NAME) -> str:
    """The token ``name`` in ``store``, generated and stored first if there is none (raises
    ``SecretStoreError`` when there is no keychain)."""
    kept = store.get(name)
    if kept is not None:
        return kept.get_secret_value()
    token = random_secrets.token_urlsafe(32)
    store.set(name, token)
    log.info("generated the bearer token %r (kept in the keychain)", name)
    return token


def keychain_server_token() -> str | None:
    """The token from the system keychain (made if missing), or None without a keychain."""
    backend, status = system_keychain()
    if backend is None:
        return None
    try:
        return ensure_server_token(SecretStore(backend, status))
    except SecretStoreError as error:
        log.warning("no bearer token from the keychain: %s", error)
        return None
