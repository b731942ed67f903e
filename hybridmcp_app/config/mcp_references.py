"""Secrets by reference in ``mcp.json``: ``${secret:NAME}`` from the keychain, ``${env:NAME}``
from the app's environment, resolved only when a server starts and never written anywhere. A
secret in a remote server's headers is bound to that server's origin the first time it is sent:
an ``mcp.json`` edited to point the entry elsewhere does not get it."""

from __future__ import annotations

import re
from collections.abc import Mapping

from hybridmcp_app.config.mcp_config import RemoteServerConfig, StdioServerConfig
from hybridmcp_app.config.secrets import SecretStore, origin_of
from hybridmcp_app.core.errors import HybridMCPError

REFERENCE = re.compile(r"\$\{(secret|env):([A-Za-z0-9_.\-]+)\}")
SECRET_LOOKING = re.compile(r"(TOKEN|KEY|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH)", re.I)
ServerConfig = StdioServerConfig | RemoteServerConfig
STORE_AGAIN = "the MCP Servers tab (Secrets…)"


class UnresolvedReference(HybridMCPError):
    """A ``${secret:…}`` or ``${env:…}`` that has no value."""


def resolve_references(
    value: str,
    secrets: SecretStore,
    environ: Mapping[str, str],
    *,
    where: str,
    origin: str | None = None,
) -> str:
    """Replace every reference in ``value``; ``where`` names the field in errors. With
    ``origin`` (a remote server's), a secret saved for another origin is refused."""

    def replace(match: re.Match[str]) -> str:
        kind, name = match.group(1), match.group(2)
        if kind == "env":
            if name not in environ:
                raise UnresolvedReference(f"{where}: environment variable {name} is not set")
            return environ[name]
        if not secrets.available:
            raise UnresolvedReference(f"{where}: no keychain to read secret {name} from")
        secret = secrets.get(name, origin=origin, where=STORE_AGAIN)
        if secret is None:
            raise UnresolvedReference(
                f"{where}: no secret {name} in the keychain "
                "(store it with Secrets… in the MCP Servers tab)"
            )
        return secret.get_secret_value()

    return REFERENCE.sub(replace, value)


def resolved_server(
    name: str, config: ServerConfig, secrets: SecretStore, environ: Mapping[str, str]
) -> ServerConfig:
    """A copy of ``config`` with its references resolved (for starting it; never persisted).
    A remote server's secrets go only to the origin they were first sent to."""
    origin = origin_of(str(config.url)) if isinstance(config, RemoteServerConfig) else None

    def resolve(value: str, where: str) -> str:
        return resolve_references(value, secrets, environ, where=f"{name}.{where}", origin=origin)

    if isinstance(config, StdioServerConfig):
        return config.model_copy(
            update={
                "args": tuple(resolve(a, f"args[{i}]") for i, a in enumerate(config.args)),
                "env": {k: resolve(v, f"env.{k}") for k, v in config.env.items()},
            }
        )
    oauth = config.oauth
    if oauth is not None and oauth.client_secret:  # it goes to the issuer only: bound there
        secret = resolve_references(
            oauth.client_secret, secrets, environ, where=f"{name}.oauth.client_secret",
            origin=origin_of(str(oauth.issuer)),
        )  # fmt: skip
        oauth = oauth.model_copy(update={"client_secret": secret})
    return config.model_copy(
        update={
            "headers": {k: resolve(v, f"headers.{k}") for k, v in config.headers.items()},
            "oauth": oauth,
        }
    )


def plaintext_secrets(name: str, config: ServerConfig) -> list[str]:
    """Fields that look like secrets written in plain text (to move into the keychain)."""
    values = config.env if isinstance(config, StdioServerConfig) else config.headers
    kind = "env" if isinstance(config, StdioServerConfig) else "headers"
    return [
        f"{name}.{kind}.{key}"
        for key, value in values.items()
        if SECRET_LOOKING.search(key) and value and not REFERENCE.search(value)
    ]
