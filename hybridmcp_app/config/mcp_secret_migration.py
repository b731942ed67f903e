"""Move tokens written in plain text in a server entry into the keychain.

The value goes into the ``SecretStore`` under a generated name and the entry gets
``${secret:NAME}`` in its place; an ``Authorization: Bearer …`` header keeps its scheme in the
file (``Bearer ${secret:NAME}``). Values are never logged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from hybridmcp_app.config.mcp_config import ServerConfig, StdioServerConfig
from hybridmcp_app.config.mcp_references import plaintext_secrets
from hybridmcp_app.config.secrets import SecretStore
from hybridmcp_app.core.errors import ConfigError

_SCHEME = re.compile(r"^(Bearer|Basic|Token)(\s+)(\S.*)$", re.IGNORECASE)
_MAX_NAME = 120  # the store allows 128; room for a "_NN" suffix


@dataclass(frozen=True)
class PlaintextSecret:
    """One ``env`` or ``headers`` value of a server that looks like a secret in plain text."""

    server: str
    section: Literal["env", "headers"]
    key: str

    @property
    def field(self) -> str:
        return f"{self.section}.{self.key}"

    def __str__(self) -> str:
        return f"{self.server}.{self.field}"


def find_plaintext_secrets(name: str, config: ServerConfig) -> list[PlaintextSecret]:
    """The values of ``config`` to offer moving into the keychain.

    A value holding any ``${…}`` is left out: another client's variable (``${input:key}``)
    is not a secret to store, but a warning of its own.
    """
    found = []
    for path in plaintext_secrets(name, config):
        section, key = path.removeprefix(f"{name}.").split(".", 1)
        values = config.env if isinstance(config, StdioServerConfig) else config.headers
        if "${" not in values.get(key, ""):
            found.append(PlaintextSecret(name, "env" if section == "env" else "headers", key))
    return found


def _secret_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").upper()[:_MAX_NAME] or "SECRET"


def secret_name_for(secret: PlaintextSecret, value: str, secrets: SecretStore) -> str:
    """A free name, or one that already holds this very value (two servers share a token).

    An environment variable keeps its own name (``GITHUB_TOKEN``) when that is free; a header,
    or a clash, gets the server's name in front (``TEAM_DOCS_AUTHORIZATION``), then a number.
    """
    qualified = _secret_name(f"{secret.server}_{secret.key}")
    candidates = [_secret_name(secret.key)] if secret.section == "env" else []
    candidates += [qualified] + [f"{qualified}_{n}" for n in range(2, 100)]
    for candidate in candidates:
        stored = secrets.get(candidate)
        if stored is None or stored.get_secret_value() == value:
            return candidate
    raise ConfigError(f"no free keychain name for {secret}")


def move_to_keychain(
    entry: Mapping[str, Any], secret: PlaintextSecret, secrets: SecretStore
) -> tuple[dict[str, Any], str]:
    """Store the value; return a copy of ``entry`` that refers to it, and the secret's name."""
    section = entry.get(secret.section)
    if not isinstance(section, Mapping) or not isinstance(value := section.get(secret.key), str):
        raise ConfigError(f"{secret}: there is no value to move into the keychain")
    prefix, plain = "", value
    if secret.section == "headers" and (match := _SCHEME.match(value)):
        prefix, plain = match[1] + match[2], match[3]
    name = secret_name_for(secret, plain, secrets)
    secrets.set(name, plain)  # refuses an empty value
    updated = dict(entry)
    updated[secret.section] = {**section, secret.key: f"{prefix}${{secret:{name}}}"}
    return updated, name
